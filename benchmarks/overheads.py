"""Issue-20 baselines beyond the peer tables: C-ordered input, per-fit overhead, passes.

    python benchmarks/overheads.py corder   [--n 400000 --p 100 --rounds 2]
    python benchmarks/overheads.py smallfit [--n 100 --p 10 --fits 3000]
    python benchmarks/overheads.py passes   [--size full --alpha 0.1 --clock cpu]

Single-threaded (BLAS and fastlasso on one thread); every comparison is interleaved
(A, B, A, B, ...) within one run, so that load from other jobs hits both alike.

- ``corder``: a fastlasso ``Lasso`` fit (alpha_max/100), a ``lasso_path`` (100
  alphas down to 1e-3 alpha_max) and a ``LassoCV(cv=5)`` on the same n x p data in
  Fortran and in C order, each in a fresh process: time, and peak extra memory as a
  fraction of size(X) (peak RSS above the resident size before the call, after
  resetting the peak counter; and tracemalloc's peak, which sees numpy's
  allocations only).
- ``smallfit``: the fixed cost of a fit on tiny data: fastlasso's ``Lasso`` against
  scikit-learn's ``Lasso`` (alpha_max/10, default tol), interleaved in blocks, median
  time per fit, for C- and Fortran-ordered X; then fastlasso's time split by timing
  wrappers around its stages (medians over the fits, each stage on its own): input
  validation (``validate_fit_data``), column statistics and centring
  (``make_design_for_target``), the solve outside the kernel (Gram choice,
  allocations, certificate: ``solve`` minus the kernel), the kernel
  (``_cd.enet_cd_*``), and the rest of ``fit`` (parameter validation, attributes).
- ``passes``: for a fit at alpha_max/10 on the wide, tall and text problems
  (benchmarks/problems.py), the kernel's own counters (outer iterations = sweeps of
  X^T r over the features still alive, epochs over working sets, largest working
  set), its pass-equivalents (the entries of X, or of its Gram matrix, that the
  kernel read, ``work`` in its info dict, over nnz(X): exact and load-free; the
  column statistics before the kernel add one pass), and the time of the fit in
  units of the time of one X^T r over all of X (interleaved), which also counts the
  Python around the kernel.
"""

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse
import json
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

sys.path.insert(0, str(Path(__file__).resolve().parent))
from peak_memory import PeakMemory  # noqa: E402


# ----------------------------------------------------------------------- C order
def _corder_child(task, order, n, p, clock="wall"):
    import fastlasso

    rng = np.random.default_rng(0)
    X = np.empty((n, p), order=order)
    for j in range(p):
        X[:, j] = rng.standard_normal(n)
    y = X[:, :10] @ rng.standard_normal(10) + rng.standard_normal(n)
    amax = np.abs(X.T @ (y - y.mean())).max() / n
    calls = {
        "fit": lambda: fastlasso.Lasso(alpha=amax / 100).fit(X, y),
        "path": lambda: fastlasso.lasso_path(X, y - y.mean()),
        "cv": lambda: fastlasso.LassoCV(cv=5, n_jobs=1).fit(X, y),
    }
    timer = time.process_time if clock == "cpu" else time.perf_counter
    with PeakMemory() as mem:
        t0 = timer()
        calls[task]()
        seconds = timer() - t0
    return {"seconds": seconds, "rss": mem.rss / X.nbytes,
            "traced": mem.traced / X.nbytes}


def corder(args):
    print(f"n x p = {args.n:,} x {args.p} float64 ({args.n * args.p * 8 / 1e6:.0f} MB)"
          + ("; CPU time of each child" if args.clock == "cpu" else ""))
    print("| call | order | time (s), each round | extra peak RSS / size(X) "
          "| traced peak / size(X) |")
    print("|---|---|---|---|---|")
    for task in ("fit", "path", "cv"):
        res = {"F": [], "C": []}
        for _ in range(args.rounds):
            for order in ("F", "C"):
                out = subprocess.run(
                    [sys.executable, __file__, "_corder", task, order, str(args.n),
                     str(args.p), args.clock], capture_output=True, text=True,
                    check=True)
                res[order].append(json.loads(out.stdout.strip().splitlines()[-1]))
        for order in ("F", "C"):
            rs = res[order]
            times = ", ".join(f"{r['seconds']:.3f}" for r in rs)
            print(f"| {task} | {order} | {times} "
                  f"| {max(r['rss'] for r in rs):.3f} "
                  f"| {max(r['traced'] for r in rs):.3f} |")
        best_c = min(r["seconds"] for r in res["C"])
        ratio = best_c / min(r["seconds"] for r in res["F"])
        print(f"| {task} | C / F (best times) | {ratio:.2f} | | |", flush=True)


# ----------------------------------------------------------------------- small fit
def _median_fit_time(make, X, y, fits):
    times = np.empty(fits)
    for i in range(fits):
        t0 = time.perf_counter()
        make().fit(X, y)
        times[i] = time.perf_counter() - t0
    return times


def smallfit(args):
    from sklearn.linear_model import Lasso as SkLasso

    import fastlasso
    from fastlasso import _cd, _estimators, _solve

    rng = np.random.default_rng(0)
    XF = np.asfortranarray(rng.standard_normal((args.n, args.p)))
    y = XF[:, :3] @ np.array([1.0, -2.0, 0.5]) + rng.standard_normal(args.n)
    alpha = np.abs(XF.T @ (y - y.mean())).max() / args.n / 10
    print(f"{args.n} x {args.p} float64, alpha = alpha_max/10, default tol; median of "
          f"{args.fits} fits per solver and order, interleaved in blocks of 100")
    print("| X order | fastlasso Lasso (us) | scikit-learn Lasso (us) | ratio |")
    print("|---|---|---|---|")
    for order, X in (("C", np.ascontiguousarray(XF)), ("F", XF)):
        fl, sk = [], []
        for _ in range(args.fits // 100):
            fl.append(_median_fit_time(lambda: fastlasso.Lasso(alpha=alpha), X, y, 100))
            sk.append(_median_fit_time(lambda: SkLasso(alpha=alpha), X, y, 100))
        a, b = np.median(np.concatenate(fl)), np.median(np.concatenate(sk))
        print(f"| {order} | {a * 1e6:.0f} | {b * 1e6:.0f} | {a / b:.2f} |", flush=True)

    # stage breakdown: timing wrappers around fastlasso's stages
    acc = {}

    def timed(name, fn):
        def wrapper(*a, **k):
            t0 = time.perf_counter()
            try:
                return fn(*a, **k)
            finally:
                acc[name] = acc.get(name, 0.0) + time.perf_counter() - t0
        return wrapper

    patches = [(_estimators, "validate_fit_data", "validation"),
               (_estimators, "make_design_for_target", "column statistics"),
               (_estimators, "solve", "solve")]
    patches += [(_cd, k, "kernel") for k in dir(_cd) if k.startswith("enet_cd_")]
    saved = [(mod, name, getattr(mod, name)) for mod, name, _ in patches]
    try:
        for mod, name, label in patches:
            setattr(mod, name, timed(label, getattr(mod, name)))
        for order, X in (("C", np.ascontiguousarray(XF)), ("F", XF)):
            rows = []
            for _ in range(args.fits):
                acc.clear()
                t0 = time.perf_counter()
                fastlasso.Lasso(alpha=alpha).fit(X, y)
                total = time.perf_counter() - t0
                parts = {
                    "input validation": acc["validation"],
                    "column statistics + centring": acc["column statistics"],
                    "solve outside the kernel": acc["solve"] - acc["kernel"],
                    "kernel": acc["kernel"],
                }
                parts["rest of fit (parameters, attributes)"] = total - sum(
                    parts.values())
                parts["total"] = total
                rows.append(parts)
            med = {k: np.median([r[k] for r in rows]) for k in rows[0]}
            print(f"\nfastlasso stages, X in {order} order (median us per fit over "
                  f"{args.fits} fits, each stage's median; the timing wrappers add "
                  "~0.3 us each):")
            print("| stage | us | share of the median total |\n|---|---|---|")
            for k, v in med.items():
                print(f"| {k} | {v * 1e6:.1f} | {v / med['total']:.0%} |")
            sys.stdout.flush()
    finally:
        for mod, name, fn in saved:
            setattr(mod, name, fn)
    del _solve


# ----------------------------------------------------------------------- passes
def passes(args):
    import problems
    import scipy.sparse as sp

    import fastlasso
    from fastlasso import _cd

    calls = []
    orig = {k: getattr(_cd, k) for k in dir(_cd) if k.startswith("enet_cd_")}

    def capture(fn):
        def wrapper(*a, **k):
            out = fn(*a, **k)
            calls.append(out)
            return out
        return wrapper

    print("| problem | n x p (nnz) | outer (X^T r sweeps) | epochs | largest working "
          "set | screened | kernel pass-equivalents (entries read / nnz) "
          "| fit / one X^T r (time) |")
    print("|---|---|---|---|---|---|---|---|")
    for kind in args.problems:
        X, y = problems.synthetic(kind, args.size)
        if args.order == "C" and not sp.issparse(X):
            X = np.ascontiguousarray(X)
        amax = problems.alpha_max(X, y, True)
        r = y - y.mean()
        fit_t, pass_t = [], []
        timer = time.process_time if args.clock == "cpu" else time.perf_counter
        for k, f in orig.items():
            setattr(_cd, k, capture(f))
        try:
            for _ in range(args.rounds):
                calls.clear()
                t0 = timer()
                m = fastlasso.Lasso(alpha=amax * args.alpha).fit(X, y)
                fit_t.append(timer() - t0)
                reps, t0 = 0, timer()
                while reps < 1 or timer() - t0 < 0.05:  # (one X^T r: ~1 ms on wide)
                    X.T @ r
                    reps += 1
                pass_t.append((timer() - t0) / reps)
        finally:
            for k, f in orig.items():
                setattr(_cd, k, f)
        nnz = X.nnz if sp.issparse(X) else X.size
        info = {key: sum(c[key] for c in calls)
                for key in ("outer", "epochs", "n_screened", "work")}
        info["max_ws"] = max(c["max_ws"] for c in calls)
        print(f"| {kind} | {X.shape[0]:,} x {X.shape[1]:,} ({nnz:.3g}) "
              f"| {info['outer']} | {info['epochs']} | {info['max_ws']} "
              f"| {info['n_screened']} | {info['work'] / nnz:.2f} "
              f"| {min(fit_t) / min(pass_t):.1f} "
              f"({min(fit_t) * 1e3:.1f} ms / {min(pass_t) * 1e3:.2f} ms) |", flush=True)
        del m


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "_corder":
        task, order, n, p = sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
        clock = sys.argv[6] if len(sys.argv) > 6 else "wall"
        with threadpool_limits(1):
            print(json.dumps(_corder_child(task, order, n, p, clock)))
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="what", required=True)
    c = sub.add_parser("corder")
    c.add_argument("--n", type=int, default=400_000)
    c.add_argument("--p", type=int, default=100)
    c.add_argument("--rounds", type=int, default=2)
    c.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                   help="cpu: CPU time of the child (for a loaded machine)")
    s = sub.add_parser("smallfit")
    s.add_argument("--n", type=int, default=100)
    s.add_argument("--p", type=int, default=10)
    s.add_argument("--fits", type=int, default=3000)
    q = sub.add_parser("passes")
    q.add_argument("--size", default="full", choices=("quick", "full"))
    q.add_argument("--rounds", type=int, default=3)
    q.add_argument("--problems", nargs="+", default=["wide", "tall", "text"],
                   choices=("wide", "tall", "text"))
    q.add_argument("--alpha", type=float, default=0.1, help="alpha / alpha_max")
    q.add_argument("--order", choices=("F", "C"), default="F",
                   help="dense X in Fortran (default) or C order")
    q.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                   help="cpu: CPU time of this process (for a loaded machine)")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    with threadpool_limits(1):
        {"corder": corder, "smallfit": smallfit, "passes": passes}[args.what](args)


if __name__ == "__main__":
    main()
