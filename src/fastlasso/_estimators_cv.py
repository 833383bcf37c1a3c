"""Cross-validated estimators LassoCV and ElasticNetCV (scikit-learn 1.9 compatible,
plus the one-standard-error rule).

Thin: validate the input, make the folds with scikit-learn's splitter (metadata
routing included), run the CV driver (_cv.cross_validate), shape its arrays into
scikit-learn's attributes. The folds, the l1_ratios and the attributes of the CV
curve are CrossValidatedMixin's, shared with the multi-task CV estimators."""

from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.model_selection import check_cv
from sklearn.utils import check_consistent_length, check_scalar
from sklearn.utils.metadata_routing import (
    MetadataRouter,
    MethodMapping,
    process_routing,
)
from sklearn.utils.validation import check_is_fitted, validate_data

from fastlasso._compat import (
    Interval,
    StrOptions,
    _fit_context,
    _raise_for_params,
    _routing_enabled,
)
from fastlasso._cv import cross_validate
from fastlasso._data import (
    as_design_matrix,
    as_target,
    check_sample_weight,
    check_structure,
    gram_mode_from_precompute,
)
from fastlasso._param_check import ValidateParamsOnce
from fastlasso._path_functions import enet_path, lasso_path
from fastlasso._solve import n_threads_for


def _compact_index(rows, n):
    """rows (indices into n rows, or a mask) as int32 if integers and n fits."""
    rows = np.asarray(rows)
    if rows.dtype.kind in "iu" and n <= np.iinfo(np.int32).max:
        return rows.astype(np.int32, copy=False)
    return rows


def l1_ratios_of(l1_ratio):
    """The l1_ratios a CV estimator searches: ``l1_ratio`` (a number or a list) as a
    1-D float64 array, each in [0, 1]."""
    ratios = np.atleast_1d(np.asarray(l1_ratio, dtype=np.float64))
    if ratios.ndim != 1 or ratios.size == 0 or np.any((ratios < 0) | (ratios > 1)):
        raise ValueError(f"l1_ratio must be in [0, 1], got {l1_ratio!r}.")
    return ratios


class CrossValidatedMixin:
    """What the in-memory CV estimators share (ElasticNetCV, LassoCV and their
    multi-task versions): the l1_ratios searched, the folds of ``cv`` (``groups`` and
    other split parameters routed to the splitter, as in scikit-learn), that routing,
    and scikit-learn's attributes of the CV curve from a _cv.CVResult."""

    def _l1_ratios(self):
        return l1_ratios_of(self.l1_ratio)

    def _folds(self, X, y, sample_weight, params):
        """[(train, test), ...] of ``cv`` on (X, y); integer indices as int32 when X
        has fewer than 2^31 rows. The folds are held for the whole fit (K of them: K x n
        indices in all, more than a copy of a vector of n), so at half numpy's intp."""
        cv = check_cv(self.cv)
        if _routing_enabled():
            routed = process_routing(self, "fit", sample_weight=sample_weight, **params)
            split_params = routed.splitter.split
        else:
            split_params = {}
        return [(_compact_index(train, X.shape[0]), _compact_index(test, X.shape[0]))
                for train, test in cv.split(X, y, **split_params)]

    def _set_curve_attributes(self, res, l1_ratios):
        """l1_ratio_ (if the estimator has l1_ratio), alpha_min_, alpha_1se_, alpha_,
        alphas_, mse_path_, mse_se_ and n_nonzero_path_ in scikit-learn's shapes: one
        grid per l1_ratio when the grid is automatic, the l1_ratio axis dropped for
        one l1_ratio, mse_path_ of shape ([n_l1_ratio,] n_alphas, n_folds)."""
        grids, single = res.grids, len(l1_ratios) == 1
        if hasattr(self, "l1_ratio"):
            self.l1_ratio_ = float(l1_ratios[res.best])
        self.alpha_min_ = float(grids[res.best][res.alpha_min])
        self.alpha_1se_ = float(grids[res.best][res.alpha_1se])
        self.alpha_ = float(grids[res.best][res.alpha])
        explicit = not isinstance(self.alphas, Integral)
        self.alphas_ = grids[0] if (single or explicit) else np.asarray(grids)
        self.mse_path_ = np.squeeze(np.moveaxis(res.mse, 2, 1))
        self.mse_se_ = res.se[0] if single else res.se
        self.n_nonzero_path_ = res.n_nonzero[0] if single else res.n_nonzero

    def get_metadata_routing(self):
        """Route ``groups`` (and other split parameters) to the CV splitter."""
        return MetadataRouter(owner=self).add_self_request(self).add(
            splitter=check_cv(self.cv),
            method_mapping=MethodMapping().add(caller="fit", callee="split"),
        )


_HOW_DOC = """
    Folds are fitted as warm-started paths in parallel threads (``n_jobs``), on a copy
    of the training rows when X is small (up to 256 MB), else on the one X in place
    with zero sample weight on the held-out rows; dense data with many more rows than
    columns are cross-validated from sufficient statistics (Gram matrices of the
    held-out blocks) in one pass over X. The final model is refitted on all data at
    ``alpha_`` with the same solver, warm-started from the fold solutions at that
    alpha.
"""

_PARAMETERS_DOC = """\
    eps : float, default=1e-3
        alpha_min / alpha_max of the automatic grid (geometric, from alpha_max, the
        smallest alpha whose solution is 0).
    alphas : int or array-like, default=100
        Grid size, or the alphas themselves.
    fit_intercept : bool, default=True
        Fit an unpenalised intercept (data centred implicitly, never copied).
    precompute : "auto", bool or array-like, default="auto"
        Gram-matrix use (dense X): see :class:`ElasticNet`. An array means the
        full-Gram mode, computed per fold from the data.
    max_iter : int, default=1000
        Maximum number of epochs of each fit along each path.
    tol : float, default=1e-4
        Every fit along every path stops at duality gap <= tol * ||y - ybar||^2 / n.
    cv : int, cross-validation generator or iterable, default=None
        As in scikit-learn (None: 5-fold KFold without shuffling).
    copy_X : bool, default=True
        Accepted for compatibility; X is never copied or modified for it.
    verbose : bool or int, default=False
        Progress on stderr (one line per fold path).
    n_jobs : int, default=None
        Threads over (l1_ratio, fold) paths; None means 1, -1 all cores. The paths
        run through joblib: under ``joblib.parallel_config("dask")`` (or another
        backend) they run there instead, e.g. spread over a Dask cluster.
    positive : bool, default=False
        Constrain the coefficients to be >= 0.
    random_state : int, RandomState instance or None, default=None
        Seed of the coordinate shuffling when ``selection="random"``.
    selection : {"cyclic", "random"}, default="cyclic"
        Visit coordinates in order, or in a fresh random order every epoch.
    alpha_rule : {"min", "1se"}, default="min"
        Which alpha becomes ``alpha_`` and is refitted: the one of least mean CV
        error, or the largest within one standard error of it.
"""

_ATTRIBUTES_DOC = """\
    alpha_min_ : float
        Alpha of least mean CV error.
    alpha_1se_ : float
        Largest alpha whose mean CV error is <= the least one + its standard error.
    alphas_ : ndarray of shape (n_alphas,) or (n_l1_ratio, n_alphas)
        The grid (decreasing).
    mse_path_ : ndarray of shape (n_alphas, n_folds) or (n_l1_ratio, n_alphas, n_folds)
        Held-out mean squared error per fold.
    mse_se_ : ndarray of shape (n_alphas,) or (n_l1_ratio, n_alphas)
        Standard error of the mean CV error: std over folds (ddof=1) / sqrt(n_folds).
    n_nonzero_path_ : ndarray of shape (n_alphas,) or (n_l1_ratio, n_alphas)
        Number of nonzero coefficients along the path, mean over folds.
    coef_ : ndarray of shape (n_features,)
        Weights of the model refitted on all data at ``alpha_``.
    intercept_ : float
        Its intercept (0.0 when ``fit_intercept=False``).
    dual_gap_ : float
        Its duality gap, an upper bound on its suboptimality.
    n_iter_ : int
        Its epochs.
    n_features_in_ : int
        Number of features seen during ``fit``.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of the features seen during ``fit``, when ``X`` has string column
        names (a pandas DataFrame).
"""


def _fill_docstring(cls):
    """Put the shared parameter and attribute descriptions into cls's docstring."""
    cls.__doc__ = cls.__doc__.format(
        how=_HOW_DOC, parameters=_PARAMETERS_DOC, attributes=_ATTRIBUTES_DOC
    )
    return cls


@_fill_docstring
class ElasticNetCV(CrossValidatedMixin, ValidateParamsOnce, RegressorMixin,
                   BaseEstimator):
    """Elastic Net with alpha (and l1_ratio) chosen by cross-validation.

    Same parameters, grid, folds and choice as scikit-learn's ``ElasticNetCV``, plus
    the one-standard-error rule of glmnet (``alpha_rule="1se"``): the largest alpha
    whose mean CV error is within one standard error of the minimum.
{how}
    Parameters
    ----------
    l1_ratio : float or list of float, default=0.5
        Mix of L1 and L2 penalties, in [0, 1] (1: Lasso); a list is searched too, each
        ratio with its own grid of alphas.
{parameters}
    Attributes
    ----------
    alpha_ : float
        The chosen alpha (``alpha_min_`` or ``alpha_1se_``).
    l1_ratio_ : float
        The chosen l1_ratio: the one whose grid reaches the smallest mean CV error.
{attributes}
    See Also
    --------
    ElasticNet : The model fitted at one alpha.
    LassoCV : The case ``l1_ratio=1``.
    plot_cv : The CV curve with both choices of alpha.

    Examples
    --------
    >>> from sklearn.datasets import load_diabetes
    >>> from fastlasso import ElasticNetCV
    >>> X, y = load_diabetes(return_X_y=True)
    >>> model = ElasticNetCV(l1_ratio=[0.5, 0.9, 1.0], cv=5).fit(X, y)
    >>> model.alphas_.shape  # one grid of 100 alphas per l1_ratio
    (3, 100)
    >>> model.mse_path_.shape  # held-out errors: (l1_ratio, alpha, fold)
    (3, 100, 5)
    >>> float(model.l1_ratio_)
    1.0
    """

    _parameter_constraints: dict = {
        "l1_ratio": [Interval(Real, 0, 1, closed="both"), "array-like"],
        "eps": [Interval(Real, 0, None, closed="neither")],
        "alphas": [Interval(Integral, 1, None, closed="left"), "array-like"],
        "fit_intercept": ["boolean"],
        "precompute": [StrOptions({"auto"}), "array-like", "boolean"],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "cv": ["cv_object"],
        "copy_X": ["boolean"],
        "verbose": ["verbose"],
        "n_jobs": [Integral, None],
        "positive": ["boolean"],
        "random_state": ["random_state"],
        "selection": [StrOptions({"cyclic", "random"})],
        "alpha_rule": [StrOptions({"min", "1se"})],
    }

    path = staticmethod(enet_path)

    def __init__(self, *, l1_ratio=0.5, eps=1e-3, alphas=100, fit_intercept=True,
                 precompute="auto", max_iter=1000, tol=1e-4, cv=None, copy_X=True,
                 verbose=0, n_jobs=None, positive=False, random_state=None,
                 selection="cyclic", alpha_rule="min"):
        self.l1_ratio = l1_ratio
        self.eps = eps
        self.alphas = alphas
        self.fit_intercept = fit_intercept
        self.precompute = precompute
        self.max_iter = max_iter
        self.tol = tol
        self.cv = cv
        self.copy_X = copy_X
        self.verbose = verbose
        self.n_jobs = n_jobs
        self.positive = positive
        self.random_state = random_state
        self.selection = selection
        self.alpha_rule = alpha_rule

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None, **params):
        """Choose alpha (and l1_ratio) by cross-validation, then refit on all data.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the training objective and of the held-out errors.
        **params : dict
            Routed to the CV splitter (e.g. ``groups``) when metadata routing is
            enabled, as in scikit-learn.

        Returns
        -------
        self : object
        """
        _raise_for_params(params, self, "fit")
        if not isinstance(self.alphas, Integral):  # scikit-learn's check and messages
            values = np.ravel(np.asarray(self.alphas, dtype=object))
            for index, alpha in enumerate(values):
                check_scalar(alpha, f"alphas[{index}]", target_type=Real, min_val=0.0,
                             include_boundaries="left")
        X, y = validate_data(self, check_structure(X), y, accept_sparse=True,
                             accept_large_sparse=True, dtype=[np.float64, np.float32],
                             y_numeric=True)
        if y.ndim > 1:
            raise ValueError(
                "y must be 1-D: multi-task cross-validation is not supported."
            )
        y = as_target(y, X.dtype)
        check_consistent_length(X, y)
        X = as_design_matrix(X)
        raw_sw = None
        if sample_weight is not None:
            if check_sample_weight(sample_weight, X.shape[0], np.float64) is not None:
                raw_sw = np.asarray(sample_weight, dtype=np.float64)
        l1_ratios = self._l1_ratios()
        gram_mode, _ = gram_mode_from_precompute(self.precompute)
        res = cross_validate(
            X, y, raw_sw, self._folds(X, y, sample_weight, params), l1_ratios,
            alphas=self.alphas, eps=self.eps,
            fit_intercept=self.fit_intercept, gram_mode=gram_mode,
            alpha_rule=self.alpha_rule, n_jobs=n_threads_for(self.n_jobs),
            verbose=self.verbose,
            solve_params=dict(tol=self.tol, max_iter=self.max_iter,
                              positive=self.positive, selection=self.selection,
                              random_state=self.random_state),
        )
        self._set_curve_attributes(res, l1_ratios)
        self.coef_ = res.refit.coef
        self.intercept_ = res.intercept if self.fit_intercept else 0.0
        self.dual_gap_ = res.refit.gap
        self.n_iter_ = res.refit.n_iter
        return self

    def predict(self, X):
        """Predict with the refitted model: ``X @ coef_ + intercept_``."""
        check_is_fitted(self)
        X = validate_data(self, check_structure(X), accept_sparse=True,
                          accept_large_sparse=True, reset=False,
                          dtype=[np.float64, np.float32])
        return X @ self.coef_ + self.intercept_

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags


@_fill_docstring
class LassoCV(ElasticNetCV):
    """Lasso with alpha chosen by cross-validation.

    Same parameters, grid, folds and choice as scikit-learn's ``LassoCV``, plus the
    one-standard-error rule of glmnet (``alpha_rule="1se"``): the largest alpha whose
    mean CV error is within one standard error of the minimum, which keeps fewer
    features at an error the CV cannot tell from the best one's.
{how}
    Parameters
    ----------
{parameters}
    Attributes
    ----------
    alpha_ : float
        The chosen alpha (``alpha_min_`` or ``alpha_1se_``).
{attributes}
    See Also
    --------
    Lasso : The model fitted at one alpha.
    lasso_path : The solutions along a grid of alphas.
    plot_cv : The CV curve with both choices of alpha.
    plot_path : The path on the CV grid with both choices marked.

    Examples
    --------
    >>> from sklearn.datasets import load_diabetes
    >>> from fastlasso import LassoCV
    >>> X, y = load_diabetes(return_X_y=True, as_frame=True)
    >>> model = LassoCV(cv=5, alpha_rule="1se").fit(X, y)
    >>> bool(model.alpha_ == model.alpha_1se_ > model.alpha_min_)
    True
    >>> model.mse_path_.shape  # held-out errors: (alpha, fold)
    (100, 5)
    >>> list(model.feature_names_in_[model.coef_ != 0])
    ['sex', 'bmi', 'bp', 's3', 's5', 's6']
    """

    _parameter_constraints: dict = {
        k: v for k, v in ElasticNetCV._parameter_constraints.items() if k != "l1_ratio"
    }

    path = staticmethod(lasso_path)

    def __init__(self, *, eps=1e-3, alphas=100, fit_intercept=True, precompute="auto",
                 max_iter=1000, tol=1e-4, copy_X=True, cv=None, verbose=False,
                 n_jobs=None, positive=False, random_state=None, selection="cyclic",
                 alpha_rule="min"):
        self.eps = eps
        self.alphas = alphas
        self.fit_intercept = fit_intercept
        self.precompute = precompute
        self.max_iter = max_iter
        self.tol = tol
        self.copy_X = copy_X
        self.cv = cv
        self.verbose = verbose
        self.n_jobs = n_jobs
        self.positive = positive
        self.random_state = random_state
        self.selection = selection
        self.alpha_rule = alpha_rule

    def _l1_ratios(self):
        return np.ones(1)

