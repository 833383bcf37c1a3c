"""Suboptimality against time for every fastlasso solver and every installed peer,
the way benchmark papers show it.

    python benchmarks/plot_solvers.py [--out benchmarks/solvers_convergence.png]
                                      [--peers sklearn,celer,... | --peers none]

Three problems of benchmarks/bench_solvers.py (quick sizes, alpha = alpha_max / 20,
with intercept): a correlated wide design, a tall design and the tf-idf problem of
``compare_peers --quick``. P* is the best objective of coordinate descent at
tol = 1e-14 and of every run below; the y axis is (P(w) - P*) / P* on a log scale.

- cd: one fit per tolerance 1e-1 ... 1e-13 (its duality-gap rule), timed as the best
  of 3; a marker per fit at its time, at the best suboptimality reached by a fit that
  fast (the time to reach each level);
- the peers (scikit-learn, celer, skglm, glmnet, adelie, glum, scikit-learn-intelex,
  those installed: ``pip install ".[bench]"``): the same, along each one's own
  tolerance ladder of ``compare_peers.py`` (``fastlasso._bench_peers``), a warm-up
  fit first (skglm's JIT); a ladder stops at the first rung slower than
  ``--peer-budget`` seconds. Thin lines with hollow markers, so that fastlasso's
  solvers (thick lines) stay readable;
- fista, ista, subgradient (Polyak's step in a diagonal metric, the default; the
  Euclidean Polyak, decaying and constant steps dashed): one fit with
  ``record_history=True`` and tol = 0; iteration k is placed at k / K of that fit's
  time (K iterations in all: every iteration costs one pass over X, so the time per
  iteration is nearly constant). The subgradient curves show the
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
from fastlasso import _bench_peers

FIRST_ORDER = {  # label: (Lasso parameters, iterations, line style)
    "fista": ({"solver": "fista"}, 3000, "-"),
    "ista": ({"solver": "ista"}, 10_000, "-"),
    "subgradient (Polyak, diagonal)": ({"solver": "subgradient"}, 20_000, "-"),
    "subgradient (Polyak)": (
        {"solver": "subgradient", "step_schedule": "polyak"}, 20_000, "-."),
    "subgradient (decaying)": (
        {"solver": "subgradient", "step_schedule": "decaying"}, 20_000, "--"),
    "subgradient (constant)": (
        {"solver": "subgradient", "step_schedule": "constant"}, 20_000, ":"),
}
COLOURS = {"cd": "C0", "fista": "C1", "ista": "C2",
           "subgradient (Polyak, diagonal)": "C3", "subgradient (Polyak)": "C3",
           "subgradient (decaying)": "C3", "subgradient (constant)": "C3"}
CD_TOLS = [10.0**-k for k in range(1, 14)]
PEER_STYLES = {  # (colour, marker) per peer: thin lines, hollow markers
    "sklearn": ("C4", "s"), "celer": ("C5", "^"), "skglm": ("C6", "v"),
    "glmnet": ("C7", "D"), "adelie": ("C8", "P"), "glum": ("C9", "X"),
    "sklearnex": ("k", "*")}


def objective(X, y, alpha, est):
    r = y - X @ est.coef_ - est.intercept_
    return r @ r / (2 * len(y)) + alpha * np.abs(est.coef_).sum()


def ladder_curve(fit_at, tols, budget=np.inf, repeats=3):
    """(times, objectives) of one fit per tolerance, loosest first, each timed as the
    best of ``repeats``; stops after the first rung slower than ``budget`` seconds.
    ``fit_at(tol)`` returns the objective of its fit.

    The curve gives the fastest fit reaching each level: the fits sorted by time and
    the running minimum of P (on a loaded machine a tighter tolerance can be timed
    faster than a looser one)."""
    times, objs = [], []
    for tol in tols:
        best = np.inf
        for _ in range(repeats):
            t0 = time.perf_counter()
            P = fit_at(tol)
            best = min(best, time.perf_counter() - t0)
        times.append(best)
        objs.append(P)
        if best > budget:
            break
    order = np.argsort(times)
    return np.array(times)[order], np.minimum.accumulate(np.array(objs)[order])


def peer_curves(X, y, alpha, names, budget):
    """{peer name: (times, objectives)} along each peer's tolerance ladder."""
    out = {}
    for solver in _bench_peers.make_solvers(names):
        if solver.name == "fastlasso":
            continue
        Xs = solver.prepare(X)
        solver.warmup(Xs, y, True)

        def fit_at(tol, solver=solver, Xs=Xs):
            coef, b = solver.fit(Xs, y, alpha, True, tol)
            return problems.objective(X, y, alpha, coef, b)

        amax = problems.alpha_max(X, y, True)
        out[solver.name] = ladder_curve(fit_at, solver.ladder(amax), budget)
        print(f"  {solver.name}: {len(out[solver.name][0])} rungs", flush=True)
    return out


def curves(X, y, alpha):
    """{label: (times, objectives)} of fastlasso's solvers and P*."""
    out = {}
    def cd_at(tol):
        est = fastlasso.Lasso(alpha=alpha, tol=tol, max_iter=10**6).fit(X, y)
        return objective(X, y, alpha, est)

    out["cd"] = ladder_curve(cd_at, CD_TOLS)
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
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(Path(__file__).resolve().parent
                                             / "solvers_convergence.png"))
    parser.add_argument("--peers", default=None,
                        help="comma-separated peers (compare_peers' names), or 'none'; "
                             "default: every installed peer")
    parser.add_argument("--peer-budget", type=float, default=5.0,
                        help="seconds: a peer's ladder stops after its first "
                             "slower rung")
    args = parser.parse_args()
    if args.peers == "none":
        names = []
    elif args.peers:
        names = args.peers.split(",")
    else:
        names = [s.name for s in _bench_peers.make_solvers() if s.name != "fastlasso"]
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
    fig, axes = plt.subplots(1, 3, figsize=(17, 4.6))
    with threadpool_limits(1):
        for ax, (title, (X, y)) in zip(axes, chosen, strict=False):
            alpha = np.abs(X.T @ (y - y.mean())).max() / len(y) / 20
            out = curves(X, y, alpha)
            theirs = peer_curves(X, y, alpha, names, args.peer_budget) if names else {}
            ref = fastlasso.Lasso(alpha=alpha, tol=1e-14, max_iter=10**6).fit(X, y)
            P_star = min([objective(X, y, alpha, ref)]
                         + [c[1].min() for c in (*out.values(), *theirs.values())])
            for name, (t, P) in theirs.items():
                sub = np.maximum((P - P_star) / P_star, 1e-13)
                colour, marker = PEER_STYLES.get(name, ("0.5", "o"))
                ax.loglog(t, sub, "-", color=colour, linewidth=0.8, label=name,
                          marker=marker, markersize=4, markerfacecolor="none")
            for label, (t, P) in out.items():
                sub = np.maximum((P - P_star) / P_star, 1e-13)
                style = "-" if label == "cd" else FIRST_ORDER[label][2]
                ax.loglog(t, sub, style, color=COLOURS[label], label=label,
                          marker="o" if label == "cd" else None, markersize=3,
                          linewidth=2)
            ax.set_title(title, fontsize=10)
            ax.set_xlabel("time (s), one thread")
            ax.set_ylim(5e-14, 10)
            ax.grid(True, which="major", alpha=0.3)
            print(f"{title}: done", flush=True)
    axes[0].set_ylabel("relative suboptimality (P - P*) / P*")
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, fontsize=8, loc="center right")
    fig.suptitle("fastlasso's solvers (thick) and its peers (thin) at alpha = "
                 "alpha_max / 20 (benchmarks/plot_solvers.py)", fontsize=11)
    fig.tight_layout(rect=(0, 0, 0.88, 1))
    fig.savefig(args.out, dpi=110)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
