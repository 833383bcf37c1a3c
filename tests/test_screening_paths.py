"""The Lasso's branch-free Gap Safe loop (_screening.pxi, used when l2_n == 0 and not
positive) drops exactly the features of the general loop: same screened counts, same
epochs and coefficients to the bit, in every layout, warm-started or not."""

import numpy as np
import pytest
import scipy.sparse as sp

from fastlasso import _cd
from fastlasso._data import make_design
from fastlasso._solve import solve_cd


def problem(layout, seed=0, n=120, p=300):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    if layout == "csc":
        X[rng.random((n, p)) < 0.8] = 0.0
        X = sp.csc_matrix(X)
    elif layout == "C":
        X = np.ascontiguousarray(X)
    else:
        X = np.asfortranarray(X)
    w = np.zeros(p)
    w[:8] = rng.standard_normal(8)
    y = X @ w + 0.1 * rng.standard_normal(n)
    return X, y


# (cells where the solves screen features out: dense ones only at small alpha)
@pytest.mark.parametrize("layout, frac, p", [
    ("F", 0.02, 300), ("C", 0.02, 2000), ("csc", 0.5, 300), ("csc", 0.1, 2000),
    ("csc", 0.02, 2000)])
def test_both_loops_screen_the_same_features(layout, frac, p):
    X, y = problem(layout, n=100 if p > 300 else 120, p=p)
    design = make_design(X, None, True)
    yc, _ = design.center(y)
    alpha = frac * np.abs(X.T @ yc).max() / X.shape[0]
    out = {}
    try:
        for fast in (True, False):
            _cd.set_lasso_screen(fast)
            sol = solve_cd(design, yc, alpha, tol=1e-8, gram_mode="off")
            out[fast] = sol
    finally:
        _cd.set_lasso_screen(True)
    a, b = out[True], out[False]
    assert a.info["n_screened"] == b.info["n_screened"] > 0
    assert a.n_iter == b.n_iter and a.info["outer"] == b.info["outer"]
    np.testing.assert_array_equal(a.coef, b.coef)
    assert a.gap == b.gap
