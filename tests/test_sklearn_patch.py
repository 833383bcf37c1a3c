"""patch_sklearn / unpatch_sklearn / sklearn_patched: code written for scikit-learn runs
unchanged on fastlasso and gives scikit-learn's results; unpatching restores every
original object."""

import importlib
import pickle
import sys
import types

import numpy as np
import pandas as pd
import pytest
import sklearn
import sklearn.decomposition
import sklearn.linear_model
from numpy.testing import assert_allclose
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, KFold, cross_val_score, cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import fastlasso
from fastlasso import patch_sklearn, sklearn_patched, unpatch_sklearn
from fastlasso.sklearn_patch import REPLACEABLE

TIGHT = 1e-10  # both libraries solve to this duality-gap tolerance


@pytest.fixture(autouse=True)
def _always_unpatched():
    unpatch_sklearn()
    yield
    unpatch_sklearn()


def _data(n=60, p=8, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p)) + rng.uniform(-1, 1, p)
    y = X[:, 0] - 2 * X[:, 3] + 0.5 * X[:, 5] + 0.5 * rng.standard_normal(n) + 2.0
    sw = rng.uniform(0.2, 3.0, n)
    return X, y, sw


def _sklearn_module_dicts():
    """Identity snapshot of every loaded scikit-learn module namespace."""
    return {
        name: dict(vars(module))
        for name, module in list(sys.modules.items())
        if module is not None and (name == "sklearn" or name.startswith("sklearn."))
    }


def _same_objects(before, after):
    changed = []
    for name, namespace in before.items():
        for key, value in namespace.items():
            if after.get(name, {}).get(key, value) is not value:
                changed.append(f"{name}.{key}")
    return changed


def _both(run):
    """run() with scikit-learn's objects, then under the patch."""
    reference = run()
    with sklearn_patched():
        patched = run()
    return reference, patched


def _served(name, original):
    """What the patch serves for a name: fastlasso's public object of that name, except
    LogisticRegression(CV), served by subclasses of scikit-learn's own that fit their
    L1 / Elastic-Net requests on fastlasso (fastlasso._sklearn_logistic)."""
    if name in ("LogisticRegression", "LogisticRegressionCV"):
        return getattr(importlib.import_module("fastlasso._sklearn_logistic"), name)
    return getattr(fastlasso, name, original)


def test_patch_serves_fastlasso_objects_and_unpatch_restores_every_original():
    before = _sklearn_module_dicts()
    originals = {name: getattr(sklearn.linear_model, name) for name in REPLACEABLE}
    patched = patch_sklearn()
    assert set(patched) == {"Lasso", "ElasticNet"} | {
        n for n in REPLACEABLE if hasattr(fastlasso, n)
    }
    for name in REPLACEABLE:
        served = getattr(sklearn.linear_model, name)
        assert served is _served(name, originals[name])
    # scikit-learn code that imported Lasso by name uses fastlasso's too
    assert sklearn.decomposition._dict_learning.Lasso is fastlasso.Lasso
    # the defining module keeps scikit-learn's classes (pickles of sklearn models)
    cd = sklearn.linear_model._coordinate_descent
    assert cd.Lasso is originals["Lasso"] and cd.ElasticNet is originals["ElasticNet"]
    unpatch_sklearn()
    assert _same_objects(before, _sklearn_module_dicts()) == []


def test_module_imported_while_patched_is_restored_by_unpatch():
    patch_sklearn()
    probe = types.ModuleType("sklearn._fastlasso_probe")
    sys.modules[probe.__name__] = probe
    try:
        # what `from sklearn.linear_model import Lasso, ElasticNet` does in a module
        linear_model = importlib.import_module("sklearn.linear_model")
        probe.Lasso, probe.ElasticNet = linear_model.Lasso, linear_model.ElasticNet
        assert probe.Lasso is fastlasso.Lasso
        unpatch_sklearn()
        assert probe.Lasso is sklearn.linear_model._coordinate_descent.Lasso
        assert probe.ElasticNet is sklearn.linear_model._coordinate_descent.ElasticNet
    finally:
        del sys.modules[probe.__name__]


def test_context_manager_restores_on_error_and_nests():
    original = sklearn.linear_model.Lasso
    with pytest.raises(RuntimeError, match="boom"), sklearn_patched():
        assert sklearn.linear_model.Lasso is fastlasso.Lasso
        raise RuntimeError("boom")
    assert sklearn.linear_model.Lasso is original

    patch_sklearn()
    with sklearn_patched():
        assert sklearn.linear_model.Lasso is fastlasso.Lasso
    assert sklearn.linear_model.Lasso is fastlasso.Lasso  # the global patch stays

    unpatch_sklearn()
    with sklearn_patched("ElasticNet"):
        assert sklearn.linear_model.Lasso is original
        assert sklearn.linear_model.ElasticNet is fastlasso.ElasticNet
    assert (
        sklearn.linear_model.ElasticNet
        is sklearn.linear_model._coordinate_descent.ElasticNet
    )


@pytest.mark.parametrize("names", ["Ridge", ["Lasso", "LassoLars"]])
def test_unknown_names_are_refused_without_patching_anything(names):
    with pytest.raises(ValueError, match="cannot be patched"):
        patch_sklearn(names)
    assert sklearn.linear_model.Lasso is sklearn.linear_model._coordinate_descent.Lasso


# What scikit-learn users write, one snippet per replaceable name: each is run with
# scikit-learn's objects and under the patch, and must give the same numbers.
def _use_lasso(lm, X, y):
    est = lm.Lasso(alpha=0.1, tol=TIGHT).fit(X, y)
    return np.r_[est.coef_, est.intercept_]


def _use_enet(lm, X, y):
    est = lm.ElasticNet(alpha=0.1, l1_ratio=0.3, tol=TIGHT).fit(X, y)
    return np.r_[est.coef_, est.intercept_]


def _use_lasso_cv(lm, X, y):
    est = lm.LassoCV(cv=KFold(3), alphas=20, tol=TIGHT).fit(X, y)
    return np.r_[est.alpha_, est.coef_, est.intercept_, est.mse_path_.ravel()]


def _use_enet_cv(lm, X, y):
    est = lm.ElasticNetCV(l1_ratio=[0.3, 0.9], cv=KFold(3), alphas=20, tol=TIGHT)
    est.fit(X, y)
    return np.r_[est.alpha_, est.l1_ratio_, est.coef_, est.intercept_]


def _use_lasso_path(lm, X, y):
    Xc, yc = X - X.mean(0), y - y.mean()
    alphas, coefs, _ = lm.lasso_path(Xc, yc, alphas=15, tol=TIGHT)
    return np.r_[alphas, coefs.ravel()]


def _use_enet_path(lm, X, y):
    Xc, yc = X - X.mean(0), y - y.mean()
    alphas, coefs, _ = lm.enet_path(Xc, yc, l1_ratio=0.5, alphas=15, tol=TIGHT)
    return np.r_[alphas, coefs.ravel()]


def _use_mt_lasso(lm, X, y):
    Y = np.c_[y, 0.5 * y + X[:, 0]]
    est = lm.MultiTaskLasso(alpha=0.1, tol=TIGHT).fit(X, Y)
    return np.r_[est.coef_.ravel(), est.intercept_]


def _use_mt_enet(lm, X, y):
    Y = np.c_[y, 0.5 * y + X[:, 0]]
    est = lm.MultiTaskElasticNet(alpha=0.1, l1_ratio=0.3, tol=TIGHT).fit(X, Y)
    return np.r_[est.coef_.ravel(), est.intercept_]


def _use_mt_lasso_cv(lm, X, y):
    Y = np.c_[y, 0.5 * y + X[:, 0]]
    est = lm.MultiTaskLassoCV(cv=KFold(3), alphas=20, tol=TIGHT).fit(X, Y)
    return np.r_[est.alpha_, est.coef_.ravel(), est.intercept_, est.mse_path_.ravel()]


def _use_mt_enet_cv(lm, X, y):
    Y = np.c_[y, 0.5 * y + X[:, 0]]
    est = lm.MultiTaskElasticNetCV(l1_ratio=[0.3, 0.9], cv=KFold(3), alphas=20,
                                   tol=TIGHT).fit(X, Y)
    return np.r_[est.alpha_, est.l1_ratio_, est.coef_.ravel(), est.intercept_]


def _use_logistic(lm, X, y):
    labels = (y > np.median(y)).astype(int)
    est = lm.LogisticRegression(C=0.5, l1_ratio=1.0, solver="saga", tol=1e-12,
                                max_iter=100_000).fit(X, labels)
    return np.r_[est.coef_.ravel(), est.intercept_, est.predict_proba(X).ravel()]


def _use_logistic_cv(lm, X, y):
    labels = np.digitize(y, np.quantile(y, [1 / 3, 2 / 3]))  # three classes
    est = lm.LogisticRegressionCV(
        Cs=[0.2, 1.0], l1_ratios=(1.0,), cv=KFold(3), solver="saga", tol=1e-12,
        max_iter=100_000, scoring="neg_log_loss", use_legacy_attributes=False,
    ).fit(X, labels)
    return np.r_[est.C_, est.scores_.ravel(), est.coef_.ravel(), est.intercept_]


USAGE = {
    "LogisticRegression": _use_logistic,
    "LogisticRegressionCV": _use_logistic_cv,
    "MultiTaskLasso": _use_mt_lasso,
    "MultiTaskElasticNet": _use_mt_enet,
    "MultiTaskLassoCV": _use_mt_lasso_cv,
    "MultiTaskElasticNetCV": _use_mt_enet_cv,
    "Lasso": _use_lasso,
    "ElasticNet": _use_enet,
    "LassoCV": _use_lasso_cv,
    "ElasticNetCV": _use_enet_cv,
    "lasso_path": _use_lasso_path,
    "enet_path": _use_enet_path,
}


def test_every_replaceable_name_has_a_usage_snippet():
    assert set(USAGE) == set(REPLACEABLE)


@pytest.mark.parametrize("name", REPLACEABLE)
def test_sklearn_usage_gives_sklearns_numbers_under_the_patch(name):
    X, y, _ = _data()
    original = getattr(sklearn.linear_model, name)
    reference = USAGE[name](sklearn.linear_model, X, y)
    with sklearn_patched():
        served = getattr(sklearn.linear_model, name)
        patched = USAGE[name](sklearn.linear_model, X, y)
    assert served is _served(name, original)
    assert_allclose(patched, reference, rtol=1e-6, atol=1e-8)


def test_pipeline_grid_search_and_cross_val_score():
    X, y, _ = _data()

    def run():
        from sklearn.linear_model import ElasticNet

        pipe = make_pipeline(StandardScaler(), ElasticNet(tol=TIGHT))
        grid = GridSearchCV(
            pipe,
            {"elasticnet__alpha": [0.01, 0.1, 1.0], "elasticnet__l1_ratio": [0.2, 0.9]},
            cv=KFold(4),
        ).fit(X, y)
        scores = cross_val_score(
            pipe.set_params(**grid.best_params_), X, y, cv=KFold(5)
        )
        fitted = type(grid.best_estimator_[-1])
        return grid.best_params_, grid.cv_results_["mean_test_score"], scores, fitted

    (ref_best, ref_means, ref_scores, ref_cls), (best, means, scores, cls) = _both(run)
    assert cls is fastlasso.ElasticNet and ref_cls is not cls
    assert best == ref_best
    assert_allclose(means, ref_means, rtol=1e-7)
    assert_allclose(scores, ref_scores, rtol=1e-7)


def test_clone_keeps_the_fastlasso_class_and_parameters():
    with sklearn_patched():
        from sklearn.linear_model import Lasso

        est = Lasso(alpha=0.3, positive=True)
        X, y, _ = _data()
        twin = clone(est.fit(X, y))
    assert type(twin) is fastlasso.Lasso
    assert twin.get_params() == est.get_params()
    assert not hasattr(twin, "coef_")


def test_pickles_load_whatever_the_patch_state():
    X, y, _ = _data()
    sk_model = sklearn.linear_model.Lasso(alpha=0.1).fit(X, y)
    with sklearn_patched():
        fl_model = sklearn.linear_model.Lasso(alpha=0.1).fit(X, y)
        sk_blob = pickle.dumps(sk_model)  # a scikit-learn model still pickles
        fl_blob = pickle.dumps(fl_model)
    assert type(pickle.loads(sk_blob)) is sklearn.linear_model._coordinate_descent.Lasso
    restored = pickle.loads(fl_blob)  # unpatched now
    assert type(restored) is fastlasso.Lasso
    assert_allclose(restored.predict(X), fl_model.predict(X))


def test_set_output_pandas_pipeline():
    X, y, _ = _data()
    df = pd.DataFrame(X, columns=[f"gene_{j}" for j in range(X.shape[1])])

    def run():
        from sklearn.linear_model import Lasso

        pipe = make_pipeline(StandardScaler(), Lasso(alpha=0.05, tol=TIGHT))
        pipe.set_output(transform="pandas").fit(df, y)
        return list(pipe[-1].feature_names_in_), pipe.predict(df)

    (ref_names, ref_pred), (names, pred) = _both(run)
    assert names == ref_names == list(df.columns)
    assert_allclose(pred, ref_pred, rtol=1e-7)


ROUTED = {
    "Lasso": lambda lm: lm.Lasso(alpha=0.05, tol=TIGHT),
    "LassoCV": lambda lm: lm.LassoCV(cv=KFold(3), alphas=10, tol=TIGHT),
}


@pytest.mark.parametrize("name", sorted(ROUTED))
def test_metadata_routing_of_sample_weight(name):
    X, y, sw = _data()

    def run(weights):
        with sklearn.config_context(enable_metadata_routing=True):
            model = ROUTED[name](sklearn.linear_model)
            pipe = make_pipeline(
                StandardScaler().set_fit_request(sample_weight=False),
                model.set_fit_request(sample_weight=True).set_score_request(
                    sample_weight=True
                ),
            )
            out = cross_validate(
                pipe,
                X,
                y,
                cv=KFold(3),
                params={"sample_weight": weights},
                return_estimator=True,
            )
        coefs = [est[-1].coef_ for est in out["estimator"]]
        return np.c_[np.array(coefs), out["test_score"]]

    ref, patched = _both(lambda: run(sw))
    assert_allclose(patched, ref, rtol=1e-6, atol=1e-9)
    # the weights really reached the solver
    _, unweighted = _both(lambda: run(np.ones_like(sw)))
    assert np.abs(unweighted - patched).max() > 1e-3


def test_sparse_encode_lasso_cd_runs_on_fastlasso():
    rng = np.random.default_rng(3)
    dictionary = rng.standard_normal((12, 20))
    dictionary /= np.linalg.norm(dictionary, axis=1, keepdims=True)
    signals = rng.standard_normal((5, 12)) @ dictionary

    def run():
        codes = sklearn.decomposition.sparse_encode(
            signals, dictionary, algorithm="lasso_cd", alpha=0.05, max_iter=5000
        )
        return codes, sklearn.decomposition._dict_learning.Lasso

    (ref, ref_cls), (codes, cls) = _both(run)
    assert cls is fastlasso.Lasso and ref_cls is not cls
    assert_allclose(codes, ref, rtol=1e-5, atol=1e-7)
