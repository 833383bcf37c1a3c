"""lasso_path / enet_path agree with scikit-learn's paths, with cold single fits and
with closed forms, and every point of a path is certified at ``tol``.

Path semantics (scikit-learn's): no centring by default, so a point is converged when
its duality gap (objective units) <= tol * ||y||^2 / n. References: scikit-learn's
``lasso_path`` / ``enet_path`` in float64 at tol=1e-14 (for float32 problems: on the
float32 data cast to float64), and the independent float64 objective and KKT
residuals of conftest.py. With fit_intercept / sample_weight (which scikit-learn's path
functions do not apply the same way) the reference is scikit-learn's ElasticNet.
"""

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal
from sklearn import linear_model

import fastlasso

from conftest import (
    LAYOUTS,
    alpha_max,
    as_layout,
    kkt_tolerance,
    kkt_violation,
    make_regression_data,
    objective,
    sklearn_fit,
    y_scale,
)

FIT_TOL = {np.float64: 1e-12, np.float32: 1e-6}
# coefficients: |w - w_ref| <= COEF_RTOL * max|w_ref| per alpha
COEF_RTOL = {np.float64: 1e-6, np.float32: 2e-3}
MAX_ITER = 100_000
SHAPES = {"wide": (40, 120), "tall": (300, 20)}
MODELS = {"lasso": 1.0, "enet": 0.5}

DTYPES = pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
LAYOUT = pytest.mark.parametrize("layout", LAYOUTS)
SHAPE = pytest.mark.parametrize("shape", list(SHAPES))
MODEL = pytest.mark.parametrize("l1_ratio", list(MODELS.values()), ids=list(MODELS))


def data(shape="wide", dtype=np.float64, seed=0):
    X, y, sw = make_regression_data(*SHAPES[shape], seed=seed)
    return X.astype(dtype), y.astype(dtype), sw


def fl_path(X, y, **params):
    """fastlasso.enet_path with a tight tolerance and no iteration cap by default."""
    params = {"tol": FIT_TOL[X.dtype.type], "max_iter": MAX_ITER, **params}
    return fastlasso.enet_path(X, y, **params)


def sk_path(X, y, **params):
    """scikit-learn's enet_path in float64 at tol=1e-14 (the reference)."""
    params = {"tol": 1e-14, "max_iter": 200_000, **params}
    X = X.astype(np.float64)
    return linear_model.enet_path(X, np.asarray(y, dtype=np.float64), **params)


def assert_coefs_close(coefs, ref, rtol):
    """Column by column: |w - w_ref| <= rtol * s, s = max|w_ref| over the column, but at
    least 1e-6 of the largest coefficient of the path (and 1e-12): a column of zeros
    (alpha at alpha_max) is compared at the path's scale, where the rounding of a
    gradient (1 ulp of n alpha_max; numpy versions differ in it) may leave a
    coefficient of ~1e-15 instead of an exact 0."""
    floor = max(1e-6 * float(np.abs(ref).max(initial=0.0)), 1e-12)
    scale = np.maximum(np.abs(ref).max(axis=0), floor)
    assert_allclose(coefs / scale, ref / scale, rtol=0, atol=rtol)


# ---------------------------------------------------------------- the alpha grid


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("layout", ["dense_F", "csc"])
@MODEL
@pytest.mark.parametrize("positive", [False, True], ids=["signed", "positive"])
@pytest.mark.parametrize("n_alphas,eps", [(1, 1e-3), (7, 1e-2), (100, 1e-3)])
@pytest.mark.parametrize("precompute", [False, True])
def test_grid_is_sklearns(layout, l1_ratio, positive, n_alphas, eps, precompute):
    """(precompute=True on dense X: alpha_max from the X~^T y_c of the Gram cache)"""
    X, y, _ = data()
    Xl = as_layout(X, layout)
    # a short max_iter (warnings ignored): only the grid matters here
    a = fastlasso.enet_path(Xl, y, l1_ratio=l1_ratio, alphas=n_alphas, eps=eps,
                            positive=positive, max_iter=5, precompute=precompute)[0]
    a_sk = linear_model.enet_path(Xl, y, l1_ratio=l1_ratio, alphas=n_alphas, eps=eps,
                                  positive=positive, max_iter=5)[0]
    assert a.shape == (n_alphas,)
    assert_allclose(a, a_sk, rtol=1e-12)
    # independently: geometric from alpha_max (no centring) down to eps * alpha_max
    amax = alpha_max(X, y, None, False, l1_ratio, positive)
    expected = np.geomspace(amax, eps * amax, n_alphas)
    assert_allclose(a, expected, rtol=1e-12)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("fit_intercept", [False, True])
def test_grid_from_the_gram_cache_is_the_grid_from_X(fit_intercept):
    """In full Gram mode the grid's alpha_max comes from the cached X~^T S y_c; with
    centring and weights it is the grid computed from X."""
    X, y, sw = data()
    grids = [
        fastlasso.lasso_path(X, y, precompute=pre, fit_intercept=fit_intercept,
                             sample_weight=sw, max_iter=5)[0]
        for pre in (True, False)
    ]
    assert_allclose(grids[0], grids[1], rtol=1e-12)


def test_lasso_path_is_enet_path_with_l1_ratio_one():
    X, y, _ = data()
    a1, c1, g1 = fastlasso.lasso_path(X, y, alphas=10, eps=1e-2, tol=1e-10)
    a2, c2, g2 = fastlasso.enet_path(X, y, l1_ratio=1.0, alphas=10, eps=1e-2, tol=1e-10)
    assert_array_equal(a1, a2)
    assert_array_equal(c1, c2)
    assert_array_equal(g1, g2)


def test_n_alphas_alias_sets_the_grid_length_with_sklearns_deprecation_warning():
    X, y, _ = data()
    with pytest.warns(FutureWarning, match="n_alphas"):
        alphas, coefs, _ = fastlasso.lasso_path(X, y, n_alphas=7)
    assert alphas.shape == (7,) and coefs.shape == (X.shape[1], 7)
    assert_allclose(alphas, fastlasso.lasso_path(X, y, alphas=7)[0], rtol=1e-15)


def test_explicit_alphas_are_sorted_decreasing():
    X, y, _ = data("tall")
    amax = alpha_max(X, y, None, False)
    given = amax * np.array([0.01, 0.5, 0.002, 0.1])
    alphas, coefs, _ = fl_path(X, y, l1_ratio=1.0, alphas=given.tolist())
    assert_allclose(alphas, np.sort(given)[::-1], rtol=0)
    # each column is the solution at the alpha reported next to it
    ref_alphas, ref, _ = sk_path(X, y, l1_ratio=1.0, alphas=given)
    assert_allclose(ref_alphas, alphas, rtol=0)
    assert_coefs_close(coefs, ref, COEF_RTOL[np.float64])


@pytest.mark.parametrize("driver", ["one target", "multi-task", "dask"])
@pytest.mark.parametrize(
    "alphas, match",
    [
        (0, "alphas must be >= 1 when given as a count, got 0"),
        (-3, "alphas must be >= 1 when given as a count, got -3"),
        ([], "alphas is empty"),
        ([0.1, np.nan], "alphas must be finite and non-negative"),
        ([0.1, -1.0], "alphas must be finite and non-negative"),
        ([np.inf], "alphas must be finite and non-negative"),
    ],
    ids=["zero", "negative count", "empty", "nan", "negative", "inf"],
)
def test_every_path_driver_checks_alphas_alike(driver, alphas, match):
    """The grids of one target, of several tasks and of dask data take ``alphas`` by
    one rule (_solve_path.check_alphas): the same errors, the same values back."""
    from fastlasso._multitask import resolve_mt_alphas
    from fastlasso._solve_path import resolve_alphas
    from fastlasso.dask._path import resolve_grid

    resolve = {
        "one target": lambda a: resolve_alphas(None, None, a, 1.0, 1e-3, False),
        "multi-task": lambda a: resolve_mt_alphas(None, None, a, 1.0, 1e-3),
        "dask": lambda a: resolve_grid(None, a, 1.0, 1e-3, False),
    }[driver]
    with pytest.raises(ValueError, match=match):
        resolve(alphas)
    got = resolve([0.01, 0.5, 0.002])  # values: no data needed, sorted decreasing
    assert got.dtype == np.float64
    assert_array_equal(got, [0.5, 0.01, 0.002])


@pytest.mark.parametrize("driver", ["in memory", "dask"])
@pytest.mark.parametrize(
    "params, match",
    [
        ({"l1_ratio": 1.5}, r"l1_ratio must be in \[0, 1\], got 1.5"),
        ({"l1_ratio": np.nan}, r"l1_ratio must be in \[0, 1\], got nan"),
        ({"eps": 0.0}, "eps must be > 0, got 0.0"),
        ({"tol": -1.0}, "tol must be >= 0, got -1.0"),
        ({"tol": np.nan}, "tol must be >= 0, got nan"),
        ({"max_iter": 2.5}, "max_iter must be an integer >= 1, got 2.5"),
        ({"max_iter": 0}, "max_iter must be an integer >= 1, got 0"),
        ({"selection": "greedy"}, "selection must be 'cyclic' or 'random', got 'gr"),
        ({"positive": None}, "positive must be a bool, got None"),
        ({"fit_intercept": "yes"}, "fit_intercept must be a bool, got 'yes'"),
    ],
    ids=["l1_ratio", "l1_ratio nan", "eps", "tol", "tol nan", "max_iter float",
         "max_iter 0", "selection", "positive", "fit_intercept"],
)
def test_every_path_function_checks_its_parameters_alike(driver, params, match):
    """fastlasso.enet_path and fastlasso.dask.enet_path take their scalar parameters
    by one rule (_solve_path.check_path_params): the same errors, raised before any
    data is read (no cluster needed)."""
    X, y, _ = data("tall")
    if driver == "dask":
        import dask.array as da

        import fastlasso.dask as fld

        path, X, y = fld.enet_path, da.from_array(X), da.from_array(y)
    else:
        path = fastlasso.enet_path
    with pytest.raises(ValueError, match=match):
        path(X, y, **{"l1_ratio": 0.5, "alphas": 3, **params})


def test_Xy_sets_the_grid():
    """Xy = X^T y gives the same grid; a different Xy (2 X^T y) doubles alpha_max, as
    in scikit-learn, so Xy is really what the grid is computed from."""
    X, y, _ = data("tall")
    Xy = X.T @ y
    a0 = fastlasso.lasso_path(X, y, alphas=9)[0]
    a1, coefs1, _ = fl_path(X, y, l1_ratio=1.0, alphas=9, Xy=Xy)
    assert_allclose(a1, a0, rtol=1e-12)
    a2 = fastlasso.lasso_path(X, y, alphas=9, Xy=2 * Xy)[0]
    assert_allclose(a2, 2 * a0, rtol=1e-12)
    a_sk = linear_model.lasso_path(X, y, alphas=9, Xy=2 * Xy)[0]
    assert_allclose(a2, a_sk, rtol=1e-12)
    assert_coefs_close(coefs1, sk_path(X, y, l1_ratio=1.0, alphas=a1)[1], 1e-6)


def test_target_orthogonal_to_every_column_gives_a_flat_zero_path():
    """y = 0: alpha_max = 0, scikit-learn returns a constant tiny grid, coefs are 0."""
    X, _, _ = data("tall")
    y = np.zeros(X.shape[0])
    alphas, coefs, gaps = fastlasso.lasso_path(X, y, alphas=5)
    assert_array_equal(alphas, linear_model.lasso_path(X, y, alphas=5)[0])
    assert_array_equal(coefs, 0.0)
    assert_array_equal(gaps, 0.0)


def test_zero_Xy_gives_sklearns_tiny_grid():
    X, _, _ = data("tall")
    y = np.zeros(X.shape[0])
    Xy = np.zeros(X.shape[1])
    alphas = fastlasso.lasso_path(X, y, alphas=5, Xy=Xy)[0]
    assert_array_equal(alphas, linear_model.lasso_path(X, y, alphas=5, Xy=Xy)[0])


# ---------------------------------------------------------- the path vs references


def assert_path_certified(X, y, alphas, coefs, gaps, ref, l1_ratio, tol,
                          positive=False):
    """Every point: reported gap <= tol * ||y||^2 / n; objective within tol of the
    reference optimum (and not below it); the reported gap bounds the suboptimality
    seen against the reference; KKT conditions hold up to what that gap allows."""
    scale = y_scale(y, fit_intercept=False)
    assert np.all(gaps <= tol * scale)
    # a gap is computed in the working dtype: >= 0 up to its roundoff
    gap_roundoff = 4 * np.finfo(coefs.dtype).eps * scale
    assert np.all(gaps >= -gap_roundoff)
    for i, alpha in enumerate(alphas):
        P = objective(X, y, coefs[:, i], 0.0, alpha, l1_ratio)
        P_ref = objective(X, y, ref[:, i], 0.0, alpha, l1_ratio)
        roundoff = 1e-13 * P_ref
        assert P - P_ref <= tol * scale + roundoff
        # the gap is honest: P - P* <= gap, and P* <= P_ref
        assert P - P_ref <= gaps[i] + gap_roundoff + roundoff
        assert P >= P_ref - 1e-14 * scale - roundoff
        viol = kkt_violation(X, y, coefs[:, i], alpha, l1_ratio, fit_intercept=False,
                             positive=positive)
        bound = kkt_tolerance(X, tol * scale + roundoff, alpha, l1_ratio,
                              fit_intercept=False)
        assert np.all(viol <= bound + 1e-12 * alpha)


@SHAPE
@DTYPES
@LAYOUT
@MODEL
def test_path_matches_sklearn(shape, dtype, layout, l1_ratio):
    X, y, _ = data(shape, dtype)
    Xl = as_layout(X, layout)
    alphas, coefs, gaps = fl_path(Xl, y, l1_ratio=l1_ratio, alphas=15, eps=1e-2)
    assert coefs.dtype == dtype and coefs.shape == (X.shape[1], 15)
    assert gaps.shape == (15,)
    ref_alphas, ref, _ = sk_path(X, y, l1_ratio=l1_ratio, alphas=alphas)
    assert_allclose(ref_alphas, alphas, rtol=0)
    assert_coefs_close(coefs, ref, COEF_RTOL[dtype])
    assert_path_certified(X, y, alphas, coefs, gaps, ref, l1_ratio, FIT_TOL[dtype])


@pytest.mark.slow
@MODEL
def test_long_default_path_matches_sklearn(l1_ratio):
    """100 alphas down to eps=1e-3 on wide data: the ill-conditioned end included."""
    X, y, _ = data("wide")
    alphas, coefs, gaps = fl_path(X, y, l1_ratio=l1_ratio)
    assert alphas.shape == (100,)
    ref = sk_path(X, y, l1_ratio=l1_ratio, alphas=alphas)[1]
    assert_coefs_close(coefs, ref, 1e-5)
    assert_path_certified(X, y, alphas, coefs, gaps, ref, l1_ratio, FIT_TOL[np.float64])


@pytest.mark.parametrize("layout", ["dense_F", "csr"])
@MODEL
def test_positive_path_matches_sklearn(layout, l1_ratio):
    X, y, _ = data("wide")
    y = y - 2 * X[:, 1]  # a feature that wants a negative weight
    alphas, coefs, gaps = fl_path(as_layout(X, layout), y, l1_ratio=l1_ratio,
                                  alphas=15, eps=1e-2, positive=True)
    assert np.all(coefs >= 0)
    ref = sk_path(X, y, l1_ratio=l1_ratio, alphas=alphas, positive=True)[1]
    assert_coefs_close(coefs, ref, 1e-6)
    assert_path_certified(X, y, alphas, coefs, gaps, ref, l1_ratio, 1e-12,
                          positive=True)


@MODEL
@pytest.mark.parametrize("layout", ["dense_C", "csc"])
def test_path_points_match_cold_single_fits(l1_ratio, layout):
    """Warm starts and screening across alphas change nothing: each point equals a
    cold fastlasso fit at that alpha (fit_intercept=False, same tol)."""
    X, y, _ = data("wide", seed=3)
    Xl = as_layout(X, layout)
    alphas, coefs, _ = fl_path(Xl, y, l1_ratio=l1_ratio, alphas=12, eps=1e-2)
    for i in range(0, 12, 3):
        est = fastlasso.ElasticNet(alpha=alphas[i], l1_ratio=l1_ratio,
                                   fit_intercept=False, tol=1e-12, max_iter=MAX_ITER)
        est.fit(Xl, y)
        assert_coefs_close(coefs[:, [i]], est.coef_[:, None], 1e-6)


def test_ridge_path_matches_closed_form():
    """l1_ratio=0 with explicit alphas: w* = (X^T X / n + alpha I)^-1 X^T y / n.

    P is alpha-strongly convex, so P(w) - P* <= tol * scale bounds
    ||w - w*||_2 <= sqrt(2 tol scale / alpha)."""
    X, y, _ = data("tall")
    n, p = X.shape
    tol = 1e-12
    bound = tol * y_scale(y, fit_intercept=False)
    alphas, coefs, gaps = fl_path(X, y, l1_ratio=0.0, alphas=[0.1, 10.0, 1.0], tol=tol)
    assert_array_equal(alphas, [10.0, 1.0, 0.1])
    assert np.all(gaps <= bound)
    for i, alpha in enumerate(alphas):
        w = np.linalg.solve(X.T @ X / n + alpha * np.eye(p), X.T @ y / n)
        P, P_star = (objective(X, y, v, 0.0, alpha, 0.0) for v in (coefs[:, i], w))
        assert -1e-13 * P_star <= P - P_star <= bound + 1e-13 * P_star
        assert np.linalg.norm(coefs[:, i] - w) <= np.sqrt(2 * bound / alpha) * 1.01


# ------------------------------------------- intercept and sample weights (extras)


@pytest.mark.parametrize("layout", ["dense_F", "csc"])
@MODEL
@pytest.mark.parametrize("fit_intercept", [True, False], ids=["intercept", "no_icpt"])
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "sw"])
def test_intercept_and_weights_match_sklearn_estimators(layout, l1_ratio, fit_intercept,
                                                        weighted):
    X, y, sw = data("wide", seed=1)
    sw = sw if weighted else None
    alphas, coefs, gaps = fl_path(as_layout(X, layout), y, l1_ratio=l1_ratio, alphas=10,
                                  eps=1e-2, fit_intercept=fit_intercept,
                                  sample_weight=sw)
    amax = alpha_max(X, y, sw, fit_intercept, l1_ratio)
    assert_allclose(alphas, np.geomspace(amax, 1e-2 * amax, 10), rtol=1e-12)
    assert np.all(gaps <= 1e-12 * y_scale(y, sw, fit_intercept))
    for i in (0, 4, 9):
        ref = sklearn_fit("ElasticNet", X, y, alpha=alphas[i], l1_ratio=l1_ratio,
                          sample_weight=sw, fit_intercept=fit_intercept)
        assert_coefs_close(coefs[:, [i]], ref.coef_[:, None], 1e-6)


def test_unit_sample_weights_change_nothing():
    X, y, _ = data("tall")
    a1, c1, _ = fl_path(X, y, l1_ratio=0.5, alphas=8, fit_intercept=True)
    a2, c2, _ = fl_path(X, y, l1_ratio=0.5, alphas=8, fit_intercept=True,
                        sample_weight=np.full(X.shape[0], 3.0))
    assert_allclose(a2, a1, rtol=1e-12)
    assert_coefs_close(c2, c1, 1e-8)


@pytest.mark.parametrize("layout", ["dense_F", "csc"])
def test_zero_weight_rows_are_dropped_rows(layout):
    """What cross-validation relies on: rows of zero weight change nothing, the path
    (grid included) equals the path on the other rows only."""
    X, y, sw = data("wide", seed=2)
    sw = sw.copy()
    sw[::4] = 0.0
    keep = sw > 0
    params = {"l1_ratio": 0.7, "alphas": 8, "eps": 1e-2, "fit_intercept": True}
    a1, c1, _ = fl_path(as_layout(X, layout), y, sample_weight=sw, **params)
    a2, c2, _ = fl_path(X[keep], y[keep], sample_weight=sw[keep], **params)
    assert_allclose(a1, a2, rtol=1e-12)
    assert_coefs_close(c1, c2, 1e-7)


# ------------------------------------------------------------ options and returns


@pytest.mark.parametrize("precompute", ["auto", True, False, "gram"])
@pytest.mark.parametrize("shape", ["tall", "wide"])
def test_precompute_variants_match_sklearn(precompute, shape):
    X, y, _ = data(shape)
    if precompute == "gram":
        precompute = X.T @ X
    alphas, coefs, gaps = fl_path(X, y, l1_ratio=0.8, alphas=10, eps=1e-2,
                                  precompute=precompute)
    ref = sk_path(X, y, l1_ratio=0.8, alphas=alphas)[1]
    assert_coefs_close(coefs, ref, 1e-6)
    assert np.all(gaps <= 1e-12 * y_scale(y, fit_intercept=False))


def test_precompute_true_on_sparse_input_is_accepted():
    X, y, _ = data("tall")
    alphas, coefs, _ = fl_path(sp.csc_matrix(X), y, l1_ratio=1.0, alphas=6,
                               precompute=True)
    assert_coefs_close(coefs, sk_path(X, y, l1_ratio=1.0, alphas=alphas)[1], 1e-6)


def test_coef_init_starts_the_path():
    """Starting at the (reference) optimum of the first alpha: the same path, and
    fewer epochs there than from zero (so coef_init is used)."""
    X, y, _ = data("wide")
    amax = alpha_max(X, y, None, False)
    given = amax * np.array([0.1, 0.05])
    ref_alphas, ref, _ = sk_path(X, y, l1_ratio=1.0, alphas=given)
    cold = fl_path(X, y, l1_ratio=1.0, alphas=given, return_n_iter=True)
    warm = fl_path(X, y, l1_ratio=1.0, alphas=given, coef_init=ref[:, 0],
                   return_n_iter=True)
    assert_coefs_close(warm[1], ref, 1e-6)
    assert_coefs_close(cold[1], ref, 1e-6)
    assert warm[3][0] < cold[3][0]


def test_coef_init_does_not_change_the_result_of_a_tight_path():
    X, y, _ = data("tall")
    w0 = np.random.default_rng(0).standard_normal(X.shape[1])
    a, c_cold, _ = fl_path(X, y, l1_ratio=0.5, alphas=6, eps=1e-2)
    _, c_warm, _ = fl_path(X, y, l1_ratio=0.5, alphas=6, eps=1e-2, coef_init=w0)
    assert_coefs_close(c_warm, c_cold, 1e-7)


def test_return_n_iter():
    X, y, _ = data("tall")
    out3 = fastlasso.lasso_path(X, y, alphas=5)
    out4 = fastlasso.lasso_path(X, y, alphas=5, return_n_iter=True)
    assert len(out3) == 3 and len(out4) == 4
    n_iters = out4[3]
    assert len(n_iters) == 5
    assert all(isinstance(k, (int, np.integer)) and 0 <= k <= 1000 for k in n_iters)
    assert sum(n_iters) > 0
    for a, b in zip(out3, out4[:3], strict=True):
        assert_array_equal(a, b)


def test_one_column_y_is_the_path_with_sklearns_multi_output_shape():
    """A 2-D y is scikit-learn's multi-task path; with one column that is the path
    (the L2,1 norm of one task is the L1 norm), shaped (1, n_features, n_alphas)."""
    X, y, _ = data("tall")
    a1, c1, g1 = fl_path(X, y, l1_ratio=1.0, alphas=5)
    a2, c2, g2 = fl_path(X, y[:, None], l1_ratio=1.0, alphas=5)
    assert c2.shape == (1, X.shape[1], 5)
    assert_array_equal(a2, a1)
    assert_array_equal(c2[0], c1)
    assert_array_equal(g2, g1)
    _, c_sk, _ = linear_model.lasso_path(X, y[:, None], alphas=5)
    assert c_sk.shape == c2.shape


@pytest.mark.parametrize("path", ["lasso_path", "enet_path"])
@pytest.mark.parametrize("sparse", [False, True])
def test_several_target_columns_give_sklearns_multi_task_path(path, sparse):
    """A y with several columns is scikit-learn's multi-task path (the L2,1 penalty
    on the rows of W): its grid exactly, its coefficients at tight tolerance, its
    shapes, errors and gaps (each at most the tolerance asked)."""
    X, y, _ = data("tall")
    Y = np.c_[y, -2 * y + 1.0, X[:, 3]]
    Y = Y - Y.mean(axis=0)
    Xl = sp.csc_matrix(X) if sparse else X
    kw = {"l1_ratio": 0.7} if path == "enet_path" else {}
    got = getattr(fastlasso, path)(Xl, Y, alphas=4, tol=1e-12, return_n_iter=True,
                                   **kw)
    ref = getattr(linear_model, path)(Xl, Y, alphas=4, tol=1e-12, max_iter=100_000,
                                      return_n_iter=True, **kw)
    assert got[1].shape == ref[1].shape == (3, X.shape[1], 4)
    assert got[1].dtype == ref[1].dtype
    assert_allclose(got[0], ref[0], rtol=1e-12)
    assert_allclose(got[1], ref[1], rtol=1e-7, atol=1e-9 * np.abs(ref[1]).max())
    assert np.all(got[2] <= 1e-12 * (Y**2).sum() / len(Y))
    assert len(got[3]) == 4
    # warm start from coef_init (scikit-learn's (n_targets, n_features)) and Xy
    # (n_features, n_targets) for the grid
    again = getattr(fastlasso, path)(Xl, Y, alphas=ref[0][-1:], tol=1e-12,
                                     coef_init=got[1][:, :, -1], return_n_iter=True,
                                     **kw)
    assert again[3] == [0]
    grid = getattr(fastlasso, path)(Xl, Y, alphas=4, Xy=X.T @ Y, **kw)[0]
    assert_allclose(grid, ref[0], rtol=1e-12)
    with pytest.raises(ValueError, match=r"positive=True is not allowed for "
                       r"multi-output \(y.ndim != 1\)"):
        getattr(fastlasso, path)(Xl, Y, positive=True)
    with pytest.raises(ValueError, match="coef_init has shape"):
        getattr(fastlasso, path)(Xl, Y, coef_init=np.zeros(X.shape[1]))


@pytest.mark.parametrize("sparse", [False, True])
def test_multi_task_path_with_intercept_and_weights_is_the_estimators(sparse):
    """fastlasso's extension: fit_intercept and sample_weight in the multi-task path
    give, at every alpha, scikit-learn's MultiTaskElasticNet fitted there."""
    X, y, _ = data("tall")
    Y = np.c_[y, 3 * y + 2.0, X[:, 1] - 1.0]
    sw = np.random.default_rng(1).uniform(0.2, 2.0, len(X))
    alphas, coefs, gaps = fastlasso.enet_path(
        sp.csc_matrix(X) if sparse else X, Y, l1_ratio=0.6, alphas=3, tol=1e-12,
        fit_intercept=True, sample_weight=sw)
    for k, alpha in enumerate(alphas):
        ref = linear_model.MultiTaskElasticNet(alpha=alpha, l1_ratio=0.6, tol=1e-13,
                                               max_iter=100_000).fit(
            X, Y, sample_weight=sw)
        assert_allclose(coefs[:, :, k], ref.coef_, rtol=1e-7,
                        atol=1e-9 * max(np.abs(ref.coef_).max(), 1.0))


@pytest.mark.parametrize(
    "params,match",
    [
        ({"alphas": [1.0, -0.5]}, "non-negative"),
        ({"alphas": [1.0, np.nan]}, "finite"),
        ({"alphas": 0}, ">= 1"),
        ({"alphas": []}, "empty"),
        ({"eps": 0.0}, "eps must be > 0"),
        ({"eps": -1e-3}, "eps must be > 0"),
        ({"l1_ratio": 1.5}, "l1_ratio must be in"),
        ({"l1_ratio": -0.1}, "l1_ratio must be in"),
        ({"l1_ratio": 0.0}, "l1_ratio=0"),
        ({"coef_init": np.zeros(3)}, "coef_init has shape"),
        ({"precompute": "yes"}, "precompute must be"),
        ({"precompute": np.eye(3)}, "Gram matrix has shape"),
        ({"Xy": np.zeros(3)}, "Xy has shape"),
        ({"tol": -1.0}, "tol must be"),
        ({"max_iter": 0}, "max_iter"),
        ({"selection": "greedy"}, "selection"),
    ],
)
def test_bad_inputs_raise_value_error(params, match):
    X, y, _ = data("tall")
    X_before, y_before = X.copy(), y.copy()
    with pytest.raises(ValueError, match=match):
        fastlasso.enet_path(X, y, **{"l1_ratio": 0.5, **params})
    assert_array_equal(X, X_before)
    assert_array_equal(y, y_before)


@pytest.mark.parametrize("layout", ["dense_C", "csr"])
def test_inputs_are_not_modified(layout):
    X, y, sw = data("tall")
    Xl = as_layout(X, layout)
    Xl_before = Xl.copy()
    y_before, sw_before = y.copy(), sw.copy()
    fl_path(Xl, y, l1_ratio=0.5, alphas=5, fit_intercept=True, sample_weight=sw)
    after = Xl.toarray() if sp.issparse(Xl) else Xl
    before = Xl_before.toarray() if sp.issparse(Xl) else Xl_before
    assert_array_equal(after, before)
    assert_array_equal(y, y_before)
    assert_array_equal(sw, sw_before)


def test_verbose_reports_progress_on_stderr(capsys):
    X, y, _ = data("tall")
    fastlasso.lasso_path(X, y, alphas=6, verbose=True)
    out, err = capsys.readouterr()
    assert out == ""
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 6
    assert "6/6" in lines[-1]
    fastlasso.lasso_path(X, y, alphas=6, verbose=False)
    assert capsys.readouterr() == ("", "")
