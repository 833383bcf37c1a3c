"""Cross-validation of sparse logistic regression: fold paths in threads, scoring.

Each (l1_ratio, fold) job fits the increasing Cs as one warm-started path on the fold's
training rows (_cv.fold_rows: a copy of them if X takes at most _cv.FOLD_COPY_BYTES,
else X in place with zero weight on the held-out rows: the kernels' weighted objective
over all rows is then the objective over the training rows) and scores every C on the
held-out rows with the scorer, as scikit-learn's LogisticRegressionCV does. The kernels
release the GIL, so the jobs run in threads, through joblib as LassoCV's
(_cancel.map_jobs: Ctrl-C cancels them; a configured joblib backend such as Dask's gets
them instead).
"""

import inspect

import numpy as np
import scipy.sparse as sp
from sklearn.metrics import get_scorer, make_scorer

from fastlasso._cancel import map_jobs
from fastlasso._compat import _check_method_params
from fastlasso._cv import fold_rows, select_alpha
from fastlasso._solve_logistic import make_design_and_workspace, solve_logistic_path


def labelled_scorer(scoring, classes):
    """The scorer for ``scoring`` (None: accuracy), told the full list of classes when
    its metric takes ``labels`` (a held-out fold may lack a class; log loss and Brier
    score need to know them all), and the positive class (classes[-1]) for two."""
    scorer = get_scorer("accuracy" if scoring is None else scoring)
    func = getattr(scorer, "_score_func", None)
    if func is None:
        return scorer
    params = inspect.signature(func).parameters
    if "labels" not in params:
        return scorer
    extra = {"labels": classes}
    if len(classes) <= 2 and "pos_label" in params:
        extra["pos_label"] = classes[-1]
    return make_scorer(func, greater_is_better=scorer._sign == 1,
                       response_method=scorer._response_method,
                       **{**getattr(scorer, "_kwargs", {}), **extra})


def _rows(X, rows):
    if sp.issparse(X):
        Xr = X[rows]
        Xr.sort_indices()
        return Xr
    return np.asfortranarray(X.T.take(rows, axis=1).T)


def fold_design(X, y_idx, n_classes, s, train, fit_intercept):
    """(design, weights of the training rows or None, rows the labels are taken from,
    workspace) of a fold: the training problem by _cv.fold_rows (a copy of the training
    rows for a small X, else X with zero weights elsewhere) and the workspace of
    make_design_and_workspace (the fold's path starts from the model without
    features)."""
    Xf, sw, rows = fold_rows(X, s, train)
    design, workspace = make_design_and_workspace(Xf, y_idx[rows], n_classes, sw,
                                                  fit_intercept)
    return design, sw, rows, workspace


def fold_path(X, y, y_idx, classes, s, train, test, fit_intercept, Cs, l1_ratio,
              scorer, make_model, solve_params, score_params=None):
    """Fit the increasing Cs on the training rows and score each on the held-out rows
    (score_params, e.g. sample_weight, taken on those rows). make_model(coef, intercept)
    returns a fitted estimator for the scorer. Returns (coefs (n_Cs, K, p), intercepts
    (n_Cs, K), n_iters, scores (n_Cs,))."""
    design, sw, rows, workspace = fold_design(X, y_idx, len(classes), s, train,
                                              fit_intercept)
    X_test, y_test = _rows(X, test), y[test]
    kw = _check_method_params(X, params=score_params or {}, indices=test)
    wsum = None if sw is None else float(sw.sum())
    coefs, intercepts, _, n_iters = solve_logistic_path(
        design, y_idx[rows], len(classes), Cs, l1_ratio, weight_sum=wsum,
        workspace=workspace, **solve_params)
    scores = np.array([scorer(make_model(c, b), X_test, y_test, **kw)
                       for c, b in zip(coefs, intercepts, strict=True)])
    return coefs, intercepts, n_iters, scores


def cross_validate_logistic(X, y, y_idx, classes, s, folds, fit_intercept, Cs,
                            l1_ratios, scorer, make_model, solve_params, n_jobs=1,
                            score_params=None):
    """Every (l1_ratio, fold) path; Cs increasing. Returns coefs (n_folds, n_l1, n_Cs,
    K, p), intercepts (n_folds, n_l1, n_Cs, K), n_iter and scores (n_folds, n_l1,
    n_Cs)."""
    jobs = [(i, k) for k in range(len(folds)) for i in range(len(l1_ratios))]

    def run(job):
        i, k = job
        train, test = folds[k]
        return fold_path(X, y, y_idx, classes, s, train, test, fit_intercept, Cs,
                         l1_ratios[i], scorer, make_model, solve_params, score_params)

    results = map_jobs(run, jobs, n_jobs)
    shape = (len(folds), len(l1_ratios))
    # jobs run fold-major, l1_ratio-minor: the results reshape to (n_folds, n_l1, ...)
    return tuple(np.array([r[part] for r in results]).reshape(
                     shape + np.shape(results[0][part]))
                 for part in range(4))


def select_C(scores):
    """Best and one-standard-error choices from scores (n_folds, n_l1, n_Cs) along
    increasing Cs: the best (l1_ratio, C) has the highest mean score; within its
    l1_ratio, C_1se is the smallest C (the sparsest, most regularised model) whose mean
    score is >= best - SE(best), SE the standard error over the folds (glmnet's rule,
    as LassoCV's alpha_1se_). Returns (l1 index, best C index, 1se C index, se)."""
    loss = -np.moveaxis(scores, 0, 1)  # (n_l1, n_folds, n_Cs), lower is better
    n_folds = loss.shape[1]
    se = np.zeros((loss.shape[0], loss.shape[2]))
    if n_folds > 1:  # in units of the largest |score|, so the squares never overflow
        unit = max(float(np.abs(loss).max()), np.finfo(np.float64).tiny)
        se = unit * (loss / unit).std(axis=1, ddof=1) / np.sqrt(n_folds)
    i, a, a_1se = select_alpha(loss.mean(axis=1), se)
    return i, a, a_1se, se
