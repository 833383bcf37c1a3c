"""Run scikit-learn code on fastlasso: ``patch_sklearn()``, ``unpatch_sklearn()`` and
the context manager ``sklearn_patched()``.

Patching replaces, for every name of ``REPLACEABLE``, the scikit-learn object in
``sklearn.linear_model`` and in every loaded scikit-learn module that imported it by
name (``sklearn.decomposition._dict_learning`` uses ``Lasso`` for ``sparse_encode``).
Modules imported while the patch is on pick up fastlasso's objects from
``sklearn.linear_model`` themselves; unpatching restores scikit-learn's objects
everywhere it finds fastlasso's.

Left alone, on purpose:

- the defining module ``sklearn.linear_model._coordinate_descent``: scikit-learn's
  classes stay reachable under their qualified names, so scikit-learn models pickle and
  unpickle as before;
- the defining module of ``LogisticRegression(CV)``, ``sklearn.linear_model._logistic``,
  for the same reasons (its ``LogisticRegressionCV`` keeps fitting folds with its own
  ``LogisticRegression``);
- scikit-learn's test helpers (``sklearn.utils._test_common``, ``estimator_checks``,
  ``*.tests``), which key settings on scikit-learn's classes.

``LogisticRegression`` and ``LogisticRegressionCV`` are replaced by subclasses of
scikit-learn's own (``fastlasso._sklearn_logistic``) that fit L1 and Elastic-Net
requests with solver "saga" (and L1 with "liblinear") on fastlasso, and leave every
other request (L2 or no penalty, the other solvers) to scikit-learn's code unchanged.

fastlasso models pickle as fastlasso classes and load whether or not the patch is on.
The objects come from fastlasso's modules, never from the package root (which imports
this module).
"""

import importlib
import sys
import threading
from contextlib import contextmanager

from fastlasso import _sklearn_logistic
from fastlasso._compat import SKLEARN_CD_MODULE, SKLEARN_LOGISTIC_MODULE
from fastlasso._estimators import ElasticNet, Lasso
from fastlasso._estimators_cv import ElasticNetCV, LassoCV
from fastlasso._estimators_multitask import (
    MultiTaskElasticNet,
    MultiTaskElasticNetCV,
    MultiTaskLasso,
    MultiTaskLassoCV,
)
from fastlasso._path_functions import enet_path, lasso_path

# scikit-learn's name -> fastlasso's object
_FASTLASSO = {
    "Lasso": Lasso,
    "ElasticNet": ElasticNet,
    "LassoCV": LassoCV,
    "ElasticNetCV": ElasticNetCV,
    "MultiTaskLasso": MultiTaskLasso,
    "MultiTaskElasticNet": MultiTaskElasticNet,
    "MultiTaskLassoCV": MultiTaskLassoCV,
    "MultiTaskElasticNetCV": MultiTaskElasticNetCV,
    "lasso_path": lasso_path,
    "enet_path": enet_path,
    "LogisticRegression": _sklearn_logistic.LogisticRegression,
    "LogisticRegressionCV": _sklearn_logistic.LogisticRegressionCV,
}
REPLACEABLE = tuple(_FASTLASSO)
# the scikit-learn module defining each name (SKLEARN_CD_MODULE if not listed)
_SOURCE = {
    "LogisticRegression": SKLEARN_LOGISTIC_MODULE,
    "LogisticRegressionCV": SKLEARN_LOGISTIC_MODULE,
}
_SKIPPED_MODULES = (
    SKLEARN_CD_MODULE,
    SKLEARN_LOGISTIC_MODULE,
    "sklearn.utils._test_common",
    "sklearn.utils.estimator_checks",
)
_lock = threading.RLock()


def _originals():
    """scikit-learn's own objects, from the module that defines them."""
    return {
        name: getattr(importlib.import_module(_SOURCE.get(name, SKLEARN_CD_MODULE)),
                      name)
        for name in REPLACEABLE
    }


def _sklearn_modules():
    importlib.import_module("sklearn.linear_model")
    for name, module in list(sys.modules.items()):
        if module is None or not (name == "sklearn" or name.startswith("sklearn.")):
            continue
        if name.startswith(_SKIPPED_MODULES) or ".tests" in name:
            continue
        yield module


def _check_names(names):
    if names is None:
        return list(REPLACEABLE)
    names = [names] if isinstance(names, str) else list(names)
    for name in names:
        if name not in REPLACEABLE:
            raise ValueError(f"{name!r} cannot be patched; choose from {REPLACEABLE}.")
    return names


def patch_sklearn(names=None):
    """Replace scikit-learn's Lasso family by fastlasso's.

    ``Lasso``, ``ElasticNet``, ``LassoCV``, ``ElasticNetCV``, the four ``MultiTask*``
    estimators, ``lasso_path`` and ``enet_path`` are replaced in
    ``sklearn.linear_model`` and in every loaded scikit-learn module that imported them
    by name; modules imported later take them from ``sklearn.linear_model``.
    ``LogisticRegression`` and ``LogisticRegressionCV`` are replaced by subclasses that
    fit L1 / Elastic-Net requests on fastlasso and leave every other penalty to
    scikit-learn. scikit-learn's defining module and test helpers keep scikit-learn's
    objects, so scikit-learn models still pickle as before.

    Parameters
    ----------
    names : str or iterable of str, default=None
        Which of ``REPLACEABLE`` to replace; None: all of them.

    Returns
    -------
    patched : list of str
        The names now served by fastlasso.

    See Also
    --------
    unpatch_sklearn : Puts scikit-learn's objects back.
    sklearn_patched : The patch for the duration of a ``with`` block.

    Notes
    -----
    Names that your own modules imported from scikit-learn before the call
    (``from sklearn.linear_model import Lasso``) keep scikit-learn's objects: patch
    before importing, or refer to ``sklearn.linear_model.Lasso``.

    Examples
    --------
    >>> import sklearn.linear_model
    >>> import fastlasso
    >>> fastlasso.patch_sklearn()  # doctest: +NORMALIZE_WHITESPACE
    ['Lasso', 'ElasticNet', 'LassoCV', 'ElasticNetCV', 'MultiTaskLasso',
     'MultiTaskElasticNet', 'MultiTaskLassoCV', 'MultiTaskElasticNetCV', 'lasso_path',
     'enet_path', 'LogisticRegression', 'LogisticRegressionCV']
    >>> sklearn.linear_model.Lasso is fastlasso.Lasso
    True
    >>> fastlasso.unpatch_sklearn()
    >>> sklearn.linear_model.Lasso is fastlasso.Lasso
    False
    """
    with _lock:
        names = _check_names(names)
        originals = _originals()
        for module in _sklearn_modules():
            for name in names:
                if module.__dict__.get(name) is originals[name]:
                    setattr(module, name, _FASTLASSO[name])
        return _patched_names()


def unpatch_sklearn(names=None):
    """Put scikit-learn's own objects back wherever fastlasso's were placed.

    Parameters
    ----------
    names : str or iterable of str, default=None
        Which names to restore; None: all of ``REPLACEABLE``.

    See Also
    --------
    patch_sklearn : Puts fastlasso's objects in place.

    Examples
    --------
    >>> import sklearn.linear_model
    >>> import fastlasso
    >>> fastlasso.patch_sklearn(["Lasso", "LassoCV"])
    ['Lasso', 'LassoCV']
    >>> fastlasso.unpatch_sklearn("LassoCV")
    >>> sklearn.linear_model.LassoCV is fastlasso.LassoCV
    False
    >>> sklearn.linear_model.Lasso is fastlasso.Lasso
    True
    >>> fastlasso.unpatch_sklearn()
    """
    with _lock:
        names = _check_names(names)
        originals = _originals()
        for module in _sklearn_modules():
            for name in names:
                current = module.__dict__.get(name)
                if current is not None and current is _FASTLASSO[name]:
                    setattr(module, name, originals[name])


def _patched_names():
    linear_model = importlib.import_module("sklearn.linear_model")
    originals = _originals()
    return [
        name
        for name in REPLACEABLE
        if getattr(linear_model, name) is not originals[name]
    ]


@contextmanager
def sklearn_patched(names=None):
    """Context manager: scikit-learn runs on fastlasso inside the block.

    On exit only what this block patched is restored, so blocks nest and a global
    ``patch_sklearn()`` made before the block stays in place.

    Parameters
    ----------
    names : str or iterable of str, default=None
        Which of ``REPLACEABLE`` to replace; None: all that fastlasso provides.

    See Also
    --------
    patch_sklearn : The same patch, until ``unpatch_sklearn()``.

    Examples
    --------
    >>> from sklearn.datasets import load_diabetes
    >>> from sklearn.model_selection import cross_val_score
    >>> import sklearn.linear_model
    >>> import fastlasso
    >>> X, y = load_diabetes(return_X_y=True)
    >>> with fastlasso.sklearn_patched():
    ...     model = sklearn.linear_model.Lasso(alpha=0.1)
    ...     scores = cross_val_score(model, X, y, cv=3)
    >>> type(model).__module__.startswith("fastlasso")
    True
    >>> sklearn.linear_model.Lasso is fastlasso.Lasso
    False
    """
    with _lock:
        before = set(_patched_names())
        patch_sklearn(names)
        added = [name for name in _patched_names() if name not in before]
    try:
        yield
    finally:
        if added:
            unpatch_sklearn(added)
