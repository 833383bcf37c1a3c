"""Iterations and time for each fastlasso solver to reach a relative suboptimality.

    python benchmarks/bench_solvers.py [--size quick|full] [--data-dir DIR]

For every problem, P* is the best objective of coordinate descent at tol=1e-14 and of
every run below; a solver reaches eps when (P(w) - P*) / P* <= eps. Then

- cd: fits at tol = 1e-1, 1e-2, ..., 1e-14 (the duality-gap stopping rule); the first
  fit that reaches eps gives the epochs (n_iter_) and the time;
- fista, ista, subgradient (default: Polyak's step in a per-coordinate diagonal metric,
  "polyak_diagonal"; "subgr. Polyak": the Euclidean one; both with a target level
  between the certificate's dual bound and the best objective; decaying step eta_0 /
  sqrt(k + 1); constant step eta_0 = 1/L): one fit with record_history=True and tol=0
  for at most the budget of iterations gives the first iteration k that reaches eps; the
  time is that of a fit stopped at max_iter=k (power iteration and gap checks included).

A solver that does not reach eps within its budget is reported with the best relative
suboptimality it reached ("> 3.1e-04"). Single-threaded (BLAS limited to one thread);
times are the best of up to 3 runs. --data-dir adds leukemia.npz / riboflavin.npz if
the directory holds them (see its README for the layout).
"""

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning
from threadpoolctl import threadpool_limits

import fastlasso

EPS = (1e-3, 1e-6)
# rows of the table: fastlasso.Lasso parameters and the iteration budget
VARIANTS = {
    "fista": ({"solver": "fista"}, 20_000),
    "ista": ({"solver": "ista"}, 50_000),
    "subgradient": ({"solver": "subgradient"}, 20_000),
    "subgr. Polyak": ({"solver": "subgradient", "step_schedule": "polyak"}, 20_000),
    "subgr. decay": ({"solver": "subgradient", "step_schedule": "decaying"}, 20_000),
    "subgr. const": ({"solver": "subgradient", "step_schedule": "constant"}, 20_000),
}
CD_TOLS = [10.0**-k for k in range(1, 15)]
SIZES = {
    "quick": {"wide": (100, 1_000), "tall": (5_000, 100), "text": (4_000, 6_000)},
    "full": {"wide": (500, 5_000), "tall": (50_000, 200), "text": (20_000, 30_000)},
}


def correlated(n, p, rho, rng):
    """Gaussian rows with corr(x_j, x_k) = rho^|j-k| (AR(1) over the columns)."""
    X = np.empty((n, p), order="F")
    X[:, 0] = rng.standard_normal(n)
    for j in range(1, p):
        X[:, j] = rho * X[:, j - 1] + np.sqrt(1 - rho**2) * rng.standard_normal(n)
    return X


def text_like(n, p, rng, mean_len=30):
    """tf-idf-like CSC: Zipf word frequencies, (1 + log count) * idf, unit rows."""
    lengths = 1 + rng.poisson(mean_len, n)
    freq = 1.0 / (np.arange(p) + 10.0) ** 1.1
    rows = np.repeat(np.arange(n), lengths)
    cols = rng.choice(p, size=lengths.sum(), p=freq / freq.sum())
    X = sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(n, p))
    X.sum_duplicates()
    X.data = 1.0 + np.log(X.data)
    df = np.bincount(X.indices, minlength=p)
    X = X @ sp.diags(np.log((1 + n) / (1 + df)) + 1.0)
    X = sp.diags(1.0 / np.maximum(sp.linalg.norm(X, axis=1), 1e-12)) @ X
    X = sp.csc_matrix(X[:, np.flatnonzero(df)])
    X.indices = X.indices.astype(np.int32)
    X.indptr = X.indptr.astype(np.int32)
    return X


def synthetic_problems(size, seed=0):
    rng = np.random.default_rng(seed)
    out = []
    for name, rho in (("wide", 0.6), ("tall", 0.5)):
        n, p = SIZES[size][name]
        X = correlated(n, p, rho, rng)
        w0 = np.zeros(p)
        w0[rng.choice(p, 10, replace=False)] = rng.choice([-1, 1], 10)
        y = X @ w0
        y += rng.standard_normal(n) * y.std() / 3
        out.append((f"{name} dense, rho={rho}", X, y))
    # the tf-idf problem of compare_peers --quick (2,000 x 2,964, issue 20's target)
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import problems

    X, y = problems.synthetic("text", "quick")
    out.append(("text sparse (compare_peers)", X, y))
    n, p = SIZES[size]["text"]
    X = text_like(n, p, rng)
    w0 = np.zeros(X.shape[1])
    w0[rng.choice(X.shape[1], 50, replace=False)] = rng.standard_normal(50) * 5
    y = X @ w0
    y += 5.0 + rng.standard_normal(n) * y.std() / 3
    out.append(("text sparse", X, y))
    return out


def real_problems(data_dir):
    out = []
    for name in ("leukemia", "riboflavin"):
        f = Path(data_dir) / f"{name}.npz"
        if f.exists():
            z = np.load(f, allow_pickle=False)
            X = np.asfortranarray(z["X"])
            out.append((name, X / X.std(axis=0).clip(1e-12), z["y"]))
    return out


def objective(X, y, alpha, est):
    r = y - X @ est.coef_ - est.intercept_
    return r @ r / (2 * len(y)) + alpha * np.abs(est.coef_).sum()


def timed_fit(X, y, alpha, repeats, **params):
    best, est = np.inf, None
    for _ in range(repeats):
        est = fastlasso.Lasso(alpha=alpha, **params)
        t = time.perf_counter()
        est.fit(X, y)
        best = min(best, time.perf_counter() - t)
    return est, best


def run_cd(X, y, alpha):
    runs = []
    for tol in CD_TOLS:
        est, t = timed_fit(X, y, alpha, 3, solver="cd", tol=tol, max_iter=100_000)
        runs.append((objective(X, y, alpha, est), est.n_iter_, t))
    return runs


def first_reaching(runs, P_star, eps):
    """(iterations, time) of the first run reaching eps, or the best relative
    suboptimality."""
    for P, it, t in runs:
        if P - P_star <= eps * P_star:
            return it, t
    return min(P for P, _, _ in runs) / P_star - 1


def bench_problem(name, X, y, alpha_fraction=0.05):
    r = y - y.mean()
    alpha = alpha_fraction * np.abs(X.T @ r).max() / len(y)
    ref = fastlasso.Lasso(alpha=alpha, tol=1e-14, max_iter=100_000).fit(X, y)
    histories, cd_runs = {}, run_cd(X, y, alpha)
    for row, (params, budget) in VARIANTS.items():
        est = fastlasso.Lasso(alpha=alpha, tol=0.0, max_iter=budget,
                              record_history=True, **params).fit(X, y)
        histories[row] = est.objective_history_
    P_star = min(
        [objective(X, y, alpha, ref)] + [P for P, _, _ in cd_runs]
        + [h[:, 1].min() for h in histories.values()]
    )
    rows = {"cd": [first_reaching(cd_runs, P_star, eps) for eps in EPS]}
    for row, h in histories.items():
        cells = []
        for eps in EPS:
            hit = np.flatnonzero(h[:, 1] - P_star <= eps * P_star)
            if len(hit) == 0:
                cells.append(h[:, 1].min() / P_star - 1)
                continue
            k = max(int(h[hit[0], 0]), 1)
            _, t = timed_fit(X, y, alpha, 3 if k < 2000 else 1, tol=0.0, max_iter=k,
                             **VARIANTS[row][0])
            cells.append((k, t))
        rows[row] = cells
    n, p = X.shape
    kind = f"sparse nnz={X.nnz:,}" if sp.issparse(X) else "dense"
    title = f"{name}: {n:,} x {p:,} ({kind}), alpha = {alpha_fraction} alpha_max"
    return title, rows


def cell(c):
    if isinstance(c, tuple):
        return f"{c[0]:>6} it {c[1]:8.3f} s"
    return f"not reached (best {c:.1e})".rjust(17)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=sorted(SIZES), default="quick")
    parser.add_argument("--data-dir", default=None)
    args = parser.parse_args()
    problems = synthetic_problems(args.size)
    if args.data_dir:
        problems += real_problems(args.data_dir)
    warnings.simplefilter("ignore", ConvergenceWarning)
    head = "| solver       | " + " | ".join(
        f"to rel. subopt {e:.0e}".ljust(27) for e in EPS)
    with threadpool_limits(1):
        for name, X, y in problems:
            title, rows = bench_problem(name, X, y)
            print(f"\n{title}\n{head} |\n|{'-' * 14}|" + f"{'-' * 29}|" * len(EPS))
            for row in ("cd", *VARIANTS):
                cells = " | ".join(cell(c).ljust(27) for c in rows[row])
                print(f"| {row:<12} | {cells} |", flush=True)
    budget = ", ".join(f"{row} {b:,}" for row, (_, b) in VARIANTS.items())
    print(f"\nIteration budgets: {budget}. cd: epochs; others: full-gradient "
          "iterations (one pass over X each).")


if __name__ == "__main__":
    main()
