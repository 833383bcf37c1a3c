"""Cross-validation along the path: folds in parallel threads, copies of X if small.

The CV driver: ``cross_validate`` takes validated data and the folds (the estimator
makes them with scikit-learn's splitters) and returns plain arrays: the grids, the
held-out errors, their standard errors, the choice of l1_ratio and alpha, and the refit
on all rows. ``ElasticNetCV.fit`` only validates input and shapes the attributes.
Below it: ``cross_validate_paths`` runs every (l1_ratio, fold) path, ``fold_path`` one
of them, ``GramFolds`` the folds of n >> p dense problems from sufficient statistics.

A fold of an X of at most FOLD_COPY_BYTES is a copy of its training rows, made once:
next to the fold's path (hundreds of passes over the columns) the copy is cheap, and
the kernels then skip the held-out rows and, without sample weights, the weighting
(20-30% less time on wide dense and sparse data). A larger X is used in place, with
zero sample weight on the held-out rows: the weighted objective over all rows equals
the objective over the training rows (weights are rescaled to sum to n), and centring
uses the weighted means of the training rows; the held-out rows then still cost
about 1/K of each pass over a column, which is far cheaper than K copies of a big X.
The kernels release the GIL, so folds (and l1_ratios) run concurrently in threads
(each holding its own copy, if any).

Held-out predictions read only the features that enter the path, and never
materialise X[test]: for sparse X as X[:, active] @ (sparse coefficients), for dense X
in blocks of rows.

When the folds run in full-Gram mode (dense X, n >> p), zero-weight rows would still
cost every fold a whole Gram product. Instead GramFolds computes sufficient statistics
of each held-out block once, and gets every fold's training problem and held-out errors
from them: the whole cross-validation reads X once (about n p^2 / 2 flops).
"""

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.linalg.blas import dsyrk

from fastlasso._cancel import map_jobs
from fastlasso._data import (
    Design,
    check_scale,
    intercept_of,
    kernel_kind,
    make_design,
    weighted_mean,
)
from fastlasso._progress import Progress
from fastlasso._solve import Solution, resolve_gram_mode, solve_cd
from fastlasso._solve_path import resolve_alphas, solve_path

ROW_BLOCK = 4096
FOLD_COPY_BYTES = 2**28


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


class GramFolds:
    """Cross-validation of n >> p dense problems from sufficient statistics.

    With s the sample weights (ones if None), rows shifted by m (the weighted mean of
    all rows if fit_intercept, else 0) and z_i = x_i - m, every block R of rows has
        A_R = sum s_i z_i z_i^T,  b_R = sum s_i z_i,  q_R = sum s_i y_i z_i,
        S_R = sum s_i,  Y_R = sum s_i y_i,  YY_R = sum s_i y_i^2.
    The held-out blocks are computed once (about n p^2 / 2 flops in all); the totals
    are their sums when the test sets partition the rows (K-fold), else one more pass.
    The training rows T of a fold are the totals minus its block, and give exactly what
    the kernels would build from X with zero weights on the held-out rows (weights
    rescaled to sum to n, centring by the weighted training means mu = b_T / S_T,
    ybar = Y_T / S_T):
        Gram  n/S_T (A_T - b_T b_T^T / S_T),   X~^T S y_c  n/S_T (q_T - ybar b_T),
        column norms diag(Gram), means m + mu.
    The held-out error of w (intercept c = ybar - mu^T w in z coordinates) is the
    quadratic form YY - 2 c Y + c^2 S - 2 w^T (q - c b) + w^T A w over the block, so no
    fold ever reads X again.
    """

    ROWS = 4096

    def __init__(self, X, y, sample_weight, folds, fit_intercept):
        # O(n) memory: the statistics are O(p^2) per fold; what is kept of length n is
        # y shifted (float64) and the weights if any, and each fold's training problem
        # makes its weights and y_c (see training): no copies of the folds' rows
        self.X, self.fit_intercept = X, fit_intercept
        n = X.shape[0]
        self.weighted = sample_weight is not None
        self.s = None if sample_weight is None else np.asarray(sample_weight, float)
        y = np.asarray(y, dtype=np.float64)
        self.y_shift = weighted_mean(y, self.s) if fit_intercept else 0.0
        self.y = y - self.y_shift  # a constant y is exactly 0 from here on
        self.shift = (np.asarray(self._weights() @ X, dtype=np.float64) / self.S
                      if fit_intercept else np.zeros(X.shape[1]))
        self.tests = [np.asarray(test) for _, test in folds]
        # do the test sets partition the rows? (a mask: no sorted copy of n indices)
        seen = np.zeros(n, dtype=bool)
        partition = sum(len(t) for t in self.tests) == n
        for test in self.tests:
            partition = partition and not seen[test].any()
            seen[test] = True
        partition = partition and bool(seen.all())
        del seen
        with np.errstate(over="ignore", invalid="ignore"):  # check_scale reports it
            self.blocks = [self._stats(test) for test in self.tests]
            if partition:
                self.total = [sum(parts) for parts in zip(*self.blocks, strict=True)]
            else:
                self.total = self._stats(slice(None))

    def _weights(self, rows=slice(None)):
        """The weights of ``rows`` (ones without sample weights)."""
        if self.s is not None:
            return self.s[rows]
        return np.ones(len(range(self.X.shape[0])[rows]) if isinstance(rows, slice)
                       else len(rows))

    @property
    def S(self):
        return float(self.X.shape[0]) if self.s is None else float(self.s.sum())

    def _stats(self, rows):
        p = self.X.shape[1]
        A = np.zeros((p, p), order="F")
        b, q = np.zeros(p), np.zeros(p)
        if isinstance(rows, slice):
            rows = np.arange(self.X.shape[0])[rows]
        for start in range(0, len(rows), self.ROWS):
            r = rows[start:start + self.ROWS]
            s, y = self._weights(r), self.y[r]
            if r[-1] - r[0] + 1 == len(r):  # contiguous rows: a Fortran-ordered copy
                Z = np.array(self.X[r[0]:r[-1] + 1], dtype=np.float64, order="F")
            else:  # gathered rows (a new C-ordered array)
                Z = np.asarray(self.X[r], dtype=np.float64)
            Z -= self.shift
            b += s @ Z
            q += (s * y) @ Z
            if self.weighted:
                Z *= np.sqrt(s)[:, None]
            # upper triangle of Z^T S Z, without copying Z
            if Z.flags.f_contiguous:
                A = dsyrk(1.0, Z, beta=1.0, c=A, trans=1, overwrite_c=1)
            else:
                A = dsyrk(1.0, Z.T, beta=1.0, c=A, overwrite_c=1)
        A = np.triu(A) + np.triu(A, 1).T
        s, y = self._weights(rows), self.y[rows]
        return [A, b, q, float(s.sum()), float(s @ y), float(s @ (y * y))]

    def training(self, k=None):
        """(design, y_c, y_mean, Gram, X~^T S y_c) for the training rows of fold k (all
        rows if k is None), as make_design and the kernels would build them; for all
        rows, what make_design and Design.center would reject raises the same error.
        The design's weights are made here, in X's dtype, and only they: zeros on the
        held-out rows; None for all rows without sample weights (unit weights)."""
        A, b, q, S, Y, _ = self.total
        n = self.X.shape[0]
        dtype = self.X.dtype
        if k is not None:
            held_out = self.blocks[k][:5]
            A, b, q, S, Y = (t - u for t, u in zip((A, b, q, S, Y), held_out,
                                                    strict=True))
        mu, ybar = (b / S, Y / S) if self.fit_intercept else (np.zeros_like(b), 0.0)
        scale = n / S
        with np.errstate(over="ignore", invalid="ignore"):
            gram = scale * (A - np.outer(b, b) / S) if self.fit_intercept else scale * A
            xty = scale * (q - ybar * b)
        norm2 = np.maximum(np.diag(gram), 0.0)  # NaN (overflow) stays NaN: check_scale
        if k is None and self.s is None:
            sw = None
        else:
            sw = np.empty(n, dtype=dtype)
            if self.s is None:
                sw.fill(scale)
            else:
                np.multiply(self.s, scale, out=sw, casting="same_kind")
            if k is not None:
                sw[self.tests[k]] = 0.0
        design = Design(self.X, kernel_kind(self.X), sw, self.fit_intercept,
                        (self.shift + mu).astype(dtype), norm2)
        yc = np.subtract(self.y, ybar, dtype=np.float64)
        yc = yc.astype(dtype, copy=False)
        if k is None:
            check_scale(norm2, dtype, "X")
            with np.errstate(over="ignore"):
                check_scale([design.weighted_sq_norm(yc)], dtype, "y")
        return design, yc, ybar + self.y_shift, gram, xty

    def test_mse(self, k, coefs, intercepts):
        """Held-out weighted mean squared error of each column of coefs, of shape
        (p, n_alphas)."""
        A, b, q, S, Y, YY = self.blocks[k]
        W = np.asarray(coefs, dtype=np.float64)
        c = np.asarray(intercepts, dtype=np.float64) - self.y_shift + self.shift @ W
        quad = np.einsum("ja,ja->a", W, A @ W)
        sse = YY - 2 * c * Y + c * c * S - 2 * (q @ W - c * (b @ W)) + quad
        return np.maximum(sse, 0.0) / S


def path_to_csc(coefs):
    """A (p, n_alphas) coefficient path as a CSC matrix (one column per alpha), from
    one scan of its nonzero pattern (scipy's dense conversion takes three)."""
    nz_t = (coefs != 0).T
    indptr = np.concatenate([[0], np.cumsum(nz_t.sum(axis=1))])
    rows = np.nonzero(nz_t)[1]
    return sp.csc_matrix((coefs.T[nz_t], rows, indptr), shape=coefs.shape)


def rows_to_fortran(X, rows, block=256):
    """X[rows] as a new Fortran-ordered array, for C-ordered X, in one copy.

    A fold copied from C-ordered X is copied into Fortran order: its path then runs on
    the column kernels, whose gradient passes are column dot products, where the
    C-order kernels sweep rows and gather the working set's columns (about twice the
    time per pass on wide data). The copy goes by tiles of block x block entries (each
    gathered from contiguous rows, then written into the columns: both in cache), so
    no C-ordered copy of the fold is made first."""
    rows = np.asarray(rows)
    out = np.empty((len(rows), X.shape[1]), dtype=X.dtype, order="F")
    for i in range(0, len(rows), block):
        r = rows[i:i + block]
        for j in range(0, X.shape[1], block):
            out[i:i + block, j:j + block] = X[r, j:j + block]
    return out


def fold_rows(X, sample_weight, train):
    """(X_f, sample_weight_f, rows): the data of a fold's training problem, by the rule
    of the module docstring. If X takes at most FOLD_COPY_BYTES, X_f is a copy of the
    training rows (sparse X: its rows, indices sorted; dense X: in Fortran order, from
    either order, see rows_to_fortran) with their weights
    (None without sample weights: the kernels then skip the weighting); else X_f is X
    itself and the weights are zero on the held-out rows. ``rows`` selects the targets
    that go with X_f's rows (train, or every row). Shared by every CV driver (one
    target, several tasks, logistic)."""
    size = X.nbytes if not sp.issparse(X) else (
        X.data.nbytes + X.indices.nbytes + X.indptr.nbytes)
    if size <= FOLD_COPY_BYTES:
        if sp.issparse(X):
            Xf = X[train]
            Xf.sort_indices()
        elif X.flags.f_contiguous:
            Xf = np.asfortranarray(X.T.take(train, axis=1).T)  # one copy from Fortran X
        else:
            Xf = rows_to_fortran(X, train)
        sw = None if sample_weight is None else sample_weight[train]
        return Xf, sw, train
    sw = np.zeros(X.shape[0])
    sw[train] = 1.0 if sample_weight is None else sample_weight[train]
    return X, sw, slice(None)


def fold_training(X, y, sample_weight, train, fit_intercept):
    """(design, y_c, y_mean) of a fold's training problem (fold_rows)."""
    Xf, sw, rows = fold_rows(X, sample_weight, train)
    design = make_design(Xf, sw, fit_intercept)
    return design, *design.center(y[rows])


def fold_path(X, y, sample_weight, k, train, test, fit_intercept, alphas, l1_ratio,
              gram_mode, solve_params, gram_folds=None):
    """Fit the path on the training rows of fold k (see fold_training) and score the
    held-out rows. Returns (mse per alpha, coefficient path as a sparse (p, k)
    matrix)."""
    if gram_folds is not None:
        design, yc, y_mean, G, xty = gram_folds.training(k)
        coefs, _, _, _ = solve_path(design, yc, alphas, l1_ratio, gram_mode="full",
                                    gram_matrix=G, gram_xty=xty, **solve_params)
        intercepts = intercept_of(y_mean, design.mu, coefs)
        return gram_folds.test_mse(k, coefs, intercepts), path_to_csc(coefs)
    design, yc, y_mean = fold_training(X, y, sample_weight, train, fit_intercept)
    coefs, _, _, _ = solve_path(design, yc, alphas, l1_ratio, gram_mode=gram_mode,
                                **solve_params)
    intercepts = intercept_of(y_mean, design.mu, coefs)
    resid = predict_rows(X, test, coefs, intercepts) - y[test, None]
    sw_test = None if sample_weight is None else sample_weight[test]
    mse = np.average(resid**2, axis=0, weights=sw_test)
    return mse, path_to_csc(coefs)


def cross_validate_paths(X, y, sample_weight, folds, fit_intercept, grids, l1_ratios,
                         gram_mode, solve_params, n_jobs=1, verbose=False,
                         gram_folds=None):
    """Run every (l1_ratio, fold) path through joblib (_cancel.map_jobs: n_jobs threads,
    or the joblib backend the caller configured, e.g. ``joblib.parallel_config("dask")``
    to spread the folds over a cluster); gram_folds: see GramFolds.

    Returns mse of shape (n_l1_ratio, n_folds, n_alphas) and the fold coefficient
    paths as a nested list [l1 index][fold index] of sparse (p, n_alphas) matrices.
    """
    jobs = [(i, k) for i in range(len(l1_ratios)) for k in range(len(folds))]
    progress = Progress(len(jobs), "cv fits", verbose)

    def run(job):
        i, k = job
        train, test = folds[k]
        out = fold_path(X, y, sample_weight, k, train, test, fit_intercept, grids[i],
                        l1_ratios[i], gram_mode, solve_params, gram_folds)
        progress.step(f"l1_ratio={l1_ratios[i]:g} fold {k + 1}/{len(folds)}")
        return out

    results = map_jobs(run, jobs, n_jobs)
    mse = np.empty((len(l1_ratios), len(folds), len(grids[0])))
    paths = [[None] * len(folds) for _ in l1_ratios]
    for (i, k), (m, c) in zip(jobs, results, strict=True):
        mse[i, k] = m
        paths[i][k] = c
    return mse, paths


def select_alpha(mean_mse, se):
    """Minimum-CV-error and one-standard-error choices.

    mean_mse, se: (n_l1_ratio, n_alphas), along grids of decreasing alphas.
    The best l1_ratio is the one reaching the smallest mean error; within it, alpha_1se
    is the largest alpha whose mean error is <= min + se(at the minimum) (glmnet).
    Returns (l1 index, index of alpha_min, index of alpha_1se).
    """
    i, a = np.unravel_index(np.argmin(mean_mse), mean_mse.shape)
    threshold = mean_mse[i, a] + se[i, a]
    a_1se = int(np.flatnonzero(mean_mse[i] <= threshold)[0])
    return int(i), int(a), a_1se


def standard_errors(mse):
    """Standard error of the mean CV error at each alpha: the standard deviation over
    the folds (ddof=1) / sqrt(n_folds); 0 for a single fold. mse: (n_l1_ratio, n_folds,
    n_alphas). Computed in units of the largest error, so the squares never overflow."""
    n_folds = mse.shape[1]
    if n_folds <= 1:
        return np.zeros((mse.shape[0], mse.shape[2]))
    unit = max(float(mse.max()), np.finfo(np.float64).tiny)
    return unit * (mse / unit).std(axis=1, ddof=1) / np.sqrt(n_folds)


@dataclass
class CVResult:
    """What cross_validate found, in plain arrays (the estimator shapes them).

    grids: alphas (decreasing) per l1_ratio; mse: held-out mean squared errors of shape
    (n_l1_ratio, n_folds, n_alphas); se: standard errors of their means over folds
    (n_l1_ratio, n_alphas); n_nonzero: nonzero coefficients along each path, mean over
    folds (n_l1_ratio, n_alphas); paths: [l1 index][fold index] sparse (p, n_alphas)
    coefficient paths; best: index of the chosen l1_ratio; alpha_min, alpha_1se and
    alpha: indices into grids[best] of the minimum-error alpha, the one-standard-error
    alpha and the one refitted (by alpha_rule); refit: the Solution on all rows at
    that alpha, with intercept its intercept (float64; one per task for the
    multi-task CV, _multitask.mt_cross_validate, whose paths list is empty).
    """

    grids: list
    mse: np.ndarray
    se: np.ndarray
    n_nonzero: np.ndarray
    paths: list
    best: int
    alpha_min: int
    alpha_1se: int
    alpha: int
    refit: Solution
    intercept: float


def cross_validate(X, y, sample_weight, folds, l1_ratios, *, alphas, eps,
                   fit_intercept, gram_mode, alpha_rule, solve_params, n_jobs=1,
                   verbose=False):
    """Cross-validated Elastic Net: grids, fold paths, errors, choice and refit.

    X in kernel layout (_data.as_design_matrix), y in X's dtype, sample_weight raw
    (validated, not rescaled) or None; folds a list of (train, test) row indices;
    alphas a count or values per scikit-learn (resolve_alphas), on the full data's grid
    for every l1_ratio; gram_mode as for _solve (from the estimator's precompute);
    alpha_rule "min" or "1se"; solve_params the options of every solve (tol, max_iter,
    positive, selection, random_state); n_jobs threads over (l1_ratio, fold) paths.

    When the folds would run in full-Gram mode (dense X, n >> p), the folds and the
    refit are built from sufficient statistics (GramFolds) instead of from X. The refit
    on all rows starts from the mean of the fold solutions at the chosen alpha.
    """
    gram_folds, gram_full = None, {}
    if resolve_gram_mode(X, gram_mode, n_solves=2) == "full":
        # the folds' training rows are never read again (only their statistics): let
        # them go (the caller passes folds without keeping them)
        folds = [(None, test) for _, test in folds]
        gram_folds = GramFolds(X, y, sample_weight, folds, fit_intercept)
        full, yc_full, y_mean, G, xty = gram_folds.training()
        gram_mode, gram_full = "full", dict(gram_matrix=G, gram_xty=xty)
    else:
        full = make_design(X, sample_weight, fit_intercept)
        yc_full, y_mean = full.center(y)
    positive = solve_params["positive"]
    grids = [resolve_alphas(full, yc_full, alphas, r, eps, positive) for r in l1_ratios]
    mse, paths = cross_validate_paths(
        X, y, sample_weight, folds, fit_intercept, grids, l1_ratios, gram_mode,
        solve_params, n_jobs=n_jobs, verbose=verbose, gram_folds=gram_folds,
    )
    mean_mse = mse.mean(axis=1)
    se = standard_errors(mse)
    best, a_min, a_1se = select_alpha(mean_mse, se)
    a = a_min if alpha_rule == "min" else a_1se
    n_nonzero = np.array([[np.diff(c.indptr) for c in row] for row in paths])
    n_nonzero = n_nonzero.mean(axis=1)
    warm = np.mean([c[:, a].toarray().ravel() for c in paths[best]], axis=0)
    sol = solve_cd(full, yc_full, float(grids[best][a]), l1_ratios[best],
                   coef_init=warm, gram_mode=gram_mode, n_threads=1, **solve_params,
                   **gram_full)
    return CVResult(grids, mse, se, n_nonzero, paths, best, a_min, a_1se, a, sol,
                    float(intercept_of(y_mean, full.mu, sol.coef)))
