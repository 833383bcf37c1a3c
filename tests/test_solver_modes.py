"""The fast paths of coordinate descent return the plain method's solution.

"Plain" is cyclic coordinate descent over all features, one thread, without working
sets, Gap Safe screening, Anderson acceleration or Gram caches. Every switch of
``fastlasso._solve.solve_cd`` (working sets, Gram off / lazy / full, screening,
acceleration, threads, cyclic / random selection) must reach the same optimum of

    P(w) = ||y~ - X~ w||_S^2 / (2n) + alpha rho ||w||_1 + alpha (1 - rho)/2 ||w||^2

(X~, y~ centred with the weights S, rescaled to sum to n, when fitting an intercept),
with a duality gap that really bounds its suboptimality. Everything is judged in
float64 numpy, independently of the kernels: P at each solution, and a reference
P_ref = P(w_ref) of the plain method at tol <= 1e-14 whose own numpy-computed
duality gap g_ref certifies P* >= P_ref - g_ref. A mode returning w with gap g must
then satisfy

    P_ref - g_ref <= P(w) <= P_ref + g        (a gap that is not a bound shows here)

and, by strong convexity of P along X~ (and in w when rho < 1), the distances to the
optimum w* satisfy ||X~ (w - w*)||_S^2 / (2n) <= g and
alpha (1 - rho)/2 ||w - w*||^2 <= g (likewise for w_ref with g_ref), so w and w_ref
are within the sum of those radii.
Threads only split the full-gradient sweep by columns, so they must be bit-identical.

The less common branches get cases built to reach them (each asserts that it did):
working sets that double several times, Newton steps on correlated sparse columns
(taking in violating features along a path) and on dense supports, screening that
zeroes nonzero warm-start coefficients, an empty working set, the lazy Gram cache
overflowing a small slot budget (``LAZY_GRAM_MAX_SLOTS``) and being cleared, the
ridge limit (no l1 term), paths with gradient bounds carried from one alpha to the
next, sparse fits whose first gradient comes with the column statistics.
"""

import functools
import itertools
import warnings
from typing import NamedTuple

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.exceptions import ConvergenceWarning

import fastlasso
import fastlasso._estimators as _estimators
import fastlasso._solve as solve_module
import fastlasso._solve_path as path_module
from fastlasso import _cd
from fastlasso._data import make_design, make_design_for_target
from fastlasso._solve import solve_cd, workspace_at_zero
from fastlasso._solve_path import solve_path

from conftest import as_layout, make_regression_data

PLAIN = {
    "working_sets": False,
    "gram_mode": "off",
    "screening": False,
    "acceleration": False,
    "selection": "cyclic",
    "n_threads": 1,
}


def _mode_id(mode):
    on = [k for k in ("working_sets", "screening", "acceleration") if mode[k]]
    return "+".join(on + [f"gram_mode={mode['gram_mode']}", mode["selection"]])


def modes(layout):
    """Every combination of working sets x Gram x screening x acceleration (cyclic),
    and working sets x Gram with random selection (which turns Anderson extrapolation
    off; Newton steps stay on)."""
    grams = ("off", "lazy", "full") if layout == "dense" else ("off",)
    out = [
        dict(PLAIN, working_sets=ws, gram_mode=g, screening=sc, acceleration=ac)
        for ws, g, sc, ac in itertools.product(
            (False, True), grams, (False, True), (False, True)
        )
    ]
    out += [
        dict(
            PLAIN,
            working_sets=ws,
            gram_mode=g,
            screening=True,
            acceleration=True,
            selection="random",
        )
        for ws, g in itertools.product((False, True), grams)
    ]
    return out


# -------------------------------------------------------------------------------------
# independent numpy references


def _weights(sw, n):
    return np.ones(n) if sw is None else np.asarray(sw, np.float64) * (n / np.sum(sw))


def _centred(X, y, sw, fit_intercept):
    X = X.toarray() if sp.issparse(X) else np.asarray(X)
    X, y = X.astype(np.float64), np.asarray(y, dtype=np.float64)
    s = _weights(sw, X.shape[0])
    if fit_intercept:
        X = X - s @ X / s.sum()
        y = y - s @ y / s.sum()
    return X, y, s


class Reference(NamedTuple):
    """A problem on the float64 numbers of the data: objective, duality gap and
    Gap Safe test in numpy."""

    Xc: np.ndarray  # centred (if fit_intercept) float64 X
    yc: np.ndarray
    s: np.ndarray  # weights summing to n
    alpha: float
    l1_ratio: float
    positive: bool
    scale: float  # ||y~||_S^2 / n, the unit of tol

    def objective(self, w):
        w = np.asarray(w, dtype=np.float64)
        r = self.yc - self.Xc @ w
        n = len(r)
        return (
            self.s @ (r * r) / (2 * n)
            + self.alpha * self.l1_ratio * np.abs(w).sum()
            + self.alpha * (1 - self.l1_ratio) / 2 * (w @ w)
        )

    def gap(self, w):
        """Duality gap at w (rescaled-residual dual point, l1_ratio > 0), in P's
        units: an upper bound on P(w) - P* by weak duality."""
        n = len(self.yc)
        w = np.asarray(w, dtype=np.float64)
        lam, mu = self.alpha * self.l1_ratio, self.alpha * (1 - self.l1_ratio)
        r = self.yc - self.Xc @ w
        xta = self.Xc.T @ (self.s * r) / n - mu * w
        dnorm = max(xta.max(), 0.0) if self.positive else np.abs(xta).max()
        R2 = self.s @ (r * r) / n
        c = min(1.0, lam / dnorm) if dnorm > 0 else 1.0
        return (
            R2 * (1 + c * c) / 2
            + lam * np.abs(w).sum()
            - c * (self.s @ (r * self.yc)) / n
            + mu * (1 + c * c) * (w @ w) / 2
        )

    def fitted_distance(self, w1, w2):
        """||X~ (w1 - w2)||_S / sqrt(n)."""
        d = self.Xc @ (np.asarray(w1, np.float64) - np.asarray(w2, np.float64))
        return np.sqrt(self.s @ (d * d) / len(d))

    def certified_zero(self, w, gap):
        """Features that are zero at every optimum: the Gap Safe sphere test at w
        (dual point r / max(lam, ||X~^T S r / n - mu w||_inf), radius sqrt(2 gap) /
        lam, column norms of the design extended by sqrt(mu) I), with a factor 2 of
        margin over the rule the kernel applies and gap >= 1e-13 ||y~||^2 / n for
        rounding."""
        n = len(self.yc)
        lam, mu = self.alpha * self.l1_ratio, self.alpha * (1 - self.l1_ratio)
        r = self.yc - self.Xc @ w
        xta = self.Xc.T @ (self.s * r) / n - mu * w
        corr = xta if self.positive else np.abs(xta)
        dnorm = max(corr.max(), lam)
        col = np.sqrt(self.s @ (self.Xc * self.Xc) / n + mu)
        return (
            1 - corr / dnorm > 2 * col * np.sqrt(2 * max(gap, 1e-13 * self.scale)) / lam
        )


def _data(n, p, seed):
    """Data with zeros, non-zero column means and an offset; 6 relevant features."""
    return make_regression_data(
        n, p, seed=seed, n_informative=6, density=0.5, weight_range=(0.3, 3.0)
    )


def _text_like(n, p, seed):
    """Sparse non-negative rows of unit norm with power-law column frequencies: the
    frequent columns are strongly correlated, like the frequent words of text data."""
    rng = np.random.default_rng(seed)
    mask = rng.random((n, p)) < 0.6 / (1.0 + np.arange(p)) ** 0.8
    X = mask * (1.0 + np.log1p(rng.poisson(2.0, (n, p))))
    X /= np.maximum(np.linalg.norm(X, axis=1, keepdims=True), 1e-12)
    beta = np.zeros(p)
    beta[rng.choice(p, 15, replace=False)] = rng.normal(0.0, 3.0, 15)
    y = 2.0 + X @ beta + 0.1 * rng.standard_normal(n)
    return X, y, rng.uniform(0.3, 3.0, n)


# lazy Gram blocks need n >= 1024; "tall" (n >= 4 p) switches lazy to the full Gram
# matrix once a working set holds a quarter of the features, "mid" keeps the blocks
SHAPES = {"wide": (40, 100), "mid": (1030, 260), "tall": (1100, 24)}
TEXT_SHAPE = (300, 200)  # problem("text", ...): _text_like data, for sparse layouts
VARIANTS = {  # (fit_intercept, weighted, positive): every pair of the three covered
    "intercept+weights": (True, True, False),
    "intercept+positive": (True, False, True),
    "weights+positive": (False, True, True),
    "none": (False, False, False),
}
TOL = {np.float64: 1e-12, np.float32: 1e-6}
# rounding allowance on objectives (in units of ||y~||^2 / n): float64 sums, and the
# float32 residuals of a float32 fit (a few float32 ulps of ||y~||^2)
SLACK = {np.float64: 1e-13, np.float32: 1e-6}


@functools.cache
def problem(shape, dtype, model, variant, alpha_fraction=0.05, seed=0):
    """(X in dtype, y, sw, params, Reference, w_ref) for one test problem."""
    fit_intercept, weighted, positive = VARIANTS[variant]
    if shape == "text":
        X, y, sw = _text_like(*TEXT_SHAPE, seed)
    else:
        X, y, sw = _data(*SHAPES[shape], seed)
    X = X.astype(dtype)
    sw = sw if weighted else None
    l1_ratio = 1.0 if model == "Lasso" else 0.5
    Xc, yc, s = _centred(X, y, sw, fit_intercept)
    corr = Xc.T @ (s * yc)
    amax = (max(corr.max(), 0) if positive else np.abs(corr).max()) / (
        len(y) * l1_ratio
    )
    alpha = alpha_fraction * amax
    ref = Reference(Xc, yc, s, alpha, l1_ratio, positive, s @ (yc * yc) / len(y))
    # the plain method on the float64 numbers, far beyond any tolerance tested
    design = make_design(np.asfortranarray(X, dtype=np.float64), sw, fit_intercept)
    target, _ = design.center(y)
    sol = solve_cd(
        design,
        target,
        alpha,
        l1_ratio,
        tol=1e-14,
        max_iter=10**6,
        positive=positive,
        **PLAIN,
    )
    params = {"alpha": alpha, "l1_ratio": l1_ratio, "positive": positive}
    return X, y, sw, fit_intercept, params, ref, sol.coef


def _solve(X, y, sw, fit_intercept, params, layout, **options):
    design = make_design(as_layout(X, layout), sw, fit_intercept)
    target, _ = design.center(y)
    return _solve_design(design, target, params, **options)


def _solve_design(design, target, params, **options):
    return solve_cd(
        design,
        target,
        params["alpha"],
        params["l1_ratio"],
        positive=params["positive"],
        random_state=3,
        max_iter=10**6,
        **options,
    )


def assert_same_optimum(ref, w_ref, sol, dtype, what="", exact_zeros=False):
    """sol is certified by its gap and is the optimum that w_ref approximates (and,
    with exact_zeros, is exactly 0 where the optimum is certified to be)."""
    g_ref = max(ref.gap(w_ref), 0.0)
    slack = SLACK[dtype] * ref.scale
    P = ref.objective(sol.coef)
    P_ref = ref.objective(w_ref)
    assert sol.converged and sol.gap <= sol.tol_gap, what
    assert P >= P_ref - g_ref - slack, f"{what}: below the optimum"
    assert P <= P_ref + sol.gap + slack, f"{what}: the gap does not bound P - P*"
    # distances to w*: sqrt(2 g) for sol, sqrt(2 g_ref) for w_ref (see module doc)
    radius = np.sqrt(2 * (max(sol.gap, 0.0) + slack)) + np.sqrt(2 * (g_ref + slack))
    assert ref.fitted_distance(sol.coef, w_ref) <= radius, what
    mu = ref.alpha * (1 - ref.l1_ratio)
    if mu > 0:
        assert np.linalg.norm(sol.coef - w_ref) <= radius / np.sqrt(mu), what
    if ref.positive:
        assert (sol.coef >= 0).all(), what
    if exact_zeros:
        zero = ref.certified_zero(w_ref, g_ref)
        assert_array_equal(sol.coef[zero], 0.0, err_msg=f"{what}: certified zeros")


def assert_history_certified(ref, w_ref, sol, dtype, what=""):
    """Every recorded objective is >= P*, every recorded gap bounds its P - P*."""
    h = sol.history
    assert h is not None and len(h) >= 1
    g_ref = max(ref.gap(w_ref), 0.0)
    slack = SLACK[dtype] * ref.scale
    P_ref = ref.objective(w_ref)
    assert (h[:, 1] >= P_ref - g_ref - slack).all(), what
    has_gap = ~np.isnan(h[:, 2])
    assert has_gap[-1], what
    assert (h[has_gap, 1] - P_ref <= h[has_gap, 2] + slack).all(), what
    assert_allclose(
        h[-1, 1],
        ref.objective(sol.coef),
        rtol=1e-6 if dtype == np.float32 else 1e-10,
        atol=slack,
    )


def solve_every_mode(case, layout, dtype, tol, exact_zeros=True, label=""):
    """Each mode of ``modes(layout)`` on one ``problem(...)`` case, asserted to return
    the optimum with a certified history (and, with exact_zeros, exact zeros where the
    optimum is certified to have them); yields (mode, its id, the solution)."""
    X, y, sw, fit_intercept, params, ref, w_ref = case
    for mode in modes(layout):
        sol = _solve(
            X,
            y,
            sw,
            fit_intercept,
            params,
            layout,
            tol=tol,
            record_history=True,
            **mode,
        )
        what = label + _mode_id(mode)
        assert sol.coef.dtype == dtype
        assert_same_optimum(ref, w_ref, sol, dtype, what, exact_zeros=exact_zeros)
        assert_history_certified(ref, w_ref, sol, dtype, what)
        yield mode, what, sol


# -------------------------------------------------------------------------------------
# every mode, every kind of data


# Gram modes exist for dense data only: sparse layouts skip the shape made for them
# (the slow tier: its every-mode solves take seconds)
LAYOUT_SHAPES = [
    pytest.param(layout, shape, marks=[pytest.mark.slow] if shape == "mid" else [])
    for layout in ("dense", "csc32", "csc64")
    for shape in sorted(SHAPES)
    if layout == "dense" or shape != "mid"
]


@pytest.mark.parametrize("variant", sorted(VARIANTS))
@pytest.mark.parametrize("model", ["Lasso", "ElasticNet"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("layout, shape", LAYOUT_SHAPES)
def test_every_mode_reaches_the_plain_optimum(layout, dtype, shape, model, variant):
    case = problem(shape, dtype, model, variant)
    X, y, sw, fit_intercept, params, ref, w_ref = case
    tol = TOL[dtype]
    plain = _solve(X, y, sw, fit_intercept, params, layout, tol=tol, **PLAIN)
    assert_same_optimum(ref, w_ref, plain, dtype, "plain")
    for _, what, sol in solve_every_mode(case, layout, dtype, tol):
        if dtype == np.float64:
            atol = 1e-7 * np.abs(w_ref).max()
            assert_allclose(sol.coef, plain.coef, rtol=1e-6, atol=atol, err_msg=what)


@pytest.mark.slow
@pytest.mark.parametrize("tol", [1e-2, 1e-4, 1e-7])
@pytest.mark.parametrize("layout", ["dense", "csc32"])
def test_loose_tolerances_still_give_true_gaps(layout, tol):
    """At loose tol the returned points are far from optimal: their gaps must still
    bound P - P* (a stale or partial certificate would not)."""
    for shape, model in itertools.product(sorted(SHAPES), ["Lasso", "ElasticNet"]):
        case = problem(
            shape, np.float64, model, "intercept+weights", alpha_fraction=0.01
        )
        label = f"{shape}-{model}-"
        for _ in solve_every_mode(  # (its assertions are the test)
            case, layout, np.float64, tol, exact_zeros=False, label=label
        ):
            pass


@pytest.mark.slow
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("layout", ["dense", "csc32", "csc64"])
def test_threads_are_bit_identical(layout, dtype):
    """The parallel sweep splits X~^T S r by columns: 2 threads change nothing."""
    for shape, model in itertools.product(sorted(SHAPES), ["Lasso", "ElasticNet"]):
        X, y, sw, fit_intercept, params, _, _ = problem(
            shape, dtype, model, "intercept+weights"
        )
        for mode in modes(layout):
            one = _solve(
                X,
                y,
                sw,
                fit_intercept,
                params,
                layout,
                tol=TOL[dtype],
                record_history=True,
                **mode,
            )
            two = _solve(
                X,
                y,
                sw,
                fit_intercept,
                params,
                layout,
                tol=TOL[dtype],
                record_history=True,
                **dict(mode, n_threads=2),
            )
            assert_array_equal(two.coef, one.coef, err_msg=_mode_id(mode))
            assert two.gap == one.gap and two.n_iter == one.n_iter
            assert_array_equal(two.history, one.history)


# -------------------------------------------------------------------------------------
# the less common branches


def test_working_sets_grow_several_times():
    """A small alpha on wide data: the support is ~30 features, the first working set
    10, so it must double at least twice; the result is the plain optimum."""
    X, y, sw, fit_intercept, params, ref, w_ref = problem(
        "wide", np.float64, "Lasso", "intercept+weights", alpha_fraction=0.005, seed=1
    )
    assert np.count_nonzero(w_ref) >= 25
    for layout in ("dense", "csc32"):
        for mode in modes(layout):
            if not mode["working_sets"]:
                continue
            sol = _solve(X, y, sw, fit_intercept, params, layout, tol=1e-12, **mode)
            assert sol.info["max_ws"] >= 40 and sol.info["outer"] >= 3, sol.info
            assert_same_optimum(ref, w_ref, sol, np.float64, _mode_id(mode))


@pytest.mark.parametrize("shape", sorted(SHAPES))
@pytest.mark.parametrize("model", ["Lasso", "ElasticNet"])
@pytest.mark.parametrize("layout", ["dense", "csc32"])
def test_screening_removes_nonzero_warm_start_coefficients(layout, model, shape):
    """Warm start = the optimum plus +-1e-5 on features that the Gap Safe test (in
    numpy) certifies inactive *at the warm start*: the first outer iteration screens
    them while they are nonzero, and must take them out of the residual (or, in full
    Gram mode, out of the cached gradient)."""
    X, y, sw, fit_intercept, params, ref, w_ref = problem(
        shape, np.float64, model, "intercept+weights"
    )
    w0 = w_ref.copy()
    candidates = np.flatnonzero(w_ref == 0)
    w0[candidates] = 1e-5 * np.where(np.arange(len(candidates)) % 2, 1, -1)
    kicked = candidates[ref.certified_zero(w0, ref.gap(w0))[candidates]]
    assert len(kicked) >= 3, "the warm start must be close enough to screen"
    assert ref.gap(w0) > 1e-6 * ref.scale  # far from tol: the solver has work to do
    for mode in modes(layout):
        if not mode["screening"]:
            continue
        sol = _solve(
            X, y, sw, fit_intercept, params, layout, tol=1e-12, coef_init=w0, **mode
        )
        assert sol.info["n_screened"] >= len(kicked)
        assert_array_equal(sol.coef[kicked], 0.0)
        assert_same_optimum(ref, w_ref, sol, np.float64, _mode_id(mode))


@pytest.mark.parametrize("positive", [False, True])
@pytest.mark.parametrize("layout", ["dense", "csc32"])
def test_everything_screened_from_a_nonzero_warm_start(layout, positive):
    """alpha above alpha_max from a small nonzero warm start: screening removes every
    feature (an empty working set), and the answer is exactly w = 0."""
    X, y, sw, fit_intercept, params, _ref, _ = problem(
        "wide", np.float64, "Lasso", "intercept+weights", alpha_fraction=1.5
    )
    params = dict(params, positive=positive)
    w0 = np.full(X.shape[1], 1e-6)
    for mode in modes(layout):
        sol = _solve(
            X, y, sw, fit_intercept, params, layout, tol=1e-10, coef_init=w0, **mode
        )
        assert_array_equal(sol.coef, 0.0, err_msg=_mode_id(mode))
        assert sol.converged
        if mode["screening"]:
            assert sol.info["n_screened"] == X.shape[1]


@pytest.mark.parametrize("variant", sorted(VARIANTS))
@pytest.mark.parametrize("model", ["Lasso", "ElasticNet"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("layout", ["csc32", "csc64"])
def test_newton_steps_on_correlated_sparse_columns(layout, dtype, model, variant):
    """Sparse data with correlated frequent columns: with acceleration the restricted
    solves take Newton steps on their support (counted in info["newton"]); every mode
    still returns the plain optimum with a gap that bounds its suboptimality."""
    case = problem("text", dtype, model, variant, alpha_fraction=0.01)
    # (at float32's looser tol some cases end before a step)
    _check_newton_steps(case, layout, dtype, default_steps=dtype == np.float64)


def _check_newton_steps(case, layout, dtype, default_steps):
    """Every mode on case reaches the plain optimum (solve_every_mode); without
    acceleration no Newton step is taken; with default_steps, the default mode takes
    at least one."""
    assert np.count_nonzero(case[-1]) >= 20
    # float32 residuals put a floor of a few 1e-6 ||y~||^2 / n under the gaps of these
    # ill-conditioned problems (for the plain method too)
    tol = 1e-5 if dtype == np.float32 else TOL[dtype]
    n_newton = {}
    for mode, what, sol in solve_every_mode(case, layout, dtype, tol):
        n_newton[what] = sol.info["newton"]
        if not mode["acceleration"]:
            assert sol.info["newton"] == 0, what
    if default_steps:
        default = _mode_id(
            dict(PLAIN, working_sets=True, screening=True, acceleration=True)
        )
        assert n_newton[default] >= 1, n_newton


@pytest.mark.parametrize("variant", ["none", "intercept+positive"])
@pytest.mark.parametrize("layout", ["csc32", "csc64"])
def test_newton_steps_take_in_violators_along_a_sparse_path(
    monkeypatch, layout, variant
):
    """A warm-started path on the correlated text-like columns, at the loose
    tolerance of the benchmarks: Newton steps take in features at 0 whose optimality
    condition fails, with their gradient's sign (counted in info["newton_entered"];
    none without acceleration), and every alpha is still the plain path's optimum,
    certified by its gap (nonnegative where asked)."""
    X, y, sw, fit_intercept, params, _, _ = problem(
        "text", np.float64, "Lasso", variant
    )
    design = make_design(as_layout(X, layout), sw, fit_intercept)
    target, _ = design.center(y)
    Xc, yc, s = _centred(X, y, sw, fit_intercept)
    alphas = params["alpha"] * np.geomspace(20, 0.02, 40)  # alpha_max / 1000
    positive = params["positive"]
    ref_coefs, ref_gaps, _, _ = solve_path(
        design, target, alphas, positive=positive, tol=1e-12, max_iter=10**6, **PLAIN
    )
    entered = []
    solve = solve_module.solve_cd

    def counted(*args, **kwargs):
        sol = solve(*args, **kwargs)
        entered.append(sol.info["newton_entered"])
        return sol

    monkeypatch.setattr(path_module, "solve_cd", counted)
    for accel in (True, False):
        entered.clear()
        coefs, gaps, _, conv = solve_path(
            design, target, alphas, positive=positive, tol=1e-4, max_iter=10**6,
            acceleration=accel,
        )
        assert all(conv)
        if accel:
            assert sum(entered) >= 1
        else:
            assert sum(entered) == 0
        for k, alpha in enumerate(alphas):
            ref = Reference(Xc, yc, s, alpha, 1.0, positive, s @ (yc * yc) / len(yc))
            P, P_ref = ref.objective(coefs[:, k]), ref.objective(ref_coefs[:, k])
            slack = SLACK[np.float64] * ref.scale
            assert P <= P_ref + gaps[k] + slack, f"alpha #{k}"
            assert P_ref <= P + ref_gaps[k] + slack, f"alpha #{k}"
            if positive:
                assert (coefs[:, k] >= 0).all(), f"alpha #{k}"


# the dense cases with a support of >= 20 (weights+positive keeps 7 features)
DENSE_NEWTON_VARIANTS = ["intercept+weights", "intercept+positive", "none"]


@pytest.mark.slow
@pytest.mark.parametrize("variant", DENSE_NEWTON_VARIANTS)
@pytest.mark.parametrize("model", ["Lasso", "ElasticNet"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
def test_direct_newton_steps_on_dense_data(dtype, model, variant):
    """Dense data, p > n, alpha_max / 1000: with acceleration the data-inner solves
    take direct (Cholesky) Newton steps on their support; every mode still returns
    the plain optimum with a gap that bounds its suboptimality."""
    case = problem("wide", dtype, model, variant, alpha_fraction=0.001)
    _check_newton_steps(case, "dense", dtype, default_steps=True)


@pytest.mark.parametrize("variant", list(VARIANTS))
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("layout", ["csc32", "csc64"])
def test_first_gradient_from_the_column_statistics(layout, dtype, variant):
    """Sparse X: make_design_for_target returns Design.center's y_c and, from the pass
    of the column statistics, X^T S y_c; a solve from w = 0 given it as its first
    gradient (workspace_at_zero) reaches the plain optimum in every mode. The gradients
    are really read: all-zero ones make w = 0 look optimal."""
    case = problem("text", dtype, "Lasso", variant)
    X, y, sw, fit_intercept, params, ref, w_ref = case
    A = as_layout(X, layout)
    design, yc, y_mean, xty = make_design_for_target(A, y, sw, fit_intercept)
    yc_alone, y_mean_alone = make_design(A, sw, fit_intercept).center(y)
    assert_array_equal(yc, yc_alone)
    assert y_mean == y_mean_alone
    s = np.ones(len(y)) if design.sw is None else design.sw.astype(np.float64)
    syc = s * yc.astype(np.float64)
    X64 = X.astype(np.float64)
    scale = (np.abs(X64).T @ np.abs(syc)).max()
    assert_allclose(xty, X64.T @ syc, rtol=0, atol=1e-13 * scale)
    tol = 1e-5 if dtype == np.float32 else TOL[dtype]  # see the Newton test
    for mode in modes(layout):
        bounds = workspace_at_zero(design, xty)
        sol = _solve_design(design, yc, params, tol=tol, workspace=bounds, **mode)
        assert_same_optimum(ref, w_ref, sol, dtype, _mode_id(mode), exact_zeros=True)
    assert np.count_nonzero(w_ref) > 0
    bounds = workspace_at_zero(design, np.zeros_like(xty))
    fooled = _solve_design(design, yc, params, tol=tol, workspace=bounds)
    assert not fooled.coef.any()


def test_first_gradient_only_for_sparse_single_target_cold_fits(monkeypatch):
    """Lasso.fit takes the first gradient from the column statistics for sparse and
    C-ordered X, one target, no warm start and the CD solver; Fortran-ordered X has
    none to give, a warm start starts elsewhere, a prox solver has no use for it; the
    bounds must be fresh and have one gradient per feature."""
    X, y, _ = _data(60, 30, seed=2)
    used = []
    real = _estimators.workspace_at_zero
    monkeypatch.setattr(
        _estimators, "workspace_at_zero",
        lambda design, xty: used.append(xty is not None) or real(design, xty),
    )
    sparse = fastlasso.Lasso(alpha=0.05, tol=1e-12, warm_start=True)
    sparse.fit(sp.csc_matrix(X), y)
    dense = fastlasso.Lasso(alpha=0.05, tol=1e-12).fit(np.asfortranarray(X), y)
    assert used == [True, False]
    sparse.fit(sp.csc_matrix(X), y)  # warm start: not from w = 0
    assert used == [True, False, False]
    fastlasso.Lasso(alpha=0.05, solver="fista").fit(sp.csc_matrix(X), y)
    assert used == [True, False, False, False]  # a prox solver has no use for it
    c_order = fastlasso.Lasso(alpha=0.05, tol=1e-12).fit(np.ascontiguousarray(X), y)
    assert used == [True, False, False, False, True]
    assert_allclose(sparse.coef_, dense.coef_, rtol=1e-6, atol=1e-8)
    assert_allclose(c_order.coef_, dense.coef_, rtol=1e-6, atol=1e-8)
    bounds = _cd.PathWorkspace(60, 30)
    with pytest.raises(ValueError, match="one gradient per feature"):
        bounds.start_at_zero(np.zeros(29))
    design = make_design(X, None, True)
    yc, _ = design.center(y)
    solve_cd(design, yc, 0.05, workspace=bounds)
    with pytest.raises(ValueError, match="fresh bounds"):
        bounds.start_at_zero(np.zeros(30))


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("layout", ["dense", "csc32"])
def test_ridge_limit_matches_the_closed_form(layout, fit_intercept):
    """l1_ratio = 0 (no l1 term: no screening, no working sets) in every mode gives
    (X~^T S X~ / n + alpha I)^-1 X~^T S y~ / n, within the distance its gap allows
    (plus rounding: Gram-mode residual norms are differences of large numbers)."""
    X, y, sw = _data(60, 30, seed=4)
    Xc, yc, s = _centred(X, y, sw, fit_intercept)
    alpha = 0.3
    n = len(y)
    scale = s @ (yc * yc) / n
    w_exact = np.linalg.solve(
        Xc.T @ (s[:, None] * Xc) / n + alpha * np.eye(30), Xc.T @ (s * yc) / n
    )
    for mode in modes(layout):
        design = make_design(as_layout(X, layout), sw, fit_intercept)
        target, _ = design.center(y)
        sol = solve_cd(design, target, alpha, 0.0, tol=1e-13, max_iter=10**6, **mode)
        what = _mode_id(mode)
        assert sol.converged, what
        # strong convexity: alpha/2 ||w - w*||^2 <= P(w) - P* <= gap (+ rounding)
        dist = np.linalg.norm(sol.coef - w_exact)
        assert dist <= np.sqrt(2 * (max(sol.gap, 0) + 1e-14 * scale) / alpha), what


def _lazy_path(monkeypatch, slots, X, y, alphas, **options):
    monkeypatch.setattr(solve_module, "LAZY_GRAM_MAX_SLOTS", slots)
    design = make_design(np.asfortranarray(X), None, True)
    target, _ = design.center(y)
    return solve_path(
        design, target, alphas, 1.0, gram_mode="lazy", tol=1e-12, max_iter=10**6,
        **options,
    )


@pytest.mark.slow
@pytest.mark.parametrize("slots", [8, 70, 130, 4096])
def test_lazy_gram_cache_overflowing_its_slot_budget(monkeypatch, slots):
    """A path on 1100 x 300 data keeps one lazy Gram cache for every alpha, while the
    support grows to ~100 features. A budget below the first working set (64)
    forces every restricted problem back onto the data; budgets in between force the
    cache to be cleared and refilled; the default holds everything. The path must be
    the data-only path."""
    X, y, _ = _data(1100, 300, seed=5)
    Xc, yc, _ = _centred(X, y, None, True)
    amax = np.abs(Xc.T @ yc).max() / len(y)
    alphas = amax * np.geomspace(0.9, 0.004, 12)
    coefs, gaps, _, conv = _lazy_path(monkeypatch, slots, X, y, alphas)
    design = make_design(np.asfortranarray(X), None, True)
    target, _ = design.center(y)
    ref_coefs, ref_gaps, _, _ = solve_path(
        design, target, alphas, 1.0, tol=1e-12, max_iter=10**6, **PLAIN
    )
    assert all(conv)
    assert np.count_nonzero(ref_coefs[:, -1]) >= 80  # working sets > 130 at the end
    for k, alpha in enumerate(alphas):
        ref = Reference(Xc, yc, np.ones(len(y)), alpha, 1.0, False, yc @ yc / len(y))
        P, P_ref = ref.objective(coefs[:, k]), ref.objective(ref_coefs[:, k])
        assert abs(P - P_ref) <= gaps[k] + ref_gaps[k] + 1e-13 * ref.scale
        assert_allclose(
            coefs[:, k],
            ref_coefs[:, k],
            rtol=1e-6,
            atol=1e-7 * np.abs(ref_coefs[:, k]).max(),
        )


@pytest.mark.parametrize("slots", [8, 100, 4096])
def test_lazy_gram_cache_budget_white_box(slots):
    """The same path with the cache in hand: it never holds more than its budget, and
    the branch each budget is meant to reach is reached: 8 slots: a working set it
    cannot hold empties it (the restricted problem goes back to the data); 100: it is
    cleared to make room and refilled (its size drops, Gram blocks in use); the
    default: it grows past its first allocation. Every alpha is the plain optimum."""
    X, y, _ = _data(1100, 300, seed=5)
    design = make_design(np.asfortranarray(X), None, True)
    target, _ = design.center(y)
    Xc, yc, _ = _centred(X, y, None, True)
    amax = np.abs(Xc.T @ yc).max() / len(y)
    cache = _cd.GramCache(300, slots)
    bounds = _cd.PathWorkspace(1100, 300)
    cached, gram_used, w = [], [], None
    for alpha in amax * np.geomspace(0.9, 0.004, 12):
        sol = solve_cd(
            design,
            target,
            alpha,
            coef_init=w,
            tol=1e-12,
            gram_mode="lazy",
            gram_cache=cache,
            workspace=bounds,
            max_iter=10**6,
        )
        plain = solve_cd(design, target, alpha, tol=1e-14, max_iter=10**6, **PLAIN)
        ref = Reference(Xc, yc, np.ones(1100), alpha, 1.0, False, yc @ yc / 1100)
        assert_same_optimum(ref, plain.coef, sol, np.float64, f"alpha={alpha}")
        cached.append(cache.n_cached)
        gram_used.append(sol.info["gram_inner"])
        w = sol.coef
    assert max(cached) <= slots
    if slots == 8:  # a working set it cannot hold: emptied, back on the data
        assert any(a > 0 and b == 0 for a, b in itertools.pairwise(cached)), cached
    elif slots == 100:  # cleared to take a new working set, which it then holds
        drops = [k for k in range(1, len(cached)) if 0 < cached[k] < cached[k - 1]]
        assert drops and gram_used[drops[0]], (cached, gram_used)
    else:  # grown past its first allocation of 64 slots
        assert max(cached) > 128, cached


PATH_MODES = [
    dict(PLAIN, working_sets=ws, screening=sc, acceleration=ac, gram_mode=g)
    for ws, sc, ac, g in [
        (True, True, True, "off"),
        (True, False, False, "off"),
        (False, True, False, "off"),
        (True, True, True, "lazy"),
        (True, True, True, "full"),
        (False, False, True, "full"),
    ]
]


@pytest.mark.parametrize(
    "layout, shape", [c for c in LAYOUT_SHAPES if c.values[0] in ("dense", "csc32")]
)
def test_paths_in_every_mode_match_the_plain_path(layout, shape):
    """Warm-started paths (with gradient bounds carried between alphas) in different
    modes: each alpha certified and equal to the plain path's."""
    X, y, sw, fit_intercept, params, _, _ = problem(
        shape, np.float64, "ElasticNet", "intercept+weights"
    )
    design = make_design(as_layout(X, layout), sw, fit_intercept)
    target, _ = design.center(y)
    Xc, yc, s = _centred(X, y, sw, fit_intercept)
    alphas = params["alpha"] * np.geomspace(15, 0.1, 15)
    ref_coefs, ref_gaps, _, _ = solve_path(
        design, target, alphas, 0.5, tol=1e-13, max_iter=10**6, **PLAIN
    )
    for mode in PATH_MODES:
        if layout != "dense" and mode["gram_mode"] != "off":
            continue
        coefs, gaps, _, conv = solve_path(
            design, target, alphas, 0.5, tol=1e-12, max_iter=10**6, **mode
        )
        assert all(conv), _mode_id(mode)
        for k, alpha in enumerate(alphas):
            ref = Reference(Xc, yc, s, alpha, 0.5, False, s @ (yc * yc) / len(yc))
            P, P_ref = ref.objective(coefs[:, k]), ref.objective(ref_coefs[:, k])
            what = f"{_mode_id(mode)} alpha #{k}"
            assert P <= P_ref + gaps[k] + 1e-13 * ref.scale, what
            assert P_ref <= P + ref_gaps[k] + 1e-13 * ref.scale, what
            assert_allclose(
                coefs[:, k],
                ref_coefs[:, k],
                rtol=1e-6,
                atol=1e-7 * max(np.abs(ref_coefs[:, k]).max(), 1e-300),
                err_msg=what,
            )


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("layout", ["dense", "csc32"])
def test_paths_carry_the_residual_between_alphas(layout, dtype):
    """Along a path each solve takes over the residual the previous one ended on (and,
    in float64, keeps updating it instead of recomputing it): every alpha is the
    optimum, certified by its gap, in both precisions (with intercept and weights,
    where the sparse residual has its centring offset)."""
    X, y, sw, fit_intercept, params, _, _ = problem(
        "wide", dtype, "ElasticNet", "intercept+weights"
    )
    design = make_design(as_layout(X, layout), sw, fit_intercept)
    target, _ = design.center(y)
    Xc, yc, s = _centred(X, y, sw, fit_intercept)
    alphas = params["alpha"] * np.geomspace(15, 0.1, 15)
    design64 = make_design(X.astype(np.float64), sw, fit_intercept)
    target64, _ = design64.center(y)
    ref_coefs, ref_gaps, _, _ = solve_path(
        design64, target64, alphas, 0.5, tol=1e-13, max_iter=10**6, **PLAIN
    )
    coefs, gaps, _, conv = solve_path(
        design, target, alphas, 0.5, tol=TOL[dtype], max_iter=10**6
    )
    assert all(conv) and coefs.dtype == dtype
    slack = SLACK[dtype]
    for k, alpha in enumerate(alphas):
        ref = Reference(Xc, yc, s, alpha, 0.5, False, s @ (yc * yc) / len(yc))
        P, P_ref = ref.objective(coefs[:, k]), ref.objective(ref_coefs[:, k])
        assert P <= P_ref + gaps[k] + slack * ref.scale, f"alpha #{k}"
        assert P_ref <= P + ref_gaps[k] + slack * ref.scale, f"alpha #{k}"


@pytest.mark.parametrize("model", ["Lasso", "ElasticNet"])
def test_tol_zero_runs_on_like_a_tiny_tol(model):
    """tol=0 asks for max_iter epochs: the restricted problems of the working sets are
    still solved only down to rounding noise, so the working set grows as with a tiny
    positive tol (it used to stay on its first one, trying to reach a gap of 0: an
    objective 80x the optimum after 2000 epochs on this problem)."""
    rng = np.random.default_rng(0)
    X = sp.random(400, 1200, density=0.05, random_state=1, format="csc")
    X.data = rng.standard_normal(X.nnz)
    y = X[:, ::40] @ rng.standard_normal(30) + rng.standard_normal(400)
    est = getattr(fastlasso, model)
    kw = dict(l1_ratio=0.9) if model == "ElasticNet" else {}
    fits = [
        est(alpha=1e-4, tol=tol, max_iter=2000, **kw).fit(X, y) for tol in (0.0, 1e-12)
    ]
    assert_allclose(fits[0].coef_, fits[1].coef_, rtol=1e-6, atol=1e-8)
    assert fits[0].dual_gap_ <= 1.01 * fits[1].dual_gap_


@pytest.mark.parametrize("model", ["Lasso", "ElasticNet"])
def test_estimator_precompute_and_n_jobs(model):
    """The public switches: precompute False / True / "auto" / a Gram array give the
    same fit; n_jobs=2 is bit-identical to one thread."""
    X, y, sw, fit_intercept, params, ref, w_ref = problem(
        "tall", np.float64, model, "intercept+weights"
    )
    Xc, _, s = _centred(X, y, sw, fit_intercept)
    est = getattr(fastlasso, model)
    kw = {"alpha": params["alpha"], "tol": 1e-12, "max_iter": 10**6}
    if model == "ElasticNet":
        kw["l1_ratio"] = params["l1_ratio"]
    fits = {}
    for pre in (False, True, "auto", "array"):
        pre_arg = Xc.T @ (s[:, None] * Xc) if pre == "array" else pre
        one = est(precompute=pre_arg, **kw).fit(X, y, sample_weight=sw)
        two = est(precompute=pre_arg, n_jobs=2, **kw).fit(X, y, sample_weight=sw)
        assert_array_equal(two.coef_, one.coef_)
        assert two.dual_gap_ == one.dual_gap_
        fits[pre] = one
    for pre, fit in fits.items():
        P = ref.objective(fit.coef_)
        assert P <= ref.objective(w_ref) + fit.dual_gap_ + 1e-13 * ref.scale, pre
        assert_allclose(fit.coef_, w_ref, rtol=1e-6, atol=1e-7 * np.abs(w_ref).max())


def _tiny_problem():
    """8 x 7 data on a grid (found by hypothesis): the Elastic Net optimum at this
    alpha has features 0, 1, 2, 4, 6 certified zero by the Gap Safe test."""
    X = np.zeros((8, 7))
    X[1, 3], X[1, 4] = 1.0, 0.25
    X[3, 1], X[3, 3] = -0.75, 0.25
    X[6, 1] = -1.5
    X[7, 3], X[7, 4], X[7, 5] = -0.25, 1.0, 2.0
    y = np.array([0.0, -1.75, 0.0, 0.0, 0.0, -0.5, -1.5, 2.0])
    return X, y, 0.18489583333333331, 0.9


@pytest.mark.parametrize(
    "mode", [pytest.param(m, id=_mode_id(m)) for m in modes("dense")]
)
def test_certified_zeros_are_exact_zeros(mode):
    """A coefficient that the optimum certifies to be 0 comes back as exactly 0 (as
    plain coordinate descent, whose soft-thresholding gives exact zeros, returns it),
    at a tolerance the fit reaches."""
    X, y, alpha, l1_ratio = _tiny_problem()
    Xc, yc, s = _centred(X, y, None, True)
    ref = Reference(Xc, yc, s, alpha, l1_ratio, False, yc @ yc / len(y))
    design = make_design(np.asfortranarray(X), None, True)
    target, _ = design.center(y)
    w_ref = solve_cd(design, target, alpha, l1_ratio, tol=1e-14, **PLAIN).coef
    zero = ref.certified_zero(w_ref, ref.gap(w_ref))
    assert zero.sum() == 5
    sol = solve_cd(design, target, alpha, l1_ratio, tol=1e-10, **mode)
    assert_same_optimum(ref, w_ref, sol, np.float64, _mode_id(mode))
    assert_array_equal(sol.coef[zero], 0.0)


@pytest.mark.parametrize("weighted", [False, True])
def test_float32_tolerance_below_its_rounding_does_not_spend_max_iter(weighted):
    """A float32 fit asked for a gap below float32's resolution (tol=1e-8: the
    restricted gap computed from a float32 residual levels off near 5e-8 ||y_c||^2,
    and a float32 w itself has a gap near 1e-7 ||y_c||^2 in exact arithmetic) must not
    spend its whole epoch budget in one restricted solve chasing it: the restricted
    solves stop at float32's rounding, the outer loop goes on and ends at the best
    point float32 holds. Judged in float64 numpy: the relative duality gap of the
    returned w, with the dual point of its residual, is <= 1e-6."""
    rng = np.random.default_rng(2)
    n, p = 200, 20_000
    X = rng.standard_normal((n, p))
    y = X[:, :20] @ rng.standard_normal(20) + rng.standard_normal(n)
    sw = rng.uniform(0.5, 2.0, n) if weighted else np.ones(n)
    s = sw / sw.mean()
    yc = y - np.average(y, weights=s)
    Xc = X - np.average(X, axis=0, weights=s)
    alpha = np.abs(Xc.T @ (s * yc)).max() / n / 20
    est = fastlasso.Lasso(alpha=alpha, tol=1e-8, max_iter=1000)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(X.astype(np.float32), y, sample_weight=sw if weighted else None)
    assert est.n_iter_ < 1000
    w = est.coef_.astype(np.float64)
    r = yc - Xc @ w
    primal = 0.5 * np.sum(s * r * r) / n + alpha * np.abs(w).sum()
    theta = r / max(1.0, np.abs(Xc.T @ (s * r)).max() / n / alpha)
    dual = (s * theta) @ yc / n - 0.5 * np.sum(s * theta * theta) / n
    assert primal - dual <= 1e-6 * np.sum(s * yc * yc) / n


def test_dense_working_sets_grow_from_the_last_one_on_wide_data(monkeypatch):
    """A cold fit on wide correlated data (the benchmarks' "wide" problem: 500 x
    10,000, AR(1) columns with rho = 0.95, 100 relevant features, alpha_max/10): the
    restricted solves keep only part of each working set (24 features of the first
    64), and while the violators outnumber the support the next working set doubles
    the larger of the support and the last working set (64, 128, 256, 500), not the
    support alone (64, 48, 60, 80, 122, ...: 14 outer passes instead of 10), and the
    fit is certified as before."""
    rng = np.random.default_rng(0)
    n, p = 500, 10_000
    X = np.asfortranarray(rng.standard_normal((n, p)))
    for j in range(1, p):
        X[:, j] *= np.sqrt(1.0 - 0.95**2)
        X[:, j] += 0.95 * X[:, j - 1]
    w0 = np.zeros(p)
    support = rng.choice(p, size=100, replace=False)
    w0[support] = rng.choice([-1.0, 1.0], 100) * rng.uniform(0.5, 1.5, 100)
    signal = X @ w0
    y = signal / signal.std() + rng.standard_normal(n) / 3.0
    alpha = np.abs((X - X.mean(axis=0)).T @ (y - y.mean())).max() / n / 10
    outer = []
    kernel = _cd.enet_cd_dense

    def counted(*args, **kwargs):
        out = kernel(*args, **kwargs)
        outer.append(out["outer"])
        return out

    monkeypatch.setattr(_cd, "enet_cd_dense", counted)
    est = fastlasso.Lasso(alpha=alpha).fit(X, y)  # tol=1e-4
    assert len(outer) == 1 and outer[0] <= 11, outer
    assert 0 <= est.dual_gap_ <= 1e-4 * np.var(y)
    assert np.count_nonzero(est.coef_) > 100


def test_kernel_work_counts_every_pass_over_the_data():
    """The kernel's ``work`` (entries of X it read) counts the epochs, the restricted
    gap checks and the outer gradient passes: plain sweeps of E = 20 epochs over a
    200 x 50 design whose 50 features all enter the support read X E times, twice
    more for the restricted gaps (every 10 epochs) and once for the first outer pass,
    plus O(n |supp|) for the residual and the gap of the last pass."""
    rng = np.random.default_rng(0)
    n, p = 200, 50
    X = np.asfortranarray(rng.standard_normal((n, p)))
    y = X @ rng.standard_normal(p) + rng.standard_normal(n)
    design = make_design(X, None, True)
    target, _ = design.center(y)
    sol = solve_cd(design, target, 1e-4, tol=0.0, max_iter=20, warn=False, **PLAIN)
    assert sol.info["epochs"] == 20 and np.count_nonzero(sol.coef) == p
    assert 23 <= sol.info["work"] / (n * p) <= 25, sol.info["work"] / (n * p)
