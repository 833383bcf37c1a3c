"""Property-based tests (hypothesis) over random small problems.

Data are drawn on a grid (multiples of 1/4 in [-2, 2]), so they are exact in float32
and float64 and full of the degeneracies that fixed seeds rarely produce: zeros,
repeated and collinear columns, constant columns, ties. Every bound is derived from
the duality gap of the returned solution, recomputed here in float64 numpy from its
definition (weak duality: the gap bounds P(w) - min P), so no expected value comes
from the code under test:

    P(w) = ||y~ - X~ w||_S^2 / (2n) + alpha rho ||w||_1 + alpha (1 - rho)/2 ||w||^2,

X~, y~ centred with the weights S (rescaled to sum to n) when fitting an intercept.
P is (1/n)-strongly convex along X~ w and alpha (1 - rho)-strongly convex in w, so two
solutions with gaps g1, g2 satisfy ||X~ (w1 - w2)||_S <= sqrt(2 n g1) + sqrt(2 n g2).
"""

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from helpers import entry_point

pytestmark = pytest.mark.slow  # 40 drawn problems per test

# the drawn l1_ratio is passed to both (the Lasso drops it)
ESTIMATORS = {name: entry_point(name) for name in ("Lasso", "ElasticNet")}
# derandomized: CI draws the same examples every run (a random draw once found the
# case below, which failed a run that had passed before it)
SETTINGS = settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
# 9 of 13 columns in the support of an 8-row problem without intercept, at alpha_max /
# 50: coordinate descent converges slowly (scikit-learn needs 711,618 epochs for tol
# 1e-10, fastlasso 296,680)
SLOW_DEGENERATE = (
    np.array([
        [0, -0.5, -1, -1.75, -1.75, 0, 0, 0, 0.5, 0, 0, 0, 1.75],
        [0, -1, 0, -1, 2, 0.75, 0, 0, 1.75, 0, 0.5, 0, -2],
        [0, 0, 0, 0.5, -0.75, 0, 0, 0.5, 0, 0, 0, 0, -1.5],
        [0, -1.5, 1, 0.75, -0.25, -0.5, 0, 0, 0.75, 0, -2, 0, 1.75],
        [0, 1.5, -1, 0, -2, -1.5, 0, 0, 0.25, 0, 1.75, 0, 0],
        [0, 1.75, -2, -0.5, -1.75, -1.75, 0, 0, 1.5, 0, -1.5, 0, 0],
        [0, -1, -1.5, 0.75, -0.75, -0.25, 0, 0, -1.75, 0, -0.25, 0, 1.5],
        [0, 0.75, -1, 0, 0.5, 1, 0, -2, 1.5, 0, -1.75, 0, 0],
    ]),
    np.array([0, 0, 0, 0, 0.25, 0, 0, 0]),
    None,
    {"alpha": 0.00125, "l1_ratio": 1.0, "fit_intercept": False, "positive": False},
)


@st.composite
def problems(draw, name):
    """(X, y, sample_weight or None, params) of a small Lasso / Elastic Net fit."""
    n = draw(st.integers(2, 25))
    p = draw(st.integers(1, 15))
    grid = st.integers(-8, 8).map(lambda v: v / 4)
    X = draw(arrays(np.float64, (n, p), elements=grid))
    y = draw(arrays(np.float64, n, elements=grid))
    sw = None
    if draw(st.booleans()):
        sw = draw(arrays(np.float64, n, elements=st.integers(0, 4).map(float)))
        if sw.sum() == 0:
            sw[draw(st.integers(0, n - 1))] = 1.0
    fit_intercept = draw(st.booleans())
    l1_ratio = 1.0 if name == "Lasso" else draw(st.sampled_from([0.1, 0.5, 0.9]))
    positive = draw(st.booleans())
    amax = alpha_max(X, y, sw, fit_intercept, l1_ratio)
    frac = draw(st.sampled_from([0.02, 0.1, 0.3, 0.7, 1.0, 1.5]))
    # an alpha_max at rounding level (y~ orthogonal to every column in exact
    # arithmetic) is 0: frac * (rounding noise) would be an unregularised problem
    # whose duality gap cannot reach tol in float32
    if amax <= 1e-12 * correlation_bound(X, y, sw, fit_intercept, l1_ratio):
        amax = 0.0
    params = {
        "alpha": frac * amax if amax > 0 else frac,
        "l1_ratio": l1_ratio,
        "fit_intercept": fit_intercept,
        "positive": positive,
    }
    return X, y, sw, params


def _weights(sw, n):
    return np.ones(n) if sw is None else sw * (n / sw.sum())


def _centred(X, y, sw, fit_intercept):
    X = X.toarray() if sp.issparse(X) else np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    s = _weights(sw, X.shape[0])
    if fit_intercept:
        X = X - s @ X / s.sum()
        y = y - s @ y / s.sum()
    return X, y, s


def alpha_max(X, y, sw, fit_intercept, l1_ratio):
    Xc, yc, s = _centred(X, y, sw, fit_intercept)
    return np.abs(Xc.T @ (s * yc)).max() / (len(y) * l1_ratio)


def correlation_bound(X, y, sw, fit_intercept, l1_ratio):
    """Cauchy-Schwarz bound on alpha_max: max_j ||x~_j||_S ||y~||_S / (n rho)."""
    Xc, yc, s = _centred(X, y, sw, fit_intercept)
    col = np.sqrt(s @ (Xc * Xc)).max()
    return col * np.sqrt(s @ (yc * yc)) / (len(y) * l1_ratio)


def duality_gap(X, y, sw, w, alpha, l1_ratio, fit_intercept, positive):
    """(gap, ||y~||_S^2 / n) in P's units, float64.

    On the weighted data A = S^(1/2) X~, b = S^(1/2) y~ with lam = n alpha rho and
    mu = n alpha (1 - rho), the dual point theta = c r (r = b - A w) with c the
    largest scaling in [0, 1] such that |A^T theta - c mu w|_inf <= lam (max instead
    of |.| when positive) gives n * gap = ||r||^2 (1 + c^2) / 2 + lam ||w||_1
    - c r^T b + mu (1 + c^2) ||w||^2 / 2.
    """
    Xc, yc, s = _centred(X, y, sw, fit_intercept)
    n = len(yc)
    A, b = np.sqrt(s)[:, None] * Xc, np.sqrt(s) * yc
    w = np.asarray(w, dtype=np.float64)
    lam, mu = n * alpha * l1_ratio, n * alpha * (1 - l1_ratio)
    r = b - A @ w
    xta = A.T @ r - mu * w
    dual_norm = xta.max() if positive else np.abs(xta).max()
    c = min(1.0, lam / dual_norm) if dual_norm > 0 else 1.0
    gap = (
        (r @ r) * (1 + c * c) / 2
        + lam * np.abs(w).sum()
        - c * (r @ b)
        + mu * (1 + c * c) * (w @ w) / 2
    )
    return gap / n, (b @ b) / n


def kkt_violation(X, y, sw, w, alpha, l1_ratio, fit_intercept, positive):
    """Per feature: distance of the gradient of the smooth part to the subdifferential
    of the penalty (0 at an optimum)."""
    Xc, yc, s = _centred(X, y, sw, fit_intercept)
    w = np.asarray(w, dtype=np.float64)
    c = Xc.T @ (s * (yc - Xc @ w)) / len(yc) - alpha * (1 - l1_ratio) * w
    lam = alpha * l1_ratio
    at_zero = np.maximum(c - lam, 0.0) if positive else np.maximum(np.abs(c) - lam, 0)
    viol = np.where(w != 0, np.abs(c - lam * np.sign(w)), at_zero)
    return np.where(positive & (w < 0), np.inf, viol)


def _correlations(X, y, sw, w, params):
    """c_j = x~_j^T S r / n - alpha (1 - rho) w_j, and d_j = ||x~_j||_S^2 / n."""
    Xc, yc, s = _centred(X, y, sw, params["fit_intercept"])
    w = np.asarray(w, dtype=np.float64)
    mu = params["alpha"] * (1 - params["l1_ratio"])
    c = Xc.T @ (s * (yc - Xc @ w)) / len(yc) - mu * w
    return c, s @ (Xc * Xc) / len(yc)


def zero_consistent(X, y, sw, w, params, tol):
    """Features whose c_j is within tol of [-lam, lam] (of (-inf, lam] if positive),
    as it is at an optimum with w*_j = 0."""
    c, _ = _correlations(X, y, sw, w, params)
    lam = params["alpha"] * params["l1_ratio"]
    return (c if params["positive"] else np.abs(c)) <= lam + tol


def zeroing_gain(X, y, sw, w, params):
    """P(w) - P(w with w_j = 0) for each j: |w_j| (lam - sign(w_j) c_j)
    - w_j^2 (d_j + alpha (1 - rho)) / 2 (exact: P is quadratic in w_j on either
    side of 0). Since P(w with w_j = 0) >= P*, it is at most P(w) - P* <= gap."""
    c, d = _correlations(X, y, sw, w, params)
    w = np.asarray(w, dtype=np.float64)
    lam = params["alpha"] * params["l1_ratio"]
    mu = params["alpha"] * (1 - params["l1_ratio"])
    return np.abs(w) * (lam - np.sign(w) * c) - w * w * (d + mu) / 2


def kkt_bound(X, sw, gap, alpha, l1_ratio, fit_intercept):
    """max |c_j(w) - c_j(w*)| over w with P(w) - P* <= gap (strong convexity)."""
    Xc, _, s = _centred(X, np.zeros(X.shape[0]), sw, fit_intercept)
    col = np.sqrt(s @ (Xc * Xc))
    n = Xc.shape[0]
    return col * np.sqrt(2 * gap / n) + np.sqrt(2 * gap * alpha * (1 - l1_ratio))


def _fit(name, X, y, sw, params, **extra):
    est = ESTIMATORS[name](**params, **extra)
    return est.fit(X, y, sample_weight=sw)


def _gap(X, y, sw, est, params):
    return duality_gap(
        X,
        y,
        sw,
        est.coef_,
        params["alpha"],
        params["l1_ratio"],
        params["fit_intercept"],
        params["positive"],
    )


@pytest.mark.parametrize("name", sorted(ESTIMATORS))
@pytest.mark.parametrize("layout", ["dense", "csc"])
def test_certificate_and_kkt(name, layout):
    """The returned w is certified by an independently computed duality gap at the
    requested tolerance, and the optimality conditions hold within the bound that
    gap implies; the intercept is ybar - xbar^T w."""

    @SETTINGS
    @given(problems(name))
    @example(SLOW_DEGENERATE)
    def check(problem):
        X, y, sw, params = problem
        Xl = sp.csc_matrix(X) if layout == "csc" else X
        tol = 1e-10
        est = _fit(name, Xl, y, sw, params, tol=tol, max_iter=1_000_000)
        gap, yy = _gap(X, y, sw, est, params)
        slack = 1e-12 * max(yy, 1.0)
        assert gap <= tol * yy + slack
        viol = kkt_violation(
            X,
            y,
            sw,
            est.coef_,
            params["alpha"],
            params["l1_ratio"],
            params["fit_intercept"],
            params["positive"],
        )
        bound = kkt_bound(
            X,
            sw,
            max(gap, 0.0) + slack,
            params["alpha"],
            params["l1_ratio"],
            params["fit_intercept"],
        )
        ok = viol <= 2 * bound + 1e-9
        # w_j != 0 where w*_j = 0 has no small violation to show (the subdifferential
        # jumps at 0): there the gradient must be consistent with w*_j = 0 and the
        # objective must pay no more than the gap for keeping w_j (zeroing_gain)
        free = zero_consistent(X, y, sw, est.coef_, params, 2 * bound + 1e-9) & (
            zeroing_gain(X, y, sw, est.coef_, params) <= max(gap, 0.0) + slack
        )
        assert np.all(ok | ((est.coef_ != 0) & free)), (viol, bound)
        s = _weights(sw, len(y))
        if params["fit_intercept"]:
            b = s @ (y - X @ est.coef_) / s.sum()
        else:
            b = 0.0
        assert np.isclose(est.intercept_, b, rtol=1e-9, atol=1e-9 * (1 + abs(b)))

    check()


@pytest.mark.parametrize("name", sorted(ESTIMATORS))
def test_sparse_and_dense_agree(name):
    """Dense, CSC and CSR fits are the same solution: objectives within the sum of
    the gaps, fitted values within the strong-convexity bound (and coefficients, for
    the strictly convex Elastic Net)."""

    @SETTINGS
    @given(problems(name))
    def check(problem):
        X, y, sw, params = problem
        fits = [
            _fit(name, Xl, y, sw, params, tol=1e-10, max_iter=100_000)
            for Xl in (X, sp.csc_matrix(X), sp.csr_matrix(X))
        ]
        gaps = [max(_gap(X, y, sw, f, params)[0], 0.0) + 1e-13 for f in fits]
        Xc, _, s = _centred(X, y, sw, params["fit_intercept"])
        n = len(y)
        ref = fits[0]
        for f, g in zip(fits[1:], gaps[1:], strict=True):
            d = Xc @ (f.coef_ - ref.coef_)
            assert (
                np.sqrt(s @ (d * d))
                <= np.sqrt(2 * n * g) + np.sqrt(2 * n * gaps[0]) + 1e-9
            )
            mu = params["alpha"] * (1 - params["l1_ratio"])
            if mu > 0:
                dist = np.linalg.norm(f.coef_ - ref.coef_)
                assert dist <= np.sqrt(2 * g / mu) + np.sqrt(2 * gaps[0] / mu) + 1e-9

    check()


@pytest.mark.parametrize("name", sorted(ESTIMATORS))
@pytest.mark.parametrize("layout", ["dense", "csc"])
def test_float32_agrees_with_float64(name, layout):
    """A float32 fit (grid data: the same numbers) solves the float64 problem to
    float32 precision: its float64 gap is below 1e-5 ||y~||^2 / n, and its fitted
    values are within the implied distance of the float64 fit's."""

    @SETTINGS
    @given(problems(name))
    def check(problem):
        X, y, sw, params = problem
        X32 = X.astype(np.float32)
        as_layout = sp.csc_matrix if layout == "csc" else np.asarray
        f64 = _fit(name, as_layout(X), y, sw, params, tol=1e-10, max_iter=100_000)
        f32 = _fit(
            name,
            as_layout(X32),
            y.astype(np.float32),
            sw,
            params,
            tol=1e-6,
            max_iter=100_000,
        )
        assert f32.coef_.dtype == np.float32
        g32, yy = _gap(X, y, sw, f32, params)
        g64, _ = _gap(X, y, sw, f64, params)
        assert g32 <= 1e-5 * yy + 1e-12
        Xc, _, s = _centred(X, y, sw, params["fit_intercept"])
        n = len(y)
        d = Xc @ (f32.coef_.astype(np.float64) - f64.coef_)
        bound = np.sqrt(2 * n * max(g32, 0)) + np.sqrt(2 * n * max(g64, 0))
        assert np.sqrt(s @ (d * d)) <= bound + 1e-6 * np.sqrt(n * yy) + 1e-12

    check()


@pytest.mark.parametrize("name", sorted(ESTIMATORS))
@pytest.mark.parametrize("layout", ["dense", "csc", "float32"])
def test_refit_is_bit_identical(name, layout):
    """The same fit twice, on the same estimator and on a fresh one, with cyclic or
    seeded random selection, gives bit-identical results."""

    @SETTINGS
    @given(problems(name), st.sampled_from(["cyclic", "random"]))
    def check(problem, selection):
        X, y, sw, params = problem
        if layout == "csc":
            X = sp.csc_matrix(X)
        elif layout == "float32":
            X = X.astype(np.float32)
        tol = 1e-6 if layout == "float32" else 1e-8
        extra = {"tol": tol, "selection": selection, "random_state": 7,
                 "max_iter": 100_000}
        est = _fit(name, X, y, sw, params, **extra)
        first = (est.coef_.copy(), est.intercept_, est.dual_gap_, est.n_iter_)
        est.fit(X, y, sample_weight=sw)
        fresh = _fit(name, X, y, sw, params, **extra)
        for other in (est, fresh):
            np.testing.assert_array_equal(other.coef_, first[0])
            assert other.intercept_ == first[1]
            assert other.dual_gap_ == first[2]
            assert other.n_iter_ == first[3]

    check()
