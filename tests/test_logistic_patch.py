"""patch_sklearn() for LogisticRegression(CV): which requests run on fastlasso, and that
the patched classes behave as scikit-learn's (same parameters, attributes, layouts,
errors), with the same minimiser where fastlasso fits."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
import sklearn.linear_model as sk
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.datasets import load_iris, make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import _logistic

import fastlasso
from fastlasso._sklearn_logistic import routes_to_fastlasso

ORIG_LR, ORIG_CV = _logistic.LogisticRegression, _logistic.LogisticRegressionCV


@pytest.fixture
def patched():
    with fastlasso.sklearn_patched(["LogisticRegression", "LogisticRegressionCV"]):
        yield sk.LogisticRegression, sk.LogisticRegressionCV


def _binary():
    return make_classification(120, 10, n_informative=4, random_state=0)


def _iris():
    X, y = load_iris(return_X_y=True)
    return (X - X.mean(0)) / X.std(0), y


@pytest.mark.parametrize(
    "solver, penalty, dual, C, expected",
    [
        ("saga", "l1", False, 1.0, True),
        ("saga", "elasticnet", False, 1.0, True),
        ("saga", "l2", False, 1.0, False),
        ("saga", "l1", False, np.inf, False),
        ("liblinear", "l1", False, 1.0, True),
        ("liblinear", "l1", True, 1.0, False),
        ("liblinear", "l2", False, 1.0, False),
        ("lbfgs", "l1", False, 1.0, False),
        ("newton-cholesky", "elasticnet", False, 1.0, False),
    ],
)
def test_which_requests_run_on_fastlasso(solver, penalty, dual, C, expected):
    assert routes_to_fastlasso(solver, penalty, dual, C) is expected


def test_patch_replaces_and_restores(patched):
    LR, CV = patched
    assert LR is not ORIG_LR and issubclass(LR, ORIG_LR)
    assert CV is not ORIG_CV and issubclass(CV, ORIG_CV)
    assert {"LogisticRegression", "LogisticRegressionCV"} <= set(
        fastlasso.sklearn_patch._patched_names())


def test_restored_after_the_block():
    with fastlasso.sklearn_patched(["LogisticRegression"]):
        pass
    assert sk.LogisticRegression is ORIG_LR


@pytest.mark.parametrize("data", ["binary", "iris"])
@pytest.mark.parametrize("l1_ratio", [1.0, 0.5])
def test_saga_requests_get_sagas_minimiser(patched, data, l1_ratio):
    LR, _ = patched
    X, y = _binary() if data == "binary" else _iris()
    est = LR(C=0.5, l1_ratio=l1_ratio, solver="saga", tol=1e-12).fit(X, y)
    assert hasattr(est, "dual_gap_")  # fitted by fastlasso
    ref = ORIG_LR(C=0.5, l1_ratio=l1_ratio, solver="saga", tol=1e-12,
                  max_iter=200_000).fit(X, y)
    for attr in ("coef_", "intercept_", "n_iter_", "classes_"):
        assert getattr(est, attr).shape == getattr(ref, attr).shape, attr
        assert getattr(est, attr).dtype == getattr(ref, attr).dtype, attr
    assert_allclose(est.coef_, ref.coef_, atol=1e-5)
    assert_allclose(est.intercept_, ref.intercept_, atol=1e-5)


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("sparse", [False, True])
def test_liblinear_l1_requests_get_liblinears_minimiser(patched, fit_intercept, sparse):
    """liblinear penalises the intercept (the weight of a constant column of value
    intercept_scaling): fastlasso solves that same problem."""
    LR, _ = patched
    X, y = _binary()
    X = sp.csr_matrix(X) if sparse else X
    params = dict(C=0.3, l1_ratio=1.0, solver="liblinear", tol=1e-12,
                  fit_intercept=fit_intercept, intercept_scaling=2.5)
    est = LR(**params).fit(X, y)
    assert hasattr(est, "dual_gap_")
    ref = ORIG_LR(**params, max_iter=100_000).fit(X, y)
    assert est.coef_.dtype == ref.coef_.dtype == np.float64
    assert type(est.intercept_) is type(ref.intercept_)
    assert_allclose(est.coef_, ref.coef_, atol=2e-4)
    assert_allclose(est.intercept_, ref.intercept_, atol=2e-4)
    assert_array_equal(est.predict(X), ref.predict(X))


def test_other_requests_run_scikit_learns_code(patched):
    LR, _ = patched
    X, y = _iris()
    for params in ({}, {"C": 2.0, "solver": "newton-cholesky"},
                   {"l1_ratio": 0.0, "solver": "saga", "random_state": 0}):
        est = LR(**params).fit(X, y)
        ref = ORIG_LR(**params).fit(X, y)
        assert not hasattr(est, "dual_gap_")
        assert_array_equal(est.coef_, ref.coef_)
    with pytest.raises(ValueError, match="Solver lbfgs supports only 'l2'"):
        LR(l1_ratio=1.0).fit(X, y)
    with pytest.raises(ValueError, match="does not support multiclass"):
        LR(l1_ratio=1.0, solver="liblinear").fit(X, y)


@pytest.mark.filterwarnings("ignore:Inconsistent values:UserWarning")
def test_deprecated_penalty_routes_and_warns_as_scikit_learn(patched):
    LR, _ = patched
    X, y = _binary()
    with pytest.warns(FutureWarning, match="'penalty' was deprecated"):
        est = LR(penalty="l1", solver="saga", C=0.5, tol=1e-10).fit(X, y)
    assert hasattr(est, "dual_gap_")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        ref = LR(l1_ratio=1.0, solver="saga", C=0.5, tol=1e-10).fit(X, y)
    assert_allclose(est.coef_, ref.coef_, atol=1e-8)


def test_convergence_warning_has_the_solvers_text(patched):
    LR, _ = patched
    X, y = _iris()
    with pytest.warns(ConvergenceWarning, match="The max_iter was reached"):
        LR(l1_ratio=1.0, solver="saga", C=100.0, max_iter=1, tol=1e-12).fit(X, y)


def _cv_pair(CV, **params):
    # Cs above every fold's C_min: below it saga stops after one epoch with its
    # intercept still off (its rule compares weight changes with the largest weight)
    common = dict(Cs=[0.1, 0.3, 2.0], cv=3, scoring="neg_log_loss", tol=1e-10,
                  solver="saga", **params)
    est = CV(**common)
    ref = ORIG_CV(max_iter=100_000, **common)
    return est, ref


@pytest.mark.parametrize("data", ["binary", "iris"])
@pytest.mark.parametrize("legacy", [True, False])
@pytest.mark.parametrize("l1_ratios", [(1.0,), (0.5, 1.0)])
def test_cv_attributes_have_scikit_learns_layout(patched, data, legacy, l1_ratios):
    _, CV = patched
    X, y = _binary() if data == "binary" else _iris()
    est, ref = _cv_pair(CV, l1_ratios=l1_ratios, use_legacy_attributes=legacy)
    est.fit(X, y)
    ref.fit(X, y)
    assert hasattr(est, "dual_gap_")
    for attr in ("coefs_paths_", "scores_", "C_", "l1_ratio_", "n_iter_", "Cs_",
                 "l1_ratios_", "coef_", "intercept_"):
        ours, theirs = getattr(est, attr), getattr(ref, attr)
        assert type(ours) is type(theirs), attr
        if isinstance(theirs, dict):
            assert list(ours) == list(theirs), attr
            for k in theirs:
                assert np.shape(ours[k]) == np.shape(theirs[k]), (attr, k)
                if attr == "scores_":
                    assert_allclose(ours[k], theirs[k], rtol=1e-5)
        else:
            assert np.shape(ours) == np.shape(theirs), attr
    assert_allclose(est.C_, ref.C_)
    assert_allclose(est.coef_, ref.coef_, atol=1e-4)
    if not legacy:
        assert_allclose(est.scores_, ref.scores_, rtol=1e-5)


def test_cv_l2_runs_scikit_learns_code(patched):
    _, CV = patched
    X, y = _binary()
    est = CV(Cs=3, l1_ratios=(0.0,), cv=3, scoring="neg_log_loss",
             use_legacy_attributes=False).fit(X, y)
    assert not hasattr(est, "dual_gap_")
