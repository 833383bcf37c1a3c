"""Data files for the ``fastlasso`` command.

Formats, told apart by the file name (a trailing ``.gz`` or ``.bz2`` means compressed):

- svmlight / libsvm (``.svm``, ``.libsvm``, ``.svmlight``, ``.txt``): sparse rows
  ``y idx:value ...``; indices zero- or one-based (one-based when no index 0 occurs,
  as scikit-learn's ``zero_based="auto"``); features are named ``x<index in the file>``;
- ``.npz``: dense arrays ``X`` and ``y``; or a sparse X stored by its parts,
  ``X_data``, ``X_indices``, ``X_indptr``, ``X_shape`` (and optionally ``X_format``,
  "csc" by default, or "csr") plus ``y``; or the keys of ``scipy.sparse.save_npz``
  (``data``, ``indices``, ``indptr``, ``shape``, ``format``) plus ``y``. An optional
  ``feature_names`` array names the columns. Nothing pickled is ever loaded;
- CSV (``.csv``, ``.tsv``): a header row, numeric cells, and the response named by
  ``target``; the other columns are the features.

With no file, scikit-learn's diabetes data (442 x 10, feature names age, sex, bmi, ...).
Every problem with a file raises ``DataError`` with a one-line message for the user.
"""

import bz2
import csv
import gzip
import os
import zipfile
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

SVMLIGHT_SUFFIXES = (".svm", ".libsvm", ".svmlight", ".txt")
CSV_SUFFIXES = {".csv": ",", ".tsv": "\t"}
COMPRESSION_SUFFIXES = (".gz", ".bz2")
FORMATS_HELP = (
    "svmlight/libsvm (.svm .libsvm .svmlight .txt), .npz, or CSV (.csv .tsv) "
    "with --target; optionally compressed (.gz .bz2), except .npz"
)


class DataError(ValueError):
    """A data file that cannot be used, with a message for the command line."""


@dataclass
class Dataset:
    """X (ndarray or CSC matrix), y (float64), a name for each feature, a label."""

    X: object
    y: np.ndarray
    feature_names: list
    name: str

    @property
    def n_samples(self):
        return self.X.shape[0]

    @property
    def n_features(self):
        return self.X.shape[1]


def load_dataset(path=None, target=None):
    """The Dataset in ``path`` (module docstring); the diabetes data for None."""
    if path is None:
        if target is not None:
            raise DataError(
                "--target needs a CSV file; the built-in data has its own y"
            )
        return _diabetes()
    if not os.path.exists(path):
        raise DataError(f"no such file: {path}")
    if os.path.isdir(path):
        raise DataError(f"{path} is a directory, not a data file")
    kind = data_format(path)
    if target is not None and kind != "csv":
        raise DataError(f"--target applies to CSV files only, not to {path}")
    try:
        if kind == "svmlight":
            data = _load_svmlight(path)
        elif kind == "npz":
            data = _load_npz(path)
        else:
            data = _load_csv(path, target)
    except (OSError, EOFError, UnicodeDecodeError, zipfile.BadZipFile) as exc:
        raise DataError(f"cannot read {path}: {exc}") from exc
    _check_finite(data, path)
    return data


def _check_finite(data, path):
    """Name the first non-finite value: a fit would only say 'X contains NaN'."""
    values = data.X.data if sp.issparse(data.X) else data.X
    if values.dtype.kind == "f" and not np.isfinite(values).all():
        if sp.issparse(data.X):
            coo = data.X.tocoo()
            bad = np.flatnonzero(~np.isfinite(coo.data))[0]
            i, j, v = coo.row[bad], coo.col[bad], coo.data[bad]
        else:
            i, j = np.argwhere(~np.isfinite(data.X))[0]
            v = data.X[i, j]
        raise DataError(
            f"{path}: X holds {v} (sample {i + 1}, feature {data.feature_names[j]!r}); "
            "remove or impute it"
        )
    bad = np.flatnonzero(~np.isfinite(data.y))
    if bad.size:
        raise DataError(f"{path}: y holds {data.y[bad[0]]} (sample {bad[0] + 1})")


def data_format(path):
    """'svmlight', 'npz' or 'csv' from the file name; DataError for anything else."""
    base = path.lower()
    compressed = base.endswith(COMPRESSION_SUFFIXES)
    if compressed:
        base = os.path.splitext(base)[0]
    suffix = os.path.splitext(base)[1]
    if suffix in SVMLIGHT_SUFFIXES:
        return "svmlight"
    if suffix in CSV_SUFFIXES:
        return "csv"
    if suffix == ".npz" and not compressed:
        return "npz"
    raise DataError(
        f"cannot tell the format of {path} from its name; use {FORMATS_HELP}"
    )


def _diabetes():
    from sklearn.datasets import load_diabetes

    data = load_diabetes()
    return Dataset(
        np.asarray(data.data, dtype=np.float64),
        np.asarray(data.target, dtype=np.float64),
        list(data.feature_names),
        "diabetes (scikit-learn's built-in data)",
    )


def _load_svmlight(path):
    from sklearn.datasets import load_svmlight_file

    try:
        X, y = load_svmlight_file(path, dtype=np.float64, zero_based=True)
    except ValueError as exc:
        raise DataError(f"{path} is not a valid svmlight/libsvm file: {exc}") from exc
    X = X.tocsc()
    offset = 0
    if X.shape[1] > 0 and X.indptr[1] == 0:  # no index 0 anywhere: one-based file
        X = X[:, 1:]
        offset = 1
    if X.shape[0] == 0:
        raise DataError(f"{path} holds no samples")
    names = [f"x{j + offset}" for j in range(X.shape[1])]
    return Dataset(X, np.asarray(y, dtype=np.float64), names, os.path.basename(path))


def _load_npz(path):
    try:
        archive = np.load(path, allow_pickle=False)
    except ValueError as exc:
        raise DataError(f"{path} is not a readable .npz file: {exc}") from exc
    with archive:
        keys = set(archive.files)
        try:
            X = _npz_design(archive, keys, path)
            if "y" not in keys:
                raise DataError(
                    f"{path} has no array 'y' (its arrays: {', '.join(sorted(keys))})"
                )
            y = np.asarray(archive["y"])
            names = archive["feature_names"] if "feature_names" in keys else None
        except ValueError as exc:
            if isinstance(exc, DataError):
                raise
            raise DataError(
                f"{path} holds a pickled object (refused for safety; save X either "
                "dense or as X_data, X_indices, X_indptr, X_shape): {exc}"
            ) from exc
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1 or not np.issubdtype(y.dtype, np.number):
        raise DataError(
            f"y in {path} must be a 1-D numeric array, got {y.dtype} {y.shape}"
        )
    if y.shape[0] != X.shape[0]:
        raise DataError(
            f"{path}: X has {X.shape[0]} rows but y has {y.shape[0]} values"
        )
    if names is None:
        names = [f"x{j}" for j in range(X.shape[1])]
    else:
        names = [str(v) for v in np.ravel(names)]
        if len(names) != X.shape[1]:
            raise DataError(
                f"{path}: {len(names)} feature_names for {X.shape[1]} columns of X"
            )
    return Dataset(X, y.astype(np.float64), names, os.path.basename(path))


def _npz_design(archive, keys, path):
    if "X" in keys:
        X = np.asarray(archive["X"])
        if X.ndim != 2 or not (np.issubdtype(X.dtype, np.number) or X.dtype == bool):
            raise DataError(
                f"X in {path} must be a 2-D numeric array, got {X.dtype} {X.shape}"
            )
        return X
    for prefix in ("X_", ""):
        parts = [prefix + k for k in ("data", "indices", "indptr", "shape")]
        if all(k in keys for k in parts):
            data, indices, indptr, shape = (archive[k] for k in parts)
            fmt = "csc"
            if prefix + "format" in keys:
                fmt = np.asarray(archive[prefix + "format"]).item()
                if isinstance(fmt, bytes):  # scipy.sparse.save_npz stores bytes
                    fmt = fmt.decode("ascii", "replace")
            if fmt not in ("csc", "csr"):
                raise DataError(f"{path}: sparse format {fmt!r} is not csc or csr")
            make = sp.csc_matrix if fmt == "csc" else sp.csr_matrix
            try:
                X = make((data, indices, indptr), shape=tuple(int(s) for s in shape))
                X.check_format(full_check=True)  # indices in range, before any use
            except (ValueError, TypeError) as exc:
                raise DataError(
                    f"{path}: inconsistent sparse matrix parts: {exc}"
                ) from exc
            return X.tocsc()
    raise DataError(
        f"{path} has neither X nor X_data/X_indices/X_indptr/X_shape "
        f"(its arrays: {', '.join(sorted(keys))})"
    )


def _open_text(path):
    lower = path.lower()
    if lower.endswith(".gz"):
        return gzip.open(path, "rt", encoding="utf-8", newline="")
    if lower.endswith(".bz2"):
        return bz2.open(path, "rt", encoding="utf-8", newline="")
    return open(path, encoding="utf-8", newline="")


def _load_csv(path, target):
    base = path.lower()
    if base.endswith(COMPRESSION_SUFFIXES):
        base = os.path.splitext(base)[0]
    delimiter = CSV_SUFFIXES[os.path.splitext(base)[1]]
    with _open_text(path) as handle:
        rows = list(csv.reader(handle, delimiter=delimiter))
    rows = [row for row in rows if row]
    if not rows:
        raise DataError(f"{path} is empty")
    header = [name.strip() for name in rows[0]]
    columns = ", ".join(header[:12]) + (", ..." if len(header) > 12 else "")
    if target is None:
        raise DataError(
            f"{path} is CSV: name the response column with --target "
            f"(columns: {columns})"
        )
    if target not in header:
        raise DataError(f"column {target!r} is not in {path} (columns: {columns})")
    if len(rows) < 2:
        raise DataError(f"{path} has a header but no data rows")
    body = rows[1:]
    for i, row in enumerate(body):
        if len(row) != len(header):
            raise DataError(
                f"{path}, data row {i + 1}: {len(row)} cells, but the header has "
                f"{len(header)}"
            )
    try:
        table = np.array(body, dtype=np.float64)
    except ValueError:
        raise DataError(_first_bad_cell(path, header, body)) from None
    t = header.index(target)
    keep = [j for j in range(len(header)) if j != t]
    return Dataset(
        np.asfortranarray(table[:, keep]),
        np.ascontiguousarray(table[:, t]),
        [header[j] for j in keep],
        os.path.basename(path),
    )


def _first_bad_cell(path, header, body):
    for i, row in enumerate(body):
        for name, cell in zip(header, row, strict=True):
            try:
                float(cell)
            except ValueError:
                what = (
                    "an empty cell" if not cell.strip() else f"{cell!r} is not a number"
                )
                return f"{path}, data row {i + 1}, column {name!r}: {what}"
    return f"{path}: non-numeric data"
