"""Ctrl-C in cross-validation with folds in threads (n_jobs=2, map_jobs on joblib's
threads) stops every fold: the interrupted fit raises KeyboardInterrupt and, by then,
no fold thread runs any more.

The folds here are paths of many short solves, each far below the kernels' periodic
interrupt check (a few million touched entries), the common shape of a CV on small or
medium data. Two things must hold for them to stop: the kernels check their thread's
cancellation token when a call starts, and the abort waits for the fold threads
(joblib's thread pool returns from an abort at once and would leave them running).
Each case runs in a child process (a stray SIGINT must never hit the test runner) that
runs for far longer than the test waits (about a minute on a quiet machine); the parent
sends SIGINT 2 s after the fit starts. The bound on the child's answer only detects a
hang: this is a correctness property, not a benchmark.
"""

import json
import select
import signal
import subprocess
import sys
import textwrap
import time

import pytest

pytestmark = pytest.mark.slow  # a child process per case, seconds each

CHILD = textwrap.dedent(
    """
    import json, signal, sys, threading, warnings
    import numpy as np
    import fastlasso

    signal.signal(signal.SIGINT, signal.default_int_handler)
    warnings.simplefilter("ignore")
    rng = np.random.default_rng(0)
    X = np.asfortranarray(rng.standard_normal((300, 50)))
    y = X[:, :5] @ rng.standard_normal(5) + rng.standard_normal(300)
    if sys.argv[1] == "LassoCV":
        est = fastlasso.LassoCV(alphas=np.geomspace(1.0, 1e-3, 100_000), cv=3, n_jobs=2)
    else:
        est = fastlasso.LogisticRegressionCV(
            Cs=np.geomspace(1e-2, 1e2, 5_000), l1_ratios=[1.0], cv=3, n_jobs=2)
        y = y > 0
    n_threads = threading.active_count()
    print(json.dumps({"ready": True}), flush=True)
    try:
        est.fit(X, y)
        print(json.dumps({"finished": True}), flush=True)
    except KeyboardInterrupt:
        # no waiting: the fold threads must have stopped before the fit returned
        left = threading.active_count() - n_threads
        print(json.dumps({"interrupted": True, "threads_left": left}), flush=True)
    """
)

HANG = 60.0  # seconds from SIGINT to the child's answer that count as a hang


def _readline(proc, timeout):
    ready, _, _ = select.select([proc.stdout], [], [], timeout)
    line = proc.stdout.readline() if ready else ""
    return json.loads(line) if line else None


@pytest.mark.parametrize("name", ["LassoCV", "LogisticRegressionCV"])
def test_ctrl_c_stops_every_fold_thread(name):
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, name],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert _readline(proc, 300) == {"ready": True}
        time.sleep(2.0)
        proc.send_signal(signal.SIGINT)
        report = _readline(proc, HANG)
        assert report is not None, f"no answer within {HANG} s of SIGINT: a hang"
        assert report != {"finished": True}, "the CV is too short to interrupt"
        assert report == {"interrupted": True, "threads_left": 0}
        assert proc.wait(timeout=HANG) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
        _, err = proc.communicate()
    assert "Traceback" not in err, err[-3000:]
