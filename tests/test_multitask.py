"""Multi-task Lasso / Elastic Net: answers, certificates, layouts, CV.

Every expected value comes from an independent source: scikit-learn's multi-task
estimators at tol=1e-12, or numpy recomputing from their definitions

    P(W, b) = 1/(2n) sum_i s_i ||y_i - W^T x_i - b||^2 + alpha rho sum_j ||W_j||_2
              + alpha (1 - rho) / 2 ||W||_F^2

(s the sample weights rescaled to sum to n, W_j the row of feature j, coef_ = W^T)
the objective, the duality gap (dual norm: the largest row norm of X~^T S R) and the
optimality (KKT) conditions of the rows:

    W_j != 0:  X~_j^T S R / n = alpha rho W_j / ||W_j|| + alpha (1 - rho) W_j,
    W_j == 0:  ||X~_j^T S R|| / n <= alpha rho.
"""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
import sklearn.linear_model as sk
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.exceptions import ConvergenceWarning

import fastlasso

from conftest import as_layout

MODELS = {"MultiTaskLasso": 1.0, "MultiTaskElasticNet": 0.4}
LAYOUTS = ["dense_F", "dense_C", "csc32", "csc64", "csr"]


def _problem(n=40, p=60, T=4, seed=0, rho=0.5, offset=2.0):
    """Correlated columns (rho), six true rows, an offset on every target."""
    rng = np.random.default_rng(seed)
    Z = rng.standard_normal((n, p))
    X = np.sqrt(1 - rho) * Z + np.sqrt(rho) * rng.standard_normal((n, 1))
    X[rng.random((n, p)) < 0.3] = 0.0  # zeros, so that CSC layouts are really sparse
    W = np.zeros((p, T))
    W[rng.choice(p, 6, replace=False)] = rng.standard_normal((6, T))
    Y = X @ W + 0.5 * rng.standard_normal((n, T)) + offset
    return X, Y


def _weights(n, seed=1):
    return np.random.default_rng(seed).uniform(0.0, 3.0, n)  # some near 0


def _centred(X, Y, sw, fit_intercept):
    X = np.asarray(X.toarray() if sp.issparse(X) else X, dtype=np.float64)
    Y = np.asarray(Y, dtype=np.float64)
    n = X.shape[0]
    s = np.ones(n) if sw is None else np.asarray(sw, float) * n / np.sum(sw)
    if fit_intercept:
        X = X - s @ X / n
        Y = Y - s @ Y / n
    return X, Y, s


def objective(X, Y, coef, intercept, alpha, rho, sw=None):
    """P(W, b) in float64 (module docstring)."""
    X = np.asarray(X.toarray() if sp.issparse(X) else X, dtype=np.float64)
    n = X.shape[0]
    s = np.ones(n) if sw is None else np.asarray(sw, float) * n / np.sum(sw)
    W = np.asarray(coef, dtype=np.float64).T
    R = np.asarray(Y, float) - X @ W - np.asarray(intercept, float)
    return (s @ (R * R).sum(axis=1) / (2 * n)
            + alpha * rho * np.linalg.norm(W, axis=1).sum()
            + alpha * (1 - rho) / 2 * (W * W).sum())


def duality_gap(X, Y, coef, alpha, rho, sw=None, fit_intercept=True):
    """The gap of formulation A in P's units, from scratch: theta = R / max(1,
    ||X~^T S R - n alpha (1 - rho) W||_2,inf / (n alpha rho))."""
    Xc, Yc, s = _centred(X, Y, sw, fit_intercept)
    n = Xc.shape[0]
    W = np.asarray(coef, dtype=np.float64).T
    l1, l2 = n * alpha * rho, n * alpha * (1 - rho)
    R = Yc - Xc @ W
    SR = s[:, None] * R
    XtA = Xc.T @ SR - l2 * W
    dnorm = np.linalg.norm(XtA, axis=1).max()
    scale = min(1.0, l1 / dnorm) if dnorm > 0 else 1.0
    R2, Ry = (SR * R).sum(), (SR * Yc).sum()
    primal = 0.5 * R2 + l1 * np.linalg.norm(W, axis=1).sum() + 0.5 * l2 * (W * W).sum()
    dual = -0.5 * scale**2 * (R2 + l2 * (W * W).sum()) + scale * Ry
    return (primal - dual) / n


def kkt_violation(X, Y, coef, alpha, rho, sw=None, fit_intercept=True):
    """Largest violation of the row optimality conditions (module docstring)."""
    Xc, Yc, s = _centred(X, Y, sw, fit_intercept)
    n = Xc.shape[0]
    W = np.asarray(coef, dtype=np.float64).T
    G = Xc.T @ (s[:, None] * (Yc - Xc @ W)) / n
    norms = np.linalg.norm(W, axis=1)
    worst = 0.0
    for j in range(W.shape[0]):
        if norms[j] > 0:
            want = alpha * rho * W[j] / norms[j] + alpha * (1 - rho) * W[j]
            worst = max(worst, np.abs(G[j] - want).max())
        else:
            worst = max(worst, np.linalg.norm(G[j]) - alpha * rho)
    return worst


def _reference(name, X, Y, alpha, sw=None, fit_intercept=True):
    extra = {} if name == "MultiTaskLasso" else {"l1_ratio": MODELS[name]}
    Xd = np.asarray(X.toarray() if sp.issparse(X) else X, dtype=np.float64)
    return getattr(sk, name)(alpha=alpha, tol=1e-13, max_iter=200_000,
                             fit_intercept=fit_intercept, **extra).fit(
        Xd, np.asarray(Y, float), sample_weight=sw)


def _ours(name, **params):
    extra = {} if name == "MultiTaskLasso" else {"l1_ratio": MODELS[name]}
    return getattr(fastlasso, name)(**extra, **params)


def _alpha(X, Y, frac, rho=1.0):
    Xc, Yc, _ = _centred(X, Y, None, True)
    return frac * np.linalg.norm(Xc.T @ Yc, axis=1).max() / (len(X) * rho)


@pytest.mark.parametrize("name", sorted(MODELS))
@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("fit_intercept", [True, False], ids=["intercept", "no_int"])
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "sw"])
def test_matches_sklearn_and_certificate_float64(name, layout, fit_intercept, weighted):
    X, Y = _problem()
    sw = _weights(len(X)) if weighted else None
    alpha = _alpha(X, Y, 0.2)
    ref = _reference(name, X, Y, alpha, sw, fit_intercept)
    est = _ours(name, alpha=alpha, tol=1e-12, max_iter=100_000,
                fit_intercept=fit_intercept)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        est.fit(as_layout(X, layout), Y, sample_weight=sw)
    scale = np.abs(ref.coef_).max()
    assert est.coef_.shape == ref.coef_.shape == (Y.shape[1], X.shape[1])
    assert_allclose(est.coef_, ref.coef_, rtol=1e-7, atol=1e-8 * scale)
    assert_allclose(est.intercept_, ref.intercept_, rtol=1e-7, atol=1e-8 * scale)
    # the same sparsity pattern of rows (the point of the L2,1 penalty)
    assert_array_equal(np.any(est.coef_ != 0, axis=0), np.any(ref.coef_ != 0, axis=0))
    rho = MODELS[name]
    # the reported gap is the gap of the returned W, recomputed independently ...
    gap = duality_gap(X, Y, est.coef_, alpha, rho, sw, fit_intercept)
    assert abs(est.dual_gap_ - gap) <= 1e-9 * objective(
        X, Y, est.coef_, est.intercept_, alpha, rho, sw) + 1e-14
    # ... it bounds the suboptimality, and it met the tolerance
    P = objective(X, Y, est.coef_, est.intercept_, alpha, rho, sw)
    P_ref = objective(X, Y, ref.coef_, ref.intercept_, alpha, rho, sw)
    assert P - P_ref <= est.dual_gap_ + 1e-12 * P
    Yc = _centred(X, Y, sw, fit_intercept)[1]
    s = _centred(X, Y, sw, fit_intercept)[2]
    assert est.dual_gap_ <= 1e-12 * (s @ (Yc**2).sum(axis=1)) / len(X)
    assert kkt_violation(X, Y, est.coef_, alpha, rho, sw, fit_intercept) <= 1e-6 * alpha


@pytest.mark.parametrize("name", sorted(MODELS))
@pytest.mark.parametrize("layout", ["dense_F", "csc32", "csc64"])
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "sw"])
def test_float32_kept_and_certified(name, layout, weighted):
    X, Y = _problem(seed=3)
    sw = _weights(len(X), seed=4) if weighted else None
    alpha = _alpha(X, Y, 0.1)
    ref = _reference(name, X, Y, alpha, sw)
    est = _ours(name, alpha=alpha, tol=1e-6).fit(
        as_layout(X, layout, np.float32), Y.astype(np.float32), sample_weight=sw)
    assert est.coef_.dtype == np.float32
    assert est.intercept_.dtype == np.float32
    assert est.predict(as_layout(X, layout, np.float32)).dtype == np.float32
    rho = MODELS[name]
    X32 = X.astype(np.float32).astype(np.float64)
    Y32 = Y.astype(np.float32).astype(np.float64)
    P = objective(X32, Y32, est.coef_, est.intercept_, alpha, rho, sw)
    P_ref = objective(X32, Y32, ref.coef_, ref.intercept_, alpha, rho, sw)
    # the float32 data's optimum is within rounding of the float64 one
    assert P - P_ref <= est.dual_gap_ + 1e-5 * P
    assert_allclose(est.coef_, ref.coef_, atol=2e-3 * np.abs(ref.coef_).max())


@pytest.mark.parametrize("name", sorted(MODELS))
@pytest.mark.parametrize("fit_intercept", [True, False], ids=["intercept", "no_int"])
def test_same_answer_in_every_layout(name, fit_intercept):
    X, Y = _problem(seed=5)
    sw = _weights(len(X), seed=6)
    alpha = _alpha(X, Y, 0.05)
    fits = {
        layout: _ours(name, alpha=alpha, tol=1e-12, max_iter=100_000,
                      fit_intercept=fit_intercept).fit(as_layout(X, layout), Y,
                                                      sample_weight=sw)
        for layout in LAYOUTS
    }
    base = fits["dense_F"]
    scale = np.abs(base.coef_).max()
    for layout, est in fits.items():
        assert_allclose(est.coef_, base.coef_, rtol=1e-9, atol=1e-10 * scale,
                        err_msg=layout)
        assert_allclose(est.intercept_, base.intercept_, rtol=1e-9, atol=1e-10 * scale)
    # the same numbers in another container: bit-identical (C-ordered X is not: its
    # column statistics are summed row by row, in another order; to rounding above)
    _assert_same(fits["csc32"], fits["csr"])
    _assert_same(fits["csc32"], fits["csc64"])


def _assert_same(a, b):
    assert_array_equal(a.coef_, b.coef_)
    assert_array_equal(a.intercept_, b.intercept_)
    assert a.dual_gap_ == b.dual_gap_
    assert a.n_iter_ == b.n_iter_


@pytest.mark.parametrize("layout", ["dense_F", "csc32"])
def test_sample_weights_are_repeated_rows(layout):
    X, Y = _problem(n=30, seed=7)
    k = np.random.default_rng(8).integers(0, 3, len(X))  # 0, 1 or 2 copies
    alpha = _alpha(X, Y, 0.1)
    weighted = fastlasso.MultiTaskElasticNet(alpha=alpha, tol=1e-13, max_iter=100_000)
    weighted.fit(as_layout(X, layout), Y, sample_weight=k.astype(float))
    rows = np.repeat(np.arange(len(X)), k)
    repeated = fastlasso.MultiTaskElasticNet(alpha=alpha, tol=1e-13, max_iter=100_000)
    repeated.fit(as_layout(X[rows], layout), Y[rows])
    scale = np.abs(repeated.coef_).max()
    assert_allclose(weighted.coef_, repeated.coef_, atol=1e-9 * scale)
    assert_allclose(weighted.intercept_, repeated.intercept_, atol=1e-9 * scale)
    ones = fastlasso.MultiTaskElasticNet(alpha=alpha, tol=1e-13, max_iter=100_000)
    ones.fit(as_layout(X, layout), Y, sample_weight=np.full(len(X), 3.0))
    none = fastlasso.MultiTaskElasticNet(alpha=alpha, tol=1e-13, max_iter=100_000)
    none.fit(as_layout(X, layout), Y)
    assert_allclose(ones.coef_, none.coef_, atol=1e-10 * scale)


@pytest.mark.parametrize("name", sorted(MODELS))
def test_every_option_reaches_the_same_minimiser(name):
    """Working sets, screening, Anderson and random order only change the path to
    the minimiser (the kernel's switches, through the solve driver)."""
    from fastlasso._data import make_design
    from fastlasso._multitask import center_targets, solve_mt

    X, Y = _problem(seed=9)
    alpha = _alpha(X, Y, 0.05)
    rho = MODELS[name]
    ref = _reference(name, X, Y, alpha)
    for layout in ("dense_F", "csc32"):
        design = make_design(as_layout(X, layout), None, True)
        Yc, _, yy = center_targets(design, Y)
        for ws in (True, False):
            for screen in (True, False):
                for anderson in (True, False):
                    for selection in ("cyclic", "random"):
                        sol = solve_mt(design, Yc, alpha, rho, tol=1e-12,
                                       max_iter=100_000, working_sets=ws,
                                       screening=screen, anderson=anderson,
                                       selection=selection, random_state=0)
                        assert sol.converged
                        assert_allclose(sol.coef.T, ref.coef_, rtol=1e-7,
                                        atol=1e-8 * np.abs(ref.coef_).max())


def test_anderson_and_working_sets_cut_epochs():
    """The accelerations are on by default and do their job on a correlated design."""
    from fastlasso._data import make_design
    from fastlasso._multitask import center_targets, solve_mt

    X, Y = _problem(n=50, p=300, T=5, seed=10, rho=0.8)
    alpha = _alpha(X, Y, 0.02)
    design = make_design(np.asfortranarray(X), None, True)
    Yc, _, yy = center_targets(design, Y)
    fast = solve_mt(design, Yc, alpha, tol=1e-10, max_iter=100_000)
    plain = solve_mt(design, Yc, alpha, tol=1e-10, max_iter=100_000,
                     working_sets=False, anderson=False)
    assert fast.converged and plain.converged
    assert fast.info["anderson"] > 0
    assert fast.info["max_ws"] < X.shape[1]
    # epochs over the working set are cheaper than over every feature: compare the
    # work done, epochs times features visited
    assert fast.n_iter * fast.info["max_ws"] < plain.n_iter * X.shape[1]


def test_gap_safe_screening_removes_only_zero_rows():
    from fastlasso._data import make_design
    from fastlasso._multitask import center_targets, solve_mt

    X, Y = _problem(n=40, p=200, T=3, seed=11)
    alpha = _alpha(X, Y, 0.3)
    design = make_design(np.asfortranarray(X), None, True)
    Yc, _, _ = center_targets(design, Y)
    sol = solve_mt(design, Yc, alpha, tol=1e-10, anderson=False)
    ref = _reference("MultiTaskLasso", X, Y, alpha)
    n_zero = int(np.sum(~np.any(ref.coef_ != 0, axis=0)))
    assert 0 < sol.info["n_screened"] <= n_zero
    assert_allclose(sol.coef.T, ref.coef_, atol=1e-8 * np.abs(ref.coef_).max())


def test_convergence_warning_and_certificate_when_stopped_early():
    X, Y = _problem(seed=12)
    alpha = _alpha(X, Y, 0.01)
    est = fastlasso.MultiTaskElasticNet(alpha=alpha, tol=1e-12, max_iter=1)
    with pytest.warns(ConvergenceWarning):
        est.fit(X, Y)
    assert est.n_iter_ == 1
    # still a valid certificate of the W returned
    gap = duality_gap(X, Y, est.coef_, alpha, 0.5)
    assert_allclose(est.dual_gap_, gap, rtol=1e-8)
    P = objective(X, Y, est.coef_, est.intercept_, alpha, 0.5)
    ref = _reference("MultiTaskElasticNet", X, Y, alpha)
    P_ref = objective(X, Y, ref.coef_, ref.intercept_, alpha, 0.5)
    assert P - P_ref <= est.dual_gap_ * (1 + 1e-9)


def test_fitted_attributes_match_sklearn_types_and_shapes():
    X, Y = _problem()
    for name in MODELS:
        for fit_intercept in (True, False):
            ref = getattr(sk, name)(alpha=0.1, fit_intercept=fit_intercept).fit(X, Y)
            est = getattr(fastlasso, name)(alpha=0.1, fit_intercept=fit_intercept)
            est.fit(X, Y)
            for attr in ("coef_", "intercept_", "dual_gap_", "n_iter_", "eps_"):
                assert np.shape(getattr(est, attr)) == np.shape(getattr(ref, attr))
                assert type(getattr(est, attr)) is type(getattr(ref, attr)), attr
            assert est.coef_.flags.f_contiguous == ref.coef_.flags.f_contiguous
            assert_allclose(est.eps_, ref.eps_, rtol=1e-12)
            assert est.sparse_coef_.shape == ref.sparse_coef_.shape
            assert est.predict(X).shape == ref.predict(X).shape


@pytest.mark.parametrize("layout", ["dense_F", "csc32"])
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "sw"])
def test_one_column_target_is_the_elastic_net_to_the_bit(layout, weighted):
    """With one task the L2,1 norm is the L1 norm: the multi-task estimators and path
    give ElasticNet's / ElasticNetCV's numbers exactly (scikit-learn's tests compare
    them at 7 decimals)."""
    X, Y = _problem(T=1, seed=13)
    Xl = as_layout(X, layout)
    sw = _weights(len(X), seed=14) if weighted else None
    alpha = _alpha(X, Y, 0.1)
    mt = fastlasso.MultiTaskElasticNet(alpha=alpha, l1_ratio=0.7).fit(
        Xl, Y, sample_weight=sw)
    st = fastlasso.ElasticNet(alpha=alpha, l1_ratio=0.7).fit(
        Xl, Y[:, 0], sample_weight=sw)
    assert mt.coef_.shape == (1, X.shape[1])
    assert_array_equal(mt.coef_[0], st.coef_)
    assert_array_equal(mt.intercept_[0], st.intercept_)
    assert mt.dual_gap_ == st.dual_gap_
    cv_mt = fastlasso.MultiTaskLassoCV(cv=3, alphas=8).fit(Xl, Y, sample_weight=sw)
    cv_st = fastlasso.LassoCV(cv=3, alphas=8).fit(Xl, Y[:, 0], sample_weight=sw)
    assert cv_mt.alpha_ == cv_st.alpha_
    assert_array_equal(cv_mt.mse_path_, cv_st.mse_path_)
    assert_array_equal(cv_mt.coef_[0], cv_st.coef_)
    assert_array_equal(cv_mt.intercept_[0], cv_st.intercept_)
    # against an independent reference too
    ref = sk.ElasticNet(alpha=alpha, l1_ratio=0.7, tol=1e-12).fit(
        X, Y[:, 0], sample_weight=sw)
    assert_allclose(mt.coef_[0], ref.coef_, atol=1e-3 * np.abs(ref.coef_).max())


def test_warm_start_continues_from_coef():
    X, Y = _problem(seed=14)
    alpha = _alpha(X, Y, 0.05)
    est = fastlasso.MultiTaskLasso(alpha=alpha, tol=1e-10, warm_start=True).fit(X, Y)
    n_first = est.n_iter_
    est.fit(X, Y)  # from the solution: the first gap check is within tol
    assert est.n_iter_ == 0 < n_first


def test_inputs_not_modified():
    X, Y = _problem(seed=15)
    sw = _weights(len(X))
    for layout in LAYOUTS:
        Xl = as_layout(X, layout)
        parts = ("data", "indices", "indptr") if sp.issparse(Xl) else ()
        before = [np.array(getattr(Xl, k)) for k in parts] or [np.array(Xl)]
        Yb, swb = Y.copy(), sw.copy()
        fastlasso.MultiTaskLasso(alpha=0.05).fit(Xl, Y, sample_weight=sw)
        after = [getattr(Xl, k) for k in parts] or [Xl]
        for a, b in zip(after, before, strict=True):
            assert_array_equal(a, b, strict=True)
        assert_array_equal(Y, Yb)
        assert_array_equal(sw, swb)


# ---------------------------------------------------------------------------------
# cross-validation


@pytest.mark.parametrize("name", ["MultiTaskLassoCV", "MultiTaskElasticNetCV"])
def test_cv_matches_sklearn(name):
    X, Y = _problem(n=45, p=30, seed=16)
    params = dict(cv=3, alphas=12, tol=1e-10, max_iter=100_000)
    if name == "MultiTaskElasticNetCV":
        params["l1_ratio"] = [0.3, 0.9]
    ref = getattr(sk, name)(**params).fit(X, Y)
    est = getattr(fastlasso, name)(**params).fit(X, Y)
    assert_allclose(est.alphas_, ref.alphas_, rtol=1e-12)
    assert est.mse_path_.shape == ref.mse_path_.shape
    assert_allclose(est.mse_path_, ref.mse_path_, rtol=1e-6)
    assert est.alpha_ == ref.alpha_
    if name == "MultiTaskElasticNetCV":
        assert est.l1_ratio_ == ref.l1_ratio_
    assert_allclose(est.coef_, ref.coef_, rtol=1e-6, atol=1e-8)
    assert_allclose(est.intercept_, ref.intercept_, rtol=1e-6, atol=1e-8)
    assert est.predict(X).shape == ref.predict(X).shape


def test_cv_one_standard_error_rule():
    X, Y = _problem(n=60, p=40, seed=17)
    est = fastlasso.MultiTaskLassoCV(cv=4, alphas=15, alpha_rule="1se").fit(X, Y)
    mse = est.mse_path_  # (n_alphas, n_folds)
    mean = mse.mean(axis=1)
    se = mse.std(axis=1, ddof=1) / np.sqrt(mse.shape[1])
    assert_allclose(est.mse_se_, se, rtol=1e-10)
    best = np.argmin(mean)
    i_1se = np.flatnonzero(mean <= mean[best] + se[best])[0]
    assert est.alpha_min_ == est.alphas_[best]
    assert est.alpha_1se_ == est.alphas_[i_1se] == est.alpha_
    assert est.alpha_1se_ >= est.alpha_min_
    # the refit is the single fit at alpha_
    single = fastlasso.MultiTaskLasso(alpha=est.alpha_, tol=1e-4).fit(X, Y)
    assert_allclose(est.coef_, single.coef_, atol=1e-3 * np.abs(single.coef_).max())


@pytest.mark.parametrize("layout", ["csc32", "csc64"])
def test_cv_sparse_and_weighted(layout):
    X, Y = _problem(n=45, p=30, seed=18)
    sw = _weights(len(X), seed=19)
    params = dict(cv=3, alphas=8, tol=1e-10, max_iter=100_000)
    dense = fastlasso.MultiTaskElasticNetCV(**params).fit(X, Y, sample_weight=sw)
    sparse = fastlasso.MultiTaskElasticNetCV(**params).fit(as_layout(X, layout), Y,
                                                            sample_weight=sw)
    assert_allclose(sparse.mse_path_, dense.mse_path_, rtol=1e-8)
    assert_allclose(sparse.coef_, dense.coef_, rtol=1e-7, atol=1e-10)
    ref = sk.MultiTaskElasticNetCV(**params).fit(X, Y, sample_weight=sw)
    assert_allclose(dense.mse_path_, ref.mse_path_, rtol=1e-6)
    assert dense.alpha_ == ref.alpha_


@pytest.mark.parametrize("layout", ["dense_F", "csc32"])
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "sw"])
def test_cv_folds_copied_or_weighted_in_place_match_sklearn(layout, weighted,
                                                          monkeypatch):
    """A fold of a small X is a copy of its training rows, of a large X (here: any X)
    X itself with zero weights on the held-out rows (_cv.fold_rows): both give
    scikit-learn's held-out errors and choice."""
    X, Y = _problem(n=45, p=30, seed=21)
    sw = _weights(len(X), seed=22) if weighted else None
    params = dict(cv=3, alphas=8, tol=1e-10, max_iter=100_000)
    ref = sk.MultiTaskLassoCV(**params).fit(X, Y, sample_weight=sw)
    copied = fastlasso.MultiTaskLassoCV(**params).fit(as_layout(X, layout), Y,
                                                      sample_weight=sw)
    monkeypatch.setattr(fastlasso._cv, "FOLD_COPY_BYTES", 0)
    in_place = fastlasso.MultiTaskLassoCV(**params).fit(as_layout(X, layout), Y,
                                                        sample_weight=sw)
    for est in (copied, in_place):
        assert_allclose(est.mse_path_, ref.mse_path_, rtol=1e-6)
        assert_allclose(est.alpha_, ref.alpha_, rtol=1e-12)  # sparse: grid to rounding


def test_cv_folds_in_threads_give_the_same_result():
    X, Y = _problem(n=45, p=30, seed=20)
    params = dict(cv=3, alphas=10, l1_ratio=[0.5, 1.0])
    one = fastlasso.MultiTaskElasticNetCV(**params, n_jobs=1).fit(X, Y)
    two = fastlasso.MultiTaskElasticNetCV(**params, n_jobs=2).fit(X, Y)
    assert_array_equal(one.mse_path_, two.mse_path_)
    assert_array_equal(one.coef_, two.coef_)


# ---------------------------------------------------------------------------------
# drop-in


def test_patch_sklearn_covers_the_multitask_estimators():
    import sklearn.linear_model as lm

    originals = {name: getattr(lm, name) for name in (
        "MultiTaskLasso", "MultiTaskElasticNet", "MultiTaskLassoCV",
        "MultiTaskElasticNetCV")}
    with fastlasso.sklearn_patched():
        for name in originals:
            assert getattr(lm, name) is getattr(fastlasso, name)
        est = lm.MultiTaskLasso(alpha=0.1).fit(*_problem())
        assert isinstance(est, fastlasso.MultiTaskLasso)
    for name, cls in originals.items():
        assert getattr(lm, name) is cls


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "sw"])
@pytest.mark.parametrize("fit_intercept", [True, False], ids=["intercept", "no_int"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_fused_row_updates_give_the_same_iterates(weighted, fit_intercept, dtype):
    """Dense X: each row's residual update fused with the next row's dot products
    is a reordering of memory traffic only: bit-identical W, gap and epochs."""
    from fastlasso import _cd_multitask
    from fastlasso._data import make_design
    from fastlasso._multitask import center_targets

    X, Y = _problem(n=35, p=80, T=5, seed=21)
    sw = _weights(len(X), seed=22) if weighted else None
    design = make_design(np.asfortranarray(X, dtype=dtype), sw, fit_intercept)
    Yc, _, yy = center_targets(design, Y)
    n = len(X)
    alpha = _alpha(X, Y, 0.05)
    out = {}
    for fused in (True, False):
        W = np.zeros((X.shape[1], Y.shape[1]), dtype=dtype)
        info = _cd_multitask.mtl_cd_dense(
            design.X, Yc, np.empty(0, dtype) if sw is None else design.sw, design.mu,
            design.norm2, design.col_norms, W, n * alpha * 0.8, n * alpha * 0.2,
            1e-9 * yy, 100_000, fused=fused)
        out[fused] = (W, info)
    assert out[True][1]["row_steps"] > 0
    assert_array_equal(out[True][0], out[False][0])
    for key in ("gap", "epochs", "row_steps", "outer"):
        assert out[True][1][key] == out[False][1][key]


@pytest.mark.parametrize("fit_intercept", [False, True], ids=["no_icpt", "icpt"])
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "sw"])
def test_avx2_dense_products_give_the_plain_loops_results(fit_intercept, weighted):
    """_mtdot.h's AVX2 dot and update-dot (dense float64, where the CPU has AVX2) keep
    the plain loops' four partial sums and their order of operations: the same fit,
    bit for bit, with the switch off. n = 43 leaves a tail of 3 entries; the three
    update branches are no weights and no centring, centring (mu), weights."""
    from fastlasso import _cd_multitask

    X, Y = _problem(n=43, p=90, T=5, seed=21)
    sw = _weights(len(X), seed=22) if weighted else None
    alpha = _alpha(X, Y, 0.05)
    fits = {}
    try:
        for simd in (True, False):
            _cd_multitask.set_simd(simd)
            est = fastlasso.MultiTaskElasticNet(
                alpha=alpha, l1_ratio=0.8, fit_intercept=fit_intercept, tol=1e-10,
                max_iter=5000,
            ).fit(np.asfortranarray(X), Y, sample_weight=sw)
            fits[simd] = (est.coef_, est.intercept_, est.dual_gap_, est.n_iter_)
    finally:
        _cd_multitask.set_simd(True)
    assert fits[True][3] > 5  # a real solve, many row updates
    assert_array_equal(fits[True][0], fits[False][0])
    assert_array_equal(fits[True][1], fits[False][1])
    assert fits[True][2:] == fits[False][2:]


@pytest.mark.parametrize("name", sorted(MODELS))
def test_polished_fit_is_the_minimiser_in_every_layout_and_order(name):
    """At a loose tol coordinate descent stops anywhere in its tolerance ball (the
    unpolished points of the layouts and orders differ); the polish finishes on the
    support of rows, so every layout, order and dtype path returns the minimiser
    itself (scikit-learn's at tol=1e-13), to rounding."""
    from fastlasso._data import make_design
    from fastlasso._multitask import center_targets, solve_mt

    X, Y = _problem(seed=21)
    sw = _weights(len(X), seed=22)
    alpha = _alpha(X, Y, 0.1)
    rho = MODELS[name]
    ref = _reference(name, X, Y, alpha, sw=sw)
    scale = np.abs(ref.coef_).max()
    raw = []
    for layout in ("dense_F", "csc32", "csr"):
        design = make_design(as_layout(X, layout), sw, True)
        Yc, _, _ = center_targets(design, Y)
        for selection in ("cyclic", "random"):
            for polish in (True, False):
                sol = solve_mt(design, Yc, alpha, rho, tol=1e-4, selection=selection,
                               random_state=3, polish=polish)
                assert sol.converged
                if polish:
                    assert sol.info["polish"] == 1
                    assert_allclose(sol.coef.T, ref.coef_, rtol=1e-8,
                                    atol=1e-10 * scale, err_msg=f"{layout} {selection}")
                else:
                    raw.append(sol.coef.T)
    # without the polish the stopping points differ (so the check above has teeth)
    assert max(np.abs(c - ref.coef_).max() for c in raw) > 1e-6 * scale


def test_ridge_limit_is_the_exact_ridge_solution():
    """l1_ratio = 0: every row moves, the polish solves the ridge system (refined on
    the data); with a tiny penalty on rank-deficient-ish data coordinate descent alone
    stops far from it (scikit-learn's test_enet_ridge_consistency)."""
    rng = np.random.default_rng(23)
    n, p, T = 80, 30, 3
    U, _ = np.linalg.qr(rng.standard_normal((n, p)))
    X = U * np.geomspace(1.0, 1e-3, p) @ np.linalg.qr(rng.standard_normal((p, p)))[0]
    Y = X @ rng.standard_normal((p, T)) + 0.01 * rng.standard_normal((n, T))
    for alpha in (1e-8, 1e-3):
        est = fastlasso.MultiTaskElasticNet(alpha=alpha, l1_ratio=0.0, tol=1e-10,
                                            max_iter=100_000).fit(X, Y)
        Xc, Yc, _ = _centred(X, Y, None, True)
        A = np.vstack([Xc, np.sqrt(n * alpha) * np.eye(p)])
        B = np.vstack([Yc, np.zeros((p, T))])
        want = np.linalg.lstsq(A, B, rcond=None)[0].T
        assert_allclose(est.coef_, want, rtol=1e-7, atol=1e-12 * np.abs(want).max())


@pytest.mark.parametrize("layout", ["dense_F", "csc32", "csr"])
def test_small_budgets_step_scikit_learns_trajectory(layout):
    """max_iter <= 10: plain cyclic sweeps over every row, scikit-learn's algorithm,
    so two warm fits of 5 epochs are one fit of 10 (test_warm_start_multitask_lasso)
    and equal scikit-learn's unconverged iterate."""
    X, Y = _problem(n=30, p=80, T=3, seed=24)
    alpha = _alpha(X, Y, 0.05)
    Xl = as_layout(X, layout)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ten = fastlasso.MultiTaskLasso(alpha=alpha, max_iter=10).fit(Xl, Y)
        halves = fastlasso.MultiTaskLasso(alpha=alpha, max_iter=5, warm_start=True)
        halves.fit(Xl, Y)
        halves.fit(Xl, Y)
        stock = sk.MultiTaskLasso(alpha=alpha, max_iter=10).fit(X, Y)
    assert ten.dual_gap_ > ten.tol * 1e3  # unconverged: the trajectory is compared
    assert_allclose(halves.coef_, ten.coef_, rtol=1e-10, atol=1e-12)
    assert_allclose(ten.coef_, stock.coef_, rtol=1e-9, atol=1e-12)
    assert_allclose(ten.intercept_, stock.intercept_, rtol=1e-9, atol=1e-12)


def _wide_problem(n=80, p=1500, T=10, k=40, rho=0.6, seed=0):
    """Columns correlated along their order (AR(1), rho), k true rows, noise at a third
    of the signal: a path whose working sets hold many rows at 0 (the wide20 problem
    of benchmarks/compare_multitask.py, smaller)."""
    rng = np.random.default_rng(seed)
    Z = rng.standard_normal((n, p))
    X = np.empty((n, p))
    X[:, 0] = Z[:, 0]
    for j in range(1, p):
        X[:, j] = rho * X[:, j - 1] + np.sqrt(1 - rho**2) * Z[:, j]
    W = np.zeros((p, T))
    W[rng.choice(p, k, replace=False)] = (rng.uniform(0.5, 1.5, (k, T))
                                          * rng.choice([-1, 1], (k, T)))
    Y = X @ W
    Y += rng.standard_normal((n, T)) * Y.std() / 3
    return np.asfortranarray(X), Y


def _path_row_steps(design, Yc, alphas, active):
    """(block updates summed over a warm-started path, its last solution)."""
    from fastlasso._multitask import solve_mt

    W, steps = None, 0
    for alpha in alphas:
        sol = solve_mt(design, Yc, alpha, coef_init=W, tol=1e-8, max_iter=100_000,
                       polish=False, active_sweeps=active)
        assert sol.converged
        W, steps = sol.coef, steps + sol.info["row_steps"]
    return steps, W


@pytest.mark.parametrize("layout", ["dense_F", "csc"])
def test_active_sweeps_cut_row_steps_not_the_answer(layout):
    """Every other epoch of a restricted solve sweeps only the nonzero rows of its
    working set: along a path whose working sets hold many rows at 0, fewer block
    updates (a deterministic count), the same certified minimisers."""
    from fastlasso._data import make_design
    from fastlasso._multitask import center_targets

    X, Y = _wide_problem()
    design = make_design(as_layout(X, layout), None, True)
    Yc, _, _ = center_targets(design, Y)
    Xc, Ym = X - X.mean(axis=0), Y - Y.mean(axis=0)
    amax = np.sqrt(np.sum((Xc.T @ Ym) ** 2, axis=1)).max() / X.shape[0]
    alphas = amax * np.geomspace(0.5, 0.02, 8)
    full, W_full = _path_row_steps(design, Yc, alphas, False)
    act, W_act = _path_row_steps(design, Yc, alphas, True)
    assert act < 0.95 * full
    assert_allclose(W_act, W_full, atol=1e-5 * np.abs(W_full).max())


@pytest.mark.parametrize("layout", ["dense_F", "csc32"])
def test_small_working_sets_keep_full_sweeps(layout):
    """With fewer than ACTIVE_MIN_ZERO rows at 0 in the working set, the active sweeps
    stay off (there they cost more updates than they save: this CSC problem took
    2.6% more with them): the very same iterates as full sweeps."""
    from fastlasso._data import make_design
    from fastlasso._multitask import center_targets, solve_mt

    X, Y = _problem(n=50, p=600, T=5, seed=25)
    design = make_design(as_layout(X, layout), None, True)
    Yc, _, _ = center_targets(design, Y)
    alpha = _alpha(X, Y, 0.02)
    full, act = (solve_mt(design, Yc, alpha, tol=1e-10, max_iter=100_000,
                          polish=False, active_sweeps=a) for a in (False, True))
    assert full.converged and act.converged
    assert act.info["row_steps"] == full.info["row_steps"]
    assert_array_equal(act.coef, full.coef)
