"""LassoCV and ElasticNetCV on dask data: K-fold paths with passes shared by the folds.

Folds are contiguous (scikit-learn's KFold without shuffling), so a fold is a range of
rows; chunks that straddle a fold boundary are split into segments. One pass computes
the moments of every fold's rows (fastlasso._chunkstats); a fold's training statistics
are the merge of the other folds' (no subtraction, so no cancellation).

n >> p (regime A): the moments include each fold's centred Gram matrix; every fold's
path runs on the client in full-Gram mode (fastlasso._statsolve.gram_path) and its
held-out errors come from its own moments (held_out_mse): the data are not read again.
The model refitted at the chosen alpha is certified by one more pass. Two passes for any
number of folds, alphas and l1_ratios.

Wide or sparse data (regime B): fold k is the problem on all rows with zero weight on
its held-out rows (as the in-memory CV of a large X), and its path runs with working
sets (fastlasso._statsolve.path_steps). The K fold paths (times the l1_ratios) run in
lockstep and share every pass: one pass computes X~^T S_k r_k for all of them at once
(X is read once for K columns), the held-out squared errors come with it (the rows of
fold k are in the same chunks), and the Gram blocks of features new to any fold's
working set are fetched once per fold of rows and combined per problem (GramStore).
Passes: 1 (moments) + the working-set rounds of the slowest fold + the refit's (which
starts with the Gram blocks the folds fetched).
"""


from dataclasses import replace
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
    FullGram,
    GramModelSolver,
    GramStore,
    PassState,
    gram_path,
    held_out_mse,
    path_steps,
    problem_from_moments,
    residual_states,
    run_rounds,
    solve_certified,
    warn_gap,
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


def gram_folds(trains, blocks, grids, l1_ratios, params, n_jobs):
    """Regime A: every (l1_ratio, fold) path on its training Gram matrix, held-out
    errors from the fold's moments. Returns mse (L, K, n_alphas), coefficient paths
    [l1][fold] and all-converged (the paths' Gram gaps are certified by the refit's
    pass only through the choice: no fold warning)."""
    k = len(trains)

    def run(job):
        i, f = job
        coefs, _, _ = gram_path(trains[f], grids[i], l1_ratios[i], **params)
        return held_out_mse(blocks[f], trains[f], coefs), coefs

    jobs = [(i, f) for i in range(len(l1_ratios)) for f in range(k)]
    results = (map_threads(run, jobs, min(n_jobs, len(jobs))) if n_jobs > 1
               else [run(job) for job in jobs])
    return collect(jobs, results, len(l1_ratios), k, len(grids[0]))


def collect(jobs, results, n_l1, k, n_alphas):
    mse = np.empty((n_l1, k, n_alphas))
    paths = [[None] * k for _ in range(n_l1)]
    for (i, f), (m, c) in zip(jobs, results, strict=True):
        mse[i, f] = m
        paths[i][f] = c
    return mse, paths


def held_sse_at_zero(block, train):
    """sum s (y - b)^2 over the rows of Moments block for w = 0 (intercept b =
    train.y_mean: 0 without intercept)."""
    d = block.ybar - train.y_mean
    return float(block.cyy + block.S * d * d)


def working_set_folds(data, full, trains, blocks, grids, l1_ratios, params, n_jobs):
    """Regime B: the (l1_ratio, fold) paths in lockstep, every round of requests one
    pass (module docstring). Returns mse, paths, the GramStore (its last view is the
    full problem's, for the refit) and the number of (fold, alpha) fits that missed
    tol (with the largest such gap and its tolerance)."""
    k = len(trains)
    train = [[j for j in range(k) if j != f] for f in range(k)] + [list(range(k))]
    store = GramStore(trains + [full], train, full.mu)
    jobs = [(i, f) for i in range(len(l1_ratios)) for f in range(k)]
    steps = []
    for i, f in jobs:
        t = trains[f]
        state = PassState(np.zeros(t.n_features, dtype=t.dtype), t.xty.copy(), t.yy,
                          t.yy, held_sse_at_zero(blocks[f], t))
        steps.append(path_steps(t, store, f, grids[i], l1_ratios[i], state, params))
    fits = run_rounds(steps, data, n_jobs=n_jobs)
    results = [(fit.held_sse / blocks[f].S, fit.coefs)
               for (_, f), fit in zip(jobs, fits, strict=True)]
    missed = [(fit.gaps[~fit.converged].max(), int(np.count_nonzero(~fit.converged)))
              for fit in fits if not fit.converged.all()]
    mse, paths = collect(jobs, results, len(l1_ratios), k, len(grids[0]))
    return mse, paths, store, missed


class ElasticNetCV(_DaskEstimatorMixin, RegressorMixin, BaseEstimator):
    """Elastic Net with alpha (and l1_ratio) chosen by K-fold cross-validation on a Dask
    cluster: the same grid, folds (contiguous KFold), errors and choice as
    :class:`fastlasso.ElasticNetCV` on the same data, including the one-standard-error
    rule (``alpha_rule="1se"``).

    For n >> p (n >= 4 p, p <= 4096): two passes over the data whatever the number of
    folds and alphas (module docstring); the refitted model's duality gap comes from the
    second pass. Wider or sparse data: working sets, the folds' paths sharing every
    pass (a pass or two per alpha of the slowest fold).

    Parameters
    ----------
    l1_ratio, eps, alphas, fit_intercept, max_iter, tol, copy_X, verbose, positive :
        As in :class:`fastlasso.ElasticNetCV`.
    random_state, selection, alpha_rule :
        As in :class:`fastlasso.ElasticNetCV`.
    precompute : "auto" or bool, default="auto"
        True: the Gram regime; False: working sets; "auto" chooses (as
        :class:`fastlasso.dask.ElasticNet`).
    cv : int, KFold(shuffle=False) or None, default=None
        Number of contiguous folds (None: 5).
    n_jobs : int or None, default=None
        Client threads over the (l1_ratio, fold) paths' solves.
    client : distributed.Client or None, default=None
        See :class:`fastlasso.dask.ElasticNet`.
    persist : bool or "auto", default="auto"
        See :class:`fastlasso.dask.ElasticNet` (wide data: the passes of every
        working-set round then read memory).

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
        "persist": ["boolean", StrOptions({"auto"})],
    }

    path = staticmethod(enet_path)

    def __init__(self, *, l1_ratio=0.5, eps=1e-3, alphas=100, fit_intercept=True,
                 precompute="auto", max_iter=1000, tol=1e-4, cv=None, copy_X=True,
                 verbose=0, n_jobs=None, positive=False, random_state=None,
                 selection="cyclic", alpha_rule="min", client=None, persist="auto"):
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
        self.persist = persist

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
        with DaskData(X, y, sample_weight, self.client, self.persist) as data:
            n, p = data.n_samples, data.n_features
            k = n_folds(self.cv, n)
            regime = choose_regime(n, p, self.precompute)
            l1_ratios = self._l1_ratios()
            bounds = fold_bounds(n, k)
            blocks = data.moments(gram=regime == "gram", fold_bounds=bounds)
            blocks = [blocks[i] for i in range(k)]
            full = problem_from_moments(tree_reduce(blocks, merge_moments),
                                        self.fit_intercept, data.dtype)
            grids = [resolve_grid(full, self.alphas, r, self.eps, self.positive)
                     for r in l1_ratios]
            params = dict(tol=self.tol, max_iter=self.max_iter, positive=self.positive,
                          selection=self.selection, random_state=self.random_state)
            trains = [replace(problem_from_moments(
                tree_reduce([b for j, b in enumerate(blocks) if j != i], merge_moments),
                self.fit_intercept, data.dtype, n=n, check=False), held_out=i)
                for i in range(k)]
            n_jobs = 1 if self.n_jobs is None else max(1, self.n_jobs)
            if regime == "gram":
                mse, paths = gram_folds(trains, blocks, grids, l1_ratios, params,
                                        n_jobs)
            else:
                data.use_folds(bounds)
                mse, paths, store, missed = working_set_folds(
                    data, full, trains, blocks, grids, l1_ratios, params, n_jobs)
                if missed:
                    gap = max(m[0] for m in missed)
                    n_missed = sum(m[1] for m in missed)
                    warn_gap(gap, self.tol * full.yy / n, self.tol, self.max_iter,
                             what=f" of a fold's path ({n_missed} fold fits missed "
                                  "tol)")
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
            nnz = np.array([[np.count_nonzero(c, axis=0) for c in row]
                            for row in paths])
            nnz = nnz.mean(axis=1)
            self.n_nonzero_path_ = nnz[0] if len(l1_ratios) == 1 else nnz

            # the refit on all rows starts from the mean of the folds' solutions (as in
            # memory) and is certified by a pass over the data
            warm = np.mean([paths[i][f][:, a] for f in range(k)], axis=0)
            warm[full.norm2 == 0] = 0.0
            warm = warm.astype(full.dtype)
            if regime == "gram":
                solver = GramModelSolver(full.G, full.xty, full.yy, full.norm2,
                                         full.n_rows, full.dtype)
                fit = solve_certified(full, data, FullGram(full), self.alpha_,
                                      l1_ratios[i], PassState(warm, None, 0.0, 0.0),
                                      full_first=solver, **params)
            else:
                state = residual_states(full, data, warm[:, None])[0] if np.any(warm) \
                    else PassState(warm, full.xty.copy(), full.yy, full.yy)
                fit = solve_certified(full, data, store, self.alpha_, l1_ratios[i],
                                      state, view=k, **params)
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
    :class:`fastlasso.LassoCV`): two passes over the data for n >> p; working sets
    whose passes the folds share for wider data.

    Parameters
    ----------
    eps, alphas, fit_intercept, max_iter, tol, copy_X, verbose, positive :
        As in :class:`fastlasso.LassoCV`.
    random_state, selection, alpha_rule :
        As in :class:`fastlasso.LassoCV`.
    precompute : "auto" or bool, default="auto"
        True: the Gram regime; False: working sets; "auto" chooses (as
        :class:`fastlasso.dask.ElasticNet`).
    cv : int, KFold(shuffle=False) or None, default=None
        Number of contiguous folds (None: 5).
    n_jobs : int or None, default=None
        Client threads over the fold paths' solves.
    client : distributed.Client or None, default=None
        See :class:`fastlasso.dask.ElasticNet`.
    persist : bool or "auto", default="auto"
        See :class:`fastlasso.dask.ElasticNet` (wide data: the passes of every
        working-set round then read memory).

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
                 alpha_rule="min", client=None, persist="auto"):
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
        self.persist = persist

    def _l1_ratios(self):
        return np.ones(1)

    @staticmethod
    def _local_class():
        from fastlasso._estimators_cv import LassoCV as Local

        return Local
