"""The same data give the same answer, to rounding, in every layout, dtype and Gram
mode: converged solves are finished exactly on their support (the kernels'
_polish.pxi). The reference is computed here from the optimality conditions alone:
the support and signs of a tight scikit-learn fit, the linear system they give solved
by least squares (QR), and the conditions checked on every feature.

At tol=1e-6 coordinate descent stops anywhere within its certificate (dense and CSC
fits of these problems were up to 3e-4 apart); the polished fits agree to ~1e-12.
"""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal
from sklearn import linear_model

import fastlasso
from fastlasso._data import make_design
from fastlasso._solve import solve_cd

from conftest import as_layout, centred, kkt_violation, rescaled_weights

LOOSE = 1e-6  # the fits' tolerance: far looser than the agreement asked for
# every way fastlasso can hold the same float64 data
LAYOUTS64 = [
    ("dense_F", {"precompute": False}),
    ("dense_C", {"precompute": False}),
    ("dense_F", {"precompute": True}),  # full Gram
    ("dense_F", {"precompute": "auto"}),
    ("csc", {}),
    ("csc64", {}),
    ("csr", {}),
]


def _layout(X, name):
    if name == "csc64":
        S = sp.csc_matrix(X)
        return sp.csc_matrix(
            (S.data, S.indices.astype(np.int64), S.indptr.astype(np.int64)),
            shape=S.shape,
        )
    return as_layout(X, name)


def _problem(kind, n, p, seed):
    """(X, y, sample_weight) with an offset (the intercept matters) and correlated,
    partly sparse columns."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p)) @ (np.eye(p) + 0.3 * rng.standard_normal((p, p)))
    X[rng.random((n, p)) < 0.3] = 0.0
    X += rng.uniform(-1, 1, p)
    w = np.zeros(p)
    w[: max(2, p // 4)] = rng.standard_normal(max(2, p // 4)) * 2
    y = X @ w + 0.5 * rng.standard_normal(n) + 3.0
    sw = rng.uniform(0.2, 3.0, n) if kind == "weighted" else None
    return X, y, sw


def exact_solution(X, y, alpha, l1_ratio, sw, fit_intercept, positive):
    """(coef, intercept) of P's minimiser from its optimality conditions: the support
    and signs of a tight scikit-learn fit, then the stationarity equations on the
    support, (X~_S^T S X~_S / n + alpha (1-rho) I) w_S = X~_S^T S y~ / n - alpha rho s,
    solved by least squares; the conditions are then checked on every feature."""
    sk_cls = linear_model.ElasticNet
    ref = sk_cls(alpha=alpha, l1_ratio=l1_ratio, fit_intercept=fit_intercept,
                 positive=positive, tol=1e-14, max_iter=1_000_000)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref.fit(X, y, sample_weight=sw)
    n, p = X.shape
    Xc, yc, x_mean, y_mean = centred(X, y, sw, fit_intercept)
    s = rescaled_weights(sw, n)
    every = l1_ratio == 0 and not positive  # ridge: no coefficient is held at 0
    support = np.arange(p) if every else np.flatnonzero(ref.coef_)
    signs = np.sign(ref.coef_[support])
    l2 = alpha * (1 - l1_ratio)
    A = np.sqrt(s)[:, None] * Xc[:, support] / np.sqrt(n)
    b = np.sqrt(s) * yc / np.sqrt(n)
    # min ||A w - b||^2 / 2 + l2/2 ||w||^2 + alpha rho s^T w, as one least-squares
    # problem
    A_ext = np.vstack([A, np.sqrt(l2) * np.eye(len(support))]) if l2 > 0 else A
    rhs = A.T @ b - alpha * l1_ratio * signs
    # normal equations A_ext^T A_ext w = rhs, solved through A_ext's QR factor
    Q, R = np.linalg.qr(A_ext)
    z = np.linalg.solve(R.T, rhs)
    coef = np.zeros(p)
    coef[support] = np.linalg.solve(R, z)
    assert every or np.all(np.sign(coef[support]) == signs)
    viol = kkt_violation(X, y, coef, alpha, l1_ratio, sw, fit_intercept, positive)
    assert viol.max() <= 1e-10 * max(alpha, 1e-300) + 1e-12
    intercept = float(y_mean - x_mean @ coef) if fit_intercept else 0.0
    return coef, intercept


CASES = [
    # (model params, shape) -- Lasso, Elastic Net, ridge (l1_ratio=0), tall and wide
    ({"l1_ratio": 1.0, "alpha_frac": 0.05}, (60, 12)),
    ({"l1_ratio": 0.5, "alpha_frac": 0.02}, (60, 12)),
    ({"l1_ratio": 1.0, "alpha_frac": 0.1}, (20, 50)),
    ({"l1_ratio": 0.7, "alpha_frac": 0.01}, (20, 50)),
    ({"l1_ratio": 0.0, "alpha": 0.5}, (30, 10)),
]


def _alpha(case, X, y, sw, fit_intercept, positive):
    if "alpha" in case:
        return case["alpha"]
    Xc, yc, _, _ = centred(X, y, sw, fit_intercept)
    s = rescaled_weights(sw, X.shape[0])
    corr = Xc.T @ (s * yc)
    top = corr.max() if positive else np.abs(corr).max()
    return case["alpha_frac"] * top / (X.shape[0] * case["l1_ratio"])


@pytest.mark.parametrize("case, shape", CASES, ids=lambda v: str(v))
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("positive", [False, True])
def test_every_layout_gives_the_exact_solution(case, shape, fit_intercept, weighted,
                                               positive):
    """float64 dense F/C, full Gram, auto, CSC int32/int64 and CSR, at tol=1e-6, all
    give the minimiser of P to ~1e-12 (its coefficients and intercept)."""
    if positive and case["l1_ratio"] == 0:
        # not a polish case: with l1_ratio=0 the duality gap ("formulation B") does not
        # see the constraint, so positive ridge fits never certify (scikit-learn's
        # neither); test_positive_ridge_is_not_certified pins that
        return
    n, p = shape
    X, y, sw = _problem("weighted" if weighted else "plain", n, p, seed=n + p)
    alpha = _alpha(case, X, y, sw, fit_intercept, positive)
    l1_ratio = case["l1_ratio"]
    coef, intercept = exact_solution(X, y, alpha, l1_ratio, sw, fit_intercept, positive)
    scale = np.abs(coef).max()
    for layout, params in LAYOUTS64:
        est = fastlasso.ElasticNet(alpha=alpha, l1_ratio=l1_ratio, tol=LOOSE,
                                   fit_intercept=fit_intercept, positive=positive,
                                   **params)
        est.fit(_layout(X, layout), y, sample_weight=sw)
        assert_allclose(est.coef_, coef, rtol=0, atol=1e-11 * scale,
                        err_msg=f"{layout} {params}")
        assert est.intercept_ == pytest.approx(intercept, rel=1e-11, abs=1e-11 * scale)
        assert est.dual_gap_ <= 1e-12 * max(scale, 1.0) ** 2


@pytest.mark.parametrize("case, shape", CASES[:4], ids=lambda v: str(v))
@pytest.mark.parametrize("weighted", [False, True])
def test_float32_layouts_agree_to_float32_rounding(case, shape, weighted):
    """float32 data stay float32 and give, in every layout, the float64 solution of
    the same (float32) data to float32 rounding (cond(X~_S) eps_32: ~1e-5 here)."""
    n, p = shape
    X, y, sw = _problem("weighted" if weighted else "plain", n, p, seed=n + p)
    X32, y32 = X.astype(np.float32), y.astype(np.float32)
    alpha = _alpha(case, X32.astype(np.float64), y32, sw, True, False)
    coef, _ = exact_solution(X32.astype(np.float64), y32.astype(np.float64), alpha,
                             case["l1_ratio"], sw, True, False)
    scale = np.abs(coef).max()
    for layout, params in LAYOUTS64:
        est = fastlasso.ElasticNet(alpha=alpha, l1_ratio=case["l1_ratio"], tol=1e-5,
                                   **params)
        est.fit(_layout(X32, layout), y32, sample_weight=sw)
        assert est.coef_.dtype == np.float32
        assert_allclose(est.coef_, coef, rtol=0, atol=3e-5 * scale,
                        err_msg=f"{layout} {params}")


def test_a_users_gram_matrix_gives_the_exact_solution():
    X, y, _ = _problem("plain", 80, 10, seed=3)
    Xc = X - X.mean(axis=0)
    alpha = 0.02
    coef, _ = exact_solution(Xc, y, alpha, 0.8, None, True, False)
    est = fastlasso.ElasticNet(alpha=alpha, l1_ratio=0.8, tol=LOOSE,
                               precompute=Xc.T @ Xc).fit(Xc, y)
    assert_allclose(est.coef_, coef, rtol=0, atol=1e-11 * np.abs(coef).max())


@pytest.mark.parametrize("path", ["lasso_path", "enet_path"])
@pytest.mark.parametrize("fit_intercept", [False, True])
def test_paths_agree_across_layouts(path, fit_intercept):
    """Every alpha of a path at tol=1e-6: dense data, full Gram and CSC agree to
    ~1e-12, and the last alpha is the exact solution."""
    X, y, _ = _problem("plain", 50, 20, seed=7)
    kw = {"alphas": 12, "tol": LOOSE, "fit_intercept": fit_intercept}
    if path == "enet_path":
        kw["l1_ratio"] = 0.6
    runs = [
        getattr(fastlasso, path)(X, y, precompute=False, **kw),
        getattr(fastlasso, path)(X, y, precompute=True, **kw),
        getattr(fastlasso, path)(sp.csc_matrix(X), y, **kw),
    ]
    alphas, coefs, _ = runs[0]
    scale = np.abs(coefs).max()
    for a, c, _ in runs[1:]:
        assert_allclose(a, alphas, rtol=1e-14)  # alpha_max's rounding per layout
        assert_allclose(c, coefs, rtol=0, atol=1e-11 * scale)
    exact, _ = exact_solution(X, y, alphas[-1], kw.get("l1_ratio", 1.0), None,
                              fit_intercept, False)
    assert_allclose(coefs[:, -1], exact, rtol=0, atol=1e-11 * scale)


def test_cv_agrees_across_layouts():
    """ElasticNetCV on sparse and dense data: the same held-out errors (every fold
    path polished, violators included: a fold's last alpha needed them here), alpha_
    and model."""
    rng = np.random.RandomState(42)
    w = rng.randn(100)
    w[10:] = 0.0
    X = rng.randn(100, 100)
    X[rng.uniform(size=(100, 100)) > 0.5] = 0.0
    y = X @ w
    runs = [
        fastlasso.ElasticNetCV(alphas=10, max_iter=50, l1_ratio=0.5,
                               fit_intercept=False).fit(Xl, y)
        for Xl in (sp.csc_matrix(X), X)
    ]
    assert_allclose(runs[0].mse_path_, runs[1].mse_path_, rtol=1e-10)
    assert runs[0].alpha_ == pytest.approx(runs[1].alpha_, rel=1e-14)
    assert_allclose(runs[0].coef_, runs[1].coef_, rtol=0, atol=1e-12)


def test_refinement_reaches_the_accuracy_of_a_qr_solve():
    """An ill-conditioned ridge (cond(X~) = 1e5, so cond(H) ~ 1e10 with a tiny l2):
    the normal equations alone lose cond(H) eps ~ 1e-6; with the refinement step from
    the data the polished fit matches the QR-based solution to ~cond(X~) eps."""
    rng = np.random.default_rng(0)
    n, p = 100, 8
    U, _ = np.linalg.qr(rng.standard_normal((n, p)))
    V, _ = np.linalg.qr(rng.standard_normal((p, p)))
    X = 10 * U @ np.diag(np.logspace(0, -5, p)) @ V.T
    y = X @ rng.standard_normal(p) + 1e-3 * rng.standard_normal(n)
    alpha = 1e-9
    Xc, yc = X - X.mean(axis=0), y - y.mean()
    A = np.vstack([Xc, np.sqrt(n * alpha) * np.eye(p)])
    coef = np.linalg.lstsq(A, np.r_[yc, np.zeros(p)], rcond=None)[0]
    for layout in ("dense_F", "csc"):
        est = fastlasso.ElasticNet(alpha=alpha, l1_ratio=0.0, tol=1e-4,
                                   precompute=False, max_iter=100_000)
        est.fit(_layout(X, layout), y)
        assert_allclose(est.coef_, coef, rtol=1e-9, err_msg=layout)


def test_a_coefficient_whose_sign_would_flip_leaves_the_support():
    """Warm started from a model with a coefficient that is 0 at the new alpha (alpha
    above alpha_max): the solve stops within its loose tolerance with a tiny leftover
    coefficient, which the polish moves to exactly 0 (the step stops at its sign
    change and the feature leaves the support)."""
    X = np.array([[3.0, -1.0], [2.0, -5.0], [5.0, -3.0], [1.0, -4.0]])
    y = X @ np.array([1.0, -2.0])
    amax = np.abs(X.T @ y).max() / (4 * 0.5)
    est = fastlasso.ElasticNet(alpha=amax, fit_intercept=False, warm_start=True)
    est.coef_ = np.array([0.0, -0.0109])
    est.fit(X, y)
    assert_array_equal(est.coef_, [0.0, 0.0])


def test_polishing_is_what_makes_the_layouts_agree():
    """Control: without the polish (solve_cd(polish=False)) dense and CSC stop at
    different points of the tolerance ball; with it they agree to rounding, and the
    kernel reports the polish."""
    X, y, _ = _problem("plain", 20, 50, seed=70)
    alpha = 0.01
    sols = {}
    for polish in (False, True):
        for kind in ("dense", "csc"):
            design = make_design(X if kind == "dense" else sp.csc_matrix(X), None, True)
            yc, _ = design.center(y)
            sols[polish, kind] = solve_cd(design, yc, alpha, 0.7, tol=LOOSE,
                                          gram_mode="off", polish=polish)
    scale = np.abs(sols[True, "dense"].coef).max()
    diff_off = np.abs(sols[False, "dense"].coef - sols[False, "csc"].coef).max()
    diff_on = np.abs(sols[True, "dense"].coef - sols[True, "csc"].coef).max()
    assert diff_off > 1e-8 * scale
    assert diff_on <= 1e-12 * scale
    # (the dense solve ends on the kernel's own direct Newton steps, exact already)
    assert sols[True, "csc"].info["polish"] == 1
    assert sols[False, "csc"].info["polish"] == 0


def test_a_polished_warm_start_runs_no_epoch():
    """Refitting from a polished model finds it exact: no epoch, no new polish."""
    X, y, _ = _problem("plain", 60, 12, seed=5)
    est = fastlasso.Lasso(alpha=0.05, tol=LOOSE, warm_start=True).fit(X, y)
    first = est.coef_.copy()
    est.fit(X, y)
    assert est.n_iter_ == 0
    assert_array_equal(est.coef_, first)


def test_positive_ridge_is_not_certified():
    """Known limitation, not the polish's: for l1_ratio=0 the gap formula ignores
    positive=True, so such fits end at max_iter with a ConvergenceWarning (as in
    scikit-learn), on the constrained minimiser all the same."""
    X, y, _ = _problem("plain", 30, 10, seed=40)
    with pytest.warns(Warning, match="did not converge"):
        est = fastlasso.ElasticNet(alpha=0.5, l1_ratio=0.0, positive=True,
                                   max_iter=200).fit(X, y)
    with pytest.warns(Warning, match="did not converge"):
        ref = linear_model.ElasticNet(alpha=0.5, l1_ratio=0.0, positive=True,
                                      max_iter=20_000, tol=1e-12).fit(X, y)
    assert_allclose(est.coef_, ref.coef_, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("layout", ["dense_F", "gram", "csc"])
@pytest.mark.parametrize("l1_ratio", [1.0, 0.6])
def test_a_path_steps_its_exact_solution_to_the_next_alpha(layout, l1_ratio):
    """Along a path, a solve starts from the last exact solution stepped to its own
    penalties (the homotopy step on the support): where the support does not change,
    that is the exact solution, which the first gap check certifies, with no epoch."""
    X, y, _ = _problem("plain", 60, 12, seed=11)
    Xl = sp.csc_matrix(X) if layout == "csc" else X
    Xc, yc, _, _ = centred(X, y, None, True)
    a0 = 0.05 * np.abs(Xc.T @ yc).max() / (X.shape[0] * l1_ratio)
    # close enough that the support stays the same (the third solve steps the second's
    # prediction, on the kept Cholesky factor)
    alphas = [a0, 0.999 * a0, 0.998 * a0]
    _, coefs, _, n_iters = fastlasso.enet_path(
        Xl, y, l1_ratio=l1_ratio, alphas=alphas, tol=1e-12, return_n_iter=True,
        fit_intercept=True, precompute=layout == "gram")
    assert np.array_equal(coefs[:, 0] != 0, coefs[:, 2] != 0)
    assert list(n_iters[1:]) == [0, 0]
    for i in (1, 2):
        exact, _ = exact_solution(X, y, alphas[i], l1_ratio, None, True, False)
        assert_allclose(coefs[:, i], exact, rtol=0, atol=1e-12 * np.abs(exact).max())


@pytest.mark.parametrize("layout", ["dense_F", "gram", "csc"])
@pytest.mark.parametrize("l1_ratio", [1.0, 0.7])
def test_a_path_updates_the_kept_cholesky_factor(monkeypatch, layout, l1_ratio):
    """Along a path the support changes by a few features from one alpha to the next:
    the polishes and predictions update the kept Cholesky factor (a feature joins in
    k^2 / 2, leaves by Givens rotations) instead of factoring each support anew
    (k^3 / 6), and every point is still the exact solution. With l1_ratio < 1 the
    factor holds l2_n, which changes with alpha: a factor of other penalties must not
    be reused (the points would not be exact)."""
    import fastlasso._solve_path as solve_path

    infos = []

    def recording(*args, **kwargs):
        sol = solve_cd(*args, **kwargs)
        infos.append((dict(sol.info), int(np.count_nonzero(sol.coef))))
        return sol

    monkeypatch.setattr(solve_path, "solve_cd", recording)
    X, y, _ = _problem("plain", 40, 30, seed=3)
    Xl = sp.csc_matrix(X) if layout == "csc" else X
    Xc, yc, _, _ = centred(X, y, None, True)
    amax = np.abs(Xc.T @ yc).max() / (X.shape[0] * l1_ratio)
    alphas = amax * np.geomspace(0.5, 0.005, 25)
    _, coefs, _ = fastlasso.enet_path(
        Xl, y, l1_ratio=l1_ratio, alphas=alphas, tol=1e-10, fit_intercept=True,
        precompute=layout == "gram")
    supp = coefs != 0
    # the support grows along the path, and some feature leaves it on the way
    assert supp[:, -1].sum() > supp[:, 0].sum() + 10
    assert np.any(supp[:, :-1] & ~supp[:, 1:])
    for i in range(0, len(alphas), 3):
        exact, _ = exact_solution(X, y, alphas[i], l1_ratio, None, True, False)
        assert_allclose(coefs[:, i], exact, rtol=0, atol=1e-11 * np.abs(exact).max())
    work = sum(info["factor_work"] for info, _ in infos)
    # factoring each polished support anew
    fresh = sum(k**3 / 6 for info, k in infos if info["polish"] or info["predicted"])
    assert fresh > 0
    if l1_ratio == 1.0:
        assert work < 0.3 * fresh


@pytest.mark.parametrize("gram_mode", ["off", "full"])
def test_the_kernel_reports_an_exact_end(gram_mode):
    """The kernel's ``exact``: True for a solve that ended on the certified minimiser
    of its support (a polish), False without the polish (coordinate descent stops
    anywhere inside its tolerance); an exact end satisfies the optimality
    conditions to rounding."""
    X, y, _ = _problem("plain", 60, 12, seed=21)
    design = make_design(X, None, True)
    yc, _ = design.center(y)
    Xc, _, _, _ = centred(X, y, None, True)
    alpha = 0.05 * np.abs(Xc.T @ yc).max() / X.shape[0]
    sols = {polish: solve_cd(design, yc, alpha, 1.0, tol=LOOSE, gram_mode=gram_mode,
                             polish=polish)
            for polish in (False, True)}
    assert sols[True].info["exact"] is True
    assert sols[False].info["exact"] is False
    viol = kkt_violation(X, y, sols[True].coef, alpha, 1.0, None, True, False)
    assert viol.max() <= 1e-10 * alpha


def test_a_full_gram_polish_costs_no_outer_pass():
    """In full Gram mode a restricted solve near the end is polished at once (its
    Gram block and gradients are at hand), so the pass that certifies the solve
    certifies the polished point: no pass is added for the polish."""
    X, y, _ = _problem("plain", 200, 20, seed=8)
    design = make_design(X, None, True)
    yc, _ = design.center(y)
    Xc, _, _, _ = centred(X, y, None, True)
    amax = np.abs(Xc.T @ yc).max() / X.shape[0]
    for frac in (0.2, 0.05, 0.01):
        sols = {polish: solve_cd(design, yc, frac * amax, 1.0, tol=1e-8,
                                 gram_mode="full", polish=polish)
                for polish in (False, True)}
        assert sols[True].info["polish"] >= 1
        assert sols[True].info["exact"] is True
        assert sols[True].info["outer"] <= sols[False].info["outer"]
