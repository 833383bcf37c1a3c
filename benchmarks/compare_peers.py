"""Side-by-side timings of fastlasso and its peers, in one run, single-threaded.

    python benchmarks/compare_peers.py --quick                       # CI smoke run
    python benchmarks/compare_peers.py --data ../shared/data --markdown results.md

Sections (``--sections``):

- ``single``: for each problem and alpha in {0.1, 0.01, 0.001} x alpha_max, the time
  each solver needs to reach relative suboptimality (P - P*)/P* <= 1e-6, with P the
  objective of ``problems.objective`` (the same numpy code for every solver) and P* the
  best objective any run reached, including tight reference fits (fastlasso and celer at
  tol 1e-12). Each solver climbs its own tolerance ladder (``peers.py``), loosest
  first, and stops at the first rung that reaches the target (the rung reported);
  that run is timed as the best of ``--repeats``. Every run is capped (``--cap``).
- ``path``: the same for full paths (100 alphas from alpha_max down to 1e-3 alpha_max,
  no intercept): a path reaches the target when every point does.
- ``cv``: ``LassoCV(cv=5, n_jobs=1)`` of fastlasso vs scikit-learn, same grid and tol.

Each fit runs in a forked child process (the data are shared copy-on-write), so that a
run over the cap can be killed; only the solver call is timed.
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
import pickle
import platform
import select
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
import peers
import problems

REFERENCE_SOLVERS = ("fastlasso", "celer")
REFERENCE_TOL = 1e-12
PLATEAU = 0.01


# ----------------------------------------------------------------------------- runner
def run_capped(task, timeout):
    """Run ``task()`` in a forked child; ("ok", value), ("error", text) or ("timeout",)."""
    sys.stdout.flush()
    sys.stderr.flush()
    rfd, wfd = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: run, send the pickled result, leave without cleanup
        os.close(rfd)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                result = ("ok", task())
        except BaseException:  # noqa: BLE001 - any failure is reported, not raised
            result = ("error", traceback.format_exc(limit=3).strip().splitlines()[-1])
        with os.fdopen(wfd, "wb") as f:
            f.write(pickle.dumps(result))
        os._exit(0)
    os.close(wfd)
    chunks, deadline = [], time.monotonic() + timeout
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([rfd], [], [], left)[0]:
                return ("timeout",)
            chunk = os.read(rfd, 1 << 20)
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        os.close(rfd)
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        os.waitpid(pid, 0)
    return pickle.loads(b"".join(chunks)) if chunks else ("error", "child died")


def rel_subopt(P, P_star):
    return (np.asarray(P) - P_star) / P_star


@dataclass
class Run:
    """One capped run of one solver at one tolerance."""

    tol: float
    status: str  # "ok", "timeout", "error"
    time: float = math.nan
    P: object = None  # float (single fit) or array of path objectives
    info: str = ""


@dataclass
class Entry:
    """A solver's runs on one cell, and the verdict once P* is known."""

    runs: list = field(default_factory=list)
    time: float = math.nan  # best time reaching the target, NaN if none
    tol: float = math.nan
    subopt: float = math.inf  # best relative suboptimality reached (worst path point)
    note: str = ""


class Bench:
    """Shared settings and the timed ladders."""

    def __init__(self, args):
        self.args = args
        self.target = args.target
        self.cap = args.cap

    def timed(self, fn, evaluate, P_ref, cap):
        """Child task: time fn() (best of repeats if it reaches the target)."""

        def task():
            t0 = time.perf_counter()
            out = fn()
            times = [time.perf_counter() - t0]
            P, info = evaluate(out)
            if np.max(rel_subopt(P, P_ref)) <= self.target:
                while (
                    len(times) < self.args.repeats
                    and sum(times) < self.args.repeat_budget
                ):
                    t0 = time.perf_counter()
                    fn()
                    times.append(time.perf_counter() - t0)
            return min(times), P, info

        return run_capped(task, cap + self.args.repeat_budget + 10)

    def ladder(self, solver, tols, fn_of_tol, evaluate, P_ref, cap, label):
        """Climb the tolerance ladder; stop at the first rung reaching the target
        (judged against P_ref), at a timeout or at an error. Without a reference
        objective (all reference fits over the cap), stop when two rungs in a row
        agree to PLATEAU * target: the final verdict against P* decides anyway."""
        entry, finite_ref, prev = Entry(), bool(np.all(np.isfinite(P_ref))), None
        for tol in tols:
            res = self.timed(lambda tol=tol: fn_of_tol(tol), evaluate, P_ref, cap)
            if res[0] == "ok" and res[1][0] <= cap:
                t, P, info = res[1]
                entry.runs.append(Run(tol, "ok", t, P, info))
                sub = float(np.max(rel_subopt(P, P_ref))) if finite_ref else math.inf
                self.log(
                    f"  {label} {solver.name:9s} tol={tol:.1e} {t:9.4f}s "
                    f"subopt={sub:.1e} P={np.min(P):.10g}",
                    verbose=True,
                )
                if sub <= self.target or (
                    prev is not None
                    and not finite_ref
                    and np.max(np.abs(P - prev) / P) <= PLATEAU * self.target
                ):
                    break
                prev = P
            elif res[0] == "error":
                entry.runs.append(Run(tol, "error", info=res[1]))
                self.log(f"  {label} {solver.name} tol={tol:.1e} ERROR {res[1]}")
                break
            else:
                entry.runs.append(Run(tol, "timeout"))
                self.log(
                    f"  {label} {solver.name:9s} tol={tol:.1e} >{cap:g}s", verbose=True
                )
                break
        return entry

    def judge(self, entry, P_star):
        """Fill the verdict of an entry from its runs and the final P*."""
        for run in entry.runs:
            if run.status != "ok":
                entry.note = ">cap" if run.status == "timeout" else f"error: {run.info}"
                continue
            sub = float(np.max(rel_subopt(run.P, P_star)))
            entry.subopt = min(entry.subopt, sub)
            if sub <= self.target and not run.time >= entry.time:  # NaN: none yet
                entry.time, entry.tol = run.time, run.tol

    def log(self, msg, verbose=False):
        if self.args.verbose or not verbose:
            print(msg, file=sys.stderr, flush=True)


# ------------------------------------------------------------------------- sections
@dataclass
class Cell:
    problem: str
    frac: float
    entries: dict
    P_star: float
    ref_subopt: dict  # reference solver -> relative suboptimality of its tight fit


def bench_single(bench, problem, solvers):
    """Cells of the single-fit table for one problem."""
    X_of = {s.name: s.prepare(problem.X) for s in solvers}
    for s in solvers:
        for fi in (True, False):
            s.warmup(X_of[s.name], problem.y, fi)
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

        refs = {}
        for s in solvers:
            if s.name in REFERENCE_SOLVERS:
                e = bench.ladder(
                    s,
                    [REFERENCE_TOL],
                    fn_of(s),
                    evaluate,
                    math.inf,
                    bench.cap,
                    label + " ref",
                )
                refs[s.name] = e
        P_ref = min(
            [r.P for e in refs.values() for r in e.runs if r.status == "ok"],
            default=math.inf,
        )
        entries = {}
        for s in solvers:
            tols = s.ladder(amax)
            entries[s.name] = bench.ladder(
                s, tols, fn_of(s), evaluate, P_ref, bench.cap, label
            )
        cells.append(finish_cell(bench, problem.name, frac, entries, refs))
    return cells


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
        ok = [r for r in e.runs if r.status == "ok"]
        run = e.runs[0]
        ref_subopt[k] = (
            float(np.max(rel_subopt(ok[0].P, P_star)))
            if ok
            else "timeout"
            if run.status == "timeout"
            else f"error: {run.info}"
        )
    cell = Cell(name, frac, entries, P_star, ref_subopt)
    bench.log(
        f"{name:>16s} {frac:<6g} "
        + "  ".join(
            f"{k}={fmt_entry(e, bench.cap, tol=False)}" for k, e in entries.items()
        )
    )
    return cell


def bench_path(bench, problem, solvers):
    """One cell: the full path of ``problem`` (no intercept)."""
    X_of = {s.name: s.prepare(problem.X) for s in solvers}
    for s in solvers:
        s.warmup(X_of[s.name], problem.y, False)
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
    refs = {
        s.name: bench.ladder(
            s, [REFERENCE_TOL], fn_of(s), evaluate, math.inf, cap, label + " ref"
        )
        for s in solvers
        if s.name in REFERENCE_SOLVERS
    }
    ok = [r.P for e in refs.values() for r in e.runs if r.status == "ok"]
    P_ref = np.min(np.stack(ok), axis=0) if ok else math.inf
    entries = {
        s.name: bench.ladder(s, s.ladder(amax), fn_of(s), evaluate, P_ref, cap, label)
        for s in solvers
    }
    return finish_cell(bench, problem.name, bench.args.eps, entries, refs)


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
            t0 = time.perf_counter()
            m = cls(**kw).fit(problem.X, problem.y)
            return time.perf_counter() - t0, float(m.alpha_), np.asarray(m.alphas_)

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


def fmt_entry(e, cap, tol=True):
    if math.isfinite(e.time):
        return fmt_time(e.time) + (f" ({e.tol:.0e})" if tol else "")
    if e.note.startswith("error"):
        return "error"
    if math.isfinite(e.subopt):
        return f"n.r. {e.subopt:.0e}" + (f" {e.note}" if e.note else "")
    return f">{cap:g}" if e.note == ">cap" else "n.r."


def ratio_of(cell, fl="fastlasso"):
    """(fastlasso time / best peer time, best peer name); None where undefined."""
    peer = {
        k: e.time for k, e in cell.entries.items() if k != fl and math.isfinite(e.time)
    }
    if fl not in cell.entries or not peer:
        return None, None
    best = min(peer, key=peer.get)
    t = cell.entries[fl].time
    return (t / peer[best] if math.isfinite(t) else math.inf), best


def table(cells, names, cap, first_col):
    head = [first_col, "alpha/alpha_max", *names, "fastlasso/best peer"]
    rows = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for c in cells:
        r, best = ratio_of(c)
        rtxt = (
            "-"
            if r is None
            else ("fastlasso n.r." if math.isinf(r) else f"{r:.2f} ({best})")
        )
        ents = [fmt_entry(c.entries[n], cap) if n in c.entries else "-" for n in names]
        rows.append("| " + " | ".join([c.problem, f"{c.frac:g}", *ents, rtxt]) + " |")
    return "\n".join(rows)


def summary(cells, target):
    """Geometric mean of the ratios, the worst cell, the cells fastlasso loses."""
    rs = [(ratio_of(c)[0], c) for c in cells]
    finite = [(r, c) for r, c in rs if r is not None and math.isfinite(r)]
    lines = []
    if finite:
        gm = math.exp(sum(math.log(r) for r, _ in finite) / len(finite))
        worst = max(finite, key=lambda rc: rc[0])
        lines.append(
            f"geometric mean fastlasso/best peer over {len(finite)} cells: "
            f"{gm:.3f}; worst cell: {worst[0]:.2f} "
            f"({worst[1].problem}, {worst[1].frac:g})"
        )
    losses = [f"{c.problem} {c.frac:g} ({r:.2f})" for r, c in finite if r > 1]
    lines.append(
        "cells where fastlasso is slower than the best peer: "
        + (", ".join(losses) if losses else "none")
    )
    failed = [
        f"{c.problem} {c.frac:g}" for r, c in rs if r is not None and math.isinf(r)
    ]
    if failed:
        lines.append(
            f"cells where fastlasso does not reach {target:g}: " + ", ".join(failed)
        )
    none = [f"{c.problem} {c.frac:g}" for r, c in rs if r is None]
    if none:
        lines.append(
            "cells without a peer (or fastlasso) reaching the target: "
            + ", ".join(none)
        )
    refs = [(c, c.ref_subopt.get("fastlasso")) for c in cells]
    bad = [
        f"{c.problem} {c.frac:g}: {v if isinstance(v, str) else f'{v:.1e}'}"
        for c, v in refs
        if v is not None and v != "timeout" and not (isinstance(v, float) and v <= 1e-8)
    ]
    if bad:
        lines.append(
            f"fastlasso at tol {REFERENCE_TOL:g} worse than P* by > 1e-8 "
            "(relative), or failed: " + "; ".join(bad)
        )
    slow = [f"{c.problem} {c.frac:g}" for c, v in refs if v == "timeout"]
    if slow:
        lines.append(
            f"fastlasso reference fit (tol {REFERENCE_TOL:g}) over the cap: "
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
        ok = isinstance(fl, tuple) and isinstance(sk, tuple)
        cols = [fmt_time(v[0]) if isinstance(v, tuple) else str(v) for v in (fl, sk)]
        if ok:
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
            f"\ngeometric mean fastlasso/sklearn LassoCV: {gm:.3f}; worst: "
            f"{max(ratios):.3f}"
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
        here = Path(__file__).resolve().parent
        commit = subprocess.run(
            ["git", "describe", "--always", "--dirty"],
            check=False,
            cwd=here,
            capture_output=True,
            text=True,
        ).stdout.strip()
    except OSError:
        commit = "?"
    blas = ", ".join(
        sorted({f"{i['internal_api']} {i.get('version')}" for i in threadpool_info()})
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
            f"target: relative suboptimality <= {args.target:g}; cap {args.cap:g} s per "
            f"single fit, {args.path_cap:g} s per path/CV; best of {args.repeats} repeats "
            f"(while under {args.repeat_budget:g} s); sizes: "
            f"{'quick' if args.quick else 'full'}"
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
        "--sections",
        default="single,path,cv",
        help="comma-separated subset of single,path,cv",
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
        "--target", type=float, default=1e-6, help="relative suboptimality to reach"
    )
    p.add_argument("--cap", type=float, default=60.0, help="seconds per single fit")
    p.add_argument("--path-cap", type=float, default=120.0, help="seconds per path/CV")
    p.add_argument("--repeats", type=int, default=3, help="timing = best of this many")
    p.add_argument(
        "--repeat-budget",
        type=float,
        default=10.0,
        help="repeat a run only while its total time is below this",
    )
    p.add_argument("--n-alphas", type=int, default=100)
    p.add_argument("--eps", type=float, default=1e-3, help="alpha_min / alpha_max")
    p.add_argument("--cv-tol", type=float, default=1e-4, help="tol of both LassoCVs")
    p.add_argument("--threads", type=int, default=1, help="threads (default 1)")
    p.add_argument("--markdown", help="write the header and tables to this file")
    p.add_argument("-v", "--verbose", action="store_true", help="log every run")
    args = p.parse_args(argv)
    if args.quick:
        args.cap = min(args.cap, 2.0)
        args.path_cap = min(args.path_cap, 3.0)
        args.repeat_budget = min(args.repeat_budget, 0.2)
    return args


def main(argv=None):
    args = parse_args(argv)
    names = None if args.solvers is None else {"fastlasso", *args.solvers.split(",")}
    solvers = peers.make_solvers(
        names, n_jobs=args.threads if args.threads > 1 else None
    )
    sections = set(args.sections.split(","))
    select = args.problems.split(",") if args.problems else None
    makers = problems.problem_makers(
        "quick" if args.quick else "full", args.data, select
    )
    bench, t_start = Bench(args), time.monotonic()
    out = [header(args, solvers)]
    print(out[0], flush=True)
    if {"sklearn", "glmnet"} <= {s.name for s in solvers}:
        same, double = peers.check_glmnet_scaling()
        out.append(
            f"glmnet objective check: lambda = alpha gives relative objective "
            f"difference {same:.1e} vs sklearn; lambda = 2 alpha gives {double:.1e}"
        )
        print(out[-1], flush=True)
    n_printed = len(out)
    single, paths, cvs, described = [], [], [], []
    import fastlasso

    with threadpool_limits(limits=args.threads):
        for _, make in makers:
            probs = make()
            for prob in probs:
                described.append(prob.describe())
                bench.log(described[-1])
                if "single" in sections:
                    single += bench_single(bench, prob, solvers)
                if (
                    "cv" in sections
                    and hasattr(fastlasso, "LassoCV")
                    and prob.fit_intercept
                ):
                    cvs.append(bench_cv(bench, prob, fastlasso))
            if "path" in sections:
                path_probs = [p for p in probs if not p.fit_intercept] or [
                    problems.path_problem(p) for p in probs
                ]
                path_solvers = [s for s in solvers if s.has_path]
                for prob in path_probs:
                    paths.append(bench_path(bench, prob, path_solvers))
            del probs
    out.append("problems:\n" + "\n".join(f"- {d}" for d in described))
    if single:
        names = [s.name for s in solvers]
        out.append(
            f"## Single fits: seconds to relative suboptimality {args.target:g} "
            f"(tolerance used)\n\n"
            + table(single, names, args.cap, "problem")
            + "\n\n"
            + summary(single, args.target)
        )
    if "path" in sections:
        if not hasattr(fastlasso, "lasso_path"):
            out.append("## Paths: fastlasso.lasso_path does not exist yet; peers only.")
        names = [s.name for s in solvers if s.has_path]
        out.append(
            f"## Full paths ({args.n_alphas} alphas down to {args.eps:g} "
            f"alpha_max, no intercept): seconds until every point reaches "
            f"{args.target:g}\n\n"
            + table(paths, names, args.path_cap, "problem")
            + "\n\n"
            + summary(paths, args.target)
        )
    if "cv" in sections:
        if hasattr(fastlasso, "LassoCV"):
            out.append(
                f"## LassoCV(cv=5, n_jobs=1, tol={args.cv_tol:g}): seconds\n\n"
                + cv_table(cvs)
            )
        else:
            out.append("## LassoCV: fastlasso.LassoCV does not exist yet; skipped.")
    out.append(f"total benchmark time: {time.monotonic() - t_start:.0f} s")
    print("\n\n".join(out[n_printed:]))
    if args.markdown:
        Path(args.markdown).write_text("\n\n".join(out) + "\n")


if __name__ == "__main__":
    main()
