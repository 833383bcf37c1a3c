"""Sparse logistic regression: LogisticRegression, LogisticRegressionCV, logistic_path.

scikit-learn 1.9's parameters and attributes for the L1 and Elastic-Net penalties,
fitted by the prox-Newton kernels (_logistic.pyx: working sets, Gap Safe screening,
coordinate descent on quadratic models) and certified by the duality gap
(``dual_gap_``). Validate -> _data -> _solve_logistic / _logistic_cv -> attributes.
"""

from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator
from sklearn.metrics import get_scorer
from sklearn.model_selection import check_cv
from sklearn.utils import compute_class_weight, metadata_routing
from sklearn.utils.extmath import softmax
from sklearn.utils.metadata_routing import (
    MetadataRouter,
    MethodMapping,
    process_routing,
)
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from fastlasso._compat import (
    Interval,
    LinearClassifierMixin,
    SparseCoefMixin,
    StrOptions,
    _check_n_features,
    _check_sample_weight,
    _fit_context,
    _raise_for_params,
    _routing_enabled,
)
from fastlasso._data import as_design_matrix, check_structure, make_design
from fastlasso._logistic_cv import cross_validate_logistic, labelled_scorer, select_C
from fastlasso._param_check import ValidateParamsOnce
from fastlasso._solve import n_threads_for
from fastlasso._solve_logistic import (
    c_min,
    make_design_and_workspace,
    solve_logistic,
    solve_logistic_path,
)

_OBJECTIVE_DOC = """
    Minimises scikit-learn's regularised logistic loss

        P(W, b) = C sum_i s_i l(y_i, x_i^T W + b) + l1_ratio ||W||_1
                  + (1 - l1_ratio) / 2 ||W||_F^2

    with l the logistic loss for two classes (one row of W: the log-odds of
    ``classes_[1]``) or the multinomial (softmax) loss for more (one row per class), s
    the sample weights times the class weights, and b unpenalised. Every fit is
    certified by its duality gap (``dual_gap_`` >= P - min P): it stops when the gap is
    <= ``tol`` times the loss of the best model without features.
"""


def _check_C(C):
    if not np.isfinite(C):
        raise ValueError(
            "C=inf (no penalty) is not supported: the problem has no minimiser on "
            "separable data and no duality gap to certify a fit. Use scikit-learn's "
            "LogisticRegression(C=np.inf) for an unpenalised fit."
        )


def _validate(estimator, X, y, reset=True):
    """(X, y, classes, class indices) for fit. Plain input (see _plain_labels) takes a
    short path with the same outcome as scikit-learn's validate_data (which costs more
    than a whole fit of a small problem); X's finiteness is then checked by make_design
    from its column statistics."""
    X = check_structure(X)
    if reset and _plain_labels(X, y):
        _check_n_features(estimator, X, reset=True)
        # what _check_feature_names(reset=True) does for input without feature names
        if hasattr(estimator, "feature_names_in_"):
            del estimator.feature_names_in_
    else:
        X, y = validate_data(estimator, X, y, accept_sparse=True,
                             accept_large_sparse=True, dtype=[np.float64, np.float32],
                             reset=reset)
        check_classification_targets(y)
    classes, y_idx = np.unique(y, return_inverse=True)
    return X, y, classes, y_idx.astype(np.int32)


def _plain_labels(X, y):
    """True for X a 2-D float32/float64 ndarray or CSC/CSR matrix (structure already
    checked) with samples and features, and y a 1-D integer or boolean ndarray of the
    same length: labels that are always a valid binary or multiclass target."""
    if type(y) is not np.ndarray or y.ndim != 1 or y.dtype.kind not in "iub":
        return False
    if sp.issparse(X):
        if X.format not in ("csc", "csr"):
            return False
    elif type(X) is not np.ndarray or X.ndim != 2:
        return False
    return (X.dtype in (np.float32, np.float64) and 0 not in X.shape
            and y.shape[0] == X.shape[0])


def _weights(sample_weight, class_weight, classes, y, y_idx, n):
    """sample_weight x class_weight[y] in float64 (raw: not rescaled), or None."""
    s = None
    if sample_weight is not None:
        s = _check_sample_weight(sample_weight, np.empty((n, 0)), dtype=np.float64,
                                 ensure_non_negative=True).copy()
    if class_weight is not None:
        cw = compute_class_weight(class_weight, classes=classes, y=y, sample_weight=s)
        s = cw[y_idx] if s is None else s * cw[y_idx]
    return s


def _iterations(n_iter, max_iter):
    """n_iter_ as reported: prox-Newton iterations, at least 1 when max_iter >= 1 (a
    start certified optimal, as the model without features is below C_min, counts the
    pass over X that certified it)."""
    return np.maximum(n_iter, min(1, max_iter))


def _one_class_error(classes):
    return ValueError(
        "This solver needs samples of at least 2 classes in the data, but the data "
        f"contains only one class: {classes[0]!r}"
    )


class LogisticRegression(ValidateParamsOnce, LinearClassifierMixin, SparseCoefMixin,
                         BaseEstimator):
    """Logistic regression with L1 / Elastic-Net penalties (drop-in for scikit-learn's).
    {objective}
    The defaults are scikit-learn's, so ``l1_ratio=0.0`` (a pure L2 penalty) unless
    set: fastlasso solves that case too, with the same certified prox-Newton solver
    (every feature then enters the model, and working sets and screening do nothing;
    scikit-learn's ``lbfgs`` and ``newton-cholesky`` solvers are built for it). Pass
    ``l1_ratio=1`` for the Lasso penalty, which gives sparse coefficients.

    Parameters
    ----------
    C : float, default=1.0
        Inverse of the regularisation strength, ``0 < C < inf`` (``C=np.inf``, no
        penalty, is refused: use scikit-learn for it).
    l1_ratio : float, default=0.0
        Mix of the penalties, ``0 <= l1_ratio <= 1`` (1: L1, 0: L2).
    fit_intercept : bool, default=True
        Fit unpenalised intercepts. For more than two classes they are reported
        centred (softmax is unchanged by a common shift).
    class_weight : dict, "balanced" or None, default=None
        Weights of the classes, multiplying ``sample_weight`` (as in scikit-learn).
    tol : float, default=1e-4
        Stop when the duality gap is <= tol times the loss of the model without
        features (its intercepts alone, if fitted).
    max_iter : int, default=100
        Maximum number of prox-Newton iterations (each solves a quadratic model of the
        loss on the working set by coordinate descent, then line-searches).
    warm_start : bool, default=False
        Start from the previous ``coef_`` and ``intercept_``.
    n_jobs : int or None, default=None
        Threads for the full-gradient sweeps; None means 1, -1 all cores.
    record_history : bool, default=False
        Store ``objective_history_``.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    coef_ : ndarray of shape (1, n_features) or (n_classes, n_features)
    intercept_ : ndarray of shape (1,) or (n_classes,)
    dual_gap_ : float
        Duality gap of the returned solution, in the units of P: an upper bound on
        ``P(coef_, intercept_) - min P``.
    n_iter_ : ndarray of shape (1,)
        Prox-Newton iterations run (at least 1 if ``max_iter >= 1``: a start that is
        certified optimal counts the pass over X that certified it).
    objective_history_ : ndarray of shape (n_records, 3)
        Rows (iteration, P, duality gap or NaN for a restricted-problem check); only
        with ``record_history=True``.
    n_features_in_ : int
        Number of features seen during ``fit``.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of the features seen during ``fit``, when ``X`` has string column
        names (a pandas DataFrame).

    See Also
    --------
    LogisticRegressionCV : C (and l1_ratio) chosen by cross-validation.
    logistic_path : The fits along a grid of C.

    Examples
    --------
    >>> from sklearn.datasets import load_breast_cancer
    >>> from sklearn.preprocessing import StandardScaler
    >>> from fastlasso import LogisticRegression
    >>> X, y = load_breast_cancer(return_X_y=True)
    >>> X = StandardScaler().fit_transform(X)
    >>> clf = LogisticRegression(C=0.1, l1_ratio=1.0).fit(X, y)
    >>> int((clf.coef_ != 0).sum())  # of 30 features
    8
    >>> round(clf.score(X, y), 3)
    0.974
    >>> clf.dual_gap_ < 1e-4 * 569 * 0.66 * clf.C  # certified to tol x null loss
    True
    """

    _parameter_constraints: dict = {
        # inf is scikit-learn's "no penalty": accepted here to be refused in fit with
        # the reason (_check_C)
        "C": [Interval(Real, 0, None, closed="right")],
        "l1_ratio": [Interval(Real, 0, 1, closed="both")],
        "fit_intercept": ["boolean"],
        "class_weight": [dict, StrOptions({"balanced"}), None],
        "tol": [Interval(Real, 0, None, closed="left")],
        "max_iter": [Interval(Integral, 0, None, closed="left")],
        "warm_start": ["boolean"],
        "n_jobs": [Integral, None],
        "record_history": ["boolean"],
    }

    def __init__(self, *, C=1.0, l1_ratio=0.0, fit_intercept=True, class_weight=None,
                 tol=1e-4, max_iter=100, warm_start=False, n_jobs=None,
                 record_history=False):
        self.C = C
        self.l1_ratio = l1_ratio
        self.fit_intercept = fit_intercept
        self.class_weight = class_weight
        self.tol = tol
        self.max_iter = max_iter
        self.warm_start = warm_start
        self.n_jobs = n_jobs
        self.record_history = record_history

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the model.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data: dense (Fortran order is used in place) or any scipy.sparse
            format (CSC with sorted, unique indices is used in place).
        y : array-like of shape (n_samples,)
            Class labels.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights (not rescaled: as in scikit-learn, scaling them
            scales C).

        Returns
        -------
        self : object
        """
        _check_C(self.C)
        X, y, classes, y_idx = _validate(self, X, y)
        if len(classes) < 2:
            raise _one_class_error(classes)
        n, p = X.shape
        s = _weights(sample_weight, self.class_weight, classes, y, y_idx, n)
        K = 1 if len(classes) == 2 else len(classes)
        coef_init = intercept_init = workspace = None
        previous = getattr(self, "coef_", None) if self.warm_start else None
        if previous is not None and previous.shape == (K, p):
            coef_init = previous
            intercept_init = self.intercept_ if self.fit_intercept else None
        name = type(self).__name__
        if coef_init is None and self.max_iter > 0:  # a cold start
            design, workspace = make_design_and_workspace(
                X, y_idx, len(classes), s, self.fit_intercept, name)
        else:
            design = make_design(X, s, self.fit_intercept, estimator_name=name)
        sol = solve_logistic(
            design, y_idx, len(classes), self.C, self.l1_ratio,
            weight_sum=None if s is None else float(s.sum()),
            coef_init=coef_init, intercept_init=intercept_init, tol=self.tol,
            max_iter=self.max_iter, n_threads=n_threads_for(self.n_jobs),
            record_history=self.record_history, workspace=workspace,
        )
        self.classes_ = classes
        self.coef_ = sol.coef
        self.intercept_ = sol.intercept.astype(X.dtype)
        self.n_iter_ = np.array([_iterations(sol.n_iter, self.max_iter)],
                                dtype=np.int32)
        self.dual_gap_ = float(sol.gap)
        if self.record_history:
            self.objective_history_ = sol.history
        return self

    def predict_proba(self, X):
        """Probability of each class (columns in the order of ``classes_``): the
        logistic function of the decision for two classes, softmax for more.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
        """
        check_is_fitted(self)
        if len(self.classes_) <= 2:
            return self._predict_proba_lr(X)
        return softmax(self.decision_function(X), copy=False)

    def predict_log_proba(self, X):
        """Logarithm of ``predict_proba(X)``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
        """
        return np.log(self.predict_proba(X))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags


LogisticRegression.__doc__ = LogisticRegression.__doc__.format(objective=_OBJECTIVE_DOC)


def logistic_path(X, y, *, l1_ratio=1.0, Cs=100, eps=1e-3, fit_intercept=True,
                  sample_weight=None, class_weight=None, tol=1e-4, max_iter=100,
                  coef_init=None, intercept_init=None, n_jobs=None,
                  return_n_iter=False):
    """Regularisation path of the sparse logistic regression: warm-started fits at
    increasing C.

    Parameters
    ----------
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
    y : array-like of shape (n_samples,)
        Class labels (two or more classes).
    l1_ratio : float, default=1.0
        Mix of the penalties (see :class:`LogisticRegression`), ``0 <= l1_ratio <= 1``.
    Cs : int or array-like, default=100
        The values of C, or how many: then a geometric grid from ``C_min`` (the largest
        C giving all-zero coefficients) to ``C_min / eps``; for ``l1_ratio=0``, where
        no C gives zero coefficients, scikit-learn's grid ``np.logspace(-4, 4, Cs)``.
    eps : float, default=1e-3
        ``C_min / C_max`` of the automatic grid.
    fit_intercept : bool, default=True
    sample_weight : array-like of shape (n_samples,), default=None
    class_weight : dict, "balanced" or None, default=None
    tol : float, default=1e-4
        Each fit stops at duality gap <= tol x the loss of the model without features.
    max_iter : int, default=100
        Prox-Newton iterations per fit.
    n_jobs : int or None, default=None
        Threads for the full-gradient sweeps.
    coef_init : array-like of shape (K, n_features), default=None
        Warm start of the first fit (K = 1 for two classes, else n_classes).
    intercept_init : array-like of shape (K,), default=None
    return_n_iter : bool, default=False

    Returns
    -------
    Cs : ndarray of shape (n_Cs,)
        Increasing.
    coefs : ndarray of shape (n_Cs, K, n_features)
    intercepts : ndarray of shape (n_Cs, K)
    dual_gaps : ndarray of shape (n_Cs,)
        Duality gap of each fit (units of the objective at its C).
    n_iters : ndarray of shape (n_Cs,)
        Only if ``return_n_iter``.

    See Also
    --------
    LogisticRegression : One fit (``C_min`` is where its coefficients leave 0).

    Examples
    --------
    >>> from sklearn.datasets import load_breast_cancer
    >>> from sklearn.preprocessing import StandardScaler
    >>> from fastlasso import logistic_path
    >>> X, y = load_breast_cancer(return_X_y=True)
    >>> X = StandardScaler().fit_transform(X)
    >>> Cs, coefs, intercepts, gaps = logistic_path(X, y, Cs=20, eps=1e-2)
    >>> coefs.shape  # (Cs, 1, features): one row of log-odds for two classes
    (20, 1, 30)
    >>> [int((c != 0).sum()) for c in coefs[[0, 10, 19]]]  # features entering
    [0, 6, 13]
    """
    est = BaseEstimator()
    X, y, classes, y_idx = _validate(est, X, y)
    if len(classes) < 2:
        raise _one_class_error(classes)
    if not 0 <= l1_ratio <= 1:
        raise ValueError(f"l1_ratio must be in [0, 1], got {l1_ratio!r}.")
    n = X.shape[0]
    s = _weights(sample_weight, class_weight, classes, y, y_idx, n)
    if coef_init is None and max_iter > 0:
        design, workspace = make_design_and_workspace(
            X, y_idx, len(classes), s, fit_intercept, "logistic_path")
    else:
        design, workspace = make_design(X, s, fit_intercept, "logistic_path"), None
    wsum = None if s is None else float(s.sum())
    if isinstance(Cs, Integral):
        if Cs < 1:
            raise ValueError(f"Cs must be >= 1, got {Cs}.")
        if not 0 < eps <= 1:
            raise ValueError(f"eps must be in (0, 1], got {eps!r}.")
        cmin = c_min(design, y_idx, len(classes), l1_ratio, wsum)
        if np.isfinite(cmin):
            grid = np.geomspace(cmin, cmin / eps, Cs) if Cs > 1 else np.array([cmin])
        else:
            grid = np.logspace(-4, 4, Cs)
    else:
        grid = np.sort(np.asarray(Cs, dtype=np.float64).ravel())
        if grid.size == 0 or not (grid > 0).all() or not np.isfinite(grid).all():
            raise ValueError("Cs must be positive and finite.")
    coefs, intercepts, gaps, n_iters = solve_logistic_path(
        design, y_idx, len(classes), grid, l1_ratio, coef_init=coef_init,
        intercept_init=intercept_init, weight_sum=wsum, tol=tol, max_iter=max_iter,
        n_threads=n_threads_for(n_jobs), workspace=workspace)
    out = (grid, coefs, intercepts, gaps)
    return out + (n_iters,) if return_n_iter else out


class LogisticRegressionCV(LogisticRegression):
    """Logistic regression with C (and l1_ratio) chosen by cross-validation.

    scikit-learn's choices: the grid ``Cs`` (an int gives ``np.logspace(-4, 4, Cs)``),
    stratified 5-fold cross-validation by default, accuracy as the default score
    (``scoring``), the best mean score over the folds, and a final refit on all data
    warm-started from the folds' mean solution (``refit=True``; with ``refit=False`` the
    folds' best coefficients are averaged). Plus the one-standard-error rule
    (``C_rule="1se"``): the smallest C, the most regularised model, whose mean score
    is within one standard error of the best (as ``LassoCV``'s ``alpha_1se_``).

    Each (l1_ratio, fold) job fits the Cs as one warm-started path; jobs run in
    ``n_jobs`` threads. The fitted attributes follow scikit-learn's new layout
    (``use_legacy_attributes=False`` there).

    Parameters
    ----------
    Cs : int or array-like, default=10
    l1_ratios : array-like, default=(0.0,)
        The mixes tried (0: L2, 1: L1).
    fit_intercept : bool, default=True
    cv : int, cross-validation generator or iterable, default=None
        As in scikit-learn (None: StratifiedKFold(5)).
    scoring : str, callable or None, default=None
        As in scikit-learn (None: accuracy).
    tol : float, default=1e-4
        Every fit stops at duality gap <= tol x the loss of the model without
        features (see :class:`LogisticRegression`).
    max_iter : int, default=100
        Prox-Newton iterations per fit.
    class_weight : dict, "balanced" or None, default=None
        As in :class:`LogisticRegression` ("balanced" computed once on all of y).
    n_jobs : int or None, default=None
        Threads over the (l1_ratio, fold) jobs; None means 1, -1 all cores.
    refit : bool, default=True
    C_rule : {"best", "1se"}, default="best"
        Which C becomes ``C_`` and is refitted.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    coef_ : ndarray of shape (1, n_features) or (n_classes, n_features)
    intercept_ : ndarray of shape (1,) or (n_classes,)
    Cs_ : ndarray of shape (n_cs,)
        In the order given.
    l1_ratios_ : ndarray of shape (n_l1_ratios,)
    coefs_paths_ : ndarray of shape (n_folds, n_l1_ratios, n_cs, K, n_dof)
        K = 1 for two classes; n_dof = n_features + fit_intercept (the intercept last).
    scores_ : ndarray of shape (n_folds, n_l1_ratios, n_cs)
    n_iter_ : ndarray of shape (n_folds, n_l1_ratios, n_cs)
    C_ : float
        The chosen C (``C_best_`` or ``C_1se_``; with ``refit=False`` the mean of the
        folds' best).
    C_best_, C_1se_ : float
    scores_se_ : ndarray of shape (n_l1_ratios, n_cs)
        Standard errors of the mean scores.
    l1_ratio_ : float
    dual_gap_ : float
        Duality gap of the refit (NaN with ``refit=False``).
    n_features_in_ : int
        Number of features seen during ``fit``.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of the features seen during ``fit``, when ``X`` has string column
        names (a pandas DataFrame).

    See Also
    --------
    LogisticRegression : One fit at a given C.

    Examples
    --------
    >>> from sklearn.datasets import load_breast_cancer
    >>> from sklearn.preprocessing import StandardScaler
    >>> from fastlasso import LogisticRegressionCV
    >>> X, y = load_breast_cancer(return_X_y=True)
    >>> X = StandardScaler().fit_transform(X)
    >>> cv = LogisticRegressionCV(Cs=10, l1_ratios=[1.0], scoring="neg_log_loss",
    ...                           C_rule="1se").fit(X, y)
    >>> cv.scores_.shape  # (folds, l1_ratios, Cs)
    (5, 1, 10)
    >>> bool(cv.C_1se_ <= cv.C_best_)
    True
    """

    _parameter_constraints: dict = {
        "Cs": [Interval(Integral, 1, None, closed="left"), "array-like"],
        "l1_ratios": ["array-like"],
        "fit_intercept": ["boolean"],
        "cv": ["cv_object"],
        "scoring": [str, callable, None],
        "tol": [Interval(Real, 0, None, closed="left")],
        "max_iter": [Interval(Integral, 0, None, closed="left")],
        "class_weight": [dict, StrOptions({"balanced"}), None],
        "n_jobs": [Integral, None],
        "refit": ["boolean"],
        "C_rule": [StrOptions({"best", "1se"})],
    }

    def __init__(self, *, Cs=10, l1_ratios=(0.0,), fit_intercept=True, cv=None,
                 scoring=None, tol=1e-4, max_iter=100, class_weight=None, n_jobs=None,
                 refit=True, C_rule="best"):
        self.Cs = Cs
        self.l1_ratios = l1_ratios
        self.fit_intercept = fit_intercept
        self.cv = cv
        self.scoring = scoring
        self.tol = tol
        self.max_iter = max_iter
        self.class_weight = class_weight
        self.n_jobs = n_jobs
        self.refit = refit
        self.C_rule = C_rule

    # as scikit-learn's: score takes sample_weight directly, not through routing
    __metadata_request__score = {"sample_weight": metadata_routing.UNUSED}

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None, **params):
        """Fit the model, choosing C (and l1_ratio) by cross-validation.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the fits and of the held-out scores.
        **params : dict
            Routed to the CV splitter (e.g. ``groups``) and the scorer when metadata
            routing is enabled, as in scikit-learn.

        Returns
        -------
        self : object
        """
        _raise_for_params(params, self, "fit")
        Cs = (np.logspace(-4, 4, self.Cs) if isinstance(self.Cs, Integral)
              else np.asarray(self.Cs, dtype=np.float64).ravel())
        if Cs.size == 0 or not (np.isfinite(Cs) & (Cs > 0)).all():
            raise ValueError(f"Cs must be positive and finite, got {self.Cs!r}.")
        l1_ratios = np.asarray(self.l1_ratios, dtype=np.float64).ravel()
        if l1_ratios.size == 0 or not ((l1_ratios >= 0) & (l1_ratios <= 1)).all():
            raise ValueError(
                f"l1_ratios must be numbers between 0 and 1, got {self.l1_ratios!r}.")
        X, y, classes, y_idx = _validate(self, X, y)
        if len(classes) < 2:
            raise _one_class_error(classes)
        X = as_design_matrix(X)  # CSC or Fortran once, not per fold
        n, p = X.shape
        class_weight = self.class_weight
        if isinstance(class_weight, dict) and not set(class_weight) <= set(classes):
            raise ValueError(
                "The given class_weight dict must have the class labels as keys; "
                f"classes={classes} but key={class_weight.keys()}")
        s = _weights(sample_weight, class_weight, classes, y, y_idx, n)
        if _routing_enabled():
            routed = process_routing(self, "fit", sample_weight=sample_weight, **params)
            split_params, score_params = routed.splitter.split, routed.scorer.score
        else:
            split_params = {}
            score_params = {} if sample_weight is None else {
                "sample_weight": _check_sample_weight(
                    sample_weight, np.empty((n, 0)), dtype=np.float64)}
        folds = list(check_cv(self.cv, y, classifier=True).split(X, y, **split_params))
        order = np.argsort(Cs, kind="stable")
        Cs_sorted = Cs[order]
        K = 1 if len(classes) == 2 else len(classes)
        scorer = labelled_scorer(self.scoring, classes)
        n_features_in = self.n_features_in_

        def make_model(coef, intercept):
            model = LogisticRegression()
            model.classes_ = classes
            model.coef_ = coef
            model.intercept_ = intercept
            model.n_features_in_ = n_features_in
            return model

        solve_params = {"tol": self.tol, "max_iter": self.max_iter, "warn": False}
        results = cross_validate_logistic(
            X, y, y_idx, classes, s, folds, self.fit_intercept, Cs_sorted, l1_ratios,
            scorer, make_model, solve_params, n_threads_for(self.n_jobs),
            score_params=score_params)
        coefs, intercepts, n_iter, scores = results
        i, a_best, a_1se, se = select_C(scores)
        a = a_best if self.C_rule == "best" else a_1se
        unsort = np.argsort(order, kind="stable")  # sorted position of each given C
        n_folds = len(folds)
        self.classes_ = classes
        self.Cs_ = Cs
        self.l1_ratios_ = l1_ratios
        paths = coefs[:, :, unsort]  # (n_folds, n_l1, n_cs, K, p) in the given order
        if self.fit_intercept:
            paths = np.concatenate(
                [paths, intercepts[:, :, unsort, :, None].astype(paths.dtype)], axis=-1)
        self.coefs_paths_ = paths
        self.scores_ = scores[:, :, unsort]
        self.n_iter_ = _iterations(n_iter[:, :, unsort], self.max_iter)
        self.scores_se_ = se[:, unsort]
        self.C_best_ = float(Cs_sorted[a_best])
        self.C_1se_ = float(Cs_sorted[a_1se])
        design = None
        if self.refit:
            self.C_ = float(Cs_sorted[a])
            self.l1_ratio_ = float(l1_ratios[i])
            coef_init = coefs[:, i, a].mean(axis=0)
            b_init = intercepts[:, i, a]
            b_init = b_init.mean(axis=0) if np.isfinite(b_init).all() else None
            design = make_design(X, s, self.fit_intercept,
                                 estimator_name=type(self).__name__)
            sol = solve_logistic(
                design, y_idx, len(classes), self.C_, self.l1_ratio_,
                weight_sum=None if s is None else float(s.sum()), coef_init=coef_init,
                intercept_init=b_init if self.fit_intercept else None, tol=self.tol,
                max_iter=self.max_iter, n_threads=n_threads_for(self.n_jobs))
            self.coef_ = sol.coef
            self.intercept_ = sol.intercept.astype(X.dtype)
            self.dual_gap_ = float(sol.gap)
        else:
            best = [np.unravel_index(np.argmax(scores[k]), scores[k].shape)
                    for k in range(n_folds)]
            self.coef_ = np.mean([coefs[k, bi, bc] for k, (bi, bc) in enumerate(best)],
                                 axis=0).astype(X.dtype)
            self.intercept_ = np.mean([intercepts[k, bi, bc]
                                       for k, (bi, bc) in enumerate(best)],
                                      axis=0).astype(X.dtype)
            self.C_ = float(np.mean([Cs_sorted[bc] for _, bc in best]))
            self.l1_ratio_ = float(np.mean([l1_ratios[bi] for bi, _ in best]))
            self.dual_gap_ = np.nan
        self.coef_ = self.coef_.reshape(K, p)
        return self

    def score(self, X, y, sample_weight=None, **score_params):
        """The ``scoring`` score (accuracy if None) of the model on (X, y).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        sample_weight : array-like of shape (n_samples,), default=None
        **score_params : dict
            Routed to the scorer when metadata routing is enabled.

        Returns
        -------
        score : float
        """
        _raise_for_params(score_params, self, "score")
        if sample_weight is not None:
            score_params["sample_weight"] = sample_weight
        if _routing_enabled():
            score_params = process_routing(self, "score", **score_params).scorer.score
        elif "sample_weight" in score_params:
            score_params = {"sample_weight": score_params["sample_weight"]}
        return labelled_scorer(self.scoring, self.classes_)(self, X, y, **score_params)

    def _get_scorer(self):
        return get_scorer("accuracy" if self.scoring is None else self.scoring)

    def get_metadata_routing(self):
        """Route split parameters (``groups``) to the CV splitter and score parameters
        to the scorer, as scikit-learn's LogisticRegressionCV does."""
        return (
            MetadataRouter(owner=self)
            .add_self_request(self)
            .add(splitter=self.cv,
                 method_mapping=MethodMapping().add(caller="fit", callee="split"))
            .add(scorer=self._get_scorer(),
                 method_mapping=MethodMapping().add(caller="score", callee="score")
                 .add(caller="fit", callee="score"))
        )


__all__ = ["LogisticRegression", "LogisticRegressionCV", "logistic_path"]
