"""LassoCV / ElasticNetCV make scikit-learn's choices, and the one-standard-error rule
is what its definition says.

Reference: scikit-learn's LassoCV / ElasticNetCV on the same data, folds and grid, both
fitted at tol=1e-10 so that every held-out error is within ~1e-8 (relative) of the
exact path's. The test data are checked to have a clear minimum (the runner-up mean
error is more than CLEAR_MARGIN above it), so the chosen alpha cannot flip on
roundoff. The 1-SE rule is recomputed in numpy from scikit-learn's mse_path_:
mean_k = mean over folds, se_k = std over folds (ddof=1) / sqrt(K),
alpha_1se = the largest alpha with mean_k <= mean_min + se_min.
"""

import numpy as np
import pytest
import scipy.sparse as sp
import sklearn
from numpy.testing import assert_allclose, assert_array_equal
from sklearn import linear_model
from sklearn.model_selection import GroupKFold, KFold, ShuffleSplit

import fastlasso

from conftest import as_layout, make_regression_data, sklearn_fit, y_scale

TOL = 1e-10
MAX_ITER = 100_000
MSE_RTOL = 1e-6
COEF_RTOL = 1e-6
CLEAR_MARGIN = 1e-4
L1_RATIOS = [0.2, 0.6, 1.0]


def lasso_data():
    """Sparse truth (5 of 30 features): the Lasso's home ground."""
    X, y, sw = make_regression_data(60, 30, seed=1)
    return X, y, sw


def enet_data():
    """Correlated features (5 latent factors) and a dense small-effect truth, so that
    ElasticNetCV prefers the smallest l1_ratio of L1_RATIOS, at an interior alpha."""
    rng = np.random.default_rng(3)
    n, p = 60, 30
    Z = rng.standard_normal((n, 5))
    X = Z @ rng.standard_normal((5, p)) + 0.5 * rng.standard_normal((n, p)) + 1.0
    y = X @ rng.uniform(0.2, 0.5, p) + rng.standard_normal(n)
    return X, y, rng.uniform(0.5, 2.0, n)


MODELS = {
    "lasso": (lasso_data, "LassoCV", {}),
    "enet": (enet_data, "ElasticNetCV", {"l1_ratio": L1_RATIOS}),
}


def fit_both(model, X, y, sample_weight=None, fit_params=None, **params):
    """(fastlasso fit, scikit-learn fit) of the model's CV class with these params."""
    _, cls, defaults = MODELS[model]
    params = {"tol": TOL, "max_iter": MAX_ITER, "alphas": 30, **defaults, **params}
    fit_params = fit_params or {}
    ours = getattr(fastlasso, cls)(**params).fit(X, y, sample_weight=sample_weight,
                                                 **fit_params)
    ref = getattr(linear_model, cls)(**params).fit(X, y, sample_weight=sample_weight,
                                                   **fit_params)
    return ours, ref


def mean_mse(cv_model):
    """Mean held-out error over folds, shape (n_l1_ratio, n_alphas)."""
    mse = np.asarray(cv_model.mse_path_)
    return np.atleast_2d(mse.mean(axis=-1))


def assert_clear_minimum(ref):
    """Test-data check: the best mean error beats every other by CLEAR_MARGIN."""
    m = np.sort(mean_mse(ref).ravel())
    assert m[1] - m[0] > CLEAR_MARGIN * m[0]


def assert_same_cv(ours, ref):
    """Same grid, held-out errors, choice and refitted model as scikit-learn."""
    assert_allclose(ours.alphas_, ref.alphas_, rtol=1e-12)
    assert ours.mse_path_.shape == ref.mse_path_.shape
    assert_allclose(ours.mse_path_, ref.mse_path_, rtol=MSE_RTOL)
    assert_allclose(ours.alpha_, ref.alpha_, rtol=1e-12)
    if hasattr(ref, "l1_ratio"):
        assert ours.l1_ratio_ == ref.l1_ratio_
    scale = np.abs(ref.coef_).max()
    assert_allclose(ours.coef_, ref.coef_, rtol=0, atol=COEF_RTOL * scale)
    assert_allclose(ours.intercept_, ref.intercept_, rtol=COEF_RTOL,
                    atol=COEF_RTOL * scale)


def one_se_choice(mse_path, alphas):
    """(alpha_min, alpha_1se, se) from a (n_alphas, n_folds) error path."""
    mean = mse_path.mean(axis=1)
    se = mse_path.std(axis=1, ddof=1) / np.sqrt(mse_path.shape[1])
    best = np.argmin(mean)
    within = mean <= mean[best] + se[best]
    return alphas[best], np.max(alphas[within]), se


# ------------------------------------------------------- agreement with sklearn


@pytest.mark.parametrize("model", list(MODELS))
@pytest.mark.parametrize("layout", ["dense_F", "dense_C", "csr"])
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "sw"])
@pytest.mark.parametrize("fold_copy", [True, False], ids=["row_copies", "zero_weights"])
def test_matches_sklearn(model, layout, weighted, fold_copy, monkeypatch):
    """Folds as copies of their training rows (X up to FOLD_COPY_BYTES) and as X with
    zero weights on the held-out rows (larger X) give the same answers."""
    if not fold_copy:
        monkeypatch.setattr(fastlasso._cv, "FOLD_COPY_BYTES", 0)
    X, y, sw = MODELS[model][0]()
    sw = sw if weighted else None
    Xl = as_layout(X, layout)
    ours, ref = fit_both(model, Xl, y, sample_weight=sw)
    assert_clear_minimum(ref)
    assert_same_cv(ours, ref)
    assert_allclose(ours.predict(Xl), ref.predict(Xl), rtol=1e-6)


@pytest.mark.parametrize("layout", ["dense_F", "csc"])
def test_folds_copy_small_x_and_weigh_large_x_in_place(layout, monkeypatch):
    """A fold of a small X is a copy of its training rows; past FOLD_COPY_BYTES the
    kernels read X itself, with zero weights on the held-out rows."""
    X, y, _ = lasso_data()
    Xl = as_layout(X, layout)
    train = np.arange(0, 60, 3)
    design, _, _ = fastlasso._cv.fold_training(Xl, y, None, train, True)
    assert design.n_samples == len(train) and design.sw is None
    assert_array_equal(design.X.toarray() if sp.issparse(design.X) else design.X,
                       X[train])
    monkeypatch.setattr(fastlasso._cv, "FOLD_COPY_BYTES", 0)
    design, _, _ = fastlasso._cv.fold_training(Xl, y, None, train, True)
    assert design.X is Xl
    assert_array_equal(np.flatnonzero(design.sw), train)


@pytest.mark.parametrize(
    "model,params",
    [
        ("lasso", {"fit_intercept": False}),
        ("enet", {"l1_ratio": [0.5]}),
        ("enet", {"l1_ratio": 0.5, "selection": "random", "random_state": 0}),
    ],
    ids=["no_intercept", "one_l1_ratio_list", "random_selection"],
)
def test_options_match_sklearn(model, params):
    """Also with some zero sample weights (rows that only count as absent)."""
    X, y, sw = lasso_data()
    sw = sw.copy()
    sw[:10] = 0.0
    ours, ref = fit_both(model, X, y, sample_weight=sw, **params)
    assert_clear_minimum(ref)
    assert_same_cv(ours, ref)


def test_enet_data_prefers_an_elastic_net():
    """The l1_ratio choice is exercised: not the Lasso end, not the grid's edge."""
    X, y, _ = enet_data()
    ours, ref = fit_both("enet", X, y)
    assert ref.l1_ratio_ == 0.2 and ours.l1_ratio_ == 0.2
    assert ours.alphas_.shape == (3, 30) and ours.mse_path_.shape == (3, 30, 5)
    i = int(np.argmin(mean_mse(ref)[0]))
    assert 0 < i < 29


def test_default_grid_of_100_alphas():
    X, y, _ = lasso_data()
    ours, ref = fit_both("lasso", X, y, alphas=100)
    assert ours.alphas_.shape == (100,) and ours.mse_path_.shape == (100, 5)
    assert_clear_minimum(ref)
    assert_same_cv(ours, ref)


@pytest.mark.parametrize(
    "make_cv",
    [
        lambda X: 3,
        lambda X: KFold(4, shuffle=True, random_state=7),
        lambda X: list(ShuffleSplit(4, test_size=0.25, random_state=0).split(X)),
        lambda X: KFold(3).split(X),  # a one-shot generator
    ],
    ids=["int", "kfold_shuffled", "list_of_splits", "generator"],
)
def test_cv_argument_gives_sklearns_folds(make_cv):
    X, y, _ = lasso_data()
    params = {"tol": TOL, "max_iter": MAX_ITER, "alphas": 30}
    ours = fastlasso.LassoCV(cv=make_cv(X), **params).fit(X, y)
    ref = linear_model.LassoCV(cv=make_cv(X), **params).fit(X, y)
    n_folds = ref.mse_path_.shape[1]
    assert ours.mse_path_.shape == (30, n_folds)
    assert_same_cv(ours, ref)


def test_groups_are_routed_to_the_splitter():
    X, y, _ = lasso_data()
    groups = np.repeat(np.arange(6), 10)
    with sklearn.config_context(enable_metadata_routing=True):
        ours, ref = fit_both("lasso", X, y, cv=GroupKFold(3),
                             fit_params={"groups": groups})
    assert ours.mse_path_.shape == (30, 3)
    assert_same_cv(ours, ref)


def test_groups_without_routing_are_rejected_like_sklearn():
    X, y, _ = lasso_data()
    groups = np.repeat(np.arange(6), 10)
    for cls in (fastlasso.LassoCV, linear_model.LassoCV):
        with pytest.raises(ValueError, match="enable_metadata_routing=True"):
            cls(cv=GroupKFold(3)).fit(X, y, groups=groups)


@pytest.mark.parametrize("precompute", [True, False])
def test_precompute_and_positive_match_sklearn(precompute):
    X, y, _ = lasso_data()
    y = y - 3 * X[:, 2]
    ours, ref = fit_both("lasso", X, y, precompute=precompute, positive=True)
    assert np.all(ours.coef_ >= 0)
    assert_clear_minimum(ref)
    assert_same_cv(ours, ref)


def test_explicit_alphas_are_sorted_like_sklearn():
    X, y, _ = lasso_data()
    given = [0.01, 1.0, 0.1, 0.003, 0.3]
    ours, ref = fit_both("lasso", X, y, alphas=given)
    assert_array_equal(ours.alphas_, sorted(given, reverse=True))
    assert_same_cv(ours, ref)


def test_explicit_alphas_with_l1_ratio_list_keep_sklearns_shape():
    X, y, _ = enet_data()
    ours, ref = fit_both("enet", X, y, alphas=[1.0, 0.1, 0.01])
    assert ours.alphas_.shape == ref.alphas_.shape


def test_float32_data():
    """float32 in: float32 coefficients, errors and choice as scikit-learn's float64
    fit of the same (float32) data, to float32 accuracy."""
    X, y, _ = lasso_data()
    X32, y32 = X.astype(np.float32), y.astype(np.float32)
    ours = fastlasso.LassoCV(alphas=30, tol=1e-6).fit(X32, y32)
    ref = linear_model.LassoCV(alphas=30, tol=TOL, max_iter=MAX_ITER).fit(
        X32.astype(np.float64), y32.astype(np.float64))
    assert ours.coef_.dtype == np.float32
    assert_clear_minimum(ref)
    assert_allclose(ours.alphas_, ref.alphas_, rtol=1e-6)
    assert_allclose(ours.mse_path_, ref.mse_path_, rtol=1e-4)
    assert_allclose(ours.alpha_, ref.alpha_, rtol=1e-6)
    assert_allclose(ours.coef_, ref.coef_, atol=1e-3 * np.abs(ref.coef_).max())


# ------------------------------------------------------- the one-standard-error rule


@pytest.mark.parametrize("model", list(MODELS))
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "sw"])
def test_one_se_rule_from_sklearns_errors(model, weighted):
    X, y, sw = MODELS[model][0]()
    ours, ref = fit_both(model, X, y, sample_weight=sw if weighted else None)
    mse, alphas, se = ref.mse_path_, ref.alphas_, ours.mse_se_
    if mse.ndim == 3:  # the chosen l1_ratio's row
        i = L1_RATIOS.index(ref.l1_ratio_)
        mse, alphas, se = mse[i], alphas[i], se[i]
        assert ours.mse_se_.shape == (len(L1_RATIOS), 30)
        assert ours.n_nonzero_path_.shape == (len(L1_RATIOS), 30)
    a_min, a_1se, se_ref = one_se_choice(mse, alphas)
    # test-data check: no mean error is near the 1-SE threshold
    mean = mse.mean(axis=1)
    threshold = mean.min() + se_ref[np.argmin(mean)]
    assert np.min(np.abs(mean - threshold)) > CLEAR_MARGIN * threshold
    assert_allclose(se, se_ref, rtol=1e-5)
    assert_allclose(ours.alpha_min_, a_min, rtol=1e-12)
    assert_allclose(ours.alpha_1se_, a_1se, rtol=1e-12)
    assert ours.alpha_1se_ > ours.alpha_min_  # the data make the rules differ
    assert ours.alpha_ == ours.alpha_min_  # alpha_rule="min" by default


@pytest.mark.parametrize("model", list(MODELS))
def test_alpha_rule_1se_refits_at_alpha_1se(model):
    X, y, _ = MODELS[model][0]()
    _, cls, defaults = MODELS[model]
    params = {"tol": TOL, "max_iter": MAX_ITER, "alphas": 30, **defaults}
    ours = getattr(fastlasso, cls)(alpha_rule="1se", **params).fit(X, y)
    by_min = getattr(fastlasso, cls)(**params).fit(X, y)
    ref = getattr(linear_model, cls)(**params).fit(X, y)
    assert ours.alpha_ == ours.alpha_1se_ == by_min.alpha_1se_
    assert ours.alpha_min_ == by_min.alpha_min_ == by_min.alpha_
    assert_allclose(ours.alpha_min_, ref.alpha_, rtol=1e-12)
    l1_ratio = getattr(ours, "l1_ratio_", 1.0)
    assert l1_ratio == getattr(ref, "l1_ratio_", 1.0)
    # the refit: a single fit at (alpha_1se_, l1_ratio_), by fastlasso and sklearn
    single = fastlasso.ElasticNet(alpha=ours.alpha_1se_, l1_ratio=l1_ratio, tol=1e-12,
                                  max_iter=MAX_ITER).fit(X, y)
    sk = sklearn_fit("ElasticNet", X, y, alpha=ours.alpha_1se_, l1_ratio=l1_ratio)
    scale = np.abs(sk.coef_).max()
    for est in (single, sk):
        assert_allclose(ours.coef_, est.coef_, rtol=0, atol=COEF_RTOL * scale)
        assert_allclose(ours.intercept_, est.intercept_, rtol=COEF_RTOL,
                        atol=COEF_RTOL * scale)
    assert np.count_nonzero(ours.coef_) <= np.count_nonzero(by_min.coef_)


def test_n_nonzero_path_is_the_mean_over_fold_paths():
    """Recomputed by scikit-learn's lasso_path on each fold's centred training rows."""
    X, y, _ = lasso_data()
    ours = fastlasso.LassoCV(alphas=30, tol=TOL, max_iter=MAX_ITER).fit(X, y)
    counts = []
    for train, _ in KFold(5).split(X):
        Xt, yt = X[train], y[train]
        coefs = linear_model.lasso_path(Xt - Xt.mean(axis=0), yt - yt.mean(),
                                        alphas=ours.alphas_, tol=1e-12,
                                        max_iter=MAX_ITER)[1]
        counts.append(np.count_nonzero(coefs, axis=0))
    assert_allclose(ours.n_nonzero_path_, np.mean(counts, axis=0), rtol=0, atol=1e-12)


def test_refit_is_certified():
    X, y, sw = lasso_data()
    ours = fastlasso.LassoCV(alphas=30, tol=1e-8).fit(X, y, sample_weight=sw)
    assert 0 <= ours.dual_gap_ <= 1e-8 * y_scale(y, sw, True)
    assert isinstance(ours.n_iter_, (int, np.integer)) and ours.n_iter_ >= 0


# ----------------------------------------------------------- threads, inputs, output


@pytest.mark.parametrize("layout", ["dense_F", "csc"])
def test_threads_give_the_same_result(layout):
    X, y, sw = enet_data()
    Xl = as_layout(X, layout)
    fits = [
        fastlasso.ElasticNetCV(l1_ratio=L1_RATIOS, alphas=30, tol=TOL, n_jobs=n_jobs)
        .fit(Xl, y, sample_weight=sw)
        for n_jobs in (1, 2, -1)
    ]
    for other in fits[1:]:
        assert_allclose(other.mse_path_, fits[0].mse_path_, rtol=1e-12)
        assert other.alpha_ == fits[0].alpha_ and other.l1_ratio_ == fits[0].l1_ratio_
        assert other.alpha_1se_ == fits[0].alpha_1se_
        assert_allclose(other.coef_, fits[0].coef_, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("layout", ["dense_F", "dense_C", "csc", "csr"])
def test_inputs_are_not_modified(layout):
    X, y, sw = lasso_data()
    Xl = as_layout(X, layout)
    before = (Xl.copy(), y.copy(), sw.copy())
    fastlasso.LassoCV(alphas=10, n_jobs=2).fit(Xl, y, sample_weight=sw)
    if sp.issparse(Xl):
        assert_array_equal(Xl.toarray(), before[0].toarray())
        assert_array_equal(Xl.indices, before[0].indices)
    else:
        assert_array_equal(Xl, before[0])
    assert_array_equal(y, before[1])
    assert_array_equal(sw, before[2])


def test_read_only_input_is_accepted():
    X, y, _ = lasso_data()
    X.flags.writeable = False
    y.flags.writeable = False
    ours = fastlasso.LassoCV(alphas=30, tol=TOL, max_iter=MAX_ITER).fit(X, y)
    ref = linear_model.LassoCV(alphas=30, tol=TOL, max_iter=MAX_ITER).fit(X, y)
    assert_same_cv(ours, ref)


def test_verbose_reports_each_fold_on_stderr(capsys):
    X, y, _ = lasso_data()
    fastlasso.ElasticNetCV(l1_ratio=[0.5, 1.0], alphas=5, cv=3, verbose=1).fit(X, y)
    out, err = capsys.readouterr()
    assert out == ""
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 2 * 3  # one per (l1_ratio, fold) path
    assert "6/6" in lines[-1]
    fastlasso.LassoCV(alphas=5, cv=3).fit(X, y)
    assert capsys.readouterr() == ("", "")


@pytest.mark.parametrize(
    "make,match",
    [
        (lambda: fastlasso.LassoCV(alpha_rule="max"), "alpha_rule"),
        (lambda: fastlasso.LassoCV(eps=0.0), "eps"),
        (lambda: fastlasso.ElasticNetCV(l1_ratio=[0.5, 1.5]), "l1_ratio"),
        (lambda: fastlasso.ElasticNetCV(l1_ratio=[0.0, 0.5]), "l1_ratio=0"),
        (
            lambda: fastlasso.LassoCV(alphas=[1.0, -0.1]),
            r"alphas\[1\] == -0.1, must be >= 0",
        ),
    ],
)
def test_bad_parameters_raise_value_error(make, match):
    X, y, _ = lasso_data()
    with pytest.raises(ValueError, match=match):
        make().fit(X, y)


def test_several_targets_are_rejected():
    X, y, _ = lasso_data()
    with pytest.raises(ValueError, match="1d array"):
        fastlasso.LassoCV().fit(X, np.c_[y, y])


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("splitter", [KFold(5, shuffle=True, random_state=0),
                                      ShuffleSplit(4, test_size=0.3, random_state=0)])
def test_gram_folds_equal_what_the_kernels_build_from_the_data(fit_intercept, weighted,
                                                                splitter):
    # GramFolds derives each fold's problem and held-out errors from block statistics;
    # the references are computed directly in numpy from the training rows (weights
    # rescaled to sum to n, centring by the weighted training mean) and the test rows.
    from fastlasso._cv import GramFolds

    rng = np.random.default_rng(3)
    n, p = 250, 12
    X = np.asfortranarray(rng.normal(size=(n, p)) * 3 + 50)  # large means: centring
    y = X[:, :3] @ np.array([1.0, -2.0, 0.5]) + rng.normal(size=n) + 7
    s = rng.uniform(0.5, 2.0, n) if weighted else None
    folds = list(splitter.split(X))
    gf = GramFolds(X, y, s, folds, fit_intercept)
    W = rng.normal(size=(p, 3))
    for k, (train, test) in enumerate(folds):
        w = np.zeros(n)
        w[train] = 1.0 if s is None else s[train]
        w *= n / w.sum()
        mean = np.average(X, axis=0, weights=w) if fit_intercept else np.zeros(p)
        ybar = np.average(y, weights=w) if fit_intercept else 0.0
        Xc, yc = X - mean, y - ybar
        design, yc_k, ybar_k, G, xty = gf.training(k)
        assert_allclose(G, Xc.T @ (w[:, None] * Xc), rtol=1e-9, atol=1e-9 * n)
        assert_allclose(xty, Xc.T @ (w * yc), rtol=1e-9, atol=1e-9 * n)
        assert_allclose(design.mu, mean, rtol=1e-12)
        assert_allclose(design.sw, w, rtol=1e-12)
        assert_allclose(yc_k, yc, rtol=1e-12, atol=1e-12)
        b = rng.normal(size=3)
        pred = X[test] @ W + b
        st = np.ones(len(test)) if s is None else s[test]
        expected = np.average((y[test, None] - pred) ** 2, axis=0, weights=st)
        assert_allclose(gf.test_mse(k, W, b), expected, rtol=1e-9)


def test_lasso_cv_on_tall_data_matches_sklearn_from_gram_folds():
    # n >> p: folds and refit run in full-Gram mode from FoldGrams
    rng = np.random.default_rng(4)
    n, p = 2000, 30
    X = rng.normal(size=(n, p)) + 5
    y = X[:, :4] @ np.array([2.0, -1.0, 0.5, 1.5]) + rng.normal(size=n)
    ours = fastlasso.LassoCV(cv=5, tol=1e-10, max_iter=100_000).fit(X, y)
    ref = linear_model.LassoCV(cv=5, tol=1e-10, max_iter=100_000).fit(X, y)
    assert_allclose(ours.alphas_, ref.alphas_, rtol=1e-12)
    assert np.argmin(ours.mse_path_.mean(1)) == np.argmin(ref.mse_path_.mean(1))
    assert_allclose(ours.alpha_, ref.alpha_, rtol=1e-12)
    assert_allclose(ours.mse_path_, ref.mse_path_, rtol=1e-6)
    assert_allclose(ours.coef_, ref.coef_, rtol=1e-6, atol=1e-8)
