"""Optimality certificates checked in numpy, independently of the solver.

- KKT conditions of P at the returned w (conftest.kkt_violation), within the bound that
  a suboptimality of at most tol * scale implies (conftest.kkt_tolerance);
- dual_gap_ is an upper bound on P(coef_) - P*, and is <= tol * scale exactly when no
  ConvergenceWarning was raised;
- features that are strictly inactive at the optimum get coefficients exactly 0.0.

scale = ||y - ybar||_S^2 / n; P* is bracketed by scikit-learn's fit at tol=1e-14.
"""

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from conftest import (
    L1_RATIOS,
    SHAPES,
    as_layout,
    centred,
    correlations,
    kkt_tolerance,
    kkt_violation,
    reference_problem,
)
from helpers import make_estimator

DTYPES = pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
SHAPE = pytest.mark.parametrize("shape", list(SHAPES))
MODEL = pytest.mark.parametrize("model", list(L1_RATIOS))
LAYOUT = pytest.mark.parametrize("layout", ["dense_F", "csc"])
FIT_INTERCEPT = pytest.mark.parametrize(
    "fit_intercept", [True, False], ids=["intercept", "no_intercept"]
)
WEIGHTED = pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "sw"])
POSITIVE = pytest.mark.parametrize(
    "positive", [False, True], ids=["signed", "positive"]
)

KKT_TOL = {np.float64: 1e-12, np.float32: 1e-6}


def fit(prob, model, layout, **params):
    est = make_estimator(
        model,
        prob.alpha,
        prob.l1_ratio,
        fit_intercept=prob.fit_intercept,
        positive=prob.positive,
        **params,
    )
    return est.fit(as_layout(prob.X, layout), prob.y, sample_weight=prob.sample_weight)


def kkt_args(prob):
    return dict(
        alpha=prob.alpha,
        l1_ratio=prob.l1_ratio,
        sample_weight=prob.sample_weight,
        fit_intercept=prob.fit_intercept,
    )


@SHAPE
@DTYPES
@LAYOUT
@FIT_INTERCEPT
@WEIGHTED
@POSITIVE
@MODEL
def test_kkt_conditions(shape, dtype, layout, fit_intercept, weighted, positive, model):
    """w_j != 0: x~_j^T S r / n - alpha (1-rho) w_j = alpha rho sign(w_j);
    w_j == 0: |x~_j^T S r / n| <= alpha rho (positive: one-sided), up to the bound
    implied by P - P* <= tol * scale; and the intercept is optimal given w:
    b = ybar - xbar^T w (weighted means)."""
    prob = reference_problem(shape, dtype, weighted, fit_intercept, positive, model)
    tol = KKT_TOL[dtype]
    est = fit(prob, model, layout, tol=tol, max_iter=100_000)
    viol = kkt_violation(prob.X, prob.y, est.coef_, positive=positive, **kkt_args(prob))
    bound = kkt_tolerance(
        prob.X,
        tol * prob.scale,
        prob.alpha,
        prob.l1_ratio,
        prob.sample_weight,
        fit_intercept,
    )
    assert np.all(viol <= bound), np.max(viol / bound)
    _, _, x_mean, y_mean = centred(prob.X, prob.y, prob.sample_weight, fit_intercept)
    b = y_mean - x_mean @ est.coef_
    size = abs(y_mean) + np.abs(x_mean) @ np.abs(est.coef_)
    assert abs(est.intercept_ - b) <= 10 * np.finfo(dtype).eps * size


@MODEL
@POSITIVE
def test_kkt_check_detects_a_wrong_solution(model, positive):
    """The KKT check has teeth: the optimum for 1.05 alpha violates it at alpha by
    far more than its tolerance."""
    prob = reference_problem("wide", np.float64, True, True, positive, model)
    other = reference_problem(
        "wide", np.float64, True, True, positive, model, alpha_fraction=0.05 * 1.05
    )
    viol = kkt_violation(
        prob.X, prob.y, other.coef, positive=positive, **kkt_args(prob)
    )
    bound = kkt_tolerance(
        prob.X, 1e-12 * prob.scale, prob.alpha, prob.l1_ratio, prob.sample_weight, True
    )
    assert np.max(viol / bound) > 100


BUDGETS = [(1, 1e-4), (3, 1e-4), (10, 1e-6), (1000, 1e-2), (1000, 1e-4)]


@SHAPE
@DTYPES
@LAYOUT
@WEIGHTED
@POSITIVE
@MODEL
@pytest.mark.parametrize(
    ("max_iter", "tol"), BUDGETS, ids=[f"it{m}-tol{t:g}" for m, t in BUDGETS]
)
def test_dual_gap_bounds_suboptimality(
    shape, dtype, layout, weighted, positive, model, max_iter, tol
):
    """P(coef_, intercept_) - P* <= dual_gap_ whether or not the fit converged; a
    ConvergenceWarning is raised exactly when dual_gap_ > tol * scale."""
    prob = reference_problem(shape, dtype, weighted, True, positive, model)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        est = fit(prob, model, layout, tol=tol, max_iter=max_iter)
    warned = any(issubclass(w.category, ConvergenceWarning) for w in caught)
    roundoff = 10 * np.finfo(dtype).eps * prob.scale
    subopt = prob.objective(est.coef_, est.intercept_) - prob.P  # <= P - P*
    assert subopt <= est.dual_gap_ + roundoff
    assert est.dual_gap_ >= -roundoff
    if warned:
        assert est.dual_gap_ > tol * prob.scale * (1 - 1e-6)
    else:
        assert est.dual_gap_ <= tol * prob.scale * (1 + 1e-6)


@SHAPE
@DTYPES
@LAYOUT
@FIT_INTERCEPT
@WEIGHTED
@POSITIVE
@MODEL
@pytest.mark.parametrize("tol", [1e-4, 1e-6])
def test_zeros_are_exact(
    shape, dtype, layout, fit_intercept, weighted, positive, model, tol
):
    """Features strictly inactive at the optimum (|c_j| <= 0.9 alpha rho at the
    reference, c_j as in kkt_violation; irrelevant features here) get exactly 0.0, and
    clearly active ones (|w*_j| >= 1e-3 max|w*|) are non-zero."""
    prob = reference_problem(
        shape, dtype, weighted, fit_intercept, positive, model, alpha_fraction=0.2
    )
    c = correlations(prob.X, prob.y, prob.coef, prob.sample_weight, fit_intercept)
    c = np.maximum(c, 0.0) if positive else np.abs(c)
    inactive = c <= 0.9 * prob.alpha * prob.l1_ratio
    assert inactive.any()
    est = fit(prob, model, layout, tol=tol)
    assert np.all(est.coef_[inactive] == 0.0)
    active = np.abs(prob.coef) >= 1e-3 * np.abs(prob.coef).max()
    assert np.all(est.coef_[active] != 0.0)


def _exact_gap(X, y, w, alpha):
    """P(w) - D(theta) in exact rational arithmetic at the dual point scikit-learn's
    Lasso uses: theta = R / max(1, ||X^T R||_inf / (n alpha)), R = y - X w, with
    P(w) = ||R||^2 / (2n) + alpha ||w||_1 and D(theta) = (||y||^2 - ||y - theta||^2)
    / (2n). Returns the gap and the largest term, ||y||^2 / (2n)."""
    from fractions import Fraction

    n, p = X.shape
    Xq = [[Fraction(v) for v in row] for row in X.tolist()]
    yq = [Fraction(v) for v in y.tolist()]
    wq = [Fraction(v) for v in w.tolist()]
    aq = Fraction(alpha)
    R = [yq[i] - sum(Xq[i][j] * wq[j] for j in range(p)) for i in range(n)]
    primal = sum(r * r for r in R) / (2 * n) + aq * sum(abs(v) for v in wq)
    dual_norm = max(abs(sum(Xq[i][j] * R[i] for i in range(n))) for j in range(p))
    s = max(Fraction(1), dual_norm / (n * aq))
    dual = sum(yq[i] ** 2 - (yq[i] - R[i] / s) ** 2 for i in range(n)) / (2 * n)
    return float(primal - dual), float(sum(v * v for v in yq) / (2 * n))


@LAYOUT
@pytest.mark.parametrize("max_iter", [1, 2, 3, 1000])
def test_dual_gap_is_the_gap_at_coef(layout, max_iter):
    """dual_gap_ is P(coef_) - D(theta(coef_)), the gap scikit-learn's
    test_lasso_dual_gap writes in numpy, checked here in exact arithmetic: to rtol 1e-9
    when the fit stops early (the gap is far above rounding), and within rounding of
    the terms (8 eps ||y||^2 / 2n) always, also when the fit is exact and the gap is
    rounding itself (at max_iter=1000 the polished fit's exact gap is about 5e-16 of
    terms near 11, where no two float evaluations, fastlasso's or numpy's, agree to a
    relative tolerance)."""
    rng = np.random.RandomState(0)
    n, p = 10, 30
    X = rng.randn(n, p)
    w_true = np.zeros(p)
    w_true[:5] = rng.randn(5)
    y = X @ w_true + 0.1 * rng.randn(n)
    alpha = 0.01 * np.max(np.abs(X.T @ y)) / n
    est = make_estimator("Lasso", alpha, 1.0, fit_intercept=False, max_iter=max_iter)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(as_layout(X, layout), y)
    gap, term = _exact_gap(X, y, est.coef_, alpha)
    assert abs(est.dual_gap_ - gap) <= 8 * np.finfo(np.float64).eps * term
    if max_iter < 1000:
        assert gap > 1e-6 * term  # an early stop, far from rounding
        np.testing.assert_allclose(est.dual_gap_, gap, rtol=1e-9)
