"""Where a ``lasso_path`` spends its time and work, per rung of tol: the counts.

For each path problem of compare_peers.py's path section (no intercept, 100 alphas
down to 1e-3 alpha_max; C-ordered variants of the dense ones with --c) and each tol:
CPU time of the path and of its kernel calls (the rest is the Python around them:
solve_cd, the path driver), and summed over the path the kernel's deterministic
counts: epochs, outer passes, pass-equivalents (``work`` / nnz(X): entries of X or G
read), solves started from a predicted point, polishes, solves that ended exact;
then the relative suboptimality per point against P* (a reference path at
--ref-tol): the worst, how many points miss --target, and the worst points with
their duality gap in units of P* (the gap bounds P - P*, so gap / P* > target
there unless the point is better than its certificate says).

    python benchmarks/path_counts.py [DIR] [--select small_wide,text-noint]
        [--tols 1e-2,1e-3,1e-4] [--target 1e-3] [--c] [--per-alpha] [--drop-exact]

--drop-exact hides the kernel's ``exact``/``homotopy_next`` from the path driver, which
then starts every solve from the third on from the secant (as before the homotopy
step was used in lasso_path).
"""
import argparse
import os
import sys
import time

for v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(v, "1")

import warnings  # noqa: E402

import numpy as np  # noqa: E402
import scipy.sparse as sp  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import problems  # noqa: E402

import fastlasso  # noqa: E402
import fastlasso._solve_path as SP  # noqa: E402
from fastlasso import _cd  # noqa: E402

ORIG_SOLVE = SP.solve_cd
HIDDEN = ("exact", "homotopy_next")  # what --drop-exact hides
KERNELS = {k: getattr(_cd, k) for k in dir(_cd) if k.startswith("enet_cd_")}
REC = {"kernel": 0.0, "infos": [], "gaps": [], "drop_exact": False}


def _timed_kernel(fn):
    def wrapper(*a, **k):
        t0 = time.process_time()
        out = fn(*a, **k)
        REC["kernel"] += time.process_time() - t0
        return out
    return wrapper


def _recording_solve(*a, **k):
    sol = ORIG_SOLVE(*a, **k)
    REC["infos"].append(dict(sol.info or {}))
    REC["gaps"].append(sol.gap)
    if REC["drop_exact"] and sol.info:  # the path driver then never sees ``exact``
        sol.info = {key: v for key, v in sol.info.items() if key not in HIDDEN}
    return sol


def run(pr, alphas, tol):
    REC.update(kernel=0.0, infos=[], gaps=[])  # (drop_exact stays)
    t0 = time.process_time()
    _, coefs, _ = fastlasso.lasso_path(pr.X, pr.y, alphas=alphas, tol=tol,
                                       max_iter=10**6)
    return time.process_time() - t0, coefs


def objectives(pr, alphas, coefs):
    return np.array([problems.objective(pr.X, pr.y, a, coefs[:, k], 0.0)
                     for k, a in enumerate(alphas)])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("data_dir", nargs="?", default="../shared/data")
    ap.add_argument("--select", default="small_wide,text-noint,riboflavin,debian")
    ap.add_argument("--size", choices=("quick", "full"), default="quick")
    ap.add_argument("--tols", default="1e-2,1e-3,1e-4")
    ap.add_argument("--target", type=float, default=1e-3)
    ap.add_argument("--ref-tol", type=float, default=1e-12)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--c", action="store_true", help="C-ordered variants too")
    ap.add_argument("--per-alpha", action="store_true")
    ap.add_argument("--rel", type=float, default=0.0)
    ap.add_argument("--drop-exact", action="store_true",
                    help="hide the kernel's ``exact`` from the path driver")
    args = ap.parse_args()
    warnings.simplefilter("ignore")
    SP.solve_cd = _recording_solve
    REC["drop_exact"] = args.drop_exact
    SP.REL_TARGET = args.rel
    for k, f in KERNELS.items():
        setattr(_cd, k, _timed_kernel(f))
    select = [s for s in args.select.split(",") if s]
    for pr in problems.path_problems(args.data_dir, args.size, select, args.c):
        nnz = pr.X.nnz if sp.issparse(pr.X) else pr.X.size
        amax = problems.alpha_max(pr.X, pr.y, False)
        alphas = amax * np.geomspace(1.0, 1e-3, 100)
        P_star = objectives(pr, alphas, run(pr, alphas, args.ref_tol)[1])
        print(f"{pr.name} ({pr.X.shape[0]} x {pr.X.shape[1]}, nnz {nnz}), "
              f"||y||^2/n {pr.y @ pr.y / len(pr.y):.3g}, P* last {P_star[-1]:.3g}",
              flush=True)
        for tol in (float(t) for t in args.tols.split(",")):
            best = None
            for _ in range(args.repeats):
                cpu, coefs = run(pr, alphas, tol)
                if best is None or cpu < best[0]:
                    best = (cpu, REC["kernel"], coefs)
            cpu, kern, coefs = best
            infos, gaps = REC["infos"], np.array(REC["gaps"])
            P = objectives(pr, alphas, coefs)
            P_star = np.minimum(P_star, P)
            sub = (P - P_star) / P_star

            def tot(key, infos=infos):
                return sum(float(i.get(key, 0)) for i in infos)
            miss = np.flatnonzero(sub > args.target)
            print(f"  tol {tol:.0e}: cpu {cpu * 1e3:7.2f} ms (kernel "
                  f"{kern * 1e3:7.2f}, python {(cpu - kern) * 1e3:6.2f}), epochs "
                  f"{tot('epochs'):.0f}, outer {tot('outer'):.0f}, passes "
                  f"{tot('work') / nnz:.1f}, predicted {tot('predicted'):.0f}, polish "
                  f"{tot('polish'):.0f}, exact {tot('exact'):.0f}, factor "
                  f"{tot('factor_work'):.3g}, newton {tot('newton'):.0f}, worst subopt "
                  f"{sub.max():.1e} at {int(sub.argmax())}, {miss.size} points > "
                  f"{args.target:g}", flush=True)
            if miss.size:
                worst = miss[np.argsort(-sub[miss])][:8]
                print("    worst: " + ", ".join(
                    f"{i}: sub {sub[i]:.1e} gap/P* {gaps[i] / P_star[i]:.1e} "
                    f"ep {infos[i].get('epochs')} pol {infos[i].get('polish')} "
                    f"pred {infos[i].get('predicted')}" for i in worst), flush=True)
            if args.per_alpha:
                for i, inf in enumerate(infos):
                    nz = np.count_nonzero(coefs[:, i])
                    rel_gap = gaps[i] / P_star[i]
                    print(f"    {i:3d} sub {sub[i]:.1e} gap/P* {rel_gap:.1e}"
                          f" ep {inf.get('epochs'):4d} outer {inf.get('outer'):3d} "
                          f"passes {inf.get('work', 0) / nnz:5.2f} ws "
                          f"{inf.get('max_ws'):4d} nnz {nz:4d}"
                          f" pol {inf.get('polish')} pred {inf.get('predicted')} "
                          f"exact {int(inf.get('exact', 0))}")


if __name__ == "__main__":
    main()
