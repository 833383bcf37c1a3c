"""Every private scikit-learn name fastlasso imports, in one place.

fastlasso follows scikit-learn 1.9's estimator API (``pyproject.toml`` pins
``scikit-learn>=1.9,<1.10``), which is written with a few names scikit-learn does not
export publicly. Importing them only here keeps the list visible and makes a new
scikit-learn release a change to this file alone. Public scikit-learn names are
imported where they are used.

Private methods that fastlasso overrides or calls on its own estimators
(``BaseEstimator._validate_params`` and ``_get_param_names`` in ``_param_check``) are
part of the same contract.
"""

from sklearn._config import _get_threadlocal_config
from sklearn.base import _fit_context
from sklearn.linear_model._base import LinearClassifierMixin, SparseCoefMixin
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.metadata_routing import _raise_for_params, _routing_enabled
from sklearn.utils.validation import (
    _assert_all_finite,
    _check_method_params,
    _check_n_features,
    _check_sample_weight,
)

# The module that defines scikit-learn's LogisticRegression(CV) (sklearn_patch reads
# the originals from it and subclasses them).
SKLEARN_LOGISTIC_MODULE = "sklearn.linear_model._logistic"
# The module that defines scikit-learn's Lasso family (``sklearn_patch`` reads the
# originals from it and never patches it).
SKLEARN_CD_MODULE = "sklearn.linear_model._coordinate_descent"

__all__ = [
    "SKLEARN_CD_MODULE",
    "SKLEARN_LOGISTIC_MODULE",
    "Interval",
    "LinearClassifierMixin",
    "SparseCoefMixin",
    "StrOptions",
    "_assert_all_finite",
    "_check_method_params",
    "_check_n_features",
    "_check_sample_weight",
    "_fit_context",
    "_get_threadlocal_config",
    "_raise_for_params",
    "_routing_enabled",
]
