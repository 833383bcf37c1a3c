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

When the folds run in full-Gram mode (dense X, n >> p), zero-weight rows would still
cost every fold a whole Gram product. Instead FoldGrams computes the Gram of all rows
once and of each held-out block (n/K rows), and gets each fold's centred training
Gram by difference: K + 1 solves cost about 2 n p^2 instead of (K + 1) n p^2.
"""

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import scipy.sparse as sp
from scipy.linalg.blas import dsyrk

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


class FoldGrams:
    """Centred, weighted Gram matrices of the training rows of every fold, by difference.

    With s the sample weights (ones if None) and rows shifted by the full-data weighted
    mean m (so that the centring term below stays small), A(R) = sum_{i in R} s_i
    (x_i - m)(x_i - m)^T and b(R) = sum_{i in R} s_i (x_i - m). For training rows T,
    weights rescaled to sum to n, the centred Gram is
        n / S_T * (A_T - b_T b_T^T / S_T),   A_T = A(all) - A(test), b_T likewise,
    (without intercept m = 0 and the b term is dropped): the matrix the kernels would
    build from X with zero weights on the held-out rows.
    """

    ROWS = 4096

    def __init__(self, X, sample_weight, fit_intercept, shift):
        self.X, self.fit_intercept = X, fit_intercept
        self.s = np.ones(X.shape[0]) if sample_weight is None else sample_weight
        self.shift = np.asarray(shift, dtype=np.float64) if fit_intercept else 0.0
        self.A, self.b, self.S = self._blocks(np.arange(X.shape[0]))

    def _blocks(self, rows):
        p = self.X.shape[1]
        A, b = np.zeros((p, p)), np.zeros(p)
        for start in range(0, len(rows), self.ROWS):
            r = rows[start:start + self.ROWS]
            Z = np.asarray(self.X[r], dtype=np.float64) - self.shift
            sq = np.sqrt(self.s[r])[:, None]
            A += dsyrk(1.0, Z * sq, trans=1)  # upper triangle of Z^T S Z
            b += self.s[r] @ Z
        A = np.triu(A) + np.triu(A, 1).T
        return A, b, float(self.s[rows].sum())

    def train(self, test=None):
        """The Gram of the training rows (all rows if test is None)."""
        A, b, S = self.A, self.b, self.S
        if test is not None:
            At, bt, St = self._blocks(test)
            A, b, S = A - At, b - bt, S - St
        if self.fit_intercept:
            A = A - np.outer(b, b) / S
        return A * (self.X.shape[0] / S)


def fold_path(X, y, sample_weight, train, test, fit_intercept, alphas, l1_ratio,
              gram, solve_params, fold_grams=None):
    """Fit the path on the training rows (as weights) and score the held-out rows.

    Returns (mse per alpha, coefficient path as a sparse (p, k) matrix)."""
    n = X.shape[0]
    sw = np.zeros(n)
    sw[train] = 1.0 if sample_weight is None else sample_weight[train]
    design = make_design(X, sw, fit_intercept)
    yc, y_mean = design.center(y)
    gram_matrix = None if fold_grams is None else fold_grams.train(test)
    coefs, _, _, _ = solve_path(design, yc, alphas, l1_ratio, gram=gram,
                                gram_matrix=gram_matrix, **solve_params)
    intercepts = y_mean - design.mu.astype(np.float64) @ coefs.astype(np.float64)
    resid = predict_rows(X, test, coefs, intercepts) - y[test, None]
    sw_test = None if sample_weight is None else sample_weight[test]
    mse = np.average(resid**2, axis=0, weights=sw_test)
    return mse, sp.csc_matrix(coefs)


def cross_validate_paths(X, y, sample_weight, folds, fit_intercept, grids, l1_ratios,
                         gram, solve_params, n_jobs=1, verbose=False, fold_grams=None):
    """Run every (l1_ratio, fold) path; n_jobs threads; fold_grams: see FoldGrams.

    Returns mse of shape (n_l1_ratio, n_folds, n_alphas) and the fold coefficient
    paths as a nested list [l1 index][fold index] of sparse (p, n_alphas) matrices.
    """
    jobs = [(i, k) for i in range(len(l1_ratios)) for k in range(len(folds))]
    progress = Progress(len(jobs), "cv fits", verbose)

    def run(job):
        i, k = job
        train, test = folds[k]
        out = fold_path(X, y, sample_weight, train, test, fit_intercept, grids[i],
                        l1_ratios[i], gram, solve_params, fold_grams)
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
