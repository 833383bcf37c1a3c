"""Interleaved A/B timing of fastlasso fits with the support polish off (A) and on (B).

Same build, same process: fastlasso._solve.solve_cd is wrapped to pass polish=False /
True. Reports CPU time (process_time: the machine is shared) and wall time, min over
repeats (A and B alternate, in both orders), the ratio B/A per cell, the epochs and the
outer passes (gap checks over every feature) of each side, the polishes kept and the
multiply-adds B spent on Cholesky factors (``fw``, deterministic); then the geometric
mean of B/A per kind of fit. Cells: single fits at alpha_max/10, /100, /1000 (tol 1e-4
and 1e-8), a 100-alpha path and a 5-fold LassoCV, on the synthetic problems and the
real data sets of DIR, at the quick sizes or (``--size full``) the full ones.

    python benchmarks/polish_ab.py [DIR] [CELL-SUBSTRING] [--size quick|full]
        [--kinds single,path,cv] [--min-pairs 3] [--max-pairs 7] [--budget 3.0]

Each cell runs A and B alternately (A B, then B A, ...) for at least --min-pairs pairs,
and more, up to --max-pairs, while the two sides' CPU seconds are under --budget.
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
import fastlasso._cv  # noqa: E402, F401
import fastlasso._solve as S  # noqa: E402
import fastlasso._solve_path  # noqa: E402, F401

ORIG = S.solve_cd
STATE = {"polish": True, "epochs": 0, "outer": 0, "polish_n": 0, "calls": 0,
         "factor_work": 0.0}


def wrapped(*a, **k):
    k["polish"] = STATE["polish"]
    sol = ORIG(*a, **k)
    STATE["epochs"] += sol.n_iter
    STATE["outer"] += sol.info.get("outer", 0) if sol.info else 0
    STATE["polish_n"] += sol.info.get("polish", 0) if sol.info else 0
    STATE["factor_work"] += sol.info.get("factor_work", 0.0) if sol.info else 0.0
    STATE["calls"] += 1
    return sol


# every module that holds solve_cd by name (paths, CV and its refit, ...)
for _mod in list(sys.modules.values()):
    if getattr(_mod, "__name__", "").startswith("fastlasso") and (
            getattr(_mod, "solve_cd", None) is ORIG):
        _mod.solve_cd = wrapped


def cells(data_dir, size="quick"):
    probs = []
    for kind in ("wide", "tall", "text"):
        probs += problems.synthetic_problems(kind, size)
    for name in ("leukemia", "riboflavin", "debian_desc"):
        try:
            probs.append(problems.real_problem(data_dir, name, size))
        except FileNotFoundError:
            pass
    out = []
    for pr in probs:
        amax = problems.alpha_max(pr.X, pr.y, pr.fit_intercept)
        for frac in (0.1, 0.01, 0.001):
            for tol in (1e-4, 1e-8):
                out.append((f"{pr.name} single a={frac:g} tol={tol:g}", pr, "single",
                            amax * frac, tol))
        out.append((f"{pr.name} path100 tol=1e-4", pr, "path", None, 1e-4))
        out.append((f"{pr.name} LassoCV5 tol=1e-4", pr, "cv", None, 1e-4))
    return out


def run(pr, what, alpha, tol):
    if what == "single":
        return fastlasso.Lasso(alpha=alpha, tol=tol, fit_intercept=pr.fit_intercept,
                               max_iter=100_000).fit(pr.X, pr.y).coef_
    if what == "path":
        return fastlasso.lasso_path(pr.X, pr.y, alphas=100, tol=tol,
                                    fit_intercept=pr.fit_intercept)[1]
    return fastlasso.LassoCV(alphas=100, cv=5, tol=tol,
                             fit_intercept=pr.fit_intercept).fit(pr.X, pr.y).coef_


def measure(pr, what, alpha, tol, polish):
    STATE.update(polish=polish, epochs=0, outer=0, polish_n=0, calls=0,
                 factor_work=0.0)
    c0, t0 = time.process_time(), time.perf_counter()
    run(pr, what, alpha, tol)
    cpu, wall = time.process_time() - c0, time.perf_counter() - t0
    return (cpu, wall, STATE["epochs"], STATE["polish_n"], STATE["outer"],
            STATE["factor_work"])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("data_dir", nargs="?", default="../shared/data")
    ap.add_argument("select", nargs="?", default="")
    ap.add_argument("--size", choices=("quick", "full"), default="quick")
    ap.add_argument("--kinds", default="single,path,cv")
    ap.add_argument("--min-pairs", type=int, default=3)
    ap.add_argument("--max-pairs", type=int, default=7)
    ap.add_argument("--budget", type=float, default=3.0,
                    help="CPU seconds of both sides after which no pair is added")
    args = ap.parse_args()
    kinds = set(args.kinds.split(","))
    warnings.simplefilter("ignore")
    print(f"{'cell':48s} {'cpu A':>8s} {'cpu B':>8s} {'B/A':>6s} {'wall B/A':>8s} "
          f"{'ep A':>6s} {'ep B':>6s} {'out A':>6s} {'out B':>6s} {'pol':>4s} "
          f"{'fw B':>8s}", flush=True)
    ratios = {}
    for name, pr, what, alpha, tol in cells(args.data_dir, args.size):
        if (args.select and args.select not in name) or what not in kinds:
            continue
        run(pr, what, alpha, tol)  # warm-up (imports, page faults)
        A, B = [], []
        spent = 0.0
        while len(A) < args.min_pairs or (spent < args.budget
                                          and len(A) < args.max_pairs):
            for polish, acc in ((False, A), (True, B)) if len(A) % 2 == 0 else (
                    (True, B), (False, A)):
                m = measure(pr, what, alpha, tol, polish)
                acc.append(m)
                spent += m[0]
        ca, cb = min(a[0] for a in A), min(b[0] for b in B)
        wa, wb = min(a[1] for a in A), min(b[1] for b in B)
        r = cb / ca
        ratios.setdefault(what, []).append(r)
        print(f"{name:48s} {ca:8.4f} {cb:8.4f} {r:6.3f} {wb / wa:8.3f} "
              f"{A[0][2]:6d} {B[0][2]:6d} {A[0][4]:6d} {B[0][4]:6d} {B[0][3]:4d} "
              f"{B[0][5]:8.2g}", flush=True)
    for what, rs in ratios.items():
        print(f"geomean B/A {what}: {np.exp(np.mean(np.log(rs))):.3f} "
              f"(min {min(rs):.3f}, max {max(rs):.3f}, {len(rs)} cells)")


if __name__ == "__main__":
    main()
