"""pytest-benchmark timings of a few representative fits (quick sizes, one thread).

    pytest benchmarks/bench_fit.py --benchmark-only
    pytest benchmarks/bench_fit.py --benchmark-compare   # against a saved run

Not part of the test suite (pytest's testpaths is tests/): it asserts nothing about
speed. Each benchmark fits fastlasso and, in the same group, scikit-learn at the same
alpha and tol, so that the saved histories show the ratio over time.
"""

import os

for _var in (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "NUMBA_NUM_THREADS",
):
    os.environ[_var] = "1"

import sys
import warnings
from pathlib import Path

import pytest
from threadpoolctl import threadpool_limits

sys.path.insert(0, str(Path(__file__).resolve().parent))
import problems

from fastlasso import _bench_peers as peers

CASES = [  # (design, with intercept, alpha / alpha_max)
    ("wide", True, 0.01),
    ("wide", False, 0.001),
    ("tall", True, 0.01),
    ("text", True, 0.01),
    ("text", False, 0.001),
]
TOL = 1e-6


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    with threadpool_limits(limits=1):
        yield


@pytest.fixture(scope="module")
def designs():
    return {
        k: {p.fit_intercept: p for p in problems.synthetic_problems(k, "quick")}
        for k in ("wide", "tall", "text")
    }


@pytest.mark.parametrize(
    "solver", [peers.FastLasso(), peers.ScikitLearn()], ids=lambda s: s.name
)
@pytest.mark.parametrize("design, intercept, frac", CASES)
def test_fit(benchmark, designs, solver, design, intercept, frac):
    prob = designs[design][intercept]
    alpha = frac * problems.alpha_max(prob.X, prob.y, prob.fit_intercept)
    benchmark.group = f"{design} intercept={intercept} alpha={frac:g}*alpha_max"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        coef, b = benchmark(solver.fit, prob.X, prob.y, alpha, prob.fit_intercept, TOL)
    benchmark.extra_info["objective"] = problems.objective(
        prob.X, prob.y, alpha, coef, b
    )
