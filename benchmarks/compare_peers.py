"""Side-by-side timings of fastlasso and its peers, in one run, single-threaded.

    python benchmarks/compare_peers.py --quick --data ../shared/data   # CI smoke run
    python benchmarks/compare_peers.py --data ../shared/data --markdown results.md

Sections (``--sections``):

- ``single``: for each problem and alpha in {0.1, 0.01, 0.001} x alpha_max, the time
  each solver needs to reach relative suboptimality (P - P*)/P* <= each target of
  ``--targets`` (1e-3 and 1e-6), with P the objective of ``problems.objective`` (the
  same numpy code for every solver) and P* the best objective any run reached, tight
  reference fits included (fastlasso and celer at tol ``--ref-tol``). Each solver
  climbs its own tolerance ladder (``fastlasso._bench_peers``), loosest first; the
  first rung reaching a target against the reference objective gives that target's
  time (its run timed as the best of ``--repeats``), and the climb stops at the first
  rung reaching the tightest target. Every run is killed after ``--cap`` seconds
  (">cap" in the tables).
- ``path``: the same for full paths (100 alphas from alpha_max down to 1e-3 alpha_max,
  no intercept): a path reaches a target when every one of its points does.
- ``cv``: ``LassoCV(cv=5, n_jobs=1)`` of fastlasso vs scikit-learn, same grid and tol.

``--race K`` (off by default) also kills a run after K times the fastest time in which
a peer (not fastlasso) reached the tightest target in the same cell so far, and never
before RACE_FLOOR seconds, which shortens long runs; such a solver is shown as ">t".
A killed peer was slower than the best peer so far, so the best peer's time, and the
ratio, stay exact; only a cell where every peer is killed gives an upper bound on
fastlasso/best peer, marked "<=".

With ``--clock cpu`` the caps and the race are in CPU seconds too: a child is killed
when its own CPU time (Linux /proc) passes the cap, and ">t" is the CPU time it had
used (on a loaded machine a cap in elapsed seconds would stop a run that had used a
fraction of its cap, and report it as slower than it is).

Each fit runs in a forked child process that shares the data copy-on-write, so that a
run can be killed at its cap; only the solver call is timed, and the objective is
evaluated afterwards.
"""

import os
import sys


def _threads_from_argv(argv):
    for i, a in enumerate(argv):
        if a == "--threads" and i + 1 < len(argv):
            return argv[i + 1]
        if a.startswith("--threads="):
            return a.split("=", 1)[1]
    return "1"


# Thread counts must be fixed before numpy (and its BLAS) is first imported.
for _var in (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "NUMBA_NUM_THREADS",
):
    os.environ[_var] = _threads_from_argv(sys.argv)

import argparse
import datetime
import math
import multiprocessing
import platform
import signal
import subprocess
import time
import traceback
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_info, threadpool_limits

sys.path.insert(0, str(Path(__file__).resolve().parent))
import problems

from fastlasso import _bench_peers as peers

REFERENCE_SOLVERS = ("fastlasso", "celer")
# what a timing measures (--clock): elapsed time, or the CPU time of the timing process
# (all its threads), which other jobs on a loaded machine inflate far less
CLOCKS = {"wall": time.perf_counter, "cpu": time.process_time}
PLATEAU = 0.01  # see Bench.ladder
LOOSER = 3  # see Bench.ladder
RACE_FLOOR = 1.0  # --race never kills a run before this many seconds
CAP_MARGIN = 1.0  # seconds between a run's cap and its kill
CPU_POLL = 0.05  # --clock cpu: seconds between two reads of a child's CPU time
WALL_BACKSTOP = 20.0  # --clock cpu: a child is also killed after this x cap elapsed
EVAL_TIMEOUT = 600.0  # seconds to evaluate the objectives of a finished run


# ----------------------------------------------------------------------------- runner
class Child:
    """A forked child running ``task(send)``; the parent reads its messages with
    deadlines, then kills it."""

    def __init__(self, task):
        sys.stdout.flush()
        sys.stderr.flush()
        self.conn, w = multiprocessing.Pipe(duplex=False)
        self.pid = os.fork()
        if self.pid == 0:
            self.conn.close()
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    task(w.send)
            except BaseException:  # noqa: BLE001 - any failure goes to the parent
                msg = traceback.format_exc(limit=3).strip().splitlines()[-1]
                w.send(("error", msg))
            os._exit(0)
        w.close()

    def recv(self, timeout):
        """The next message; None after ``timeout`` s; an error if the child died."""
        if not self.conn.poll(timeout):
            return None
        try:
            return self.conn.recv()
        except EOFError:
            return ("error", "child died")

    def cpu_seconds(self):
        """CPU time (user + system, all threads) the child has used so far."""
        return child_cpu_seconds(self.pid)

    def recv_cpu(self, cap):
        """(message, None), or (None, CPU seconds used) once the child has used more
        than ``cap`` CPU seconds (or WALL_BACKSTOP x cap elapsed seconds pass)."""
        deadline = time.monotonic() + WALL_BACKSTOP * cap + CAP_MARGIN
        while True:
            msg = self.recv(CPU_POLL)
            if msg is not None:
                return msg, None
            used = self.cpu_seconds()
            if used > cap or time.monotonic() > deadline:
                return None, used

    def close(self):
        self.conn.close()
        try:
            os.kill(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        os.waitpid(self.pid, 0)


def child_cpu_seconds(pid):
    """utime + stime of process pid, from /proc/PID/stat (fields 14 and 15, counted
    after the parenthesised command name, which may hold spaces)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_capped(task, timeout):
    """("ok", task()) computed in a child, ("error", text) or ("timeout",)."""
    child = Child(lambda send: send(("ok", task())))
    try:
        msg = child.recv(timeout)
    finally:
        child.close()
    return ("timeout",) if msg is None else msg


def rel_subopt(P, P_star):
    with np.errstate(invalid="ignore"):
        return (np.asarray(P) - P_star) / P_star


@dataclass
class Run:
    """One run of one solver at one tolerance; for "timeout", time is how long it ran
    before it was killed (the cap, or the CPU time it had used with --clock cpu)."""

    tol: float
    status: str  # "ok", "timeout", "error"
    time: float = math.nan
    P: object = None  # float (single fit) or array of path objectives
    info: object = ""


@dataclass
class Entry:
    """A solver's runs on one cell, and the verdict once P* is known."""

    runs: list = field(default_factory=list)
    time: dict = field(default_factory=dict)  # target -> best time reaching it
    tol: dict = field(default_factory=dict)  # target -> tolerance of that run
    subopt: float = math.inf  # best relative suboptimality (worst point of a path)
    bound: float = math.inf  # without a time: it would take more than this
    error: str = ""

    def time_at(self, target):
        return self.time.get(target, math.nan)


class Bench:
    """Shared settings, the timed runs and the tolerance ladders."""

    def __init__(self, args):
        self.args = args
        self.targets = sorted(set(args.targets), reverse=True)  # loosest first
        self.tightest = self.targets[-1]
        # --clock cpu: the CPU time of the (single-threaded) child instead of the wall
        # clock, for measurements on a loaded machine; its caps are CPU seconds too
        self.cpu_clock = getattr(args, "clock", "wall") == "cpu"
        self.clock = CLOCKS[getattr(args, "clock", "wall")]

    def timed(self, fn, evaluate, P_ref, cap, repeat_below):
        """Run fn() in a child, killed after ``cap`` s (of the clock); ("ok", (time,
        P, info)), ("error", text) or ("timeout", seconds it ran, at least the cap
        unless the wall backstop of --clock cpu stopped it). A run reaching relative
        suboptimality
        ``repeat_below`` against P_ref is repeated (best of --repeats, while the total
        is under --repeat-budget)."""
        args = self.args

        def task(send):
            t0 = self.clock()
            out = fn()
            times = [self.clock() - t0]
            send(("timed", times[0]))
            P, info = evaluate(out)
            send(("evaluated", P, info))
            if np.max(rel_subopt(P, P_ref)) <= repeat_below:
                while len(times) < args.repeats and sum(times) < args.repeat_budget:
                    t0 = self.clock()
                    fn()
                    times.append(self.clock() - t0)
            send(("final", min(times)))

        child = Child(task)
        try:
            if self.cpu_clock:
                msg, used = child.recv_cpu(cap)
            else:
                msg, used = child.recv(cap + CAP_MARGIN), cap
            if msg is None:
                return ("timeout", used)
            if msg[0] == "timed" and msg[1] > cap:
                return ("timeout", msg[1])
            if msg[0] == "error":
                return msg
            t = msg[1]
            msg = child.recv(EVAL_TIMEOUT)
            if msg is None or msg[0] == "error":
                return ("error", "objective evaluation: " + (msg or ("", "timeout"))[1])
            P, info = msg[1], msg[2]
            msg = child.recv(args.repeat_budget + 2 * t + CAP_MARGIN)
            if msg is not None and msg[0] == "final":
                t = msg[1]
            return ("ok", (t, P, info))
        finally:
            child.close()

    def ladder(self, solver, tols, fn_of_tol, evaluate, P_ref, cap, label):
        """Climb the tolerance ladder, loosest first, until a rung reaches the tightest
        target against P_ref, a timeout or an error; a rung is timed with repeats when
        it is the first to reach a target. If the loosest rung already reaches the
        loosest target, try up to LOOSER rungs looser still (10x each) while they reach
        it, so that the fastest rung is not missed. Without a reference objective
        (every reference fit over the cap), stop when two rungs in a row agree to
        PLATEAU * the tightest target: the final verdict against P* decides anyway."""
        entry, finite_ref = Entry(), bool(np.all(np.isfinite(P_ref)))
        reached = set()

        def pending():
            return [t for t in self.targets if t not in reached]

        def rung(tol, repeat_below):
            """Run one rung: None (stop) or (relative suboptimality, objective(s))."""
            res = self.timed(lambda: fn_of_tol(tol), evaluate, P_ref, cap, repeat_below)
            if res[0] == "error":
                entry.runs.append(Run(tol, "error", info=res[1]))
                self.log(f"  {label} {solver.name} tol={tol:.1e} ERROR {res[1]}")
                return None
            if res[0] == "timeout":
                used = res[1] if len(res) > 1 else cap
                entry.runs.append(Run(tol, "timeout", time=used))
                self.log(f"  {label} {solver.name:9s} tol={tol:.1e} >{used:.3g}s", True)
                return None
            t, P, info = res[1]
            entry.runs.append(Run(tol, "ok", t, P, info))
            sub = float(np.max(rel_subopt(P, P_ref))) if finite_ref else math.inf
            self.log(
                f"  {label} {solver.name:9s} tol={tol:.1e} {t:9.4f}s "
                f"subopt={sub:.1e} P={np.min(P):.10g}",
                verbose=True,
            )
            reached.update(t for t in self.targets if sub <= t)
            return sub, P

        tols = list(tols)
        loosest = self.targets[0]
        out = rung(tols[0], loosest)
        if out is None:
            return entry
        if out[0] <= loosest:
            tol = tols[0]
            for _ in range(LOOSER):
                tol *= 10
                looser = rung(tol, loosest)
                if looser is None or looser[0] > loosest:
                    break
        prev = out[1]
        for tol in tols[1:]:
            if not pending():
                break
            out = rung(tol, pending()[0])
            if out is None or (
                not finite_ref
                and np.max(np.abs(out[1] - prev) / out[1])
                <= PLATEAU * self.tightest
            ):
                break
            prev = out[1]
        return entry

    def race(self, solvers, tols_of, fn_of, evaluate, P_ref, cap, label):
        """The ladders of all solvers on one cell, fastlasso first; with --race K a
        peer's run is killed after K times the best time in which a peer reached the
        tightest target so far (never before RACE_FLOOR): the best peer stays exact
        (module docstring)."""
        entries, best = {}, math.inf
        finite_ref = bool(np.all(np.isfinite(P_ref)))
        for s in solvers:
            cap_s = cap
            if self.args.race and math.isfinite(best):
                cap_s = min(cap, max(self.args.race * best, RACE_FLOOR))
            e = self.ladder(s, tols_of(s), fn_of(s), evaluate, P_ref, cap_s, label)
            entries[s.name] = e
            if s.name == "fastlasso":
                continue
            for r in e.runs:
                ok = r.status == "ok" and finite_ref
                if ok and np.max(rel_subopt(r.P, P_ref)) <= self.tightest:
                    best = min(best, r.time)
        return entries

    def references(self, solvers, fn_of, evaluate, cap, label):
        refs = {
            s.name: self.ladder(
                s, [self.args.ref_tol], fn_of(s), evaluate, math.inf, cap, label
            )
            for s in solvers
            if s.name in REFERENCE_SOLVERS
        }
        ok = [r.P for e in refs.values() for r in e.runs if r.status == "ok"]
        return refs, (np.min(np.stack(ok), axis=0) if ok else math.inf)

    def judge(self, entry, P_star):
        """Fill the verdict of an entry from its runs and the final P*: for each
        target the fastest run reaching it."""
        for run in entry.runs:
            if run.status == "timeout":
                entry.bound = run.time
            elif run.status == "error":
                entry.error = str(run.info)
            else:
                sub = float(np.max(rel_subopt(run.P, P_star)))
                entry.subopt = min(entry.subopt, sub)
                for t in self.targets:
                    if sub <= t and not run.time >= entry.time_at(t):  # NaN: none yet
                        entry.time[t], entry.tol[t] = run.time, run.tol

    def log(self, msg, verbose=False):
        if self.args.verbose or not verbose:
            print(msg, file=sys.stderr, flush=True)


# ------------------------------------------------------------------------- sections
@dataclass
class Cell:
    problem: str
    frac: float
    entries: dict
    ref_subopt: dict  # reference solver -> relative suboptimality of its tight fit


def warm_up(bench, solvers, X_of, y, intercepts):
    """Warm-up fits in the parent (skglm's JIT, lazy imports), inherited by the forked
    runs. Not for fastlasso with several threads: in GNU libgomp, a child forked
    after its parent ran an OpenMP parallel region hangs in its own first one."""
    for s in solvers:
        if s.name == "fastlasso" and bench.args.threads > 1:
            continue
        for fi in intercepts:
            s.warmup(X_of[s.name], y, fi)


def bench_single(bench, problem, solvers):
    """Cells of the single-fit table for one problem."""
    X_of = {s.name: s.prepare(problem.X) for s in solvers}
    warm_up(bench, solvers, X_of, problem.y, (True, False))
    amax = problems.alpha_max(problem.X, problem.y, problem.fit_intercept)
    cells = []
    for frac in bench.args.alphas:
        alpha, label = frac * amax, f"{problem.name} {frac:g}"

        def fn_of(s, alpha=alpha):
            return lambda tol: s.fit(
                X_of[s.name], problem.y, alpha, problem.fit_intercept, tol
            )

        def evaluate(out, alpha=alpha):
            coef, b = out
            P = problems.objective(problem.X, problem.y, alpha, coef, b)
            return P, int(np.count_nonzero(coef))

        cap = bench.args.cap
        refs, P_ref = bench.references(solvers, fn_of, evaluate, cap, label + " ref")
        entries = bench.race(
            solvers, lambda s: s.ladder(amax), fn_of, evaluate, P_ref, cap, label
        )
        cells.append(finish_cell(bench, problem.name, frac, entries, refs))
    return cells


def bench_path(bench, problem, solvers):
    """One cell: the full path of ``problem`` (no intercept)."""
    X_of = {s.name: s.prepare(problem.X) for s in solvers}
    warm_up(bench, solvers, X_of, problem.y, (False,))
    amax = problems.alpha_max(problem.X, problem.y, False)
    alphas = amax * np.geomspace(1.0, bench.args.eps, bench.args.n_alphas)

    def fn_of(s):
        return lambda tol: s.path(X_of[s.name], problem.y, alphas, tol)

    def evaluate(coefs):
        P = np.array(
            [
                problems.objective(problem.X, problem.y, a, coefs[:, k], 0.0)
                for k, a in enumerate(alphas)
            ]
        )
        return P, int(np.count_nonzero(coefs[:, -1]))

    cap, label = bench.args.path_cap, f"{problem.name} path"
    refs, P_ref = bench.references(solvers, fn_of, evaluate, cap, label + " ref")
    entries = bench.race(
        solvers, lambda s: s.ladder(amax), fn_of, evaluate, P_ref, cap, label
    )
    return finish_cell(bench, problem.name, bench.args.eps, entries, refs)


def finish_cell(bench, name, frac, entries, refs):
    all_P = [
        r.P
        for e in list(entries.values()) + list(refs.values())
        for r in e.runs
        if r.status == "ok"
    ]
    P_star = np.min(np.stack(all_P), axis=0) if all_P else math.inf
    for e in entries.values():
        bench.judge(e, P_star)
    ref_subopt = {}
    for k, e in refs.items():
        run = e.runs[0]
        ref_subopt[k] = (
            float(np.max(rel_subopt(run.P, P_star)))
            if run.status == "ok"
            else run.status
            if run.status == "timeout"
            else f"error: {run.info}"
        )
    for t in bench.targets:
        bench.log(
            f"{name:>16s} {frac:<6g} {t:.0e} "
            + "  ".join(f"{k}={fmt_entry(e, t, tol=False)}" for k, e in entries.items())
        )
    return Cell(name, frac, entries, ref_subopt)


def bench_cv(bench, problem, fastlasso):
    """fastlasso.LassoCV vs sklearn.linear_model.LassoCV: time and chosen alpha."""
    from sklearn.linear_model import LassoCV

    kw = {
        "cv": 5,
        "n_jobs": 1,
        "alphas": bench.args.n_alphas,
        "eps": bench.args.eps,
        "tol": bench.args.cv_tol,
        "max_iter": peers.MAX_EPOCHS,
        "fit_intercept": problem.fit_intercept,
    }
    out = {}
    for name, cls in (("fastlasso", fastlasso.LassoCV), ("sklearn", LassoCV)):

        def task(cls=cls):
            t0 = bench.clock()
            m = cls(**kw).fit(problem.X, problem.y)
            return bench.clock() - t0, float(m.alpha_), np.asarray(m.alphas_)

        res = run_capped(task, bench.args.path_cap)
        out[name] = (
            res[1]
            if res[0] == "ok"
            else f">{bench.args.path_cap:g}"
            if res[0] == "timeout"
            else "error: " + res[1]
        )
    bench.log(
        f"{problem.name:>16s} cv "
        + "  ".join(
            f"{k}={v[0]:.3f}s" if isinstance(v, tuple) else f"{k}={v}"
            for k, v in out.items()
        )
    )
    return problem.name, out


# ----------------------------------------------------------------------- formatting
def fmt_time(t):
    return f"{t:.3g}" if t < 100 else f"{t:.0f}"


def fmt_entry(e, target, tol=True):
    """Time to ``target`` (tolerance used), or why there is none."""
    if math.isfinite(e.time_at(target)):
        return fmt_time(e.time[target]) + (f" ({e.tol[target]:.0e})" if tol else "")
    if e.error:
        return "error"
    best = f"best {e.subopt:.0e}" if math.isfinite(e.subopt) else ""
    if math.isfinite(e.bound):
        return f">{fmt_time(e.bound)}" + (f" ({best})" if best else "")
    return f"n.r. ({best})" if best else "n.r."


def ratio_of(cell, target, fl="fastlasso"):
    """(ratio, best peer, exact): fastlasso time / best peer time to ``target``.

    A peer killed at a cap only gives a lower bound on its time; if that bound is
    below every exact peer time, the ratio is an upper bound (exact False). The
    ratio is inf when fastlasso did not reach the target, None without any peer.
    """
    others = {k: e for k, e in cell.entries.items() if k != fl}
    exact = {k: e.time[target] for k, e in others.items()
             if math.isfinite(e.time_at(target))}
    bounds = {k: e.bound for k, e in others.items() if k not in exact}
    bounds = {k: b for k, b in bounds.items() if math.isfinite(b)}
    if fl not in cell.entries or not (exact or bounds):
        return None, None, True
    t = cell.entries[fl].time_at(target)
    if not math.isfinite(t):
        return (math.inf, None, True) if exact else (None, None, True)
    T = min(exact.values(), default=math.inf)
    L = min(bounds.values(), default=math.inf)
    if T <= L:
        best = min(exact, key=exact.get)
        return t / T, best, True
    return t / L, min(bounds, key=bounds.get), False


def fmt_ratio(r, best, exact):
    if r is None:
        return "-"
    if math.isinf(r):
        return "fastlasso n.r."
    return f"{'' if exact else '<='}{r:.2f} ({best})"


def table(cells, names, target, column="alpha/alpha_max"):
    """Markdown table of the cells' times to ``target``; ``column`` names what a
    cell's ``frac`` is."""
    head = ["problem", column, *names, "fastlasso/best peer"]
    rows = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for c in cells:
        ents = [fmt_entry(c.entries[n], target) if n in c.entries else "-"
                for n in names]
        rtxt = fmt_ratio(*ratio_of(c, target))
        rows.append("| " + " | ".join([c.problem, f"{c.frac:g}", *ents, rtxt]) + " |")
    return "\n".join(rows)


def section(title, cells, names, target, ref_tol, column="alpha/alpha_max"):
    """A markdown section: the title, the table of the cells and their summary."""
    return (f"## {title}\n\n" + table(cells, names, target, column) + "\n\n"
            + summary(cells, target, ref_tol))


def summary(cells, target, ref_tol):
    """Geometric mean of the ratios, the worst cell, the cells fastlasso loses."""
    rs = [(*ratio_of(c, target), c) for c in cells]
    finite = [(r, ex, c) for r, _, ex, c in rs if r is not None and math.isfinite(r)]
    lines = []
    if finite:
        gm = math.exp(sum(math.log(r) for r, _, _ in finite) / len(finite))
        worst = max(finite, key=lambda x: x[0])
        n_bound = sum(not ex for _, ex, _ in finite)
        lines.append(
            f"geometric mean fastlasso/best peer over {len(finite)} cells: {gm:.3f}"
            + (f" ({n_bound} of them upper bounds)" if n_bound else "")
            + f"; worst cell: {worst[0]:.2f} ({worst[2].problem}, {worst[2].frac:g})"
        )
    losses = [f"{c.problem} {c.frac:g} ({r:.2f})" for r, _, c in finite if r > 1]
    lines.append(
        "cells where fastlasso is slower than the best peer: "
        + (", ".join(losses) if losses else "none")
    )
    failed = [f"{c.problem} {c.frac:g}" for r, _, _, c in rs if r == math.inf]
    if failed:
        lines.append(
            f"cells where fastlasso does not reach {target:g}: " + ", ".join(failed)
        )
    none = [f"{c.problem} {c.frac:g}" for r, _, _, c in rs if r is None]
    if none:
        lines.append("cells without a ratio (no solver reached): " + ", ".join(none))
    refs = [(c, c.ref_subopt.get("fastlasso")) for c in cells]
    bad = [
        f"{c.problem} {c.frac:g}: {v if isinstance(v, str) else f'{v:.1e}'}"
        for c, v in refs
        if v is not None
        and v != "timeout"
        and not (isinstance(v, float) and v <= target / 10)
    ]
    if bad:
        lines.append(
            f"fastlasso at tol {ref_tol:g} worse than P* by > {target / 10:g} "
            "(relative), or failed: " + "; ".join(bad)
        )
    slow = [f"{c.problem} {c.frac:g}" for c, v in refs if v == "timeout"]
    if slow:
        lines.append(
            f"fastlasso reference fit (tol {ref_tol:g}) over the cap: "
            + ", ".join(slow)
        )
    return "\n".join(lines)


def cv_table(results):
    rows = [
        (
            "| problem | fastlasso LassoCV (s) | sklearn LassoCV (s) | ratio | alpha_ "
            "fastlasso / sklearn | same grid |"
        ),
        "|---|---|---|---|---|---|",
    ]
    ratios = []
    for name, out in results:
        fl, sk = out["fastlasso"], out["sklearn"]
        cols = [fmt_time(v[0]) if isinstance(v, tuple) else str(v) for v in (fl, sk)]
        if isinstance(fl, tuple) and isinstance(sk, tuple):
            ratios.append(fl[0] / sk[0])
            grid = fl[2].shape == sk[2].shape and np.allclose(fl[2], sk[2], rtol=1e-10)
            cols += [
                f"{fl[0] / sk[0]:.3f}",
                f"{fl[1]:.4g} / {sk[1]:.4g}",
                "yes" if grid else "NO",
            ]
        else:
            cols += ["-", "-", "-"]
        rows.append("| " + " | ".join([name, *cols]) + " |")
    if ratios:
        gm = math.exp(np.mean(np.log(ratios)))
        rows.append(
            f"\ngeometric mean fastlasso/sklearn LassoCV over {len(ratios)} problems: "
            f"{gm:.3f}; worst: {max(ratios):.3f}"
        )
    return "\n".join(rows)


def header(args, solvers):
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        commit = subprocess.run(
            ["git", "describe", "--always", "--dirty"],
            check=False,
            cwd=Path(__file__).resolve().parent,
            capture_output=True,
            text=True,
        ).stdout.strip()
    except OSError:
        commit = "?"
    blas = ", ".join(
        sorted({f"{i['internal_api']} {i.get('version')}" for i in threadpool_info()})
    )
    race = (
        f"; race: peers killed after {args.race:g} x the cell's best peer (at least "
        f"{RACE_FLOOR:g} s)"
        if args.race
        else ""
    )
    lines = [
        f"date: {datetime.datetime.now().astimezone().isoformat(timespec='seconds')}",
        f"machine: {cpu}, {os.cpu_count()} cores, {platform.platform()}",
        (
            f"python {platform.python_version()}, numpy {np.__version__}, "
            f"scipy {peers.importlib.metadata.version('scipy')}; threads: "
            f"{os.environ['OMP_NUM_THREADS']} ({blas})"
        ),
        "solvers: "
        + ", ".join(f"{s.name} {s.version()}" for s in solvers)
        + f" (fastlasso commit {commit})",
        (
            "targets: relative suboptimality <= "
            + " and ".join(f"{t:g}" for t in sorted(args.targets, reverse=True))
            + f"; reference fits at tol "
            f"{args.ref_tol:g}; cap {args.cap:g} s per single fit, {args.path_cap:g} s "
            f"per path/CV{race}; best of {args.repeats} repeats (while under "
            f"{args.repeat_budget:g} s); sizes: {'quick' if args.quick else 'full'}"
            + ("; clock: CPU time of the timing process (caps in CPU seconds)"
               if args.clock == "cpu" else "")
        ),
    ]
    return "\n".join(lines)


# ----------------------------------------------------------------------------- main
def parse_args(argv=None):
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--quick", action="store_true", help="small sizes (CI smoke run)")
    p.add_argument(
        "--data", help="directory holding leukemia/riboflavin/debian_desc.npz"
    )
    p.add_argument(
        "--sections", default="single,path,cv", help="subset of single,path,cv"
    )
    p.add_argument("--problems", help="comma-separated substrings of problem names")
    p.add_argument("--solvers", help="comma-separated solver names (fastlasso is kept)")
    p.add_argument(
        "--alphas",
        default="0.1,0.01,0.001",
        type=lambda s: [float(v) for v in s.split(",")],
        help="alpha / alpha_max values of the single-fit table",
    )
    p.add_argument(
        "--targets",
        default="1e-3,1e-6",
        type=lambda s: [float(v) for v in s.split(",")],
        help="relative suboptimalities (a table each)",
    )
    p.add_argument("--no-c", action="store_true",
                   help="without the C-ordered variants of the dense problems")
    p.add_argument("--n-alphas", type=int, default=100)
    p.add_argument("--eps", type=float, default=1e-3, help="alpha_min / alpha_max")
    p.add_argument("--cv-tol", type=float, default=1e-4, help="tol of both LassoCVs")
    add_bench_args(p, ref_tol=1e-10, cap=60.0, path_cap=120.0)
    return parse_bench_args(p, argv, quick_caps=(2.0, 3.0, 0.2))


def add_bench_args(p, *, ref_tol, cap, path_cap):
    """The options that Bench, header and the tables read (this script and
    compare_multitask.py): reference tol, caps, repeats, threads, clock, output."""
    p.add_argument("--ref-tol", type=float, default=ref_tol, help="reference fits' tol")
    p.add_argument("--cap", type=float, default=cap, help="seconds per single fit")
    p.add_argument("--path-cap", type=float, default=path_cap,
                   help="seconds per path/CV")
    p.add_argument("--race", type=float, help="also kill runs after RACE x cell's best")
    p.add_argument("--repeats", type=int, default=3, help="timing = best of this many")
    p.add_argument(
        "--repeat-budget",
        type=float,
        default=10.0,
        help="repeat a run only while its total time is below this",
    )
    p.add_argument("--threads", type=int, default=1, help="threads (default 1)")
    p.add_argument(
        "--clock", choices=tuple(CLOCKS), default="wall",
        help="wall: elapsed time (default); cpu: CPU time of the timing process, "
        "for runs on a loaded machine (caps and the race in CPU seconds too)",
    )
    p.add_argument("--markdown", help="write the header and tables to this file")
    p.add_argument("-v", "--verbose", action="store_true", help="log every run")


def parse_bench_args(p, argv, quick_caps):
    """Parse; with --quick, cap (single fit, path, repeat budget) at quick_caps."""
    args = p.parse_args(argv)
    if args.quick:
        cap, path_cap, budget = quick_caps
        args.cap = min(args.cap, cap)
        args.path_cap = min(args.path_cap, path_cap)
        args.repeat_budget = min(args.repeat_budget, budget)
    return args


def main(argv=None):
    args = parse_args(argv)
    names = None if args.solvers is None else {"fastlasso", *args.solvers.split(",")}
    solvers = peers.make_solvers(
        names, n_jobs=args.threads if args.threads > 1 else None
    )
    peers.Adelie.threads = peers.ScikitLearnIntelex.threads = args.threads
    sections = set(args.sections.split(","))
    select = args.problems.split(",") if args.problems else None
    size = "quick" if args.quick else "full"
    makers = problems.problem_makers(size, args.data, select, not args.no_c)
    bench, t_start = Bench(args), time.monotonic()
    out = [header(args, solvers)]
    if {"sklearn", "glmnet"} <= {s.name for s in solvers}:
        same, double = peers.check_glmnet_scaling()
        out.append(
            f"glmnet objective check: with lambda = alpha the relative objective "
            f"difference to sklearn is {same:.1e}; with lambda = 2 alpha, {double:.1e}"
        )
    print("\n".join(out), flush=True)
    n_printed = len(out)
    single, paths, cvs, described = [], [], [], []
    import fastlasso

    has_cv = hasattr(fastlasso, "LassoCV")
    with threadpool_limits(limits=args.threads):
        for _, make in makers:
            probs = problems.selected(make(), select)
            for prob in probs:
                described.append(prob.describe())
                bench.log(described[-1])
                if "single" in sections:
                    single += bench_single(bench, prob, solvers)
                if "cv" in sections and has_cv and prob.fit_intercept:
                    cvs.append(bench_cv(bench, prob, fastlasso))
            if "path" in sections:
                path_probs = [p for p in probs if not p.fit_intercept] or [
                    problems.path_problem(p)
                    for p in probs
                    if not p.name.endswith("[C]")
                ]
                if not args.no_c:
                    path_probs = problems.selected(
                        problems.with_c_variants(path_probs, intercept_only=False),
                        select,
                    )
                for prob in path_probs:
                    bench.log(prob.describe() + " [path]")
                    paths.append(
                        bench_path(bench, prob, [s for s in solvers if s.has_path])
                    )
            del probs
    out.append("problems:\n" + "\n".join(f"- {d}" for d in described))
    for target in bench.targets if single else ():
        out.append(section(
            f"Single fits: seconds to relative suboptimality {target:g} "
            "(tolerance used)", single, [s.name for s in solvers], target, args.ref_tol,
        ))
    for target in bench.targets if "path" in sections else ():
        out.append(section(
            f"Full paths ({args.n_alphas} alphas down to {args.eps:g} alpha_max, "
            f"no intercept): seconds until every point reaches {target:g}",
            paths, [s.name for s in solvers if s.has_path], target, args.ref_tol,
        ))
    if "cv" in sections:
        out.append(
            f"## LassoCV(cv=5, n_jobs=1, tol={args.cv_tol:g}): seconds\n\n"
            + cv_table(cvs)
            if has_cv
            else "## LassoCV: fastlasso.LassoCV does not exist yet; skipped."
        )
    out.append(f"total benchmark time: {time.monotonic() - t_start:.0f} s")
    print("\n\n" + "\n\n".join(out[n_printed:]))
    if args.markdown:
        Path(args.markdown).write_text("\n\n".join(out) + "\n")


if __name__ == "__main__":
    main()
