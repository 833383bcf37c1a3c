"""Shared helpers for the tests: an independent float64 objective, KKT residuals,
alpha_max, data generators and input layouts. (fastlasso's entry points under test, by
name, are in helpers.py.)

Nothing here calls fastlasso: every quantity is recomputed in numpy from its definition

    P(w, b) = 1/(2n) sum_i s_i (y_i - x_i w - b)^2 + alpha * rho * ||w||_1
              + alpha * (1 - rho) / 2 * ||w||^2,

with s the sample weights rescaled to sum to n (all ones when there are none) and
rho = l1_ratio.
"""

import functools
from typing import NamedTuple

import numpy as np
import pytest
import scipy.sparse as sp


def rescaled_weights(sample_weight, n):
    """Weights rescaled to sum to n, as float64 (ones for None)."""
    if sample_weight is None:
        return np.ones(n)
    s = np.asarray(sample_weight, dtype=np.float64)
    return s * (n / s.sum())


def dense64(X):
    """X as a dense float64 ndarray."""
    return np.asarray(X.toarray() if sp.issparse(X) else X, dtype=np.float64)


def centred(X, y, sample_weight=None, fit_intercept=True):
    """(X~, y~, x_mean, y_mean): X and y minus their weighted means (float64).

    Without intercept nothing is subtracted and the means are zeros.
    """
    X = dense64(X)
    y = np.asarray(y, dtype=np.float64)
    s = rescaled_weights(sample_weight, X.shape[0])
    if not fit_intercept:
        return X, y, np.zeros(X.shape[1]), np.zeros(y.shape[1:])
    x_mean = s @ X / s.sum()
    y_mean = s @ y / s.sum()
    return X - x_mean, y - y_mean, x_mean, y_mean


def objective(X, y, coef, intercept, alpha, l1_ratio=1.0, sample_weight=None):
    """P(w, b) in float64 (module docstring), for one target."""
    X = dense64(X)
    w = np.asarray(coef, dtype=np.float64)
    r = np.asarray(y, dtype=np.float64) - X @ w - float(intercept)
    s = rescaled_weights(sample_weight, X.shape[0])
    n = X.shape[0]
    return (
        s @ (r * r) / (2 * n)
        + alpha * l1_ratio * np.abs(w).sum()
        + alpha * (1 - l1_ratio) / 2 * (w @ w)
    )


def y_scale(y, sample_weight=None, fit_intercept=True):
    """||y - ybar||_S^2 / n: the unit of ``tol`` (ybar = 0 without intercept)."""
    y = np.asarray(y, dtype=np.float64)
    s = rescaled_weights(sample_weight, y.shape[0])
    yc = y - (s @ y / s.sum() if fit_intercept else 0.0)
    return s @ (yc * yc) / y.shape[0]


def alpha_max(
    X, y, sample_weight=None, fit_intercept=True, l1_ratio=1.0, positive=False
):
    """Smallest alpha for which w = 0 is optimal: max_j |x~_j^T S y~| / (n rho)
    (max_j of the signed correlation, floored at 0, when positive)."""
    Xc, yc, _, _ = centred(X, y, sample_weight, fit_intercept)
    s = rescaled_weights(sample_weight, Xc.shape[0])
    corr = Xc.T @ (s * yc)
    top = max(corr.max(), 0.0) if positive else np.abs(corr).max()
    return top / (Xc.shape[0] * l1_ratio)


def correlations(X, y, coef, sample_weight=None, fit_intercept=True):
    """c_j = x~_j^T S r / n, r = y~ - X~ w: minus the gradient of the smooth part."""
    Xc, yc, _, _ = centred(X, y, sample_weight, fit_intercept)
    s = rescaled_weights(sample_weight, Xc.shape[0])
    r = yc - Xc @ np.asarray(coef, dtype=np.float64)
    return Xc.T @ (s * r) / Xc.shape[0]


def kkt_violation(
    X,
    y,
    coef,
    alpha,
    l1_ratio=1.0,
    sample_weight=None,
    fit_intercept=True,
    positive=False,
):
    """Per-feature violation of the optimality conditions of P at w (w >= 0 if
    positive).

    With c_j = x~_j^T S r / n - alpha (1 - rho) w_j:
      w_j != 0:  c_j = alpha rho sign(w_j)         -> |c_j - alpha rho sign(w_j)|
      w_j == 0:  |c_j| <= alpha rho                -> max(|c_j| - alpha rho, 0)
                 (positive: c_j <= alpha rho       -> max(c_j - alpha rho, 0))
    A negative coefficient under positive=True counts as an infinite violation.
    """
    w = np.asarray(coef, dtype=np.float64)
    c = correlations(X, y, w, sample_weight, fit_intercept) - alpha * (1 - l1_ratio) * w
    lam = alpha * l1_ratio
    nz = w != 0
    zero_part = np.maximum((c if positive else np.abs(c)) - lam, 0.0)
    out = np.where(nz, np.abs(c - lam * np.sign(w)), zero_part)
    if positive:
        out[w < 0] = np.inf
    return out


def kkt_tolerance(X, gap, alpha, l1_ratio=1.0, sample_weight=None, fit_intercept=True):
    """Bound on |c_j(w) - c_j(w*)| for any w with P(w) - P* <= gap.

    Strong convexity of P along X~ gives ||X~(w - w*)||_S^2 / (2n) <= P(w) - P*, so
    |x~_j^T S X~ (w - w*)| / n <= ||x~_j||_S sqrt(2 gap / n); the ridge part adds
    alpha (1 - rho) |w_j - w*_j| <= sqrt(2 gap alpha (1 - rho)).
    """
    Xc, _, _, _ = centred(X, np.zeros(X.shape[0]), sample_weight, fit_intercept)
    s = rescaled_weights(sample_weight, Xc.shape[0])
    col = np.sqrt(s @ (Xc * Xc))
    return col * np.sqrt(2 * gap / Xc.shape[0]) + np.sqrt(
        2 * gap * alpha * (1 - l1_ratio)
    )


def make_regression_data(
    n, p, *, seed=0, n_informative=5, density=0.4, weight_range=(0.5, 2.0)
):
    """Well-conditioned (X, y, sample_weight) in float64 with signal and non-zero means.

    X has a fraction ``density`` of non-zero entries (so that sparse layouts are truly
    sparse), each 1 + N(0, 1): column means ~ density, far from 0. y = 3 + X[:, :k] beta
    + noise with the first k = n_informative features relevant and the rest irrelevant.
    sample_weight are random positive weights, uniform in ``weight_range``.
    """
    rng = np.random.default_rng(seed)
    X = (rng.random((n, p)) < density) * (1.0 + rng.standard_normal((n, p)))
    beta = rng.choice([-1.0, 1.0], n_informative) * rng.uniform(1.0, 3.0, n_informative)
    y = 3.0 + X[:, :n_informative] @ beta + 0.5 * rng.standard_normal(n)
    sample_weight = rng.uniform(*weight_range, n)
    return X, y, sample_weight


def gaussian_data(
    n, p, *, seed=0, coef=(1.5, -2.0, 1.0), noise=0.3, intercept=0.0, shift=0.0
):
    """Small dense (X, y) in float64: X = N(0, 1) + shift, y = X[:, :k] coef + noise
    N(0, 1) + intercept with the first k = len(coef) features relevant."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p)) + shift
    y = X[:, : len(coef)] @ np.array(coef) + noise * rng.standard_normal(n) + intercept
    return X, y


LAYOUTS = ("dense_F", "dense_C", "csc", "csr")


def as_layout(X, layout, dtype=None):
    """X (dense) in one input layout, in ``dtype`` if given: "dense_F" (or "dense") /
    "dense_C" arrays, a "csc" (or "csc32": int32 indices) / "csc64" (int64 indices) or
    "csr" matrix."""
    if dtype is not None:
        X = np.asarray(X, dtype=dtype)
    if layout in ("dense_F", "dense"):
        return np.asfortranarray(X)
    if layout == "dense_C":
        return np.ascontiguousarray(X)
    if layout in ("csc", "csc32"):
        return sp.csc_matrix(X)
    if layout == "csc64":
        A = sp.csc_matrix(X)
        A.indices = A.indices.astype(np.int64)
        A.indptr = A.indptr.astype(np.int64)
        return A
    if layout == "csr":
        return sp.csr_matrix(X)
    raise ValueError(layout)


def sklearn_fit(cls_name, X, y, *, alpha, l1_ratio=1.0, sample_weight=None, **params):
    """scikit-learn's estimator fitted to (X, y) in float64 at tol=1e-14 by default.

    The reference optimum of a float32 problem is the float64 fit on the float32 data.
    """
    from sklearn.linear_model import ElasticNet, Lasso

    params = {"tol": 1e-14, "max_iter": 200_000, **params}
    if cls_name == "Lasso":
        est = Lasso(alpha=alpha, **params)
    else:
        est = ElasticNet(alpha=alpha, l1_ratio=l1_ratio, **params)
    X = X.astype(np.float64)
    return est.fit(X, np.asarray(y, dtype=np.float64), sample_weight=sample_weight)


SHAPES = {"wide": (40, 120), "tall": (300, 20)}
L1_RATIOS = {"Lasso": 1.0, "ElasticNet": 0.5}


class Problem(NamedTuple):
    """A test problem, its penalty and scikit-learn's reference solution (float64)."""

    X: np.ndarray
    y: np.ndarray
    sample_weight: np.ndarray | None
    alpha: float
    l1_ratio: float
    fit_intercept: bool
    positive: bool
    coef: np.ndarray
    intercept: float
    P: float  # objective at the reference: P* <= P <= P* + 1e-14 * scale
    scale: float  # ||y - ybar||_S^2 / n, the unit of tol

    def objective(self, coef, intercept):
        return objective(
            self.X,
            self.y,
            coef,
            intercept,
            self.alpha,
            self.l1_ratio,
            self.sample_weight,
        )


@functools.cache
def reference_problem(
    shape, dtype, weighted, fit_intercept, positive, model, alpha_fraction=0.05
):
    """make_regression_data(*SHAPES[shape]) cast to dtype, alpha = alpha_fraction *
    alpha_max, with scikit-learn's solution at tol=1e-14 (cached: arrays are shared,
    do not modify them)."""
    X, y, sw = make_regression_data(*SHAPES[shape])
    X, y = X.astype(dtype), y.astype(dtype)
    sw = sw.astype(dtype) if weighted else None
    l1_ratio = L1_RATIOS[model]
    alpha = alpha_fraction * alpha_max(X, y, sw, fit_intercept, l1_ratio, positive)
    ref = sklearn_fit(
        model,
        X,
        y,
        alpha=alpha,
        l1_ratio=l1_ratio,
        sample_weight=sw,
        fit_intercept=fit_intercept,
        positive=positive,
    )
    P = objective(X, y, ref.coef_, ref.intercept_, alpha, l1_ratio, sw)
    for a in (X, y, sw):
        if a is not None:
            a.flags.writeable = False
    return Problem(
        X,
        y,
        sw,
        alpha,
        l1_ratio,
        fit_intercept,
        positive,
        ref.coef_,
        float(ref.intercept_),
        P,
        y_scale(y, sw, fit_intercept),
    )


@pytest.fixture(scope="session")
def dask_client():
    """A distributed Client on a LocalCluster of 2 worker processes with 1 thread and
    600 MiB each, shared by the tests of fastlasso.dask (tests/test_dask*.py)."""
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      memory_limit="600MiB", dashboard_address=None) as cluster:
        with Client(cluster) as client:
            yield client
