"""The prox-Newton logistic kernels (_logistic.pyx) through _solve_logistic.

References are independent of the code under test: scipy's L-BFGS-B on the smooth split
W = U - V (U, V >= 0) of the same objective, written here in numpy, and the KKT
conditions. Certificates: the reported duality gap must bound P - P* at every iterate
(P* bounded above by the reference's objective), converged or not.
"""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.optimize import minimize
from scipy.special import expit, log_expit, logsumexp
from sklearn.exceptions import ConvergenceWarning

from fastlasso._data import make_design
from fastlasso._solve_logistic import c_min, solve_logistic, solve_logistic_path


def objective(X, y_idx, n_classes, coef, intercept, C, l1_ratio, s=None):
    """scikit-learn's objective C sum_i s_i l_i + rho ||W||_1 + (1 - rho)/2 ||W||^2,
    in float64 numpy."""
    X = X.toarray() if sp.issparse(X) else np.asarray(X)
    X = X.astype(np.float64)
    s = np.ones(X.shape[0]) if s is None else s
    W = np.asarray(coef, dtype=np.float64).reshape(-1, X.shape[1])
    b = np.asarray(intercept, dtype=np.float64).reshape(-1)
    Z = X @ W.T + b
    if n_classes == 2 and W.shape[0] == 1:
        z = Z[:, 0]
        loss = -np.where(y_idx == 1, log_expit(z), log_expit(-z))
    else:
        loss = logsumexp(Z, axis=1) - Z[np.arange(len(y_idx)), y_idx]
    pen = l1_ratio * np.abs(W).sum() + 0.5 * (1 - l1_ratio) * (W**2).sum()
    return C * s @ loss + pen


def reference(X, y_idx, n_classes, C, l1_ratio, fit_intercept, s=None):
    """argmin of the objective by L-BFGS-B on W = U - V, U, V >= 0 (smooth)."""
    X = X.toarray() if sp.issparse(X) else np.asarray(X, dtype=np.float64)
    n, p = X.shape
    s = np.ones(n) if s is None else s
    K = 1 if n_classes == 2 else n_classes
    Y = np.eye(n_classes)[y_idx] if K > 1 else (y_idx == 1).astype(float)[:, None]
    nb = K if fit_intercept else 0

    def f(v):
        U = v[: p * K].reshape(K, p)
        V = v[p * K: 2 * p * K].reshape(K, p)
        b = v[2 * p * K:] if fit_intercept else np.zeros(K)
        W = U - V
        Z = X @ W.T + b
        if K == 1:
            z = Z[:, 0]
            loss = np.logaddexp(0, z) - Y[:, 0] * z
            R = (expit(z) - Y[:, 0])[:, None]
        else:
            lse = logsumexp(Z, axis=1)
            loss = lse - (Y * Z).sum(1)
            R = np.exp(Z - lse[:, None]) - Y
        R = C * s[:, None] * R
        val = (C * s @ loss + l1_ratio * (U + V).sum()
               + 0.5 * (1 - l1_ratio) * (W**2).sum())
        gW = R.T @ X + (1 - l1_ratio) * W
        g = np.concatenate([(gW + l1_ratio).ravel(), (-gW + l1_ratio).ravel(),
                            R.sum(0) if fit_intercept else []])
        return val, g

    v0 = np.zeros(2 * p * K + nb)
    bounds = [(0, None)] * (2 * p * K) + [(None, None)] * nb
    res = minimize(f, v0, jac=True, method="L-BFGS-B", bounds=bounds,
                   options={"maxiter": 50000, "maxfun": 100000, "ftol": 1e-16,
                            "gtol": 1e-12, "maxcor": 30})
    v = res.x
    W = v[: p * K].reshape(K, p) - v[p * K: 2 * p * K].reshape(K, p)
    b = v[2 * p * K:] if fit_intercept else np.zeros(K)
    return W, b, res.fun


def binary_data(n=80, p=30, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    w = np.zeros(p)
    w[:5] = rng.uniform(1, 2, 5) * rng.choice([-1, 1], 5)
    y = (rng.uniform(size=n) < expit(X @ w + 0.5)).astype(int)
    return X, y


def multi_data(n=90, p=20, K=3, seed=1):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    W = np.zeros((K, p))
    W[:, :4] = rng.standard_normal((K, 4)) * 1.5
    Z = X @ W.T
    P = np.exp(Z - logsumexp(Z, axis=1, keepdims=True))
    y = np.array([rng.choice(K, p=pr) for pr in P])
    return X, y


def fit(X, y, n_classes, C, l1_ratio, fit_intercept=True, s=None, **kw):
    design = make_design(X, s, fit_intercept)
    return solve_logistic(design, y, n_classes, C, l1_ratio,
                          weight_sum=None if s is None else s.sum(), **kw)


CASES = [
    # (data, n_classes, C, l1_ratio)
    ("binary", 2, 0.1, 1.0),
    ("binary", 2, 1.0, 0.5),
    ("binary", 2, 0.05, 0.0),
    ("multi", 3, 0.2, 1.0),
    ("multi", 3, 0.5, 0.3),
]


def _data(kind):
    return binary_data() if kind == "binary" else multi_data()


@pytest.mark.parametrize("kind, n_classes, C, l1_ratio", CASES)
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_matches_an_independent_minimiser(kind, n_classes, C, l1_ratio, fit_intercept):
    X, y = _data(kind)
    rng = np.random.default_rng(3)
    s = rng.uniform(0.3, 2.0, len(y))
    sol = fit(X, y, n_classes, C, l1_ratio, fit_intercept, s, tol=1e-12, max_iter=200)
    W, b, f_ref = reference(X, y, n_classes, C, l1_ratio, fit_intercept, s)
    f = objective(X, y, n_classes, sol.coef, sol.intercept, C, l1_ratio, s)
    assert sol.converged
    # the certificate: P(ours) - P* <= gap, and P* <= P(reference)
    assert f - f_ref <= sol.gap + 1e-12 * abs(f_ref)
    # the reference is no better than ours up to its own accuracy
    assert f <= f_ref + 1e-9 * abs(f_ref)
    coef = sol.coef
    intercept = sol.intercept
    if n_classes > 2 and fit_intercept:
        b = b - b.mean()  # softmax intercepts are reported centred
    np.testing.assert_allclose(coef, W, atol=2e-5 * max(1, np.abs(W).max()))
    np.testing.assert_allclose(intercept, b, atol=2e-5 * max(1, np.abs(b).max()))


def _kkt(X, y, n_classes, coef, intercept, C, l1_ratio, fit_intercept):
    """Largest violation of the optimality conditions, relative to l1_ratio + C."""
    X = np.asarray(X, dtype=np.float64)
    W = np.asarray(coef, dtype=np.float64)
    Z = X @ W.T + intercept
    if W.shape[0] == 1:
        R = (y == 1)[:, None] - expit(Z)
    else:
        R = np.eye(n_classes)[y] - np.exp(Z - logsumexp(Z, axis=1, keepdims=True))
    G = C * R.T @ X - (1 - l1_ratio) * W  # must lie in l1_ratio * subdifferential
    on = W != 0
    viol = np.where(on, np.abs(G - l1_ratio * np.sign(W)),
                    np.maximum(np.abs(G) - l1_ratio, 0))
    worst = viol.max()
    if fit_intercept:
        worst = max(worst, np.abs(C * R.sum(0)).max())
    return worst


@pytest.mark.parametrize("kind, n_classes, C, l1_ratio", CASES)
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_kkt_conditions_at_tight_tolerance(kind, n_classes, C, l1_ratio, fit_intercept):
    X, y = _data(kind)
    sol = fit(X, y, n_classes, C, l1_ratio, fit_intercept, tol=1e-12, max_iter=200)
    # (with an L2 part the gap is quadratic in the residuals: sqrt(gap) scale)
    assert _kkt(X, y, n_classes, sol.coef, sol.intercept, C, l1_ratio,
                fit_intercept) < (1e-7 if l1_ratio == 1 else 1e-5)
    assert (sol.coef != 0).sum() < sol.coef.size or l1_ratio == 0


@pytest.mark.parametrize("kind, n_classes, C, l1_ratio", CASES)
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_gap_bounds_suboptimality_at_every_iterate(kind, n_classes, C, l1_ratio,
                                                   fit_intercept):
    """Stopped after 0, 1, 2, 3 prox-Newton iterations, far from the solution, the
    reported gap still bounds P - P* (an invalid dual point would show here)."""
    X, y = _data(kind)
    _, _, f_ref = reference(X, y, n_classes, C, l1_ratio, fit_intercept)
    gaps = []
    for it in range(4):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            sol = fit(X, y, n_classes, C, l1_ratio, fit_intercept, tol=1e-14,
                      max_iter=it)
        f = objective(X, y, n_classes, sol.coef, sol.intercept, C, l1_ratio)
        assert f - f_ref <= sol.gap * (1 + 1e-9) + 1e-12 * abs(f_ref)
        gaps.append(sol.gap)
    assert gaps[-1] < gaps[0]


LAYOUTS = {
    "dense_C": lambda X: np.ascontiguousarray(X),
    "csc32": lambda X: sp.csc_matrix(X),
    "csc64": lambda X: _csc64(X),
}


def _csc64(X):
    A = sp.csc_matrix(X)
    return sp.csc_matrix(
        (A.data, A.indices.astype(np.int64), A.indptr.astype(np.int64)), shape=A.shape)


@pytest.mark.parametrize("layout", list(LAYOUTS))
@pytest.mark.parametrize("kind, n_classes, C, l1_ratio", CASES[:2] + CASES[3:4])
def test_same_answer_in_every_layout(layout, kind, n_classes, C, l1_ratio):
    X, y = _data(kind)
    X = X * (np.abs(X) > 0.8)  # sparse-ish
    ref = fit(np.asfortranarray(X), y, n_classes, C, l1_ratio, tol=1e-12)
    sol = fit(LAYOUTS[layout](X), y, n_classes, C, l1_ratio, tol=1e-12)
    np.testing.assert_allclose(sol.coef, ref.coef, rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(sol.intercept, ref.intercept, rtol=1e-7, atol=1e-9)


def _wide(n_classes, n=60, p=400, seed=4):
    """p >> n: working sets far smaller than p, so that C-ordered X is solved on
    packed columns that do not hold all of X."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p)) + 0.3  # columns with means: centring matters
    W = np.zeros((n_classes, p))
    W[:, :6] = 1.5 * rng.standard_normal((n_classes, 6))
    Z = X @ W.T
    P = np.exp(Z - logsumexp(Z, axis=1, keepdims=True))
    y = np.array([rng.choice(n_classes, p=pr) for pr in P])
    return X, y


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("weighted", [False, True])
def test_c_order_on_packed_working_sets_is_the_fortran_fit(dtype, n_classes,
                                                            fit_intercept, weighted):
    """C-ordered X (read by rows, its working sets' columns packed) and Fortran X
    give the same fit, and the fit is a minimiser (KKT); the working sets stay far
    below p, so the pack never holds all of X."""
    X, y = _wide(n_classes)
    s = np.random.default_rng(5).uniform(0.3, 2.0, len(y)) if weighted else None
    C, l1_ratio = (0.5 if n_classes == 2 else 0.3), 0.9
    tol = 1e-12 if dtype == np.float64 else 1e-6
    sols = {order: fit(np.asarray(X, dtype=dtype, order=order), y, n_classes, C,
                       l1_ratio, fit_intercept, s, tol=tol) for order in "FC"}
    for sol in sols.values():
        assert sol.converged and sol.coef.dtype == dtype
        assert 0 < sol.info["max_ws"] < X.shape[1] // 2
    scale = max(1.0, np.abs(sols["F"].coef).max())
    atol = (1e-8 if dtype == np.float64 else 1e-3) * scale
    np.testing.assert_allclose(sols["C"].coef, sols["F"].coef, atol=atol)
    np.testing.assert_allclose(sols["C"].intercept, sols["F"].intercept, atol=atol)
    if dtype == np.float64 and not weighted:  # (an L2 part: sqrt(gap) scale)
        assert _kkt(X, y, n_classes, sols["C"].coef, sols["C"].intercept, C, l1_ratio,
                    fit_intercept) < 1e-5


@pytest.mark.parametrize("n_classes", [2, 3])
def test_c_order_path_reuses_its_pack_and_matches_fortran(n_classes):
    """A path on C-ordered X keeps one pack across its solves (supports growing
    along the path, the pack refilled when full): every point is the Fortran one."""
    X, y = _wide(n_classes, p=300)
    out = {}
    for order in "FC":
        design = make_design(np.asarray(X, order=order), None, True)
        Cs = c_min(design, y, n_classes, 1.0) * np.geomspace(1.5, 100.0, 12)
        out[order] = solve_logistic_path(design, y, n_classes, Cs, 1.0, tol=1e-12)
    coefs_F, coefs_C = out["F"][0], out["C"][0]
    assert np.count_nonzero(coefs_F[-1]) > np.count_nonzero(coefs_F[1]) > 0
    scale = np.abs(coefs_F).max()
    np.testing.assert_allclose(coefs_C, coefs_F, atol=1e-8 * scale)
    np.testing.assert_allclose(out["C"][1], out["F"][1], atol=1e-8 * scale)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_column_pack_keeps_its_columns_when_it_is_refilled(dtype):
    """The working sets' pack of C-ordered X (_pack.pxi): a working set that does not
    fit in its free slots keeps the columns already packed (moved within the block, or
    into a larger one) and reads from X only the new ones; every slot holds its
    feature's column."""
    from fastlasso import _logistic

    rng = np.random.default_rng(0)
    n, p = 37, 40
    X = np.ascontiguousarray(rng.standard_normal((n, p)), dtype=dtype)
    pack = _logistic.ColumnPack(n, p, dtype)

    def pack_and_check(feats, new):
        reads, block, slot_of = _logistic._pack_for_test(
            pack, X, np.array(feats, dtype=np.int32))
        assert reads == n * new
        for j in feats:
            np.testing.assert_array_equal(block[slot_of[j]], X[:, j])
        return slot_of

    pack_and_check([0, 1, 2, 3, 4], 5)  # 5 slots
    pack_and_check([3, 4], 0)  # all packed: nothing read
    # 7 features > 5 slots: a larger block, columns 2-4 copied over, 4 read
    pack_and_check([2, 3, 4, 5, 6, 7, 8], 4)
    assert pack.slots == 10
    # 10 slots, 7 used, 4 new: refilled in place, 8 kept (moved down), 4 read
    slot_of = pack_and_check([13, 8, 10, 11, 12], 4)
    assert pack.slots == 10 and pack.n_packed == 5 and slot_of[8] == 0
    assert (slot_of >= 0).sum() == 5  # the columns not asked for were dropped
    pack_and_check([8, 13, 20, 21, 22, 23, 24, 25, 26, 27, 28], 9)  # grows to 20 slots
    assert pack.slots == 20


def test_deep_restricted_solves_when_outer_passes_are_costly():
    """Tall dense data (n >> p): an outer pass costs several prox-Newton iterations on
    the working set, so the restricted problem is solved deeper (WS_COST): fewer
    outer passes, the same certified solution."""
    from fastlasso import _logistic

    rng = np.random.default_rng(7)
    n, p = 3000, 120
    X = np.asfortranarray(rng.standard_normal((n, p)))
    w = np.zeros(p)
    w[:8] = rng.uniform(0.5, 1.5, 8) * rng.choice([-1, 1], 8)
    y = (rng.uniform(size=n) < expit(X @ w)).astype(int)
    design = make_design(X, None, False)
    C = 10 * c_min(design, y, 2, 1.0)
    out = {}
    for cost in (0.0, 1.0):
        old = _logistic._tuning(WS_COST=cost)
        try:
            out[cost] = solve_logistic(design, y, 2, C, 1.0, tol=1e-8, max_iter=1000)
        finally:
            _logistic._tuning(**old)
    off, on = out[0.0], out[1.0]
    assert off.converged and on.converged
    assert on.info["outer"] < off.info["outer"]
    scale = np.abs(off.coef).max()
    np.testing.assert_allclose(on.coef, off.coef, atol=1e-6 * scale)


@pytest.mark.parametrize("kind, n_classes, C, l1_ratio", CASES[:2] + CASES[3:4])
def test_float32_stays_float32_and_agrees(kind, n_classes, C, l1_ratio):
    X, y = _data(kind)
    ref = fit(X, y, n_classes, C, l1_ratio, tol=1e-10)
    sol = fit(X.astype(np.float32), y, n_classes, C, l1_ratio, tol=1e-5)
    assert sol.coef.dtype == np.float32
    np.testing.assert_allclose(sol.coef, ref.coef, atol=5e-3 * np.abs(ref.coef).max())


def test_weights_are_replications_and_scale_C():
    X, y = binary_data()
    w = np.ones(len(y))
    w[:10] = 2.0
    Xd = np.vstack([X, X[:10]])
    yd = np.concatenate([y, y[:10]])
    a = fit(X, y, 2, 0.3, 1.0, s=w, tol=1e-12)
    b = fit(Xd, yd, 2, 0.3, 1.0, tol=1e-12)
    np.testing.assert_allclose(a.coef, b.coef, atol=1e-8)
    np.testing.assert_allclose(a.intercept, b.intercept, atol=1e-8)
    # weights a * s with C equal C * a with weights s
    c = fit(X, y, 2, 0.1, 1.0, s=3 * w, tol=1e-12)
    d = fit(X, y, 2, 0.3, 1.0, s=w, tol=1e-12)
    np.testing.assert_allclose(c.coef, d.coef, atol=1e-8)
    # unit weights are no weights
    e = fit(X, y, 2, 0.3, 1.0, s=np.ones(len(y)), tol=1e-12)
    f = fit(X, y, 2, 0.3, 1.0, tol=1e-12)
    np.testing.assert_allclose(e.coef, f.coef, atol=1e-10)


def test_zero_weight_rows_are_absent_rows():
    X, y = multi_data()
    s = np.ones(len(y))
    s[::4] = 0.0
    a = fit(X, y, 3, 0.4, 0.7, s=s, tol=1e-12)
    keep = s > 0
    b = fit(X[keep], y[keep], 3, 0.4, 0.7, tol=1e-12)
    np.testing.assert_allclose(a.coef, b.coef, atol=1e-8)
    np.testing.assert_allclose(a.intercept, b.intercept, atol=1e-8)


def test_missing_class_gets_minus_infinity_intercept():
    X, y = multi_data(K=4)
    keep = y != 2
    sol = fit(X[keep], y[keep], 4, 0.5, 1.0, tol=1e-10)
    assert sol.intercept[2] == -np.inf
    assert not sol.coef[2].any()
    # the classes present: the 3-class softmax fit on their relabelled data
    relabel = np.searchsorted([0, 1, 3], y[keep])
    ref = fit(X[keep], relabel, 3, 0.5, 1.0, tol=1e-10)
    np.testing.assert_allclose(sol.coef[[0, 1, 3]], ref.coef, atol=1e-8)
    np.testing.assert_allclose(sol.intercept[[0, 1, 3]], ref.intercept, atol=1e-8)


def test_one_class_binary_is_a_constant_model():
    X, y = binary_data()
    sol = fit(X, np.ones(len(y), dtype=int), 2, 1.0, 1.0)
    assert sol.intercept[0] == np.inf and not sol.coef.any()
    with pytest.raises(ValueError, match="at least 2 classes"):
        fit(X, np.zeros(len(y), dtype=int), 1, 1.0, 1.0)


@pytest.mark.parametrize("C", [1e4, 1e8])
def test_separable_data_and_huge_C_terminate(C):
    """Linearly separable data: as C grows the coefficients diverge; the solve ends
    (converged or at max_iter with a warning), with finite coefficients."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((60, 10))
    y = (X[:, 0] + 0.5 * X[:, 1] > 0).astype(int)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        sol = fit(X, y, 2, C, 1.0, tol=1e-8, max_iter=50)
    assert np.isfinite(sol.coef).all() and np.isfinite(sol.intercept).all()
    assert np.isfinite(sol.gap)
    assert sol.n_iter <= 50


def test_max_iter_zero_returns_the_start():
    X, y = binary_data()
    with pytest.warns(ConvergenceWarning):
        sol = fit(X, y, 2, 1.0, 1.0, max_iter=0)
    assert sol.n_iter == 0 and not sol.coef.any() and sol.intercept[0] == 0
    assert sol.gap > 0


@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize("layout", ["dense", "csc"])
@pytest.mark.parametrize("fit_intercept", [False, True])
def test_coefficient_on_rows_without_newton_weight_still_moves(n_classes, layout,
                                                               fit_intercept):
    """A feature seen on one row only, started at a coefficient so large that the row's
    probability is exactly 0 or 1 in float64: the row has no Newton weight, the
    quadratic model no curvature in that coefficient, which only pays the penalty. The
    solve must still take it to the minimiser (a cold start's), not stall at the start
    with a gap of about l1 |w_j|."""
    X, y = binary_data() if n_classes == 2 else multi_data()
    n = X.shape[0]
    lone = np.zeros((n, 1))
    lone[0, 0] = 1.0
    X = np.hstack([X, lone])
    if layout == "csc":
        X = sp.csc_matrix(X)
    C = 0.5
    cold = fit(X, y, n_classes, C, 1.0, fit_intercept, tol=1e-10)
    start = cold.coef.astype(np.float64)
    if n_classes == 2:  # the row's own class at probability 1: z = +-1000
        start[0, -1] = 1000.0 if y[0] == 1 else -1000.0
    else:
        start[y[0], -1] = 1000.0
    warm = fit(X, y, n_classes, C, 1.0, fit_intercept, tol=1e-10, max_iter=200,
               coef_init=start, intercept_init=cold.intercept)
    assert warm.converged
    P_cold = objective(X, y, n_classes, cold.coef, cold.intercept, C, 1.0)
    P_warm = objective(X, y, n_classes, warm.coef, warm.intercept, C, 1.0)
    assert P_warm - P_cold <= 1e-8 * P_cold
    np.testing.assert_allclose(warm.coef, cold.coef, atol=1e-5)


def test_multinomial_objective_never_increases_on_large_moves():
    """Sparse multinomial data at large C without intercept: some Newton steps move a
    row's predictors all down by dozens, where the softmax loss change is a difference
    of nearly equal numbers. The line search must see the true change: every iterate's
    objective is at most the one before (a step whose computed loss change rounded to
    -inf was accepted while the objective grew by 80%), and the solve ends at the
    independent minimiser."""
    rng = np.random.default_rng(2)
    n, p, K, C = 60, 200, 3, 100.0
    X = sp.random(n, p, density=8.0 / p, random_state=rng, format="csc")
    X.data = rng.uniform(0.5, 1.5, X.data.size)
    y = rng.integers(0, K, n)
    sol = fit(X, y, K, C, 1.0, fit_intercept=False, tol=1e-8, max_iter=200,
              record_history=True)
    P_hist = sol.history[:, 1]
    assert np.all(np.diff(P_hist) <= 1e-12 * np.abs(P_hist[1:]))
    _, _, P_ref = reference(X, y, K, C, 1.0, False)
    P = objective(X, y, K, sol.coef, sol.intercept, C, 1.0)
    assert sol.converged and P - P_ref <= 1e-6 * P_ref


def _text_multinomial(n, p, K, seed):
    """Text-like sparse data (Zipf-distributed terms, log-tf weights, rows of unit norm)
    with labels drawn from a multinomial model on a fifth of the terms."""
    rng = np.random.default_rng(seed)
    freq = 1.0 / (np.arange(p) + 5.0) ** 1.1
    lengths = rng.poisson(15, n) + 1
    cols = rng.choice(p, lengths.sum(), p=freq / freq.sum())
    X = sp.csr_matrix((np.ones(cols.size), (np.repeat(np.arange(n), lengths), cols)),
                      shape=(n, p))
    X.sum_duplicates()
    X.data = 1.0 + np.log(X.data)
    X = sp.diags(1.0 / np.sqrt(np.asarray(X.multiply(X).sum(1)).ravel())) @ X
    W = rng.standard_normal((p, K)) * (rng.uniform(size=(p, 1)) < 0.2) * 4
    Z = X @ W
    P = np.exp(Z - logsumexp(Z, axis=1, keepdims=True))
    y = np.array([rng.choice(K, p=pr) for pr in P])
    return sp.csc_matrix(X), y


def test_multinomial_at_large_C_does_not_stall():
    """Text-like multinomial data at 1000 C_min without intercept: most rows are
    predicted with probabilities near 0 or 1, the softmax Hessian is nearly singular
    along many entries and the undamped Newton directions overshoot so far that the
    line search ends at steps of 2^-40 (without damping: 300 iterations, 11,466
    halvings, not converged). The damped models (LM_NU0) must take the solve to its
    certificate, and to the minimiser of the same problem solved from the solution's
    neighbourhood."""
    X, y = _text_multinomial(400, 800, 6, 3)
    K = 6
    C = 1000 * c_min(make_design(X, None, False), y, K, 1.0)
    sol = fit(X, y, K, C, 1.0, fit_intercept=False, tol=1e-8, max_iter=300)
    assert sol.converged and sol.info["halvings"] <= 5 * sol.n_iter
    P = objective(X, y, K, sol.coef, sol.intercept, C, 1.0)
    assert P - sol.gap <= P
    # a warm start at the solution, perturbed, ends at the same objective
    start = sol.coef * 0.9
    warm = fit(X, y, K, C, 1.0, fit_intercept=False, tol=1e-10, max_iter=300,
               coef_init=start)
    P_warm = objective(X, y, K, warm.coef, warm.intercept, C, 1.0)
    assert warm.converged
    assert abs(P - P_warm) <= sol.gap + warm.gap + 1e-9 * P


WORKSPACE_LAYOUTS = {
    "dense_F": np.asfortranarray,
    "dense_C": np.ascontiguousarray,
    "csc32": sp.csc_matrix,
}


@pytest.mark.parametrize("layout", list(WORKSPACE_LAYOUTS))
@pytest.mark.parametrize("n_classes", [2, 3])
def test_a_solve_restarted_where_the_last_stopped_takes_no_product(layout, n_classes):
    """The gradients of a solve's last pass and its linear predictors stay in the
    workspace: a second solve from the returned point (a path's next C with the same
    penalty) recomputes no product x_j^T R and returns the same certified point.
    (Multinomial without intercepts: solve_logistic centres the returned intercepts,
    another start for the kernel.)"""
    from fastlasso import _logistic

    X, y = _data("binary" if n_classes == 2 else "multi")
    design = make_design(WORKSPACE_LAYOUTS[layout](X), None, n_classes == 2)
    K = 1 if n_classes == 2 else n_classes
    workspace = _logistic.LogisticWorkspace(*X.shape, K)
    first = solve_logistic(design, y, n_classes, 0.2, 1.0, tol=1e-8,
                           workspace=workspace)
    assert first.converged and first.info["n_grad"] > 0
    again = solve_logistic(design, y, n_classes, 0.2, 1.0, tol=1e-8,
                           workspace=workspace, coef_init=first.coef,
                           intercept_init=first.intercept)
    assert again.info["n_grad"] == 0 and again.n_iter == 0
    np.testing.assert_array_equal(again.coef, first.coef)
    assert again.gap <= first.tol_gap


@pytest.mark.parametrize("layout", list(WORKSPACE_LAYOUTS))
@pytest.mark.parametrize("n_classes", [2, 3])
def test_workspace_start_from_another_point_is_recomputed(layout, n_classes):
    """A solve whose start is not where the workspace's last solve stopped (another W
    or intercept) computes its predictors and gradients afresh: the same minimiser as
    a fresh workspace, certified."""
    from fastlasso import _logistic

    X, y = _data("binary" if n_classes == 2 else "multi")
    design = make_design(WORKSPACE_LAYOUTS[layout](X), None, True)
    K = 1 if n_classes == 2 else n_classes
    workspace = _logistic.LogisticWorkspace(*X.shape, K)
    first = solve_logistic(design, y, n_classes, 0.2, 1.0, tol=1e-10,
                           workspace=workspace)
    ref = solve_logistic(design, y, n_classes, 0.5, 1.0, tol=1e-10,
                         coef_init=0.5 * first.coef, intercept_init=first.intercept)
    for coef0, b0 in ((0.5 * first.coef, first.intercept),
                      (first.coef, first.intercept + 0.25)):
        sol = solve_logistic(design, y, n_classes, 0.5, 1.0, tol=1e-10,
                             workspace=workspace, coef_init=coef0, intercept_init=b0)
        assert sol.converged
        P = objective(X, y, n_classes, sol.coef, sol.intercept, 0.5, 1.0)
        P_ref = objective(X, y, n_classes, ref.coef, ref.intercept, 0.5, 1.0)
        assert abs(P - P_ref) <= 1e-8 * abs(P_ref)
        assert P - P_ref <= sol.gap + 1e-12 * abs(P_ref)


def test_multinomial_models_leave_out_far_entries():
    """At 10 C_min most features of a working set are nonzero in one class of five:
    the models leave out the zero entries whose gradient is far below l1 (CD_MASK),
    so their coordinate descent visits fewer entries than with every entry in, and
    the solve ends at the same certified minimiser."""
    from fastlasso import _logistic

    X, y = _text_multinomial(500, 1000, 5, 0)
    K = 5
    C = 10 * c_min(make_design(X, None, False), y, K, 1.0)
    sol = fit(X, y, K, C, 1.0, fit_intercept=False, tol=1e-8)
    old = _logistic._tuning(CD_MASK=0.0)
    try:
        every = fit(X, y, K, C, 1.0, fit_intercept=False, tol=1e-8)
    finally:
        _logistic._tuning(**old)
    assert sol.converged and every.converged
    assert sol.info["visits"] < 0.8 * every.info["visits"]
    P = objective(X, y, K, sol.coef, sol.intercept, C, 1.0)
    P_every = objective(X, y, K, every.coef, every.intercept, C, 1.0)
    assert abs(P - P_every) <= sol.gap + every.gap + 1e-12 * P
