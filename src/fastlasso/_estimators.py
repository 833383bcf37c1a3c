"""scikit-learn compatible Lasso and ElasticNet.

Thin, as the layers ask: ``fit`` validates (_data), builds the Design and centred
target, parses ``precompute`` into the Gram mode (_data.gram_mode_from_precompute),
solves each target (_solve.solve, which picks the kernel) and shapes the results into
scikit-learn's attributes. No estimator calls a kernel itself.
"""

import warnings
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from sklearn import get_config
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils import metadata_routing
from sklearn.utils.validation import check_is_fitted, validate_data

from fastlasso._compat import Interval, StrOptions
from fastlasso._data import (
    NON_FINITE,
    check_kernel_layout,
    check_structure,
    gram_mode_from_precompute,
    intercept_of,
    make_design,
    make_design_for_target,
    solver_reads_x,
    validate_fit_data,
)
from fastlasso._param_check import ValidateParamsOnce, fit_context
from fastlasso._path_functions import enet_path
from fastlasso._solve import SOLVERS, n_threads_for, solve, workspace_at_zero

_OBJECTIVE_DOC = """
    Minimises, for each target, ::

        P(w, b) = 1/(2 n) ||y - X w - b||^2 + alpha * l1_ratio * ||w||_1
                  + alpha * (1 - l1_ratio) / 2 * ||w||_2^2

    (squared residuals weighted by ``sample_weight`` rescaled to sum to n). With
    ``l1_ratio = 1`` this is the Lasso; in the textbook form
    ``MSE + lambda * sum_i |w_i|`` it is the same problem with ``lambda = 2 * alpha``.
"""

_LASSO_OBJECTIVE_DOC = """
    Minimises, for each target, ::

        P(w, b) = 1/(2 n) ||y - X w - b||^2 + alpha * ||w||_1

    (squared residuals weighted by ``sample_weight`` rescaled to sum to n). In the
    textbook form ``MSE + lambda * sum_i |w_i|`` it is the same problem with
    ``lambda = 2 * alpha``. The L1 penalty sets weights exactly to zero: the larger
    alpha, the fewer features are kept.
"""

_SOLVER_DOC = """
    The solver is coordinate descent with working sets, Gap Safe screening, Anderson
    acceleration and, for dense data, Gram-matrix updates; every fit is certified by its
    duality gap: it stops when ``dual_gap_ <= tol * ||y - mean(y)||^2 / n``. A converged
    fit is then finished exactly on its support where that is cheap (one small linear
    system, kept only if certified), so the same data give the same coefficients, to
    rounding, whatever their layout (dense C or Fortran order, CSC, CSR), dtype path or
    Gram mode.
"""

_ALPHA_DOC = """\
    alpha : float, default=1.0
        Penalty strength (``alpha >= 0``; 0 is least squares, advised against).
"""

_L1_RATIO_DOC = """\
    l1_ratio : float, default=0.5
        Mix of the penalties, ``0 <= l1_ratio <= 1`` (1: Lasso, 0: ridge).
"""

class ElasticNet(ValidateParamsOnce, RegressorMixin, BaseEstimator):
    """Linear regression with combined L1 and L2 penalties (drop-in for scikit-learn's).
    {objective}{solver}
    Parameters
    ----------
{alpha}{l1_ratio}{parameters}
    Attributes
    ----------
{attributes}
    See Also
    --------
    Lasso : The L1 penalty alone (``l1_ratio=1``).
    ElasticNetCV : Alpha and l1_ratio chosen by cross-validation.
    enet_path : The solutions along a decreasing grid of alphas.

    Examples
    --------
    >>> from sklearn.datasets import load_diabetes
    >>> from fastlasso import ElasticNet
    >>> X, y = load_diabetes(return_X_y=True)
    >>> model = ElasticNet(alpha=0.01, l1_ratio=0.5, tol=1e-10).fit(X, y)
    >>> model.coef_.round(1)
    array([  33.1,  -35.2,  211. ,  144.6,   21.9,    0. , -115.6,  100.7,
            185.3,   96.3])
    >>> bool(model.dual_gap_ <= 1e-10 * y.var())  # the certificate
    True
    """

    # check_input is an optimisation switch, not data a pipeline should route.
    __metadata_request__fit = {"check_input": metadata_routing.UNUSED}

    # as scikit-learn's Lasso and ElasticNet: ``Lasso.path(X, y, ...)`` is enet_path
    path = staticmethod(enet_path)

    _parameter_constraints: dict = {
        "alpha": [Interval(Real, 0, None, closed="left")],
        "l1_ratio": [Interval(Real, 0, 1, closed="both")],
        "fit_intercept": ["boolean"],
        "precompute": ["boolean", "array-like", StrOptions({"auto"})],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "copy_X": ["boolean"],
        "tol": [Interval(Real, 0, None, closed="left")],
        "warm_start": ["boolean"],
        "positive": ["boolean"],
        "random_state": ["random_state"],
        "selection": [StrOptions({"cyclic", "random"})],
        "solver": [StrOptions(set(SOLVERS))],
        "step_size": [Interval(Real, 0, None, closed="neither"), None],
        "step_schedule": [StrOptions({"polyak_diagonal", "polyak", "decaying",
                                       "constant"})],
        "threshold": [Interval(Real, 0, None, closed="left")],
        "n_jobs": [Integral, None],
        "record_history": ["boolean"],
    }

    def __init__(
        self,
        alpha=1.0,
        *,
        l1_ratio=0.5,
        fit_intercept=True,
        precompute="auto",
        max_iter=1000,
        copy_X=True,
        tol=1e-4,
        warm_start=False,
        positive=False,
        random_state=None,
        selection="cyclic",
        solver="cd",
        step_size=None,
        step_schedule="polyak_diagonal",
        threshold=0.0,
        n_jobs=None,
        record_history=False,
    ):
        self.alpha = alpha
        self.l1_ratio = l1_ratio
        self.fit_intercept = fit_intercept
        self.precompute = precompute
        self.max_iter = max_iter
        self.copy_X = copy_X
        self.tol = tol
        self.warm_start = warm_start
        self.positive = positive
        self.random_state = random_state
        self.selection = selection
        self.solver = solver
        self.step_size = step_size
        self.step_schedule = step_schedule
        self.threshold = threshold
        self.n_jobs = n_jobs
        self.record_history = record_history

    @fit_context
    def fit(self, X, y, sample_weight=None, check_input=True):
        """Fit the model.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data: dense (Fortran order is used in place) or any scipy.sparse
            format (CSC with sorted, unique indices is used in place).
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
        sample_weight : float or array-like of shape (n_samples,), default=None
            Non-negative weights, rescaled internally to sum to n_samples.
        check_input : bool, default=True
            False promises, as in scikit-learn, X in the layout its solver reads: a
            float64/float32 array or a CSC matrix, the array Fortran-contiguous where
            scikit-learn's solver reads it directly (no sample_weight, and
            precompute False or "auto", scikit-learn's default False); else a
            ValueError, as scikit-learn raises. The values, shapes and sparse structure
            are validated either way, since the kernels run without bounds checks.

        Returns
        -------
        self : object
        """
        if self.alpha == 0:
            warnings.warn(
                "With alpha=0, this algorithm does not converge well. You are advised "
                "to use the LinearRegression estimator",
                stacklevel=2,
            )
        if not check_input:
            check_kernel_layout(
                X, reads_x=sample_weight is None and solver_reads_x(self.precompute))
        X, y = validate_fit_data(self, X, y)
        Y = y[:, None] if y.ndim == 1 else y
        n_targets = Y.shape[1]
        name = type(self).__name__
        coef_init = None
        if self.warm_start and hasattr(self, "coef_"):
            coef_init = np.atleast_2d(self.coef_)
            if coef_init.shape != (n_targets, X.shape[1]):
                coef_init = None
        xty = None
        # sparse X: a CD solve from w = 0 takes its first gradient from the statistics
        if n_targets == 1:
            design, yc, y_mean, xty = make_design_for_target(
                X, Y[:, 0], sample_weight, self.fit_intercept, estimator_name=name,
                first_gradient=coef_init is None and self.solver == "cd",
            )
        else:
            design = make_design(
                X, sample_weight, self.fit_intercept, estimator_name=name
            )
        gram_mode, gram_matrix = gram_mode_from_precompute(self.precompute, design)
        coef = np.zeros((n_targets, design.n_features), dtype=X.dtype)
        intercept = np.zeros(n_targets, dtype=X.dtype)
        gaps = np.zeros(n_targets, dtype=X.dtype)
        n_iter, history, n_thresholded = [], [], []
        workspace = workspace_at_zero(design, xty)
        for k in range(n_targets):
            if n_targets > 1:
                yc, y_mean = design.center(Y[:, k])
            sol = solve(
                design,
                yc,
                self.alpha,
                self._l1_ratio(),
                solver=self.solver,
                coef_init=None if coef_init is None else coef_init[k],
                tol=self.tol,
                max_iter=self.max_iter,
                positive=self.positive,
                selection=self.selection,
                random_state=self.random_state,
                gram_mode=gram_mode,
                gram_matrix=gram_matrix,
                n_threads=n_threads_for(self.n_jobs),
                record_history=self.record_history,
                step_size=self.step_size,
                step_schedule=self.step_schedule,
                threshold=self.threshold,
                workspace=workspace,
            )
            coef[k] = sol.coef
            intercept[k] = intercept_of(y_mean, design.mu, sol.coef)
            gaps[k] = sol.gap
            n_iter.append(sol.n_iter)
            n_thresholded.append(int(sol.info.get("n_thresholded", 0)))
            history.append(sol.history)
        if not (np.isfinite(coef).all() and np.isfinite(intercept).all()):
            raise ValueError(
                f"{NON_FINITE}. The input data may contain large values for this "
                "dtype; rescale X and y."
            )
        # scikit-learn's shapes: one target (y of shape (n,) or (n, 1)) gives 1-D
        # coef_ and scalar dual_gap_ / n_iter_; intercept_ follows y's shape (a
        # scalar of X's dtype for 1-D y) and is the float 0.0 without intercept.
        single = n_targets == 1
        self.coef_ = coef[0] if single else coef
        if not self.fit_intercept:
            self.intercept_ = 0.0
        else:
            self.intercept_ = intercept[0] if y.ndim == 1 else intercept
        self.dual_gap_ = gaps[0] if single else gaps
        self.n_iter_ = n_iter[0] if single else n_iter
        self.n_thresholded_ = n_thresholded[0] if single else n_thresholded
        if self.record_history:
            self.objective_history_ = history[0] if single else history
        return self

    def _l1_ratio(self):
        return self.l1_ratio

    @property
    def sparse_coef_(self):
        """Sparse representation of ``coef_`` (CSR, one row per target): a csr_array
        under scikit-learn's ``sparse_interface="sparray"`` config, else a
        csr_matrix."""
        coef = np.atleast_2d(self.coef_)
        if get_config().get("sparse_interface") == "sparray":
            return sp.csr_array(coef)
        return sp.csr_matrix(coef)

    def predict(self, X):
        """Predict with the linear model: ``X @ coef_.T + intercept_``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_targets)
        """
        check_is_fitted(self)
        X = validate_data(
            self, check_structure(X), accept_sparse=True, accept_large_sparse=True,
            reset=False, dtype=[np.float64, np.float32],
        )
        return X @ self.coef_.T + self.intercept_

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.target_tags.multi_output = True
        tags.target_tags.single_output = True
        return tags


class Lasso(ElasticNet):
    """Linear regression with an L1 penalty (drop-in for scikit-learn's ``Lasso``).
    {objective}{solver}
    Parameters
    ----------
{alpha}{parameters}
    Attributes
    ----------
{attributes}
    See Also
    --------
    LassoCV : Alpha chosen by cross-validation (minimum or one-standard-error rule).
    lasso_path : The solutions along a decreasing grid of alphas.
    ElasticNet : L1 and L2 penalties combined.

    Examples
    --------
    >>> from sklearn.datasets import load_diabetes
    >>> from fastlasso import Lasso
    >>> X, y = load_diabetes(return_X_y=True, as_frame=True)
    >>> model = Lasso(alpha=0.1).fit(X, y)
    >>> list(model.feature_names_in_[model.coef_ != 0])  # selected
    ['sex', 'bmi', 'bp', 's1', 's3', 's5', 's6']
    >>> bool(model.dual_gap_ <= model.tol * y.var())  # the certificate
    True
    >>> round(model.score(X, y), 2)  # R^2 on the training data
    0.51
    """

    _parameter_constraints: dict = {
        k: v for k, v in ElasticNet._parameter_constraints.items() if k != "l1_ratio"
    }

    def __init__(
        self,
        alpha=1.0,
        *,
        fit_intercept=True,
        precompute="auto",
        max_iter=1000,
        copy_X=True,
        tol=1e-4,
        warm_start=False,
        positive=False,
        random_state=None,
        selection="cyclic",
        solver="cd",
        step_size=None,
        step_schedule="polyak_diagonal",
        threshold=0.0,
        n_jobs=None,
        record_history=False,
    ):
        self.alpha = alpha
        self.fit_intercept = fit_intercept
        self.precompute = precompute
        self.max_iter = max_iter
        self.copy_X = copy_X
        self.tol = tol
        self.warm_start = warm_start
        self.positive = positive
        self.random_state = random_state
        self.selection = selection
        self.solver = solver
        self.step_size = step_size
        self.step_schedule = step_schedule
        self.threshold = threshold
        self.n_jobs = n_jobs
        self.record_history = record_history

    def _l1_ratio(self):
        return 1.0


_PARAMETERS_DOC = """    fit_intercept : bool, default=True
        Fit an unpenalised intercept. Data are centred implicitly: X is never copied
        or densified for it.
    precompute : "auto", bool or array of shape (n_features, n_features), default="auto"
        Use of the Gram matrix X^T X (dense X only). "auto" lets fastlasso choose (full
        Gram for n >> p, Gram blocks of the working sets otherwise), True forces the
        full Gram, False disables Gram updates; an array is used as the Gram matrix
        X^T S X of the weighted data when X needs no centring (fit_intercept=False, or
        column means ~0), and is checked against X's column norms; with
        fit_intercept=True and uncentred X it is ignored with scikit-learn's
        UserWarning ("recomputing Gram matrix") and "auto" applies.
    max_iter : int, default=1000
        Maximum number of epochs (passes over the working set). A budget of at most 10
        epochs runs scikit-learn's plain cyclic sweeps over all features instead, so
        that warm-started fits of a few epochs each continue one trajectory (two fits
        of ``max_iter=5`` give one of ``max_iter=10``).
    copy_X : bool, default=True
        Accepted for compatibility; X is never modified whatever its value.
    tol : float, default=1e-4
        Stop when the duality gap is <= ``tol * ||y - mean(y)||^2 / n``.
    warm_start : bool, default=False
        Start from the previous ``coef_``.
    positive : bool, default=False
        Constrain the coefficients to be >= 0.
    random_state : int, RandomState instance or None, default=None
        Seed of the coordinate shuffling when ``selection="random"``.
    selection : {"cyclic", "random"}, default="cyclic"
        Visit coordinates in order, or in a fresh random order every epoch.
    solver : SOLVERS_PLACEHOLDER, default="cd"
        "cd": coordinate descent (fastest). The others are first-order methods on the
        full gradient, kept for comparison: "fista" (accelerated proximal gradient with
        restart, step 1/L), "ista" (proximal gradient, step 1/L) and "subgradient"
        (the textbook ``w <- w - eta (grad MSE-part + alpha sign(w))``, sign(0) = 0,
        which leaves tiny nonzero weights instead of exact zeros). L is the largest
        eigenvalue of X^T X / n (centred, weighted), estimated by power iteration.
        Every solver stops on the same duality-gap criterion.
    step_size : float or None, default=None
        Subgradient solver with ``step_schedule="decaying"`` or ``"constant"`` only:
        initial step eta_0 (in the units of P); None uses
        ``1 / (L + alpha * (1 - l1_ratio))``.
    step_schedule : {"polyak_diagonal", "polyak", "decaying", "constant"}
        Default "polyak_diagonal". Subgradient solver only: Polyak's step
        ``(P(w_k) - P_lev) / ||g_k||^2`` (g_k the subgradient) with a target level
        P_lev between the best dual objective of the certificate and the best
        objective reached, lowered when the iterates stop approaching it, by default
        in a diagonal metric D_k (``w <- w - eta_k D_k g_k``,
        ``eta_k = (P(w_k) - P_lev) / g_k^T D_k g_k``) whose entries halve when their
        coordinate of g_k changes sign and grow by 1.2 while it keeps it
        ("polyak_diagonal"), or in the Euclidean one ("polyak"); or
        ``eta_0 / sqrt(k + 1)`` at iteration k; or ``eta_0`` throughout. The best
        iterate by objective is returned.
    threshold : float, default=0.0
        Subgradient solver only: weights with ``|w_j| < threshold`` in the returned
        iterate are set to 0 (``n_thresholded_`` says how many); the duality gap is
        that of the thresholded weights.
    n_jobs : int or None, default=None
        Threads for the full-gradient sweeps (X^T r and the duality gap); None means 1,
        -1 all cores.
    record_history : bool, default=False
        Store ``objective_history_``.
"""
_ATTRIBUTES_DOC = """\
    coef_ : ndarray of shape (n_features,) or (n_targets, n_features)
        The weights ``w`` (one row per target for 2-D ``y``).
    sparse_coef_ : sparse matrix of shape (1, n_features) or (n_targets, n_features)
        ``coef_`` as a CSR matrix (read-only property).
    intercept_ : float or ndarray of shape (n_targets,)
        The intercept ``b``; 0.0 when ``fit_intercept=False``.
    dual_gap_ : float or ndarray of shape (n_targets,)
        Duality gap of the returned solution, in the units of P: an upper bound on
        ``P(coef_) - min P``.
    n_iter_ : int or list of int
        Iterations run: epochs (passes over the working set) for "cd", full-gradient
        iterations (each one pass over X) for the other solvers.
    n_thresholded_ : int or list of int
        Weights zeroed by ``threshold`` (always 0 except for the subgradient solver).
    objective_history_ : ndarray of shape (n_records, 3) or list of them
        Rows (epoch, P, duality gap or NaN for a restricted-problem check); for the
        full-gradient solvers one row per iteration (iteration, P, gap or NaN between
        gap checks), the subgradient solver adding a last row for the returned
        (best, thresholded) iterate. Only with ``record_history=True``.
    n_features_in_ : int
        Number of features seen during ``fit``.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of the features seen during ``fit``, when ``X`` has string column
        names (a pandas DataFrame).
"""


def _fill_docstring(cls, objective, l1_ratio):
    solvers = "{" + ", ".join(f'"{s}"' for s in SOLVERS) + "}"
    cls.__doc__ = cls.__doc__.format(
        objective=objective,
        solver=_SOLVER_DOC,
        alpha=_ALPHA_DOC,
        l1_ratio=l1_ratio,
        parameters=_PARAMETERS_DOC.replace("SOLVERS_PLACEHOLDER", solvers),
        attributes=_ATTRIBUTES_DOC,
    )


_fill_docstring(ElasticNet, _OBJECTIVE_DOC, _L1_RATIO_DOC)
_fill_docstring(Lasso, _LASSO_OBJECTIVE_DOC, "")
