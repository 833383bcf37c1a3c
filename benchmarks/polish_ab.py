"""Interleaved A/B timing of fastlasso fits with the support polish off (A) and on (B).

Same build, same process: fastlasso._solve.solve_cd is wrapped to pass polish=False /
True. Reports CPU time (process_time: the machine is shared) and wall time, min over
repeats (A and B alternate, in both orders), the ratio B/A per cell, the epochs and the
outer passes (gap checks over every feature) of each side and the polishes kept; then
the geometric mean of B/A per kind of fit. Cells:
single fits at alpha_max/10, /100, /1000 (tol 1e-4 and 1e-8), a 100-alpha path and a
5-fold LassoCV, on the quick synthetic problems and the real data sets of DIR.

    python benchmarks/polish_ab.py [DIR] [CELL-SUBSTRING]
"""
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
STATE = {"polish": True, "epochs": 0, "outer": 0, "polish_n": 0, "calls": 0}


def wrapped(*a, **k):
    k["polish"] = STATE["polish"]
    sol = ORIG(*a, **k)
    STATE["epochs"] += sol.n_iter
    STATE["outer"] += sol.info.get("outer", 0) if sol.info else 0
    STATE["polish_n"] += sol.info.get("polish", 0) if sol.info else 0
    STATE["calls"] += 1
    return sol


# every module that holds solve_cd by name (paths, CV and its refit, ...)
for _mod in list(sys.modules.values()):
    if getattr(_mod, "__name__", "").startswith("fastlasso") and (
            getattr(_mod, "solve_cd", None) is ORIG):
        _mod.solve_cd = wrapped


def cells(data_dir):
    probs = []
    for kind in ("wide", "tall", "text"):
        probs += problems.synthetic_problems(kind, "quick")
    for name in ("leukemia", "riboflavin", "debian_desc"):
        try:
            probs.append(problems.real_problem(data_dir, name, "quick"))
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
    STATE.update(polish=polish, epochs=0, outer=0, polish_n=0, calls=0)
    c0, t0 = time.process_time(), time.perf_counter()
    run(pr, what, alpha, tol)
    cpu, wall = time.process_time() - c0, time.perf_counter() - t0
    return cpu, wall, STATE["epochs"], STATE["polish_n"], STATE["outer"]


def main():
    data_dir = sys.argv[1] if len(sys.argv) > 1 else "../shared/data"
    select = sys.argv[2] if len(sys.argv) > 2 else ""
    warnings.simplefilter("ignore")
    print(f"{'cell':48s} {'cpu A':>8s} {'cpu B':>8s} {'B/A':>6s} {'wall B/A':>8s} "
          f"{'ep A':>6s} {'ep B':>6s} {'out A':>6s} {'out B':>6s} {'pol':>4s}")
    ratios = {}
    for name, pr, what, alpha, tol in cells(data_dir):
        if select and select not in name:
            continue
        run(pr, what, alpha, tol)  # warm-up (imports, page faults)
        # repeats until ~1.5 s of CPU per side or 7 pairs, at least 3 pairs
        A, B = [], []
        spent = 0.0
        while len(A) < 3 or (spent < 3.0 and len(A) < 7):
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
              f"{A[0][2]:6d} {B[0][2]:6d} {A[0][4]:6d} {B[0][4]:6d} {B[0][3]:4d}",
              flush=True)
    for what, rs in ratios.items():
        print(f"geomean B/A {what}: {np.exp(np.mean(np.log(rs))):.3f} "
              f"(min {min(rs):.3f}, max {max(rs):.3f}, {len(rs)} cells)")


if __name__ == "__main__":
    main()
