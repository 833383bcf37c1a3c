"""Validation and preprocessing: turn user input into what the kernels take.

The kernels never see a copy of X made for centring or weighting: centring is implicit
(column means ``mu``), weights enter as a vector. A copy of X is made only when the
layout cannot be used in place:

- dense X that is neither Fortran- nor C-contiguous (a C-ordered array is read in
  place: the kernels of the "cdense" layout read it by rows and pack the columns of
  their working sets, see _cd's _design_c.pxi and _pack.pxi);
- sparse X that is not CSC, or CSC with duplicate entries / unsorted indices (the
  duplicates are summed on the copy, never on the caller's matrix);
- dtypes other than float32/float64 (int, bool, float16 -> float64).

The kernels run without bounds checks, so everything they index is checked here first:
sparse index arrays (before scipy or scikit-learn touch them: scipy's own conversions
trust them too), sizes (features are indexed with int32, BLAS takes int lengths), and
magnitudes (squared norms of the columns of X and of y must be normal numbers of the
working dtype, else the solver would return garbage from overflow or underflow).

Also here, as the one place for each: the parse of scikit-learn's ``precompute`` into
the Gram mode (gram_mode_from_precompute) and the intercept of centred coefficients
(intercept_of). This module calls the kernels only for column statistics.
"""

import functools
import warnings
from dataclasses import dataclass
from functools import cached_property
from numbers import Number

import numpy as np
import scipy.sparse as sp
from sklearn.utils.validation import validate_data

from fastlasso import _cd
from fastlasso._compat import (
    _assert_all_finite,
    _check_sample_weight,
)

INDEX_MAX = int(np.iinfo(np.int32).max)
# scikit-learn's error for coefficients that overflow, verbatim (tests match it)
NON_FINITE = "Coordinate descent iterations resulted in non-finite parameter values"
MAGNITUDE_MARGIN = 64.0
_INDEX_DTYPES = (np.dtype(np.int32), np.dtype(np.int64))


def validate_fit_data(estimator, X, y):
    """Checked (X, y) for ``fit``: X float32/float64 dense or sparse, y in X's dtype.

    Sparse structure and sizes are checked before scikit-learn's ``validate_data``
    (which converts sparse matrices and would trust corrupt index arrays). Clean float
    ndarrays take a short path with the same outcome (scikit-learn's validation costs
    more than a whole fit of a small problem); anything else, errors included, goes
    through ``validate_data``.
    """
    X = check_structure(X)
    if _plain_input(X, y):
        # what _check_n_features(reset=True) and _check_feature_names(reset=True) do
        # for an array without feature names (the dataframe detection of the latter
        # costs ~80 us, a tenth of a small fit)
        estimator.n_features_in_ = X.shape[1]
        if hasattr(estimator, "feature_names_in_"):
            del estimator.feature_names_in_
        # y is finite (_plain_input): only a cast to float32 can overflow
        return X, y if y.dtype == X.dtype else as_target(y, X.dtype)
    X, y = validate_data(
        estimator,
        X,
        y,
        accept_sparse=True,
        accept_large_sparse=True,
        dtype=[np.float64, np.float32],
        order=None,
        multi_output=True,
        y_numeric=True,
    )
    return X, as_target(y, X.dtype)


def check_kernel_layout(X, reads_x=True):
    """For ``check_input=False``, scikit-learn's promise: X is already what its solver
    reads, float32/float64 (CSC if sparse) and, where that solver reads dense X
    directly (``reads_x``: not through a Gram matrix nor a weighted copy),
    Fortran-contiguous. Anything else raises a ValueError, as scikit-learn's solver
    does (for sparse X other than CSC it would silently read garbage). fastlasso
    validates the values afterwards either way (its kernels run without bounds
    checks)."""
    if sp.issparse(X):
        ok = X.format == "csc" and X.dtype in (np.float32, np.float64)
    else:
        ok = (isinstance(X, np.ndarray) and X.ndim == 2
              and X.dtype in (np.float32, np.float64)
              and (X.flags.f_contiguous or not reads_x))
    if not ok:
        if sp.issparse(X):
            what = f"a sparse {X.format} matrix of dtype {X.dtype}"
        elif isinstance(X, np.ndarray):
            order = "Fortran" if X.flags.f_contiguous else "C" if (
                X.flags.c_contiguous) else "non-contiguous"
            what = f"a {X.ndim}-D {order}-ordered array of dtype {X.dtype}"
        else:
            what = f"a {type(X).__name__}"
        raise ValueError(
            "With check_input=False, X must be a Fortran-contiguous float64 or float32 "
            f"array or a CSC matrix (the layout coordinate descent reads); got {what}. "
            "Pass check_input=True to have it converted."
        )


def solver_reads_x(precompute, shape=None):
    """Whether scikit-learn's solver reads dense X itself rather than a Gram matrix:
    with ``check_input=False`` it then needs X Fortran-contiguous. precompute False;
    or "auto", which stands for scikit-learn's default: False in the estimators (shape
    None), ``n_samples > n_features`` (Gram) in the path functions (shape given)."""
    if isinstance(precompute, str):
        return shape is None or shape[0] <= shape[1]
    return isinstance(precompute, (bool, np.bool_)) and not precompute


def _plain_input(X, y):
    """True for X a 2-D float32/float64 ndarray or CSC/CSR matrix (structure already
    checked) with samples and features, and y a finite real numeric ndarray of matching
    length, 1-D or 2-D: what validate_data would accept unchanged, if X is finite."""
    if type(y) is not np.ndarray:
        return False
    if sp.issparse(X):
        if X.format not in ("csc", "csr"):
            return False
    elif type(X) is not np.ndarray or X.ndim != 2:
        return False
    if X.dtype not in (np.float32, np.float64) or 0 in X.shape:
        return False
    if y.ndim not in (1, 2) or y.shape[0] != X.shape[0] or y.size == 0:
        return False
    if y.dtype.kind not in "fiu":
        return False
    # X's finiteness is checked by make_design from its column statistics (one pass
    # over X less)
    with np.errstate(over="ignore", invalid="ignore"):
        return bool(np.isfinite(y.sum()))


def as_target(y, dtype):
    """y cast to X's dtype; values that overflow the cast (float32 X) raise."""
    if sp.issparse(y):
        raise TypeError(
            "y is a sparse matrix; a dense y is required (use y.toarray())."
        )
    with np.errstate(over="ignore", invalid="ignore"):
        yt = np.asarray(y, dtype=dtype)
    if not np.isfinite(yt).all():
        raise ValueError(
            f"y has values too large for the {np.dtype(dtype).name} dtype of X "
            f"(max |y| = {np.abs(np.asarray(y, dtype=np.float64)).max():.3g}); "
            "pass X as float64 or rescale y."
        )
    return yt


def check_structure(X):
    """Reject inputs whose sizes or sparse index arrays the kernels cannot trust.

    Returns X, or a CSR conversion for sparse formats without index arrays of their
    own (LIL, DOK, DIA). Never modifies X (scipy's ``check_format`` would).
    """
    shape = getattr(X, "shape", None)
    if shape is not None and len(shape) == 2:
        n, p = shape
        if p > INDEX_MAX:
            raise ValueError(
                f"X has {p} features; at most {INDEX_MAX} (int32 range) are supported."
            )
        if not sp.issparse(X) and n > INDEX_MAX:
            raise ValueError(
                f"Dense X has {n} samples; at most {INDEX_MAX} (int32 range, BLAS) are "
                "supported. Pass X as a sparse matrix with int64 indices."
            )
    if not sp.issparse(X):
        return X
    if X.format in ("csr", "csc"):
        major, minor = X.shape if X.format == "csr" else X.shape[::-1]
        _check_compressed(X.indptr, X.indices, X.data, major, minor, X.format)
    elif X.format == "bsr":
        R, C = X.blocksize
        _check_compressed(
            X.indptr, X.indices, X.data, X.shape[0] // R, X.shape[1] // C, "bsr"
        )
    elif X.format == "coo":
        _check_coo(X)
    else:
        X = X.tocsr()
        _check_compressed(X.indptr, X.indices, X.data, *X.shape, "csr")
    return X


def _check_index_array(a, name, fmt):
    a = np.asarray(a)
    if a.ndim != 1:
        raise ValueError(
            f"Sparse X ({fmt}) has a {a.ndim}-D {name} array; expected 1-D."
        )
    if a.dtype.kind not in "iu":
        raise TypeError(
            f"Sparse X ({fmt}) has {name} of dtype {a.dtype}; expected integers."
        )
    return a


def _check_compressed(indptr, indices, data, major, minor, fmt):
    """indptr: length major + 1, starts at 0, non-decreasing, ends <= nnz arrays;
    indices[:nnz] in [0, minor). Contiguous int32/int64 index arrays that pass are
    cleared in one C pass (_cd.compressed_indices_ok); anything else takes the numpy
    checks below, which name the problem."""
    if (type(indptr) is np.ndarray and type(indices) is np.ndarray
            and indptr.dtype in _INDEX_DTYPES and indices.dtype in _INDEX_DTYPES
            and indptr.ndim == 1 and indices.ndim == 1
            and indptr.flags.c_contiguous and indices.flags.c_contiguous
            and indptr.shape[0] == major + 1 and int(indptr[-1]) <= len(data)
            and _cd.compressed_indices_ok(indptr, indices, minor)):
        return
    indptr = _check_index_array(indptr, "indptr", fmt)
    indices = _check_index_array(indices, "indices", fmt)
    if indptr.shape[0] != major + 1:
        raise ValueError(
            f"Sparse X ({fmt}) has an indptr of length {indptr.shape[0]}, "
            f"expected {major + 1}."
        )
    if indptr[0] != 0:
        raise ValueError(f"Sparse X ({fmt}) has indptr[0] = {indptr[0]}, expected 0.")
    nnz = int(indptr[-1])
    if nnz > indices.shape[0] or nnz > len(data):
        raise ValueError(
            f"Sparse X ({fmt}) has indptr[-1] = {nnz} but only {indices.shape[0]} "
            f"indices and {len(data)} values."
        )
    if major > 0 and np.diff(indptr).min() < 0:
        raise ValueError(f"Sparse X ({fmt}) has a decreasing indptr.")
    if nnz > 0:
        used = indices[:nnz]
        lo, hi = used.min(), used.max()
        if lo < 0 or hi >= minor:
            raise ValueError(
                f"Sparse X ({fmt}) has indices out of range: found {lo}..{hi}, "
                f"expected 0..{minor - 1}."
            )


def _check_coo(X):
    """COO: row and column indices within the shape, one per stored value."""
    for axis, (idx, dim) in enumerate(zip((X.row, X.col), X.shape, strict=True)):
        idx = _check_index_array(idx, "row" if axis == 0 else "col", "coo")
        if idx.shape[0] != X.data.shape[0]:
            raise ValueError(
                f"Sparse X (coo) has {idx.shape[0]} indices on axis {axis} for "
                f"{X.data.shape[0]} values."
            )
        if idx.shape[0] > 0 and (idx.min() < 0 or idx.max() >= dim):
            raise ValueError(
                f"Sparse X (coo) has indices out of range on axis {axis}: found "
                f"{idx.min()}..{idx.max()}, expected 0..{dim - 1}."
            )


def kernel_kind(X):
    """The kernels' name for the layout of X (in kernel layout, see as_design_matrix):
    "dense" (Fortran order), "cdense" (C order), "csc32" or "csc64"."""
    if not sp.issparse(X):
        return "dense" if X.flags.f_contiguous else "cdense"
    return "csc64" if X.indices.dtype == np.int64 else "csc32"


def as_design_matrix(X):
    """Return X in a layout the kernels read in place (see module docstring).

    X has already been through scikit-learn's validation (float32/float64, finite)
    and ``check_structure`` (index arrays in range). The CSC arrays handed to the
    kernels are contiguous and share one index dtype, int32 or int64.
    """
    if sp.issparse(X):
        if X.format != "csc":
            X = X.tocsc()
        elif not X.has_canonical_format:
            X = X.copy()
        if not X.has_canonical_format:
            X.sum_duplicates()  # also sorts indices; X is our own copy here
        idx = (X.indptr, X.indices)
        itype = np.int32 if all(a.dtype == np.int32 for a in idx) else np.int64
        if not all(a.dtype == itype and a.flags.c_contiguous for a in idx) or (
            not X.data.flags.c_contiguous
        ):
            X = sp.csc_matrix(
                (
                    np.ascontiguousarray(X.data),
                    np.ascontiguousarray(X.indices, dtype=itype),
                    np.ascontiguousarray(X.indptr, dtype=itype),
                ),
                shape=X.shape,
                copy=False,
            )
        return X
    if X.flags.f_contiguous or X.flags.c_contiguous:
        return X
    return np.asfortranarray(X)


@dataclass
class Design:
    """X in kernel layout with the weighted centring statistics of its columns.

    sw are the sample weights rescaled to sum to n (None: unit weights), mu the weighted
    column means (zeros without intercept), norm2 = ||S^(1/2)(x_j - mu_j)||^2 in
    float64 (exactly 0 for columns that are constant on the weighted rows).
    """

    X: object
    kind: str
    sw: np.ndarray | None
    fit_intercept: bool
    mu: np.ndarray
    norm2: np.ndarray

    @property
    def n_samples(self):
        return self.X.shape[0]

    @property
    def n_features(self):
        return self.X.shape[1]

    @property
    def dtype(self):
        return self.X.dtype

    @cached_property
    def sqrt_sw(self):
        """S^(1/2) in float64 (None: unit weights)."""
        if self.sw is None:
            return None
        return np.sqrt(self.sw.astype(np.float64))

    @cached_property
    def col_norms(self):
        """||S^(1/2)(x_j - mu_j)|| = sqrt(norm2)."""
        return np.sqrt(self.norm2)

    @cached_property
    def by_columns(self):
        """This design in a column layout ("dense" or sparse): C-ordered X ("cdense")
        copied to Fortran order once, for solvers without row-major kernels (the
        first-order solvers of _prox, the multi-task kernels); other layouts are
        returned as they are. The copy is cached: a path or the folds of a solver
        that needs it pay for it once per design, as a Fortran copy at validation
        cost before."""
        if self.kind != "cdense":
            return self
        return Design(np.asfortranarray(self.X), "dense", self.sw, self.fit_intercept,
                      self.mu, self.norm2)

    def kernel_args(self):
        """Leading arguments of the layout-specific kernels."""
        if self.kind in ("dense", "cdense"):
            return (self.X,)
        return (self.X.data, self.X.indices, self.X.indptr)

    def center(self, y):
        """(y_c, y_mean): y minus its weighted mean (if fit_intercept), in X's dtype.

        Raises if ||y_c||_S^2 is not a normal number of X's dtype (see check_scale).
        """
        yc, y_mean, yy = _centred_unchecked(y, self.sw, self.fit_intercept, self.dtype)
        check_scale(np.array([yy]), self.dtype, "y")
        return yc, y_mean

    def weighted_sq_norm(self, v):
        """||v||_S^2 in float64; for v of shape (n, T) (one column per task) the
        squared weighted Frobenius norm, the sum over its columns."""
        return _weighted_sq_norm(v, self.sw)


def _weighted_sq_norm(v, sw):
    v = np.asarray(v, dtype=np.float64)
    if v.ndim == 1:
        return float(v @ v) if sw is None else float(sw @ (v * v))
    sq = v**2
    return float(np.sum(sq if sw is None else sw[:, None] * sq))


def _centred_unchecked(y, sw, fit_intercept, dtype):
    """(y_c, y_mean, ||y_c||_S^2) of Design.center, without its check. A y_c with
    infinite or NaN entries gives an infinite or NaN ||y_c||_S^2, which the check
    (check_scale) rejects."""
    y = np.asarray(y, dtype=np.float64)
    with np.errstate(over="ignore", invalid="ignore"):
        y_mean = _refined_mean(y, sw) if fit_intercept else 0.0
        yc = np.ascontiguousarray(y - y_mean, dtype=dtype)
        yy = _weighted_sq_norm(yc, sw)
    return yc, y_mean, yy


def intercept_of(y_mean, mu, coef):
    """The intercept b = y_mean - mu^T w of coefficients w fitted to data centred by
    the (weighted) column means mu and target mean y_mean (zeros and 0 without
    intercept): the minimiser over b of P(w, b) for fixed w. In float64: a scalar for
    w of shape (p,), one per column for a path of shape (p, k)."""
    mu = np.asarray(mu, dtype=np.float64)
    return y_mean - mu @ np.asarray(coef, dtype=np.float64)


def weighted_mean(y, sw):
    """Weighted mean of float64 y, refined once: the mean of y - mean(y) corrects
    the rounding of the first pass, so that y - mean is exactly 0 for a constant y
    (a rounded mean of y ~ 1e100 would leave y_c ~ 1e84 for the kernels to fit)."""
    with np.errstate(over="ignore", invalid="ignore"):
        return _refined_mean(y, sw)


def _refined_mean(y, sw):
    """weighted_mean under the caller's np.errstate. The unweighted mean is numpy's
    ``v.mean()`` to the bit (its pairwise sum divided by the count) without the
    wrapper of np.mean, whose overhead is most of a small fit's mean."""
    if sw is None:
        n = y.size
        mean = float(np.add.reduce(y, axis=None)) / n
        if mean - mean == 0.0:  # finite
            mean += float(np.add.reduce(y - mean, axis=None)) / n
        return mean
    mean = float(np.average(y, weights=sw))
    if mean - mean == 0.0:
        mean += float(np.average(y - mean, weights=sw))
    return mean


def make_design(X, sample_weight, fit_intercept, estimator_name=None):
    """Build the Design for validated X (see as_design_matrix) and raw sample_weight.

    Raises scikit-learn's error (naming estimator_name) if X holds NaN or inf: the
    column statistics see every value, so the fast validation path skips that pass."""
    return _build_design(X, sample_weight, fit_intercept, estimator_name)[0]


def make_design_for_target(X, y, sample_weight, fit_intercept, estimator_name=None,
                           first_gradient=True):
    """(design, y_c, y_mean, xty): make_design, then Design.center(y); for sparse and
    C-ordered X and first_gradient, the column statistics also give xty = X^T S y_c
    in the same pass over X (the solver's first gradient from w = 0, see
    _solve.workspace_at_zero), else xty is None. (Fortran-ordered X is left out: there
    the extra dot product read the column from memory again, costing as much as the
    solver's pass it saved.)"""
    return _build_design(X, sample_weight, fit_intercept, estimator_name, y,
                         first_gradient)


def _build_design(X, sample_weight, fit_intercept, estimator_name, y=None,
                  first_gradient=False):
    X = as_design_matrix(X)
    n, p = X.shape
    sw = None
    if sample_weight is not None:
        sw = check_sample_weight(sample_weight, n, X.dtype)
    kind = kernel_kind(X)
    mu = np.zeros(p)
    norm2 = np.zeros(p)
    sw_arg = np.empty(0, dtype=X.dtype) if sw is None else sw
    stats = getattr(_cd, "column_stats_" + kind)
    yc = y_mean = xty = None
    if y is not None:
        yc, y_mean, yy = _centred_unchecked(y, sw, fit_intercept, X.dtype)
    if kind == "dense":
        stats(X, n, sw_arg, mu, norm2, fit_intercept)
    elif kind == "cdense":  # the first gradient comes free with its row sweep
        xty = np.empty(p) if y is not None and first_gradient else None
        stats(X, n, sw_arg, mu, norm2, fit_intercept, None if xty is None else yc, xty)
    else:
        xty = np.empty(p) if y is not None and first_gradient else None
        stats(X.data, X.indices, X.indptr, n, sw_arg, mu, norm2, fit_intercept,
              None if xty is None else yc, xty)
    # (a sum of the statistics is finite only if each one is; a sum that overflows
    # only sends finite X down the exact check, which passes it)
    if not np.isfinite(np.add.reduce(norm2) + np.add.reduce(mu)):
        # NaN or inf in X (scikit-learn's message), else finite values whose squares
        # overflow (check_scale's message)
        _assert_all_finite(X.data if sp.issparse(X) else X, input_name="X",
                           estimator_name=estimator_name)
    check_scale(norm2, X.dtype, "X")
    if y is not None:  # y's checks after X's, as with Design.center
        check_scale(yy, X.dtype, "y")
    design = Design(X, kind, sw, fit_intercept, mu.astype(X.dtype, copy=False), norm2)
    return design, yc, y_mean, xty


@functools.cache
def _scale_limits(dtype):
    """(smallest normal number, largest / MAGNITUDE_MARGIN) of dtype (check_scale)."""
    info = np.finfo(dtype)
    return float(info.tiny), float(info.max) / MAGNITUDE_MARGIN


def check_scale(sq_norms, dtype, name):
    """Raise unless every nonzero squared norm is a normal number of ``dtype``,
    with a margin of 1/MAGNITUDE_MARGIN below its largest value.

    Coordinate descent forms sums of squares and products of such norms in the
    working dtype: beyond these bounds they overflow (inf, NaN) or lose all precision
    as subnormals, and the fit would be silently wrong. (The margin: Gram-mode
    intermediates such as 2 w^T X^T y reach a few times ||y||^2.) Rescaling is always
    possible: (X, y, alpha) -> (c X, c y, c^2 alpha) leaves coef_ unchanged.
    """
    lo, hi = _scale_limits(dtype)
    if type(sq_norms) is float:
        if lo <= sq_norms <= hi:  # (NaN fails)
            return
        sq_norms = [sq_norms]
    sq = np.asarray(sq_norms, dtype=np.float64)
    if sq.size and lo <= sq.min() <= sq.max() <= hi:  # all fine (NaN fails)
        return
    big = ~(sq <= hi)
    small = (sq > 0) & (sq < lo)
    for bad, what in ((big, "too large"), (small, "too small")):
        if bad.any():
            j = int(np.flatnonzero(bad)[0])
            where = f"column {j} of X" if name == "X" else name
            msg = (
                f"values of {where} are {what} for {np.dtype(dtype).name} "
                f"arithmetic: its squared norm is {sq[j]:.3g}, outside the supported "
                f"range {lo:.3g}..{hi:.3g}."
                " Rescale the data: X and y by c, alpha by c**2 gives the same coef_."
            )
            # scikit-learn reports overflowing data (after its iterations) with
            # NON_FINITE; code written for it matches that text
            raise ValueError(
                f"{NON_FINITE}, or would have: the {msg}" if what == "too large"
                else f"The {msg}"
            )


def check_sample_weight(sample_weight, n_samples, dtype):
    """Validated weights rescaled to sum to n_samples (scikit-learn's convention)."""
    scalar = isinstance(sample_weight, (Number, str, bytes)) or (
        isinstance(sample_weight, np.ndarray) and sample_weight.ndim == 0
    )  # not np.ndim: array-likes with only __array__ refuse __array_function__
    if scalar:
        try:
            value = float(sample_weight)
        except (TypeError, ValueError):
            raise TypeError(
                "sample_weight must be a number or an array of shape (n_samples,), "
                f"got {sample_weight!r}."
            ) from None
        if not np.isfinite(value) or value <= 0:
            raise ValueError(
                f"sample_weight must be a positive finite number, got {value!r}."
            )
        return None
    with np.errstate(over="ignore"):  # an overflowing sum is reported below
        sw = _check_sample_weight(
            sample_weight,
            np.empty((n_samples, 0)),
            dtype=np.float64,
            ensure_non_negative=True,
        )
        total = sw.sum()
    if not 0 < total < np.inf:
        raise ValueError(f"sample_weight must have a positive finite sum, got {total}.")
    return np.ascontiguousarray(sw * (n_samples / total), dtype=dtype)


def gram_mode_from_precompute(precompute, design=None):
    """(gram_mode, gram_matrix) from scikit-learn's ``precompute`` parameter (the Gram
    modes: see _solve): "auto" -> "auto"; True -> "full"; False -> "off"; an array ->
    "full". With ``design`` (single fits, paths) the array is checked against it
    (check_precomputed_gram) and returned as the Gram matrix to use; without (cross-
    validation, whose folds each have a Gram matrix of their own) it only asks for the
    full mode, the matrices being built from the data. gram_matrix is None otherwise.
    """
    if isinstance(precompute, (bool, np.bool_)):
        return ("full" if precompute else "off"), None
    if isinstance(precompute, str):
        if precompute != "auto":
            raise ValueError(
                f"precompute must be 'auto', a bool or an array, got {precompute!r}."
            )
        return "auto", None
    if design is None:
        return "full", None
    G = check_precomputed_gram(design, precompute)
    # None: the matrix was ignored (X is centred for the intercept): as "auto"
    return ("auto", None) if G is None else ("full", G)


def check_precomputed_gram(design, gram):
    """Validate a user's Gram matrix: (p, p), finite, symmetric, and consistent with X.

    It must be X~^T S X~ for the centred (if fit_intercept), weighted data; its diagonal
    is checked against the column norms, to rounding in the dtypes involved. Returned
    as float64; None (after scikit-learn's UserWarning) when fit_intercept centres X,
    i.e. when X's weighted column means are not all ~0: scikit-learn then ignores the
    matrix and lets ``precompute="auto"`` decide (code written for it passes X^T X of
    the raw data and expects the warning). "~0" is relative to each column's scale,
    |mean| <= rtol * rms, rtol 1e-4 for float32 data and 1e-7 for float64: a column
    centred in its dtype passes, and the Gram matrices of X and X~ then differ by
    n mu mu^T, a relative rtol^2 (scikit-learn compares the means to 1e-8, whatever
    the scale of X).
    """
    if design.kind not in ("dense", "cdense"):
        raise ValueError("A precomputed Gram matrix is only supported for dense X.")
    mu = design.mu.astype(np.float64)
    n = design.n_samples
    rms = np.sqrt((design.norm2 + n * mu * mu) / n)
    rtol_mean = 1e-4 if design.dtype == np.float32 else 1e-7
    if design.fit_intercept and not np.all(np.abs(mu) <= rtol_mean * rms):
        warnings.warn(
            "Gram matrix was provided but X was centered to fit intercept: "
            "recomputing Gram matrix.",
            UserWarning,
            stacklevel=3,
        )
        return None
    G_in = np.asarray(gram)
    G = np.asarray(G_in, dtype=np.float64)
    p = design.n_features
    if G.shape != (p, p):
        raise ValueError(
            f"precompute Gram matrix has shape {G.shape}, expected ({p}, {p})."
        )
    if not np.isfinite(G).all():
        raise ValueError("precompute Gram matrix contains NaN or infinity.")
    # rounding: a product of float32 data (or a float32 matrix) carries relative
    # errors of ~sqrt(n) eps_32 on each entry; float64 ones far less
    single = np.float32 in (design.dtype, G_in.dtype)
    rtol = max(1e-4, 8 * np.sqrt(design.n_samples) * np.finfo(np.float32).eps) if (
        single) else 1e-6
    diag = np.diag(G)
    # entries are compared on the scale of their row and column, sqrt(G_ii G_jj)
    scale = np.sqrt(np.abs(np.outer(diag, diag)))
    if not np.all(np.abs(G - G.T) <= rtol * scale):
        raise ValueError("precompute Gram matrix is not symmetric.")
    if not np.allclose(
        diag, design.norm2, rtol=max(rtol, 1e-4), atol=1e-10 * design.norm2.max()
    ):
        j = int(np.argmax(np.abs(diag - design.norm2)))
        raise ValueError(
            "Gram matrix passed in via 'precompute' parameter did not pass validation: "
            "its diagonal differs from the squared norms of the (centred, weighted) "
            f"columns of X (column {j}: {diag[j]:.6g} given, {design.norm2[j]:.6g} "
            "computed)."
        )
    return G
