"""scikit-learn compatible multi-task estimators: MultiTaskElasticNet, MultiTaskLasso
and their cross-validated versions (thin: validate -> _data -> _multitask ->
attributes).

Beyond scikit-learn 1.9's: sparse X with int32 or int64 indices (never densified,
centred implicitly), float32 kept, sample weights in the CV classes too, working sets
with Gap Safe screening and Anderson extrapolation, the duality gap of every fit, and
the one-standard-error rule in the CV classes (``alpha_rule="1se"``).
"""

import numbers
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from sklearn import get_config
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils import check_consistent_length
from sklearn.utils.validation import check_is_fitted, validate_data

from fastlasso._compat import (
    Interval,
    StrOptions,
    _fit_context,
    _raise_for_params,
)
from fastlasso._data import (
    NON_FINITE,
    as_design_matrix,
    as_target,
    check_sample_weight,
    check_structure,
    intercept_of,
    make_design,
    validate_fit_data,
)
from fastlasso._estimators_cv import CrossValidatedMixin
from fastlasso._multitask import center_targets, mt_cross_validate, solve_mt
from fastlasso._param_check import ValidateParamsOnce
from fastlasso._path_functions import enet_path, lasso_path
from fastlasso._solve import n_threads_for

_OBJECTIVE_DOC = """
    Minimises, for Y of shape (n_samples, n_targets), ::

        P(W, b) = 1/(2 n) ||Y - X W - 1 b^T||_Fro^2 + alpha * l1_ratio * ||W||_21
                  + alpha * (1 - l1_ratio) / 2 * ||W||_Fro^2,

    ||W||_21 = sum_j ||W_j||_2 over the rows W_j of W (one per feature, one entry per
    target; ``coef_`` is W transposed), with squared residuals weighted by
    ``sample_weight`` rescaled to sum to n. A feature is used by every target or by
    none.
"""


def _mono_task_error(estimator):
    """scikit-learn's error for a 1-D y (naming the single-task estimator)."""
    name = "Lasso" if isinstance(estimator, MultiTaskLasso) else "ElasticNet"
    return ValueError(f"For mono-task outputs, use {name}")


class MultiTaskPredictMixin:
    """What every multi-task estimator (one fit and CV) shares: ``predict`` and the
    tags (sparse X accepted; a Y of several columns, not one)."""

    def predict(self, X):
        """Predict: ``X @ coef_.T + intercept_``, of shape (n_samples, n_targets)."""
        check_is_fitted(self)
        X = validate_data(
            self, check_structure(X), accept_sparse=True, accept_large_sparse=True,
            reset=False, dtype=[np.float64, np.float32],
        )
        return np.asarray(X @ self.coef_.T) + self.intercept_

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.target_tags.multi_output = True
        tags.target_tags.single_output = False
        return tags


class MultiTaskElasticNet(MultiTaskPredictMixin, ValidateParamsOnce, RegressorMixin,
                          BaseEstimator):
    """Multi-task Elastic Net with the L1/L2 mixed-norm penalty (drop-in for
    scikit-learn's).
    {objective}
    Solver: block coordinate descent over the rows of W (block soft-thresholding) with
    working sets, Gap Safe screening and Anderson extrapolation; every fit is certified
    by its duality gap and stops when ``dual_gap_ <= tol * ||Y - mean(Y)||_Fro^2 / n``.

    Parameters
    ----------
    alpha : float, default=1.0
        Penalty strength (``alpha >= 0``).
    l1_ratio : float, default=0.5
        Mix of the penalties, ``0 <= l1_ratio <= 1`` (1: multi-task Lasso).
    fit_intercept : bool, default=True
        Fit one unpenalised intercept per target; data are centred implicitly (X is
        never copied or densified for it).
    copy_X : bool, default=True
        Accepted for compatibility; X is never modified.
    max_iter : int, default=1000
        Maximum number of epochs (passes over the working set).
    tol : float, default=1e-4
        Stop when the duality gap is <= ``tol * ||Y - mean(Y)||_Fro^2 / n``.
    warm_start : bool, default=False
        Start from the previous ``coef_``.
    random_state : int, RandomState instance or None, default=None
        Seed of the row shuffling when ``selection="random"``.
    selection : {{"cyclic", "random"}}, default="cyclic"
        Visit the rows in order, or in a fresh random order every epoch.
    n_jobs : int or None, default=None
        Threads for the full-gradient sweeps (X^T R and the duality gap); None means
        1, -1 all cores.

    Attributes
    ----------
    coef_ : ndarray of shape (n_targets, n_features)
        W transposed (Fortran order, as scikit-learn's).
    intercept_ : ndarray of shape (n_targets,) or float
        0.0 when ``fit_intercept=False``.
    dual_gap_ : float
        Duality gap of the returned solution, in the units of P: an upper bound on
        ``P(coef_) - min P``.
    eps_ : float
        The tolerance on the gap in the solver's units: ``tol * ||Y - mean(Y)||^2``.
    n_iter_ : int
        Epochs run.
    sparse_coef_ : sparse matrix of shape (n_targets, n_features)
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (`n_features_in_`,)

    See Also
    --------
    MultiTaskLasso : The case ``l1_ratio=1``.
    MultiTaskElasticNetCV : Alpha and l1_ratio chosen by cross-validation.

    Examples
    --------
    >>> from fastlasso import MultiTaskElasticNet
    >>> from sklearn.datasets import load_linnerud
    >>> X, Y = load_linnerud(return_X_y=True)  # 20 athletes, 3 exercises, 3 targets
    >>> model = MultiTaskElasticNet(alpha=1.0, l1_ratio=0.5, tol=1e-10).fit(X, Y)
    >>> model.coef_.round(2)  # (n_targets, n_features)
    array([[-0.43, -0.22,  0.09],
           [-0.12, -0.04,  0.03],
           [ 0.  ,  0.04, -0.03]])
    """

    path = staticmethod(enet_path)

    _parameter_constraints: dict = {
        "alpha": [Interval(Real, 0, None, closed="left")],
        "l1_ratio": [Interval(Real, 0, 1, closed="both")],
        "fit_intercept": ["boolean"],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "copy_X": ["boolean"],
        "tol": [Interval(Real, 0, None, closed="left")],
        "warm_start": ["boolean"],
        "random_state": ["random_state"],
        "selection": [StrOptions({"cyclic", "random"})],
        "n_jobs": [Integral, None],
    }

    def __init__(self, alpha=1.0, *, l1_ratio=0.5, fit_intercept=True, copy_X=True,
                 max_iter=1000, tol=1e-4, warm_start=False, random_state=None,
                 selection="cyclic", n_jobs=None):
        self.alpha = alpha
        self.l1_ratio = l1_ratio
        self.fit_intercept = fit_intercept
        self.copy_X = copy_X
        self.max_iter = max_iter
        self.tol = tol
        self.warm_start = warm_start
        self.random_state = random_state
        self.selection = selection
        self.n_jobs = n_jobs

    def _l1_ratio(self):
        return self.l1_ratio

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the model by block coordinate descent.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data: dense (Fortran order is used in place) or any scipy.sparse
            format (CSC with sorted, unique indices, int32 or int64, is used in place).
        y : array-like of shape (n_samples, n_targets)
            Targets, cast to X's dtype.
        sample_weight : float or array-like of shape (n_samples,), default=None
            Non-negative weights, rescaled internally to sum to n_samples.

        Returns
        -------
        self : object
        """
        X, y = validate_fit_data(self, X, y)
        if y.ndim == 1:
            raise _mono_task_error(self)
        name = type(self).__name__
        if isinstance(sample_weight, numbers.Number):
            sample_weight = None
        design = make_design(X, sample_weight, self.fit_intercept, estimator_name=name)
        Yc, y_mean, yy = center_targets(design, y)
        p, T = design.n_features, Yc.shape[1]
        coef_init = None
        if self.warm_start and hasattr(self, "coef_"):
            prev = np.asarray(self.coef_)
            if prev.shape == (T, p):
                coef_init = prev.T
        sol = solve_mt(
            design, Yc, self.alpha, self._l1_ratio(), coef_init=coef_init, tol=self.tol,
            max_iter=self.max_iter, selection=self.selection,
            random_state=self.random_state, n_threads=n_threads_for(self.n_jobs), yy=yy,
        )
        W = sol.coef
        intercept = np.array([intercept_of(y_mean[t], design.mu, W[:, t])
                              for t in range(T)])
        if not (np.isfinite(W).all() and np.isfinite(intercept).all()):
            raise ValueError(
                f"{NON_FINITE}. The input data may contain large values for this "
                "dtype; rescale X and y."
            )
        self.coef_ = W.T  # (n_targets, n_features), Fortran order
        self.intercept_ = intercept.astype(design.dtype) if self.fit_intercept else 0.0
        self.dual_gap_ = float(sol.gap)
        self.eps_ = float(sol.tol_gap * design.n_samples)
        self.n_iter_ = int(sol.n_iter)
        return self

    @property
    def sparse_coef_(self):
        """``coef_`` as a CSR matrix (a csr_array under scikit-learn's
        ``sparse_interface="sparray"`` config)."""
        if get_config().get("sparse_interface") == "sparray":
            return sp.csr_array(self.coef_)
        return sp.csr_matrix(self.coef_)


class MultiTaskLasso(MultiTaskElasticNet):
    """Multi-task Lasso with the L1/L2 mixed-norm penalty (drop-in for scikit-learn's).
    {objective}
    With ``l1_ratio = 1``: ``P(W, b) = 1/(2 n) ||Y - X W - 1 b^T||_Fro^2 +
    alpha ||W||_21``: each feature is used by all targets or by none.

    Parameters
    ----------
    alpha, fit_intercept, copy_X, max_iter, tol, warm_start, random_state, selection :
        As in :class:`MultiTaskElasticNet`.
    n_jobs :
        As in :class:`MultiTaskElasticNet`.

    Attributes
    ----------
    coef_, intercept_, dual_gap_, eps_, n_iter_, sparse_coef_, n_features_in_ :
        As in :class:`MultiTaskElasticNet`.
    feature_names_in_ :
        As in :class:`MultiTaskElasticNet`.

    See Also
    --------
    MultiTaskLassoCV : Alpha chosen by cross-validation.
    Lasso : One target at a time.

    Examples
    --------
    >>> from fastlasso import MultiTaskLasso
    >>> from sklearn.datasets import load_linnerud
    >>> X, Y = load_linnerud(return_X_y=True)  # 20 athletes, 3 exercises, 3 targets
    >>> model = MultiTaskLasso(alpha=1.0, tol=1e-10).fit(X, Y)
    >>> model.coef_.round(2)  # (n_targets, n_features)
    array([[-0.41, -0.22,  0.09],
           [-0.12, -0.04,  0.03],
           [ 0.  ,  0.04, -0.03]])
    """

    _parameter_constraints: dict = {
        k: v for k, v in MultiTaskElasticNet._parameter_constraints.items()
        if k != "l1_ratio"
    }

    def __init__(self, alpha=1.0, *, fit_intercept=True, copy_X=True, max_iter=1000,
                 tol=1e-4, warm_start=False, random_state=None, selection="cyclic",
                 n_jobs=None):
        self.alpha = alpha
        self.fit_intercept = fit_intercept
        self.copy_X = copy_X
        self.max_iter = max_iter
        self.tol = tol
        self.warm_start = warm_start
        self.random_state = random_state
        self.selection = selection
        self.n_jobs = n_jobs

    def _l1_ratio(self):
        return 1.0


MultiTaskElasticNet.__doc__ = MultiTaskElasticNet.__doc__.format(
    objective=_OBJECTIVE_DOC
)
MultiTaskLasso.__doc__ = MultiTaskLasso.__doc__.format(objective=_OBJECTIVE_DOC)


class MultiTaskElasticNetCV(MultiTaskPredictMixin, CrossValidatedMixin,
                            ValidateParamsOnce, RegressorMixin, BaseEstimator):
    """Multi-task Elastic Net with alpha (and l1_ratio) chosen by cross-validation.

    Same parameters, grid, folds, error and choice as scikit-learn's
    ``MultiTaskElasticNetCV`` (the held-out error of a fold is the mean over targets
    of the weighted mean squared error), plus sparse X, sample weights and the
    one-standard-error rule (``alpha_rule="1se"``: the largest alpha whose mean CV
    error is within one standard error of the minimum). Folds run as warm-started
    paths in threads (``n_jobs``); the final model is refitted on all rows at
    ``alpha_`` (from 0, as scikit-learn's).

    Parameters
    ----------
    l1_ratio : float or list of float, default=0.5
    eps : float, default=1e-3
        alpha_min / alpha_max of the automatic grid.
    alphas : int or array-like, default=100
        Grid size, or the alphas themselves.
    fit_intercept : bool, default=True
    max_iter : int, default=1000
    tol : float, default=1e-4
    cv : int, cross-validation generator or iterable, default=None
        As in scikit-learn (None: 5-fold KFold).
    copy_X : bool, default=True
        Accepted for compatibility; X is never copied or modified.
    verbose : bool or int, default=0
    n_jobs : int, default=None
        Threads over (l1_ratio, fold) paths; -1 uses all cores.
    random_state : int, RandomState instance or None, default=None
    selection : {"cyclic", "random"}, default="cyclic"
    alpha_rule : {"min", "1se"}, default="min"
        Which alpha becomes ``alpha_`` and is refitted.

    Attributes
    ----------
    alpha_ : float
    alpha_min_ : float
        Alpha of minimum mean CV error.
    alpha_1se_ : float
        Largest alpha with mean CV error <= minimum + its standard error.
    l1_ratio_ : float
    alphas_ : ndarray of shape (n_alphas,) or (n_l1_ratio, n_alphas)
    mse_path_ : ndarray of shape (n_alphas, n_folds) or (n_l1_ratio, n_alphas, n_folds)
    mse_se_ : ndarray of shape (n_alphas,) or (n_l1_ratio, n_alphas)
        Standard error of the mean CV error (std over folds, ddof=1, / sqrt(n_folds)).
    n_nonzero_path_ : ndarray of shape (n_alphas,) or (n_l1_ratio, n_alphas)
        Features used (nonzero rows of W) along the path, mean over folds.
    coef_ : ndarray of shape (n_targets, n_features)
    intercept_ : ndarray of shape (n_targets,)
    dual_gap_ : float
    n_iter_ : int
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (`n_features_in_`,)

    See Also
    --------
    MultiTaskElasticNet : The model at one alpha.
    MultiTaskLassoCV : The case ``l1_ratio=1``.

    Examples
    --------
    >>> from fastlasso import MultiTaskElasticNetCV
    >>> from sklearn.datasets import load_linnerud
    >>> X, Y = load_linnerud(return_X_y=True)  # 20 athletes, 3 exercises, 3 targets
    >>> model = MultiTaskElasticNetCV(l1_ratio=[0.5, 1.0], cv=4).fit(X, Y)
    >>> model.mse_path_.shape  # (l1_ratio, alpha, fold)
    (2, 100, 4)
    """

    _parameter_constraints: dict = {
        "l1_ratio": [Interval(Real, 0, 1, closed="both"), "array-like"],
        "eps": [Interval(Real, 0, None, closed="neither")],
        "alphas": [Interval(Integral, 1, None, closed="left"), "array-like"],
        "fit_intercept": ["boolean"],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "cv": ["cv_object"],
        "copy_X": ["boolean"],
        "verbose": ["verbose"],
        "n_jobs": [Integral, None],
        "random_state": ["random_state"],
        "selection": [StrOptions({"cyclic", "random"})],
        "alpha_rule": [StrOptions({"min", "1se"})],
    }

    path = staticmethod(enet_path)

    def __init__(self, *, l1_ratio=0.5, eps=1e-3, alphas=100, fit_intercept=True,
                 max_iter=1000, tol=1e-4, cv=None, copy_X=True, verbose=0, n_jobs=None,
                 random_state=None, selection="cyclic", alpha_rule="min"):
        self.l1_ratio = l1_ratio
        self.eps = eps
        self.alphas = alphas
        self.fit_intercept = fit_intercept
        self.max_iter = max_iter
        self.tol = tol
        self.cv = cv
        self.copy_X = copy_X
        self.verbose = verbose
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.selection = selection
        self.alpha_rule = alpha_rule

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None, **params):
        """Choose alpha (and l1_ratio) by cross-validation, then refit on all rows.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples, n_targets)
        sample_weight : float or array-like of shape (n_samples,), default=None
            Weights of the training objective and of the held-out errors.
        **params : dict
            Routed to the CV splitter (e.g. ``groups``) when metadata routing is
            enabled, as in scikit-learn.

        Returns
        -------
        self : object
        """
        _raise_for_params(params, self, "fit")
        X, y = validate_data(self, check_structure(X), y, accept_sparse=True,
                             accept_large_sparse=True, dtype=[np.float64, np.float32],
                             y_numeric=True, multi_output=True)
        if y.ndim == 1:
            raise ValueError(
                f"For mono-task outputs, use {type(self).__name__[9:]}"
            )
        y = as_target(y, X.dtype)
        check_consistent_length(X, y)
        X = as_design_matrix(X)
        raw_sw = None
        if sample_weight is not None and not isinstance(sample_weight, numbers.Number):
            if check_sample_weight(sample_weight, X.shape[0], np.float64) is not None:
                raw_sw = np.asarray(sample_weight, dtype=np.float64)
        elif sample_weight is not None:
            check_sample_weight(sample_weight, X.shape[0], np.float64)
        l1_ratios = self._l1_ratios()
        folds = self._folds(X, y, sample_weight, params)
        res = mt_cross_validate(
            X, y, raw_sw, folds, l1_ratios, alphas=self.alphas, eps=self.eps,
            fit_intercept=self.fit_intercept, alpha_rule=self.alpha_rule,
            n_jobs=n_threads_for(self.n_jobs), verbose=self.verbose,
            solve_params=dict(tol=self.tol, max_iter=self.max_iter,
                              selection=self.selection,
                              random_state=self.random_state),
        )
        self._set_curve_attributes(res, l1_ratios)
        sol = res.refit
        self.coef_ = sol.coef.T
        self.intercept_ = res.intercept.astype(X.dtype) if self.fit_intercept else 0.0
        self.dual_gap_ = float(sol.gap)
        self.n_iter_ = int(sol.n_iter)
        return self


class MultiTaskLassoCV(MultiTaskElasticNetCV):
    """Multi-task Lasso with alpha chosen by cross-validation (scikit-learn's
    ``MultiTaskLassoCV`` plus sparse X, sample weights and the one-standard-error rule).

    Parameters
    ----------
    eps, alphas, fit_intercept, max_iter, tol, copy_X, cv, verbose, n_jobs :
        As in :class:`MultiTaskElasticNetCV`.
    random_state, selection, alpha_rule :
        As in :class:`MultiTaskElasticNetCV`.

    Attributes
    ----------
    alpha_, alpha_min_, alpha_1se_, alphas_, mse_path_, mse_se_, n_nonzero_path_ :
        As in :class:`MultiTaskElasticNetCV`.
    coef_, intercept_, dual_gap_, n_iter_, n_features_in_, feature_names_in_ :
        As in :class:`MultiTaskElasticNetCV`.

    See Also
    --------
    MultiTaskLasso : The model at one alpha.

    Examples
    --------
    >>> from fastlasso import MultiTaskLassoCV
    >>> from sklearn.datasets import load_linnerud
    >>> X, Y = load_linnerud(return_X_y=True)  # 20 athletes, 3 exercises, 3 targets
    >>> model = MultiTaskLassoCV(cv=4, alpha_rule="1se").fit(X, Y)
    >>> bool(model.alpha_ == model.alpha_1se_ >= model.alpha_min_)
    True
    >>> model.mse_path_.shape  # (alpha, fold)
    (100, 4)
    """

    _parameter_constraints: dict = {
        k: v for k, v in MultiTaskElasticNetCV._parameter_constraints.items()
        if k != "l1_ratio"
    }

    path = staticmethod(lasso_path)

    def __init__(self, *, eps=1e-3, alphas=100, fit_intercept=True, max_iter=1000,
                 tol=1e-4, copy_X=True, cv=None, verbose=False, n_jobs=None,
                 random_state=None, selection="cyclic", alpha_rule="min"):
        self.eps = eps
        self.alphas = alphas
        self.fit_intercept = fit_intercept
        self.max_iter = max_iter
        self.tol = tol
        self.copy_X = copy_X
        self.cv = cv
        self.verbose = verbose
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.selection = selection
        self.alpha_rule = alpha_rule

    def _l1_ratios(self):
        return np.ones(1)
