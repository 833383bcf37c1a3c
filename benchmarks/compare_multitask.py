"""Multi-task Lasso side by side: fastlasso, scikit-learn, celer, skglm, in one run,
single-threaded (issue 21).

    python benchmarks/compare_multitask.py --quick          # smoke run
    python benchmarks/compare_multitask.py --markdown mt.md  # full sizes

The problem is scikit-learn's MultiTaskLasso without intercept (the data centred
first, so that every solver solves the same problem)

    P(W) = ||Y - X W||_F^2 / (2 n) + alpha sum_j ||W_j||_2,

P evaluated by the same numpy code for every solver. Cells: single fits at
alpha_max / 10 and alpha_max / 100, and a path of ``--n-alphas`` alphas from alpha_max
down to ``--eps`` alpha_max (warm-started; a path reaches a target when every point
does). For each cell and target (relative suboptimality (P - P*)/P*, P* the best
objective any run reached, tight reference fits of fastlasso and celer included) the
time each solver needs, climbing its own tolerance ladder loosest first, with the
runner of compare_peers.py (forked children, caps, best of --repeats).

Problems (simulated; ``--quick`` shrinks them):

- ``meg``: MEG-like, n = 300 sensors, p = 8000 sources, T = 50 time samples as
  targets; columns of the lead field strongly correlated (Toeplitz, rho = 0.95, as
  neighbouring sources), 10 active sources with smooth time courses, noise at SNR 3;
- ``wide20``: n = 500, p = 10,000, T = 20 targets, Toeplitz rho = 0.6, 50 active rows
  (+-U(0.5, 1.5) per task), noise std 1/3 of the signal's.

Solvers and their ``tol``: fastlasso and scikit-learn: duality gap <= tol ||Y||^2/n;
celer (``mtl_path``, also for single fits as its ``MultiTaskLasso.fit`` does; that
method fails with scikit-learn 1.9): its duality-gap tolerance, pruning on;
skglm (``MultiTaskLasso``, a path as warm-started fits): largest distance of a row
gradient to the subdifferential (units of alpha: its ladder is scaled by alpha_max).
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import compare_peers as cp  # noqa: E402  (sets the thread counts before numpy)

# isort: split

import argparse  # noqa: E402
import importlib.metadata  # noqa: E402
import math  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402

import numpy as np  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

from fastlasso import _bench_peers as peers  # noqa: E402

MAX_EPOCHS = 10**6
SIZES = {
    "quick": {"meg": (120, 1500, 20), "wide20": (150, 2000, 20)},
    "full": {"meg": (300, 8000, 50), "wide20": (500, 10_000, 20)},
}


# -------------------------------------------------------------------------- problems
class MTProblem:
    def __init__(self, name, X, Y):
        self.name = name
        self.X = np.asfortranarray(X - X.mean(axis=0))
        self.Y = np.asfortranarray(Y - Y.mean(axis=0))

    def describe(self):
        n, p = self.X.shape
        return f"{self.name}: {n} x {p}, {self.Y.shape[1]} targets, dense, centred"


def toeplitz(n, p, rho, rng):
    return cp.problems.toeplitz_gaussian(n, p, rho, rng)


def make_problem(name, size, seed=0):
    rng = np.random.default_rng(seed)
    n, p, T = SIZES[size][name]
    if name == "meg":
        X = toeplitz(n, p, 0.95, rng)
        t = np.linspace(0.0, 1.0, T)
        W = np.zeros((p, T))
        rows = rng.choice(p, 10, replace=False)
        for j in rows:  # smooth, delayed oscillations
            f, d = rng.uniform(2.0, 6.0), rng.uniform(0.1, 0.4)
            bump = np.exp(-((t - d - 0.2) ** 2) / 0.05)
            W[j] = np.sin(2 * np.pi * f * (t - d)) * bump
        S = X @ W
        noise = rng.standard_normal((n, T))
        Y = S + noise * np.linalg.norm(S) / (3.0 * np.linalg.norm(noise))
        return MTProblem("meg", X, Y)
    X = toeplitz(n, p, 0.6, rng)
    W = np.zeros((p, T))
    rows = rng.choice(p, 50, replace=False)
    W[rows] = rng.choice([-1.0, 1.0], (50, T)) * rng.uniform(0.5, 1.5, (50, T))
    S = X @ W
    S /= S.std()
    return MTProblem("wide20", X, S + rng.standard_normal((n, T)) / 3.0)


def alpha_max(X, Y):
    return float(np.sqrt(np.max(np.sum((X.T @ Y) ** 2, axis=1))) / X.shape[0])


def objective(X, Y, W, alpha):
    """P(W) of the module docstring in float64; W of shape (p, T)."""
    R = Y - X @ W
    return float((R * R).sum() / (2 * X.shape[0])
                 + alpha * np.sqrt((W * W).sum(axis=1)).sum())


# --------------------------------------------------------------------------- solvers
class MTSolver:
    name = dist = ""
    has_path = True

    def version(self):
        return importlib.metadata.version(self.dist)

    def ladder(self, amax):
        return peers.GAP_LADDER

    def fit(self, X, Y, alpha, tol):
        """W (p, T) at alpha."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return np.asarray(self._fit(X, Y, alpha, tol), dtype=np.float64)

    def path(self, X, Y, alphas, tol):
        """W of every alpha, (p, T, k)."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return np.asarray(self._path(X, Y, alphas, tol), dtype=np.float64)

    def warmup(self, X, Y):
        Xs, Ys = np.asfortranarray(X[:40, :80]), np.asfortranarray(Y[:40])
        amax = alpha_max(Xs, Ys)
        self.fit(Xs, Ys, amax / 5, self.ladder(amax)[2])
        self.path(Xs, Ys, amax * np.geomspace(1, 0.1, 3), self.ladder(amax)[2])


class FastLassoMT(MTSolver):
    name = dist = "fastlasso"

    def _fit(self, X, Y, alpha, tol):
        import fastlasso

        m = fastlasso.MultiTaskLasso(alpha=alpha, tol=tol, fit_intercept=False,
                                     max_iter=MAX_EPOCHS).fit(X, Y)
        return m.coef_.T

    def _path(self, X, Y, alphas, tol):
        import fastlasso

        _, coefs, _ = fastlasso.lasso_path(X, Y, alphas=alphas, tol=tol,
                                           max_iter=MAX_EPOCHS)
        return np.transpose(coefs, (1, 0, 2))


class ScikitLearnMT(MTSolver):
    name, dist = "sklearn", "scikit-learn"

    def _fit(self, X, Y, alpha, tol):
        from sklearn.linear_model._coordinate_descent import MultiTaskLasso

        m = MultiTaskLasso(alpha=alpha, tol=tol, fit_intercept=False,
                           max_iter=MAX_EPOCHS).fit(X, Y)
        return m.coef_.T

    def _path(self, X, Y, alphas, tol):
        from sklearn.linear_model._coordinate_descent import lasso_path

        _, coefs, _ = lasso_path(X, Y, alphas=alphas, tol=tol, max_iter=MAX_EPOCHS)
        return np.transpose(coefs, (1, 0, 2))


class CelerMT(MTSolver):
    name = dist = "celer"

    def _fit(self, X, Y, alpha, tol):
        # what celer.MultiTaskLasso.fit runs (that method itself fails with
        # scikit-learn 1.9: it calls the removed BaseEstimator._validate_data)
        return self._path(X, Y, [alpha], tol)[:, :, 0]

    def _path(self, X, Y, alphas, tol):
        from celer.homotopy import mtl_path

        _, coefs, _ = mtl_path(X, Y, alphas=alphas, tol=tol, max_iter=10**4,
                               max_epochs=MAX_EPOCHS, prune=True)
        return np.transpose(coefs, (1, 0, 2))


class SkglmMT(MTSolver):
    name = dist = "skglm"

    def ladder(self, amax):
        return tuple(amax * t for t in peers.KKT_LADDER)

    def _model(self, alpha, tol):
        import skglm

        return skglm.MultiTaskLasso(alpha=alpha, tol=tol, fit_intercept=False,
                                    max_iter=10**4, max_epochs=MAX_EPOCHS)

    def _fit(self, X, Y, alpha, tol):
        return self._model(alpha, tol).fit(X, Y).coef_.T

    def _path(self, X, Y, alphas, tol):
        m = self._model(alphas[0], tol)
        m.warm_start = True
        out = []
        for a in alphas:
            m.alpha = a
            out.append(m.fit(X, Y).coef_.T.copy())
        return np.stack(out, axis=2)


SOLVERS = {c.name: c for c in (FastLassoMT, ScikitLearnMT, CelerMT, SkglmMT)}


def available(names):
    out = []
    for name in names:
        s = SOLVERS[name]()
        try:
            s.version()
        except importlib.metadata.PackageNotFoundError:
            print(f"{name} not installed: skipped", file=sys.stderr)
            continue
        out.append(s)
    return out


# -------------------------------------------------------------------------- sections
def bench_problem(bench, prob, solvers, args):
    """Single-fit cells at each alpha fraction, then the path cell."""
    X, Y = prob.X, prob.Y
    for s in solvers:
        s.warmup(X, Y)  # JIT (skglm) and imports, inherited by the forked runs
    amax = alpha_max(X, Y)
    cells, path_cells = [], []
    for frac in args.alphas if "single" in args.sections else ():
        alpha, label = frac * amax, f"{prob.name} {frac:g}"

        def fn_of(s, alpha=alpha):
            return lambda tol: s.fit(X, Y, alpha, tol)

        def evaluate(W, alpha=alpha):
            return objective(X, Y, W, alpha), int(np.any(W != 0, axis=1).sum())

        refs, P_ref = bench.references(solvers, fn_of, evaluate, args.cap,
                                       label + " ref")
        entries = bench.race(solvers, lambda s: s.ladder(amax), fn_of, evaluate,
                             P_ref, args.cap, label)
        cells.append(cp.finish_cell(bench, prob.name, frac, entries, refs))
    if "path" in args.sections:
        alphas = amax * np.geomspace(1.0, args.eps, args.n_alphas)

        def fn_of(s):
            return lambda tol: s.path(X, Y, alphas, tol)

        def evaluate(coefs):
            P = np.array([objective(X, Y, coefs[:, :, k], a)
                          for k, a in enumerate(alphas)])
            return P, int(np.any(coefs[:, :, -1] != 0, axis=1).sum())

        label = f"{prob.name} path"
        refs, P_ref = bench.references(solvers, fn_of, evaluate, args.path_cap,
                                       label + " ref")
        entries = bench.race(solvers, lambda s: s.ladder(amax), fn_of, evaluate,
                             P_ref, args.path_cap, label)
        path_cells.append(cp.finish_cell(bench, prob.name, args.eps, entries, refs))
    return cells, path_cells


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="small sizes (smoke run)")
    p.add_argument("--problems", default="meg,wide20")
    p.add_argument("--solvers", default=",".join(SOLVERS))
    p.add_argument("--sections", default="single,path")
    p.add_argument("--alphas", default="0.1,0.01",
                   type=lambda s: [float(v) for v in s.split(",")])
    p.add_argument("--targets", default="1e-6",
                   type=lambda s: [float(v) for v in s.split(",")])
    p.add_argument("--n-alphas", type=int, default=20)
    p.add_argument("--eps", type=float, default=1e-2, help="alpha_min / alpha_max")
    cp.add_bench_args(p, ref_tol=1e-12, cap=120.0, path_cap=600.0)
    return cp.parse_bench_args(p, argv, quick_caps=(20.0, 60.0, 1.0))


def main(argv=None):
    args = parse_args(argv)
    solvers = available(["fastlasso"] + [s for s in args.solvers.split(",")
                                         if s != "fastlasso"])
    bench, t0 = cp.Bench(args), time.monotonic()
    size = "quick" if args.quick else "full"
    out = [cp.header(args, solvers)]
    single, paths, described = [], [], []
    with threadpool_limits(limits=args.threads):
        for name in args.problems.split(","):
            prob = make_problem(name, size)
            described.append(prob.describe())
            bench.log(described[-1])
            cells, path_cells = bench_problem(bench, prob, solvers, args)
            single += cells
            paths += path_cells
    names = [s.name for s in solvers]
    out.append("problems:\n" + "\n".join(f"- {d}" for d in described))
    for target in bench.targets:
        out.append(cp.section(f"Single fits: seconds to relative suboptimality "
                              f"{target:g} (tolerance used)", single, names, target,
                              args.ref_tol))
        if paths:
            out.append(cp.section(f"Paths ({args.n_alphas} alphas down to {args.eps:g} "
                                  f"alpha_max): seconds until every point reaches "
                                  f"{target:g}", paths, names, target, args.ref_tol))
        every = single + paths
        ratios = [r for r, _, _ in (cp.ratio_of(c, target) for c in every)
                  if r is not None and math.isfinite(r)]
        if ratios:
            out.append(f"all {len(ratios)} cells at {target:g}: geometric mean "
                       f"fastlasso/best peer {math.exp(np.mean(np.log(ratios))):.3f},"
                       f" worst {max(ratios):.2f}")
    out.append(f"total benchmark time: {time.monotonic() - t0:.0f} s")
    print("\n\n".join(out))
    if args.markdown:
        Path(args.markdown).write_text("\n\n".join(out) + "\n")


if __name__ == "__main__":
    main()
