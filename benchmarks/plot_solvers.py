"""Suboptimality against time for every fastlasso solver, the way benchmark papers
show it.

    python benchmarks/plot_solvers.py [--out benchmarks/solvers_convergence.png]

Three problems of benchmarks/bench_solvers.py (quick sizes, alpha = alpha_max / 20,
with intercept): a correlated wide design, a tall design and the tf-idf problem of
``compare_peers --quick``. P* is the best objective of coordinate descent at
tol = 1e-14 and of every run below; the y axis is (P(w) - P*) / P* on a log scale.

- cd: one fit per tolerance 1e-1 ... 1e-13 (its duality-gap rule), timed as the best
  of 3; a marker per fit at its time, at the best suboptimality reached by a fit that
  fast (the time to reach each level);
- fista, ista, subgradient (Polyak step, the default; decaying and constant steps
  dashed): one fit with ``record_history=True`` and tol = 0; iteration k is placed at
  k / K of that fit's time (K iterations in all: every iteration costs one pass over
  X, so the time per iteration is nearly constant). The subgradient curves show the
  best objective so far (the iterate the method returns).

Single-threaded. Times on a loaded machine carry noise; the shapes do not.
"""

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from threadpoolctl import threadpool_limits

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_solvers
import problems

import fastlasso

FIRST_ORDER = {  # label: (Lasso parameters, iterations, line style)
    "fista": ({"solver": "fista"}, 3000, "-"),
    "ista": ({"solver": "ista"}, 10_000, "-"),
    "subgradient (Polyak)": ({"solver": "subgradient"}, 20_000, "-"),
    "subgradient (decaying)": (
        {"solver": "subgradient", "step_schedule": "decaying"}, 20_000, "--"),
    "subgradient (constant)": (
        {"solver": "subgradient", "step_schedule": "constant"}, 20_000, ":"),
}
COLOURS = {"cd": "C0", "fista": "C1", "ista": "C2", "subgradient (Polyak)": "C3",
           "subgradient (decaying)": "C3", "subgradient (constant)": "C3"}
CD_TOLS = [10.0**-k for k in range(1, 14)]


def objective(X, y, alpha, est):
    r = y - X @ est.coef_ - est.intercept_
    return r @ r / (2 * len(y)) + alpha * np.abs(est.coef_).sum()


def curves(X, y, alpha):
    """{label: (times, objectives)} and P*."""
    out = {}
    cd_t, cd_P = [], []
    for tol in CD_TOLS:
        best = np.inf
        for _ in range(3):
            t0 = time.perf_counter()
            est = fastlasso.Lasso(alpha=alpha, tol=tol, max_iter=10**6).fit(X, y)
            best = min(best, time.perf_counter() - t0)
        cd_t.append(best)
        cd_P.append(objective(X, y, alpha, est))
    # the fastest fit reaching each level: fits by time, running minimum of P (on a
    # loaded machine a tighter tolerance can be timed faster than a looser one)
    order = np.argsort(cd_t)
    out["cd"] = (np.array(cd_t)[order], np.minimum.accumulate(np.array(cd_P)[order]))
    for label, (params, iters, _) in FIRST_ORDER.items():
        t0 = time.perf_counter()
        est = fastlasso.Lasso(alpha=alpha, tol=0.0, max_iter=iters, record_history=True,
                              **params).fit(X, y)
        total = time.perf_counter() - t0
        h = est.objective_history_
        if params["solver"] == "subgradient":
            h = h[:-1]  # the last row repeats the returned (best) iterate
        k, P = h[:, 0], h[:, 1]
        if params["solver"] == "subgradient":
            P = np.minimum.accumulate(P)
        out[label] = (np.maximum(k, 1) / max(k[-1], 1) * total, P)
    ref = fastlasso.Lasso(alpha=alpha, tol=1e-14, max_iter=10**6).fit(X, y)
    P_star = min([objective(X, y, alpha, ref)] + [c[1].min() for c in out.values()])
    return out, P_star


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(Path(__file__).resolve().parent
                                             / "solvers_convergence.png"))
    args = parser.parse_args()
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    probs = {name: (X, y) for name, X, y in bench_solvers.synthetic_problems("quick")}
    chosen = [
        ("wide dense 100 x 1,000, AR(1) rho 0.6", probs["wide dense, rho=0.6"]),
        ("tall dense 5,000 x 100, AR(1) rho 0.5", probs["tall dense, rho=0.5"]),
        ("tf-idf sparse 2,000 x 2,964", problems.synthetic("text", "quick")),
    ]
    warnings.simplefilter("ignore", ConvergenceWarning)
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.6))
    with threadpool_limits(1):
        for ax, (title, (X, y)) in zip(axes, chosen, strict=False):
            alpha = np.abs(X.T @ (y - y.mean())).max() / len(y) / 20
            out, P_star = curves(X, y, alpha)
            for label, (t, P) in out.items():
                sub = np.maximum((P - P_star) / P_star, 1e-13)
                style = "-" if label == "cd" else FIRST_ORDER[label][2]
                ax.loglog(t, sub, style, color=COLOURS[label], label=label,
                          marker="o" if label == "cd" else None, markersize=3)
            ax.set_title(title, fontsize=10)
            ax.set_xlabel("time (s), one thread")
            ax.set_ylim(5e-14, 10)
            ax.grid(True, which="major", alpha=0.3)
            print(f"{title}: done", flush=True)
    axes[0].set_ylabel("relative suboptimality (P - P*) / P*")
    axes[0].legend(fontsize=8, loc="lower left")
    fig.suptitle("fastlasso's solvers at alpha = alpha_max / 20 "
                 "(benchmarks/plot_solvers.py)", fontsize=11)
    fig.tight_layout()
    fig.savefig(args.out, dpi=110)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
