"""fastlasso's entry points under test, by name, for the test modules that run the same
check through every one of them. (The independent numpy references and the test data
are in conftest.py; nothing there calls fastlasso.)

Every entry point that fits is made to look like an estimator, so one test covers
them all:

- "Lasso", "ElasticNet": the estimators with coordinate descent;
- "Lasso-fista", "ElasticNet-ista": the estimators with a proximal solver;
- "lasso_path", "enet_path": the path functions at one alpha (PathFit);
- "LassoCV", "ElasticNetCV": cross-validation over the one-alpha grid [alpha]
  (cv=3); its refit is then the estimator's solution at alpha;
- and, for several targets at once (MULTITASK_ENTRY_POINTS, not in ENTRY_POINTS):
  "MultiTaskLasso", "MultiTaskElasticNet", "MultiTaskLassoCV", "MultiTaskElasticNetCV"
  and "MultiTask-enet_path" (enet_path with a 2-D y at one alpha, MultiTaskPathFit);
- and, for class labels (LOGISTIC_ENTRY_POINTS, factories without arguments at C=0.5,
  tol=1e-10): "LogisticRegression-l1", "LogisticRegression-enet" (l1_ratio=0.5),
  "LogisticRegressionCV" (the one-C grid [0.5], cv=3) and "logistic_path" at one C
  (LogisticPathFit).

``entry_point(name, **defaults)`` gives a factory ``make(**params)``; a test module
collects the ones it runs in a dict (its ESTIMATORS). To cover a new entry point, add
it to _ENTRY_POINTS.
"""

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator
from sklearn.utils import check_array

from fastlasso import (
    ElasticNet,
    ElasticNetCV,
    Lasso,
    LassoCV,
    LogisticRegression,
    LogisticRegressionCV,
    MultiTaskElasticNet,
    MultiTaskElasticNetCV,
    MultiTaskLasso,
    MultiTaskLassoCV,
    enet_path,
    lasso_path,
    logistic_path,
)


class PathFit(BaseEstimator):
    """``lasso_path`` / ``enet_path`` on the one-alpha grid [alpha], as an estimator:
    coef_, dual_gap_ and n_iter_ are the path's; intercept_ = ybar - xbar^T w (weighted
    means) is computed here in float64, since a path does not return one."""

    def __init__(
        self,
        path="lasso_path",
        alpha=1.0,
        l1_ratio=1.0,
        fit_intercept=True,
        positive=False,
        tol=1e-4,
        max_iter=1000,
        precompute="auto",
        selection="cyclic",
        n_jobs=None,
    ):
        self.path = path
        self.alpha = alpha
        self.l1_ratio = l1_ratio
        self.fit_intercept = fit_intercept
        self.positive = positive
        self.tol = tol
        self.max_iter = max_iter
        self.precompute = precompute
        self.selection = selection
        self.n_jobs = n_jobs

    def fit(self, X, y, sample_weight=None):
        path = {"lasso_path": lasso_path, "enet_path": enet_path}[self.path]
        extra = {"l1_ratio": self.l1_ratio} if self.path == "enet_path" else {}
        _, coefs, gaps, n_iters = path(
            X,
            y,
            alphas=[self.alpha],
            fit_intercept=self.fit_intercept,
            positive=self.positive,
            tol=self.tol,
            max_iter=self.max_iter,
            precompute=self.precompute,
            selection=self.selection,
            n_jobs=self.n_jobs,
            sample_weight=sample_weight,
            return_n_iter=True,
            **extra,
        )
        coef = coefs[:, 0]
        intercept = 0.0
        if self.fit_intercept:  # on a C-ordered copy: the same bits for any layout
            X64 = check_array(X, accept_sparse=True, dtype=np.float64)
            X64 = np.ascontiguousarray(X64.toarray() if sp.issparse(X64) else X64)
            s = (
                None
                if sample_weight is None
                else np.broadcast_to(
                    np.asarray(sample_weight, dtype=np.float64), len(X64)
                )
            )
            y64 = np.asarray(y, dtype=np.float64).reshape(len(X64))
            intercept = np.average(y64 - X64 @ coef.astype(np.float64), weights=s)
        self.coef_, self.intercept_ = coef, intercept
        self.dual_gap_, self.n_iter_ = gaps[0], n_iters[0]
        return self


class MultiTaskPathFit(BaseEstimator):
    """``enet_path`` with a 2-D y on the one-alpha grid [alpha], as an estimator:
    coef_ (n_targets, n_features), dual_gap_ and n_iter_ are the path's; intercept_ =
    ybar - W^T xbar (weighted means) is computed here in float64, since a path
    does not return one."""

    def __init__(self, alpha=1.0, l1_ratio=1.0, fit_intercept=True, tol=1e-4,
                 max_iter=1000):
        self.alpha = alpha
        self.l1_ratio = l1_ratio
        self.fit_intercept = fit_intercept
        self.tol = tol
        self.max_iter = max_iter

    def fit(self, X, y, sample_weight=None):
        _, coefs, gaps, n_iters = enet_path(
            X, y, alphas=[self.alpha], l1_ratio=self.l1_ratio,
            fit_intercept=self.fit_intercept, tol=self.tol, max_iter=self.max_iter,
            sample_weight=sample_weight, return_n_iter=True,
        )
        if coefs.ndim != 3:  # a 1-D y is the single-task path
            raise ValueError("MultiTaskPathFit takes a 2-D y")
        W = coefs[:, :, 0]
        intercept = 0.0
        if self.fit_intercept:
            X64 = check_array(X, accept_sparse=True, dtype=np.float64)
            X64 = np.ascontiguousarray(X64.toarray() if sp.issparse(X64) else X64)
            s = None if sample_weight is None else np.broadcast_to(
                np.asarray(sample_weight, dtype=np.float64), len(X64))
            Y64 = np.asarray(y, dtype=np.float64)
            intercept = np.average(Y64 - X64 @ W.T.astype(np.float64), axis=0,
                                   weights=s)
        self.coef_, self.intercept_ = W, intercept
        self.dual_gap_, self.n_iter_ = gaps[0], n_iters[0]
        return self


class LogisticPathFit(BaseEstimator):
    """``logistic_path`` at the one C [C], as an estimator (classes_ from y)."""

    def __init__(self, C=1.0, l1_ratio=1.0, tol=1e-10):
        self.C = C
        self.l1_ratio = l1_ratio
        self.tol = tol

    def fit(self, X, y, sample_weight=None):
        _, coefs, intercepts, gaps = logistic_path(
            X, y, Cs=[self.C], l1_ratio=self.l1_ratio, tol=self.tol,
            sample_weight=sample_weight)
        self.classes_ = np.unique(y)
        self.coef_, self.intercept_, self.dual_gap_ = coefs[0], intercepts[0], gaps[0]
        return self


def _one_alpha_cv(cls):
    def make(alpha=1.0, **params):
        return cls(alphas=[alpha], cv=3, **params)

    return make


# name -> (constructor, fixed parameters, model solved)
_ENTRY_POINTS = {
    "Lasso": (Lasso, {}, "Lasso"),
    "ElasticNet": (ElasticNet, {}, "ElasticNet"),
    "Lasso-fista": (Lasso, {"solver": "fista"}, "Lasso"),
    "ElasticNet-ista": (ElasticNet, {"solver": "ista"}, "ElasticNet"),
    "lasso_path": (PathFit, {"path": "lasso_path"}, "Lasso"),
    "enet_path": (PathFit, {"path": "enet_path"}, "ElasticNet"),
    "LassoCV": (_one_alpha_cv(LassoCV), {}, "Lasso"),
    "ElasticNetCV": (_one_alpha_cv(ElasticNetCV), {}, "ElasticNet"),
    "MultiTaskLasso": (MultiTaskLasso, {}, "MultiTaskLasso"),
    "MultiTaskElasticNet": (MultiTaskElasticNet, {}, "MultiTaskElasticNet"),
    "MultiTaskLassoCV": (_one_alpha_cv(MultiTaskLassoCV), {}, "MultiTaskLasso"),
    "MultiTaskElasticNetCV": (
        _one_alpha_cv(MultiTaskElasticNetCV), {}, "MultiTaskElasticNet"
    ),
    "MultiTask-enet_path": (MultiTaskPathFit, {}, "MultiTaskElasticNet"),
}
MULTITASK_ENTRY_POINTS = tuple(n for n in _ENTRY_POINTS if n.startswith("MultiTask"))
ENTRY_POINTS = tuple(n for n in _ENTRY_POINTS if n not in MULTITASK_ENTRY_POINTS)
# the classifiers: name -> factory (module docstring)
LOGISTIC_ENTRY_POINTS = {
    "LogisticRegression-l1": lambda: LogisticRegression(
        C=0.5, l1_ratio=1.0, tol=1e-10),
    "LogisticRegression-enet": lambda: LogisticRegression(
        C=0.5, l1_ratio=0.5, tol=1e-10),
    "LogisticRegressionCV": lambda: LogisticRegressionCV(
        Cs=[0.5], l1_ratios=[1.0], cv=3, tol=1e-10),
    "logistic_path": lambda: LogisticPathFit(C=0.5),
}
ESTIMATOR_CLASSES = ("Lasso", "ElasticNet", "Lasso-fista", "ElasticNet-ista")
PROX_ENTRY_POINTS = ("Lasso-fista", "ElasticNet-ista")


def model_of(name):
    """The problem an entry point solves: "Lasso", "ElasticNet", "MultiTaskLasso" or
    "MultiTaskElasticNet"."""
    return _ENTRY_POINTS[name][2]


def entry_point(name, l1_ratio=0.5, **defaults):
    """A factory ``make(**params)`` of the entry point ``name`` (module docstring), with
    ``defaults`` unless ``params`` say otherwise. Elastic Net entry points take
    ``l1_ratio``; the Lasso ones drop any l1_ratio they are given (theirs is 1), so
    that one set of parameters serves both."""
    constructor, fixed, model = _ENTRY_POINTS[name]

    def make(**params):
        params = {**fixed, "l1_ratio": l1_ratio, **defaults, **params}
        if model.endswith("Lasso"):
            params.pop("l1_ratio")
        return constructor(**params)

    return make


def make_estimator(model, alpha, l1_ratio=1.0, **params):
    """fastlasso.Lasso or fastlasso.ElasticNet (with l1_ratio) with these parameters."""
    return entry_point(model, l1_ratio)(alpha=alpha, **params)
