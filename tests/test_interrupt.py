"""Ctrl-C stops a long fit within about a second and leaves a usable process.

Each case runs in a child process (a stray SIGINT must never hit the test runner):
the child builds a problem that runs for well over 10 s (tol=0 with a huge
max_iter: the fit can only stop at max_iter or on an interrupt; measured > 25 s on
the development machine), says READY and starts fitting; the parent waits 0.5 s and
sends SIGINT. The child must raise KeyboardInterrupt, with the estimator left as it
was (unfitted, or the previous fit intact), and a later fit in the same process must
give the same result as before the interrupt. The latency bound (5 s) is generous on
purpose: this is a correctness property, not a benchmark.

To cover a new estimator, add it to the child's ESTIMATORS.
"""

import json
import os
import select
import signal
import subprocess
import sys
import textwrap
import time

import pytest

CHILD = textwrap.dedent(
    """
    import json, signal, sys, time, warnings
    import numpy as np
    import scipy.sparse as sp
    import fastlasso

    signal.signal(signal.SIGINT, signal.default_int_handler)
    warnings.simplefilter("ignore")
    case = json.loads(sys.argv[1])
    ESTIMATORS = {
        "Lasso": lambda **kw: fastlasso.Lasso(**kw),
        "ElasticNet": lambda **kw: fastlasso.ElasticNet(l1_ratio=0.9, **kw),
    }
    make = ESTIMATORS[case["name"]]
    rng = np.random.default_rng(0)

    def correlated(n, p, rho, dtype):
        X = np.empty((n, p), order="F", dtype=dtype)
        col = rng.standard_normal(n)
        for j in range(p):
            col = rho * col + np.sqrt(1 - rho**2) * rng.standard_normal(n)
            X[:, j] = col
        return X

    kind = case["problem"]
    if kind == "sparse":
        X = sp.random(5000, 2000, density=0.05, random_state=1, format="csc")
        X.data = rng.standard_normal(X.nnz)
    elif kind == "tall":
        X = correlated(20000, 400, 0.995, np.float64)
    elif kind == "gram_fill":
        X = np.asfortranarray(rng.standard_normal((20_000, 4_000), dtype=np.float32))
    else:
        X = correlated(2000, 3000, 0.99, np.float32 if kind == "dense32" else float)
    y = np.asarray(X[:, ::40] @ rng.standard_normal(len(range(0, X.shape[1], 40))))
    y = y + rng.standard_normal(X.shape[0])
    long_params = dict(alpha=1e-7, tol=0.0, max_iter=10**9, **case["params"])

    Xs, ys = X[:200, :30], y[:200]
    if sp.issparse(Xs):
        Xs = Xs.toarray()
    before = make(alpha=0.01).fit(Xs, ys)
    est = make(**long_params)
    if case["refit"]:  # a model fitted before, on data of the same shape
        est.set_params(alpha=0.5, tol=1e-3, max_iter=100).fit(X, y[::-1].copy())
        kept = (est.coef_.copy(), est.intercept_, est.n_features_in_)
        est.set_params(**long_params)
    print(json.dumps({"ready": True}), flush=True)
    try:
        est.fit(X, y)
        print(json.dumps({"finished": True}), flush=True)
    except KeyboardInterrupt:
        out = {"interrupted": True, "t": time.monotonic()}
        if case["refit"]:
            out["kept"] = bool(
                np.array_equal(est.coef_, kept[0])
                and est.intercept_ == kept[1]
                and est.n_features_in_ == kept[2]
            )
        else:
            out["kept"] = not hasattr(est, "coef_")
        after = make(alpha=0.01).fit(Xs, ys)
        out["later_fit_same"] = bool(
            np.array_equal(after.coef_, before.coef_)
            and after.intercept_ == before.intercept_
        )
        print(json.dumps(out), flush=True)
    """
)

BOUND = 5.0  # seconds from SIGINT to KeyboardInterrupt; "about a second" expected

SIGNALS_SWALLOWED = pytest.mark.xfail(
    strict=True,
    reason="bug: _signals.check_interrupt_status is noexcept and calls "
    "PyErr_CheckSignals (declared except -1), so the KeyboardInterrupt is printed as "
    "'Exception ignored' and cleared; the fit never stops",
)


def _readline(proc, timeout):
    ready, _, _ = select.select([proc.stdout], [], [], timeout)
    if not ready:
        return None
    line = proc.stdout.readline()
    return json.loads(line) if line else None


def _interrupt(case, delay=0.5):
    """Run the child, SIGINT it ``delay`` s into the long fit; report and latency."""
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, json.dumps(case)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert _readline(proc, 300) == {"ready": True}, proc.stderr.read()
        time.sleep(delay)
        sent = time.monotonic()
        proc.send_signal(signal.SIGINT)
        report = _readline(proc, BOUND)
        assert report is not None, f"fit did not stop within {BOUND} s of SIGINT"
        assert "finished" not in report, "the problem is too short to interrupt"
        assert proc.wait(timeout=60) == 0, proc.stderr.read()
        return report, report["t"] - sent
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def _case(name, problem, params, case_id):
    return pytest.param(
        name, problem, params, id=f"{name}-{case_id}", marks=SIGNALS_SWALLOWED
    )


CASES = [
    _case("Lasso", "dense", {"precompute": False}, "dense-data"),
    _case("Lasso", "dense", {"precompute": "auto"}, "dense-lazy-gram"),
    _case("Lasso", "dense32", {"precompute": False}, "dense-float32"),
    _case("Lasso", "tall", {"precompute": True}, "tall-full-gram"),
    _case("Lasso", "sparse", {}, "csc"),
    _case("Lasso", "dense", {"precompute": False, "n_jobs": 2}, "dense-2-threads"),
    _case("ElasticNet", "dense", {"precompute": "auto"}, "dense-lazy-gram"),
    _case("ElasticNet", "sparse", {}, "csc"),
]


@pytest.mark.parametrize("name, problem, params", CASES)
def test_interrupt_stops_fit_and_leaves_it_unfitted(name, problem, params):
    report, latency = _interrupt(
        dict(name=name, problem=problem, params=params, refit=False)
    )
    assert report["interrupted"]
    assert latency < BOUND
    assert report["kept"], "an interrupted fit must leave the estimator unfitted"
    assert report["later_fit_same"]


@SIGNALS_SWALLOWED
def test_interrupted_refit_keeps_previous_model():
    report, latency = _interrupt(
        dict(name="Lasso", problem="dense", params={"precompute": False}, refit=True)
    )
    assert report["interrupted"]
    assert latency < BOUND
    assert report["kept"], "coef_, intercept_, n_features_in_ must be the old ones"
    assert report["later_fit_same"]


@pytest.mark.xfail(
    strict=True,
    reason="bug: the full Gram fill (_cd.gram_fill_full, n p^2 flops: ~12 s for "
    "20000 x 4000 on one core) never checks for signals (fails even with "
    "check_interrupt fixed)",
)
def test_interrupt_during_full_gram_fill():
    """SIGINT 1 s into the fit: validation and column statistics take ~0.3 s, so it
    arrives while the Gram matrix is being computed."""
    report, latency = _interrupt(
        dict(
            name="Lasso", problem="gram_fill", params={"precompute": True}, refit=False
        ),
        delay=1.0,
    )
    assert report["interrupted"] and report["kept"] and latency < BOUND
