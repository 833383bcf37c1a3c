"""Interleaved A/B of the kernels' BLAS thread budget (fastlasso._blas_threads).

A: the kernels' level-3 BLAS/LAPACK calls run on the process's BLAS threads (the limit
switched off: _blas_threads finds no library to set); B: the limit on (the default).
Same build, same process, A and B alternate (A, B, B, A, ...). Cells: lasso_path with
precompute=False (lazy Gram blocks) and 50 alphas on diabetes with cubic features (331 x
285), a correlated 200 x 5000 and a correlated 5000 x 500, and a 5-fold
LassoCV(n_jobs=2, precompute=False) on the 5000 x 500 problem (folds in threads).
Reports wall time (what a user waits; CPU time counts the BLAS threads' spinning),
process CPU time, and epochs of each side; the BLAS threads are the process's default
(one per core) unless the caller's environment sets them.

    python benchmarks/blas_threads_ab.py [REPEATS] [CELL-SUBSTRING]
"""
import sys
import time
import warnings

import numpy as np
from sklearn.datasets import load_diabetes
from sklearn.preprocessing import PolynomialFeatures, StandardScaler
from threadpoolctl import threadpool_info

import fastlasso
from fastlasso import _blas_threads

warnings.simplefilter("ignore")


def problem(name):
    if name == "diabetes-poly3":
        X, y = load_diabetes(return_X_y=True)
        X = PolynomialFeatures(3, include_bias=False).fit_transform(X[:331])
        X = StandardScaler().fit_transform(X)
        return np.asfortranarray(X), y[:331] - y[:331].mean()
    n, p = map(int, name.split("x"))
    rng = np.random.default_rng(0)
    X = 0.5 * rng.standard_normal((n, p)) + 0.5 * rng.standard_normal((n, 1))
    X = np.asfortranarray(X)
    w = np.zeros(p)
    k = max(1, p // 20)
    w[:k] = rng.standard_normal(k)
    y = X @ w + rng.standard_normal(n)
    return X, y - y.mean()


def path(X, y):
    out = fastlasso.lasso_path(X, y, precompute=False, return_n_iter=True, alphas=50)
    return int(sum(out[3]))


def cv(X, y):
    model = fastlasso.LassoCV(cv=5, n_jobs=2, alphas=50, precompute=False).fit(X, y)
    return int(np.sum(model.n_iter_)) if np.ndim(model.n_iter_) else int(model.n_iter_)


CELLS = [
    ("path diabetes-poly3", "diabetes-poly3", path),
    ("path 200x5000", "200x5000", path),
    ("path 5000x500", "5000x500", path),
    ("LassoCV(n_jobs=2) 5000x500", "5000x500", cv),
]


def main():
    repeats = int(sys.argv[1]) if len(sys.argv) > 1 else 2
    only = sys.argv[2] if len(sys.argv) > 2 else ""
    libraries = _blas_threads._libraries()
    blas = [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"]
    print(f"BLAS libraries {len(libraries)}, threads {blas}")
    for label, name, run in CELLS:
        if only not in label:
            continue
        X, y = problem(name)
        res = {"A": [], "B": []}
        for rep in range(repeats):
            for arm in ("AB" if rep % 2 == 0 else "BA"):
                _blas_threads._state["libraries"] = libraries if arm == "B" else []
                t, c = time.perf_counter(), time.process_time()
                epochs = run(X, y)
                res[arm].append((time.perf_counter() - t, time.process_time() - c,
                                 epochs))
        _blas_threads._state["libraries"] = libraries
        wall = {arm: [r[0] for r in res[arm]] for arm in "AB"}
        cpu = {arm: [r[1] for r in res[arm]] for arm in "AB"}
        ratio = np.median(wall["A"]) / np.median(wall["B"])
        print(f"{label:28s} A wall " + " ".join(f"{t:.2f}" for t in wall["A"])
              + f" cpu {np.median(cpu['A']):.2f} epochs {res['A'][0][2]}"
              + " | B wall " + " ".join(f"{t:.2f}" for t in wall["B"])
              + f" cpu {np.median(cpu['B']):.2f} epochs {res['B'][0][2]}"
              + f" | median wall A/B {ratio:.1f}x",
              flush=True)


if __name__ == "__main__":
    main()
