"""LogisticRegression, LogisticRegressionCV and logistic_path against scikit-learn.

References: scikit-learn's saga solver (the same minimiser for L1 / Elastic-Net) at
tight tolerance, scikit-learn's own estimators for shapes, types and API behaviour, and
numpy objectives for the certificates. The solver's own tests (independent minimiser,
KKT, every iterate's gap) are in test_logistic_solver.py.
"""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
import sklearn.linear_model as sk
from numpy.testing import assert_allclose, assert_array_equal
from scipy.special import log_expit, logsumexp
from sklearn.datasets import load_iris, make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import StratifiedKFold
from sklearn.utils.class_weight import compute_sample_weight

import fastlasso
from fastlasso import LogisticRegression, LogisticRegressionCV, logistic_path
from fastlasso._logistic_cv import select_C


def _binary(n=120, p=12, seed=0):
    X, y = make_classification(n, p, n_informative=4, random_state=seed)
    return X, y


def _iris():
    X, y = load_iris(return_X_y=True)
    return (X - X.mean(0)) / X.std(0), y


def objective(est, X, y, sample_weight=None):
    """scikit-learn's objective of a fitted model, in numpy float64 (its class weights
    multiply the sample weights)."""
    X = X.toarray() if sp.issparse(X) else np.asarray(X, dtype=np.float64)
    idx = np.searchsorted(est.classes_, y)
    s = np.ones(len(y)) if sample_weight is None else np.asarray(sample_weight)
    if est.class_weight is not None:
        s = s * compute_sample_weight(est.class_weight, y)
    Z = X @ est.coef_.T.astype(np.float64) + est.intercept_
    if Z.shape[1] == 1:
        loss = -np.where(idx == 1, log_expit(Z[:, 0]), log_expit(-Z[:, 0]))
    else:
        loss = logsumexp(Z, axis=1) - Z[np.arange(len(y)), idx]
    W = est.coef_.astype(np.float64)
    r = est.l1_ratio
    return est.C * s @ loss + r * np.abs(W).sum() + 0.5 * (1 - r) * (W**2).sum()


def _saga(**params):
    return sk.LogisticRegression(solver="saga", tol=1e-12, max_iter=200_000, **params)


@pytest.mark.parametrize("data", ["binary", "iris"])
@pytest.mark.parametrize("l1_ratio", [1.0, 0.4])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("weights", [None, "sample", "class"])
def test_same_minimiser_as_saga(data, l1_ratio, fit_intercept, weights):
    X, y = _binary() if data == "binary" else _iris()
    C = 0.3 if data == "binary" else 0.8
    sw, cw = None, None
    if weights == "sample":
        sw = np.random.default_rng(0).uniform(0.2, 3.0, len(y))
    elif weights == "class":
        cw = "balanced" if data == "binary" else {0: 1.0, 1: 3.0, 2: 0.5}
    params = dict(C=C, l1_ratio=l1_ratio, fit_intercept=fit_intercept, class_weight=cw)
    est = LogisticRegression(tol=1e-12, **params).fit(X, y, sample_weight=sw)
    ref = _saga(**params).fit(X, y, sample_weight=sw)
    f, f_ref = objective(est, X, y, sw), objective(ref, X, y, sw)
    # the certificate, and no worse than saga
    assert f - f_ref <= est.dual_gap_ + 1e-12 * f_ref
    assert f <= f_ref + 1e-9 * f_ref
    assert_allclose(est.coef_, ref.coef_, atol=1e-5)
    assert_allclose(est.intercept_, ref.intercept_, atol=1e-5)
    assert_allclose(est.predict_proba(X), ref.predict_proba(X), atol=1e-6)
    assert_array_equal(est.predict(X), ref.predict(X))


@pytest.mark.parametrize("data", ["binary", "iris"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_attributes_match_sklearns_shapes_and_dtypes(data, dtype, fit_intercept):
    X, y = _binary() if data == "binary" else _iris()
    X = X.astype(dtype)
    labels = np.array(["ant", "bee", "cat"])[y]  # string labels
    est = LogisticRegression(C=1.0, l1_ratio=1.0, fit_intercept=fit_intercept)
    ref = _saga(C=1.0, l1_ratio=1.0, fit_intercept=fit_intercept)
    ref.set_params(tol=1e-4, max_iter=1000)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ref.fit(X, labels)
    est.fit(X, labels)
    for attr in ("coef_", "intercept_", "n_iter_", "classes_"):
        ours, theirs = getattr(est, attr), getattr(ref, attr)
        assert ours.shape == theirs.shape, attr
        assert ours.dtype == theirs.dtype, attr
    assert_array_equal(est.classes_, ref.classes_)
    for method in ("predict", "predict_proba", "predict_log_proba",
                   "decision_function"):
        ours, theirs = getattr(est, method)(X), getattr(ref, method)(X)
        assert ours.shape == theirs.shape and ours.dtype == theirs.dtype, method
    assert isinstance(est.dual_gap_, float)


def test_float32_gives_the_float64_answer_to_float32_accuracy():
    X, y = _iris()
    a = LogisticRegression(C=0.5, l1_ratio=1.0, tol=1e-10).fit(X, y)
    b = LogisticRegression(C=0.5, l1_ratio=1.0, tol=1e-6).fit(X.astype(np.float32), y)
    assert b.coef_.dtype == np.float32
    assert_allclose(b.coef_, a.coef_, atol=2e-4)


@pytest.mark.parametrize(
    "layout",
    ["F", "C", "csr", "csc32", "csc64", "coo"],
)
def test_every_layout_gives_the_same_model(layout):
    X, y = _iris()
    X = X * (np.abs(X) > 0.5)
    ref = LogisticRegression(C=0.5, l1_ratio=0.7, tol=1e-12).fit(X, y)
    if layout == "F":
        A = np.asfortranarray(X)
    elif layout == "C":
        A = np.ascontiguousarray(X)
    elif layout == "csc64":
        c = sp.csc_matrix(X)
        A = sp.csc_matrix((c.data, c.indices.astype(np.int64),
                           c.indptr.astype(np.int64)), shape=c.shape)
    else:
        A = sp.csc_matrix(X).asformat(layout.rstrip("32"))
    est = LogisticRegression(C=0.5, l1_ratio=0.7, tol=1e-12).fit(A, y)
    assert_allclose(est.coef_, ref.coef_, rtol=1e-8, atol=1e-10)
    assert_allclose(est.intercept_, ref.intercept_, rtol=1e-8, atol=1e-10)


def test_dual_gap_bounds_the_suboptimality_of_a_loose_fit():
    X, y = _iris()
    tight = LogisticRegression(C=2.0, l1_ratio=1.0, tol=1e-12).fit(X, y)
    f_star = objective(tight, X, y)
    for tol in (1e-1, 1e-2, 1e-3):
        est = LogisticRegression(C=2.0, l1_ratio=1.0, tol=tol).fit(X, y)
        f = objective(est, X, y)
        assert f - f_star <= est.dual_gap_ * (1 + 1e-9)
        # and it stopped because of the tolerance: the gap is below it
        null = len(y) * np.log(3)  # equal classes: the intercepts' model loses log 3
        assert est.dual_gap_ <= tol * null * 2.0 + 1e-12


def test_warm_start_continues_from_the_last_solution():
    X, y = _iris()
    est = LogisticRegression(C=5.0, l1_ratio=1.0, tol=1e-10, warm_start=True).fit(X, y)
    coef = est.coef_.copy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.set_params(max_iter=1).fit(X, y)
    assert_allclose(est.coef_, coef, atol=1e-6)
    cold = LogisticRegression(C=5.0, l1_ratio=1.0, max_iter=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        cold.fit(X, y)
    assert np.abs(cold.coef_ - coef).sum() > 1.0


def test_max_iter_zero_is_the_start_and_warns():
    X, y = _binary()
    with pytest.warns(ConvergenceWarning, match="did not converge"):
        est = LogisticRegression(l1_ratio=1.0, max_iter=0).fit(X, y)
    assert not est.coef_.any() and est.n_iter_[0] == 0
    assert_allclose(est.predict_proba(X), 0.5)


def test_bad_C_and_labels_raise_clear_errors():
    X, y = _binary()
    with pytest.raises(ValueError, match="C=inf"):
        LogisticRegression(C=np.inf).fit(X, y)
    with pytest.raises(ValueError, match="at least 2 classes"):
        LogisticRegression().fit(X, np.zeros(len(y)))
    with pytest.raises(ValueError, match="Unknown label type"):
        LogisticRegression().fit(X, np.linspace(0, 1, len(y)))


def test_pure_l2_is_the_ridge_logistic_minimiser():
    X, y = _iris()
    est = LogisticRegression(C=0.5, l1_ratio=0.0, tol=1e-12).fit(X, y)
    ref = sk.LogisticRegression(C=0.5, tol=1e-12, max_iter=10_000).fit(X, y)  # lbfgs
    # lbfgs reports the intercepts of its own parametrisation; compare predictions
    assert_allclose(est.coef_ - est.coef_.mean(0), ref.coef_ - ref.coef_.mean(0),
                    atol=1e-6)
    assert_allclose(est.predict_proba(X), ref.predict_proba(X), atol=1e-7)


# ---------------------------------------------------------------------------------
# logistic_path


def test_path_starts_at_C_min_and_matches_single_fits():
    X, y = _binary()
    Cs, coefs, intercepts, gaps, n_iters = logistic_path(
        X, y, Cs=8, eps=1e-2, tol=1e-12, return_n_iter=True)
    assert np.all(np.diff(Cs) > 0) and coefs.shape == (8, 1, X.shape[1])
    assert not coefs[0].any()  # C_min: the largest C with no feature
    assert coefs[1].any()
    # just below C_min every coefficient is 0 as well, just above one is not
    est = LogisticRegression(C=Cs[0] * 1.001, l1_ratio=1.0, tol=1e-12).fit(X, y)
    assert est.coef_.any()
    est = LogisticRegression(C=Cs[0] * 0.999, l1_ratio=1.0, tol=1e-12).fit(X, y)
    assert not est.coef_.any()
    for k in (2, 5, 7):
        est = LogisticRegression(C=Cs[k], l1_ratio=1.0, tol=1e-12).fit(X, y)
        assert_allclose(coefs[k], est.coef_, atol=1e-7)
        assert_allclose(intercepts[k], est.intercept_, atol=1e-7)
    assert (gaps >= -1e-10).all() and n_iters.shape == (8,)


def test_path_multinomial_explicit_Cs():
    X, y = _iris()
    Cs, coefs, intercepts, gaps = logistic_path(X, y, Cs=[1.0, 0.1, 0.01],
                                                l1_ratio=0.5, tol=1e-10)
    assert_allclose(Cs, [0.01, 0.1, 1.0])
    assert coefs.shape == (3, 3, 4) and intercepts.shape == (3, 3)
    est = LogisticRegression(C=0.1, l1_ratio=0.5, tol=1e-10).fit(X, y)
    assert_allclose(coefs[1], est.coef_, atol=1e-6)


# ---------------------------------------------------------------------------------
# LogisticRegressionCV


def test_cv_scores_and_choice_match_sklearns():
    X, y = _binary(n=150)
    # Cs above C_min (0.036 on these folds): below it every coefficient is 0, and saga
    # stops after one epoch with the intercept still off (its stopping rule compares
    # weight changes with the largest weight)
    Cs = [0.05, 0.2, 1.0, 3.0]
    common = dict(Cs=Cs, l1_ratios=[1.0, 0.5], cv=StratifiedKFold(4),
                  scoring="neg_log_loss")
    # tol=1e-12: the gap bound of 1e-10 x F_null leaves the coefficients of the
    # l1_ratio=0.5 fits (strong convexity l2 = 0.5 / C') only within ~3e-4
    est = LogisticRegressionCV(tol=1e-12, **common).fit(X, y)
    ref = sk.LogisticRegressionCV(solver="saga", tol=1e-10, max_iter=100_000,
                                  use_legacy_attributes=False, **common).fit(X, y)
    assert est.scores_.shape == ref.scores_.shape == (4, 2, 4)
    assert_allclose(est.scores_, ref.scores_, rtol=1e-5)
    assert est.C_ == ref.C_ and est.l1_ratio_ == ref.l1_ratio_
    assert est.coefs_paths_.shape == ref.coefs_paths_.shape
    assert_allclose(est.coefs_paths_, ref.coefs_paths_, atol=1e-4)
    assert_allclose(est.coef_, ref.coef_, atol=1e-5)
    assert est.n_iter_.shape == ref.n_iter_.shape


def test_cv_refit_is_the_single_fit_at_the_chosen_C():
    X, y = _iris()
    est = LogisticRegressionCV(Cs=5, l1_ratios=[1.0], tol=1e-10).fit(X, y)
    single = LogisticRegression(C=est.C_, l1_ratio=1.0, tol=1e-10).fit(X, y)
    assert_allclose(est.coef_, single.coef_, atol=1e-6)
    assert_allclose(est.intercept_, single.intercept_, atol=1e-6)
    assert est.coefs_paths_.shape == (5, 1, 5, 3, 5)
    assert est.dual_gap_ <= single.dual_gap_ + 1e-6


def test_cv_threads_give_the_sequential_answer():
    X, y = _binary()
    a = LogisticRegressionCV(Cs=4, l1_ratios=[1.0, 0.3], n_jobs=1).fit(X, y)
    b = LogisticRegressionCV(Cs=4, l1_ratios=[1.0, 0.3], n_jobs=2).fit(X, y)
    assert_array_equal(a.scores_, b.scores_)
    assert_array_equal(a.coef_, b.coef_)


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("weighted", [False, True])
def test_cv_folds_copied_or_weighted_in_place_agree(monkeypatch, sparse, weighted):
    """_cv.fold_rows' two forms of a fold (a copy of the training rows; X itself with
    zero weight on the held-out rows, for an X above FOLD_COPY_BYTES) are the same
    training problem: the same paths and scores."""
    import fastlasso._cv

    X, y = _iris()
    X = sp.csr_matrix(X) if sparse else X
    sw = np.random.default_rng(0).uniform(0.5, 2.0, len(y)) if weighted else None
    params = dict(Cs=[0.05, 0.5, 5.0], l1_ratios=[1.0], cv=StratifiedKFold(3),
                  scoring="neg_log_loss", tol=1e-10)
    copied = LogisticRegressionCV(**params).fit(X, y, sample_weight=sw)
    monkeypatch.setattr(fastlasso._cv, "FOLD_COPY_BYTES", 0)
    in_place = LogisticRegressionCV(**params).fit(X, y, sample_weight=sw)
    assert_allclose(in_place.coefs_paths_, copied.coefs_paths_, atol=1e-6)
    assert_allclose(in_place.scores_, copied.scores_, rtol=1e-7)


def test_cv_one_standard_error_rule():
    X, y = _binary(n=200, p=30)
    est = LogisticRegressionCV(Cs=np.geomspace(0.003, 3, 12), l1_ratios=[1.0],
                               scoring="neg_log_loss", C_rule="1se").fit(X, y)
    mean = est.scores_[:, 0].mean(axis=0)
    best = int(np.argmax(mean))
    assert est.C_best_ == est.Cs_[best]
    threshold = mean[best] - est.scores_se_[0, best]
    first = int(np.flatnonzero(mean >= threshold)[0])
    assert est.C_1se_ == est.Cs_[first] == est.C_ <= est.C_best_
    n_nonzero = (est.coef_ != 0).sum()
    best_model = LogisticRegression(C=est.C_best_, l1_ratio=1.0).fit(X, y)
    assert n_nonzero <= (best_model.coef_ != 0).sum()


def test_select_C_on_known_scores():
    # 3 folds, one l1_ratio, Cs increasing; the best mean is at index 3
    scores = np.array([[[0.1, 0.5, 0.6, 0.7, 0.65]],
                       [[0.2, 0.5, 0.64, 0.72, 0.7]],
                       [[0.0, 0.5, 0.62, 0.68, 0.6]]])
    i, a, a_1se, se = select_C(scores)
    assert (i, a) == (0, 3)
    se_best = np.std([0.7, 0.72, 0.68], ddof=1) / np.sqrt(3)
    assert_allclose(se[0, 3], se_best)
    assert a_1se == 3  # 0.62 < 0.7 - se_best
    scores[:, 0, 2] += 0.07  # now index 2 is within one SE of the best
    assert select_C(scores)[2] == 2


def test_cv_refit_false_averages_the_folds_best():
    X, y = _binary()
    est = LogisticRegressionCV(Cs=[0.05, 0.5], l1_ratios=[1.0], refit=False,
                               cv=3).fit(X, y)
    best = [np.argmax(est.scores_[k, 0]) for k in range(3)]
    paths = est.coefs_paths_[:, 0]
    coef = np.mean([paths[k, b, :, :-1] for k, b in enumerate(best)], axis=0)
    assert_allclose(est.coef_, coef)
    assert_allclose(est.C_, np.mean([est.Cs_[b] for b in best]))
    assert np.isnan(est.dual_gap_)


def test_cv_folds_missing_a_class():
    """KFold on sorted labels: every training fold lacks the class of its held-out
    rows. The fits exist (that class's intercept is -inf, its probability 0) and log
    loss is scored with every class (scikit-learn passes them too)."""
    X, y = _iris()
    from sklearn.model_selection import KFold

    est = LogisticRegressionCV(Cs=3, l1_ratios=[1.0], cv=KFold(3),
                               scoring="neg_brier_score").fit(X, y)
    assert np.isfinite(est.scores_).all()
    assert np.isneginf(est.coefs_paths_[..., -1]).sum() > 0
    assert np.isfinite(est.coef_).all() and np.isfinite(est.intercept_).all()


def test_public_names():
    assert {"LogisticRegression", "LogisticRegressionCV",
            "logistic_path"} <= set(fastlasso.__all__)


def test_cv_attributes_follow_the_order_of_the_Cs_given():
    X, y = _binary()
    Cs = [1.0, 0.02, 0.2]
    est = LogisticRegressionCV(Cs=Cs, l1_ratios=[1.0], cv=3, tol=1e-10).fit(X, y)
    assert_array_equal(est.Cs_, Cs)
    for c, C in enumerate(Cs):  # fold 0's path at C is the fit on its training rows
        train = next(iter(StratifiedKFold(3).split(X, y)))[0]
        single = LogisticRegression(C=C, l1_ratio=1.0, tol=1e-10).fit(
            X[train], y[train])
        assert_allclose(est.coefs_paths_[0, 0, c, :, :-1], single.coef_, atol=1e-6)


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("sparse_format", ["csr", "csc"])
def test_binary_sparse_cold_start_takes_its_first_gradient_from_the_statistics(
        fit_intercept, sparse_format):
    """Two classes, sparse X: the first gradient comes with the column statistics
    (LogisticWorkspace.start_at); the model is the one of dense X, along a path too."""
    X, y = _binary()
    X = X * (np.abs(X) > 0.7)
    A = sp.csr_matrix(X).asformat(sparse_format)
    params = dict(C=0.2, l1_ratio=1.0, tol=1e-12, fit_intercept=fit_intercept)
    a = LogisticRegression(**params).fit(A, y)
    b = LogisticRegression(**params).fit(X, y)
    assert_allclose(a.coef_, b.coef_, rtol=1e-8, atol=1e-10)
    assert_allclose(a.intercept_, b.intercept_, rtol=1e-8, atol=1e-10)
    _, ca, ba, _ = logistic_path(A, y, Cs=6, tol=1e-12, fit_intercept=fit_intercept)
    _, cb, bb, _ = logistic_path(X, y, Cs=6, tol=1e-12, fit_intercept=fit_intercept)
    assert_allclose(ca, cb, rtol=1e-8, atol=1e-10)
    assert_allclose(ba, bb, rtol=1e-8, atol=1e-10)
