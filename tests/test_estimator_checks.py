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

PUBLIC_ESTIMATORS = sorted(
    name
    for name in fastlasso.__all__
    if isinstance(getattr(fastlasso, name), type)
    and issubclass(getattr(fastlasso, name), sklearn.base.BaseEstimator)
)


def test_every_public_estimator_is_checked():
    # The list below is the one parametrize_with_checks runs over.
    assert {"Lasso", "ElasticNet"} <= set(PUBLIC_ESTIMATORS)


@parametrize_with_checks([getattr(fastlasso, name)() for name in PUBLIC_ESTIMATORS])
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


def _data(seed=0, n=40, p=6):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    y = X[:, 0] - 2 * X[:, 1] + 0.3 * rng.standard_normal(n) + 1.5
    return X, y


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


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtypes_of_fitted_attributes_match_sklearn(dtype):
    X, y = _data()
    ref, est = _pair("Lasso", alpha=0.1)
    ref.fit(X.astype(dtype), y.astype(dtype))
    est.fit(X.astype(dtype), y.astype(dtype))
    assert est.coef_.dtype == ref.coef_.dtype == dtype
    assert type(est.intercept_) is type(ref.intercept_)
    assert est.predict(X.astype(dtype)).dtype == ref.predict(X.astype(dtype)).dtype
    assert type(est.sparse_coef_) is type(ref.sparse_coef_)


@pytest.mark.parametrize("name", ["Lasso", "ElasticNet"])
def test_metadata_routing_request_matches_sklearn(name):
    ref, est = _pair(name)
    assert str(est.get_metadata_routing()) == str(ref.get_metadata_routing())


BAD_PARAMS = [
    ("Lasso", {"alpha": -1.0}, "alpha"),
    ("ElasticNet", {"l1_ratio": 1.5}, "l1_ratio"),
    ("Lasso", {"max_iter": 0}, "max_iter"),
    ("Lasso", {"tol": -1e-3}, "tol"),
    ("Lasso", {"selection": "shuffled"}, "selection"),
    ("Lasso", {"positive": "yes"}, "positive"),
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
    with pytest.warns(UserWarning, match="With alpha=0, this algorithm does not converge"):
        fastlasso.Lasso(alpha=0).fit(X, y)


def test_non_convergence_is_a_convergence_warning():
    X, y = _data()
    with pytest.warns(ConvergenceWarning, match="Objective did not converge"):
        fastlasso.Lasso(alpha=1e-4, max_iter=1, tol=1e-14).fit(X, y)


@pytest.mark.parametrize("name", ["Lasso", "ElasticNet"])
@pytest.mark.parametrize("roundtrip", ["pickle", "deepcopy"])
def test_fitted_model_roundtrips(name, roundtrip):
    X, y = _data()
    est = getattr(fastlasso, name)(alpha=0.05).fit(X, y)
    if roundtrip == "pickle":
        other = pickle.loads(pickle.dumps(est))
    else:
        other = copy.deepcopy(est)
    assert other is not est
    assert other.get_params() == est.get_params()
    np.testing.assert_array_equal(other.coef_, est.coef_)
    assert other.intercept_ == est.intercept_
    assert other.dual_gap_ == est.dual_gap_
    np.testing.assert_array_equal(other.predict(X), est.predict(X))
    assert other.n_features_in_ == est.n_features_in_


@pytest.mark.parametrize("name", ["Lasso", "ElasticNet"])
def test_repr_is_sklearns(name):
    params = {"alpha": 0.5, "fit_intercept": False, "selection": "random"}
    ref, est = _pair(name, **params)
    assert repr(est) == repr(ref)
    assert repr(getattr(fastlasso, name)()) == f"{name}()"
    assert repr(fastlasso.Lasso(n_jobs=2)) == "Lasso(n_jobs=2)"
