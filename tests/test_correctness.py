"""fastlasso agrees with scikit-learn and with closed forms.

Reference: scikit-learn 1.9 fitted in float64 at tol=1e-14 (for float32 problems: on
the float32 data), so P_ref - P* <= 1e-14 * scale with scale = ||y - ybar||_S^2 / n.
fastlasso is fitted at tol (1e-10 in float64, 1e-6 in float32), so a converged fit has
P - P* <= tol * scale; objectives are computed by the independent float64 code of
conftest.py.
"""

import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose
from sklearn.exceptions import ConvergenceWarning

from conftest import (
    L1_RATIOS,
    LAYOUTS,
    SHAPES,
    alpha_max,
    as_layout,
    centred,
    make_regression_data,
    objective,
    reference_problem,
    rescaled_weights,
    y_scale,
)
from helpers import make_estimator

FIT_TOL = {np.float64: 1e-10, np.float32: 1e-6}
# coefficients: |w - w_ref| <= COEF_RTOL * max|w_ref| (float32: the issue's ~1e-3)
COEF_RTOL = {np.float64: 1e-6, np.float32: 1e-3}

DTYPES = pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
SHAPE = pytest.mark.parametrize("shape", list(SHAPES))
MODEL = pytest.mark.parametrize("model", list(L1_RATIOS))
FIT_INTERCEPT = pytest.mark.parametrize(
    "fit_intercept", [True, False], ids=["intercept", "no_intercept"]
)
WEIGHTED = pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "sw"])
POSITIVE = pytest.mark.parametrize(
    "positive", [False, True], ids=["signed", "positive"]
)


def assert_matches_reference(est, prob, dtype):
    """coef_, intercept_ and P(coef_, intercept_) against the scikit-learn reference."""
    rtol = COEF_RTOL[dtype]
    assert est.coef_.dtype == dtype
    scale_w = np.abs(prob.coef).max()
    assert_allclose(est.coef_, prob.coef, rtol=rtol, atol=rtol * scale_w)
    assert_allclose(
        est.intercept_, prob.intercept, rtol=rtol, atol=rtol * max(1.0, scale_w)
    )
    P = prob.objective(est.coef_, est.intercept_)
    roundoff = 1e-13 * prob.P
    # P* <= P_ref and P - P* <= tol * scale (converged fit)
    assert P - prob.P <= FIT_TOL[dtype] * prob.scale + roundoff
    # P >= P* >= P_ref - 1e-14 * scale (the reference's own certificate)
    assert P >= prob.P - 1e-14 * prob.scale - roundoff


@SHAPE
@DTYPES
@pytest.mark.parametrize("layout", LAYOUTS)
@FIT_INTERCEPT
@WEIGHTED
@POSITIVE
@MODEL
def test_matches_sklearn(
    shape, dtype, layout, fit_intercept, weighted, positive, model
):
    prob = reference_problem(shape, dtype, weighted, fit_intercept, positive, model)
    est = make_estimator(
        model,
        prob.alpha,
        prob.l1_ratio,
        fit_intercept=fit_intercept,
        positive=positive,
        tol=FIT_TOL[dtype],
        max_iter=10_000,
    )
    est.fit(as_layout(prob.X, layout), prob.y, sample_weight=prob.sample_weight)
    assert_matches_reference(est, prob, dtype)
    if positive:
        assert est.coef_.min() >= 0


@SHAPE
@DTYPES
@FIT_INTERCEPT
@WEIGHTED
@MODEL
@pytest.mark.parametrize("precompute", ["auto", True, False, "gram"])
def test_precompute_modes_give_the_same_solution(
    shape, dtype, fit_intercept, weighted, model, precompute
):
    """Every Gram mode, including a user Gram X~^T S X~ of centred, weighted data."""
    prob = reference_problem(shape, dtype, weighted, fit_intercept, False, model)
    if precompute == "gram":
        Xc, _, _, _ = centred(prob.X, prob.y, prob.sample_weight, fit_intercept)
        s = rescaled_weights(prob.sample_weight, Xc.shape[0])
        precompute = Xc.T @ (s[:, None] * Xc)
    est = make_estimator(
        model,
        prob.alpha,
        prob.l1_ratio,
        fit_intercept=fit_intercept,
        precompute=precompute,
        tol=FIT_TOL[dtype],
        max_iter=10_000,
    )
    est.fit(np.asfortranarray(prob.X), prob.y, sample_weight=prob.sample_weight)
    assert_matches_reference(est, prob, dtype)


# ---- alpha = 0: least squares


@FIT_INTERCEPT
@WEIGHTED
@pytest.mark.parametrize("layout", ["dense_F", "csc"])
@MODEL
def test_alpha_zero_is_least_squares(fit_intercept, weighted, layout, model):
    """alpha=0 warns (UserWarning, as scikit-learn) and gives the weighted least-squares
    solution of numpy's lstsq on [X, 1] (tall, full-rank data).

    At convergence ||X~^T S r|| <= sqrt(tol) ||y~||_S (scikit-learn's criterion for
    alpha=0), hence ||w - w_ls|| <= ||(X~^T S X~)^-1|| sqrt(tol) ||y~||_S and
    |b - b_ls| = |xbar^T (w - w_ls)| <= ||xbar|| ||w - w_ls||.
    """
    X, y, sw = make_regression_data(*SHAPES["tall"])
    sw = sw if weighted else None
    tol = 1e-12
    est = make_estimator(
        model,
        0.0,
        L1_RATIOS[model],
        fit_intercept=fit_intercept,
        tol=tol,
        max_iter=10_000,
    )
    with pytest.warns(UserWarning, match="alpha=0"):
        est.fit(as_layout(X, layout), y, sample_weight=sw)
    s = rescaled_weights(sw, X.shape[0])
    A = np.c_[X, np.ones(X.shape[0])] if fit_intercept else X
    sol = np.linalg.lstsq(A * np.sqrt(s)[:, None], y * np.sqrt(s), rcond=None)[0]
    Xc, yc, x_mean, _ = centred(X, y, sw, fit_intercept)
    inv_norm = 1 / np.linalg.eigvalsh(Xc.T @ (s[:, None] * Xc)).min()
    bound = inv_norm * np.sqrt(tol * (s @ (yc * yc))) * (1 + 1e-6)
    assert np.linalg.norm(est.coef_ - sol[: X.shape[1]]) <= bound
    if fit_intercept:
        assert_allclose(
            est.intercept_, sol[-1], atol=bound * np.linalg.norm(x_mean) + 1e-12
        )
    else:
        assert est.intercept_ == 0.0


# ---- alpha >= alpha_max: all zeros


@SHAPE
@pytest.mark.parametrize(
    ("dtype", "factor"),
    [
        (np.float64, 1.0),
        (np.float64, 1.001),
        (np.float64, 10.0),
        (np.float32, 1.001),
        (np.float32, 10.0),
    ],
    ids=["f64-alpha_max", "f64-1.001", "f64-10", "f32-1.001", "f32-10"],
)
@pytest.mark.parametrize("layout", ["dense_F", "csc"])
@FIT_INTERCEPT
@WEIGHTED
@POSITIVE
@MODEL
def test_alpha_above_alpha_max_gives_zeros(
    shape, dtype, factor, layout, fit_intercept, weighted, positive, model
):
    """For alpha >= alpha_max (computed independently, with weights and intercept) the
    solution is w = 0 exactly and the intercept is the weighted mean of y."""
    X, y, sw = make_regression_data(*SHAPES[shape])
    X, y = X.astype(dtype), y.astype(dtype)
    sw = sw if weighted else None
    l1_ratio = L1_RATIOS[model]
    amax = alpha_max(X, y, sw, fit_intercept, l1_ratio, positive)
    est = make_estimator(
        model,
        factor * amax,
        l1_ratio,
        fit_intercept=fit_intercept,
        positive=positive,
        tol=1e-12 if dtype == np.float64 else 1e-6,
    )
    est.fit(as_layout(X, layout), y, sample_weight=sw)
    assert np.all(est.coef_ == 0.0)
    ybar = np.average(y.astype(np.float64), weights=sw) if fit_intercept else 0.0
    assert_allclose(est.intercept_, ybar, rtol=10 * np.finfo(dtype).eps)


@SHAPE
@FIT_INTERCEPT
@WEIGHTED
@POSITIVE
@MODEL
def test_alpha_just_below_alpha_max_is_not_zero(
    shape, fit_intercept, weighted, positive, model
):
    """alpha_max is tight: at 0.99 alpha_max some coefficient is non-zero (so the
    all-zeros test above can fail)."""
    X, y, sw = make_regression_data(*SHAPES[shape])
    sw = sw if weighted else None
    l1_ratio = L1_RATIOS[model]
    amax = alpha_max(X, y, sw, fit_intercept, l1_ratio, positive)
    est = make_estimator(
        model,
        0.99 * amax,
        l1_ratio,
        fit_intercept=fit_intercept,
        positive=positive,
        tol=1e-12,
    )
    est.fit(X, y, sample_weight=sw)
    assert np.count_nonzero(est.coef_) >= 1


# ---- l1_ratio = 0: ridge in closed form


@SHAPE
@FIT_INTERCEPT
@WEIGHTED
@pytest.mark.parametrize("layout", ["dense_F", "csc"])
@pytest.mark.parametrize("precompute", ["auto", False])
def test_l1_ratio_zero_is_ridge(shape, fit_intercept, weighted, layout, precompute):
    """ElasticNet(l1_ratio=0) is ridge: w = (X~^T S X~ + n alpha I)^-1 X~^T S y~.

    P is alpha-strongly convex, so ||w - w*||^2 <= 2 (P - P*) / alpha
    <= 2 tol scale / alpha at convergence.
    """
    X, y, sw = make_regression_data(*SHAPES[shape])
    sw = sw if weighted else None
    alpha, tol = 0.5, 1e-12
    Xc, yc, x_mean, y_mean = centred(X, y, sw, fit_intercept)
    s = rescaled_weights(sw, X.shape[0])
    n, p = X.shape
    w = np.linalg.solve(
        Xc.T @ (s[:, None] * Xc) + n * alpha * np.eye(p), Xc.T @ (s * yc)
    )
    est = make_estimator(
        "ElasticNet",
        alpha,
        0.0,
        fit_intercept=fit_intercept,
        tol=tol,
        precompute=precompute,
        max_iter=10_000,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        est.fit(as_layout(X, layout), y, sample_weight=sw)
    bound = np.sqrt(2 * tol * y_scale(y, sw, fit_intercept) / alpha)
    assert np.linalg.norm(est.coef_ - w) <= bound * (1 + 1e-6) + 1e-12
    b = y_mean - x_mean @ w if fit_intercept else 0.0
    assert_allclose(est.intercept_, b, atol=bound * np.linalg.norm(x_mean) + 1e-12)
    assert (
        objective(X, y, est.coef_, est.intercept_, alpha, 0.0, sw)
        >= objective(X, y, w, b, alpha, 0.0, sw) - 1e-14
    )
