"""Bad input is rejected before any kernel runs, with an error naming the problem.

Every case checks three things: the exception type and message; that the caller's
arrays are unchanged; that nothing is left behind (a fresh estimator stays unfitted, a
fitted one keeps its attributes, and the next fit on good data is correct, compared
with scikit-learn). Kernels run without bounds checks, so corrupt sparse index arrays
and out-of-range sizes must be caught here, not crash the interpreter.

Every entry point that fits is covered: the estimators with coordinate descent and
with the proximal solvers, lasso_path / enet_path (through the PathFit adapter of
helpers.py, and directly for their own parameters) and LassoCV / ElasticNetCV. A new
one is added in helpers.py.
"""

import json
import subprocess
import sys
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.lib.stride_tricks import as_strided
from numpy.testing import assert_allclose, assert_array_equal
from sklearn import linear_model

import fastlasso

from conftest import gaussian_data
from helpers import ENTRY_POINTS, ESTIMATOR_CLASSES, entry_point, model_of

ESTIMATORS = {name: entry_point(name, l1_ratio=0.7) for name in ENTRY_POINTS}
MODEL = {name: model_of(name) for name in ENTRY_POINTS}
REFERENCES = {
    "Lasso": lambda **kw: linear_model.Lasso(**kw),
    "ElasticNet": lambda **kw: linear_model.ElasticNet(**{"l1_ratio": 0.7, **kw}),
}


@pytest.fixture(params=sorted(ESTIMATORS))
def name(request):
    return request.param


def _data(n=40, p=6, seed=0):
    return gaussian_data(n, p, seed=seed)


def _raw(obj):
    """The arrays that hold an input, copied (a sparse matrix's own index arrays)."""
    if sp.issparse(obj):
        names = {"coo": ("data", "row", "col")}.get(
            obj.format, ("data", "indices", "indptr")
        )
        if obj.format in ("lil", "dok", "dia"):
            return {"dense": obj.toarray()}
        return {k: np.array(getattr(obj, k), copy=True) for k in names}
    if obj is None or np.ndim(obj) == 0:
        return {"value": obj}
    return {"array": np.array(obj, copy=True)}


def _assert_unchanged(before, obj):
    after = _raw(obj)
    assert before.keys() == after.keys()
    for k, v in before.items():
        if k == "value":
            same_nan = isinstance(v, float) and np.isnan(v) and np.isnan(after[k])
            assert (v is None and after[k] is None) or v == after[k] or same_nan
        else:
            assert_array_equal(after[k], v, strict=True)


def _assert_rejected(name, exc, match, X, y, sample_weight=None, **params):
    """fit raises exc(match), leaves inputs and a fresh estimator untouched, and the
    same estimator then fits good data correctly."""
    inputs = (X, y, sample_weight)
    before = [_raw(a) for a in inputs]
    est = ESTIMATORS[name](**{"alpha": 0.05, **params})
    with pytest.raises(exc, match=match):
        est.fit(X, y, sample_weight=sample_weight)
    for b, a in zip(before, inputs, strict=True):
        _assert_unchanged(b, a)
    assert not hasattr(est, "coef_")
    _assert_recovers(name, est)


def _assert_recovers(name, est):
    """A later fit of the same instance, with valid parameters, matches sklearn."""
    X, y = _data(seed=1)
    good = ESTIMATORS[name](alpha=0.05, tol=1e-12, max_iter=100_000)
    est.set_params(**good.get_params())
    est.fit(X, y)
    ref = REFERENCES[MODEL[name]](alpha=0.05, tol=1e-12, max_iter=100_000).fit(X, y)
    assert_allclose(est.coef_, ref.coef_, rtol=1e-6, atol=1e-8)
    assert_allclose(est.intercept_, ref.intercept_, rtol=1e-6, atol=1e-8)


# ---------------------------------------------------------------------------------
# parameters

BAD_PARAMS = [
    ({"alpha": -1.0}, "alpha"),
    ({"alpha": -1e-300}, "alpha"),
    ({"alpha": np.nan}, "alpha"),
    ({"alpha": np.inf}, "alpha"),
    ({"alpha": "1"}, "alpha"),
    ({"max_iter": 0}, "max_iter"),
    ({"max_iter": -5}, "max_iter"),
    ({"max_iter": 2.5}, "max_iter"),
    ({"tol": -1e-4}, "tol"),
    ({"tol": np.nan}, "tol"),
    ({"solver": "newton"}, "solver"),
    ({"solver": None}, "solver"),
    ({"selection": "greedy"}, "selection"),
    ({"precompute": "always"}, "precompute"),
    ({"fit_intercept": "yes"}, "fit_intercept"),
    ({"positive": None}, "positive"),
    ({"n_jobs": 1.5}, "n_jobs"),
]


PROX_BAD_PARAMS = [
    ({"step_size": 0.0}, "step_size"),
    ({"step_size": -1.0}, "step_size"),
    ({"threshold": -1e-3}, "threshold"),
    ({"step_schedule": "linear"}, "step_schedule"),
]
CV_BAD_PARAMS = [
    ({"alphas": 0}, "alphas"),
    ({"alphas": 2.5}, "alphas"),
    ({"eps": 0.0}, "eps"),
    ({"eps": -1.0}, "eps"),
    ({"cv": 1}, "cv"),
    ({"cv": "five"}, "cv"),
    ({"alpha_rule": "max"}, "alpha_rule"),
    ({"max_iter": 0}, "max_iter"),
    ({"tol": -1e-4}, "tol"),
    ({"tol": np.nan}, "tol"),
    ({"selection": "greedy"}, "selection"),
    ({"precompute": "always"}, "precompute"),
    ({"fit_intercept": "yes"}, "fit_intercept"),
    ({"positive": None}, "positive"),
    ({"n_jobs": 1.5}, "n_jobs"),
    ({"verbose": "loud"}, "verbose"),
]


@pytest.mark.parametrize("name", ESTIMATOR_CLASSES)
@pytest.mark.parametrize("params, match", BAD_PARAMS, ids=lambda v: str(v))
def test_bad_parameter(name, params, match):
    X, y = _data()
    _assert_rejected(name, ValueError, f"'{match}' parameter", X, y, **params)


@pytest.mark.parametrize("name", ["Lasso-fista", "ElasticNet-ista"])
@pytest.mark.parametrize("params, match", PROX_BAD_PARAMS, ids=lambda v: str(v))
def test_bad_solver_parameter(name, params, match):
    X, y = _data()
    _assert_rejected(name, ValueError, f"'{match}' parameter", X, y, **params)


@pytest.mark.parametrize("name", ["LassoCV", "ElasticNetCV"])
@pytest.mark.parametrize("params, match", CV_BAD_PARAMS, ids=lambda v: str(v))
def test_bad_cv_parameter(name, params, match):
    X, y = _data()
    est = ESTIMATORS[name](alpha=0.05).set_params(**params)
    before = _raw(X), _raw(y)
    with pytest.raises(ValueError, match=f"'{match}' parameter"):
        est.fit(X, y)
    _assert_unchanged(before[0], X)
    _assert_unchanged(before[1], y)
    assert not hasattr(est, "coef_")
    _assert_recovers(name, est)


@pytest.mark.parametrize("name", ["LassoCV", "ElasticNetCV"])
@pytest.mark.parametrize(
    "alphas, match",
    [
        ([-1.0], r"alphas\[0\] == -1.0, must be >= 0.0"),  # scikit-learn's text
        ([0.1, np.nan], "alphas must be finite and non-negative"),
        ([np.inf], "alphas must be finite and non-negative"),
        ([], "alphas is empty"),
    ],
    ids=["negative", "nan", "inf", "empty"],
)
def test_bad_cv_alpha_grid(name, alphas, match):
    X, y = _data()
    est = ESTIMATORS[name](alpha=0.05).set_params(alphas=alphas)
    with pytest.raises(ValueError, match=match):
        est.fit(X, y)
    assert not hasattr(est, "coef_")
    _assert_recovers(name, est)


PATH_BAD_PARAMS = [
    ({"alphas": [-1.0]}, "alphas must be finite and non-negative"),
    ({"alphas": [0.5, np.nan]}, "alphas must be finite and non-negative"),
    ({"alphas": []}, "alphas is empty"),
    ({"alphas": 0}, "alphas must be >= 1"),
    ({"eps": 0.0}, "eps must be > 0"),
    ({"eps": np.nan}, "eps must be > 0"),
    ({"max_iter": 0}, "max_iter must be an integer >= 1"),
    ({"max_iter": 2.5}, "max_iter must be an integer >= 1"),
    ({"tol": -1e-4}, "tol must be >= 0"),
    ({"tol": np.nan}, "tol must be >= 0"),
    ({"selection": "greedy"}, "selection must be 'cyclic' or 'random'"),
    ({"precompute": "always"}, "precompute must be 'auto', a bool or an array"),
    ({"coef_init": np.ones(5)}, r"coef_init has shape \(5,\), expected \(6,\)"),
    ({"Xy": np.ones(5)}, r"Xy has shape \(5,\), expected \(6,\)"),
    ({"positive": None}, "positive must be a bool"),
    ({"fit_intercept": "yes"}, "fit_intercept must be a bool"),
    ({"return_n_iter": 1}, "return_n_iter must be a bool"),
    ({"n_jobs": 1.5}, "n_jobs must be None or an integer"),
]


@pytest.mark.parametrize("path", ["lasso_path", "enet_path"])
@pytest.mark.parametrize("params, match", PATH_BAD_PARAMS, ids=lambda v: str(v))
def test_bad_path_parameter(path, params, match):
    """The path functions' own parameters: ValueError naming the parameter, inputs
    unchanged, and the next call on good data matches scikit-learn's path."""
    X, y = _data()
    before = _raw(X), _raw(y)
    with pytest.raises(ValueError, match=match):
        getattr(fastlasso, path)(X, y, **params)
    _assert_unchanged(before[0], X)
    _assert_unchanged(before[1], y)
    _assert_recovers(path, ESTIMATORS[path](alpha=0.05))


@pytest.mark.parametrize("l1_ratio", [-0.1, 1.0 + 1e-12, 2.0, np.nan])
def test_bad_path_l1_ratio(l1_ratio):
    X, y = _data()
    with pytest.raises(ValueError, match="l1_ratio must be in"):
        fastlasso.enet_path(X, y, l1_ratio=l1_ratio)
    with pytest.raises(ValueError, match="'l1_ratio' parameter"):
        fastlasso.ElasticNetCV(l1_ratio=l1_ratio).fit(X, y)


def test_automatic_grid_needs_an_l1_term():
    X, y = _data()
    for fit in (
        lambda: fastlasso.enet_path(X, y, l1_ratio=0.0),
        lambda: fastlasso.ElasticNetCV(l1_ratio=0.0, cv=3).fit(X, y),
    ):
        with pytest.raises(ValueError, match="not supported for l1_ratio=0"):
            fit()


@pytest.mark.parametrize("l1_ratio", [-0.1, 1.0 + 1e-12, 2.0, np.nan])
def test_bad_l1_ratio(l1_ratio):
    X, y = _data()
    _assert_rejected(
        "ElasticNet", ValueError, "'l1_ratio' parameter", X, y, l1_ratio=l1_ratio
    )


def test_bad_parameter_keeps_previous_fit(name):
    """A refit that fails validation leaves the previous model as it was."""
    X, y = _data()
    est = ESTIMATORS[name](alpha=0.05).fit(X, y)
    coef, intercept = est.coef_.copy(), est.intercept_
    cv = name.endswith("CV")  # CV estimators take their alphas as a grid
    est.set_params(**({"alphas": [-1.0]} if cv else {"alpha": -1.0}))
    with pytest.raises(ValueError, match="alpha"):
        est.fit(X, y)
    assert_array_equal(est.coef_, coef)
    assert est.intercept_ == intercept
    Xn = X.copy()
    Xn[3, 2] = np.nan
    est.set_params(**({"alphas": [0.05]} if cv else {"alpha": 0.05}))
    with pytest.raises(ValueError, match="NaN"):
        est.fit(Xn, y)
    assert_array_equal(est.coef_, coef)


# ---------------------------------------------------------------------------------
# non-finite values


@pytest.mark.parametrize(
    "value, match", [(np.nan, "NaN"), (np.inf, "infinity"), (-np.inf, "infinity")]
)
@pytest.mark.parametrize(
    "where", ["X", "X_csc", "X_csr", "X_float32", "y", "y_2d", "sample_weight"]
)
def test_non_finite(name, value, match, where):
    if where == "y_2d" and name.endswith("CV"):
        name = name.removesuffix("CV")  # CV takes 1-D y only: see test_bad_shapes
    X, y = _data()
    sw = np.ones(X.shape[0])
    if where.startswith("X"):
        X[5, 3] = value
        if where == "X_csc":
            X = sp.csc_matrix(X)
        elif where == "X_csr":
            X = sp.csr_matrix(X)
        elif where == "X_float32":
            X = X.astype(np.float32)
    elif where == "y":
        y[7] = value
    elif where == "y_2d":
        y = np.column_stack([y, y])
        y[7, 1] = value
    else:
        sw[2] = value
    what = {"y_2d": "y", "sample_weight": "sample_weight"}.get(where, where[0])
    _assert_rejected(name, ValueError, f"Input {what} contains {match}", X, y, sw)


def test_object_array_with_none(name):
    X, y = _data()
    Xo = X.astype(object)
    Xo[2, 1] = None
    _assert_rejected(name, ValueError, "Input X contains NaN", Xo, y)


# ---------------------------------------------------------------------------------
# shapes


@pytest.mark.parametrize(
    "shape, match",
    [((0, 4), "0 sample"), ((5, 0), "0 feature"), ((0, 0), "0 sample")],
)
@pytest.mark.parametrize("sparse", [False, True])
def test_empty_X(name, shape, match, sparse):
    X = sp.csc_matrix(shape) if sparse else np.empty(shape)
    _assert_rejected(name, ValueError, match, X, np.zeros(shape[0]))


@pytest.mark.parametrize(
    "X, y, match",
    [
        (np.ones((10, 3)), np.ones(9), "inconsistent numbers of samples"),
        (np.ones((10, 3)), np.ones(11), "inconsistent numbers of samples"),
        (sp.csc_matrix(np.eye(10, 3)), np.ones(9), "inconsistent numbers of samples"),
        (np.ones(10), np.ones(10), "Expected 2D array"),
        (np.ones((10, 3, 2)), np.ones(10), "dim 3"),
        (np.ones((10, 3)), np.ones((10, 2, 2)), "dim 3"),
        (np.ones((10, 3)), np.ones((10, 0)), "0 feature"),
    ],
    ids=["y_short", "y_long", "sparse_y_short", "X_1d", "X_3d", "y_3d", "y_no_target"],
)
def test_bad_shapes(name, X, y, match):
    _assert_rejected(name, ValueError, match, X, y)


@pytest.mark.parametrize(
    "name, match",
    [
        ("LassoCV", r"y should be a 1d array, got an array of shape \(40, 2\)"),
        ("ElasticNetCV", r"y should be a 1d array, got an array of shape \(40, 2\)"),
    ],
)
def test_two_targets_where_one_is_supported(name, match):
    X, y = _data()
    _assert_rejected(name, ValueError, match, X, np.column_stack([y, -y]))


def test_mismatched_sample_weight(name):
    X, y = _data()
    _assert_rejected(
        name, ValueError, r"sample_weight\.shape == \(39,\)", X, y, np.ones(39)
    )


@pytest.mark.parametrize(
    "sample_weight, exc, match",
    [
        (np.r_[np.ones(39), -1.0], ValueError, "Negative values"),
        (np.zeros(40), ValueError, "non-zero"),
        (np.full(40, 1e308), ValueError, "positive finite sum"),
        (np.ones((40, 1)), ValueError, "1D array"),
        (np.array(["a"] * 40), ValueError, "could not convert string"),
        (0.0, ValueError, "positive finite number"),
        (-2.0, ValueError, "positive finite number"),
        (np.nan, ValueError, "positive finite number"),
        (np.inf, ValueError, "positive finite number"),
        ("heavy", TypeError, "sample_weight must be a number"),
        (sp.csr_matrix(np.ones((1, 40))), TypeError, "Sparse data"),
    ],
    ids=[
        "negative",
        "all_zero",
        "sum_overflows",
        "2d",
        "strings",
        "scalar_zero",
        "scalar_negative",
        "scalar_nan",
        "scalar_inf",
        "scalar_string",
        "sparse",
    ],
)
def test_bad_sample_weight(name, sample_weight, exc, match):
    X, y = _data()
    _assert_rejected(name, exc, match, X, y, sample_weight)


@pytest.mark.parametrize(
    "X, y, exc, match",
    [
        (
            np.array([["a", "b"], ["c", "d"]], dtype=object),
            [1.0, 2.0],
            ValueError,
            "could not convert string",
        ),
        (np.ones((4, 2), dtype=complex), np.ones(4), ValueError, "Complex data"),
        (
            np.ones((4, 2)),
            np.array(["a", "b", "c", "d"], dtype=object),
            ValueError,
            "could not convert string",
        ),
        (
            np.ones((4, 2)),
            sp.csr_matrix(np.ones((4, 1))),
            TypeError,
            "y is a sparse matrix",
        ),
        (
            np.ones((4, 2), dtype=np.float32),
            np.full(4, 1e39),
            ValueError,
            "y has values too large for the float32 dtype of X",
        ),
    ],
    ids=["X_strings", "X_complex", "y_strings", "y_sparse", "y_overflows_float32"],
)
def test_bad_dtypes(name, X, y, exc, match, request):
    if "path" in name or name.endswith("CV"):  # scikit-learn's checks run first
        if exc is TypeError:
            match = "Sparse data was passed for y"
        elif "float32" in match and "path" in name:
            match = (
                r"Input y contains infinity or a value too large for dtype\('float32'\)"
            )
    _assert_rejected(name, exc, match, X, y)


# ---------------------------------------------------------------------------------
# corrupt sparse structure: must be caught before scipy, sklearn or a kernel reads it


def _sparse(fmt, index_dtype=np.int32):
    X, _ = _data()
    X[np.abs(X) < 0.8] = 0.0
    S = sp.csc_matrix(X).asformat(fmt)
    if fmt in ("csc", "csr", "bsr"):
        S.indices = S.indices.astype(index_dtype)
        S.indptr = S.indptr.astype(index_dtype)
    return S


def _set(attr, index, value):
    def corrupt(S):
        arr = getattr(S, attr).copy()
        arr[index] = value
        setattr(S, attr, arr)
        return S

    return corrupt


CORRUPTIONS = [
    ("csc", _set("indices", 0, 40), r"indices out of range: found \d+\.\.40,"),
    ("csc", _set("indices", 3, -1), r"indices out of range: found -1\.\."),
    ("csc", _set("indptr", 2, 10**6), "decreasing indptr"),
    ("csc", _set("indptr", 3, 0), "decreasing indptr"),
    ("csc", _set("indptr", 0, 1), r"indptr\[0\] = 1"),
    ("csc", _set("indptr", -1, 10**6), r"indptr\[-1\] = 1000000"),
    (
        "csc",
        lambda S: setattr(S, "indptr", S.indptr[:-1]) or S,
        "indptr of length 6, expected 7",
    ),
    ("csr", _set("indices", 0, 6), r"indices out of range: found 0\.\.6"),
    ("csr", _set("indptr", 5, 10**6), "decreasing indptr"),
    ("coo", _set("row", 0, 40), r"out of range on axis 0: found \d+\.\.40,"),
    ("coo", _set("col", 1, -3), r"out of range on axis 1: found -3\.\."),
    ("bsr", _set("indices", 0, 6), r"indices out of range: found 0\.\.6"),
]


@pytest.mark.parametrize("index_dtype", [np.int32, np.int64])
@pytest.mark.parametrize(
    "fmt, corrupt, match",
    CORRUPTIONS,
    ids=[f"{c[0]}-{i}" for i, c in enumerate(CORRUPTIONS)],
)
def test_corrupt_sparse_structure(name, fmt, corrupt, match, index_dtype):
    S = corrupt(_sparse(fmt, index_dtype))
    _assert_rejected(name, ValueError, match, S, _data()[1])


@pytest.mark.parametrize("attr", ["indices", "indptr"])
def test_sparse_non_integer_indices(name, attr):
    S = _sparse("csc")
    setattr(S, attr, getattr(S, attr).astype(np.float64))
    _assert_rejected(
        name, TypeError, f"{attr} of dtype float64; expected integers", S, _data()[1]
    )


def test_sizes_beyond_int32_are_rejected_before_any_work(name):
    """Features are indexed with int32 and BLAS takes int lengths: n_features and
    dense n_samples above 2**31 - 1 raise at once. The inputs are zero-stride views
    and an almost empty COO matrix: were anything of that size read or copied, the
    test would run out of time or memory instead."""
    big = 2**31
    one = np.ones(1)
    cases = [
        (
            as_strided(one, shape=(big, 1), strides=(0, 0)),
            as_strided(one, shape=(big,), strides=(0,)),
            "2147483648 samples; at most",
        ),
        (
            as_strided(one, shape=(2, big), strides=(0, 0)),
            np.ones(2),
            "2147483648 features; at most",
        ),
        (
            sp.coo_matrix(([1.0], ([0], [5])), shape=(2, big)),
            np.ones(2),
            "2147483648 features; at most",
        ),
    ]
    for X, y, match in cases:
        est = ESTIMATORS[name](alpha=0.05)
        with pytest.raises(ValueError, match=match):
            est.fit(X, y)
        assert not hasattr(est, "coef_")
    _assert_recovers(name, est)


# ---------------------------------------------------------------------------------
# a user's Gram matrix


@pytest.mark.parametrize(
    "make_gram, match",
    [
        (lambda G: G[:-1, :-1], "shape"),
        (lambda G: np.where(np.eye(len(G), dtype=bool), np.nan, G), "NaN"),
        (lambda G: G + np.triu(np.ones_like(G), 1), "not symmetric"),
        (lambda G: 2 * G, "Gram matrix .*did not pass validation: its diagonal"),
    ],
    ids=["shape", "nan", "asymmetric", "inconsistent"],
)
def test_bad_precomputed_gram(name, make_gram, match):
    """A Gram matrix that is used (X centred, so fit_intercept does not centre it
    again: see the next test) is validated."""
    name = name.removesuffix("CV")  # CV ignores a user's Gram: see below
    X, y = _data()
    Xc = X - X.mean(axis=0)
    G = make_gram(Xc.T @ Xc)
    _assert_rejected(name, ValueError, match, Xc, y, precompute=G)


@pytest.mark.parametrize("name", ["Lasso", "ElasticNet", "lasso_path", "enet_path"])
@pytest.mark.parametrize("weighted", [False, True])
def test_gram_of_uncentred_X_is_recomputed_with_sklearns_warning(name, weighted):
    """scikit-learn's rule: with fit_intercept, a Gram matrix given for X whose
    (weighted) column means are not ~0 is ignored, with its UserWarning, whatever it
    holds (here X^T X of the raw data, which would fail validation), and the fit is
    that of precompute="auto"; for centred X it is used without a warning."""
    X, y = _data()
    X = X + 3.0
    sw = np.random.default_rng(5).uniform(0.5, 2.0, len(y)) if weighted else None
    ref = ESTIMATORS[name](alpha=0.05, tol=1e-12).fit(X, y, sample_weight=sw)
    est = ESTIMATORS[name](alpha=0.05, tol=1e-12, precompute=X.T @ X)
    with pytest.warns(UserWarning, match="Gram matrix was provided but X was centered "
                      "to fit intercept: recomputing Gram matrix."):
        est.fit(X, y, sample_weight=sw)
    assert_array_equal(est.coef_, ref.coef_)
    s = np.ones(len(y)) if sw is None else sw * len(y) / sw.sum()
    Xc = X - s @ X / s.sum()
    G = (Xc * s[:, None]).T @ Xc
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        est = ESTIMATORS[name](alpha=0.05, tol=1e-12, precompute=G).fit(
            Xc, y, sample_weight=sw)
    assert_allclose(est.coef_, ref.coef_, rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("fit_intercept", [False, True])
def test_float32_gram_of_the_same_data_is_accepted(fit_intercept):
    """A float32 Gram matrix made in float32 from the same float32 data is used: the
    check allows float32 rounding (data centred in float32 keep means of ~eps_32 times
    their offset; products carry relative errors of ~sqrt(n) eps_32, here an asymmetry
    of 1e-5 of the diagonal scale), which the float64 tolerances would reject."""
    rng = np.random.default_rng(58)
    X = (rng.binomial(1, 0.25, (1000, 4)) + 100.0).astype(np.float32)
    y = rng.random(1000).astype(np.float32)
    X = X - X.mean(axis=0)  # in float32: means of ~1e-6, not 0
    G = X.T @ X
    assert G.dtype == np.float32
    scale = np.sqrt(np.outer(np.diag(G), np.diag(G)))
    G = G + np.triu(1e-5 * scale, 1).astype(np.float32)
    params = {"alpha": 0.01, "fit_intercept": fit_intercept, "tol": 1e-6}
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # not ignored as the Gram of uncentred X
        est = fastlasso.ElasticNet(precompute=G, **params).fit(X, y)
    ref = fastlasso.ElasticNet(precompute=False, **params).fit(X, y)
    assert_allclose(est.coef_, ref.coef_, rtol=1e-4)
    with pytest.raises(ValueError, match="did not pass validation"):
        fastlasso.ElasticNet(precompute=G * np.float32(1.01), **params).fit(X, y)
    # the same asymmetry in float64 data and matrix is an error
    X64 = X.astype(np.float64)
    X64 -= X64.mean(axis=0)
    with pytest.raises(ValueError, match="not symmetric"):
        fastlasso.ElasticNet(precompute=G.astype(np.float64), **params).fit(X64, y)


@pytest.mark.parametrize("name", ["LassoCV", "ElasticNetCV"])
def test_cv_ignores_a_users_gram_matrix(name):
    """Documented: the folds' Gram matrices differ from the one of all of X, so CV
    takes an array precompute as "use the full Gram" (precompute=True)."""
    X, y = _data()
    Xc = X - X.mean(axis=0)
    est = ESTIMATORS[name](alpha=0.05, precompute=Xc.T @ Xc).fit(X, y)
    ref = ESTIMATORS[name](alpha=0.05, precompute=True).fit(X, y)
    assert_array_equal(est.coef_, ref.coef_)
    assert_array_equal(est.mse_path_, ref.mse_path_)


# ---------------------------------------------------------------------------------
# every entry point, in a child process: a crash must not take the test run with it

CRASH_CHILD = """
import json, sys
import numpy as np, scipy.sparse as sp, fastlasso
rng = np.random.default_rng(0)
X, y = rng.standard_normal((40, 6)), rng.standard_normal(40)
model = fastlasso.Lasso(alpha=0.01).fit(X, y)
cv_model = fastlasso.LassoCV(cv=3, alphas=3).fit(X, y)

def corrupt(kind, fmt):
    S = sp.csr_matrix(X) if fmt == "csr" else sp.csc_matrix(X)
    if kind == "indices":
        S.indices = S.indices.copy()
        S.indices[0] = 10**9
    else:
        S.indptr = S.indptr.copy()
        S.indptr[2] = 10**6
    return S

CALLS = {calls}
for line in sys.stdin:
    case = json.loads(line)
    S = corrupt(case["kind"], case["fmt"])
    try:
        CALLS[case["call"]](S)
        out = "no error"
    except ValueError as e:
        out = "ValueError: " + str(e)
    print(json.dumps({"id": case["id"], "out": out}), flush=True)
"""

CRASH_CALLS = {
    "Lasso.fit": ("fastlasso.Lasso().fit(S, y)", "csc"),
    "ElasticNet.fit-csr": ("fastlasso.ElasticNet().fit(S, y)", "csr"),
    "Lasso.fit-fista": ("fastlasso.Lasso(solver='fista').fit(S, y)", "csc"),
    "predict": ("model.predict(S)", "csr"),
    "score": ("model.score(S, y)", "csr"),
    "lasso_path": ("fastlasso.lasso_path(S, y)", "csc"),
    "enet_path-csr": ("fastlasso.enet_path(S, y)", "csr"),
    "LassoCV.fit": ("fastlasso.LassoCV(cv=3).fit(S, y)", "csc"),
    "ElasticNetCV.fit-csr": ("fastlasso.ElasticNetCV(cv=3).fit(S, y)", "csr"),
    "LassoCV.predict": ("cv_model.predict(S)", "csc"),
}
CRASH_KINDS = {"indices": "indices out of range", "indptr": "decreasing indptr"}


@pytest.fixture(scope="module")
def crash_reports():
    """One child process runs every (entry point, corruption) case in turn and
    reports each: {case id: output}. A case missing from the reports is where the
    child died."""
    cases = [
        {"id": f"{call_id}/{kind}", "call": call_id, "fmt": fmt, "kind": kind}
        for call_id, (_, fmt) in CRASH_CALLS.items()
        for kind in CRASH_KINDS
    ]
    calls = ", ".join(f"{k!r}: lambda S: {c}" for k, (c, _) in CRASH_CALLS.items())
    child = subprocess.run(
        [sys.executable, "-c", CRASH_CHILD.replace("{calls}", "{" + calls + "}")],
        input="".join(json.dumps(c) + "\n" for c in cases),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    reports = {}
    for line in child.stdout.splitlines():
        r = json.loads(line)
        reports[r["id"]] = r["out"]
    return reports, child


@pytest.mark.slow  # the calls run in a child process (a crash must not kill pytest)
@pytest.mark.parametrize("kind", sorted(CRASH_KINDS))
@pytest.mark.parametrize("call_id", sorted(CRASH_CALLS))
def test_corrupt_sparse_never_crashes(crash_reports, call_id, kind):
    """Corrupt sparse index arrays (out-of-range indices, a decreasing indptr) give a
    ValueError naming them at every entry point, never a segmentation fault."""
    reports, child = crash_reports
    case = f"{call_id}/{kind}"
    assert case in reports, (
        f"child died at or before {case}: {child.returncode} {child.stderr[-2000:]}"
    )
    assert reports[case].startswith("ValueError: Sparse X"), reports[case]
    assert CRASH_KINDS[kind] in reports[case]
