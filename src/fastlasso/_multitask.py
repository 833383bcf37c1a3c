"""Multi-task Elastic Net: solve, path and cross-validation drivers (internal).

The problem, for Y of shape (n, T) (one column per task) and coefficient rows W_j (the
transpose of scikit-learn's ``coef_``, of shape (T, p)), is scikit-learn's

    P(W, b) = 1/(2 n) ||Y - X W - 1 b^T||_S,F^2 + alpha rho sum_j ||W_j||_2
              + alpha (1 - rho) / 2 ||W||_F^2

(squared residuals weighted by the sample weights rescaled to sum to n, as for the
Lasso). With an intercept it is solved on implicitly centred data (the Design's column
means, the targets' weighted means), so sparse X is never densified. The kernel is
_multitask.mtl_cd_<layout> (block coordinate descent, working sets, Gap Safe screening,
Anderson extrapolation); every solution carries its duality gap in P's units, and the
solve stops when the gap is <= tol * ||Y - mean(Y)||_S,F^2 / n, scikit-learn's scaling.

Used by the multi-task estimators (_estimators_multitask) and by the public path
functions for 2-D targets (_path_functions); takes a validated Design and returns plain
arrays.
"""

import dataclasses

import numpy as np

from fastlasso import _cd_multitask as _kernels
from fastlasso import _mt_polish
from fastlasso._blas_threads import kernel_blas_threads
from fastlasso._cancel import map_jobs
from fastlasso._cv import (
    CVResult,
    cross_validate,
    fold_rows,
    select_alpha,
    standard_errors,
)
from fastlasso._data import check_scale, intercept_of, make_design, weighted_mean
from fastlasso._progress import Progress
from fastlasso._solve import (
    STEPPED_MAX_ITER,
    Solution,
    _certified,
    scaled_penalties,
    selection_seed,
    solve_cd,
)
from fastlasso._solve_path import check_alphas, geometric_grid, secant_start

# a restricted solve sweeps only its nonzero rows every other epoch once its working
# set holds at least this many rows at 0 (the kernel's active_min): with fewer, the
# epochs by which an active sweep delays an entering row outweigh the updates it saves
ACTIVE_MIN_ZERO = 128


def center_targets(design, Y):
    """(Y_c, y_mean, yy): Y (n, T) minus its weighted column means (if the design fits
    an intercept) in X's dtype and Fortran order (one contiguous column per task), the
    means (float64, zeros without intercept) and ||Y_c||_S,F^2. Raises if that norm is
    not a normal number of X's dtype (_data.check_scale)."""
    Y = np.asarray(Y, dtype=np.float64)
    T = Y.shape[1]
    if design.fit_intercept:
        y_mean = np.array([weighted_mean(Y[:, t], design.sw) for t in range(T)])
    else:
        y_mean = np.zeros(T)
    with np.errstate(over="ignore", invalid="ignore"):
        Yc = np.asfortranarray(Y - y_mean, dtype=design.dtype)
        yy = design.weighted_sq_norm(Yc)
    if not np.isfinite(yy):
        yy = np.inf
    check_scale(np.array([yy]), design.dtype, "y")
    return Yc, y_mean, yy


def mt_alpha_max(design, Yc, l1_ratio=1.0, Xty=None):
    """Smallest alpha for which W = 0 is optimal: max_j ||X~_j^T S Y_c||_2 /
    (n l1_ratio) (the largest row norm), from Xty = X~^T S Y_c (p, T) if given.
    Exactly 0 when that is rounding noise next to the Cauchy-Schwarz bound
    max_j ||x~_j||_S ||Y_c||_S,F (Y_c orthogonal to every column)."""
    if l1_ratio == 0:
        raise ValueError(
            "Automatic alpha grid generation is not supported for l1_ratio=0. "
            "Please supply a grid by providing your estimator with the appropriate "
            "`alphas=` argument."
        )
    n = design.n_samples
    if Xty is None:
        Ycw = Yc if design.sw is None else Yc * design.sw[:, None]
        Xty = np.asarray(design.X.T @ np.asarray(Ycw, dtype=design.dtype),
                         dtype=np.float64)
        # centring: x~_j^T S y_c = x_j^T S y_c - mu_j sum(S y_c), and sum(S y_c) = 0
        Xty -= np.outer(design.mu.astype(np.float64), np.sum(Ycw, axis=0))
    Xty = np.asarray(Xty, dtype=np.float64).reshape(design.n_features, -1)
    top = float(np.sqrt(np.max(np.sum(Xty**2, axis=1), initial=0.0)))
    bound = (np.sqrt(float(np.max(design.norm2, initial=0.0)))
             * np.sqrt(design.weighted_sq_norm(Yc)))
    if top <= np.finfo(np.float64).resolution * bound:
        return 0.0
    return top / (n * l1_ratio)


def mt_alpha_grid(design, Yc, l1_ratio=1.0, eps=1e-3, n_alphas=100, Xty=None):
    """scikit-learn's grid: n_alphas values from alpha_max down to eps alpha_max."""
    return geometric_grid(mt_alpha_max(design, Yc, l1_ratio, Xty), eps, n_alphas)


def solve_mt(
    design,
    Yc,
    alpha,
    l1_ratio=1.0,
    *,
    coef_init=None,
    tol=1e-4,
    max_iter=1000,
    selection="cyclic",
    random_state=None,
    working_sets=True,
    screening=True,
    anderson=True,
    n_threads=1,
    record_history=False,
    yy=None,
    workspace=None,
    warn=True,
    polish=True,
    active_sweeps=True,
):
    """Block coordinate descent from coef_init (p, T) or 0. Returns a Solution whose
    coef is W (p, T, C order: its transpose is scikit-learn's coef_), gap in P's
    units, n_iter the epochs (passes over a working set). workspace (a
    _cd_multitask.MultiTaskWorkspace for this design and target) is passed from one
    alpha of a path to the next. polish: finish a certified solve exactly on its
    support of rows (_mt_polish; kept only if an outer pass certifies it, within the
    polish's budget); info["polish"] counts the polishes kept. active_sweeps: every
    other epoch of a restricted solve sweeps its nonzero rows only, when at least
    ACTIVE_MIN_ZERO rows of its working set are 0 (the kernel's active_min)."""
    n, p = design.X.shape
    T = Yc.shape[1]
    yy = design.weighted_sq_norm(Yc) if yy is None else yy
    tol_gap = tol * yy / n
    W = np.zeros((p, T), dtype=design.dtype)
    if coef_init is not None:
        W[:] = coef_init
    if yy == 0.0:  # Y constant on the weighted rows: W = 0 is optimal for every alpha
        return Solution(np.zeros((p, T), dtype=design.dtype), 0.0, 0.0, 0, True,
                        np.zeros((0, 3)) if record_history else None)
    if T == 1:
        # one task: the L2,1 norm of a row of one entry is its absolute value, and the
        # problem is the Elastic Net, solved by its own kernel (the same answer as
        # ElasticNet/Lasso on that column, to the bit)
        sol = solve_cd(design, np.ascontiguousarray(Yc[:, 0]), alpha, l1_ratio,
                       coef_init=None if coef_init is None else W[:, 0], tol=tol,
                       max_iter=max_iter, selection=selection,
                       random_state=random_state, working_sets=working_sets,
                       screening=screening, acceleration=anderson, n_threads=n_threads,
                       record_history=record_history, yy=yy, warn=warn)
        sol.coef = sol.coef.reshape(p, 1)
        return sol
    if max_iter <= STEPPED_MAX_ITER:
        # a caller stepping the solver (warm fits of a few epochs each, as solve_cd):
        # full cyclic sweeps, whose next iterate depends on W alone, so that k fits of
        # m epochs warm-started one from the other are the fit of k m epochs
        working_sets = screening = anderson = active_sweeps = False
    hist = np.zeros((max(16, 3 * max_iter + 16) if record_history else 0, 3))
    design = design.by_columns  # no row-major multi-task kernels: Fortran, once
    kernel = getattr(_kernels, "mtl_cd_" + design.kind)
    l1_n, l2_n = scaled_penalties(n, alpha, l1_ratio)
    if workspace is None:
        workspace = _kernels.MultiTaskWorkspace(n, p, T)

    def run(W, max_epochs, hist):
        return kernel(
            *design.kernel_args(),
            Yc,
            np.empty(0, dtype=design.dtype) if design.sw is None else design.sw,
            design.mu,
            design.norm2,
            design.col_norms,
            W,
            l1_n,
            l2_n,
            tol * yy,
            max_epochs,
            working_sets=working_sets,
            screening=screening,
            anderson=anderson,
            n_threads=n_threads,
            shuffle=selection == "random",
            seed=selection_seed(selection, random_state),
            hist=hist,
            yy_c=yy,
            workspace=workspace,
            active_min=ACTIVE_MIN_ZERO if active_sweeps else -1,
        )

    out = run(W, max_iter, hist)
    out["polish"] = 0
    if polish and out["gap"] <= tol * yy:
        W, out = _polished(design, Yc, W, l1_n, l2_n, out, run, tol * yy, n_threads)
    return _certified(
        W, out, hist, n, tol, tol_gap, out["epochs"], "epochs", "", record_history,
        warn, out,
    )


def _polished(design, Yc, W, l1_n, l2_n, out, run, tol_abs, n_threads=1):
    """(W, out) after the polish of a certified solve (_mt_polish), if it is within
    its budget and the outer pass that follows (run with 0 epochs: the gap of the
    polished W, its rows' gradients from the solve's workspace) certifies it with a gap
    no larger than the tolerance (or the solve's own gap, if larger: a tolerance below
    rounding); else the solve's (W, out). The polish's numpy/LAPACK products run on
    the kernels' BLAS thread budget (_blas_threads: at most n_threads; its largest
    product, the support's normal matrix, is n k^2)."""
    n, T = Yc.shape
    k = _mt_polish.support_rows(design, W, l1_n).size
    work = (out["row_steps"] + out["row_grads"]) * T * (
        design.X.nnz / max(design.n_features, 1) if design.kind != "dense" else n)
    if _mt_polish.polish_cost(n, k, T) > max(_mt_polish.POLISH_FREE,
                                            _mt_polish.POLISH_SHARE * work):
        return W, out
    with kernel_blas_threads(n_threads, size=n * k * k):
        Wp = _mt_polish.polish_mt(design, Yc, W, l1_n, l2_n)
    if Wp is None:
        return W, out
    check = run(Wp, 0, np.zeros((0, 3)))
    if not check["gap"] <= max(out["gap"], tol_abs):
        return W, out
    out = dict(out, gap=check["gap"], primal=check["primal"], polish=1,
               row_grads=out["row_grads"] + check["row_grads"])
    return Wp, out


def solve_mt_path(design, Yc, alphas, l1_ratio=1.0, *, coef_init=None, verbose=False,
                  progress_label="path", extrapolate=False, **solve_params):
    """Warm-started solves over ``alphas`` (decreasing). Returns (coefs (T, p, k) in
    X's dtype, scikit-learn's layout of a multi-task path; dual gaps (k,) in P's units;
    epochs per alpha (list); converged flags). With ``extrapolate`` (the public path
    functions), a solve from the third alpha on starts from the secant step of the
    last two solutions, by rows (_solve_path.secant_start; the single-target path's
    rule, the same reasons)."""
    p, T, k = design.n_features, Yc.shape[1], len(alphas)
    coefs = np.empty((T, p, k), dtype=design.dtype)
    gaps = np.empty(k)
    n_iters, converged = [], []
    W = None if coef_init is None else np.asarray(coef_init, dtype=design.dtype)
    progress = Progress(k, progress_label, verbose)
    yy = design.weighted_sq_norm(Yc)
    workspace = _kernels.MultiTaskWorkspace(design.n_samples, p, T)
    W_prev = None
    for i, alpha in enumerate(alphas):
        start = W
        if extrapolate and l1_ratio == 1.0 and i >= 2:
            start = secant_start(W_prev, W, alphas[i - 2], alphas[i - 1], alpha)
        sol = solve_mt(design, Yc, alpha, l1_ratio, coef_init=start, yy=yy,
                       workspace=workspace, **solve_params)
        coefs[:, :, i] = sol.coef.T
        gaps[i] = sol.gap
        n_iters.append(sol.n_iter)
        converged.append(sol.converged)
        W_prev, W = W, sol.coef
        if progress.enabled:
            progress.step(f"alpha={alpha:.3g} rows={int(np.any(W != 0, axis=1).sum())}")
    return coefs, gaps, n_iters, converged


def resolve_mt_alphas(design, Yc, alphas, l1_ratio, eps, Xty=None):
    """The grid for ``alphas`` (_solve_path.check_alphas): a count gives
    mt_alpha_grid, values are the grid."""
    alphas = check_alphas(alphas)
    if isinstance(alphas, int):
        return mt_alpha_grid(design, Yc, l1_ratio, eps, alphas, Xty)
    return alphas


# --------------------------------------------------------------------------------
# cross-validation


def _fold_training(X, Y, sample_weight, train, fit_intercept):
    """(design, Y_c, y_mean) of a fold's training problem (_cv.fold_rows: a copy of
    the training rows of a small X, else X with zero weights on the held-out rows)."""
    Xf, sw, rows = fold_rows(X, sample_weight, train)
    design = make_design(Xf, sw, fit_intercept)
    Yc, y_mean, _ = center_targets(design, Y[rows])
    return design, Yc, y_mean


def _held_out_mse(X, Y, sample_weight, test, coefs, intercepts):
    """scikit-learn's fold score of each alpha: the (weighted) mean over the held-out
    rows of the squared residuals, averaged over the tasks. coefs (T, p, k),
    intercepts (T, k). Only the features nonzero somewhere on the path are read."""
    T, p, k = coefs.shape
    active = np.flatnonzero(np.any(coefs != 0, axis=(0, 2)))
    Xt = X[test]
    sw = None if sample_weight is None else sample_weight[test]
    mse = np.zeros(k)
    Ytest = np.asarray(Y[test], dtype=np.float64)
    for a in range(k):
        pred = np.zeros((len(test), T)) + intercepts[:, a]
        if active.size:
            W = np.asarray(coefs[:, active, a].T, dtype=np.float64)
            pred += np.asarray(Xt[:, active] @ W)
        err = (pred - Ytest) ** 2
        mse[a] = np.mean(np.average(err, axis=0, weights=sw))
    return mse


def mt_fold_path(X, Y, sample_weight, train, test, fit_intercept, alphas, l1_ratio,
                 solve_params):
    """Path on the training rows, held-out errors. Returns (mse per alpha, number of
    nonzero rows per alpha)."""
    design, Yc, y_mean = _fold_training(X, Y, sample_weight, train, fit_intercept)
    coefs, _, _, _ = solve_mt_path(design, Yc, alphas, l1_ratio, **solve_params)
    T = Yc.shape[1]
    intercepts = np.array([intercept_of(y_mean[t], design.mu, coefs[t])
                           for t in range(T)]).reshape(T, -1)
    mse = _held_out_mse(X, Y, sample_weight, test, coefs, intercepts)
    nnz = np.any(coefs != 0, axis=0).sum(axis=0)
    return mse, nnz


def mt_cross_validate(X, Y, sample_weight, folds, l1_ratios, *, alphas, eps,
                      fit_intercept, alpha_rule, solve_params, n_jobs=1, verbose=False):
    """Cross-validated multi-task Elastic Net: grids (on the full data, per l1_ratio),
    fold paths through joblib (_cancel.map_jobs, as _cv's), held-out errors, choice
    (min or 1-SE) and the refit on all rows at the chosen alpha. One task is the
    Elastic Net's cross-validation (_cv.cross_validate), so that a one-column
    MultiTaskElasticNetCV gives ElasticNetCV's numbers.

    Returns a _cv.CVResult: grids, mse (n_l1, n_folds, n_alphas), se, n_nonzero
    (mean over folds of the nonzero rows), best, alpha_min, alpha_1se, alpha
    (indices), refit (Solution, coef W (p, T)), intercept (T,); no fold paths (they
    are kept only until their errors are taken)."""
    if Y.shape[1] == 1:  # the Elastic Net's cross-validation (see solve_mt)
        res = cross_validate(
            X, np.ascontiguousarray(Y[:, 0]), sample_weight, folds, l1_ratios,
            alphas=alphas, eps=eps, fit_intercept=fit_intercept, gram_mode="auto",
            alpha_rule=alpha_rule, n_jobs=n_jobs, verbose=verbose,
            solve_params=dict(solve_params, positive=False),
        )
        res.refit.coef = res.refit.coef.reshape(-1, 1)
        return dataclasses.replace(res, paths=[], intercept=np.array([res.intercept]))
    full = make_design(X, sample_weight, fit_intercept)
    Yc_full, y_mean, yy = center_targets(full, Y)
    grids = [resolve_mt_alphas(full, Yc_full, alphas, r, eps) for r in l1_ratios]
    jobs = [(i, k) for i in range(len(l1_ratios)) for k in range(len(folds))]
    progress = Progress(len(jobs), "cv fits", verbose)

    def run(job):
        i, k = job
        train, test = folds[k]
        out = mt_fold_path(X, Y, sample_weight, train, test, fit_intercept, grids[i],
                           l1_ratios[i], solve_params)
        progress.step(f"l1_ratio={l1_ratios[i]:g} fold {k + 1}/{len(folds)}")
        return out

    results = map_jobs(run, jobs, n_jobs)
    n_alphas = len(grids[0])
    mse = np.empty((len(l1_ratios), len(folds), n_alphas))
    nnz = np.empty((len(l1_ratios), len(folds), n_alphas))
    for (i, k), (m, z) in zip(jobs, results, strict=True):
        mse[i, k] = m
        nnz[i, k] = z
    se = standard_errors(mse)
    best, a_min, a_1se = select_alpha(mse.mean(axis=1), se)
    a = a_min if alpha_rule == "min" else a_1se
    # the refit starts from 0, as scikit-learn's: at alpha_max that is the solution
    # (a warm start from the folds' mean would stop within tol of it, not at it)
    sol = solve_mt(full, Yc_full, float(grids[best][a]), l1_ratios[best], yy=yy,
                   **solve_params)
    intercept = np.array([intercept_of(y_mean[t], full.mu, sol.coef[:, t])
                          for t in range(Yc_full.shape[1])])
    return CVResult(grids=grids, mse=mse, se=se, n_nonzero=nnz.mean(axis=1), paths=[],
                    best=best, alpha_min=a_min, alpha_1se=a_1se, alpha=a, refit=sol,
                    intercept=intercept)
