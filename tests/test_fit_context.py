"""fit_context (_param_check), the lean equivalent of scikit-learn's
``_fit_context(prefer_skip_nested_validation=True)`` on Lasso and ElasticNet: invalid
parameters still raise scikit-learn's InvalidParameterError, ``fit`` runs with
``skip_parameter_validation`` set in scikit-learn's configuration, and the value comes
back afterwards, after an error too; with validation skipped globally, nothing is
validated."""

import numpy as np
import pytest
import sklearn
from sklearn.utils._param_validation import InvalidParameterError

import fastlasso
from fastlasso import _estimators


def data(n=30, p=5, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    return X, X[:, 0] - 2 * X[:, 1] + 0.1 * rng.standard_normal(n)


@pytest.mark.parametrize("cls", [fastlasso.Lasso, fastlasso.ElasticNet])
def test_invalid_parameters_raise(cls):
    X, y = data()
    with pytest.raises(InvalidParameterError, match="alpha"):
        cls(alpha=-1.0).fit(X, y)
    with pytest.raises(InvalidParameterError, match="selection"):
        cls(selection="best").fit(X, y)
    assert sklearn.get_config()["skip_parameter_validation"] is False


def test_fit_runs_with_nested_validation_skipped_and_restores_it(monkeypatch):
    X, y = data()
    seen = []
    real = _estimators.validate_fit_data

    def observed(*args, **kwargs):
        seen.append(sklearn.get_config()["skip_parameter_validation"])
        return real(*args, **kwargs)

    monkeypatch.setattr(_estimators, "validate_fit_data", observed)
    fastlasso.Lasso(alpha=0.1).fit(X, y)
    assert seen == [True]
    assert sklearn.get_config()["skip_parameter_validation"] is False

    def failing(*args, **kwargs):
        raise RuntimeError("inside fit")

    monkeypatch.setattr(_estimators, "validate_fit_data", failing)
    with pytest.raises(RuntimeError, match="inside fit"):
        fastlasso.Lasso(alpha=0.1).fit(X, y)
    assert sklearn.get_config()["skip_parameter_validation"] is False


def test_globally_skipped_validation_is_respected(monkeypatch):
    """Parameters are validated unless scikit-learn's configuration skips it."""
    X, y = data()
    calls = []
    real = fastlasso.Lasso._validate_params

    def counted(self):
        calls.append(type(self).__name__)
        return real(self)

    monkeypatch.setattr(fastlasso.Lasso, "_validate_params", counted)
    with sklearn.config_context(skip_parameter_validation=True):
        model = fastlasso.Lasso(alpha=0.1).fit(X, y)
        assert sklearn.get_config()["skip_parameter_validation"] is True
    assert calls == []
    again = fastlasso.Lasso(alpha=0.1).fit(X, y)
    assert calls == ["Lasso"]
    np.testing.assert_array_equal(model.coef_, again.coef_)
    assert sklearn.get_config()["skip_parameter_validation"] is False
