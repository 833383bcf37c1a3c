"""The AVX2 column products (_spdot.h) against scipy and against the plain loop.

The kernels compute x_j^T v for CSC columns of >= FL_SPDOT_MIN entries with AVX2
gathers where the CPU has them (the module-level switch ``set_simd``, on by default);
shorter columns and the last len % 8 entries of a column take the plain loop. Each
module (_cd, _prox) includes its own copy of the products and has its own switch.
"""

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose

import fastlasso
from fastlasso import _cd, _prox

MODULES = pytest.mark.parametrize("module", [_cd, _prox], ids=["cd", "prox"])
LAYOUTS = pytest.mark.parametrize("layout", ["csc32", "csc64"])
DTYPES = pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
SIMD = pytest.mark.parametrize("simd", [True, False], ids=["simd", "plain"])


@pytest.fixture(autouse=True)
def _simd_back_on():
    yield
    _cd.set_simd(True)
    _prox.set_simd(True)


def _columns_of_every_length(n, longest, dtype, seed=0):
    """CSC (n x (longest + 1)) whose column j has j entries at random rows."""
    rng = np.random.default_rng(seed)
    rows = [np.sort(rng.choice(n, j, replace=False)) for j in range(longest + 1)]
    indptr = np.concatenate([[0], np.cumsum([len(r) for r in rows])])
    data = rng.standard_normal(indptr[-1])
    return sp.csc_matrix(
        (data.astype(dtype), np.concatenate(rows), indptr), shape=(n, longest + 1)
    )


def _layout(A, layout):
    if layout == "csc64":
        A = A.copy()
        A.indices = A.indices.astype(np.int64)
        A.indptr = A.indptr.astype(np.int64)
    return A


def test_the_switch_reports_what_runs():
    on = _cd.set_simd(True)
    assert _prox.set_simd(True) == on  # one CPU check for both modules
    assert _cd.set_simd(False) is False and _prox.set_simd(False) is False


@MODULES
@LAYOUTS
@DTYPES
@SIMD
def test_column_products_match_scipy(module, layout, dtype, simd):
    """Every length from 0 to 80: both sides of FL_SPDOT_MIN and every remainder of
    the 8-wide loop; float32 products are rounded to float32, then summed in float64."""
    A = _layout(_columns_of_every_length(300, 80, dtype), layout)
    v = np.random.default_rng(1).standard_normal(300).astype(dtype)
    module.set_simd(simd)
    dots = getattr(module, f"col_dots_{layout}")(A.data, A.indices, A.indptr, v)
    A64 = A.astype(np.float64)
    exact = A64.T @ v.astype(np.float64)
    scale = abs(A64).T @ np.abs(v.astype(np.float64))  # sum_k |x_k v_k| per column
    eps = np.finfo(dtype).eps
    assert np.all(np.abs(dots - exact) <= 4 * eps * scale + 1e-300)
    assert np.all(dots[scale == 0] == 0)


@MODULES
def test_column_products_check_their_input(module):
    A = _columns_of_every_length(10, 5, np.float64)
    f = module.col_dots_csc32
    with pytest.raises(ValueError, match="row indices"):
        f(A.data, A.indices, A.indptr, np.zeros(5))
    with pytest.raises(ValueError, match="CSC"):
        f(A.data, A.indices, A.indptr[::-1].copy(), np.zeros(10))


@LAYOUTS
@DTYPES
@pytest.mark.parametrize("solver", ["cd", "fista"])
def test_fits_with_and_without_simd_reach_the_same_optimum(layout, dtype, solver):
    """A sparse Lasso with long and short columns (an intercept, so the products meet
    the centring term), fitted with the AVX2 products and with the plain loop: the
    same coefficients up to the tolerance, and each certified by its own gap."""
    rng = np.random.default_rng(0)
    X = sp.random(400, 150, density=0.15, format="csc", random_state=rng)
    X = X + sp.random(400, 150, density=0.01, format="csc", random_state=rng)
    X = _layout(sp.csc_matrix(X.astype(dtype)), layout)
    y = (X @ rng.standard_normal(150) + 0.1 * rng.standard_normal(400)).astype(dtype)
    tol = 1e-10 if dtype == np.float64 else 1e-6
    fits = []
    for simd in (True, False):
        _cd.set_simd(simd)
        _prox.set_simd(simd)
        est = fastlasso.Lasso(alpha=0.01, tol=tol, max_iter=100_000, solver=solver)
        fits.append(est.fit(X, y))
    scale = np.sum((y - y.mean()) ** 2) / len(y)
    for est in fits:
        assert est.dual_gap_ <= tol * scale
    atol = (1e-6 if dtype == np.float64 else 1e-3) * np.abs(fits[1].coef_).max()
    assert_allclose(fits[0].coef_, fits[1].coef_, atol=atol)
