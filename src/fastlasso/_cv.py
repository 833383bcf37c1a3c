"""Cross-validation along the path: folds without copies of X, in parallel threads.

A fold is the full X with zero sample weight on its held-out rows: the weighted
objective over all rows equals the objective over the training rows (weights are
rescaled to sum to n), and centring uses the weighted means of the training rows. So
every fold reads the one X in place; the kernels release the GIL, so folds (and
l1_ratios) run concurrently in threads. The held-out rows still cost a little in each
pass over a column (about 1/K of the work), which is far cheaper than K copies of X.

Held-out predictions read only the features that enter the path, and never
materialise X[test]: for sparse X as X[:, active] @ (sparse coefficients), for dense X
in blocks of rows.
"""

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import scipy.sparse as sp

from fastlasso._data import make_design
from fastlasso._path import Progress, solve_path

ROW_BLOCK = 4096


def predict_rows(X, rows, coefs, intercepts):
    """(X[rows] @ coefs + intercepts) for coefs of shape (p, k), X untouched.

    Only the features nonzero somewhere on the path are read: for sparse X as
    X[:, active] @ (sparse coefficients), for dense X in blocks of rows."""
    active = np.flatnonzero(np.any(coefs != 0, axis=1))
    pred = np.zeros((len(rows), coefs.shape[1]))
    if active.size == 0:
        return pred + intercepts
    W = coefs[active].astype(np.float64)
    if sp.issparse(X):
        pred += (X[:, active] @ sp.csr_matrix(W))[rows].toarray()
        return pred + intercepts
    for start in range(0, len(rows), ROW_BLOCK):
        block = rows[start:start + ROW_BLOCK]
        pred[start:start + len(block)] = X[np.ix_(block, active)] @ W
    return pred + intercepts


def fold_path(X, y, sample_weight, train, test, fit_intercept, alphas, l1_ratio,
              gram, solve_params):
    """Fit the path on the training rows (as weights) and score the held-out rows.

    Returns (mse per alpha, coefficient path as a sparse (p, k) matrix)."""
    n = X.shape[0]
    sw = np.zeros(n)
    sw[train] = 1.0 if sample_weight is None else sample_weight[train]
    design = make_design(X, sw, fit_intercept)
    yc, y_mean = design.center(y)
    coefs, _, _, _ = solve_path(design, yc, alphas, l1_ratio, gram=gram, **solve_params)
    intercepts = y_mean - design.mu.astype(np.float64) @ coefs.astype(np.float64)
    resid = predict_rows(X, test, coefs, intercepts) - y[test, None]
    sw_test = None if sample_weight is None else sample_weight[test]
    mse = np.average(resid**2, axis=0, weights=sw_test)
    return mse, sp.csc_matrix(coefs)


def cross_validate_paths(X, y, sample_weight, folds, fit_intercept, grids, l1_ratios,
                         gram, solve_params, n_jobs=1, verbose=False):
    """Run every (l1_ratio, fold) path; n_jobs threads.

    Returns mse of shape (n_l1_ratio, n_folds, n_alphas) and the fold coefficient
    paths as a nested list [l1 index][fold index] of sparse (p, n_alphas) matrices.
    """
    jobs = [(i, k) for i in range(len(l1_ratios)) for k in range(len(folds))]
    progress = Progress(len(jobs), "cv fits", verbose)

    def run(job):
        i, k = job
        train, test = folds[k]
        out = fold_path(X, y, sample_weight, train, test, fit_intercept, grids[i],
                        l1_ratios[i], gram, solve_params)
        progress.step(f"l1_ratio={l1_ratios[i]:g} fold {k + 1}/{len(folds)}")
        return out

    if n_jobs == 1 or len(jobs) == 1:
        results = [run(job) for job in jobs]
    else:
        with ThreadPoolExecutor(max_workers=min(n_jobs, len(jobs))) as pool:
            results = list(pool.map(run, jobs))
    mse = np.empty((len(l1_ratios), len(folds), len(grids[0])))
    paths = [[None] * len(folds) for _ in l1_ratios]
    for (i, k), (m, c) in zip(jobs, results):
        mse[i, k] = m
        paths[i][k] = c
    return mse, paths


def select_alpha(mean_mse, se, grids):
    """Minimum-CV-error and one-standard-error choices.

    mean_mse, se: (n_l1_ratio, n_alphas); grids: alphas (decreasing) per l1_ratio.
    The best l1_ratio is the one reaching the smallest mean error; within it, alpha_1se
    is the largest alpha whose mean error is <= min + se(at the minimum) (glmnet).
    Returns (l1 index, index of alpha_min, index of alpha_1se).
    """
    i, a = np.unravel_index(np.argmin(mean_mse), mean_mse.shape)
    threshold = mean_mse[i, a] + se[i, a]
    a_1se = int(np.flatnonzero(mean_mse[i] <= threshold)[0])
    return int(i), int(a), a_1se
