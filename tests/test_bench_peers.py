"""The peer harness (fastlasso._bench_peers): every adapter solves the problem it is
asked, in every layout it is given.

The reference is scikit-learn's coordinate descent at tol 1e-14 and the objective is
computed here, in numpy, independently of the harness. Peers outside the test extra
(celer, skglm, glmnet, adelie, glum, scikit-learn-intelex: the bench extra) are
skipped when they are not installed; fastlasso and scikit-learn always run.
"""

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.linear_model import ElasticNet

from fastlasso import _bench_peers as bp

from conftest import gaussian_data


def _objective(X, y, coef, b, alpha, r):
    res = y - X @ coef - b
    return res @ res / (2 * len(y)) + alpha * (
        r * np.abs(coef).sum() + (1 - r) / 2 * coef @ coef
    )


def _data(n, p, seed=0):
    X, y = gaussian_data(n, p, seed=seed, coef=(2.0, -1.5, 1.0, 0.5), noise=1.0,
                         intercept=3.0)
    return np.asfortranarray(X), y


def _solver(cls):
    s = cls()
    if not s.available():
        pytest.skip(f"{s.dist} is not installed (bench extra)")
    return s


LAYOUTS = {
    "F": lambda X: X,
    "C": np.ascontiguousarray,
    "csc": sp.csc_matrix,
}


@pytest.mark.parametrize("cls", bp.ALL_SOLVERS, ids=lambda c: c.name)
@pytest.mark.parametrize("shape", [(40, 70), (90, 25)], ids=["wide", "tall"])
@pytest.mark.parametrize("layout", sorted(LAYOUTS))
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("l1_ratio", [1.0, 0.5])
def test_adapter_reaches_the_reference_objective(
    cls, shape, layout, fit_intercept, l1_ratio
):
    solver = _solver(cls)
    X, y = _data(*shape)
    y = y if fit_intercept else y - 2.0
    amax = np.max(np.abs(X.T @ (y - y.mean() if fit_intercept else y))) / len(y)
    alpha = amax / (10 * l1_ratio)
    ref = ElasticNet(alpha=alpha, l1_ratio=l1_ratio, fit_intercept=fit_intercept,
                     tol=1e-14, max_iter=10**6).fit(X, y)
    P_ref = _objective(X, y, ref.coef_, ref.intercept_, alpha, l1_ratio)
    Xl = solver.prepare(LAYOUTS[layout](X))
    coef, b = solver.fit(Xl, y, alpha, fit_intercept, solver.ladder(amax)[-1],
                         l1_ratio=l1_ratio)
    assert coef.shape == (shape[1],) and coef.dtype == np.float64
    if not fit_intercept:
        assert b == 0.0
    P = _objective(X, y, coef, b, alpha, l1_ratio)
    assert (P - P_ref) / P_ref < 1e-8
    # the harness's objective is the same function
    assert bp.objective(X, y, coef, b, alpha, l1_ratio) == pytest.approx(P, rel=1e-12)


@pytest.mark.parametrize("cls", [c for c in bp.ALL_SOLVERS if c.has_path is True
                                 or c is bp.FastLasso], ids=lambda c: c.name)
@pytest.mark.parametrize("layout", ["F", "csc"])
def test_adapter_paths_reach_every_point(cls, layout):
    solver = _solver(cls)
    X, y = _data(50, 80, seed=1)
    y = y - y.mean()
    amax = np.max(np.abs(X.T @ y)) / len(y)
    alphas = amax * np.geomspace(1.0, 1e-2, 8)
    coefs = solver.path(LAYOUTS[layout](X), y, alphas, solver.ladder(amax)[-1])
    assert coefs.shape == (80, 8)
    for k, a in enumerate(alphas):
        ref = ElasticNet(alpha=a, l1_ratio=1.0, fit_intercept=False, tol=1e-14,
                         max_iter=10**6).fit(X, y)
        P_ref = _objective(X, y, ref.coef_, 0.0, a, 1.0)
        P = _objective(X, y, coefs[:, k], 0.0, a, 1.0)
        assert (P - P_ref) / P_ref < 1e-8, k


def test_alpha_max_is_the_smallest_alpha_with_a_zero_solution():
    X, y = _data(60, 30, seed=2)
    for fit_intercept in (True, False):
        amax = bp.alpha_max(X, y, fit_intercept)
        at = ElasticNet(alpha=amax, l1_ratio=1.0, fit_intercept=fit_intercept,
                        tol=1e-12).fit(X, y)
        below = ElasticNet(alpha=0.99 * amax, l1_ratio=1.0,
                           fit_intercept=fit_intercept, tol=1e-12).fit(X, y)
        assert np.count_nonzero(at.coef_) == 0
        assert np.count_nonzero(below.coef_) > 0
    assert bp.alpha_max(X, y, True, l1_ratio=0.5) == pytest.approx(
        2 * bp.alpha_max(X, y, True)
    )


def test_glmnet_lambda_is_alpha():
    _solver(bp.Glmnet)
    same, double = bp.check_glmnet_scaling()
    assert abs(same) < 1e-9 and double > 1e-3


def test_solver_names_and_selection():
    assert bp.solver_class("scikit-learn") is bp.ScikitLearn
    assert bp.solver_class("sklearn") is bp.ScikitLearn
    assert bp.solver_class("scikit-learn-intelex") is bp.ScikitLearnIntelex
    with pytest.raises(ValueError, match="unknown solver 'lars'"):
        bp.solver_class("lars")
    assert all(bp.solver_class(name) for name in bp.PEERS)
    chosen = bp.make_solvers({"scikit-learn", "fastlasso"})
    assert [s.name for s in chosen] == ["fastlasso", "sklearn"]
    missing = bp.Celer()
    missing.module = "no_such_module_xyz"
    assert not missing.available()
