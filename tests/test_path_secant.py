"""The secant warm start of the path functions (_solve_path.secant_start)."""

import numpy as np
import pytest
import scipy.sparse as sp

import fastlasso
from fastlasso._solve_path import SECANT_MAX, secant_start


def _soft(z, a):
    """The Lasso solution for an orthonormal design: soft-thresholding of z = X^T y."""
    return np.sign(z) * np.maximum(np.abs(z) - a, 0.0)


def test_secant_start_is_exact_where_the_support_stays():
    # for X^T X = I the path is w(a) = soft(z, a), linear in a on a fixed support
    z = np.array([3.0, -2.5, 0.4, 0.0, -1.2])
    a0, a1, a2 = 0.9, 0.8, 0.7
    got = secant_start(_soft(z, a0), _soft(z, a1), a0, a1, a2)
    np.testing.assert_allclose(got, _soft(z, a2), rtol=0, atol=1e-15)


def test_secant_start_stops_at_zero_and_leaves_entering_features_out():
    w_prev = np.array([1.0, 0.30, 0.0, -0.5])
    w = np.array([1.5, 0.10, 0.0, -0.2])
    # steps of 1: coefficient 1 would cross 0 (0.10 - 0.20) and 3 would (-0.2 + 0.3)
    got = secant_start(w_prev, w, 3.0, 2.0, 1.0)
    np.testing.assert_array_equal(got, [2.0, 0.0, 0.0, 0.0])
    # a feature at 0 in w stays at 0 whatever w_prev says
    got = secant_start(np.array([0.7]), np.array([0.0]), 3.0, 2.0, 1.0)
    np.testing.assert_array_equal(got, [0.0])


def test_secant_start_degenerate_and_irregular_grids():
    w_prev, w = np.array([1.0, -1.0]), np.array([2.0, -2.0])
    np.testing.assert_array_equal(secant_start(w_prev, w, 1.0, 1.0, 0.5), w)
    # a next step 100x the last one is capped at SECANT_MAX of it
    got = secant_start(w_prev, w, 1.01, 1.0, 0.0)
    np.testing.assert_allclose(got, w + (w - w_prev) * SECANT_MAX)


@pytest.mark.parametrize("sparse", [False, True])
def test_loose_path_points_move_with_alpha(sparse):
    """At a loose tol the last solution often passes the next penalty's gap check at
    once; the path must still return a moved point there, not the last one again
    (from the secant start: without it, 50 of 99 consecutive pairs of nonzero
    solutions of this problem were identical at tol=1e-2)."""
    rng = np.random.default_rng(0)
    X = sp.random(300, 400, density=0.05, random_state=1, format="csc")
    w0 = np.zeros(400)
    w0[:40] = rng.standard_normal(40)
    y = X @ w0 + 0.1 * rng.standard_normal(300)
    if not sparse:
        X = np.asfortranarray(X.toarray())
    alphas, coefs, gaps = fastlasso.lasso_path(X, y, tol=1e-2)
    same = [k for k in range(len(alphas) - 1)
            if np.any(coefs[:, k]) and np.array_equal(coefs[:, k], coefs[:, k + 1])]
    assert same == []
    # each point is still certified to the tolerance asked
    assert np.all(gaps <= 1e-2 * (y @ y) / len(y))


def test_secant_start_steps_multitask_rows():
    """A (p, T) w is stepped by rows: a row at 0 stays at 0, a row the step would turn
    against itself (<start_j, w_j> < 0) starts at 0, the others take the whole step,
    entries at 0 or crossing 0 included (the penalty's groups are rows)."""
    w_prev = np.array([[1.0, -0.2], [0.4, 0.4], [0.0, 0.3], [0.3, 0.5]])
    w = np.array([[1.5, 0.0], [0.1, 0.1], [0.0, 0.0], [0.1, 0.9]])
    got = secant_start(w_prev, w, 3.0, 2.0, 1.0)  # a step of 1
    # row 1 steps to (-0.2, -0.2), against (0.1, 0.1); row 3 to (-0.1, 1.3), whose
    # product with (0.1, 0.9) is 1.16 > 0
    np.testing.assert_allclose(got, [[2.0, 0.2], [0.0, 0.0], [0.0, 0.0], [-0.1, 1.3]])
    assert not np.shares_memory(got, w)


def test_multitask_path_points_reach_the_tolerance_along_a_stretch():
    """The multi-task path steps its warm starts by rows too (lasso_path with a 2-D y):
    without it, at tol=1e-4 the last of 20 points of this problem stayed 2.7e-3 above
    its optimum (the previous solution passed its gap check at once); with it every
    point is within 1e-4 of the optimum (P from fits at tol=1e-12), and certified."""
    rng = np.random.default_rng(0)
    n, p, T = 60, 300, 5
    X = rng.standard_normal((n, p)) + 0.6 * rng.standard_normal((n, 1))
    W0 = np.zeros((p, T))
    W0[:15] = rng.standard_normal((15, T))
    Y = X @ W0 + 0.3 * rng.standard_normal((n, T))
    Xc, Yc = X - X.mean(axis=0), Y - Y.mean(axis=0)

    def objective(W, a):
        R = Yc - Xc @ W
        return (R * R).sum() / (2 * n) + a * np.sqrt((W * W).sum(axis=1)).sum()

    alphas, coefs, gaps = fastlasso.lasso_path(Xc, Yc, eps=1e-2, alphas=20, tol=1e-4)
    _, ref, _ = fastlasso.lasso_path(Xc, Yc, alphas=alphas, tol=1e-12)
    sub = [objective(coefs[:, :, k].T, a) / objective(ref[:, :, k].T, a) - 1
           for k, a in enumerate(alphas)]
    assert max(sub) <= 1e-4
    assert np.all(gaps <= 1e-4 * (Yc * Yc).sum() / n)


def _recorded_path(monkeypatch, X, y, **kw):
    """lasso_path(X, y, **kw) and the kernel's info dict of each of its solves."""
    import fastlasso._solve_path as solve_path

    infos = []
    orig = solve_path.solve_cd

    def recording(*args, **kwargs):
        sol = orig(*args, **kwargs)
        infos.append(dict(sol.info))
        return sol

    monkeypatch.setattr(solve_path, "solve_cd", recording)
    return fastlasso.lasso_path(X, y, **kw), infos


@pytest.mark.parametrize("sparse", [False, True])
def test_after_an_exact_solve_the_path_takes_the_homotopy_step(monkeypatch, sparse):
    """The secant start is for inexact solutions: after a solve that ended exact with
    a cheap step (the kernel's ``homotopy_next``) the next starts from that solution
    unchanged, which the kernel steps to its alpha exactly on the support
    (``predicted``); every point stays certified."""
    rng = np.random.default_rng(3)
    X = sp.random(200, 60, density=0.3, random_state=2, format="csc")
    w0 = np.zeros(60)
    w0[:12] = rng.standard_normal(12)
    y = X @ w0 + 0.05 * rng.standard_normal(200)
    if not sparse:
        X = np.asfortranarray(X.toarray())
    (alphas, coefs, gaps), infos = _recorded_path(monkeypatch, X, y, tol=1e-8,
                                                  alphas=30)
    after_exact = [i for i in range(2, len(infos)) if infos[i - 1]["homotopy_next"]]
    assert len(after_exact) >= 10
    assert all(infos[i]["predicted"] for i in after_exact)
    assert np.all(gaps <= 1e-8 * (y @ y) / len(y))


def _ar1(n, p, rho, n_active, seed):
    """A correlated design (AR(1) columns) and a sparse-model response."""
    rng = np.random.default_rng(seed)
    X = np.empty((n, p))
    X[:, 0] = rng.standard_normal(n)
    for j in range(1, p):
        X[:, j] = rho * X[:, j - 1] + np.sqrt(1 - rho**2) * rng.standard_normal(n)
    w0 = np.zeros(p)
    w0[rng.choice(p, n_active, replace=False)] = rng.standard_normal(n_active)
    y = X @ w0 + 0.1 * rng.standard_normal(n)
    return np.asfortranarray(X - X.mean(axis=0)), y - y.mean()


def test_the_homotopy_step_is_taken_exactly_where_the_kernel_says(monkeypatch):
    """``homotopy_next`` is the kernel's promise that a path's next solve from this w
    steps it; the path driver skips the secant start on it, so a broken promise leaves
    that solve with a plain warm start. Where the support grows to nearly n features
    the step is declined (its k^2 next to a pass over X), and such exact solves
    report False."""
    X, y = _ar1(60, 80, 0.6, 40, seed=1)
    (_, coefs, _), infos = _recorded_path(monkeypatch, X, y, tol=1e-8, alphas=60)
    kept = [i for i in range(1, len(infos)) if infos[i - 1]["homotopy_next"]]
    declined = [i for i in range(1, len(infos))
                if infos[i - 1]["exact"] and not infos[i - 1]["homotopy_next"]]
    assert len(kept) >= 5 and len(declined) >= 5
    assert all(infos[i]["predicted"] for i in kept)
    assert not any(infos[i]["predicted"] for i in declined)


@pytest.mark.parametrize("order", ["F", "C"])
def test_a_predicted_point_is_not_accepted_while_features_must_enter(monkeypatch,
                                                                    order):
    """A predicted start steps the last exact solution on its own support only; at a
    loose tol its first pass may certify it while features must still enter. Such a
    point goes on to coordinate descent (and its polish) instead of being returned
    as it is: every predicted solve ends exact or ran epochs."""
    X, y = _ar1(40, 300, 0.6, 30, seed=4)
    if order == "C":
        X = np.ascontiguousarray(X)
    (_, coefs, gaps), infos = _recorded_path(monkeypatch, X, y, tol=1e-2, alphas=100)
    predicted = [i for i, info in enumerate(infos) if info["predicted"]]
    assert len(predicted) >= 10
    assert all(infos[i]["exact"] or infos[i]["epochs"] > 0 for i in predicted)
    assert np.all(gaps <= 1e-2 * (y @ y) / len(y))
