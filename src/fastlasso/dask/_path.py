"""``lasso_path`` and ``enet_path`` on dask data, every alpha certified by a pass.

Gram regime (n >> p): one pass for the statistics, the whole path on the client, then
one pass that evaluates the duality gap of every alpha at once (the residuals of all the
path's coefficient vectors); an alpha whose gap on the data misses the tolerance goes on
with iterations anchored at the data (fastlasso._statsolve). Working-set regime: each
alpha starts from the previous solution and its exact gradient (no pass), and costs a
pass per working-set iteration plus one when new features enter (their Gram block).
"""

import warnings

import numpy as np

from fastlasso._solve_path import check_alphas, check_path_params, geometric_grid
from fastlasso._statsolve import (
    FullGram,
    alpha_max,
    gap_of,
    gram_path,
    path_steps,
    problem_from_moments,
    residual_states,
    run_rounds,
    solve_certified,
    user_stacklevel,
    warn_gap,
)
from fastlasso.dask._estimators import choose_regime, gram_store, start_state
from fastlasso.dask._passes import DaskData


def resolve_grid(problem, alphas, l1_ratio, eps, positive, Xy=None):
    """The alphas for ``alphas`` given as a count (None: 100) or as values (sorted
    decreasingly), as fastlasso's paths; Xy (X^T y) replaces the statistics' X~^T S y_c
    in alpha_max if given."""
    alphas = check_alphas(alphas)
    if not isinstance(alphas, int):
        return alphas
    if Xy is not None:
        Xy = np.asarray(Xy, dtype=np.float64).ravel()
        if Xy.shape != (problem.n_features,):
            raise ValueError(
                f"Xy has shape {Xy.shape}, expected ({problem.n_features},).")
        problem = _with_xty(problem, Xy)
    return geometric_grid(alpha_max(problem, l1_ratio, positive), eps, alphas)


def _with_xty(problem, xty):
    from dataclasses import replace

    return replace(problem, xty=xty)


def certified_path(data, problem, regime, grid, l1_ratio, coef_init, params):
    """(coefs (p, k), gaps (k,) in P units from the data, epochs per alpha); warns
    (one ConvergenceWarning) naming the alphas whose gap on the data misses tol."""
    p, k = problem.n_features, len(grid)
    n = problem.n
    tol_abs = params["tol"] * problem.yy
    if problem.yy == 0.0:
        return np.zeros((p, k), dtype=problem.dtype), np.zeros(k), [0] * k
    if regime == "gram":
        coefs, _, n_iters = gram_path(problem, grid, l1_ratio, coef_init, **params)
        states = residual_states(problem, data, coefs)
        store = FullGram(problem)
        gaps = np.empty(k)
        conv = np.ones(k, dtype=bool)
        for i, state in enumerate(states):
            gap, _ = gap_of(problem, state, grid[i], l1_ratio, params["positive"])
            if gap > tol_abs:
                fit = solve_certified(problem, data, store, grid[i], l1_ratio, state,
                                      warn=False, **params)
                coefs[:, i] = fit.coef
                n_iters[i] += fit.n_iter
                gap, conv[i] = fit.gap * n, fit.converged
            gaps[i] = gap / n
    else:
        state = start_state(problem, data, regime, coef_init)
        steps = path_steps(problem, gram_store(problem, regime), 0, grid, l1_ratio,
                           state, params)
        fit = run_rounds([steps], data)[0]
        coefs, gaps, n_iters, conv = fit.coefs, fit.gaps, fit.n_iters, fit.converged
    if not conv.all():
        bad = np.flatnonzero(~conv)
        i = bad[np.argmax(gaps[bad])]
        warn_gap(gaps[i], params["tol"] * problem.yy / n, params["tol"], n_iters[i],
                 what=f" at alpha={grid[i]:.4g} ({bad.size} of {k} alphas)")
    return coefs, gaps, n_iters


def enet_path(X, y, *, l1_ratio=0.5, eps=1e-3, n_alphas=None, alphas=100,
              precompute="auto", Xy=None, copy_X=True, coef_init=None, verbose=False,
              return_n_iter=False, positive=False, check_input=True,
              fit_intercept=False,
              sample_weight=None, tol=1e-4, max_iter=1000, random_state=None,
              selection="cyclic", n_jobs=None, do_screening=True, client=None,
              return_n_passes=False, persist="auto"):
    """Elastic Net path on dask data (the signature of :func:`fastlasso.enet_path`).

    Minimises, for each alpha on the grid,
    1/(2n) ||y - X w||^2 + alpha * l1_ratio * ||w||_1 + alpha (1 - l1_ratio)/2 ||w||^2
    (centred first if ``fit_intercept``), with every alpha's duality gap computed from a
    pass over the data: a ConvergenceWarning names any alpha above ``tol``.
    n >> p: two passes for the whole path; otherwise working sets (a pass or two per
    iteration). X: dask array (numpy or scipy.sparse chunks) or DataFrame; y: dask
    array or Series; sample_weight: dask array. ``client``: see
    :class:`fastlasso.dask.ElasticNet`. ``verbose``, ``copy_X``, ``check_input``,
    ``n_jobs`` and ``do_screening`` are accepted for compatibility.

    Parameters
    ----------
    X, y, l1_ratio, eps, n_alphas, alphas, precompute, Xy, copy_X, coef_init, verbose :
        As in :func:`fastlasso.enet_path`, for dask data (above).
    return_n_iter, positive, check_input, fit_intercept, sample_weight, tol, max_iter :
        As in :func:`fastlasso.enet_path`, for dask data (above).
    random_state, selection, n_jobs, do_screening :
        As in :func:`fastlasso.enet_path`, for dask data (above).
    client : distributed.Client or None, default=None
        See :class:`fastlasso.dask.ElasticNet`.
    return_n_passes : bool, default=False
        Also return the number of passes over the data.
    persist : bool or "auto", default="auto"
        Keep the data in the workers' memory for the path (see
        :class:`fastlasso.dask.ElasticNet`).

    Returns
    -------
    alphas : ndarray of shape (n_alphas,)
    coefs : ndarray of shape (n_features, n_alphas)
    dual_gaps : ndarray of shape (n_alphas,)
        From a pass over the data, in the units of the objective.
    n_iters : list of int
        Client epochs per alpha (only if ``return_n_iter``).
    n_passes : int
        Passes over the data (only if ``return_n_passes``).

    See Also
    --------
    fastlasso.enet_path : The same path on data in memory.

    Examples
    --------
    >>> import dask.array as da
    >>> from sklearn.datasets import load_diabetes
    >>> import fastlasso.dask as fld
    >>> X, y = load_diabetes(return_X_y=True)
    >>> dX = da.from_array(X, chunks=(100, 10))  # 5 chunks of rows
    >>> dy = da.from_array(y, chunks=100)
    >>> *path, n_passes = fld.enet_path(dX, dy, l1_ratio=0.5, alphas=5,
    ...                                  fit_intercept=True, return_n_passes=True)
    >>> alphas, coefs, gaps = path
    >>> (coefs != 0).sum(axis=0), n_passes  # 2 passes for the whole path
    (array([ 0,  9, 10, 10, 10]), 2)
    """
    check_path_params(l1_ratio, eps, tol, max_iter, selection, positive=positive,
                      fit_intercept=fit_intercept)
    if n_alphas is not None:
        warnings.warn(
            "'n_alphas' was deprecated in scikit-learn 1.9; pass the count as "
            "'alphas'.",
            FutureWarning, stacklevel=user_stacklevel())
        alphas = n_alphas
    with DaskData(X, y, sample_weight, client, persist) as data:
        regime = choose_regime(data.n_samples, data.n_features, precompute)
        problem = problem_from_moments(data.moments(gram=regime == "gram"),
                                       fit_intercept, data.dtype)
        grid = resolve_grid(problem, alphas, l1_ratio, eps, positive, Xy)
        if coef_init is not None:
            coef_init = np.asarray(coef_init, dtype=problem.dtype).ravel()
            if coef_init.shape != (data.n_features,):
                raise ValueError(
                    f"coef_init has shape {coef_init.shape}, "
                    f"expected ({data.n_features},).")
        params = dict(tol=tol, max_iter=max_iter, positive=positive,
                      selection=selection, random_state=random_state)
        coefs, gaps, n_iters = certified_path(data, problem, regime, grid, l1_ratio,
                                              coef_init, params)
    out = (grid, coefs, gaps)
    if return_n_iter:
        out += (n_iters,)
    if return_n_passes:
        out += (data.count,)
    return out


def lasso_path(X, y, *, eps=1e-3, n_alphas=None, alphas=100, precompute="auto", Xy=None,
               copy_X=True, coef_init=None, verbose=False, return_n_iter=False,
               positive=False, **params):
    """Lasso path on dask data: :func:`enet_path` with ``l1_ratio=1``
    (1/(2n) ||y - X w||^2 + alpha ||w||_1 for each alpha, each certified by a pass).

    Parameters
    ----------
    X, y, eps, n_alphas, alphas, precompute, Xy, copy_X, coef_init, verbose :
        As in :func:`enet_path`.
    return_n_iter, positive :
        As in :func:`enet_path`.
    **params :
        The other keywords of :func:`enet_path` (``fit_intercept``, ``tol``,
        ``client``, ``return_n_passes``, ...).

    Returns
    -------
    alphas, coefs, dual_gaps[, n_iters][, n_passes] :
        As :func:`enet_path` returns them.

    See Also
    --------
    fastlasso.lasso_path : The same path on data in memory.

    Examples
    --------
    >>> import dask.array as da
    >>> from sklearn.datasets import load_diabetes
    >>> import fastlasso.dask as fld
    >>> X, y = load_diabetes(return_X_y=True)
    >>> dX = da.from_array(X, chunks=(100, 10))  # 5 chunks of rows
    >>> dy = da.from_array(y, chunks=100)
    >>> alphas, coefs, gaps = fld.lasso_path(dX, dy, alphas=5, fit_intercept=True)
    >>> (coefs != 0).sum(axis=0)  # as fastlasso.lasso_path on X, y
    array([ 0,  4,  7,  9, 10])
    """
    return enet_path(X, y, l1_ratio=1.0, eps=eps, n_alphas=n_alphas, alphas=alphas,
                     precompute=precompute, Xy=Xy, copy_X=copy_X, coef_init=coef_init,
                     verbose=verbose, return_n_iter=return_n_iter, positive=positive,
                     **params)

