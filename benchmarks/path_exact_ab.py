"""Interleaved A/B of ``lasso_path``'s warm start after an exact solve: the secant
start always (A) against the kernel's homotopy step when the last solve ended exact
(B, the default: _solve_path skips secant_start after a solve whose kernel reported
``homotopy_next``).

Same build, same process: for A, fastlasso._solve_path's solve_cd is wrapped to drop
the kernel's ``exact`` and ``homotopy_next`` from each solution (so every start from
the third alpha on is the secant); B wraps it the same way and keeps them. The path
problems are those of compare_peers.py's path section (no intercept: dense problems
centred, sparse ones with y centred; C-ordered variants of the dense ones), 100
alphas down to 1e-3 alpha_max. For each rung of a tolerance ladder (loosest first) A
and B run alternately (A B, then B A, ...), CPU time (process_time) of the path, min
over the pairs; the relative suboptimality of a run is its worst over the path
against P* (the lowest objective per alpha of every run and a reference path at
--ref-tol). The time to a target is that of the fastest rung whose run reaches it,
as in compare_peers; the ladder stops once both sides reached the tightest target.
Epochs and the solves started from a predicted exact point are deterministic counts.

    python benchmarks/path_exact_ab.py [DIR] [--select debian,text-noint,...]
        [--size quick|full] [--tols 1e-1,...,1e-8] [--targets 1e-3,1e-6] [--pairs 3]
        [--no-c]
"""
import argparse
import os
import sys
import time

for v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(v, "1")

import warnings  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import problems  # noqa: E402

import fastlasso  # noqa: E402
import fastlasso._solve_path as SP  # noqa: E402

ORIG = SP.solve_cd
HIDDEN = ("exact", "homotopy_next")  # what side A hides from the path driver
STATE = {"exact": True, "epochs": 0, "predicted": 0, "exact_n": 0}


def wrapped(*a, **k):
    sol = ORIG(*a, **k)
    info = sol.info or {}
    STATE["epochs"] += sol.n_iter
    STATE["predicted"] += int(info.get("predicted", 0))
    STATE["exact_n"] += bool(info.get("exact", False))
    if not STATE["exact"] and info:
        sol.info = {key: v for key, v in info.items() if key not in HIDDEN}
    return sol


SP.solve_cd = wrapped


def run_path(pr, alphas, tol):
    _, coefs, _ = fastlasso.lasso_path(pr.X, pr.y, alphas=alphas, tol=tol,
                                       max_iter=10**6)
    return coefs


def objectives(pr, alphas, coefs):
    return np.array([problems.objective(pr.X, pr.y, a, coefs[:, k], 0.0)
                     for k, a in enumerate(alphas)])


def measure(pr, alphas, tol, exact):
    STATE.update(exact=exact, epochs=0, predicted=0, exact_n=0)
    c0 = time.process_time()
    coefs = run_path(pr, alphas, tol)
    cpu = time.process_time() - c0
    return cpu, coefs, STATE["epochs"], STATE["predicted"], STATE["exact_n"]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("data_dir", nargs="?", default="../shared/data")
    ap.add_argument("--select", default="debian,text-noint,small_sq,small_wide,"
                    "riboflavin,leukemia")
    ap.add_argument("--size", choices=("quick", "full"), default="quick")
    ap.add_argument("--tols", default="1e-1,1e-2,1e-3,1e-4,1e-5,1e-6,1e-7,1e-8")
    ap.add_argument("--targets", default="1e-3,1e-6")
    ap.add_argument("--pairs", type=int, default=3)
    ap.add_argument("--ref-tol", type=float, default=1e-12)
    ap.add_argument("--no-c", action="store_true", help="no C-ordered variants")
    args = ap.parse_args()
    warnings.simplefilter("ignore")
    tols = [float(t) for t in args.tols.split(",")]
    targets = sorted((float(t) for t in args.targets.split(",")), reverse=True)
    select = [s for s in args.select.split(",") if s]
    summary = []
    for pr in problems.path_problems(args.data_dir, args.size, select, not args.no_c):
        amax = problems.alpha_max(pr.X, pr.y, False)
        alphas = amax * np.geomspace(1.0, 1e-3, 100)
        run_path(pr, alphas, tols[0])  # warm-up
        P_star = objectives(pr, alphas, run_path(pr, alphas, args.ref_tol))
        rungs = {False: [], True: []}  # tol, cpu, coefs, epochs, predicted, exact
        print(f"{pr.name} ({pr.X.shape[0]} x {pr.X.shape[1]})", flush=True)
        for tol in tols:
            runs = {False: [], True: []}
            for i in range(args.pairs):
                for side in (False, True) if i % 2 == 0 else (True, False):
                    runs[side].append(measure(pr, alphas, tol, side))
            done = True
            for side in (False, True):
                best = min(r[0] for r in runs[side])
                r0 = runs[side][0]
                P = objectives(pr, alphas, r0[1])
                P_star = np.minimum(P_star, P)
                rungs[side].append((tol, best, P, r0[2], r0[3], r0[4]))
            for side in (False, True):
                sub = max(np.max((r[2] - P_star) / P_star) for r in rungs[side]
                          if r[0] == tol)
                done = done and sub <= targets[-1]
            a, b = rungs[False][-1], rungs[True][-1]
            print(f"  tol {tol:.0e}: A {a[1] * 1e3:8.2f} ms  B {b[1] * 1e3:8.2f} ms  "
                  f"B/A {b[1] / a[1]:5.2f}  epochs {a[3]:6d} / {b[3]:6d}  "
                  f"predicted {a[4]:3d} / {b[4]:3d}  exact {a[5]:3d} / {b[5]:3d}",
                  flush=True)
            if done:
                break
        line = [pr.name]
        for t in targets:
            best = {}
            for side in (False, True):
                ok = [(r[1], r[0], float(np.max((r[2] - P_star) / P_star)))
                      for r in rungs[side]
                      if np.max((r[2] - P_star) / P_star) <= t]
                best[side] = min(ok) if ok else (float("nan"), float("nan"),
                                                  float("nan"))
            a, b = best[False], best[True]
            print(f"  to {t:g}: A {a[0] * 1e3:.2f} ms (tol {a[1]:.0e}, {a[2]:.1e})  "
                  f"B {b[0] * 1e3:.2f} ms (tol {b[1]:.0e}, {b[2]:.1e})  "
                  f"B/A {b[0] / a[0]:.3f}", flush=True)
            line.append(b[0] / a[0])
        summary.append(line)
    print("\n| path | " + " | ".join(f"B/A to {t:g}" for t in targets) + " |")
    print("|---|" + "---|" * len(targets))
    for line in summary:
        print(f"| {line[0]} | " + " | ".join(f"{r:.3f}" for r in line[1:]) + " |")
    for k, t in enumerate(targets):
        rs = np.array([line[k + 1] for line in summary])
        rs = rs[np.isfinite(rs)]
        if rs.size:
            print(f"geomean B/A to {t:g}: {np.exp(np.mean(np.log(rs))):.3f} "
                  f"(min {rs.min():.3f}, max {rs.max():.3f}, {rs.size} paths)")


if __name__ == "__main__":
    main()
