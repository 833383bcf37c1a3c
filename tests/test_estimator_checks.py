"""API conformance: scikit-learn's estimator checks, and the behaviour its users rely on
(shapes and types of fitted attributes, errors, warnings, pickling, repr), compared with
scikit-learn's own estimators on the same input."""

import copy
import pickle

import numpy as np
import pytest
import sklearn
import sklearn.linear_model as sk
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.utils._param_validation import InvalidParameterError
from sklearn.utils.estimator_checks import parametrize_with_checks

import fastlasso

from conftest import gaussian_data

PUBLIC_ESTIMATORS = sorted(
    name
    for name in fastlasso.__all__
    if isinstance(getattr(fastlasso, name), type)
    and issubclass(getattr(fastlasso, name), sklearn.base.BaseEstimator)
)
# Smaller CV problems keep the checks quick (scikit-learn checks its own CV estimators
# with cv=3 too); every other parameter is at its default.
CHECK_PARAMS = {
    "LassoCV": {"cv": 3, "alphas": 20},
    "ElasticNetCV": {"cv": 3, "alphas": 20},
    "MultiTaskLassoCV": {"cv": 3, "alphas": 20},
    "MultiTaskElasticNetCV": {"cv": 3, "alphas": 20},
    "LogisticRegressionCV": {"cv": 3, "Cs": 3},
}
# Checks comparing two fits (weights vs repeated rows) need both fits at the optimum,
# not merely within the default tol of it.
NEEDS_OPTIMUM = {
    "check_sample_weight_equivalence_on_dense_data",
    "check_sample_weight_equivalence_on_sparse_data",
}
def test_every_public_estimator_is_checked():
    # The list below is the one parametrize_with_checks runs over.
    assert {"Lasso", "ElasticNet", "LassoCV", "ElasticNetCV"} <= set(PUBLIC_ESTIMATORS)


def _check_name(check):
    return getattr(check, "func", check).__name__


@parametrize_with_checks(
    [
        getattr(fastlasso, name)(**CHECK_PARAMS.get(name, {}))
        for name in PUBLIC_ESTIMATORS
    ],
)
def test_sklearn_estimator_checks(estimator, check):
    if _check_name(check) in NEEDS_OPTIMUM:
        estimator = sklearn.base.clone(estimator).set_params(
            tol=1e-12, max_iter=100_000
        )
    check(estimator)


# scikit-learn names fastlasso's classes leave out on purpose: the experimental callback
# API (scikit-learn's LogisticRegression honours it for its lbfgs solver only) and a
# loop variable `param` that the class bodies of MultiTaskElasticNet and
# LogisticRegressionCV leave behind (`for param in (...)`): not part of their API.
NOT_MIRRORED = {"set_callbacks", "param"}


@pytest.mark.parametrize("name", PUBLIC_ESTIMATORS)
def test_public_methods_and_attributes_of_sklearn_are_present(name):
    ours, theirs = getattr(fastlasso, name), getattr(sk, name)
    public = {a for a in dir(theirs) if not a.startswith("_")} - NOT_MIRRORED
    missing = sorted(public - set(dir(ours)))
    assert missing == []
    if "path" in public:
        assert ours.path is getattr(fastlasso, theirs.path.__name__)


def _data(seed=0, n=40, p=6):
    return gaussian_data(n, p, seed=seed, coef=(1.0, -2.0), intercept=1.5)


def _pair(name, **params):
    return getattr(sk, name)(**params), getattr(fastlasso, name)(**params)


def _fitted_shapes(est):
    return (
        np.shape(est.coef_),
        np.shape(est.intercept_),
        np.shape(est.dual_gap_),
        np.shape(est.n_iter_),
        type(est.intercept_),
    )


@pytest.mark.parametrize("name", ["Lasso", "ElasticNet"])
@pytest.mark.parametrize("y_shape", ["1d", "column", "two"])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_fitted_attribute_shapes_and_types_match_sklearn(name, y_shape, fit_intercept):
    X, y = _data()
    Y = {"1d": y, "column": y[:, None], "two": np.c_[y, -y]}[y_shape]
    ref, est = _pair(name, alpha=0.1, fit_intercept=fit_intercept)
    ref.fit(X, Y)
    est.fit(X, Y)
    assert _fitted_shapes(est) == _fitted_shapes(ref)
    assert est.predict(X).shape == ref.predict(X).shape
    np.testing.assert_allclose(est.predict(X), ref.predict(X), rtol=1e-3, atol=1e-3)


CV_ATTRIBUTES = (
    "alpha_",
    "alphas_",
    "mse_path_",
    "coef_",
    "intercept_",
    "dual_gap_",
    "n_iter_",
    "l1_ratio_",
)


@pytest.mark.parametrize(
    ("name", "params"),
    [("LassoCV", {}), ("ElasticNetCV", {}), ("ElasticNetCV", {"l1_ratio": [0.2, 0.9]})],
)
def test_cv_attribute_shapes_and_types_match_sklearn(name, params):
    X, y = _data()
    ref, est = _pair(name, cv=3, alphas=10, **params)
    ref.fit(X, y)
    est.fit(X, y)
    for attr in CV_ATTRIBUTES:
        if hasattr(ref, attr):
            ours, theirs = getattr(est, attr), getattr(ref, attr)
            assert np.shape(ours) == np.shape(theirs), attr
            assert (
                np.ndim(ours) > 0
                or isinstance(ours, type(theirs))
                or (np.isscalar(ours) and np.isscalar(theirs))
            ), attr
    np.testing.assert_allclose(est.alphas_, ref.alphas_, rtol=1e-10)
    assert est.predict(X).shape == ref.predict(X).shape


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtypes_of_fitted_attributes_match_sklearn(dtype):
    X, y = _data()
    ref, est = _pair("Lasso", alpha=0.1)
    ref.fit(X.astype(dtype), y.astype(dtype))
    est.fit(X.astype(dtype), y.astype(dtype))
    assert est.coef_.dtype == ref.coef_.dtype == dtype
    assert type(est.intercept_) is type(ref.intercept_)
    assert est.predict(X.astype(dtype)).dtype == ref.predict(X.astype(dtype)).dtype
    for interface in ("spmatrix", "sparray"):
        with sklearn.config_context(sparse_interface=interface):
            assert type(est.sparse_coef_) is type(ref.sparse_coef_)
            assert est.sparse_coef_.dtype == dtype


@pytest.mark.parametrize("name", PUBLIC_ESTIMATORS)
def test_metadata_routing_request_matches_sklearn(name):
    ref, est = _pair(name)
    if name in ("MultiTaskElasticNet", "MultiTaskLasso"):
        # scikit-learn 1.9's own raise: they inherit ElasticNet's request marking
        # fit's check_input UNUSED, and their fit has no check_input. Ours routes
        # what their fit takes: sample_weight, as ElasticNet does.
        with pytest.raises(ValueError, match="check_input"):
            ref.get_metadata_routing()
        ref = sk.ElasticNet()
    assert str(est.get_metadata_routing()) == str(ref.get_metadata_routing())


BAD_PARAMS = [
    ("Lasso", {"alpha": -1.0}, "alpha"),
    ("ElasticNet", {"l1_ratio": 1.5}, "l1_ratio"),
    ("Lasso", {"max_iter": 0}, "max_iter"),
    ("Lasso", {"tol": -1e-3}, "tol"),
    ("Lasso", {"selection": "shuffled"}, "selection"),
    ("Lasso", {"positive": "yes"}, "positive"),
    ("LassoCV", {"eps": -1.0}, "eps"),
    ("ElasticNetCV", {"l1_ratio": 1.5}, "l1_ratio"),
    ("LassoCV", {"alphas": -3}, "alphas"),
]


@pytest.mark.parametrize(("name", "params", "param"), BAD_PARAMS)
def test_bad_parameters_raise_sklearns_error_naming_the_parameter(name, params, param):
    X, y = _data()
    ref, est = _pair(name, **params)
    with pytest.raises(InvalidParameterError) as ref_err:
        ref.fit(X, y)
    with pytest.raises(InvalidParameterError) as err:
        est.fit(X, y)
    # Same wording up to the allowed range (sklearn also lists None for max_iter).
    prefix = f"The '{param}' parameter of {name} must be "
    assert str(err.value).startswith(prefix)
    assert str(ref_err.value).startswith(prefix)
    assert str(err.value).endswith(f"Got {params[param]!r} instead.")


def test_unknown_solver_names_the_parameter():
    X, y = _data()
    with pytest.raises(ValueError, match="'solver' parameter of Lasso"):
        fastlasso.Lasso(solver="newton").fit(X, y)


def test_data_errors_match_sklearn():
    X, y = _data()
    for bad_X, bad_y in [(X[:, 0], y), (X, y[:-3]), (np.where(X > 2, np.nan, X), y)]:
        ref, est = _pair("Lasso")
        with pytest.raises(ValueError) as ref_err:
            ref.fit(bad_X, bad_y)
        with pytest.raises(ValueError) as err:
            est.fit(bad_X, bad_y)
        assert str(err.value).replace("fastlasso", "") == str(ref_err.value)


def test_predict_errors_match_sklearn():
    X, y = _data()
    with pytest.raises(NotFittedError, match="This Lasso instance is not fitted"):
        fastlasso.Lasso().predict(X)
    est = fastlasso.Lasso(alpha=0.1).fit(X, y)
    with pytest.raises(ValueError, match="X has 3 features, but Lasso is expecting 6"):
        est.predict(X[:, :3])


def test_alpha_zero_warns_as_sklearn():
    X, y = _data()
    with pytest.warns(
        UserWarning, match="With alpha=0, this algorithm does not converge"
    ):
        fastlasso.Lasso(alpha=0).fit(X, y)


def test_non_convergence_is_a_convergence_warning():
    X, y = _data()
    with pytest.warns(ConvergenceWarning, match="Objective did not converge"):
        fastlasso.Lasso(alpha=1e-4, max_iter=1, tol=1e-14).fit(X, y)


FIT_PARAMS = {
    "Lasso": {"alpha": 0.05},
    "ElasticNet": {"alpha": 0.05},
    "LassoCV": {"cv": 3, "alphas": 10},
    "ElasticNetCV": {"cv": 3, "alphas": 10},
    "MultiTaskLasso": {"alpha": 0.05},
    "MultiTaskElasticNet": {"alpha": 0.05},
    "MultiTaskLassoCV": {"cv": 3, "alphas": 10},
    "MultiTaskElasticNetCV": {"cv": 3, "alphas": 10},
    "LogisticRegression": {"l1_ratio": 1.0},
    "LogisticRegressionCV": {"cv": 3, "Cs": 3, "l1_ratios": [1.0]},
}


def test_roundtrip_covers_every_public_estimator():
    assert set(FIT_PARAMS) == set(PUBLIC_ESTIMATORS)


@pytest.mark.parametrize("name", sorted(FIT_PARAMS))
@pytest.mark.parametrize("roundtrip", ["pickle", "deepcopy"])
def test_fitted_model_roundtrips(name, roundtrip):
    X, y = _data()
    if name.startswith("MultiTask"):
        y = np.c_[y, 2 * y + 1]
    if sklearn.base.is_classifier(getattr(fastlasso, name)()):
        y = y > np.median(y)
    est = getattr(fastlasso, name)(**FIT_PARAMS[name]).fit(X, y)
    if roundtrip == "pickle":
        other = pickle.loads(pickle.dumps(est))
    else:
        other = copy.deepcopy(est)
    assert other is not est
    assert other.get_params() == est.get_params()
    np.testing.assert_array_equal(other.coef_, est.coef_)
    np.testing.assert_array_equal(other.intercept_, est.intercept_)
    assert other.dual_gap_ == est.dual_gap_
    np.testing.assert_array_equal(other.predict(X), est.predict(X))
    assert other.n_features_in_ == est.n_features_in_


REPR_PARAMS = {
    "Lasso": {"alpha": 0.5, "fit_intercept": False, "selection": "random"},
    "ElasticNet": {"alpha": 0.5, "l1_ratio": 0.2, "positive": True},
    "LassoCV": {"cv": 3, "eps": 0.01, "fit_intercept": False},
    "ElasticNetCV": {"l1_ratio": [0.1, 0.5], "cv": 4},
    "LogisticRegression": {"C": 0.5, "l1_ratio": 1.0, "fit_intercept": False},
    "LogisticRegressionCV": {"Cs": 5, "l1_ratios": [0.5, 1.0], "cv": 4},
}


@pytest.mark.parametrize("name", sorted(REPR_PARAMS))
def test_repr_is_sklearns(name):
    ref, est = _pair(name, **REPR_PARAMS[name])
    assert repr(est) == repr(ref)
    assert repr(getattr(fastlasso, name)()) == f"{name}()"
    assert repr(fastlasso.Lasso(n_jobs=2)) == "Lasso(n_jobs=2)"
