"""LassoCV and ElasticNetCV on dask data: K-fold paths from one pass of statistics.

Folds are contiguous (scikit-learn's KFold without shuffling), so a fold is a range of
rows; chunks that straddle a fold boundary are split. One pass computes the moments and
centred Gram matrix of every fold's rows (fastlasso._chunkstats); a fold's training
statistics are the merge of the other folds' (no subtraction, so no cancellation), its
path runs on the client in full-Gram mode (fastlasso._statsolve.gram_path) and its
held-out errors come from its own moments (held_out_mse): the data are not read again.
The model refitted at the chosen alpha is certified by one more pass. Totals: two passes
for any number of folds, alphas and l1_ratios (wide data, which would need working sets
per fold, are not supported yet).
"""

from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.model_selection import KFold

from fastlasso._cancel import map_threads
from fastlasso._chunkstats import merge_moments, tree_reduce
from fastlasso._compat import Interval, StrOptions, _fit_context
from fastlasso._cv import select_alpha, standard_errors
from fastlasso._data import intercept_of
from fastlasso._estimators_cv import l1_ratios_of
from fastlasso._statsolve import (
    GramBlocks,
    GramModelSolver,
    PassState,
    gram_path,
    held_out_mse,
    problem_from_moments,
    solve_certified,
)
from fastlasso.dask._estimators import _DaskEstimatorMixin, choose_regime
from fastlasso.dask._passes import DaskData
from fastlasso.dask._path import enet_path, lasso_path, resolve_grid


def n_folds(cv, n):
    """K of contiguous K-fold CV from ``cv`` (None: 5, an int, or KFold without
    shuffling), checked against n rows."""
    if cv is None:
        k = 5
    elif isinstance(cv, Integral) and not isinstance(cv, bool):
        k = int(cv)
    elif isinstance(cv, KFold) and not cv.shuffle:
        k = cv.n_splits
    else:
        raise ValueError(
            "fastlasso.dask cross-validates on contiguous folds: cv must be None, an "
            f"int or KFold(shuffle=False), got {cv!r}.")
    if k < 2:
        raise ValueError(
            f"k-fold cross-validation requires at least two folds, got {k}.")
    if k > n:
        raise ValueError(f"Cannot have number of splits n_splits={k} greater than the "
                         f"number of samples: n_samples={n}.")
    return k


def fold_bounds(n, k):
    """Row offsets of scikit-learn's KFold(k) test folds (the first n % k folds have one
    row more)."""
    sizes = np.full(k, n // k, dtype=np.int64)
    sizes[: n % k] += 1
    return np.concatenate([[0], np.cumsum(sizes)])


class ElasticNetCV(_DaskEstimatorMixin, RegressorMixin, BaseEstimator):
    """Elastic Net with alpha (and l1_ratio) chosen by K-fold cross-validation on a Dask
    cluster: the same grid, folds (contiguous KFold), errors and choice as
    :class:`fastlasso.ElasticNetCV` on the same data, including the one-standard-error
    rule (``alpha_rule="1se"``).

    For n >> p (n >= 4 p, p <= 4096): two passes over the data whatever the number of
    folds and alphas (module docstring); the refitted model's duality gap comes from the
    second pass.

    Parameters
    ----------
    l1_ratio, eps, alphas, fit_intercept, max_iter, tol, copy_X, verbose, positive :
        As in :class:`fastlasso.ElasticNetCV`.
    random_state, selection, alpha_rule :
        As in :class:`fastlasso.ElasticNetCV`.
    precompute : "auto" or True, default="auto"
    cv : int, KFold(shuffle=False) or None, default=None
        Number of contiguous folds (None: 5).
    n_jobs : int or None, default=None
        Client threads over the (l1_ratio, fold) paths.
    client : distributed.Client or None, default=None
        See :class:`fastlasso.dask.ElasticNet`.

    Attributes
    ----------
    alpha_, alpha_min_, alpha_1se_, l1_ratio_, alphas_, mse_path_, mse_se_ :
        As in :class:`fastlasso.ElasticNetCV`.
    n_nonzero_path_, coef_, intercept_, dual_gap_, n_iter_, n_features_in_ :
        As in :class:`fastlasso.ElasticNetCV`.
    feature_names_in_ :
        As in :class:`fastlasso.ElasticNetCV`.
    n_passes_ : int
        Passes over the data.

    See Also
    --------
    fastlasso.ElasticNetCV : The same cross-validation on data in memory.
    LassoCV : The case ``l1_ratio=1``.

    Examples
    --------
    >>> import dask.array as da
    >>> from sklearn.datasets import load_diabetes
    >>> import fastlasso.dask as fld
    >>> X, y = load_diabetes(return_X_y=True)
    >>> dX = da.from_array(X, chunks=(100, 10))  # 5 chunks of rows
    >>> dy = da.from_array(y, chunks=100)
    >>> model = fld.ElasticNetCV(l1_ratio=[0.5, 1.0], cv=5).fit(dX, dy)
    >>> model.alphas_.shape, model.n_passes_  # 2 passes for every fold and alpha
    ((2, 100), 2)
    >>> float(model.l1_ratio_)
    1.0
    """

    _parameter_constraints: dict = {
        "l1_ratio": [Interval(Real, 0, 1, closed="both"), "array-like"],
        "eps": [Interval(Real, 0, None, closed="neither")],
        "alphas": [Interval(Integral, 1, None, closed="left"), "array-like"],
        "fit_intercept": ["boolean"],
        "precompute": [StrOptions({"auto"}), "boolean"],
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
        "client": "no_validation",
    }

    path = staticmethod(enet_path)

    def __init__(self, *, l1_ratio=0.5, eps=1e-3, alphas=100, fit_intercept=True,
                 precompute="auto", max_iter=1000, tol=1e-4, cv=None, copy_X=True,
                 verbose=0, n_jobs=None, positive=False, random_state=None,
                 selection="cyclic", alpha_rule="min", client=None):
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
        self.client = client

    def _l1_ratios(self):
        return l1_ratios_of(self.l1_ratio)

    @staticmethod
    def _local_class():
        from fastlasso._estimators_cv import ElasticNetCV as Local

        return Local

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Choose alpha (and l1_ratio) by contiguous K-fold CV, refit on all rows.

        Parameters
        ----------
        X : dask array or dask DataFrame of shape (n_samples, n_features)
        y : dask array or Series of shape (n_samples,)
        sample_weight : float or dask array of shape (n_samples,), default=None

        Returns
        -------
        self : object
        """
        data = DaskData(X, y, sample_weight, self.client)
        n, p = data.n_samples, data.n_features
        k = n_folds(self.cv, n)
        if choose_regime(n, p, self.precompute) != "gram":
            raise NotImplementedError(
                "fastlasso.dask cross-validation needs n >> p (n >= 4 p, p <= 4096); "
                f"got {n} x {p}. For wider data, fit fastlasso.dask.enet_path per "
                "fold.")
        l1_ratios = self._l1_ratios()
        blocks = data.moments(gram=True, fold_bounds=fold_bounds(n, k))
        blocks = [blocks[i] for i in range(k)]
        full = problem_from_moments(tree_reduce(blocks, merge_moments),
                                    self.fit_intercept, data.dtype)
        grids = [resolve_grid(full, self.alphas, r, self.eps, self.positive)
                 for r in l1_ratios]
        params = dict(tol=self.tol, max_iter=self.max_iter, positive=self.positive,
                      selection=self.selection, random_state=self.random_state)
        trains = [problem_from_moments(
            tree_reduce([b for j, b in enumerate(blocks) if j != i], merge_moments),
            self.fit_intercept, data.dtype, n=n, check=False) for i in range(k)]

        def run(job):
            i, f = job
            coefs, _, _ = gram_path(trains[f], grids[i], l1_ratios[i], **params)
            return held_out_mse(blocks[f], trains[f], coefs), coefs

        jobs = [(i, f) for i in range(len(l1_ratios)) for f in range(k)]
        n_jobs = 1 if self.n_jobs is None else self.n_jobs
        results = (map_threads(run, jobs, min(n_jobs, len(jobs))) if n_jobs > 1
                   else [run(job) for job in jobs])
        mse = np.empty((len(l1_ratios), k, len(grids[0])))
        paths = [[None] * k for _ in l1_ratios]
        for (i, f), (m, c) in zip(jobs, results, strict=True):
            mse[i, f] = m
            paths[i][f] = c
        se = standard_errors(mse)
        i, a_min, a_1se = select_alpha(mse.mean(axis=1), se)
        a = a_min if self.alpha_rule == "min" else a_1se

        if hasattr(self, "l1_ratio"):
            self.l1_ratio_ = float(l1_ratios[i])
        self.alpha_min_ = float(grids[i][a_min])
        self.alpha_1se_ = float(grids[i][a_1se])
        self.alpha_ = float(grids[i][a])
        explicit = not isinstance(self.alphas, Integral)
        single_grid = len(l1_ratios) == 1 or explicit
        self.alphas_ = grids[0] if single_grid else np.asarray(grids)
        self.mse_path_ = np.squeeze(np.moveaxis(mse, 2, 1))
        self.mse_se_ = se[0] if len(l1_ratios) == 1 else se
        nnz = np.array([[np.count_nonzero(c, axis=0) for c in row] for row in paths])
        nnz = nnz.mean(axis=1)
        self.n_nonzero_path_ = nnz[0] if len(l1_ratios) == 1 else nnz

        warm = np.mean([paths[i][f][:, a] for f in range(k)], axis=0)
        warm[full.norm2 == 0] = 0.0
        solver = GramModelSolver(full.G, full.xty, full.yy, full.norm2, full.n_rows,
                                 full.dtype)
        state = PassState(warm.astype(full.dtype), None, 0.0, 0.0)
        fit, _ = solve_certified(full, data, GramBlocks(full, data, full=True),
                                 self.alpha_, l1_ratios[i], state, full_first=solver,
                                 **params)
        self._set_input_attrs(data)
        self.coef_ = fit.coef
        self.intercept_ = (float(intercept_of(full.y_mean, full.mu, fit.coef))
                           if self.fit_intercept else 0.0)
        self.dual_gap_ = fit.gap
        self.n_iter_ = fit.n_iter
        self.n_passes_ = data.count
        return self

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags


class LassoCV(ElasticNetCV):
    """Lasso with alpha chosen by contiguous K-fold CV on a Dask cluster (as
    :class:`fastlasso.LassoCV`): two passes over the data for n >> p.

    Parameters
    ----------
    eps, alphas, fit_intercept, max_iter, tol, copy_X, verbose, positive :
        As in :class:`fastlasso.LassoCV`.
    random_state, selection, alpha_rule :
        As in :class:`fastlasso.LassoCV`.
    precompute : "auto" or True, default="auto"
        The Gram regime (the only one cross-validation supports yet).
    cv : int, KFold(shuffle=False) or None, default=None
        Number of contiguous folds (None: 5).
    n_jobs : int or None, default=None
        Client threads over the fold paths.
    client : distributed.Client or None, default=None
        See :class:`fastlasso.dask.ElasticNet`.

    Attributes
    ----------
    alpha_, alpha_min_, alpha_1se_, alphas_, mse_path_, mse_se_, n_nonzero_path_ :
        As in :class:`fastlasso.LassoCV`.
    coef_, intercept_, dual_gap_, n_iter_, n_features_in_, feature_names_in_ :
        As in :class:`fastlasso.LassoCV`.
    n_passes_ : int
        Passes over the data.

    See Also
    --------
    fastlasso.LassoCV : The same cross-validation on data in memory.
    Lasso : The model at one alpha on dask data.

    Examples
    --------
    >>> import dask.array as da
    >>> from sklearn.datasets import load_diabetes
    >>> import fastlasso.dask as fld
    >>> X, y = load_diabetes(return_X_y=True)
    >>> dX = da.from_array(X, chunks=(100, 10))  # 5 chunks of rows
    >>> dy = da.from_array(y, chunks=100)
    >>> model = fld.LassoCV(cv=5, alpha_rule="1se").fit(dX, dy)
    >>> bool(model.alpha_ == model.alpha_1se_), model.n_passes_
    (True, 2)
    >>> model.mse_path_.shape  # held-out errors: (alpha, fold)
    (100, 5)
    """

    _parameter_constraints: dict = {
        k: v for k, v in ElasticNetCV._parameter_constraints.items() if k != "l1_ratio"
    }

    path = staticmethod(lasso_path)

    def __init__(self, *, eps=1e-3, alphas=100, fit_intercept=True, precompute="auto",
                 max_iter=1000, tol=1e-4, copy_X=True, cv=None, verbose=False,
                 n_jobs=None, positive=False, random_state=None, selection="cyclic",
                 alpha_rule="min", client=None):
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
        self.client = client

    def _l1_ratios(self):
        return np.ones(1)

    @staticmethod
    def _local_class():
        from fastlasso._estimators_cv import LassoCV as Local

        return Local
