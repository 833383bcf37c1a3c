"""Interleaved A/B of the multi-task kernel's active sweeps: off (A) and on (B).

Same build, same process: fastlasso._multitask.solve_mt is wrapped to pass
active_sweeps=False / True. For each cell, A and B run alternately (A B, then B A, ...)
for at least --min-pairs pairs and more, up to --max-pairs, while both sides' CPU
seconds are under --budget; the table gives the CPU time (process_time: the machine is
shared) and wall time, min over the repeats, their ratio B/A, and the deterministic
counts of each side: epochs, block (row) updates and outer row gradients, summed over
the solves of the cell. Cells: the problems of compare_multitask.py (``meg``,
``wide20``, dense; ``--size quick|full``) and a CSC copy of wide20, each as single fits
at alpha_max/10 and /100 and as compare_multitask's path (20 alphas down to
alpha_max/100), at tol 1e-5 and no intercept (the data centred, as there).

    python benchmarks/mt_active_ab.py [CELL-SUBSTRING] [--size quick|full]
"""
import argparse
import os
import sys
import time
import warnings

for v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(v, "1")

import numpy as np  # noqa: E402
import scipy.sparse as sp  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import compare_multitask as cm  # noqa: E402

import fastlasso  # noqa: E402
import fastlasso._estimators_multitask  # noqa: E402, F401
import fastlasso._multitask as M  # noqa: E402

ORIG = M.solve_mt
STATE = {"active": True, "epochs": 0, "row_steps": 0, "row_grads": 0}


def wrapped(*a, **k):
    k["active_sweeps"] = STATE["active"]
    sol = ORIG(*a, **k)
    info = sol.info or {}
    STATE["epochs"] += sol.n_iter
    STATE["row_steps"] += info.get("row_steps", 0)
    STATE["row_grads"] += info.get("row_grads", 0)
    return sol


# every module that holds solve_mt by name (the path driver, the estimators)
for _mod in list(sys.modules.values()):
    if getattr(_mod, "__name__", "").startswith("fastlasso") and (
            getattr(_mod, "solve_mt", None) is ORIG):
        _mod.solve_mt = wrapped


def cells(size):
    out = []
    for name in ("meg", "wide20"):
        prob = cm.make_problem(name, size)
        X = prob.X - prob.X.mean(axis=0)
        Y = prob.Y - prob.Y.mean(axis=0)
        variants = [(name, np.asfortranarray(X))]
        if name == "wide20":
            variants.append((name + "-csc", sp.csc_matrix(prob.X)))
        amax = cm.alpha_max(X, Y)
        for label, Xv in variants:
            Yv = Y if label == name else prob.Y  # (CSC: uncentred, intercept fitted)
            for frac in (0.1, 0.01):
                out.append((f"{label} single a={frac:g}", Xv, Yv, "single",
                            frac * amax))
            out.append((f"{label} path20", Xv, Yv, "path",
                        amax * np.geomspace(1.0, 1e-2, 20)))
    return out


def run_single(X, Y, alpha):
    """One fit (with intercept for CSC, whose data are not centred)."""
    return fastlasso.MultiTaskLasso(alpha=alpha, tol=1e-5, max_iter=10**6,
                                    fit_intercept=sp.issparse(X)).fit(X, Y).coef_


def run_path(X, Y, alphas):
    """The warm-started path (with intercept for CSC, whose data are not centred)."""
    return fastlasso.lasso_path(X, Y, alphas=alphas, tol=1e-5, max_iter=10**6,
                                fit_intercept=sp.issparse(X))[1]


def measure(X, Y, what, alpha, active):
    STATE.update(active=active, epochs=0, row_steps=0, row_grads=0)
    c0, t0 = time.process_time(), time.perf_counter()
    if what == "path":
        run_path(X, Y, alpha)
    else:
        run_single(X, Y, alpha)
    return (time.process_time() - c0, time.perf_counter() - t0, STATE["epochs"],
            STATE["row_steps"], STATE["row_grads"])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("select", nargs="?", default="")
    ap.add_argument("--size", choices=("quick", "full"), default="quick")
    ap.add_argument("--min-pairs", type=int, default=3)
    ap.add_argument("--max-pairs", type=int, default=7)
    ap.add_argument("--budget", type=float, default=3.0)
    args = ap.parse_args()
    warnings.simplefilter("ignore")
    print(f"{'cell':32s} {'cpu A':>8s} {'cpu B':>8s} {'B/A':>6s} {'wall B/A':>8s} "
          f"{'ep A':>6s} {'ep B':>6s} {'upd A':>9s} {'upd B':>9s} {'grad A':>8s} "
          f"{'grad B':>8s}", flush=True)
    ratios = []
    for name, X, Y, what, alpha in cells(args.size):
        if args.select and args.select not in name:
            continue
        measure(X, Y, what, alpha, True)  # warm-up
        A, B = [], []
        spent = 0.0
        while len(A) < args.min_pairs or (spent < args.budget
                                          and len(A) < args.max_pairs):
            for active, acc in ((False, A), (True, B)) if len(A) % 2 == 0 else (
                    (True, B), (False, A)):
                m = measure(X, Y, what, alpha, active)
                acc.append(m)
                spent += m[0]
        ca, cb = min(a[0] for a in A), min(b[0] for b in B)
        wa, wb = min(a[1] for a in A), min(b[1] for b in B)
        ratios.append(cb / ca)
        print(f"{name:32s} {ca:8.3f} {cb:8.3f} {cb / ca:6.3f} {wb / wa:8.3f} "
              f"{A[0][2]:6d} {B[0][2]:6d} {A[0][3]:9d} {B[0][3]:9d} {A[0][4]:8d} "
              f"{B[0][4]:8d}", flush=True)
    if ratios:
        print(f"geomean B/A: {np.exp(np.mean(np.log(ratios))):.3f} "
              f"(min {min(ratios):.3f}, max {max(ratios):.3f}, {len(ratios)} cells)")


if __name__ == "__main__":
    main()
