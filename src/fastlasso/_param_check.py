"""scikit-learn's parameter validation, run once per distinct set of parameters.

``_fit_context`` validates every parameter against ``_parameter_constraints`` at each
``fit``; that costs about 0.3 ms, as much as a whole fit of a small problem. The mixin
remembers the (name, type, value) tuple it last validated and skips the check while
the parameters are unchanged. Unhashable values (arrays, lists) are always checked.
"""

from functools import cache


@cache
def _param_names(cls):
    return tuple(cls._get_param_names())


class ValidateParamsOnce:
    """Mixin for estimators that use ``sklearn.base._fit_context``."""

    def _validate_params(self):
        key = tuple(
            (name, type(value), value)
            for name in _param_names(type(self))
            for value in (getattr(self, name),)
        )
        try:
            hash(key)
        except TypeError:
            key = None
        if key is None or key != self.__dict__.get("_validated_params"):
            super()._validate_params()
            if key is not None:
                self._validated_params = key
