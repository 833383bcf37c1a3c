"""Lasso and ElasticNet on dask arrays: statistics on the workers, the solve on the
client.

Two regimes (fastlasso._statsolve):

- "gram" (n >> p, p <= GRAM_MAX_FEATURES): one pass gives the means and the centred Gram
  matrix; the whole solve runs on it; a second pass certifies the duality gap on the
  data (and, should the Gram solution miss the tolerance on the data, iterations
  anchored at the data's gradients follow, one pass each);
- "working set" (wide or sparse data): one pass gives the means and the first gradient;
  each outer iteration fetches the Gram block of the new working-set features (a pass),
  solves the restricted problem on the client and evaluates the gradient and the gap on
  the data (a pass): the passes grow with the working-set iterations, not the epochs.
"""

import warnings
from numbers import Integral, Real

import dask.array as da
import numpy as np
import scipy.sparse as sp
from sklearn import get_config
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils.validation import check_is_fitted

from fastlasso._compat import Interval, StrOptions, _fit_context
from fastlasso._data import intercept_of
from fastlasso._statsolve import (
    FullGram,
    GramModelSolver,
    GramStore,
    PassState,
    problem_from_moments,
    residual_states,
    solve_certified,
    user_stacklevel,
)
from fastlasso.dask._passes import DaskData

GRAM_MAX_FEATURES = 4096


def choose_regime(n, p, precompute):
    """"gram" or "ws" (module docstring) from the shape and ``precompute``: True forces
    the Gram regime, False the working sets; "auto" takes the Gram regime for n >= 4 p
    and p <= GRAM_MAX_FEATURES."""
    if isinstance(precompute, (bool, np.bool_)):
        if precompute and p > 4 * GRAM_MAX_FEATURES:
            raise ValueError(
                f"precompute=True asks for a {p} x {p} Gram matrix on the client; use "
                "precompute='auto' or False (working sets) for so many features.")
        return "gram" if precompute else "ws"
    if isinstance(precompute, str) and precompute == "auto":
        return "gram" if (p <= GRAM_MAX_FEATURES and n >= 4 * p) else "ws"
    raise ValueError(
        "precompute must be 'auto' or a bool for fastlasso.dask (a Gram matrix is "
        f"computed from the data), got {type(precompute).__name__}.")


def start_state(problem, data, regime, coef_init):
    """PassState at the warm start (zeros if None): from the statistics at w = 0, else
    (working sets) from a pass; in the Gram regime only w is needed."""
    p = problem.n_features
    w = np.zeros(p)
    if coef_init is not None:
        w = np.asarray(coef_init, dtype=np.float64).ravel().copy()
        if w.shape != (p,):
            raise ValueError(f"coef_init has shape {w.shape}, expected ({p},).")
        w[problem.norm2 == 0] = 0.0
    w = w.astype(problem.dtype)
    if regime == "gram" or not np.any(w):
        return PassState(w, problem.xty.copy(), problem.yy, problem.yy)
    return residual_states(problem, data, w)[0]


def gram_store(problem, regime):
    """Where a fit's Gram blocks come from: the whole Gram matrix (regime A) or a
    GramStore of working-set blocks fetched from the data, centred by the means."""
    if regime == "gram":
        return FullGram(problem)
    return GramStore([problem], [[0]], problem.mu)


def fit_one(data, problem, regime, alpha, l1_ratio, coef_init, params):
    """Certified solve of one alpha (warns if the gap misses tol); returns the Fit."""
    state = start_state(problem, data, regime, coef_init)
    first = None
    if regime == "gram":
        first = GramModelSolver(problem.G, problem.xty, problem.yy, problem.norm2,
                                problem.n_rows, problem.dtype)
    return solve_certified(problem, data, gram_store(problem, regime), alpha,
                           l1_ratio, state, full_first=first, **params)


class _DaskEstimatorMixin:
    """client handling, pickling without the client, lazy predict, to_local."""

    def __getstate__(self):
        state = super().__getstate__()
        state = dict(state)
        if "client" in state:
            state["client"] = None
        return state

    def _set_input_attrs(self, data):
        self.n_features_in_ = data.n_features
        if data.feature_names is not None:
            self.feature_names_in_ = data.feature_names
        elif hasattr(self, "feature_names_in_"):
            del self.feature_names_in_

    @property
    def sparse_coef_(self):
        """``coef_`` as a sparse (1, n_features) CSR matrix."""
        coef = np.atleast_2d(self.coef_)
        if get_config().get("sparse_interface") == "sparray":
            return sp.csr_array(coef)
        return sp.csr_matrix(coef)

    def predict(self, X):
        """``X @ coef_ + intercept_``: a lazy dask array for dask input (DataFrame or
        array, numpy or scipy.sparse chunks), an ndarray for in-memory input."""
        check_is_fitted(self)
        coef = np.asarray(self.coef_)
        intercept = self.intercept_
        if hasattr(X, "to_dask_array"):
            X = X.to_dask_array()
        if isinstance(X, da.Array):
            if X.ndim != 2 or X.shape[1] != coef.shape[0]:
                raise ValueError(
                    f"X has {X.shape[-1]} features, but {type(self).__name__} is "
                    f"expecting {coef.shape[0]} features as input.")
            if len(X.chunks[1]) > 1:
                X = X.rechunk({1: -1})
            out_dtype = np.result_type(X.dtype, coef.dtype)
            return X.map_blocks(_predict_block, coef, intercept, drop_axis=1,
                                dtype=out_dtype, meta=np.empty(0, dtype=out_dtype))
        return self.to_local().predict(X)

    def score(self, X, y, sample_weight=None):
        """Coefficient of determination R^2 of ``predict(X)`` (computed on the
        cluster)."""
        pred = self.predict(X)
        if hasattr(y, "to_dask_array"):
            y = y.to_dask_array(lengths=list(pred.chunks[0])) if isinstance(
                pred, da.Array) else y.compute()
        if isinstance(pred, da.Array):
            y = da.asarray(y)
            if y.ndim == 2:
                y = y[:, 0]
            y = y.rechunk((pred.chunks[0],))
            s = da.ones_like(pred, dtype=np.float64) if sample_weight is None else \
                da.asarray(sample_weight).rechunk((pred.chunks[0],))
            sw, sy, syy, sres = da.compute(
                s.sum(), (s * y).sum(), (s * y * y).sum(), (s * (y - pred) ** 2).sum(),
                scheduler=self._scheduler())
            den = syy - sy * sy / sw
            return float(1.0 - sres / den) if den > 0 else (1.0 if sres == 0 else 0.0)
        return self.to_local().score(X, y, sample_weight)

    def _scheduler(self):
        from fastlasso.dask._passes import resolve_client

        return resolve_client(self.client)

    def to_local(self):
        """The fitted model as the in-memory fastlasso estimator (no client)."""
        check_is_fitted(self)
        local = self._local_class()(**{k: v for k, v in self.get_params().items()
                                        if k in self._local_params()})
        for name, value in vars(self).items():
            if name.endswith("_") and not name.startswith("_") and name != "n_passes_":
                setattr(local, name, value)
        return local

    def _local_params(self):
        return set(self._local_class()._get_param_names())


def _predict_block(X, coef, intercept):
    return np.asarray(X @ coef).ravel() + intercept


class ElasticNet(_DaskEstimatorMixin, RegressorMixin, BaseEstimator):
    """Elastic Net on a Dask cluster, certified by a duality gap from a pass over the
    data.

    Minimises, as :class:`fastlasso.ElasticNet` and scikit-learn, ::

        P(w, b) = 1/(2 n) ||y - X w - b||^2 + alpha * l1_ratio * ||w||_1
                  + alpha * (1 - l1_ratio) / 2 * ||w||_2^2

    (squared residuals weighted by ``sample_weight`` rescaled to sum to n), with X a
    dask array (numpy or scipy.sparse chunks, float32 or float64) or dask DataFrame, y a
    dask array or Series chunked like X's rows (rechunked if not). Workers compute
    statistics of their chunks; the client solves with the in-memory coordinate descent
    kernels, then one pass over the data computes the duality gap: the fit stops when
    ``dual_gap_ <= tol * ||y - mean(y)||^2 / n`` or warns (ConvergenceWarning).

    For n >> p (n >= 4 p, p <= 4096) the first pass gives the whole centred Gram matrix
    and the fit takes two passes; otherwise working sets take one or two passes per
    outer iteration. ``fit`` is eager; ``predict`` is lazy.

    Parameters
    ----------
    alpha, l1_ratio, fit_intercept, max_iter, copy_X, tol, warm_start, positive :
        As in :class:`fastlasso.ElasticNet`.
    random_state, selection :
        As in :class:`fastlasso.ElasticNet`.
    precompute : "auto" or bool, default="auto"
        True: statistics with the full Gram matrix (one pass, p^2 floats per chunk);
        False: working sets; "auto" chooses.
    client : distributed.Client or None, default=None
        None uses the default client (``distributed.default_client()``), unless dask's
        configuration names another scheduler (``dask.config.set(scheduler=...)``),
        or, without a client, dask's current scheduler. Not pickled.
    persist : bool or "auto", default="auto"
        Keep X, y and the weights in the workers' memory for the fit (computed once,
        by the first pass, released after): the later passes (the certificate,
        working-set iterations) then read memory instead of recomputing X's graph
        (reading files, generating chunks). "auto": on a distributed client, for
        data taking at most a quarter of the workers' free memory; of larger
        data, the leading row chunks that fit in that quarter are kept and the
        others stream through the workers on every pass (sparse chunks are sized
        by the first one, made ahead of the others). Data persisted beforehand
        (``X = X.persist()``) need nothing more.

    Attributes
    ----------
    coef_, intercept_, dual_gap_, n_iter_, sparse_coef_, n_features_in_ :
        As in :class:`fastlasso.ElasticNet` (``dual_gap_`` from a pass over the data).
    feature_names_in_ :
        As in :class:`fastlasso.ElasticNet`.
    n_passes_ : int
        Passes over the data the fit made.

    See Also
    --------
    fastlasso.ElasticNet : The same model on data in memory.
    ElasticNetCV : Alpha and l1_ratio chosen by cross-validation on dask data.

    Examples
    --------
    >>> import dask.array as da
    >>> from sklearn.datasets import load_diabetes
    >>> import fastlasso.dask as fld
    >>> X, y = load_diabetes(return_X_y=True)
    >>> dX = da.from_array(X, chunks=(100, 10))  # 5 chunks of rows
    >>> dy = da.from_array(y, chunks=100)
    >>> model = fld.ElasticNet(alpha=0.01, l1_ratio=0.5, tol=1e-10).fit(dX, dy)
    >>> model.coef_.round(1)  # as fastlasso.ElasticNet on X, y
    array([  33.1,  -35.2,  211. ,  144.6,   21.9,    0. , -115.6,  100.7,
            185.3,   96.3])
    >>> model.n_passes_  # statistics, then the certificate
    2
    """

    _parameter_constraints: dict = {
        "alpha": [Interval(Real, 0, None, closed="left")],
        "l1_ratio": [Interval(Real, 0, 1, closed="both")],
        "fit_intercept": ["boolean"],
        "precompute": ["boolean", StrOptions({"auto"})],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "copy_X": ["boolean"],
        "tol": [Interval(Real, 0, None, closed="left")],
        "warm_start": ["boolean"],
        "positive": ["boolean"],
        "random_state": ["random_state"],
        "selection": [StrOptions({"cyclic", "random"})],
        "client": "no_validation",
        "persist": ["boolean", StrOptions({"auto"})],
    }

    def __init__(self, alpha=1.0, *, l1_ratio=0.5, fit_intercept=True,
                 precompute="auto", max_iter=1000, copy_X=True, tol=1e-4,
                 warm_start=False, positive=False, random_state=None,
                 selection="cyclic", client=None, persist="auto"):
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
        self.client = client
        self.persist = persist

    def _l1_ratio(self):
        return self.l1_ratio

    @staticmethod
    def _local_class():
        from fastlasso._estimators import ElasticNet as Local

        return Local

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit on dask data (eager: returns when the certified solution is known).

        Parameters
        ----------
        X : dask array or dask DataFrame of shape (n_samples, n_features)
        y : dask array or Series of shape (n_samples,)
        sample_weight : float or dask array of shape (n_samples,), default=None

        Returns
        -------
        self : object
        """
        if self.alpha == 0:
            warnings.warn(
                "With alpha=0, this algorithm does not converge well. You are advised "
                "to use the LinearRegression estimator", stacklevel=user_stacklevel())
        with DaskData(X, y, sample_weight, self.client, self.persist) as data:
            regime = choose_regime(data.n_samples, data.n_features, self.precompute)
            moments = data.moments(gram=regime == "gram")
            problem = problem_from_moments(moments, self.fit_intercept, data.dtype)
            coef_init = None
            if (self.warm_start and getattr(self, "coef_", None) is not None
                    and np.shape(self.coef_) == (data.n_features,)):
                coef_init = self.coef_
            params = dict(tol=self.tol, max_iter=self.max_iter, positive=self.positive,
                          selection=self.selection, random_state=self.random_state)
            fit = fit_one(data, problem, regime, self.alpha, self._l1_ratio(),
                          coef_init, params)
        self._set_input_attrs(data)
        dtype = problem.dtype.type
        self.coef_ = fit.coef
        self.intercept_ = (
            dtype(intercept_of(problem.y_mean, problem.mu, fit.coef))
            if self.fit_intercept else 0.0)
        self.dual_gap_ = dtype(fit.gap)
        self.n_iter_ = int(fit.n_iter)
        self.n_passes_ = data.count
        self.regime_ = regime
        return self

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags


class Lasso(ElasticNet):
    """Lasso on a Dask cluster (:class:`ElasticNet` with ``l1_ratio=1``):
    ``P(w, b) = 1/(2 n) ||y - X w - b||^2 + alpha ||w||_1``, certified by a duality gap
    from a pass over the data.

    Parameters
    ----------
    alpha, fit_intercept, max_iter, copy_X, tol, warm_start, positive, random_state :
        As in :class:`fastlasso.Lasso`.
    selection :
        As in :class:`fastlasso.Lasso`.
    precompute : "auto" or bool, default="auto"
        True: statistics with the full Gram matrix (one pass, p^2 floats per chunk);
        False: working sets; "auto" chooses.
    client : distributed.Client or None, default=None
        None uses the default client (``distributed.default_client()``), unless dask's
        configuration names another scheduler (``dask.config.set(scheduler=...)``),
        or, without a client, dask's current scheduler. Not pickled.
    persist : bool or "auto", default="auto"
        Keep X, y and the weights in the workers' memory for the fit (computed once,
        by the first pass, released after): the later passes (the certificate,
        working-set iterations) then read memory instead of recomputing X's graph
        (reading files, generating chunks). "auto": on a distributed client, for
        data taking at most a quarter of the workers' free memory; of larger
        data, the leading row chunks that fit in that quarter are kept and the
        others stream through the workers on every pass (sparse chunks are sized
        by the first one, made ahead of the others). Data persisted beforehand
        (``X = X.persist()``) need nothing more.

    Attributes
    ----------
    coef_, intercept_, dual_gap_, n_iter_, sparse_coef_, n_features_in_ :
        As in :class:`fastlasso.Lasso` (``dual_gap_`` from a pass over the data).
    feature_names_in_ :
        As in :class:`fastlasso.Lasso` (``dual_gap_`` from a pass over the data).
    n_passes_ : int
        Passes over the data the fit made.

    See Also
    --------
    fastlasso.Lasso : The same model on data in memory.
    LassoCV : Alpha chosen by cross-validation on dask data.

    Examples
    --------
    >>> import dask.array as da
    >>> from sklearn.datasets import load_diabetes
    >>> import fastlasso.dask as fld
    >>> X, y = load_diabetes(return_X_y=True)
    >>> dX = da.from_array(X, chunks=(100, 10))  # 5 chunks of rows
    >>> dy = da.from_array(y, chunks=100)
    >>> model = fld.Lasso(alpha=0.1).fit(dX, dy)
    >>> int((model.coef_ != 0).sum()), model.n_passes_
    (7, 2)
    >>> bool(model.dual_gap_ <= model.tol * y.var())  # certified on the data
    True
    >>> model.predict(dX)[:3].compute().round()  # predict is lazy
    array([203.,  74., 175.])
    >>> type(model.to_local()).__name__  # the in-memory fastlasso.Lasso
    'Lasso'
    """

    _parameter_constraints: dict = {
        k: v for k, v in ElasticNet._parameter_constraints.items() if k != "l1_ratio"
    }

    def __init__(self, alpha=1.0, *, fit_intercept=True, precompute="auto",
                 max_iter=1000, copy_X=True, tol=1e-4, warm_start=False, positive=False,
                 random_state=None, selection="cyclic", client=None,
                 persist="auto"):
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
        self.client = client
        self.persist = persist

    def _l1_ratio(self):
        return 1.0

    @staticmethod
    def _local_class():
        from fastlasso._estimators import Lasso as Local

        return Local
