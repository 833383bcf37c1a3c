"""benchmarks/compare_peers.py's tolerance ladder with two targets (1e-3 and 1e-6):
which rungs it runs, where it stops, and which rung gives each target's time.

A fake solver whose relative suboptimality at tolerance ``tol`` is ``gain * tol``
and whose time grows as the tolerance tightens (a fake clock) makes the expected rungs
and times exact.
"""

import math
import os
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

BENCH = Path(__file__).resolve().parent.parent / "benchmarks"


@pytest.fixture(scope="module")
def cp():
    saved = dict(os.environ)  # the script pins thread counts at import
    sys.path.insert(0, str(BENCH))
    try:
        import compare_peers
    finally:
        sys.path.remove(str(BENCH))
        os.environ.clear()
        os.environ.update(saved)
    return compare_peers


def _ladder(cp, gain):
    """Climb the ladder of a fake solver: relative suboptimality gain * tol, time
    -log10(tol) seconds (tighter rungs take longer). ``Bench.timed`` is replaced by
    that deterministic clock (no child process, no wall-clock time): the test
    checks which rungs run, with which repeat threshold, and what the verdict is."""
    args = SimpleNamespace(targets=[1e-6, 1e-3], repeats=2, repeat_budget=1.0,
                           race=None, verbose=False)
    bench, P_ref, calls = cp.Bench(args), 10.0, []

    def timed(fn, evaluate, P_ref_, cap, repeat_below):
        tol = fn()
        calls.append((tol, repeat_below))
        return ("ok", (-math.log10(tol), *evaluate(tol)))

    bench.timed = timed

    def evaluate(tol):
        return P_ref * (1 + gain * tol), 0

    tols = [10.0**-k for k in range(3, 13)]
    entry = bench.ladder(SimpleNamespace(name="fake"), tols, lambda tol: tol, evaluate,
                         P_ref, 5.0, "test")
    bench.judge(entry, P_ref)
    return entry, calls


def test_ladder_climbs_to_the_tightest_target_and_times_each(cp):
    entry, calls = _ladder(cp, gain=10.0)  # subopt 10 tol: 1e-3 at 1e-4, 1e-6 at 1e-7
    assert [r.tol for r in entry.runs] == pytest.approx([1e-3, 1e-4, 1e-5, 1e-6, 1e-7])
    # each rung is repeated when it reaches the loosest target not reached before it
    assert [b for _, b in calls] == [1e-3, 1e-3, 1e-6, 1e-6, 1e-6]
    assert all(r.status == "ok" for r in entry.runs)
    assert entry.tol == pytest.approx({1e-3: 1e-4, 1e-6: 1e-7})
    assert entry.time == pytest.approx({1e-3: 4.0, 1e-6: 7.0})
    assert entry.subopt == pytest.approx(1e-6)


def test_ladder_tries_looser_rungs_when_the_first_reaches(cp):
    # subopt 1e-3 tol: the first rung reaches both
    entry, calls = _ladder(cp, gain=1e-3)
    assert [r.tol for r in entry.runs] == pytest.approx([1e-3, 1e-2, 1e-1, 1.0])
    assert [b for _, b in calls] == [1e-3] * 4
    assert entry.tol == pytest.approx({1e-3: 1.0, 1e-6: 1e-3})
    assert entry.time == pytest.approx({1e-3: 0.0, 1e-6: 3.0})


def test_ratio_and_table_per_target(cp):
    e_fl, e_peer = cp.Entry(), cp.Entry()
    e_fl.time, e_fl.tol = {1e-3: 1.0, 1e-6: 4.0}, {1e-3: 1e-3, 1e-6: 1e-6}
    e_peer.time, e_peer.tol = {1e-3: 2.0}, {1e-3: 1e-2}
    e_peer.bound = 3.0  # killed at 3 s before reaching 1e-6
    cell = cp.Cell("p", 0.1, {"fastlasso": e_fl, "peer": e_peer}, {})
    assert cp.ratio_of(cell, 1e-3) == (0.5, "peer", True)
    r, best, exact = cp.ratio_of(cell, 1e-6)
    assert (r, best, exact) == (pytest.approx(4 / 3), "peer", False)
    text = cp.table([cell], ["fastlasso", "peer"], 1e-6)
    assert "| p | 0.1 | 4 (1e-06) | >3 | <=1.33 (peer) |" in text
    assert np.isnan(cp.Entry().time_at(1e-3))


def test_race_keeps_the_best_peer_exact(cp):
    """--race kills a peer after K x the best *peer* time so far: fastlasso's own
    (much shorter) time does not stop the peers, so a cell whose peers all take
    longer than the floor still gets an exact best peer and an exact ratio."""
    args = SimpleNamespace(targets=[1e-6], repeats=1, repeat_budget=1.0, race=3.0,
                           verbose=False)
    bench, P_ref = cp.Bench(args), 10.0
    seconds = {"fastlasso": 0.01, "a": 4.0, "b": 2.0, "c": 30.0}
    caps = {}

    def timed(fn, evaluate, P_ref_, cap, repeat_below):
        name = fn()
        caps[name] = cap
        if seconds[name] > cap:
            return ("timeout", cap)
        return ("ok", (seconds[name], *evaluate(name)))

    bench.timed = timed
    solvers = [SimpleNamespace(name=k) for k in seconds]
    entries = bench.race(solvers, lambda s: [1e-7], lambda s: (lambda tol: s.name),
                         lambda name: (P_ref, 0), P_ref, 100.0, "test")
    for e in entries.values():
        bench.judge(e, P_ref)
    assert caps == {"fastlasso": 100.0, "a": 100.0, "b": 12.0, "c": 6.0}
    assert entries["c"].bound == 6.0
    cell = cp.Cell("p", 0.1, entries, {})
    assert cp.ratio_of(cell, 1e-6) == (pytest.approx(0.01 / 2.0), "b", True)


def test_cpu_clock_kills_on_the_childs_cpu_time(cp):
    """With --clock cpu a child is killed once it has used its cap in CPU seconds,
    and the run reports the CPU time it used, not the elapsed time."""
    import time

    args = SimpleNamespace(targets=[1e-6], repeats=1, repeat_budget=1.0, race=None,
                           verbose=False, clock="cpu")
    bench = cp.Bench(args)

    def spin():
        t0 = time.process_time()
        while time.process_time() - t0 < 30:
            pass

    t0 = time.monotonic()
    res = bench.timed(spin, lambda out: (1.0, 0), 1.0, 0.3, 0.0)
    elapsed = time.monotonic() - t0
    assert res[0] == "timeout" and res[1] < 5.0 and elapsed < 30, (res, elapsed)
    # killed at its CPU cap (or, on a machine too busy to give it 0.3 s of CPU, by
    # the elapsed-time backstop: then the bound reported is what it used)
    assert res[1] > 0.3 or elapsed >= 0.3 * cp.WALL_BACKSTOP, (res, elapsed)
    res = bench.timed(lambda: None, lambda out: (1.0, 0), 1.0, 0.3, 0.0)
    assert res[0] == "ok" and res[1][0] < 0.3, res
