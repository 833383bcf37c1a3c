"""fastlasso.dask estimators and paths against in-memory fastlasso on the same data.

Every comparison is certified independently: the duality gaps of both solutions are
recomputed here in numpy from the definition (``numpy_gap``), and the objectives must
agree within their sum, |P_dask - P_local| <= gap_dask + gap_local; the dask gap must
also meet the tolerance. Fits run on the session's LocalCluster (2 worker processes).
"""

import pickle
import warnings

import dask
import dask.array as da
import dask.dataframe as dd
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning
from threadpoolctl import threadpool_limits

import fastlasso
import fastlasso.dask as fld

from conftest import centred, make_regression_data, objective, rescaled_weights, y_scale

pytestmark = pytest.mark.slow  # fits on a LocalCluster of worker processes


def numpy_gap(X, y, coef, intercept, alpha, l1_ratio=1.0, sample_weight=None,
              positive=False, fit_intercept=True):
    """(duality gap, P) of (coef, intercept) in float64, from the definitions.

    The intercept reported with w is optimal for w (b = ybar - xbar^T w), so
    r = y - X w - b is the residual of the centred problem (X~, y~) = (X - xbar,
    y - ybar) (no centring without intercept). With c = X~^T S r / n - alpha (1 - rho) w
    and s = min(1, alpha rho / max_j |c_j|) (max_j c_j if positive), the dual point
    theta = s r gives D = -s^2/(2n) (||r||_S^2 + n alpha (1 - rho) ||w||^2)
    + s/n r^T S y~, and gap = P(w, b) - D >= P(w, b) - min P.
    """
    Xc, yc, _, _ = centred(X, y, sample_weight, fit_intercept)
    n = Xc.shape[0]
    s = rescaled_weights(sample_weight, n)
    w = np.asarray(coef, dtype=np.float64)
    r = yc - Xc @ w
    lam, l2 = alpha * l1_ratio, alpha * (1 - l1_ratio)
    c = Xc.T @ (s * r) / n - l2 * w
    dnorm = max(c.max(), 0.0) if positive else np.abs(c).max()
    scale = min(1.0, lam / dnorm) if dnorm > 0 else 1.0
    P = objective(X, y, w, intercept, alpha, l1_ratio, sample_weight)
    D = (-scale**2 / (2 * n) * (s @ (r * r) + n * l2 * (w @ w))
         + scale / n * (s @ (r * yc)))
    return P - D, P


def data(n=3000, p=25, layout="dense", dtype=np.float64, seed=0, density=0.3):
    X, y, sw = make_regression_data(n, p, seed=seed, density=density)
    X = X.astype(dtype)
    if layout != "dense":
        X = sp.csr_matrix(X)
    return X, y.astype(dtype), sw


def to_dask(X, y, sw=None, rows=331):
    dX = da.from_array(X, chunks=(rows, X.shape[1]), asarray=not sp.issparse(X))
    return (dX, da.from_array(y, chunks=rows),
            None if sw is None else da.from_array(sw, chunks=rows))


def check_against_local(X, y, sw, dask_est, local_est, alpha, l1_ratio, positive=False,
                        fit_intercept=True):
    """Both certified by numpy gaps; objectives within the sum of the gaps."""
    gap_d, P_d = numpy_gap(X, y, dask_est.coef_, dask_est.intercept_, alpha, l1_ratio,
                           sw, positive, fit_intercept)
    gap_l, P_l = numpy_gap(X, y, local_est.coef_, local_est.intercept_, alpha,
                           l1_ratio, sw, positive, fit_intercept)
    unit = y_scale(y, sw, fit_intercept)
    assert abs(P_d - P_l) <= gap_d + gap_l + 1e-12 * unit
    assert gap_d <= dask_est.tol * unit * (1 + 1e-6) + 1e-13 * unit
    # the reported gap is the gap from the data (up to rounding of P's terms)
    assert float(dask_est.dual_gap_) == pytest.approx(gap_d, rel=1e-4, abs=1e-9 * unit)
    assert dask_est.coef_.dtype == np.asarray(X.dtype)
    if positive:
        assert dask_est.coef_.min() >= 0


def check_cv_against_local(X, y, sw, est, local, fit_intercept):
    """A dask LassoCV equals the in-memory one: the alpha grid, both rules' choices,
    the CV errors with their standard errors and the support sizes; the refit is
    certified against the in-memory refit (check_against_local)."""
    np.testing.assert_allclose(est.alphas_, local.alphas_, rtol=1e-12)
    assert est.alpha_ == pytest.approx(local.alpha_, rel=1e-12)
    assert est.alpha_1se_ == pytest.approx(local.alpha_1se_, rel=1e-12)
    assert est.alpha_min_ == pytest.approx(local.alpha_min_, rel=1e-12)
    np.testing.assert_allclose(est.mse_path_, local.mse_path_, rtol=1e-9)
    np.testing.assert_allclose(est.mse_se_, local.mse_se_, rtol=1e-7)
    np.testing.assert_allclose(est.n_nonzero_path_, local.n_nonzero_path_)
    check_against_local(X, y, sw, est, local, est.alpha_, 1.0,
                        fit_intercept=fit_intercept)


@pytest.mark.parametrize("layout", ["dense", "csr"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_fit_equals_in_memory(layout, dtype, weighted, fit_intercept, dask_client):
    X, y, sw = data(layout=layout, dtype=dtype)
    sw = sw if weighted else None
    dX, dy, dsw = to_dask(X, y, sw)
    alpha = 0.02
    kw = dict(alpha=alpha, fit_intercept=fit_intercept, tol=1e-6)
    est = fld.Lasso(**kw).fit(dX, dy, sample_weight=dsw)
    local = fastlasso.Lasso(**kw).fit(X, y, sample_weight=sw)
    check_against_local(X, y, sw, est, local, alpha, 1.0, fit_intercept=fit_intercept)
    assert est.regime_ == "gram" and est.n_passes_ == 2
    assert np.count_nonzero(est.coef_) >= 5
    if not fit_intercept:
        assert est.intercept_ == 0.0


@pytest.mark.parametrize("layout", ["dense", "csr"])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("positive", [False, True])
def test_working_set_regime_equals_in_memory(layout, weighted, positive, dask_client):
    """Wide data (n < 4 p): working sets, a pass or two per outer iteration."""
    X, y, sw = data(n=400, p=300, layout=layout, density=0.1, seed=2)
    sw = sw if weighted else None
    dX, dy, dsw = to_dask(X, y, sw, rows=90)
    alpha, l1_ratio = 0.01, 0.8
    kw = dict(alpha=alpha, l1_ratio=l1_ratio, positive=positive, tol=1e-8)
    est = fld.ElasticNet(**kw).fit(dX, dy, sample_weight=dsw)
    local = fastlasso.ElasticNet(**kw).fit(X, y, sample_weight=sw)
    check_against_local(X, y, sw, est, local, alpha, l1_ratio, positive)
    assert est.regime_ == "ws"
    assert 3 <= est.n_passes_ <= 12


def test_sparse_working_sets_take_the_violators_in_few_passes(dask_client,
                                                             monkeypatch):
    """Sparse data whose solution has ~500 features, ~700 violating at w = 0: every
    violator enters the first working set (a pass costs a read of all the data, a
    larger client solve little), a later iteration fetches only for new violators
    (not for margin features alone), so the fit takes 5 passes (statistics, Gram
    block, gradient, Gram block of the few late entrants, gradient; doubling from 80
    features took 9). The client's restricted solves pack their Gram block once each
    (the kernel's own working sets off: the features are one already). Certified
    against in-memory fastlasso."""
    from fastlasso import _statsolve

    rng = np.random.default_rng(0)
    n, p = 5000, 2000
    X = sp.random(n, p, density=0.01, format="csr", random_state=rng,
                  data_rvs=rng.standard_normal)
    beta = np.zeros(p)
    beta[:50] = rng.choice([-1.0, 1.0], 50) * rng.uniform(0.5, 2.0, 50)
    y = X @ beta + rng.standard_normal(n)
    alpha = 0.05 * np.abs(X.T @ (y - y.mean())).max() / n
    packs = []
    solve = _statsolve.GramModelSolver.solve

    def counted(self, *args, **kwargs):
        w, out = solve(self, *args, **kwargs)
        packs.append((self.m, out.get("gram_inner", 0)))
        return w, out

    monkeypatch.setattr(_statsolve.GramModelSolver, "solve", counted)
    dX, dy, _ = to_dask(X, y, rows=1000)
    est = fld.Lasso(alpha=alpha, tol=1e-8).fit(dX, dy)
    local = fastlasso.Lasso(alpha=alpha, tol=1e-8).fit(X, y)
    check_against_local(X, y, None, est, local, alpha, 1.0)
    assert est.regime_ == "ws" and np.count_nonzero(est.coef_) > 400
    assert est.n_passes_ == 5
    assert packs and all(k <= 1 for _, k in packs), packs


def test_gram_regime_forced_and_elastic_net(dask_client):
    X, y, sw = data(n=600, p=200, seed=3)
    dX, dy, dsw = to_dask(X, y, sw, rows=150)
    for pre, regime in ((True, "gram"), (False, "ws"), ("auto", "ws")):
        est = fld.ElasticNet(alpha=0.05, l1_ratio=0.3, precompute=pre, tol=1e-8).fit(
            dX, dy, sample_weight=dsw)
        local = fastlasso.ElasticNet(alpha=0.05, l1_ratio=0.3, tol=1e-8).fit(
            X, y, sample_weight=sw)
        check_against_local(X, y, sw, est, local, 0.05, 0.3)
        assert est.regime_ == regime


def test_warm_start_and_convergence_warning(dask_client):
    X, y, _ = data()
    dX, dy, _ = to_dask(X, y)
    est = fld.Lasso(alpha=0.05, warm_start=True, tol=1e-10).fit(dX, dy)
    cold_iter = est.n_iter_
    est.set_params(alpha=0.049).fit(dX, dy)
    assert est.n_iter_ < cold_iter
    local = fastlasso.Lasso(alpha=0.049, tol=1e-10).fit(X, y)
    check_against_local(X, y, None, est, local, 0.049, 1.0)
    with pytest.warns(ConvergenceWarning, match="from a pass over the data") as rec:
        fld.Lasso(alpha=1e-4, tol=1e-14, max_iter=2, precompute=False).fit(dX, dy)
    assert rec[0].filename == __file__  # the warning points at the user's call
    with pytest.warns(ConvergenceWarning, match="alphas") as rec:
        fld.lasso_path(dX, dy, alphas=[1e-3, 1e-4], tol=1e-14, max_iter=2,
                       precompute=False)
    assert rec[0].filename == __file__
    with pytest.warns(ConvergenceWarning, match="fold") as rec:
        fld.LassoCV(alphas=[1e-3, 1e-4], cv=2, tol=1e-14, max_iter=2,
                    precompute=False).fit(dX, dy)
    assert rec[0].filename == __file__


@pytest.mark.parametrize("precompute", ["auto", False])
@pytest.mark.parametrize("layout", ["dense", "csr"])
def test_lasso_path_equals_in_memory(precompute, layout, dask_client):
    X, y, sw = data(n=1200, p=20, layout=layout)
    dX, dy, dsw = to_dask(X, y, sw, rows=250)
    alphas, coefs, gaps, n_passes = fld.lasso_path(
        dX, dy, alphas=12, fit_intercept=True, sample_weight=dsw, tol=1e-8,
        precompute=precompute, return_n_passes=True)
    alphas_l, coefs_l, _ = fastlasso.lasso_path(X, y, alphas=12, fit_intercept=True,
                                                sample_weight=sw, tol=1e-8)
    np.testing.assert_allclose(alphas, alphas_l, rtol=1e-12)
    Xc = X.toarray() if sp.issparse(X) else X
    s = rescaled_weights(sw, X.shape[0])
    mu, ybar = s @ Xc / X.shape[0], s @ y / X.shape[0]
    for k, alpha in enumerate(alphas):
        b = ybar - mu @ coefs[:, k]
        b_l = ybar - mu @ coefs_l[:, k]
        gap_d, P_d = numpy_gap(X, y, coefs[:, k], b, alpha, 1.0, sw)
        gap_l, P_l = numpy_gap(X, y, coefs_l[:, k], b_l, alpha, 1.0, sw)
        assert abs(P_d - P_l) <= gap_d + gap_l + 1e-13
        assert gaps[k] == pytest.approx(gap_d, rel=1e-3, abs=1e-12)
        assert gap_d <= 1e-8 * y_scale(y, sw) * (1 + 1e-6)
    if precompute == "auto":
        assert n_passes == 2  # statistics, then every alpha's gap at once


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_lasso_cv_equals_in_memory(weighted, fit_intercept, dask_client):
    X, y, sw = data(n=2003, p=30, seed=4)
    sw = sw if weighted else None
    dX, dy, dsw = to_dask(X, y, sw, rows=300)  # chunks straddle the folds
    kw = dict(cv=5, fit_intercept=fit_intercept, alpha_rule="1se")
    est = fld.LassoCV(**kw).fit(dX, dy, sample_weight=dsw)
    local = fastlasso.LassoCV(**kw).fit(X, y, sample_weight=sw)
    assert est.n_passes_ == 2
    check_cv_against_local(X, y, sw, est, local, fit_intercept)


def test_elastic_net_cv_l1_ratios_and_sparse_chunks(dask_client):
    X, y, _ = data(n=1500, p=20, seed=5)
    dX, dy, _ = to_dask(X, y, rows=200)
    kw = dict(cv=4, l1_ratio=[0.2, 0.7, 1.0], alphas=20)
    est = fld.ElasticNetCV(**kw).fit(dX, dy)
    local = fastlasso.ElasticNetCV(**kw).fit(X, y)
    assert est.l1_ratio_ == local.l1_ratio_
    assert est.alpha_ == pytest.approx(local.alpha_, rel=1e-12)
    np.testing.assert_allclose(est.mse_path_, local.mse_path_, rtol=1e-9)
    # sparse chunks: the in-memory CV runs coordinate descent on the data (not the
    # Gram matrix), so paths agree to their (tight) tolerance, not to rounding
    Xs = sp.csr_matrix(X)
    dXs, _, _ = to_dask(Xs, y, rows=200)
    kw = dict(cv=4, alphas=15, tol=1e-12)
    est = fld.LassoCV(**kw).fit(dXs, dy)
    local = fastlasso.LassoCV(**kw).fit(Xs, y)
    assert est.alpha_ == pytest.approx(local.alpha_, rel=1e-12)
    np.testing.assert_allclose(est.mse_path_, local.mse_path_, rtol=1e-7)


def test_dataframe_input_predict_and_to_local(dask_client):
    X, y, _ = data(n=1000, p=6)
    cols = [f"f{j}" for j in range(6)]
    ddf = dd.from_pandas(pd.DataFrame(X, columns=cols), npartitions=4)
    dys = dd.from_pandas(pd.Series(y, name="y"), npartitions=4)
    est = fld.Lasso(alpha=0.01).fit(ddf, dys)
    local = fastlasso.Lasso(alpha=0.01).fit(pd.DataFrame(X, columns=cols), y)
    check_against_local(X, y, None, est, local, 0.01, 1.0)
    assert list(est.feature_names_in_) == cols
    assert est.n_passes_ == 3  # the partitions' lengths, statistics, certificate
    pred = est.predict(ddf)
    assert isinstance(pred, da.Array)
    np.testing.assert_allclose(pred.compute(), X @ est.coef_ + est.intercept_)
    to_local = est.to_local()
    assert type(to_local) is fastlasso.Lasso
    np.testing.assert_allclose(to_local.predict(pd.DataFrame(X, columns=cols)),
                               pred.compute())
    assert est.score(ddf, dys) == pytest.approx(
        local.score(pd.DataFrame(X, columns=cols), y), rel=1e-9)


def test_sparse_predict_is_lazy_and_pickle_drops_client(dask_client):
    X, y, _ = data(n=800, p=10, layout="csr")
    dX, dy, _ = to_dask(X, y, rows=200)
    est = fld.ElasticNet(alpha=0.01, client=dask_client).fit(dX, dy)
    pred = est.predict(dX)
    assert isinstance(pred, da.Array)
    np.testing.assert_allclose(pred.compute(), X @ est.coef_ + est.intercept_)
    clone = pickle.loads(pickle.dumps(est))
    assert clone.client is None and est.client is dask_client
    np.testing.assert_array_equal(clone.coef_, est.coef_)
    assert "client" in est.get_params()


def test_default_client_and_local_schedulers(dask_client):
    """client=None uses the default client; inside a dask configuration that names
    another scheduler (synchronous, threads), that scheduler: the same coefficients
    (bitwise: the statistics do not depend on the scheduler)."""
    from distributed import get_task_stream

    X, y, _ = data(n=900, p=8)
    dX, dy, _ = to_dask(X, y, rows=100)
    with get_task_stream(dask_client) as ts:
        est = fld.Lasso(alpha=0.01).fit(dX, dy)
    assert len(ts.data) > 0  # ran on the cluster
    est2 = fld.Lasso(alpha=0.01, client=dask_client).fit(dX, dy)
    np.testing.assert_array_equal(est.coef_, est2.coef_)
    for scheduler in ("synchronous", "threads"):
        with get_task_stream(dask_client) as ts, dask.config.set(scheduler=scheduler):
            est3 = fld.Lasso(alpha=0.01).fit(dX, dy)
        assert len(ts.data) == 0  # not on the cluster
        np.testing.assert_array_equal(est3.coef_, est.coef_)


def test_chunking_problems(dask_client):
    X, y, sw = data(n=700, p=5)
    dX, dy, dsw = to_dask(X, y, sw, rows=100)
    ref = fld.Lasso(alpha=0.01).fit(dX, dy, sample_weight=dsw)
    # y and weights chunked differently from X: rechunked to X's rows
    est = fld.Lasso(alpha=0.01).fit(dX, da.from_array(y, chunks=77),
                                    sample_weight=da.from_array(sw, chunks=333))
    np.testing.assert_array_equal(est.coef_, ref.coef_)
    # X chunked along its columns too: one chunk of all columns per row block
    est = fld.Lasso(alpha=0.01).fit(dX.rechunk((100, 2)), dy, sample_weight=dsw)
    np.testing.assert_array_equal(est.coef_, ref.coef_)
    # unknown chunk sizes (boolean indexing): counted in a pass, then fitted
    keep = np.ones(700, dtype=bool)
    dXu, dyu = dX[da.from_array(keep, chunks=100)], dy[da.from_array(keep, chunks=100)]
    assert np.isnan(dXu.chunks[0][0])
    est = fld.Lasso(alpha=0.01).fit(dXu, dyu)
    local = fastlasso.Lasso(alpha=0.01).fit(X, y)
    check_against_local(X, y, None, est, local, 0.01, 1.0)
    assert est.n_passes_ == 3  # X's chunk sizes (y's taken to match), stats, gap
    mismatch = "inconsistent numbers of samples: \\[700, 699"
    with pytest.raises(ValueError, match=mismatch):
        fld.Lasso().fit(dX, dy[:699])
    with pytest.raises(ValueError, match="y must be 1-D"):
        fld.Lasso().fit(dX, da.stack([dy, dy], axis=1))
    with pytest.raises(ValueError, match="'precompute' parameter of Lasso must be"):
        fld.Lasso(precompute=np.eye(5)).fit(dX, dy)


@pytest.fixture
def synchronous():
    """dask's synchronous scheduler for fits with client=None (no cluster: their
    passes cost milliseconds; the cluster's own tests are the others here)."""
    with dask.config.set(scheduler="synchronous"):
        yield


def test_other_warnings_point_at_the_call(synchronous):
    """The alpha=0 advice and the n_alphas deprecation point at the user's line too
    (not at scikit-learn's fit wrapper or at lasso_path inside fastlasso)."""
    X, y, _ = data(n=120, p=6)
    dX, dy, _ = to_dask(X, y, rows=50)
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        fld.Lasso(alpha=0.0, max_iter=3).fit(dX, dy)
    advice = [w for w in rec if "alpha=0" in str(w.message)]
    assert len(advice) == 1 and advice[0].filename == __file__
    with pytest.warns(FutureWarning, match="n_alphas") as rec:
        fld.lasso_path(dX, dy, n_alphas=3)
    assert rec[0].filename == __file__


@pytest.mark.parametrize("layout", ["dense", "csr"])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_working_set_cv_equals_in_memory(layout, weighted, fit_intercept, synchronous):
    """Wide data (n < 4 p): every fold's path runs with working sets, the folds sharing
    each pass; the grid, errors and choices equal the in-memory LassoCV's (tight tol:
    both paths are then exact to about 1e-11), in fewer passes than two separate
    paths on the full data would take (K separate fold paths: about K times one)."""
    X, y, sw = data(n=300, p=240, layout=layout, density=0.1, seed=9)
    sw = sw if weighted else None
    dX, dy, dsw = to_dask(X, y, sw, rows=70)  # chunks straddle the folds
    kw = dict(cv=4, alphas=20, tol=1e-12, fit_intercept=fit_intercept,
              alpha_rule="1se")
    est = fld.LassoCV(**kw).fit(dX, dy, sample_weight=dsw)
    with threadpool_limits(1):  # the dense reference's small BLAS calls: no threads
        local = fastlasso.LassoCV(**kw).fit(X, y, sample_weight=sw)
    assert local.alpha_1se_ > local.alpha_min_  # the two rules choose differently
    check_cv_against_local(X, y, sw, est, local, fit_intercept)
    _, _, _, path_passes = fld.lasso_path(
        dX, dy, alphas=est.alphas_, tol=1e-12, sample_weight=dsw,
        fit_intercept=fit_intercept, return_n_passes=True)
    assert est.n_passes_ < 2 * path_passes


def test_working_set_elastic_net_cv_l1_ratios_positive(dask_client):
    """Several l1_ratios (their paths share the passes too), positive coefficients,
    on the cluster."""
    X, y, sw = data(n=240, p=200, layout="csr", density=0.15, seed=9)
    dX, dy, dsw = to_dask(X, y, sw, rows=50)
    kw = dict(cv=3, l1_ratio=[0.5, 1.0], alphas=10, tol=1e-12, positive=True)
    est = fld.ElasticNetCV(**kw).fit(dX, dy, sample_weight=dsw)
    local = fastlasso.ElasticNetCV(**kw).fit(X, y, sample_weight=sw)
    assert est.l1_ratio_ == local.l1_ratio_
    assert est.alpha_ == pytest.approx(local.alpha_, rel=1e-12)
    np.testing.assert_allclose(est.alphas_, local.alphas_, rtol=1e-12)
    np.testing.assert_allclose(est.mse_path_, local.mse_path_, rtol=1e-9)
    check_against_local(X, y, sw, est, local, est.alpha_, est.l1_ratio_, positive=True)


@pytest.mark.parametrize("layout", ["dense", "csr"])
def test_in_memory_cv_folds_on_the_joblib_dask_backend(layout, dask_client):
    """In-memory fastlasso.LassoCV runs its folds through joblib: under
    joblib.parallel_config("dask") they run as tasks on the cluster, with the same
    result as in threads."""
    import joblib
    from distributed import get_task_stream

    X, y, sw = data(n=400, p=60, layout=layout, seed=6)
    kw = dict(cv=3, alphas=10, n_jobs=2)
    ref = fastlasso.LassoCV(**kw).fit(X, y, sample_weight=sw)
    with get_task_stream(dask_client) as ts, joblib.parallel_config("dask"):
        est = fastlasso.LassoCV(**kw).fit(X, y, sample_weight=sw)
    assert len(ts.data) >= 3  # the three folds ran on the workers
    np.testing.assert_array_equal(est.mse_path_, ref.mse_path_)
    np.testing.assert_array_equal(est.coef_, ref.coef_)
