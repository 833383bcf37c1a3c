"""Valid but hostile input gets the right answer, and the caller's data stay untouched.

Each case states its expected outcome from an independent source: scikit-learn fitted
at tol=1e-12, a closed form, or an exact invariance (a layout, dtype or container
change that hands the kernels the same numbers must give bit-identical results).
Every fit goes through ``fit_checked``: inputs compared with copies taken before,
and no NaN or infinity in the fitted attributes.

Every entry point that fits takes the same input: the estimators with coordinate
descent and with the proximal solvers, ``lasso_path`` / ``enet_path`` at one alpha
(``PathFit``) and ``LassoCV`` / ``ElasticNetCV`` with a one-alpha grid (cross-validation
then refits at that alpha: the estimator's solution); see helpers.py, where a new one
is added.
"""

import warnings

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal
from sklearn import linear_model

import fastlasso
from fastlasso._data import make_design

from conftest import gaussian_data
from helpers import (
    ENTRY_POINTS,
    ESTIMATOR_CLASSES,
    LOGISTIC_ENTRY_POINTS,
    MULTITASK_ENTRY_POINTS,
    PROX_ENTRY_POINTS,
    entry_point,
    model_of,
)

# the CD estimators, paths and CV solve to 1e-10, the proximal solvers further (their
# gaps fall slowly): every fit is then close enough to scikit-learn's optimum
ESTIMATORS = {
    name: entry_point(
        name,
        l1_ratio=0.6,
        **(
            {"tol": 1e-13, "max_iter": 100_000}
            if name in PROX_ENTRY_POINTS
            else {"tol": 1e-10}
        ),
    )
    for name in ENTRY_POINTS
}
MODEL = {name: model_of(name) for name in ENTRY_POINTS}  # the problem each one solves
NOT_CV = [k for k in ESTIMATORS if not k.endswith("CV")]
L1_RATIO = {"Lasso": 1.0, "ElasticNet": 0.6}
REFERENCES = {
    "Lasso": lambda **kw: linear_model.Lasso(tol=1e-12, max_iter=200_000, **kw),
    "ElasticNet": lambda **kw: linear_model.ElasticNet(
        l1_ratio=0.6, tol=1e-12, max_iter=200_000, **kw
    ),
}
ALPHA = 0.05
TOL = {np.float64: 1e-10, np.float32: 1e-6}  # float32 gaps cannot go much lower

pytestmark = pytest.mark.filterwarnings("error::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture(params=sorted(ESTIMATORS))
def name(request):
    return request.param


def _data(n=40, p=8, seed=0):
    return gaussian_data(n, p, seed=seed, shift=0.5, intercept=2.0)


def _copy(obj):
    if sp.issparse(obj):
        arrays = ("row", "col") if obj.format == "coo" else ("indices", "indptr")
        if obj.format in ("lil", "dok", "dia"):
            return {"dense": obj.toarray()}
        return {k: np.array(getattr(obj, k)) for k in ("data", *arrays)}
    if isinstance(obj, (pd.DataFrame, pd.Series)):
        return {"pandas": obj.copy(deep=True)}
    return {"array": None if obj is None else np.array(obj, copy=True)}


def _assert_unchanged(before, obj):
    for k, v in before.items():
        if k == "pandas":
            if isinstance(v, pd.DataFrame):
                pd.testing.assert_frame_equal(obj, v)
            else:
                pd.testing.assert_series_equal(obj, v)
        elif k == "dense":
            assert_array_equal(obj.toarray(), v)
        elif k == "array":
            if v is not None:
                assert_array_equal(np.asarray(obj), v, strict=True)
        else:
            assert_array_equal(getattr(obj, k), v, strict=True)


def fit_checked(est, X, y, sample_weight=None):
    """Fit; assert the inputs are unchanged and the fitted attributes are finite."""
    inputs = (X, y, sample_weight)
    before = [_copy(a) for a in inputs]
    est.fit(X, y, sample_weight=sample_weight)
    for b, a in zip(before, inputs, strict=True):
        _assert_unchanged(b, a)
    for attr in ("coef_", "intercept_", "dual_gap_"):
        assert np.isfinite(getattr(est, attr)).all(), attr
    return est


def _ref(name, X, y, sample_weight=None, **params):
    X = X.toarray() if sp.issparse(X) else np.asarray(X, dtype=np.float64)
    return REFERENCES[MODEL[name]](alpha=params.pop("alpha", ALPHA), **params).fit(
        X, np.asarray(y, dtype=np.float64), sample_weight=sample_weight
    )


def _assert_matches(est, ref, rtol=1e-6, scale=1.0):
    atol = rtol * max(np.abs(ref.coef_).max(), 1e-300)
    assert_allclose(est.coef_, ref.coef_, rtol=rtol, atol=atol)
    assert_allclose(
        est.intercept_,
        np.asarray(ref.intercept_) * scale,
        rtol=rtol,
        atol=rtol * scale * max(abs(np.asarray(ref.intercept_)).max(), 1.0),
    )


def _assert_identical(a, b):
    """Bit-identical fitted models."""
    assert a.coef_.dtype == b.coef_.dtype
    assert_array_equal(a.coef_, b.coef_)
    assert_array_equal(a.intercept_, b.intercept_)
    assert_array_equal(a.dual_gap_, b.dual_gap_)
    assert a.n_iter_ == b.n_iter_


# ---------------------------------------------------------------------------------
# degenerate data


@pytest.mark.parametrize("name", NOT_CV)  # 3 folds need 3 samples
@pytest.mark.parametrize("sparse", [False, True])
def test_one_sample_with_intercept(name, sparse):
    """One sample: the centred data are all zero, so w = 0 and b = y_0 exactly."""
    X = np.array([[1.0, -2.0, 3.0]])
    est = fit_checked(
        ESTIMATORS[name](alpha=ALPHA),
        sp.csc_matrix(X) if sparse else X,
        np.array([4.5]),
    )
    assert_array_equal(est.coef_, np.zeros(3))
    assert est.intercept_ == 4.5


@pytest.mark.parametrize("name", NOT_CV)
@pytest.mark.parametrize("sparse", [False, True])
def test_one_sample_without_intercept(name, sparse):
    X, y = np.array([[1.0, -2.0, 3.0]]), np.array([4.5])
    est = fit_checked(
        ESTIMATORS[name](alpha=ALPHA, fit_intercept=False),
        sp.csc_matrix(X) if sparse else X,
        y,
    )
    _assert_matches(est, _ref(name, X, y, fit_intercept=False))


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("positive", [False, True])
@pytest.mark.parametrize("sparse", [False, True])
def test_one_feature_closed_form(name, fit_intercept, weighted, positive, sparse):
    """p = 1: w = S(c, alpha rho) / (d + alpha (1 - rho)) with c = x~^T S y~ / n,
    d = x~^T S x~ / n (S: weights summing to n), S the soft threshold (clipped at 0
    when positive); b = ybar - xbar w."""
    rng = np.random.default_rng(3)
    n = 25
    x = rng.standard_normal(n) + 1.0
    y = -0.8 * x + 0.5 * rng.standard_normal(n) + 1.0
    sw = rng.uniform(0.2, 3.0, n) if weighted else None
    s = np.ones(n) if sw is None else sw * n / sw.sum()
    xbar = s @ x / n if fit_intercept else 0.0
    ybar = s @ y / n if fit_intercept else 0.0
    c = s @ ((x - xbar) * (y - ybar)) / n
    d = s @ (x - xbar) ** 2 / n
    rho = L1_RATIO[MODEL[name]]
    alpha = 0.1
    shrunk = (
        max(c - alpha * rho, 0.0)
        if positive
        else (np.sign(c) * max(abs(c) - alpha * rho, 0.0))
    )
    w = shrunk / (d + alpha * (1 - rho))
    X = x[:, None]
    est = fit_checked(
        ESTIMATORS[name](alpha=alpha, fit_intercept=fit_intercept, positive=positive),
        sp.csc_matrix(X) if sparse else X,
        y,
        sw,
    )
    assert_allclose(est.coef_, [w], rtol=1e-9, atol=1e-12)
    assert_allclose(est.intercept_, ybar - xbar * w, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_all_zero_columns(name, sparse, fit_intercept):
    """Zero columns get exactly zero coefficients; the rest is the fit without them."""
    X, y = _data()
    zero = [1, 4, 7]
    X[:, zero] = 0.0
    est = fit_checked(
        ESTIMATORS[name](alpha=ALPHA, fit_intercept=fit_intercept),
        sp.csc_matrix(X) if sparse else X,
        y,
    )
    assert_array_equal(est.coef_[zero], 0.0)
    keep = np.setdiff1d(np.arange(X.shape[1]), zero)
    ref = _ref(name, X[:, keep], y, fit_intercept=fit_intercept)
    assert_allclose(est.coef_[keep], ref.coef_, rtol=1e-6, atol=1e-9)
    assert_allclose(est.intercept_, ref.intercept_, rtol=1e-6)


@pytest.mark.parametrize("sparse", [False, True])
def test_every_column_zero_or_constant(name, sparse):
    """Nothing to fit: w = 0 and b = the weighted mean of y."""
    _, y = _data()
    X = np.zeros((40, 5))
    X[:, 2] = 3.0
    sw = np.linspace(0.5, 2.0, 40)
    est = fit_checked(
        ESTIMATORS[name](alpha=ALPHA), sp.csc_matrix(X) if sparse else X, y, sw
    )
    assert_array_equal(est.coef_, 0.0)
    assert_allclose(est.intercept_, np.average(y, weights=sw), rtol=1e-14)


@pytest.mark.parametrize("sparse", [False, True])
def test_constant_nonzero_columns_with_intercept(name, sparse):
    """With an intercept a constant column explains nothing: its coefficient is 0."""
    X, y = _data()
    X[:, [0, 5]] = [2.5, -1.0]
    est = fit_checked(
        ESTIMATORS[name](alpha=ALPHA), sp.csc_matrix(X) if sparse else X, y
    )
    assert_array_equal(est.coef_[[0, 5]], 0.0)
    _assert_matches(est, _ref(name, X, y))


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("sparse", [False, True])
def test_constant_columns_with_an_inexact_mean_get_zero_norm(sparse, weighted):
    """Constant columns whose computed mean is off by rounding (0.1 and -1/3 on 37
    rows) get a centred norm of exactly 0, not rounding noise that would let them
    enter the model; the other columns keep a positive one."""
    rng = np.random.default_rng(3)
    X = rng.standard_normal((37, 4))
    X[:, 1] = 0.1
    X[:, 3] = -1 / 3
    sw = rng.uniform(0.5, 2.0, 37) if weighted else None
    design = make_design(sp.csc_matrix(X) if sparse else np.asfortranarray(X), sw, True)
    assert design.norm2[1] == 0.0 and design.norm2[3] == 0.0
    assert np.all(design.norm2[[0, 2]] > 0)


@pytest.mark.parametrize("sparse", [False, True])
def test_duplicated_columns(name, sparse):
    """Lasso: only w_j + w_k of a duplicated pair is determined, with one sign (a
    split of opposite signs has a larger l1 norm); it equals the coefficient of the
    fit without the copy. Elastic Net: the ridge term splits it equally, as
    scikit-learn's unique solution does."""
    X, y = _data()
    Xd = np.column_stack([X, X[:, 0], X[:, 2]])
    est = fit_checked(
        ESTIMATORS[name](alpha=ALPHA), sp.csc_matrix(Xd) if sparse else Xd, y
    )
    if MODEL[name] == "Lasso":
        ref = _ref(name, X, y)
        merged = est.coef_[:8].copy()
        merged[[0, 2]] += est.coef_[8:]
        assert_allclose(merged, ref.coef_, rtol=1e-6, atol=1e-9)
        assert np.all(est.coef_[[0, 2]] * est.coef_[8:] >= 0)
        assert_allclose(est.intercept_, ref.intercept_, rtol=1e-6)
    else:
        _assert_matches(est, _ref(name, Xd, y))
        assert_allclose(est.coef_[[0, 2]], est.coef_[8:], rtol=1e-6)


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("value", [0.0, -7.25, 1e100])
def test_constant_y(name, sparse, value):
    """Constant y with an intercept: w = 0, b = y exactly."""
    X, _ = _data()
    est = fit_checked(
        ESTIMATORS[name](alpha=ALPHA),
        sp.csc_matrix(X) if sparse else X,
        np.full(40, value),
    )
    assert_array_equal(est.coef_, 0.0)
    assert est.intercept_ == value


@pytest.mark.parametrize("value", [-7.25, 1e100])
def test_constant_y_with_zero_weights(name, value):
    """Constant y on the weighted rows (zero weight elsewhere, as CV folds have):
    w = 0 and b = y exactly; y_c = 0 exactly needs no rounding luck."""
    X, _ = _data()
    sw = (np.arange(40) % 3 != 0).astype(float)  # every CV fold keeps some weight
    est = fit_checked(ESTIMATORS[name](alpha=ALPHA), X, np.full(40, value), sw)
    assert_array_equal(est.coef_, 0.0)
    assert_allclose(est.intercept_, value, rtol=1e-15)


@pytest.mark.parametrize("sparse", [False, True])
def test_zero_y_without_intercept(name, sparse):
    X, _ = _data()
    est = fit_checked(
        ESTIMATORS[name](alpha=ALPHA, fit_intercept=False),
        sp.csc_matrix(X) if sparse else X,
        np.zeros(40),
    )
    assert_array_equal(est.coef_, 0.0)
    assert est.intercept_ == 0.0


def test_constant_y_without_intercept(name):
    """Without an intercept a constant y is a real target."""
    X, _ = _data()
    y = np.full(40, 3.0)
    est = fit_checked(ESTIMATORS[name](alpha=ALPHA, fit_intercept=False), X, y)
    _assert_matches(est, _ref(name, X, y, fit_intercept=False))


@pytest.mark.parametrize("name", ESTIMATOR_CLASSES)  # multi-target
def test_one_constant_target_among_two(name):
    X, y = _data()
    Y = np.column_stack([y, np.full(40, 2.0)])
    est = fit_checked(ESTIMATORS[name](alpha=ALPHA), X, Y)
    assert_array_equal(est.coef_[1], 0.0)
    assert est.intercept_[1] == 2.0
    _assert_matches(est, _ref(name, X, Y))


# ---------------------------------------------------------------------------------
# magnitudes: (X, y, alpha) -> (c X, c y, c^2 alpha) leaves w unchanged, b -> c b


@pytest.mark.parametrize("c", [1e150, 1e-150])
@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_extreme_magnitudes_float64(name, c, sparse, fit_intercept):
    X, y = _data()
    Xs = X * c
    est = fit_checked(
        ESTIMATORS[name](alpha=ALPHA * c * c, fit_intercept=fit_intercept),
        sp.csc_matrix(Xs) if sparse else Xs,
        y * c,
    )
    _assert_matches(est, _ref(name, X, y, fit_intercept=fit_intercept), scale=c)


@pytest.mark.parametrize("c", [1e150, 1e-8, 1e-150])
@pytest.mark.parametrize("name", ["lasso_path", "enet_path", "LassoCV", "ElasticNetCV"])
def test_automatic_grid_follows_the_scale(name, c):
    """(c X, c y) has alpha_max c^2 times larger, so the automatic grid scales by c^2
    and everything else is unchanged: coefficients, the CV choice, CV errors / c^2."""
    X, y = _data()
    if "path" in name:
        path = getattr(fastlasso, name)
        kw = {"l1_ratio": 0.6} if name == "enet_path" else {}
        ref = path(X, y, alphas=20, fit_intercept=True, tol=1e-12, **kw)
        got = path(X * c, y * c, alphas=20, fit_intercept=True, tol=1e-12, **kw)
        assert_allclose(got[0] / c**2, ref[0], rtol=1e-10)
        assert_allclose(got[1], ref[1], rtol=1e-6, atol=1e-9)
        return
    cls = getattr(fastlasso, name)
    kw = {"l1_ratio": 0.6} if name == "ElasticNetCV" else {}
    ref = cls(cv=3, alphas=20, tol=1e-12, **kw).fit(X, y)
    got = fit_checked(cls(cv=3, alphas=20, tol=1e-12, **kw), X * c, y * c)
    assert_allclose(got.alphas_ / c**2, ref.alphas_, rtol=1e-10)
    assert_allclose(got.mse_path_ / c**2, ref.mse_path_, rtol=1e-6)
    assert_allclose(got.mse_se_ / c**2, ref.mse_se_, rtol=1e-6)
    assert got.alpha_1se_ / c**2 == pytest.approx(ref.alpha_1se_, rel=1e-10)
    assert got.alpha_ / c**2 == pytest.approx(ref.alpha_, rel=1e-10)
    assert_allclose(got.coef_, ref.coef_, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("c", [1e15, 1e-15])
@pytest.mark.parametrize("sparse", [False, True])
def test_extreme_magnitudes_float32(name, c, sparse):
    """float32 data near the edges of the float32 range (|x|^2 ~ 1e30 or 1e-30):
    the float64 reference is fitted on exactly the float32 numbers, unscaled."""
    X, y = _data()
    X32, y32 = (X * c).astype(np.float32), (y * c).astype(np.float32)
    est = fit_checked(
        ESTIMATORS[name](alpha=ALPHA * c * c, tol=1e-7),
        sp.csc_matrix(X32) if sparse else X32,
        y32,
    )
    assert est.coef_.dtype == np.float32
    ref = _ref(name, X32.astype(np.float64) / c, y32.astype(np.float64) / c)
    _assert_matches(est, ref, rtol=2e-4, scale=c)


@pytest.mark.parametrize("c", [1e150, 1e-150])
def test_lasso_scaled_X_only(c):
    """Lasso only: (c X, y, c alpha) gives w / c."""
    X, y = _data()
    est = fit_checked(ESTIMATORS["Lasso"](alpha=ALPHA * c), X * c, y)
    ref = _ref("Lasso", X, y)
    assert_allclose(est.coef_ * c, ref.coef_, rtol=1e-6, atol=1e-9)
    assert_allclose(est.intercept_, ref.intercept_, rtol=1e-6)


@pytest.mark.parametrize(
    "scale_X, scale_y, dtype, match",
    [
        (1e155, 1e155, np.float64, "column 0 of X are too large for float64"),
        (1e-160, 1e-160, np.float64, "column 0 of X are too small for float64"),
        (1.0, 1e-160, np.float64, "values of y are too small for float64"),
        (1.0, 1e160, np.float64, "values of y are too large for float64"),
        (1e19, 1.0, np.float32, "column 0 of X are too large for float32"),
        (1e-22, 1.0, np.float32, "column 0 of X are too small for float32"),
    ],
)
@pytest.mark.parametrize("sparse", [False, True])
def test_magnitudes_beyond_the_dtype_raise(
    name, scale_X, scale_y, dtype, match, sparse
):
    """Squared norms that overflow or are subnormal in the working dtype would give
    garbage (checked before the fix: NaN gaps, wrong coefficients with gap 0), so
    they raise; the message says how to rescale."""
    X, y = _data()
    Xs = (X * scale_X).astype(dtype)
    est = ESTIMATORS[name](alpha=ALPHA)
    with pytest.raises(ValueError, match=match + r".*Rescale the data"):
        est.fit(sp.csc_matrix(Xs) if sparse else Xs, (y * scale_y).astype(dtype))
    assert not hasattr(est, "coef_")


def test_huge_alpha_gives_zeros_with_finite_gap(name):
    X, y = _data()
    est = ESTIMATORS[name](alpha=1e307)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fit_checked(est, X, y)
    assert_array_equal(est.coef_, 0.0)
    assert_allclose(est.intercept_, y.mean(), rtol=1e-14)


# ---------------------------------------------------------------------------------
# dtypes: converted to float64 (float32 kept), same numbers -> identical fit


X_DTYPES = {
    "int8": lambda X: np.round(4 * X).astype(np.int8),
    "int32": lambda X: np.round(4 * X).astype(np.int32),
    "int64": lambda X: np.round(4 * X).astype(np.int64),
    "uint8": lambda X: np.round(4 * np.abs(X)).astype(np.uint8),
    "bool": lambda X: X > 0.5,
    "float16": lambda X: X.astype(np.float16),
    "object": lambda X: X.astype(np.float16).astype(object),
}
SPARSE_DTYPES = ["int8", "int32", "int64", "uint8", "bool"]  # what scipy.sparse holds


@pytest.mark.parametrize(
    "dtype, sparse",
    [(d, False) for d in X_DTYPES] + [(d, True) for d in SPARSE_DTYPES],
)
def test_dtypes_converted_to_float64(name, dtype, sparse):
    X, y = _data()
    Xt = X_DTYPES[dtype](X)
    X64 = np.asarray(Xt, dtype=np.float64)
    if sparse:
        Xt, X64 = sp.csc_matrix(Xt), sp.csc_matrix(X64)
    est = fit_checked(ESTIMATORS[name](alpha=ALPHA), Xt, y)
    assert est.coef_.dtype == np.float64
    _assert_identical(est, ESTIMATORS[name](alpha=ALPHA).fit(X64, y))
    _assert_matches(est, _ref(name, X64, y))


@pytest.mark.parametrize(
    "convert",
    [
        lambda y: np.round(y).astype(np.int64),
        lambda y: y > 2,
        lambda y: y.astype(np.float16),
        lambda y: y.astype(object),
        lambda y: y.tolist(),
    ],
    ids=["int", "bool", "float16", "object", "list"],
)
def test_target_dtypes(name, convert):
    X, y = _data()
    yt = convert(y)
    est = fit_checked(ESTIMATORS[name](alpha=ALPHA), X, yt)
    y64 = np.asarray(yt, dtype=np.float64)
    _assert_identical(est, ESTIMATORS[name](alpha=ALPHA).fit(X, y64))
    _assert_matches(est, _ref(name, X, y64))


class _OnlyArray:
    """An array-like that numpy can convert but whose numpy functions all refuse."""

    def __init__(self, a):
        self.a = a

    def __len__(self):
        return len(self.a)

    def __array__(self, dtype=None, copy=None):
        return np.asarray(self.a, dtype=dtype)

    def __array_function__(self, func, types, args, kwargs):
        raise TypeError(f"{func.__name__} is not supported")


@pytest.mark.parametrize(
    "sw_convert",
    [lambda s: s.astype(np.int64), lambda s: s.astype(bool), list, _OnlyArray],
    ids=["int", "bool", "list", "only__array__"],
)
def test_sample_weight_dtypes(name, sw_convert):
    X, y = _data()
    sw = np.arange(40) % 3
    est = fit_checked(ESTIMATORS[name](alpha=ALPHA), X, y, sw_convert(sw))
    sw64 = np.asarray(sw_convert(sw), dtype=np.float64)
    _assert_identical(est, ESTIMATORS[name](alpha=ALPHA).fit(X, y, sample_weight=sw64))
    _assert_matches(est, _ref(name, X, y, sample_weight=sw64))


@pytest.mark.parametrize("sparse", [False, True])
def test_float32_stays_float32(name, sparse):
    X, y = _data()
    X32 = X.astype(np.float32)
    est = fit_checked(
        ESTIMATORS[name](alpha=ALPHA, tol=1e-7),
        sp.csc_matrix(X32) if sparse else X32,
        y,
    )
    assert est.coef_.dtype == np.float32
    _assert_matches(est, _ref(name, X32, y.astype(np.float32)), rtol=1e-4)


# ---------------------------------------------------------------------------------
# memory layouts: views, read-only arrays and memory maps


VIEWS = {
    "rows_step2": lambda A: A[::2],
    "cols_step2": lambda A: A[:, ::2],
    "rows_reversed": lambda A: A[::-1],
    "cols_reversed": lambda A: A[:, ::-1],
    "both_negative": lambda A: A[::-2, ::-3],
    "transposed": lambda A: A.T,
    "fortran_column_slice": lambda A: np.asfortranarray(A)[:, 2:7],
    "fortran_row_slice": lambda A: np.asfortranarray(A)[5:30],
}


@pytest.mark.parametrize("view", sorted(VIEWS))
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_strided_views(name, view, dtype):
    """A view gives the same fit as its contiguous copy, bit for bit (a view that is
    neither C- nor Fortran-contiguous is copied to Fortran order: that copy)."""
    rng = np.random.default_rng(5)
    base = rng.standard_normal((60, 60)).astype(dtype)
    X = VIEWS[view](base)
    y_base = rng.standard_normal(2 * X.shape[0])
    y = y_base[::-2]
    sw_base = rng.uniform(0.5, 2, 3 * X.shape[0])
    sw = sw_base[::3]
    assert not (X.flags.c_contiguous or X.flags.f_contiguous) or view in (
        "transposed",
        "fortran_column_slice",
    )
    est = fit_checked(ESTIMATORS[name](alpha=ALPHA, tol=TOL[dtype]), X, y, sw)
    _assert_identical(
        est,
        ESTIMATORS[name](alpha=ALPHA, tol=TOL[dtype]).fit(
            np.array(X, order="F"), np.array(y), sample_weight=np.array(sw)
        ),
    )


def _read_only(a):
    a = np.array(a, order="K")
    a.flags.writeable = False
    return a


@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_read_only_dense(name, order, dtype):
    X, y = _data()
    X = np.asarray(X, dtype=dtype, order=order)
    sw = np.linspace(0.5, 1.5, 40)
    est = fit_checked(
        ESTIMATORS[name](alpha=ALPHA, tol=TOL[dtype]),
        _read_only(X),
        _read_only(y),
        _read_only(sw),
    )
    _assert_identical(
        est, ESTIMATORS[name](alpha=ALPHA, tol=TOL[dtype]).fit(X, y, sample_weight=sw)
    )


@pytest.mark.parametrize(
    "make",
    [
        lambda X: sp.csc_matrix(X),
        lambda X: sp.csr_matrix(X),
        lambda X: _unsorted_csc(sp.csc_matrix(X)),
    ],
    ids=["csc", "csr", "csc_unsorted"],
)
def test_read_only_sparse(name, make):
    X, y = _data()
    X[np.abs(X) < 0.7] = 0
    S = make(X)
    R = S.copy()
    for attr in ("data", "indices", "indptr"):
        setattr(R, attr, _read_only(getattr(S, attr)))
    est = fit_checked(ESTIMATORS[name](alpha=ALPHA), R, y)
    _assert_identical(est, ESTIMATORS[name](alpha=ALPHA).fit(S, y))


@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("how", ["memmap", "np.load"])
def test_read_only_memmap(name, tmp_path, order, dtype, how):
    X, y = _data()
    X = np.asarray(X, dtype=dtype, order=order)
    path = tmp_path / "X.npy"
    if how == "memmap":
        out = np.memmap(
            tmp_path / "X.bin", dtype=dtype, mode="w+", shape=X.shape, order=order
        )
        out[:] = X
        out.flush()
        del out
        Xm = np.memmap(
            tmp_path / "X.bin", dtype=dtype, mode="r", shape=X.shape, order=order
        )
    else:
        np.save(path, X)
        Xm = np.load(path, mmap_mode="r")
    assert not Xm.flags.writeable
    est = fit_checked(ESTIMATORS[name](alpha=ALPHA, tol=TOL[dtype]), Xm, y)
    _assert_identical(est, ESTIMATORS[name](alpha=ALPHA, tol=TOL[dtype]).fit(X, y))


# ---------------------------------------------------------------------------------
# sparse structure


def _sparse_data(seed=0):
    X, y = _data(seed=seed)
    X[np.abs(X - 0.5) < 0.9] = 0.0
    return X, y


def _unsorted_csc(S):
    """The same matrix with the row indices of every column in reverse order."""
    data, indices = S.data.copy(), S.indices.copy()
    for j in range(S.shape[1]):
        a, b = S.indptr[j], S.indptr[j + 1]
        data[a:b], indices[a:b] = data[a:b][::-1], indices[a:b][::-1]
    out = sp.csc_matrix((data, indices, S.indptr.copy()), shape=S.shape)
    assert not out.has_sorted_indices
    return out


FORMATS = ["csc", "csr", "coo", "lil", "dok", "dia", "bsr"]


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("container", [sp.csc_matrix, sp.csc_array])
def test_sparse_formats(name, fmt, container):
    X, y = _sparse_data()
    S = container(X).asformat(fmt)
    est = fit_checked(ESTIMATORS[name](alpha=ALPHA), S, y)
    _assert_matches(est, _ref(name, X, y))
    assert_allclose(
        est.coef_, ESTIMATORS[name](alpha=ALPHA).fit(X, y).coef_, rtol=1e-7, atol=1e-10
    )


def test_unsorted_indices(name):
    X, y = _sparse_data()
    S = _unsorted_csc(sp.csc_matrix(X))
    est = fit_checked(ESTIMATORS[name](alpha=ALPHA), S, y)
    assert not S.has_sorted_indices
    _assert_identical(est, ESTIMATORS[name](alpha=ALPHA).fit(sp.csc_matrix(X), y))


@pytest.mark.parametrize("fmt", ["csc", "csr"])
def test_explicit_zeros(name, fmt):
    """Every entry stored, zeros included: the same fit as without the zeros."""
    X, y = _sparse_data()
    n, p = X.shape
    Z = sp.csc_matrix(
        (X.ravel(order="F"), np.tile(np.arange(n), p), np.arange(0, n * (p + 1), n)),
        shape=X.shape,
    ).asformat(fmt)
    assert Z.nnz == X.size > np.count_nonzero(X)
    est = fit_checked(ESTIMATORS[name](alpha=ALPHA), Z, y)
    S = sp.csc_matrix(X)
    assert_allclose(
        est.coef_, ESTIMATORS[name](alpha=ALPHA).fit(S, y).coef_, rtol=1e-12, atol=1e-14
    )
    _assert_matches(est, _ref(name, X, y))


def _with_duplicates(X, fmt):
    """X with every nonzero stored twice (two halves), unsorted within each line."""
    C = sp.coo_matrix(X)
    half = C.data / 2
    row, col = np.r_[C.row, C.row], np.r_[C.col, C.col]
    data = np.r_[half, C.data - half]
    if fmt == "coo":
        return sp.coo_matrix((data, (row, col)), shape=X.shape)
    major, minor, n_major = (
        (col, row, X.shape[1]) if fmt == "csc" else (row, col, X.shape[0])
    )
    order = np.argsort(major, kind="stable")
    indptr = np.r_[0, np.cumsum(np.bincount(major, minlength=n_major))]
    cls = sp.csc_matrix if fmt == "csc" else sp.csr_matrix
    M = cls((data[order], minor[order], indptr), shape=X.shape)
    assert not M.has_canonical_format
    return M


@pytest.mark.parametrize("fmt", ["csc", "csr", "coo"])
def test_duplicate_entries(name, fmt):
    """Duplicate (i, j) entries are summed (scipy's meaning), on a copy."""
    X, y = _sparse_data()
    D = _with_duplicates(X, fmt)
    assert D.nnz == 2 * np.count_nonzero(X)
    est = fit_checked(ESTIMATORS[name](alpha=ALPHA), D, y)
    _assert_matches(est, _ref(name, X, y))


@pytest.mark.parametrize("fmt", ["csc", "csr"])
@pytest.mark.parametrize(
    "indices_dtype, indptr_dtype",
    [
        (np.int64, np.int64),
        (np.int32, np.int64),
        (np.int64, np.int32),
        (np.uint32, np.uint32),
        (np.int16, np.int16),
    ],
)
def test_index_dtypes(name, fmt, indices_dtype, indptr_dtype):
    """Any integer index arrays: the same fit as scipy's default int32 arrays."""
    X, y = _sparse_data()
    S = sp.csc_matrix(X).asformat(fmt)
    T = S.copy()
    T.indices = S.indices.astype(indices_dtype)
    T.indptr = S.indptr.astype(indptr_dtype)
    est = fit_checked(ESTIMATORS[name](alpha=ALPHA), T, y)
    assert_allclose(
        est.coef_, ESTIMATORS[name](alpha=ALPHA).fit(S, y).coef_, rtol=1e-12, atol=1e-14
    )
    _assert_matches(est, _ref(name, X, y))


@pytest.mark.parametrize("fmt", ["csc", "csr"])
def test_empty_rows_and_columns(name, fmt):
    """Empty columns get w_j = 0; empty rows are samples with x_i = 0."""
    X, y = _sparse_data()
    X[:, [0, 3]] = 0.0
    X[[2, 10, 11, 39], :] = 0.0
    S = sp.csc_matrix(X).asformat(fmt)
    est = fit_checked(ESTIMATORS[name](alpha=ALPHA), S, y)
    assert_array_equal(est.coef_[[0, 3]], 0.0)
    _assert_matches(est, _ref(name, X, y))


def test_non_contiguous_sparse_arrays(name):
    X, y = _sparse_data()
    S = sp.csc_matrix(X)
    def pad(a):  # a strided view of a copy
        return np.repeat(a, 2)[::2]

    T = sp.csc_matrix((pad(S.data), pad(S.indices), pad(S.indptr)), shape=S.shape)
    assert not T.data.flags.c_contiguous
    est = fit_checked(ESTIMATORS[name](alpha=ALPHA), T, y)
    _assert_identical(est, ESTIMATORS[name](alpha=ALPHA).fit(S, y))


# ---------------------------------------------------------------------------------
# pandas


def _frame(X, dtype=None):
    df = pd.DataFrame(X, columns=[f"g{j}" for j in range(X.shape[1])])
    return df if dtype is None else df.astype(dtype)


@pytest.mark.parametrize("name", [n for n in ESTIMATORS if "path" not in n])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_dataframe_same_as_array(name, dtype):
    X, y = _data()
    df = _frame(X, dtype)
    sw = np.linspace(0.5, 2, 40)
    est = fit_checked(
        ESTIMATORS[name](alpha=ALPHA, tol=TOL[dtype]), df, pd.Series(y), pd.Series(sw)
    )
    assert list(est.feature_names_in_) == list(df.columns)
    assert est.coef_.dtype == dtype
    _assert_identical(  # pandas hands its column blocks over in Fortran order
        est,
        ESTIMATORS[name](alpha=ALPHA, tol=TOL[dtype]).fit(
            np.asfortranarray(X, dtype=dtype), y, sample_weight=sw
        ),
    )


@pytest.mark.parametrize("layout", ["dense", "csc", "csr"])
def test_refit_without_feature_names_forgets_them(layout):
    """A refit on an array or sparse matrix (the short validation path) drops the
    feature names of an earlier DataFrame fit, as scikit-learn's validation does."""
    X, y = _data()
    A = X if layout == "dense" else sp.csc_matrix(X).asformat(layout)
    for est in (fastlasso.Lasso(alpha=ALPHA), linear_model.Lasso(alpha=ALPHA)):
        est.fit(_frame(X), y)
        assert list(est.feature_names_in_) == list(_frame(X).columns)
        est.fit(A, y)
        assert not hasattr(est, "feature_names_in_"), type(est).__module__


def test_dataframe_mixed_and_nullable_dtypes(name):
    X, y = _data()
    df = pd.DataFrame(
        {
            "f32": X[:, 0].astype(np.float32),
            "int": np.round(3 * X[:, 1]).astype(np.int64),
            "bool": X[:, 2] > 0.5,
            "Int64": pd.array(np.round(3 * X[:, 3]).astype(int), dtype="Int64"),
            "Float64": pd.array(X[:, 4], dtype="Float64"),
        }
    )
    est = fit_checked(ESTIMATORS[name](alpha=ALPHA), df, y)
    X64 = np.column_stack([np.asarray(df[c], dtype=np.float64) for c in df])
    assert est.coef_.dtype == np.float64
    # pandas hands its column blocks over in Fortran order
    _assert_identical(est, ESTIMATORS[name](alpha=ALPHA).fit(np.asfortranarray(X64), y))
    _assert_matches(est, _ref(name, X64, y))


def test_sparse_dataframe(name):
    X, y = _sparse_data()
    df = _frame(X).astype(pd.SparseDtype(np.float64, 0.0))
    est = fit_checked(ESTIMATORS[name](alpha=ALPHA), df, y)
    _assert_matches(est, _ref(name, X, y))


@pytest.mark.parametrize(
    "column, match",
    [
        (pd.array([1, None] + [2] * 38, dtype="Int64"), "Input X contains NaN"),
        (np.r_[np.nan, np.ones(39)], "Input X contains NaN"),
        (pd.Categorical(["a", "b"] * 20), "could not convert string"),
        (["a"] * 40, "could not convert string"),
    ],
    ids=["Int64_NA", "nan", "categorical", "strings"],
)
def test_dataframe_bad_columns(name, column, match):
    X, y = _data()
    df = _frame(X)
    df["bad"] = column
    before = df.copy(deep=True)
    est = ESTIMATORS[name](alpha=ALPHA)
    with pytest.raises(ValueError, match=match):
        est.fit(df, y)
    pd.testing.assert_frame_equal(df, before)
    assert not hasattr(est, "coef_")


# ---------------------------------------------------------------------------------
# multi-task estimators (2-D targets): the same hostile input, the references are
# scikit-learn's MultiTaskLasso / MultiTaskElasticNet at tol=1e-12


MT_ESTIMATORS = {
    name: entry_point(name, l1_ratio=0.6, tol=1e-10) for name in MULTITASK_ENTRY_POINTS
}
MT_MODEL = {name: model_of(name) for name in MULTITASK_ENTRY_POINTS}
MT_REFERENCES = {
    "MultiTaskLasso": lambda **kw: linear_model.MultiTaskLasso(
        tol=1e-12, max_iter=200_000, **kw
    ),
    "MultiTaskElasticNet": lambda **kw: linear_model.MultiTaskElasticNet(
        l1_ratio=0.6, tol=1e-12, max_iter=200_000, **kw
    ),
}
MT_NOT_CV = [k for k in MT_ESTIMATORS if not k.endswith("CV")]


@pytest.fixture(params=sorted(MT_ESTIMATORS))
def mt_name(request):
    return request.param


def _mt_data(n=40, p=8, seed=0):
    X, y = _data(n, p, seed)
    return X, np.column_stack([y, -0.5 * y + X[:, 4], X[:, 5] - 1.0])


def _mt_ref(name, X, Y, sample_weight=None, **params):
    X = X.toarray() if sp.issparse(X) else np.asarray(X, dtype=np.float64)
    reference = MT_REFERENCES[MT_MODEL[name]]
    return reference(alpha=params.pop("alpha", ALPHA), **params).fit(
        X, np.asarray(Y, dtype=np.float64), sample_weight=sample_weight
    )


def test_mt_3d_target_raises_sklearns_error(mt_name):
    X, Y = _mt_data()
    with pytest.raises(ValueError, match="Found array with dim 3") as err:
        MT_ESTIMATORS[mt_name](alpha=ALPHA).fit(X, Y[:, :, None])
    if mt_name == "MultiTask-enet_path":
        return  # (the path function's text names no estimator)
    cls = getattr(linear_model, mt_name)
    with pytest.raises(ValueError) as ref_err:
        cls().fit(X, Y[:, :, None])
    assert str(err.value) == str(ref_err.value)


@pytest.mark.parametrize(  # (a 1-D y in enet_path is the single-task path)
    "mt_name", [k for k in MT_ESTIMATORS if k != "MultiTask-enet_path"])
def test_mt_1d_target_raises_sklearns_error(mt_name):
    X, Y = _mt_data()
    single = {"MultiTaskLasso": "Lasso", "MultiTaskElasticNet": "ElasticNet",
              "MultiTaskLassoCV": "LassoCV", "MultiTaskElasticNetCV": "ElasticNetCV"}
    mono = f"For mono-task outputs, use {single[mt_name]}"
    with pytest.raises(ValueError, match=mono):
        MT_ESTIMATORS[mt_name](alpha=ALPHA).fit(X, Y[:, 0])


@pytest.mark.parametrize("sparse", [False, True])
def test_mt_mismatched_rows_raise(mt_name, sparse):
    X, Y = _mt_data()
    Xs = sp.csc_matrix(X) if sparse else X
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        MT_ESTIMATORS[mt_name](alpha=ALPHA).fit(Xs, Y[:-3])
    mismatch = "inconsistent numbers of samples|sample_weight"
    with pytest.raises(ValueError, match=mismatch):
        MT_ESTIMATORS[mt_name](alpha=ALPHA).fit(Xs, Y, sample_weight=np.ones(5))


@pytest.mark.parametrize("where", ["X", "y"])
@pytest.mark.parametrize("bad", [np.nan, np.inf])
@pytest.mark.parametrize("sparse", [False, True])
def test_mt_non_finite_input_raises_sklearns_error(mt_name, where, bad, sparse):
    X, Y = _mt_data()
    if where == "X":
        X = X.copy()
        X[3, 2] = bad
    else:
        Y = Y.copy()
        Y[5, 1] = bad
    what = "NaN" if np.isnan(bad) else "infinity"
    with pytest.raises(ValueError, match=f"Input {where} contains {what}"):
        MT_ESTIMATORS[mt_name](alpha=ALPHA).fit(sp.csc_matrix(X) if sparse else X, Y)


def test_mt_targets_without_columns_raise(mt_name):
    X, Y = _mt_data()
    with pytest.raises(ValueError, match="0 feature"):
        MT_ESTIMATORS[mt_name](alpha=ALPHA).fit(X, Y[:, :0])


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_mt_one_sample(sparse, fit_intercept):
    X, Y = _mt_data()
    Xs = sp.csc_matrix(X[:1]) if sparse else X[:1]
    for name in MT_NOT_CV:
        est = fit_checked(MT_ESTIMATORS[name](alpha=ALPHA, fit_intercept=fit_intercept),
                          Xs, Y[:1])
        _assert_matches(est, _mt_ref(name, X[:1], Y[:1], fit_intercept=fit_intercept))


@pytest.mark.parametrize("sparse", [False, True])
def test_mt_zero_and_constant_columns_and_targets(mt_name, sparse):
    X, Y = _mt_data()
    X = X.copy()
    X[:, 1] = 0.0
    X[:, 3] = 7.5  # constant: centred away with the intercept
    Y = Y.copy()
    Y[:, 2] = -3.0  # a constant target among varying ones
    est = fit_checked(MT_ESTIMATORS[mt_name](alpha=ALPHA),
                      sp.csc_matrix(X) if sparse else X, Y)
    assert_array_equal(est.coef_[:, [1, 3]], 0.0)
    assert_array_equal(est.coef_[2], 0.0)  # it never pays to fit a constant target
    assert est.intercept_[2] == -3.0
    _assert_matches(est, _mt_ref(mt_name, X, Y))


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("value", [0.0, -7.25, 1e100])
def test_mt_constant_targets(mt_name, sparse, value):
    X, Y = _mt_data()
    C = np.full_like(Y, value)
    est = fit_checked(MT_ESTIMATORS[mt_name](alpha=ALPHA),
                      sp.csc_matrix(X) if sparse else X, C)
    assert_array_equal(est.coef_, 0.0)
    if mt_name == "MultiTask-enet_path":  # (the wrapper's own float64 mean)
        assert_allclose(est.intercept_, value, rtol=1e-15)
    else:
        assert_array_equal(est.intercept_, value)
    assert est.dual_gap_ == 0.0


@pytest.mark.parametrize("sparse", [False, True])
def test_mt_duplicated_columns(mt_name, sparse):
    """Multi-task Lasso: only the sum of the rows of a duplicated pair is determined,
    and the two rows point the same way (||u|| + ||v|| > ||u + v|| otherwise); the sum
    is the row of the fit without the copy. Elastic Net: the ridge term splits it
    equally, as scikit-learn's unique solution does."""
    X, Y = _mt_data()
    Xd = np.column_stack([X, X[:, 0], X[:, 2]])
    est = fit_checked(MT_ESTIMATORS[mt_name](alpha=ALPHA),
                      sp.csc_matrix(Xd) if sparse else Xd, Y)
    if MT_MODEL[mt_name] == "MultiTaskLasso":
        ref = _mt_ref(mt_name, X, Y)
        merged = est.coef_[:, :8].copy()
        merged[:, [0, 2]] += est.coef_[:, 8:]
        assert_allclose(merged, ref.coef_, rtol=1e-6, atol=1e-9)
        for a, b in ((0, 8), (2, 9)):
            u, v = est.coef_[:, a], est.coef_[:, b]
            assert u @ v >= (1 - 1e-9) * np.linalg.norm(u) * np.linalg.norm(v)
        assert_allclose(est.intercept_, ref.intercept_, rtol=1e-6)
    else:
        _assert_matches(est, _mt_ref(mt_name, Xd, Y))
        assert_allclose(est.coef_[:, [0, 2]], est.coef_[:, 8:], rtol=1e-6)


@pytest.mark.parametrize("c", [1e150, 1e-150])
@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_mt_extreme_magnitudes_float64(mt_name, c, sparse, fit_intercept):
    X, Y = _mt_data()
    est = fit_checked(
        MT_ESTIMATORS[mt_name](alpha=ALPHA * c * c, fit_intercept=fit_intercept),
        sp.csc_matrix(X * c) if sparse else X * c,
        Y * c,
    )
    _assert_matches(est, _mt_ref(mt_name, X, Y, fit_intercept=fit_intercept), scale=c)


@pytest.mark.parametrize("c", [1e15, 1e-15])
@pytest.mark.parametrize("sparse", [False, True])
def test_mt_extreme_magnitudes_float32(mt_name, c, sparse):
    X, Y = _mt_data()
    X32, Y32 = (X * c).astype(np.float32), (Y * c).astype(np.float32)
    est = fit_checked(MT_ESTIMATORS[mt_name](alpha=ALPHA * c * c, tol=1e-7),
                      sp.csc_matrix(X32) if sparse else X32, Y32)
    assert est.coef_.dtype == np.float32
    ref = _mt_ref(mt_name, X32.astype(np.float64) / c, Y32.astype(np.float64) / c)
    _assert_matches(est, ref, rtol=2e-4, scale=c)


@pytest.mark.parametrize("sparse", [False, True])
def test_mt_magnitudes_beyond_the_dtype_raise(mt_name, sparse):
    X, Y = _mt_data()
    for Xs, Ys, match in [(X * 1e155, Y, "column 0 of X are too large for float64"),
                          (X, Y * 1e160, "values of y are too large for float64")]:
        est = MT_ESTIMATORS[mt_name](alpha=ALPHA)
        with pytest.raises(ValueError, match=match + r".*Rescale the data"):
            est.fit(sp.csc_matrix(Xs) if sparse else Xs, Ys)
        assert not hasattr(est, "coef_")


def test_mt_huge_alpha_gives_zeros_with_finite_gap(mt_name):
    X, Y = _mt_data()
    est = MT_ESTIMATORS[mt_name](alpha=1e307)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fit_checked(est, X, Y)
    assert_array_equal(est.coef_, 0.0)
    assert_allclose(est.intercept_, Y.mean(axis=0), rtol=1e-14)


@pytest.mark.parametrize("sparse", [False, True])
def test_mt_zero_weights_drop_rows(mt_name, sparse):
    X, Y = _mt_data()
    sw = np.ones(len(X))
    sw[::4] = 0.0
    keep = sw > 0
    est = fit_checked(MT_ESTIMATORS[mt_name](alpha=ALPHA),
                      sp.csc_matrix(X) if sparse else X, Y, sample_weight=sw)
    if mt_name in MT_NOT_CV:  # (CV folds differ when rows are dropped)
        dropped = MT_ESTIMATORS[mt_name](alpha=ALPHA).fit(X[keep], Y[keep])
        _assert_matches(est, dropped, rtol=1e-7)
    _assert_matches(est, _mt_ref(mt_name, X, Y, sample_weight=sw))


@pytest.mark.parametrize("sparse", [False, True])
def test_mt_float32_stays_float32_and_layouts_agree(mt_name, sparse):
    X, Y = _mt_data()
    X32, Y32 = X.astype(np.float32), Y.astype(np.float32)
    est = fit_checked(MT_ESTIMATORS[mt_name](alpha=ALPHA, tol=1e-7),
                      sp.csc_matrix(X32) if sparse else X32, Y32)
    assert est.coef_.dtype == np.float32
    if mt_name != "MultiTask-enet_path":  # (the wrapper's intercept is float64)
        assert est.intercept_.dtype == np.float32
    # the same numbers in other containers: bit-identical fits
    if sparse:
        others = [sp.csr_matrix(X32), sp.coo_matrix(X32), sp.csc_array(X32)]
    else:
        others = [np.asfortranarray(X32), pd.DataFrame(X32), X32.tolist()]
    for Xo in others:
        Xo = np.asarray(Xo, dtype=np.float32) if isinstance(Xo, list) else Xo
        _assert_identical(
            fit_checked(MT_ESTIMATORS[mt_name](alpha=ALPHA, tol=1e-7), Xo, Y32), est
        )


def test_mt_sparse_non_canonical_structure():
    """Duplicates (summed), unsorted indices and explicit zeros: the same model as
    the dense matrix they stand for; the caller's matrix is not touched."""
    X, Y = _mt_data()
    Xs = sp.coo_matrix(X)
    rows = np.r_[Xs.row, Xs.row[:5]]
    cols = np.r_[Xs.col, Xs.col[:5]]
    vals = np.r_[Xs.data, np.zeros(5)]  # duplicates holding 0
    dup = sp.csc_matrix((vals, (rows, cols)), shape=X.shape)
    dup.has_canonical_format = False
    for name in MT_NOT_CV:
        est = fit_checked(MT_ESTIMATORS[name](alpha=ALPHA), dup, Y)
        _assert_matches(est, _mt_ref(name, X, Y))


# ---------------------------------------------------------------------------------
# sparse logistic regression: labels and targets
#
# The classifiers' entry points (LogisticRegression with the L1 and the Elastic-Net
# penalty, LogisticRegressionCV, logistic_path as an estimator) on hostile labels.
# Expected outcomes: scikit-learn's errors for invalid labels, exact invariances
# (relabelling) for valid ones.


LOGISTIC = LOGISTIC_ENTRY_POINTS


@pytest.fixture(params=sorted(LOGISTIC))
def classifier(request):
    return request.param


def _labels(n=45, seed=0):
    X, y = _data(n=n, seed=seed)
    return X, np.digitize(y, np.quantile(y, [1 / 3, 2 / 3]))  # 3 balanced classes


@pytest.mark.parametrize("kind", ["str", "object", "float", "negative", "bool"])
def test_labels_of_any_type_give_the_integer_model(classifier, kind):
    X, y = _labels()
    if kind == "bool":
        y = y > 0
        ref = fit_checked(LOGISTIC[classifier](), X, y.astype(int))
    else:
        ref = fit_checked(LOGISTIC[classifier](), X, y)
    labels = {
        "str": np.array(["low", "mid", "top"])[y] if kind != "bool" else None,
        "object": (np.array(["low", 2, 3.5], dtype=object)[y] if kind != "bool"
                   else None),
        "float": np.array([-1.0, 2.0, 7.0])[y] if kind != "bool" else None,
        "negative": np.array([-3, -2, -1])[y] if kind != "bool" else None,
        "bool": y,
    }[kind]
    if kind == "object":  # mixed label types: scikit-learn's error, verbatim
        with pytest.raises(Exception) as ref_err:
            linear_model.LogisticRegression().fit(X, labels)
        with pytest.raises(ref_err.type) as err:
            LOGISTIC[classifier]().fit(X, labels)
        assert str(err.value) == str(ref_err.value)
        return
    est = fit_checked(LOGISTIC[classifier](), X, labels)
    _assert_identical_classifier(est, ref)
    assert list(est.classes_) == sorted(set(labels.tolist()))


def _assert_identical_classifier(a, b):
    assert_array_equal(a.coef_, b.coef_)
    assert_array_equal(a.intercept_, b.intercept_)


def test_one_class_is_refused_with_sklearns_message(classifier):
    X, _ = _labels()
    for y in (np.zeros(len(X)), np.array(["only"] * len(X))):
        est = LOGISTIC[classifier]()
        with pytest.raises(ValueError, match="at least 2 classes"):
            est.fit(X, y)
        assert not hasattr(est, "coef_")


def test_nan_and_inf_labels_are_refused(classifier):
    X, y = _labels()
    for bad in (np.nan, np.inf):
        yb = y.astype(float)
        yb[3] = bad
        with pytest.raises(ValueError, match="Input y contains"):
            LOGISTIC[classifier]().fit(X, yb)


def test_continuous_labels_are_refused(classifier):
    X, y = _data(n=45)
    with pytest.raises(ValueError, match="Unknown label type"):
        LOGISTIC[classifier]().fit(X, y)


@pytest.mark.parametrize("shape", ["3d", "two_columns"])
def test_multidimensional_labels_are_refused(classifier, shape):
    X, y = _labels()
    Y = y.reshape(-1, 1, 1) if shape == "3d" else np.c_[y, y]
    with pytest.raises(ValueError):
        LOGISTIC[classifier]().fit(X, Y)


def test_column_labels_warn_and_fit_as_1d(classifier):
    X, y = _labels()
    from sklearn.exceptions import DataConversionWarning

    with pytest.warns(DataConversionWarning):
        est = LOGISTIC[classifier]().fit(X, y[:, None])
    _assert_identical_classifier(est, LOGISTIC[classifier]().fit(X, y))


def test_mismatched_rows_are_refused(classifier):
    X, y = _labels()
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        LOGISTIC[classifier]().fit(X, y[:-2])
    with pytest.raises(ValueError,
                       match="inconsistent numbers of samples|sample_weight"):
        LOGISTIC[classifier]().fit(X, y, sample_weight=np.ones(len(y) + 1))


def test_nan_in_X_is_refused(classifier):
    X, y = _labels()
    X[2, 3] = np.nan
    with pytest.raises(ValueError, match="Input X contains NaN"):
        LOGISTIC[classifier]().fit(X, y)


def test_negative_sample_weights_are_refused(classifier):
    X, y = _labels()
    sw = np.ones(len(y))
    sw[0] = -1.0
    with pytest.raises(ValueError, match="[Nn]egative"):
        LOGISTIC[classifier]().fit(X, y, sample_weight=sw)


def test_constant_and_zero_columns_stay_out_of_the_model(classifier):
    X, y = _labels()
    X[:, 2] = 0.0
    X[:, 5] = 3.7
    est = fit_checked(LOGISTIC[classifier](), sp.csc_matrix(X), y)
    assert not est.coef_[:, [2, 5]].any()
    ref = fit_checked(LOGISTIC[classifier](), np.delete(X, [2, 5], axis=1), y)
    assert_allclose(np.delete(est.coef_, [2, 5], axis=1), ref.coef_, atol=1e-8)


@pytest.mark.parametrize("c", [1e100, 1e-100])
def test_extreme_magnitudes_of_X(c):
    """L1: (c X, C / c) has the solution (w / c, b) of (X, C): the kernels see the
    same problem in other units."""
    X, y = _labels()
    ref = fastlasso.LogisticRegression(C=0.5, l1_ratio=1.0, tol=1e-12).fit(X, y)
    est = fit_checked(
        fastlasso.LogisticRegression(C=0.5 / c, l1_ratio=1.0, tol=1e-12), X * c, y)
    assert_allclose(est.coef_ * c, ref.coef_, rtol=1e-6, atol=1e-9)
    assert_allclose(est.intercept_, ref.intercept_, rtol=1e-6, atol=1e-9)
