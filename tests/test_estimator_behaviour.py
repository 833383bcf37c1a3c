"""Estimator behaviour expected of a scikit-learn drop-in: dtypes, invariances of the
solution (weights, duplicated rows, sparse formats), untouched inputs, warm starts,
multi-target y, random selection, convergence warnings, predict/score/sparse_coef_ and
the objective history.

Solutions are compared at tol=1e-12 (float64), where two fits of the same problem agree
to ~1e-9 relative; scikit-learn references are fitted at tol=1e-14.
"""

import re
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
import sklearn
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import Lasso as SkLasso

import fastlasso

from conftest import (
    LAYOUTS,
    SHAPES,
    alpha_max,
    as_layout,
    make_regression_data,
    objective,
    reference_problem,
    sklearn_fit,
    y_scale,
)
from helpers import make_estimator

TIGHT = {"tol": 1e-12, "max_iter": 100_000}
RTOL = 1e-8  # two tight fits of one problem


def wide_problem(weighted=False):
    """(X, y, sample_weight or None, alpha = 0.05 alpha_max) on fresh arrays."""
    X, y, sw = make_regression_data(*SHAPES["wide"])
    sw = sw if weighted else None
    return X, y, sw, 0.05 * alpha_max(X, y, sw)


def assert_same_solution(a, b, rtol=RTOL):
    scale = np.abs(b.coef_).max()
    assert_allclose(a.coef_, b.coef_, rtol=rtol, atol=rtol * scale)
    assert_allclose(a.intercept_, b.intercept_, rtol=rtol, atol=rtol * max(1, scale))


# ---- dtypes


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("y_dtype", [np.float32, np.float64])
@pytest.mark.parametrize("two_d", [False, True], ids=["y1d", "y2d"])
def test_float32_in_float32_out(layout, y_dtype, two_d):
    X, y, _, alpha = wide_problem()
    Y = np.c_[y, -y] if two_d else y
    est = fastlasso.Lasso(alpha=alpha).fit(
        as_layout(X.astype(np.float32), layout), Y.astype(y_dtype)
    )
    assert est.coef_.dtype == np.float32
    assert np.asarray(est.dual_gap_).dtype == np.float32
    assert est.predict(as_layout(X.astype(np.float32), layout)).dtype == np.float32
    if two_d:
        assert est.intercept_.dtype == np.float32


def test_intercept_dtype_matches_sklearn_for_float32():
    X, y, _, alpha = wide_problem()
    X, y = X.astype(np.float32), y.astype(np.float32)
    ours = fastlasso.Lasso(alpha=alpha).fit(X, y)
    theirs = SkLasso(alpha=alpha).fit(X, y)
    assert np.asarray(theirs.intercept_).dtype == np.float32
    assert np.asarray(ours.intercept_).dtype == np.asarray(theirs.intercept_).dtype


@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.bool_])
def test_int_and_bool_X_are_accepted(dtype):
    X, y, _ = make_regression_data(*SHAPES["wide"])
    Xd = (np.round(3 * X) if dtype is not np.bool_ else X > 1).astype(dtype)
    est = fastlasso.Lasso(alpha=0.05, **TIGHT).fit(Xd, y)
    ref = fastlasso.Lasso(alpha=0.05, **TIGHT).fit(Xd.astype(np.float64), y)
    assert est.coef_.dtype == np.float64
    assert_same_solution(est, ref)
    assert np.count_nonzero(est.coef_) > 0


# ---- invariances of the solution


@pytest.mark.parametrize("layout", ["dense_F", "csc"])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_unit_and_scalar_weights_equal_no_weights(layout, fit_intercept):
    X, y, _, alpha = wide_problem()
    Xl = as_layout(X, layout)
    ref = fastlasso.Lasso(alpha=alpha, fit_intercept=fit_intercept, **TIGHT).fit(Xl, y)
    for sw in (np.ones(len(y)), 3.0 * np.ones(len(y)), 3.0):
        est = fastlasso.Lasso(alpha=alpha, fit_intercept=fit_intercept, **TIGHT)
        assert_same_solution(est.fit(Xl, y, sample_weight=sw), ref)


@pytest.mark.parametrize("layout", ["dense_F", "csc"])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("with_zeros", [False, True], ids=["positive", "some_zero"])
@pytest.mark.parametrize("model", ["Lasso", "ElasticNet"])
def test_integer_weights_equal_duplicated_rows(
    layout, fit_intercept, with_zeros, model
):
    """Weight k_i == row i repeated k_i times (k_i = 0: row dropped)."""
    X, y, _ = make_regression_data(*SHAPES["wide"])
    k = np.random.default_rng(1).integers(0 if with_zeros else 1, 4, size=len(y))
    alpha = 0.05 * alpha_max(X, y, k, fit_intercept)
    kw = dict(fit_intercept=fit_intercept, **TIGHT)
    est = make_estimator(model, alpha, 0.5, **kw).fit(
        as_layout(X, layout), y, sample_weight=k
    )
    Xr, yr = np.repeat(X, k, axis=0), np.repeat(y, k)
    ref = make_estimator(model, alpha, 0.5, **kw).fit(as_layout(Xr, layout), yr)
    assert_same_solution(est, ref)


SPARSE_FORMATS = (
    "csc", "csr", "coo", "lil", "dok", "bsr", "csc_array", "csr_array", "coo_array",
    "csc_int64", "csr_int64", "csc_noncanonical",
)  # fmt: skip


def sparse_variant(X, fmt):
    """X in a scipy.sparse format of SPARSE_FORMATS: every container, int64 indices,
    or a non-canonical CSC (unsorted indices, entries split into duplicates)."""
    if fmt == "csc_noncanonical":
        return noncanonical_csc(X)
    if fmt.endswith("_int64"):
        M = sp.csc_matrix(X) if fmt.startswith("csc") else sp.csr_matrix(X)
        M.indices, M.indptr = M.indices.astype(np.int64), M.indptr.astype(np.int64)
        return M
    container = fmt + ("" if fmt.endswith("_array") else "_matrix")
    return getattr(sp, container)(X)


def noncanonical_csc(X):
    """CSC of X whose columns list each entry twice (halves), in reversed row order."""
    C = sp.csc_matrix(X)
    data, indices, indptr = [], [], [0]
    for j in range(C.shape[1]):
        rows = C.indices[C.indptr[j] : C.indptr[j + 1]][::-1]
        vals = C.data[C.indptr[j] : C.indptr[j + 1]][::-1]
        data += [vals / 2, vals / 2]
        indices += [rows, rows]
        indptr.append(indptr[-1] + 2 * len(rows))
    M = sp.csc_matrix(
        (np.concatenate(data), np.concatenate(indices), indptr), shape=C.shape
    )
    assert not M.has_canonical_format
    return M


@pytest.mark.parametrize("fmt", SPARSE_FORMATS)
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("weighted", [False, True])
def test_sparse_equals_dense(fmt, fit_intercept, weighted):
    X, y, sw, alpha = wide_problem(weighted)
    kw = dict(alpha=alpha, fit_intercept=fit_intercept, **TIGHT)
    ref = fastlasso.Lasso(**kw).fit(X, y, sample_weight=sw)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Can't check dok", UserWarning)
        est = fastlasso.Lasso(**kw).fit(sparse_variant(X, fmt), y, sample_weight=sw)
    assert_same_solution(est, ref)


def snapshot(a):
    if sp.issparse(a):
        return (
            a.format,
            a.dtype,
            a.shape,
            a.data.copy(),
            a.indices.copy(),
            a.indptr.copy(),
        )
    return (a.dtype, a.shape, a.flags.f_contiguous, a.copy())


def assert_unchanged(a, snap):
    now = snapshot(a)
    assert now[:3] == snap[:3]
    for x, y in zip(now[3:], snap[3:], strict=True):
        if isinstance(x, np.ndarray):
            assert_array_equal(x, y, strict=True)
        else:
            assert x == y


@pytest.mark.parametrize("layout", [*LAYOUTS, "csc_noncanonical", "csc_int64"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("two_d", [False, True], ids=["y1d", "y2d"])
def test_inputs_are_not_modified(layout, dtype, two_d):
    """X, y and sample_weight are untouched (copy_X=True) in every Gram mode."""
    X, y, sw, alpha = wide_problem(weighted=True)
    X = X.astype(dtype)
    X = as_layout(X, layout) if layout in LAYOUTS else sparse_variant(X, layout)
    y = (np.c_[y, 2 * y] if two_d else y).astype(dtype)
    snaps = [snapshot(a) for a in (X, y, sw)]
    for precompute in (
        ("auto", True, False) if layout.startswith("dense") else ("auto",)
    ):
        fastlasso.ElasticNet(alpha=alpha, precompute=precompute).fit(
            X, y, sample_weight=sw
        )
        for a, snap in zip((X, y, sw), snaps, strict=True):
            assert_unchanged(a, snap)


def test_constant_column_gets_zero_and_matches_sklearn():
    """A constant column is zero after centring: its coefficient is exactly 0."""
    X, y, _, alpha = wide_problem()
    X[:, 3] = 2.5
    est = fastlasso.Lasso(alpha=alpha, **TIGHT).fit(X, y)
    ref = sklearn_fit("Lasso", X, y, alpha=alpha)
    assert est.coef_[3] == 0.0
    assert_same_solution(est, ref, rtol=1e-6)


def test_elasticnet_with_l1_ratio_one_is_lasso():
    X, y, sw, alpha = wide_problem(weighted=True)
    a = fastlasso.ElasticNet(alpha=alpha, l1_ratio=1.0, **TIGHT).fit(
        X, y, sample_weight=sw
    )
    b = fastlasso.Lasso(alpha=alpha, **TIGHT).fit(X, y, sample_weight=sw)
    assert_same_solution(a, b)


def test_n_jobs_does_not_change_the_solution():
    X, y, sw, alpha = wide_problem(weighted=True)
    a = fastlasso.Lasso(alpha=alpha, n_jobs=2, **TIGHT).fit(X, y, sample_weight=sw)
    b = fastlasso.Lasso(alpha=alpha, n_jobs=1, **TIGHT).fit(X, y, sample_weight=sw)
    assert_same_solution(a, b)


# ---- warm start


@pytest.mark.parametrize("layout", ["dense_F", "csc"])
def test_warm_start_continues_from_coef(layout):
    """Repeated warm fits of 2 epochs make progress until convergence, whereas cold
    fits of 2 epochs repeat the same result."""
    X, y, _, alpha = wide_problem()
    X = as_layout(X, layout)
    tol = 1e-10
    target = tol * y_scale(y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        cold = fastlasso.Lasso(alpha=alpha, tol=tol, max_iter=2)
        gap_cold = cold.fit(X, y).dual_gap_
        assert gap_cold > target
        assert cold.fit(X, y).dual_gap_ == gap_cold
        warm = fastlasso.Lasso(alpha=alpha, tol=tol, max_iter=2, warm_start=True)
        gaps = [warm.fit(X, y).dual_gap_ for _ in range(200)]
    assert min(gaps) <= target
    assert gaps[1] < gaps[0]
    ref = sklearn_fit("Lasso", X, y, alpha=alpha)
    assert_same_solution(warm, ref, rtol=1e-6)


@pytest.mark.parametrize("two_d", [False, True], ids=["y1d", "y2d"])
def test_warm_start_from_a_given_solution_needs_no_work(two_d):
    """coef_ set to scikit-learn's optimum is used as the starting point: one epoch is
    enough to converge, while a cold start with one epoch is not."""
    X, y, _, alpha = wide_problem()
    Y = np.c_[y, X[:, 7] - y] if two_d else y
    ref = sklearn_fit("Lasso", X, Y, alpha=alpha)
    with pytest.warns(ConvergenceWarning):
        fastlasso.Lasso(alpha=alpha, tol=1e-10, max_iter=1).fit(X, Y)
    est = fastlasso.Lasso(alpha=alpha, tol=1e-10, max_iter=1, warm_start=True)
    est.coef_ = ref.coef_.copy()
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        est.fit(X, Y)
    assert_same_solution(est, ref, rtol=1e-6)


@pytest.mark.parametrize("layout,precompute", [
    ("dense_F", False), ("dense_F", True), ("dense_C", False), ("dense_C", True),
    ("csc", False), ("csr", False)])
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
def test_small_budgets_step_scikit_learns_trajectory(layout, precompute, weighted):
    """A budget of a few epochs runs scikit-learn's cyclic sweeps: a fit of 10 epochs
    returns scikit-learn's iterate of 10 epochs (and its gap, with a warning), and two
    warm fits of 5 epochs continue that trajectory to the same point."""
    X, y, sw, alpha = wide_problem(weighted)
    Xl = as_layout(X, layout)
    params = dict(alpha=alpha, l1_ratio=0.5, precompute=precompute, tol=1e-12)
    ref = sklearn.linear_model.ElasticNet(max_iter=10, **params)
    with pytest.warns(ConvergenceWarning):
        ref.fit(X, y, sample_weight=sw)
    with pytest.warns(ConvergenceWarning):
        once = fastlasso.ElasticNet(max_iter=10, **params).fit(Xl, y, sample_weight=sw)
    twice = fastlasso.ElasticNet(max_iter=5, warm_start=True, **params)
    for _ in range(2):
        with pytest.warns(ConvergenceWarning):
            twice.fit(Xl, y, sample_weight=sw)
    scale = np.abs(ref.coef_).max()
    for est in (once, twice):
        assert_allclose(est.coef_, ref.coef_, rtol=1e-10, atol=1e-12 * scale)
        assert_allclose(est.intercept_, ref.intercept_, rtol=1e-10, atol=1e-12 * scale)
        assert_allclose(est.dual_gap_, ref.dual_gap_, rtol=1e-8)
    assert once.n_iter_ == 10


def test_warm_start_at_new_alpha_gives_the_cold_solution():
    X, y, _, alpha = wide_problem()
    est = fastlasso.Lasso(alpha=2 * alpha, warm_start=True, **TIGHT).fit(X, y)
    est.set_params(alpha=alpha).fit(X, y)
    cold = fastlasso.Lasso(alpha=alpha, **TIGHT).fit(X, y)
    assert_same_solution(est, cold)


# ---- multi-target y


@pytest.mark.parametrize("layout", ["dense_F", "csr"])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("model", ["Lasso", "ElasticNet"])
def test_2d_y_matches_per_column_fits_and_sklearn(layout, weighted, model):
    X, y, sw, alpha = wide_problem(weighted)
    Y = np.c_[y, X[:, 7] - 0.5 * y, 2 * X[:, 30] + 1]
    Xl = as_layout(X, layout)
    est = make_estimator(model, alpha, 0.5, **TIGHT).fit(Xl, Y, sample_weight=sw)
    assert est.coef_.shape == (3, X.shape[1])
    assert est.intercept_.shape == (3,)
    assert np.shape(est.dual_gap_) == (3,)
    assert len(est.n_iter_) == 3
    assert est.predict(Xl).shape == Y.shape
    for k in range(3):
        one = make_estimator(model, alpha, 0.5, **TIGHT).fit(
            Xl, Y[:, k], sample_weight=sw
        )
        assert_allclose(
            est.coef_[k], one.coef_, rtol=RTOL, atol=RTOL * np.abs(one.coef_).max()
        )
        assert_allclose(est.intercept_[k], one.intercept_, rtol=RTOL)
    ref = sklearn_fit(model, X, Y, alpha=alpha, l1_ratio=0.5, sample_weight=sw)
    assert_same_solution(est, ref, rtol=1e-6)


# ---- coordinate selection


@pytest.mark.parametrize("layout", ["dense_F", "csc"])
@pytest.mark.parametrize("shape", list(SHAPES))
def test_random_selection_is_reproducible_and_agrees_with_cyclic(layout, shape):
    prob = reference_problem(shape, np.float64, True, True, False, "Lasso")
    Xl = as_layout(prob.X, layout)

    def fit(**kw):
        return fastlasso.Lasso(alpha=prob.alpha, tol=1e-10, **kw).fit(
            Xl, prob.y, sample_weight=prob.sample_weight
        )

    a = fit(selection="random", random_state=3)
    b = fit(selection="random", random_state=3)
    c = fit(selection="random", random_state=np.random.RandomState(3))
    d = fit(selection="random", random_state=np.random.RandomState(3))
    assert_array_equal(a.coef_, b.coef_)
    assert a.intercept_ == b.intercept_
    assert_array_equal(c.coef_, d.coef_)
    cyclic = fit(selection="cyclic")
    assert_same_solution(a, cyclic, rtol=1e-6)
    assert_allclose(a.coef_, prob.coef, atol=1e-6 * np.abs(prob.coef).max())


# ---- convergence warning


FLOAT = r"[-+]?\d+(?:\.\d*)?(?:[eE][-+]?\d+)?"


@pytest.mark.parametrize("layout", ["dense_F", "csc"])
@pytest.mark.parametrize("model", ["Lasso", "ElasticNet"])
def test_convergence_warning_states_gap_and_tolerance(layout, model):
    """max_iter too small: a ConvergenceWarning whose message gives the gap reached
    (dual_gap_) and the tolerance asked (tol * ||y - ybar||_S^2 / n, computed here)."""
    X, y, sw, alpha = wide_problem(weighted=True)
    tol = 1e-10
    est = make_estimator(model, alpha, 0.5, tol=tol, max_iter=2)
    with pytest.warns(ConvergenceWarning) as record:
        est.fit(as_layout(X, layout), y, sample_weight=sw)
    messages = [str(w.message) for w in record if w.category is ConvergenceWarning]
    assert len(messages) == 1
    numbers = [float(x) for x in re.findall(FLOAT, messages[0])]
    target = tol * y_scale(y, sw)
    assert est.dual_gap_ > target
    assert any(np.isclose(v, est.dual_gap_, rtol=1e-3) for v in numbers), messages[0]
    assert any(np.isclose(v, target, rtol=1e-3) for v in numbers), messages[0]
    assert re.search("gap", messages[0], re.IGNORECASE)
    assert re.search("tol", messages[0], re.IGNORECASE)


# ---- predict, score, sparse_coef_


@pytest.mark.parametrize("layout", ["dense_F", "csr"])
@pytest.mark.parametrize("two_d", [False, True], ids=["y1d", "y2d"])
@pytest.mark.parametrize("sparse_interface", ["spmatrix", "sparray"])
def test_predict_score_sparse_coef_match_sklearn(layout, two_d, sparse_interface):
    X, y, sw, alpha = wide_problem(weighted=True)
    Y = np.c_[y, X[:, 7] - y] if two_d else y
    X_new, Y_new = X[::2] + 0.1, Y[::2]
    est = fastlasso.Lasso(alpha=alpha, **TIGHT).fit(
        as_layout(X, layout), Y, sample_weight=sw
    )
    ref = sklearn_fit("Lasso", X, Y, alpha=alpha, sample_weight=sw)
    scale = np.abs(Y).max()
    assert_allclose(
        est.predict(as_layout(X_new, layout)), ref.predict(X_new), atol=1e-6 * scale
    )
    assert_allclose(
        est.score(as_layout(X_new, layout), Y_new, sample_weight=sw[::2]),
        ref.score(X_new, Y_new, sample_weight=sw[::2]),
        atol=1e-8,
    )
    with sklearn.config_context(sparse_interface=sparse_interface):
        ours, theirs = est.sparse_coef_, ref.sparse_coef_
    assert type(ours) is type(theirs)
    assert ours.shape == theirs.shape == np.atleast_2d(est.coef_).shape
    assert_array_equal(ours.toarray(), np.atleast_2d(est.coef_))
    assert ours.nnz == np.count_nonzero(est.coef_)


# ---- objective history


@pytest.mark.parametrize("shape", list(SHAPES))
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("layout", ["dense_F", "csc"])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("model", ["Lasso", "ElasticNet"])
def test_objective_history(shape, dtype, layout, weighted, model):
    """Rows (epoch, P, gap or NaN): starts at P(0, ybar) = scale / 2, (almost)
    decreases, ends at P(coef_, intercept_) with the gap dual_gap_ after n_iter_
    epochs; every recorded gap bounds that row's suboptimality."""
    prob = reference_problem(shape, dtype, weighted, True, False, model)
    tol = 1e-10 if dtype == np.float64 else 1e-6
    est = make_estimator(
        model, prob.alpha, prob.l1_ratio, tol=tol, max_iter=10_000, record_history=True
    )
    est.fit(as_layout(prob.X, layout), prob.y, sample_weight=prob.sample_weight)
    h = est.objective_history_
    assert h.shape == (len(h), 3)
    assert len(h) >= 2
    epochs, P, gap = h.T
    eps = 10 * np.finfo(dtype).eps
    assert np.all(np.diff(epochs) >= 0)
    assert epochs[-1] == est.n_iter_
    assert_allclose(P[0], prob.scale / 2, rtol=eps)
    assert_allclose(P[-1], prob.objective(est.coef_, est.intercept_), rtol=100 * eps)
    assert_allclose(gap[-1], est.dual_gap_, rtol=100 * eps)
    assert np.all(np.diff(P) <= 100 * eps * P[0])
    has_gap = ~np.isnan(gap)
    assert np.all(P[has_gap] - prob.P <= gap[has_gap] + eps * prob.scale)


def test_no_history_unless_asked():
    X, y, _, alpha = wide_problem()
    est = fastlasso.Lasso(alpha=alpha).fit(X, y)
    assert not hasattr(est, "objective_history_")
    Y = np.c_[y, -y]
    est = fastlasso.Lasso(alpha=alpha, record_history=True).fit(X, Y)
    assert len(est.objective_history_) == 2
    for k in range(2):
        P_end = objective(X, Y[:, k], est.coef_[k], est.intercept_[k], alpha)
        assert_allclose(est.objective_history_[k][-1, 1], P_end, rtol=1e-10)


def test_parameters_validated_once_per_distinct_set(monkeypatch):
    """scikit-learn's parameter check runs once per distinct parameter set, whatever
    the instance (a fresh Lasso(alpha).fit in a loop does not pay it again); a new
    value or type is checked, and an invalid set raises every time."""
    calls = []
    real = sklearn.base.BaseEstimator._validate_params
    monkeypatch.setattr(
        sklearn.base.BaseEstimator,
        "_validate_params",
        lambda self: calls.append(type(self).__name__) or real(self),
    )
    monkeypatch.setattr(fastlasso._param_check, "_passed", {})  # nothing remembered
    X, y, _ = make_regression_data(30, 5, seed=4)
    alpha = 0.1
    for _ in range(3):
        fastlasso.Lasso(alpha=alpha).fit(X, y)
    assert calls == ["Lasso"]
    fastlasso.ElasticNet(alpha=alpha).fit(X, y)  # another class
    fastlasso.Lasso(alpha=np.float32(alpha)).fit(X, y)  # another type
    fastlasso.Lasso(alpha=alpha, tol=1e-5).fit(X, y)  # another value
    assert calls == ["Lasso", "ElasticNet", "Lasso", "Lasso"]
    for _ in range(2):
        with pytest.raises(ValueError, match="max_iter"):
            fastlasso.Lasso(alpha=alpha, max_iter=-1).fit(X, y)
    assert len(calls) == 6
