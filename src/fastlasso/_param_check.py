"""scikit-learn's parameter validation, run once per distinct set of parameters.

``_fit_context`` validates every parameter against ``_parameter_constraints`` at each
``fit``; that costs 0.15-0.3 ms, as much as a whole fit of a small problem. Validity
depends on the parameters alone, so the mixin remembers the (class, (name, type,
value)...) tuples that passed, process-wide (the last ``MAX_REMEMBERED``), and skips
the check for a known one, on any instance: ``Lasso(alpha=a).fit(X, y)`` in a loop pays
it once. Unhashable values (arrays, lists) are always checked.
"""

import threading
from functools import cache

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
