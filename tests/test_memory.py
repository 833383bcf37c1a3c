"""Fitting uses O(n + p) extra memory, never a copy of X (Fortran, C or CSC input).

Measured with tracemalloc, which sees every numpy allocation: the peak of traced
memory during ``fit`` above what was allocated before it. Two bounds, both far below
a copy: 16 float64 vectors of length n + p, and 10% of X.nbytes. A control case
(CSR) shows that the measurement does see the copy a layout change costs. C-ordered X
is read in place: by rows, and through Gram blocks or packed copies of the working
set's columns (numpy arrays, traced: O(n |working set|), far below X).

The kernels' C-level malloc (Gram caches: p^2 doubles for precompute=True, blocks of
the working sets for "auto") is not traced: the O(n + p) claim is for
precompute=False; benchmarks/memory_usage.py measures the Gram caches by peak RSS.

To cover a new estimator, add it to ESTIMATORS (see helpers.py).
"""

import tracemalloc

import numpy as np
import pytest
import scipy.sparse as sp
from threadpoolctl import threadpool_limits

import fastlasso

from helpers import entry_point

ESTIMATORS = {name: entry_point(name, l1_ratio=0.8) for name in ("Lasso", "ElasticNet")}
VECTORS = 16  # allowed extra float64 vectors of length n + p


@pytest.fixture(autouse=True)
def _single_threaded_blas():
    """Level-1 BLAS threads only slow these fits down on a busy machine (and
    allocate nothing traced): run them on one thread."""
    with threadpool_limits(limits=1, user_api="blas"):
        yield


def traced_peak(fn):
    """Peak traced memory (bytes) while fn() runs, above the memory held before."""
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        fn()
        return tracemalloc.get_traced_memory()[1] - before
    finally:
        tracemalloc.stop()


def _nbytes(X):
    if sp.issparse(X):
        return X.data.nbytes + X.indices.nbytes + X.indptr.nbytes
    return X.nbytes


@pytest.fixture(scope="module")
def dense():
    rng = np.random.default_rng(0)
    n, p = 20_000, 400
    X = np.asfortranarray(rng.standard_normal((n, p)))
    y = X[:, :10] @ rng.standard_normal(10) + rng.standard_normal(n)
    return X, y, rng.uniform(0.5, 2.0, n)


@pytest.fixture(scope="module")
def csc():
    rng = np.random.default_rng(1)
    n, p, per_col = 50_000, 5_000, 1_000
    indptr = np.arange(0, p * per_col + 1, per_col)
    indices = np.sort(rng.integers(0, n, (p, per_col)), axis=1).ravel()
    X = sp.csc_matrix((rng.standard_normal(p * per_col), indices, indptr), (n, p))
    X.sum_duplicates()
    y = X[:, :20] @ rng.standard_normal(20) + rng.standard_normal(n)
    return X, np.asarray(y), rng.uniform(0.5, 2.0, n)


def _assert_no_copy(peak, X):
    n, p = X.shape
    assert peak <= VECTORS * 8 * (n + p), f"{peak / 1e6:.2f} MB extra"
    assert peak <= 0.10 * _nbytes(X), f"{peak / _nbytes(X):.1%} of X"


@pytest.mark.parametrize("name", sorted(ESTIMATORS))
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("weighted", [False, True])
def test_dense_fortran_is_used_in_place(dense, name, dtype, fit_intercept, weighted):
    X, y, sw = dense
    X = np.asfortranarray(X, dtype=dtype)
    est = ESTIMATORS[name](alpha=0.05, precompute=False, fit_intercept=fit_intercept)
    peak = traced_peak(lambda: est.fit(X, y, sample_weight=sw if weighted else None))
    assert est.coef_.dtype == dtype and np.count_nonzero(est.coef_) > 0
    _assert_no_copy(peak, X)


@pytest.mark.parametrize("precompute", ["auto", True])
def test_gram_modes_do_not_copy_X_either(dense, precompute):
    """With Gram caches on, numpy still allocates only O(n + p) (the caches
    themselves are C allocations of O(p^2), not traced)."""
    X, y, _ = dense
    est = ESTIMATORS["Lasso"](alpha=0.05, precompute=precompute)
    _assert_no_copy(traced_peak(lambda: est.fit(X, y)), X)


@pytest.mark.slow  # 32 traced fits
@pytest.mark.parametrize("name", sorted(ESTIMATORS))
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("index_dtype", [np.int32, np.int64])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("weighted", [False, True])
def test_csc_is_used_in_place(csc, name, dtype, index_dtype, fit_intercept, weighted):
    """Implicit centring: an intercept costs no densified or shifted copy of X."""
    X, y, sw = csc
    X = sp.csc_matrix((X.data.astype(dtype), X.indices, X.indptr), X.shape)
    X.indices = X.indices.astype(index_dtype)  # set after construction: scipy
    X.indptr = X.indptr.astype(index_dtype)  # would narrow int64 to int32
    est = ESTIMATORS[name](alpha=0.01, fit_intercept=fit_intercept)
    peak = traced_peak(lambda: est.fit(X, y, sample_weight=sw if weighted else None))
    assert est.coef_.dtype == dtype and np.count_nonzero(est.coef_) > 0
    _assert_no_copy(peak, X)


def test_control_layout_change_is_seen(csc):
    """The measurement sees copies: CSR costs one CSC conversion (documented
    behaviour, not a leak: the peak is about one X)."""
    X, y, _ = csc
    X = X.tocsr()
    est = ESTIMATORS["Lasso"](alpha=0.05, precompute=False)
    peak = traced_peak(lambda: est.fit(X, y))
    assert 0.9 * _nbytes(X) <= peak <= 1.5 * _nbytes(X)


@pytest.fixture(scope="module")
def wide_c():
    """A C-ordered p >> n problem: restricted solves on packed columns."""
    rng = np.random.default_rng(2)
    n, p = 200, 20_000
    X = rng.standard_normal((n, p))
    y = X[:, :20] @ rng.standard_normal(20) + rng.standard_normal(n)
    return X, y, rng.uniform(0.5, 2.0, n)


@pytest.mark.parametrize("name", sorted(ESTIMATORS))
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("precompute", ["auto", False, True])
def test_dense_c_order_is_used_in_place(dense, name, dtype, fit_intercept, weighted,
                                        precompute):
    """C-ordered (numpy's default) n >> p data: no copy, whatever the Gram mode."""
    X, y, sw = dense
    X = np.ascontiguousarray(X, dtype=dtype)
    est = ESTIMATORS[name](alpha=0.05, precompute=precompute,
                           fit_intercept=fit_intercept)
    peak = traced_peak(lambda: est.fit(X, y, sample_weight=sw if weighted else None))
    assert est.coef_.dtype == dtype and np.count_nonzero(est.coef_) > 0
    _assert_no_copy(peak, X)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("weighted", [False, True])
def test_wide_c_order_packs_only_the_working_sets(wide_c, dtype, weighted):
    """C-ordered p >> n data: the packed working-set columns cost little next to X
    (the kernel's O(p) buffers, the same in both orders, are most of the peak), and
    the fit is the Fortran one, to the tolerance."""
    X, y, sw = wide_c
    sw = sw if weighted else None
    amax = np.abs(X.T @ (y - y.mean())).max() / len(y)
    fits, peaks = {}, {}
    for order in "CF":
        Xo = np.asarray(X, dtype=dtype, order=order)
        est = ESTIMATORS["Lasso"](alpha=amax / 20, tol=1e-8)
        peaks[order] = traced_peak(
            lambda est=est, Xo=Xo: est.fit(Xo, y, sample_weight=sw))
        assert np.count_nonzero(est.coef_) > 20
        fits[order] = est.coef_
    assert peaks["C"] <= peaks["F"] + 0.05 * _nbytes(Xo), peaks
    scale = np.abs(fits["F"]).max()
    tol = 1e-3 if dtype == np.float32 else 1e-6
    np.testing.assert_allclose(fits["C"], fits["F"], atol=tol * scale)


@pytest.mark.parametrize("call", ["lasso_path", "LassoCV"])
def test_c_order_path_and_cv_cost_what_fortran_costs(dense, call):
    """A path and a cross-validation on C-ordered X take no copy of X: their peak is
    the Fortran-ordered one (plus a little: row blocks read in another order)."""
    X, y, _ = dense
    y = y - y.mean()
    run = {
        "lasso_path": lambda Xo: fastlasso.lasso_path(Xo, y, alphas=30),
        "LassoCV": lambda Xo: fastlasso.LassoCV(cv=3, alphas=30).fit(Xo, y),
    }[call]
    peaks = {}
    for order in "FC":
        Xo = np.asarray(X, order=order)
        peaks[order] = traced_peak(lambda Xo=Xo: run(Xo))
    assert peaks["C"] <= peaks["F"] + 0.02 * _nbytes(X), peaks
    if call == "lasso_path":  # CV's GramFolds read rows in blocks of 4096 (fixed
        # size, about 0.4 x this X in both orders; a few % of benchmarks' 400,000 rows)
        assert peaks["C"] <= 0.10 * _nbytes(X), f"{peaks['C'] / _nbytes(X):.1%} of X"


@pytest.fixture(scope="module")
def logistic_c():
    """A C-ordered classification problem with p large enough that the working sets
    (support ~10) are a small share of the columns."""
    rng = np.random.default_rng(3)
    n, p = 4_000, 1_500
    X = rng.standard_normal((n, p))
    z = X[:, :10] @ rng.uniform(0.5, 1.5, 10)
    y = (rng.uniform(size=n) < 1 / (1 + np.exp(-z))).astype(int)
    return X, y, rng.uniform(0.5, 2.0, n)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("multinomial", [False, True])
@pytest.mark.parametrize("weighted", [False, True])
def test_logistic_reads_c_order_in_place(logistic_c, dtype, multinomial, weighted):
    """LogisticRegression on C-ordered X takes no copy of X: the prox-Newton kernels
    read it by rows and solve on packed working-set columns (a Fortran copy would
    show as a peak of about X.nbytes); the fit is the Fortran one."""
    X, y, sw = logistic_c
    if multinomial:
        y = y + (X[:, 10] > 1)  # a third class
    sw = sw if weighted else None
    fits, peaks = {}, {}
    # C = 3 C_min: a sparse model (C_min: the grid of a one-point path)
    C = 3 * fastlasso.logistic_path(X, y, Cs=1, sample_weight=sw)[0][0]
    for order in "CF":
        Xo = np.asarray(X, dtype=dtype, order=order)
        est = fastlasso.LogisticRegression(
            C=C, l1_ratio=1.0, tol=1e-8 if dtype == np.float64 else 1e-5)
        peaks[order] = traced_peak(
            lambda est=est, Xo=Xo: est.fit(Xo, y, sample_weight=sw))
        assert 0 < np.count_nonzero(est.coef_) < 0.25 * est.coef_.size
        fits[order] = est.coef_
    # the pack: up to twice the largest working set (it grows by doubling): 3-5% of X
    # here
    assert peaks["C"] <= 0.15 * _nbytes(Xo), f"{peaks['C'] / _nbytes(Xo):.1%} of X"
    assert peaks["C"] <= peaks["F"] + 0.10 * _nbytes(Xo), peaks
    tol = 1e-3 if dtype == np.float32 else 1e-6
    np.testing.assert_allclose(fits["C"], fits["F"], atol=tol * np.abs(fits["F"]).max())


def test_logistic_path_reads_c_order_in_place(logistic_c):
    """A path on C-ordered X: one pack for all its solves, no copy of X."""
    X, y, _ = logistic_c
    peaks = {}
    for order in "FC":
        Xo = np.asarray(X, order=order)
        peaks[order] = traced_peak(lambda Xo=Xo: fastlasso.logistic_path(
            Xo, y, Cs=15, eps=0.1, l1_ratio=1.0))
    assert peaks["C"] <= 0.15 * _nbytes(X), f"{peaks['C'] / _nbytes(X):.1%} of X"
    assert peaks["C"] <= peaks["F"] + 0.10 * _nbytes(X), peaks


@pytest.mark.parametrize("order", ["F", "C"])
@pytest.mark.parametrize("weighted", [False, True])
def test_cv_on_n_much_larger_than_p_keeps_few_vectors_of_n(order, weighted):
    """LassoCV on dense n >> p data runs its folds from sufficient statistics
    (_cv.GramFolds): what it holds of length n is the folds' test indices (int32;
    their training rows are let go), y shifted, one fold's weights and y_c at a time
    (none of ones without sample weights), the refit's y_c and the kernels' O(n)
    buffers. Measured: 7.6 float64 vectors of n (8.5 with sample weights); before:
    14.1 (13.0), the folds' int64 indices 5 of them. Bound 8.75, which is 8.75% of X
    at p = 100."""
    rng = np.random.default_rng(4)
    n, p = 200_000, 10
    X = np.asarray(rng.standard_normal((n, p)), order=order)
    y = X[:, :3] @ np.ones(3) + rng.standard_normal(n)
    sw = rng.uniform(0.5, 2.0, n) if weighted else None
    est = fastlasso.LassoCV(cv=5, alphas=10)
    peak = traced_peak(lambda: est.fit(X, y, sample_weight=sw))
    assert np.count_nonzero(est.coef_) >= 3
    assert peak <= 8.75 * 8 * n, f"{peak / (8 * n):.2f} vectors of n"
