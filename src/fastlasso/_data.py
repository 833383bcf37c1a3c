"""Validation and preprocessing: turn user input into what the kernels take.

The kernels never see a copy of X made for centring or weighting: centring is implicit
(column means ``mu``), weights enter as a vector. A copy of X is made only when the
layout cannot be used in place:

- dense X that is not Fortran-contiguous (coordinate descent reads columns);
- sparse X that is not CSC, or CSC with duplicate entries / unsorted indices (the
  duplicates are summed on the copy, never on the caller's matrix);
- dtypes other than float32/float64 (int, bool, float16 -> float64).
"""

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from sklearn.utils.validation import _check_sample_weight

from fastlasso import _cd


def _kind(X):
    if not sp.issparse(X):
        return "dense"
    return "csc64" if X.indices.dtype == np.int64 else "csc32"


def as_design_matrix(X):
    """Return X in a layout the kernels read in place (see module docstring).

    X has already been through scikit-learn's validation (float32/float64, finite).
    """
    if sp.issparse(X):
        if X.format != "csc":
            X = X.tocsc()
        elif not X.has_canonical_format:
            X = X.copy()
        if not X.has_canonical_format:
            X.sum_duplicates()  # also sorts indices; X is our own copy here
        if X.indptr.dtype != X.indices.dtype:  # scipy may mix them; kernels need one
            itype = np.result_type(X.indptr.dtype, X.indices.dtype)
            X = sp.csc_matrix(
                (X.data, X.indices.astype(itype), X.indptr.astype(itype)), shape=X.shape
            )
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

    @property
    def sqrt_sw(self):
        if self.sw is None:
            return None
        return np.sqrt(self.sw.astype(np.float64))

    def kernel_args(self):
        """Leading arguments of the layout-specific kernels."""
        if self.kind == "dense":
            return (self.X,)
        return (self.X.data, self.X.indices, self.X.indptr)

    def center(self, y):
        """(y_c, y_mean): y minus its weighted mean (if fit_intercept), in X's dtype."""
        y = np.asarray(y, dtype=np.float64)
        y_mean = float(np.average(y, weights=self.sw)) if self.fit_intercept else 0.0
        return np.ascontiguousarray(y - y_mean, dtype=self.dtype), y_mean

    def weighted_sq_norm(self, v):
        """||v||_S^2 in float64."""
        v = np.asarray(v, dtype=np.float64)
        return float(v @ v) if self.sw is None else float(self.sw @ (v * v))


def make_design(X, sample_weight, fit_intercept):
    """Build the Design for validated X (see as_design_matrix) and raw sample_weight."""
    X = as_design_matrix(X)
    n, p = X.shape
    sw = None
    if sample_weight is not None:
        sw = check_sample_weight(sample_weight, n, X.dtype)
    kind = _kind(X)
    mu = np.zeros(p)
    norm2 = np.zeros(p)
    sw_arg = np.empty(0, dtype=X.dtype) if sw is None else sw
    stats = getattr(_cd, "column_stats_" + kind)
    if kind == "dense":
        stats(X, n, sw_arg, mu, norm2, fit_intercept)
    else:
        stats(X.data, X.indices, X.indptr, n, sw_arg, mu, norm2, fit_intercept)
    return Design(X, kind, sw, fit_intercept, mu.astype(X.dtype), norm2)


def check_sample_weight(sample_weight, n_samples, dtype):
    """Validated weights rescaled to sum to n_samples (scikit-learn's convention)."""
    if np.isscalar(sample_weight):
        if not np.isfinite(sample_weight) or sample_weight <= 0:
            raise ValueError(
                f"sample_weight must be a positive finite number, got {sample_weight!r}."
            )
        return None
    sw = _check_sample_weight(
        sample_weight, np.empty((n_samples, 0)), dtype=np.float64, ensure_non_negative=True
    )
    total = sw.sum()
    if not 0 < total < np.inf:
        raise ValueError(f"sample_weight must have a positive finite sum, got {total}.")
    return np.ascontiguousarray(sw * (n_samples / total), dtype=dtype)


def check_precomputed_gram(design, gram):
    """Validate a user's Gram matrix: (p, p), finite, symmetric, and consistent with X.

    It must be X~^T S X~ for the centred (if fit_intercept), weighted data; its diagonal
    is checked against the column norms. Returned as float64.
    """
    if design.kind != "dense":
        raise ValueError("A precomputed Gram matrix is only supported for dense X.")
    G = np.asarray(gram, dtype=np.float64)
    p = design.n_features
    if G.shape != (p, p):
        raise ValueError(f"precompute Gram matrix has shape {G.shape}, expected ({p}, {p}).")
    if not np.isfinite(G).all():
        raise ValueError("precompute Gram matrix contains NaN or infinity.")
    if not np.allclose(G, G.T, rtol=1e-6, atol=0):
        raise ValueError("precompute Gram matrix is not symmetric.")
    if not np.allclose(np.diag(G), design.norm2, rtol=1e-4, atol=1e-10 * design.norm2.max()):
        raise ValueError(
            "precompute Gram matrix does not match X: its diagonal differs from the "
            "squared norms of the (centred, weighted) columns of X."
        )
    return G
