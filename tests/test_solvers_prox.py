"""The full-gradient solvers: subgradient descent (the textbook method), ISTA and FISTA.

References are independent of the code under test: scikit-learn at tol=1e-14, the
closed-form ridge solution, numpy's eigenvalues, numpy re-implementations of the
textbook update rules, and the objective / optimality conditions recomputed in numpy:

    P(w, b) = 1/(2n) sum_i s_i (y_i - x_i w - b)^2 + alpha rho ||w||_1
              + alpha (1 - rho)/2 ||w||^2     (s: weights rescaled to sum to n).
"""

import functools
import os
import signal
import threading
import traceback
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
import sklearn.linear_model as sk
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils._param_validation import InvalidParameterError

import fastlasso
from fastlasso._data import make_design
from fastlasso._solve import lipschitz_constant, solve_prox

from conftest import as_layout, make_regression_data

# ------------------------------------------------------------------------------------
# numpy references


def _weights(sw, n):
    return np.ones(n) if sw is None else np.asarray(sw, np.float64) * n / np.sum(sw)


def _centred(X, y, sw, fit_intercept):
    X = np.asarray(X.toarray() if sp.issparse(X) else X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    s = _weights(sw, X.shape[0])
    if not fit_intercept:
        return X, y, s
    return X - s @ X / s.sum(), y - s @ y / s.sum(), s


def _objective(X, y, coef, alpha, l1_ratio, sw, fit_intercept):
    """P at coef with the optimal intercept (the centred problem)."""
    Xc, yc, s = _centred(X, y, sw, fit_intercept)
    w = np.asarray(coef, dtype=np.float64)
    r = yc - Xc @ w
    n = Xc.shape[0]
    return (s @ (r * r) / (2 * n) + alpha * l1_ratio * np.abs(w).sum()
            + alpha * (1 - l1_ratio) / 2 * (w @ w))


def _scale(y, sw, fit_intercept):
    """||y - ybar||_S^2 / n: the unit of tol."""
    _, yc, s = _centred(np.zeros((len(y), 1)), y, sw, fit_intercept)
    return s @ (yc * yc) / len(y)


def _alpha_max(X, y, sw, fit_intercept, l1_ratio=1.0):
    Xc, yc, s = _centred(X, y, sw, fit_intercept)
    return np.abs(Xc.T @ (s * yc)).max() / (Xc.shape[0] * l1_ratio)


def _kkt_violation(X, y, coef, alpha, l1_ratio, sw, fit_intercept, positive):
    """max_j violation of the optimality conditions at coef (see test docstrings)."""
    Xc, yc, s = _centred(X, y, sw, fit_intercept)
    w = np.asarray(coef, dtype=np.float64)
    c = Xc.T @ (s * (yc - Xc @ w)) / Xc.shape[0] - alpha * (1 - l1_ratio) * w
    lam = alpha * l1_ratio
    zero = np.maximum((c if positive else np.abs(c)) - lam, 0.0)
    return np.where(w != 0, np.abs(c - lam * np.sign(w)), zero).max()


def _data(n, p, seed=0, density=0.4):
    """Sparse-ish data with non-zero column means, an offset and 5 relevant features."""
    return make_regression_data(n, p, seed=seed, density=density)


@functools.cache
def _reference(model, weighted, fit_intercept, positive, shape=(50, 30)):
    """(X, y, sw, alpha, l1_ratio, scikit-learn's coef at tol=1e-14, P*) in float64."""
    X, y, sw = _data(*shape)
    sw = sw if weighted else None
    l1_ratio = 1.0 if model == "Lasso" else 0.5
    alpha = 0.1 * _alpha_max(X, y, sw, fit_intercept, l1_ratio)
    params = {"alpha": alpha, "fit_intercept": fit_intercept, "positive": positive,
              "tol": 1e-14, "max_iter": 200_000}
    if model == "ElasticNet":
        params["l1_ratio"] = l1_ratio
    ref = getattr(sk, model)(**params).fit(X, y, sample_weight=sw)
    P = _objective(X, y, ref.coef_, alpha, l1_ratio, sw, fit_intercept)
    return X, y, sw, alpha, l1_ratio, ref.coef_, P


def _fit(model, X, y, sw, alpha, l1_ratio, **params):
    if model == "ElasticNet":
        params["l1_ratio"] = l1_ratio
    return getattr(fastlasso, model)(alpha=alpha, **params).fit(X, y, sample_weight=sw)


# ------------------------------------------------------------------------------------
# ISTA / FISTA: the same solution as coordinate descent, certified by the same gap


@pytest.mark.parametrize("solver", ["fista", "ista"])
@pytest.mark.parametrize("layout", ["dense", "csr", "csc64"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("positive", [False, True])
@pytest.mark.parametrize("model", ["Lasso", "ElasticNet"])
def test_proximal_solvers_reach_the_coordinate_descent_solution(
    solver, layout, dtype, fit_intercept, weighted, positive, model
):
    X, y, sw, alpha, l1_ratio, coef_ref, P_ref = _reference(
        model, weighted, fit_intercept, positive
    )
    tol = 1e-10 if dtype == np.float64 else 1e-5
    Xl = as_layout(X.astype(dtype), layout)
    common = {"fit_intercept": fit_intercept, "positive": positive, "tol": tol,
              "max_iter": 20_000}
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        est = _fit(model, Xl, y.astype(dtype), sw, alpha, l1_ratio, solver=solver,
                   **common)
        cd = _fit(model, Xl, y.astype(dtype), sw, alpha, l1_ratio, solver="cd",
                  **common)
    assert est.coef_.dtype == dtype
    scale = _scale(y, sw, fit_intercept)
    # the gap asked for, and a true upper bound on the suboptimality
    assert est.dual_gap_ <= tol * scale
    P = _objective(X, y, est.coef_, alpha, l1_ratio, sw, fit_intercept)
    slack = 1e-12 * scale if dtype == np.float64 else 1e-5 * scale
    assert P_ref - slack <= P <= P_ref + est.dual_gap_ + slack
    rtol = 1e-6 if dtype == np.float64 else 2e-3
    atol = rtol * np.abs(coef_ref).max()
    np.testing.assert_allclose(est.coef_, coef_ref, rtol=rtol, atol=atol)
    np.testing.assert_allclose(est.coef_, cd.coef_, rtol=rtol, atol=atol)
    # proximal steps give exact zeros: the same support as the reference
    if dtype == np.float64:
        np.testing.assert_array_equal(est.coef_ != 0, np.abs(coef_ref) > 1e-10)
    if positive:
        assert (est.coef_ >= 0).all()
    intercept_ref = 0.0
    if fit_intercept:
        s = _weights(sw, len(y))
        intercept_ref = s @ (y - X @ coef_ref) / s.sum()
    np.testing.assert_allclose(est.intercept_, intercept_ref, rtol=rtol, atol=atol)


@pytest.mark.parametrize("solver", ["fista", "ista"])
@pytest.mark.parametrize("layout", ["dense", "csr"])
def test_proximal_solvers_satisfy_optimality_conditions_on_wide_data(solver, layout):
    # p >> n: KKT at the returned point (independent of any reference solver).
    # c_j = x~_j^T r / n must equal alpha sign(w_j) on the support and be <= alpha off
    # it.
    X, y, _ = _data(40, 150, seed=3)
    alpha = 0.05 * _alpha_max(X, y, None, True)
    est = fastlasso.Lasso(alpha=alpha, solver=solver, tol=1e-12, max_iter=100_000)
    est.fit(as_layout(X, layout), y)
    assert _kkt_violation(X, y, est.coef_, alpha, 1.0, None, True, False) < 1e-5 * alpha
    assert 0 < np.count_nonzero(est.coef_) < 40


@pytest.mark.parametrize("solver", ["fista", "ista", "subgradient"])
@pytest.mark.parametrize("layout", ["dense", "csr"])
def test_ridge_limit_matches_the_closed_form(solver, layout):
    # l1_ratio = 0: w = (X~^T S X~ + n alpha I)^-1 X~^T S y~ (no L1 part: the
    # subgradient method is plain gradient descent there and converges too)
    X, y, sw = _data(60, 8, seed=4)
    alpha = 0.3
    Xc, yc, s = _centred(X, y, sw, True)
    w_ref = np.linalg.solve(Xc.T @ (s[:, None] * Xc) + 60 * alpha * np.eye(8),
                            Xc.T @ (s * yc))
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        est = fastlasso.ElasticNet(alpha=alpha, l1_ratio=0.0, solver=solver, tol=1e-12,
                                   max_iter=100_000, step_schedule="constant")
        est.fit(as_layout(X, layout), y, sample_weight=sw)
    np.testing.assert_allclose(est.coef_, w_ref, rtol=1e-5)


def test_multi_target_fits_each_target():
    X, y, _ = _data(50, 20, seed=5)
    Y = np.column_stack([y, -2 * y + 1])
    est = fastlasso.Lasso(alpha=0.1, solver="fista", tol=1e-10).fit(X, Y)
    for k in range(2):
        ref = sk.Lasso(alpha=0.1, tol=1e-14, max_iter=100_000).fit(X, Y[:, k])
        np.testing.assert_allclose(est.coef_[k], ref.coef_, rtol=1e-6, atol=1e-8)
    assert len(est.n_iter_) == 2 and est.n_thresholded_ == [0, 0]


@pytest.mark.parametrize("solver", ["fista", "ista", "subgradient"])
def test_warm_start_from_the_solution_stops_at_once(solver):
    X, y, _ = _data(50, 20, seed=6)
    est = fastlasso.Lasso(alpha=0.1, solver="cd", tol=1e-12).fit(X, y)
    est.set_params(solver=solver, warm_start=True, tol=1e-6).fit(X, y)
    assert est.n_iter_ == 0


def test_not_converged_warns_with_the_gap_and_the_tolerance():
    X, y, _ = _data(40, 150, seed=3)
    est = fastlasso.Lasso(alpha=0.01, solver="fista", max_iter=3, tol=1e-10)
    with pytest.warns(ConvergenceWarning, match=r"^Objective did not converge\. .*"
                      r"Duality gap: \S+, tolerance: \S+ \(tol=1e-10 .*after 3 "
                      r"iterations\."):
        est.fit(X, y)
    assert est.n_iter_ == 3
    assert est.dual_gap_ > 1e-10 * _scale(y, None, True)


# ------------------------------------------------------------------------------------
# the subgradient method: approaches P*, leaves tiny nonzeros, threshold zeroes them


@pytest.mark.parametrize("layout", ["dense", "csr", "csc64"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("model", ["Lasso", "ElasticNet"])
def test_subgradient_approaches_the_optimum_without_exact_zeros(
    layout, dtype, weighted, model
):
    X, y, sw, alpha, l1_ratio, coef_ref, P_ref = _reference(
        model, weighted, True, False
    )
    Xl = as_layout(X.astype(dtype), layout)
    # the Euclidean Polyak step (the diagonal one, the default, reaches this tol on
    # some of these cases)
    params = {"solver": "subgradient", "tol": 1e-12, "max_iter": 20_000,
              "step_schedule": "polyak"}
    with pytest.warns(ConvergenceWarning, match="subgradient method converges slowly"):
        raw = _fit(model, Xl, y.astype(dtype), sw, alpha, l1_ratio, **params)
    P = _objective(X, y, raw.coef_, alpha, l1_ratio, sw, True)
    # stated accuracy after 20000 iterations: relative suboptimality below 1e-3
    assert P_ref <= P <= P_ref * (1 + 1e-3)
    assert P - P_ref <= raw.dual_gap_ * (1 + 1e-6)
    zero_ref = coef_ref == 0
    assert zero_ref.sum() >= 10
    # the weights that should be zero are small but (almost all) not exactly zero
    threshold = 0.3 * np.abs(coef_ref[~zero_ref]).min()
    assert np.abs(raw.coef_[zero_ref]).max() < threshold
    assert np.count_nonzero(raw.coef_[zero_ref]) >= zero_ref.sum() - 2
    assert raw.n_thresholded_ == 0

    with pytest.warns(ConvergenceWarning):
        thr = _fit(model, Xl, y.astype(dtype), sw, alpha, l1_ratio,
                   threshold=threshold, **params)
    small = (raw.coef_ != 0) & (np.abs(raw.coef_) < threshold)
    assert thr.n_thresholded_ == small.sum()
    np.testing.assert_array_equal(thr.coef_, np.where(small, 0, raw.coef_))
    # thresholding recovers the support of the exact solution here
    np.testing.assert_array_equal(thr.coef_ != 0, ~zero_ref)
    P_thr = _objective(X, y, thr.coef_, alpha, l1_ratio, sw, True)
    assert P_thr - P_ref <= thr.dual_gap_ * (1 + 1e-6)


@pytest.mark.parametrize("layout", ["dense", "csr"])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("positive", [False, True])
@pytest.mark.parametrize("schedule", ["decaying", "constant"])
def test_subgradient_iterates_follow_the_textbook_rule(
    layout, fit_intercept, weighted, positive, schedule
):
    # numpy: w <- w - eta_k (grad MSE-part + lambda1 sign(w) + lambda2 w), sign(0) = 0,
    # projected on w >= 0 if positive, eta_k = eta_0/sqrt(k+1) or eta_0; best iterate
    # kept
    X, y, sw = _data(30, 12, seed=7)
    sw = sw if weighted else None
    alpha, l1_ratio, eta0, k_max = 0.05, 0.7, 0.2, 25
    Xc, yc, s = _centred(X, y, sw, fit_intercept)
    n = len(y)
    w = np.zeros(12)
    best, w_best = np.inf, w
    for k in range(k_max + 1):
        P = _objective(X, y, w, alpha, l1_ratio, sw, fit_intercept)
        if P < best:
            best, w_best = P, w.copy()
        g = -Xc.T @ (s * (yc - Xc @ w)) / n
        g = g + alpha * l1_ratio * np.sign(w) + alpha * (1 - l1_ratio) * w
        eta = eta0 / np.sqrt(k + 1) if schedule == "decaying" else eta0
        w = w - eta * g
        if positive:
            w = np.maximum(w, 0)
    design = make_design(as_layout(X, layout), sw, fit_intercept)
    yc_k, _ = design.center(y)
    with pytest.warns(ConvergenceWarning):
        sol = solve_prox(design, yc_k, alpha, l1_ratio, method="subgradient", tol=0.0,
                         max_iter=k_max, positive=positive, step_size=eta0,
                         step_schedule=schedule)
    np.testing.assert_allclose(sol.coef, w_best, rtol=1e-10, atol=1e-12)
    assert sol.n_iter == k_max


@pytest.mark.parametrize("layout", ["dense", "csr"])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("positive", [False, True])
def test_ista_iterates_follow_soft_thresholding(layout, weighted, positive):
    # numpy: w <- S(w - grad/L, lambda1/L) / (1 + lambda2/L),
    # L = lambda_max(X~^T S X~)/n
    X, y, sw = _data(30, 12, seed=8)
    sw = sw if weighted else None
    alpha, l1_ratio, k_max = 0.05, 0.7, 15
    Xc, yc, s = _centred(X, y, sw, True)
    n = len(y)
    L = np.linalg.eigvalsh(Xc.T @ (s[:, None] * Xc) / n).max()
    w = np.zeros(12)
    for _ in range(k_max):
        v = w + Xc.T @ (s * (yc - Xc @ w)) / n / L
        thr = alpha * l1_ratio / L
        u = np.maximum(v - thr, 0) if positive else np.sign(v) * np.maximum(
            np.abs(v) - thr, 0)
        w = u / (1 + alpha * (1 - l1_ratio) / L)
    design = make_design(as_layout(X, layout), sw, True)
    yc_k, _ = design.center(y)
    with pytest.warns(ConvergenceWarning):
        sol = solve_prox(design, yc_k, alpha, l1_ratio, method="ista", tol=0.0,
                         max_iter=k_max, positive=positive, lipschitz=L)
    np.testing.assert_allclose(sol.coef, w, rtol=1e-10, atol=1e-12)


def test_subgradient_constant_step_returns_the_best_iterate():
    # with a constant step the objective does not decrease monotonically: the returned
    # point is the best one recorded, and the last history row describes it
    X, y, _ = _data(50, 40, seed=9)
    alpha = 0.1 * _alpha_max(X, y, None, True)
    with pytest.warns(ConvergenceWarning):
        est = fastlasso.Lasso(alpha=alpha, solver="subgradient",
                              step_schedule="constant", max_iter=300,
                              record_history=True).fit(X, y)
    h = est.objective_history_
    P = _objective(X, y, est.coef_, alpha, 1.0, None, True)
    assert np.any(np.diff(h[:-1, 1]) > 0)  # not monotone
    np.testing.assert_allclose(P, h[:-1, 1].min(), rtol=1e-10)
    np.testing.assert_allclose(h[-1, 1], P, rtol=1e-10)


# ------------------------------------------------------------------------------------
# Lipschitz constant and objective history


@pytest.mark.parametrize("layout", ["dense", "csr", "csc64"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("shape", [(80, 30), (30, 80)])
def test_power_iteration_matches_the_largest_eigenvalue(
    layout, dtype, fit_intercept, weighted, shape
):
    X, _, sw = _data(*shape, seed=10)
    sw = sw if weighted else None
    Xc, _, s = _centred(X, np.zeros(shape[0]), sw, fit_intercept)
    expected = np.linalg.eigvalsh(Xc.T @ (s[:, None] * Xc) / shape[0]).max()
    design = make_design(as_layout(X.astype(dtype), layout), sw, fit_intercept)
    L = lipschitz_constant(design)
    np.testing.assert_allclose(L, expected, rtol=1e-3 if dtype == np.float64 else 2e-3)
    assert L <= expected * (1 + (1e-12 if dtype == np.float64 else 1e-5))


def test_power_iteration_is_a_lower_bound_close_on_a_clustered_spectrum():
    # Gaussian p >> n: lambda_2 / lambda_1 ~ 0.95, the hard case for power iteration
    X = np.random.default_rng(12).standard_normal((100, 1000))
    Xc = X - X.mean(0)
    expected = np.linalg.eigvalsh(Xc @ Xc.T / 100).max()
    L = lipschitz_constant(make_design(X, None, True))
    assert expected * (1 - 1e-3) <= L <= expected * (1 + 1e-12)


@pytest.mark.parametrize("solver", ["fista", "ista"])
@pytest.mark.parametrize("layout", ["dense", "csr"])
def test_too_small_lipschitz_constant_is_raised_by_backtracking(solver, layout):
    # step 1/L with L = lambda_max / 20 would diverge; the descent-lemma check raises L
    # (never above 1.1 lambda_max) and the solve converges to the reference
    X, y, sw, alpha, _l1_ratio, coef_ref, _ = _reference("Lasso", True, True, False)
    Xc, _, s = _centred(X, y, sw, True)
    lam = np.linalg.eigvalsh(Xc.T @ (s[:, None] * Xc) / len(y)).max()
    design = make_design(as_layout(X, layout), sw, True)
    yc, _ = design.center(y)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        sol = solve_prox(design, yc, alpha, method=solver, tol=1e-10, max_iter=20_000,
                         lipschitz=lam / 20)
    assert sol.info["n_backtracks"] >= 1
    assert lam / 20 < sol.info["lipschitz"] <= 1.1 * lam
    np.testing.assert_allclose(sol.coef, coef_ref, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("solver", ["fista", "ista", "subgradient"])
@pytest.mark.parametrize("layout", ["dense", "csr"])
def test_history_rows_are_iterations_objectives_and_true_gap_bounds(solver, layout):
    X, y, sw, alpha, l1_ratio, _, P_ref = _reference("ElasticNet", True, True, False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est = _fit("ElasticNet", as_layout(X, layout), y, sw, alpha, l1_ratio,
                   solver=solver, tol=1e-8, max_iter=500, record_history=True)
    h = est.objective_history_
    assert h.shape[1] == 3
    n_rows = est.n_iter_ + (2 if solver == "subgradient" else 1)
    assert h.shape[0] == n_rows
    np.testing.assert_array_equal(h[: est.n_iter_ + 1, 0], np.arange(est.n_iter_ + 1))
    # every objective is >= P*, every recorded gap bounds its iterate's suboptimality
    assert (h[:, 1] >= P_ref * (1 - 1e-12)).all()
    has_gap = ~np.isnan(h[:, 2])
    assert has_gap[::10].all() and has_gap[-1]
    assert (h[has_gap, 1] - P_ref <= h[has_gap, 2] * (1 + 1e-9) + 1e-15).all()
    # the last row is the returned model
    P = _objective(X, y, est.coef_, alpha, l1_ratio, sw, True)
    np.testing.assert_allclose(h[-1, 1], P, rtol=1e-10)
    np.testing.assert_allclose(h[-1, 2], est.dual_gap_, rtol=1e-6)


def test_fista_needs_fewer_iterations_than_ista():
    X, y, _ = _data(40, 150, seed=3)
    alpha = 0.05 * _alpha_max(X, y, None, True)
    it = {s: fastlasso.Lasso(alpha=alpha, solver=s, tol=1e-8, max_iter=100_000)
          .fit(X, y).n_iter_ for s in ("fista", "ista")}
    assert it["fista"] < it["ista"] / 3


# ------------------------------------------------------------------------------------
# parameters


@pytest.mark.parametrize("params", [
    {"step_size": 0.0}, {"step_size": -1.0}, {"threshold": -1e-3},
    {"step_schedule": "linear"}, {"solver": "proximal"},
])
def test_invalid_solver_parameters_raise(params):
    X, y, _ = _data(20, 5)
    with pytest.raises(InvalidParameterError):
        fastlasso.Lasso(**params).fit(X, y)


def test_threshold_is_ignored_by_exact_solvers():
    X, y, _ = _data(50, 20, seed=11)
    a = fastlasso.Lasso(alpha=0.1, solver="fista", tol=1e-10).fit(X, y)
    b = fastlasso.Lasso(alpha=0.1, solver="fista", tol=1e-10, threshold=10.0).fit(X, y)
    np.testing.assert_array_equal(a.coef_, b.coef_)
    assert b.n_thresholded_ == 0 and np.count_nonzero(b.coef_) > 0


@pytest.mark.parametrize("solver", ["fista", "subgradient"])
def test_ctrl_c_interrupts_the_kernel(solver):
    # SIGINT 0.2 s into a fit of ~1 s: the KeyboardInterrupt must come out of the
    # kernel (its frame is in the traceback), not after a finished fit
    X, y, _ = _data(400, 300, seed=13)
    max_iter = 10_000 if solver == "fista" else 5_000
    est = fastlasso.Lasso(alpha=1e-4, solver=solver, tol=0.0, max_iter=max_iter)
    # Python's own SIGINT handler, whatever the runner inherited (a run started in the
    # background of a non-interactive shell ignores SIGINT, and Python then keeps it so)
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    timer = threading.Timer(0.2, os.kill, (os.getpid(), signal.SIGINT))
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt) as info:
            est.fit(X, y)
    finally:
        timer.cancel()
        signal.signal(signal.SIGINT, previous)
    frames = [f.filename for f in traceback.extract_tb(info.value.__traceback__)]
    assert any("_prox" in f for f in frames), frames


# ------------------------------------------------------------------------------------
# the subgradient method's Polyak step (the default step_schedule)


def test_polyak_first_step_is_the_textbook_update_with_the_gap_as_numerator():
    # from w_0 = 0 the target level is the dual objective of the certificate at w_0,
    # so eta_0 = gap(w_0) / ||g_0||^2 with g_0 = -X~^T S y~ / n (sign(0) = 0) and
    # w_1 = -eta_0 g_0; the gap at w_0 is the one a fit with max_iter=0 reports
    X, y, _ = _data(60, 20, seed=11)
    alpha = 0.2 * _alpha_max(X, y, None, True)
    Xc, yc, _ = _centred(X, y, None, True)
    design = make_design(np.asfortranarray(X), None, True)
    yc_k, _ = design.center(y)
    with pytest.warns(ConvergenceWarning):
        gap0 = solve_prox(design, yc_k, alpha, method="subgradient", tol=0.0,
                          max_iter=0, step_schedule="polyak").gap
    with pytest.warns(ConvergenceWarning):
        sol = solve_prox(design, yc_k, alpha, method="subgradient", tol=0.0,
                         max_iter=1, step_schedule="polyak")
    g0 = -Xc.T @ yc / len(y)
    w1 = -gap0 / (g0 @ g0) * g0
    assert _objective(X, y, w1, alpha, 1.0, None, True) < _objective(
        X, y, np.zeros(20), alpha, 1.0, None, True)  # so w_1 is the best iterate
    np.testing.assert_allclose(sol.coef, w1, rtol=1e-10, atol=1e-14)


def test_polyak_diagonal_steps_follow_the_sign_rule():
    # step_schedule="polyak_diagonal": w_{k+1} = w_k - eta_k D_k s_k with D_0 = I (its
    # first step is Polyak's) and d_j halved where s_k,j changed sign from s_{k-1},j,
    # times 1.2 where it kept it; eta_k = (P(w_k) - P_lev) / s_k^T D_k s_k with
    # P_lev = max(D_best, P_best - delta), delta the first gap. The dual bounds come
    # from the fits' own certificates: D_k = P(w_k) - gap of a fit stopped at w_k
    # (when w_k is its best iterate).
    X, y, _ = _data(60, 20, seed=11)
    alpha = 0.2 * _alpha_max(X, y, None, True)
    Xc, yc, _ = _centred(X, y, None, True)
    n = len(y)
    design = make_design(np.asfortranarray(X), None, True)
    yc_k, _ = design.center(y)

    def fit(k):
        with pytest.warns(ConvergenceWarning):
            return solve_prox(design, yc_k, alpha, method="subgradient", tol=0.0,
                              max_iter=k, step_schedule="polyak_diagonal")

    def P(w):
        return _objective(X, y, w, alpha, 1.0, None, True)

    def subgradient(w):
        return -Xc.T @ (yc - Xc @ w) / n + alpha * np.sign(w)

    w0 = np.zeros(20)
    gap0 = fit(0).gap
    s0 = subgradient(w0)
    w1 = w0 - gap0 / (s0 @ s0) * s0  # D_0 = I: Polyak's first step
    sol1 = fit(1)
    np.testing.assert_allclose(sol1.coef, w1, rtol=1e-10, atol=1e-14)
    assert P(w1) < P(w0)
    dual_best = P(w1) - sol1.gap
    s1 = subgradient(w1)
    d = np.where(s1 * s0 < 0, 0.5, np.where(s0 != 0, 1.2, 1.0))
    assert (d == 0.5).any() and (d == 1.2).any()
    level = max(dual_best, P(w1) - gap0)
    w2 = w1 - (P(w1) - level) / (s1 @ (d * s1)) * d * s1
    assert P(w2) < P(w1)  # so w_2 is the iterate a fit stopped there returns
    np.testing.assert_allclose(fit(2).coef, w2, rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("layout", ["dense", "csr", "csc64"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("positive", [False, True])
def test_polyak_converges_with_a_certificate(layout, dtype, weighted, fit_intercept,
                                             positive):
    X, y, sw, alpha, l1_ratio, _, P_ref = _reference("Lasso", weighted, fit_intercept,
                                                     positive)
    Xl = as_layout(X.astype(dtype), layout)
    # a certificate of 1e-3 (relative to ||y - ybar||^2 / n) is reached and stops the
    # fit before its budget; it bounds the suboptimality of the returned weights
    est = _fit("Lasso", Xl, y.astype(dtype), sw, alpha, l1_ratio, solver="subgradient",
               tol=1e-3, max_iter=20_000, fit_intercept=fit_intercept,
               positive=positive)
    assert est.coef_.dtype == dtype
    assert est.n_iter_ < 20_000
    scale = _scale(y, sw, fit_intercept)
    assert 0 <= est.dual_gap_ <= 1e-3 * scale * (1 + 1e-5)
    P = _objective(X, y, est.coef_, alpha, l1_ratio, sw, fit_intercept)
    rtol = 1e-6 if dtype == np.float64 else 1e-4
    assert P - P_ref <= est.dual_gap_ + rtol * P_ref
    if positive:
        assert est.coef_.min() >= 0


def test_polyak_beats_the_decaying_step_on_a_correlated_design():
    # AR(1) columns (rho 0.6), p > n, alpha_max / 20: after the same 10,000 iterations
    # Polyak's step is within 1e-4 of P* where eta_0 / sqrt(k + 1) is not within 1e-3
    # (measured: 1.4e-5 and 1.5e-3)
    rng = np.random.default_rng(3)
    X = np.empty((60, 200))
    X[:, 0] = rng.standard_normal(60)
    for j in range(1, 200):
        X[:, j] = 0.6 * X[:, j - 1] + 0.8 * rng.standard_normal(60)
    y = X[:, :5] @ np.ones(5) + 0.5 * rng.standard_normal(60)
    alpha = _alpha_max(X, y, None, True) / 20
    ref = sk.Lasso(alpha=alpha, tol=1e-14, max_iter=10**6).fit(X, y)
    P_ref = _objective(X, y, ref.coef_, alpha, 1.0, None, True)
    sub = {}
    for schedule in ("polyak", "decaying"):
        with pytest.warns(ConvergenceWarning):
            est = fastlasso.Lasso(alpha=alpha, solver="subgradient", tol=0.0,
                                  max_iter=10_000, step_schedule=schedule).fit(X, y)
        sub[schedule] = _objective(X, y, est.coef_, alpha, 1.0, None, True) / P_ref - 1
    assert sub["polyak"] < 1e-4
    assert sub["decaying"] > 1e-3


def test_polyak_takes_no_step_size():
    X, y, _ = _data(30, 10)
    with pytest.raises(ValueError, match="step_size sets eta_0"):
        fastlasso.Lasso(alpha=0.1, solver="subgradient", step_size=0.1).fit(X, y)
    # the other schedules take it
    with pytest.warns(ConvergenceWarning):
        fastlasso.Lasso(alpha=0.1, solver="subgradient", step_size=0.1,
                        step_schedule="decaying", max_iter=5).fit(X, y)
