"""C-ordered dense X (numpy's default) gives the Fortran-ordered answer.

C-ordered X is read in place by kernels of its own (the "cdense" layout: gradients by
row sweeps, Gram blocks gathered row by row, restricted solves on packed copies of the
working set's columns), so the Fortran layout is an independent reference for it: the
same problem solved to a tight tolerance in both orders must agree to that tolerance,
whatever the route (Gram blocks on a tall problem, packed columns on a wide one, the
full Gram matrix), with intercept, sample weights, float32 and positive, for single
fits, paths and cross-validation. The input arrays are left as they were.
"""

import numpy as np
import pytest
from numpy.testing import assert_allclose

import fastlasso


def _problem(n, p, seed, dtype):
    """AR(1)-correlated design (rho = 0.5) with column means far from 0, 10 relevant
    features (7 positive, 3 negative: positive=True has an active set too)."""
    rng = np.random.default_rng(seed)
    Z = rng.standard_normal((n, p))
    X = np.empty((n, p))
    X[:, 0] = Z[:, 0]
    for j in range(1, p):
        X[:, j] = 0.5 * X[:, j - 1] + np.sqrt(0.75) * Z[:, j]
    X += 2.0
    beta = np.zeros(p)
    beta[:: max(p // 10, 1)][:10] = [2.0, 2.0, -1.0, 2.0, 2.0, -1.0, 2.0, 2.0, -1.0,
                                     2.0]
    y = 1.0 + X @ beta + 0.5 * rng.standard_normal(n)
    return X.astype(dtype), y.astype(dtype), rng.uniform(0.5, 2.0, n)


SHAPES = {"tall": (2000, 40), "wide": (80, 600)}


def _alpha_max(X, y, sw, fit_intercept):
    sw = np.ones(len(y)) if sw is None else sw
    Xc, yc = X.astype(np.float64), y.astype(np.float64)
    if fit_intercept:
        Xc = Xc - np.average(Xc, axis=0, weights=sw)
        yc = yc - np.average(yc, weights=sw)
    return np.abs(Xc.T @ (sw * yc)).max() / sw.sum()


def _fit_tol(dtype):
    # the tightest duality gap float32 arithmetic reaches reliably
    return 1e-7 if dtype == np.float32 else 1e-10


def _tol_for(dtype):
    # float32 data: the kernels' float32 arithmetic rounds differently per order
    return 2e-3 if dtype == np.float32 else 1e-6


@pytest.mark.parametrize("shape", sorted(SHAPES))
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("positive", [False, True])
@pytest.mark.parametrize("precompute", ["auto", False, True])
def test_fit_same_in_both_orders(shape, dtype, fit_intercept, weighted, positive,
                                 precompute):
    n, p = SHAPES[shape]
    X, y, sw = _problem(n, p, seed=3, dtype=dtype)
    sw = sw if weighted else None
    alpha = _alpha_max(X, y, sw, fit_intercept) / 15
    fits = {}
    for order in "FC":
        Xo = np.asarray(X, order=order)
        saved = Xo.copy(order="K")
        est = fastlasso.ElasticNet(alpha=alpha, l1_ratio=0.9, tol=_fit_tol(dtype),
                                   max_iter=100_000, fit_intercept=fit_intercept,
                                   positive=positive, precompute=precompute)
        est.fit(Xo, y, sample_weight=sw)
        assert np.array_equal(Xo, saved) and Xo.flags[order + "_CONTIGUOUS"]
        assert est.coef_.dtype == dtype
        fits[order] = est
    scale = max(np.abs(fits["F"].coef_).max(), 1.0)
    tol = _tol_for(dtype)
    assert np.count_nonzero(fits["F"].coef_) >= 3
    assert_allclose(fits["C"].coef_, fits["F"].coef_, atol=tol * scale, rtol=0)
    assert_allclose(fits["C"].intercept_, fits["F"].intercept_,
                    atol=tol * max(abs(fits["F"].intercept_), scale), rtol=0)
    if positive:
        assert fits["C"].coef_.min() >= 0


@pytest.mark.parametrize("shape", sorted(SHAPES))
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("positive", [False, True])
def test_path_same_in_both_orders(shape, dtype, positive):
    n, p = SHAPES[shape]
    X, y, _ = _problem(n, p, seed=4, dtype=dtype)
    y = y - y.mean()
    X = X - X.mean(axis=0)  # the path functions fit no intercept
    res = {}
    for order in "FC":
        Xo = np.asarray(X, order=order)
        saved = Xo.copy(order="K")
        res[order] = fastlasso.enet_path(Xo, y, l1_ratio=0.8, alphas=20, eps=1e-2,
                                         tol=_fit_tol(dtype), max_iter=100_000,
                                         positive=positive)
        assert np.array_equal(Xo, saved)
    alphas_f, coefs_f = res["F"][:2]
    alphas_c, coefs_c = res["C"][:2]
    assert_allclose(alphas_c, alphas_f, rtol=1e-5 if dtype == np.float32 else 1e-12)
    assert coefs_c.dtype == dtype
    scale = max(np.abs(coefs_f).max(), 1.0)
    assert np.count_nonzero(coefs_f[:, -1]) >= 5
    assert_allclose(coefs_c, coefs_f, atol=_tol_for(dtype) * scale, rtol=0)


@pytest.mark.parametrize("shape", sorted(SHAPES))
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("weighted", [False, True])
def test_cv_same_in_both_orders(shape, dtype, weighted):
    n, p = SHAPES[shape]
    X, y, sw = _problem(n, p, seed=5, dtype=dtype)
    sw = sw if weighted else None
    fits = {}
    for order in "FC":
        Xo = np.asarray(X, order=order)
        saved = Xo.copy(order="K")
        # (float32 folds of 80 x 600 reach no tighter gap than about 1e-4 relative)
        fits[order] = fastlasso.LassoCV(cv=3, alphas=15, eps=5e-2,
                                        tol=1e-4 if dtype == np.float32 else 1e-10,
                                        max_iter=100_000).fit(Xo, y, sample_weight=sw)
        assert np.array_equal(Xo, saved)
    f, c = fits["F"], fits["C"]
    tol = _tol_for(dtype)
    assert_allclose(c.alphas_, f.alphas_, rtol=1e-5 if dtype == np.float32 else 1e-12)
    scale = np.abs(f.mse_path_).max()
    assert_allclose(c.mse_path_, f.mse_path_, atol=tol * scale, rtol=0)
    assert_allclose(c.alpha_, f.alpha_, rtol=1e-5 if dtype == np.float32 else 1e-12)
    coef_scale = max(np.abs(f.coef_).max(), 1.0)
    assert_allclose(c.coef_, f.coef_, atol=tol * coef_scale, rtol=0)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_cv_fold_of_c_ordered_x_is_a_fortran_copy(dtype):
    """A CV fold copied from C-ordered X is copied into Fortran order (its path then
    runs on the column kernels): the same rows, in the order of ``train``, in a new
    array; tiles that do not divide the shape included."""
    from fastlasso._cv import fold_rows, rows_to_fortran

    X, _, sw = _problem(50, 23, seed=1, dtype=dtype)
    X = np.ascontiguousarray(X)
    saved = X.copy()
    train = np.random.default_rng(0).permutation(50)[:37]
    Xf, sw_f, rows = fold_rows(X, sw, train)
    assert Xf.flags.f_contiguous and Xf.dtype == dtype
    assert np.array_equal(Xf, X[train])
    assert not np.shares_memory(Xf, X)
    assert np.array_equal(sw_f, sw[train]) and np.array_equal(rows, train)
    tiled = rows_to_fortran(X, train, block=4)
    assert tiled.flags.f_contiguous and np.array_equal(tiled, X[train])
    assert np.array_equal(X, saved)



def test_path_gaps_certify_in_c_order():
    """Along a path on C-ordered X, a gradient pass that sweeps whole rows takes every
    gradient its bounds left inexact (the sweep computes them all): each alpha's
    reported gap must still bound the exact gap of its coefficients, P(w) - D(theta)
    at scikit-learn's dual point, computed here in numpy, and be within the
    tolerance. (A gradient marked exact but left stale loosens later bounds below the
    truth: violators are missed and the certificate is wrong.)"""
    rng = np.random.default_rng(1)
    n, p = 60, 1500
    X = np.ascontiguousarray(rng.standard_normal((n, p)))
    y = X[:, -10:] @ rng.standard_normal(10) + rng.standard_normal(n)
    y -= y.mean()
    tol = 1e-6
    alphas, coefs, gaps = fastlasso.lasso_path(X, y, alphas=50, eps=1e-2, tol=tol)[:3]
    scale = (y @ y) / n
    for alpha, w, reported in zip(alphas, coefs.T, gaps, strict=True):
        R = y - X @ w
        primal = R @ R / (2 * n) + alpha * np.abs(w).sum()
        theta = R / max(1.0, np.abs(X.T @ R).max() / (n * alpha))
        gap = primal - (y @ y - (y - theta) @ (y - theta)) / (2 * n)
        assert reported <= tol * scale
        assert gap <= reported + 1e-12 * scale
