"""scikit-learn's parameter validation, run once per distinct set of parameters.

``_fit_context`` validates every parameter against ``_parameter_constraints`` at each
``fit``; that costs 0.15-0.3 ms, as much as a whole fit of a small problem. Validity
depends on the parameters alone, so the mixin remembers the (class, (name, type,
value)...) tuples that passed, process-wide (the last ``MAX_REMEMBERED``), and skips
the check for a known one, on any instance: ``Lasso(alpha=a).fit(X, y)`` in a loop pays
it once. Unhashable values (arrays, lists) are always checked.

``fit_context`` is ``_fit_context(prefer_skip_nested_validation=True)`` itself, leaner,
for the estimators whose fits take well under a millisecond (see its docstring).
"""

import functools
import threading
from functools import cache

from fastlasso._compat import _fit_context, _get_threadlocal_config

MAX_REMEMBERED = 256
_passed = {}  # insertion-ordered set of keys that passed
_lock = threading.Lock()


@cache
def _param_names(cls):
    return tuple(cls._get_param_names())


class ValidateParamsOnce:
    """Mixin for estimators that use ``sklearn.base._fit_context``."""

    def _validate_params(self):
        cls = type(self)
        key = (cls,) + tuple(
            (name, type(value), value)
            for name in _param_names(cls)
            for value in (getattr(self, name),)
        )
        try:
            known = key in _passed
        except TypeError:  # unhashable values
            super()._validate_params()
            return
        if not known:
            super()._validate_params()
            with _lock:
                if len(_passed) >= MAX_REMEMBERED:
                    del _passed[next(iter(_passed))]
                _passed[key] = None


def fit_context(fit_method):
    """scikit-learn's ``_fit_context(prefer_skip_nested_validation=True)`` for the
    Lasso and ElasticNet ``fit``, at a fraction of its fixed cost.

    The same rule: unless scikit-learn's ``skip_parameter_validation`` is set, the
    estimator's parameters are validated (``_validate_params``), then ``fit`` runs
    with ``skip_parameter_validation=True`` in scikit-learn's thread-local
    configuration (nested estimators and functions skip their own validation), and
    the value it had is restored afterwards, whatever happens. scikit-learn's
    decorator does this with ``config_context`` (a copy of the whole configuration
    and two ``set_config`` calls) and a context manager for the callbacks of
    estimators that support them; on a fit of a few hundred microseconds that is
    ~25 us, a tenth of the fit. Here the one key is set and restored directly, as
    ``set_config`` does it. An estimator with scikit-learn's callback support
    (``_init_callback_context``, which these do not have) goes through
    scikit-learn's decorator unchanged.
    """
    sklearn_wrapped = _fit_context(prefer_skip_nested_validation=True)(fit_method)

    @functools.wraps(fit_method)
    def wrapper(estimator, *args, **kwargs):
        if hasattr(estimator, "_init_callback_context"):
            return sklearn_wrapped(estimator, *args, **kwargs)
        config = _get_threadlocal_config()
        if config["skip_parameter_validation"]:
            return fit_method(estimator, *args, **kwargs)
        estimator._validate_params()
        config["skip_parameter_validation"] = True
        try:
            return fit_method(estimator, *args, **kwargs)
        finally:
            config["skip_parameter_validation"] = False

    return wrapper
