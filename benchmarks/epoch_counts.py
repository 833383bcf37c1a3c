"""Deterministic counts of the coordinate-descent kernel, to prove a refactor changed
nothing.

Runs a fixed set of fits and warm-started paths on deterministic problems and records,
for every call of the kernel (``fastlasso._cd.enet_cd_<layout>``), what it returned
(epochs, outer iterations, Newton steps, features screened, largest working set, Gram
solves, the gap and objective bit for bit), and for every case a SHA-256 of the
returned coefficients, intercepts and gaps. Two runs of the same kernel code give
identical records; a change that moves one rounding anywhere shows up as a different
hash. The cases cover dense float64/float32 (Fortran and C order), CSC with
int32/int64 indices, the Gram modes full/lazy/off (and lazy promoted to full along a
path), intercept, sample weights, positivity, Elastic Net, random selection, and the
Newton steps (a sparse text-like path down to alpha_max/1000 and a dense p >> n path),
plus the real data sets of ``--data DIR`` (leukemia, riboflavin, debian_desc).

    python benchmarks/epoch_counts.py --out before.json [--data ../shared/data]
    python benchmarks/epoch_counts.py --out after.json  [--data ../shared/data]
    python benchmarks/epoch_counts.py --compare before.json after.json

``--kernel-option NAME=VALUE`` passes a keyword to every kernel call: a new switch,
off, must give the records of the kernel from before the switch existed.

Only public entry points (estimators, ``enet_path``) and ``fastlasso._solve.solve_cd``
(for the switches that have no public name) drive the fits; the kernel is observed by
wrapping its module attributes, so the script survives refactors of the Python layer.
"""

import argparse
import ast
import hashlib
import inspect
import json
import os
import sys
import time

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import numpy as np
import scipy.sparse as sp

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import problems

import fastlasso
from fastlasso import _cd

STAT_KEYS = ("epochs", "outer", "newton", "newton_entered", "n_screened", "max_ws",
             "gram_inner")
LAYOUTS = ("dense", "cdense", "csc32", "csc64")


class KernelLog:
    """Wraps _cd.enet_cd_<layout> and keeps what every call returned; ``options``
    (keyword arguments) are passed to every call (to show that a switch, off, leaves
    the kernel's counts as they were before it existed)."""

    def __init__(self, options=None):
        self.calls = []
        self._orig = {}
        self.options = dict(options or {})

    def __enter__(self):
        for kind in LAYOUTS:
            name = "enet_cd_" + kind
            orig = getattr(_cd, name, None)
            if orig is None:  # a build from before the layout existed
                continue
            self._orig[name] = orig

            def wrapped(*args, _orig=orig, _kind=kind, **kwargs):
                out = _orig(*args, **{**kwargs, **self.options})
                rec = {k: int(out[k]) for k in STAT_KEYS if k in out}
                rec["layout"] = _kind
                rec["gap"] = float(out["gap"]).hex()
                rec["primal"] = float(out["primal"]).hex()
                self.calls.append(rec)
                return out

            setattr(_cd, name, wrapped)
        return self

    def __exit__(self, *exc):
        for name, orig in self._orig.items():
            setattr(_cd, name, orig)


def _digest(*arrays):
    h = hashlib.sha256()
    for a in arrays:
        a = np.ascontiguousarray(np.asarray(a))
        h.update(str(a.dtype).encode() + str(a.shape).encode())
        h.update(a.tobytes())
    return h.hexdigest()[:16]


# --------------------------------------------------------------------------------------
# problems (all deterministic)


def _wide(dtype=np.float64, n=100, p=1000):
    X, y = problems.synthetic("wide", "quick", seed=0)
    return np.asfortranarray(X[:n, :p], dtype=dtype), y[:n]


def _tall(n=5000, p=100, seed=0):
    rng = np.random.default_rng(seed)
    X = problems.toeplitz_gaussian(n, p, 0.5, rng)
    w0 = np.zeros(p)
    w0[rng.choice(p, p // 10, replace=False)] = rng.uniform(-1, 1, p // 10)
    return X, X @ w0 + rng.standard_normal(n) * 0.3 + 2.0


def _mid(n=1500, p=1000, seed=2):
    """Dense, correlated, n > p but n < 4 p: lazy Gram blocks, never the full Gram."""
    rng = np.random.default_rng(seed)
    X = problems.toeplitz_gaussian(n, p, 0.9, rng)
    w0 = np.zeros(p)
    w0[rng.choice(p, 50, replace=False)] = rng.uniform(-1, 1, 50)
    return X, X @ w0 + rng.standard_normal(n) + 1.0


def _text(index=np.int32, n=2000, p=3000, mean_len=30, seed=0):
    rng = np.random.default_rng(seed)
    X = problems.tfidf_like(n, p, mean_len, rng)
    y = problems._response(X, rng, max(20, X.shape[1] // 200), 5.0)
    X = sp.csc_matrix((X.data, X.indices.astype(index), X.indptr.astype(index)),
                      shape=X.shape)
    return X, y


def _lazy(make, *args, **kwargs):
    """make(*args, **kwargs), computed on the first call and kept."""
    cache = []

    def get():
        if not cache:
            cache.append(make(*args, **kwargs))
        return cache[0]

    return get


def _weights(n, seed=1):
    rng = np.random.default_rng(seed)
    sw = rng.uniform(0.2, 2.0, n)
    sw[rng.choice(n, n // 20, replace=False)] = 0.0
    return sw


def _amax(X, y, fit_intercept=True, l1_ratio=1.0):
    r = y - y.mean() if fit_intercept else y
    return float(np.max(np.abs(X.T @ r))) / X.shape[0] / l1_ratio


# --------------------------------------------------------------------------------------
# cases: name -> function returning the arrays to hash


def fit(X, y, frac, *, est="Lasso", sample_weight=None, **params):
    l1 = params.get("l1_ratio", 1.0)
    a = frac * _amax(X, y, params.get("fit_intercept", True), l1)
    m = getattr(fastlasso, est)(alpha=a, **params)
    m.fit(X, y, sample_weight=sample_weight)
    return [m.coef_, np.asarray(m.intercept_), np.asarray(m.dual_gap_)]


def path(X, y, eps, n_alphas=100, **params):
    if params.get("l1_ratio", 1.0) == 1.0:
        params.pop("l1_ratio", None)
        alphas, coefs, gaps = fastlasso.lasso_path(X, y, eps=eps, alphas=n_alphas,
                                                   **params)
    else:
        alphas, coefs, gaps = fastlasso.enet_path(X, y, eps=eps, alphas=n_alphas,
                                                  **params)
    return [alphas, coefs, gaps]


def solve_mode(X, y, frac, fit_intercept=True, **mode):
    """A single solve through _solve.solve_cd with switches that have no public name
    (working sets, screening, acceleration)."""
    from fastlasso import _data, _solve

    design = _data.make_design(X, None, fit_intercept)
    yc, _ = design.center(y)
    a = frac * _amax(X, y, fit_intercept)
    params = inspect.signature(_solve.solve_cd).parameters
    if "gram" in mode and "gram" not in params:  # renamed gram_mode
        mode["gram_mode"] = mode.pop("gram")
    sol = _solve.solve_cd(design, yc, a, 1.0, tol=1e-8, max_iter=100000, warn=False,
                          **mode)
    return [sol.coef, np.asarray(sol.gap)]


def synthetic_cases():
    """name -> case; the problems are built on first use (and kept)."""
    wide64 = _lazy(_wide)
    wide32 = _lazy(_wide, np.float32)
    tall = _lazy(_tall)
    tall_lazy = _lazy(_tall, 2000, 300, seed=3)
    mid = _lazy(_mid)
    text_mid = _lazy(_text, n=20000, p=20000, mean_len=50, seed=4)
    text32 = _lazy(_text)
    text64 = _lazy(_text, np.int64)
    sw_wide = _lazy(lambda: _weights(wide64()[0].shape[0]))
    sw_text = _lazy(lambda: _weights(text32()[0].shape[0]))
    sw_tall = _lazy(lambda: _weights(tall()[0].shape[0]))
    # C order: the estimator converts it
    Xc = _lazy(lambda: np.ascontiguousarray(wide64()[0]))
    cases = {
        # dense p >> n, float64 / float32, intercept, weights, positive, ENet, random
        "wide64/lasso/0.1": lambda: fit(*wide64(), 0.1, tol=1e-8),
        "wide64/lasso/0.01": lambda: fit(*wide64(), 0.01, tol=1e-8),
        "wide64/lasso/0.001/noint": lambda: fit(*wide64(), 0.001, fit_intercept=False,
                                                tol=1e-6, max_iter=100000),
        "wide32/lasso/0.01": lambda: fit(*wide32(), 0.01, tol=1e-5),
        "wide32/lasso/0.001": lambda: fit(*wide32(), 0.001, tol=1e-4, max_iter=100000),
        "wideC/lasso/0.01": lambda: fit(Xc(), wide64()[1], 0.01, tol=1e-8),
        "wide64/weights/0.01": lambda: fit(*wide64(), 0.01, sample_weight=sw_wide(),
                                           tol=1e-8),
        "wide64/positive/0.01": lambda: fit(*wide64(), 0.01, positive=True, tol=1e-8),
        "wide64/enet0.5/0.01": lambda: fit(*wide64(), 0.01, est="ElasticNet",
                                           l1_ratio=0.5, tol=1e-8),
        "wide64/random/0.01": lambda: fit(*wide64(), 0.01, selection="random",
                                          random_state=0, tol=1e-8),
        # dense n >> p: Gram modes
        "tall/auto(full)/0.01": lambda: fit(*tall(), 0.01, tol=1e-10),
        "tall/full/0.01/weights": lambda: fit(*tall(), 0.01, precompute=True,
                                              sample_weight=sw_tall(), tol=1e-10),
        "tall/off/0.01": lambda: fit(*tall(), 0.01, precompute=False, tol=1e-10),
        "tall/gram-user/0.01": lambda: fit(
            tall()[0] - tall()[0].mean(0), tall()[1], 0.01,
            precompute=(tall()[0] - tall()[0].mean(0)).T
            @ (tall()[0] - tall()[0].mean(0)),
            tol=1e-10),
        "tall32/off/0.01": lambda: fit(tall()[0].astype(np.float32), tall()[1], 0.01,
                                       precompute=False, tol=1e-5),
        "tall-lazy/auto(lazy)/0.01": lambda: fit(*tall_lazy(), 0.01, tol=1e-10),
        "tall-lazy/auto(lazy)/0.001/enet": lambda: fit(*tall_lazy(), 0.001,
                                                       est="ElasticNet", l1_ratio=0.7,
                                                       tol=1e-10),
        "tall-lazy/random/0.01": lambda: fit(*tall_lazy(), 0.01, selection="random",
                                             random_state=1, tol=1e-10),
        "tall-lazy/positive/0.01": lambda: fit(*tall_lazy(), 0.01, positive=True,
                                               tol=1e-10),
        # a working set of a quarter of the features promotes lazy to full
        "tall-lazy/lazy->full/1e-4": lambda: fit(*tall_lazy(), 1e-4, tol=1e-10),
        "mid/auto(lazy)/0.01": lambda: fit(*mid(), 0.01, tol=1e-8),
        "mid/auto(lazy)/0.001/weights": lambda: fit(*mid(), 0.001, tol=1e-8,
                                                    sample_weight=_weights(1500)),
        # sparse CSC int32 / int64
        "text32/lasso/0.1": lambda: fit(*text32(), 0.1, tol=1e-8),
        "text32/lasso/0.01": lambda: fit(*text32(), 0.01, tol=1e-8),
        "text64/lasso/0.01": lambda: fit(*text64(), 0.01, tol=1e-8),
        "text32/noint/0.001": lambda: fit(*text32(), 0.001, fit_intercept=False,
                                          tol=1e-6, max_iter=100000),
        "text32/weights/0.01": lambda: fit(*text32(), 0.01, sample_weight=sw_text(),
                                           tol=1e-8),
        "text32/positive/0.01": lambda: fit(*text32(), 0.01, positive=True, tol=1e-8),
        "text32/enet0.3/0.01": lambda: fit(*text32(), 0.01, est="ElasticNet",
                                           l1_ratio=0.3, tol=1e-8),
        "text32/random/0.01": lambda: fit(*text32(), 0.01, selection="random",
                                          random_state=2, tol=1e-8),
        "text32f/lasso/0.01": lambda: fit(text32()[0].astype(np.float32), text32()[1],
                                          0.01, tol=1e-5),
        # switches without a public name
        "wide64/no-ws": lambda: solve_mode(*wide64(), 0.05, working_sets=False),
        "wide64/no-screen": lambda: solve_mode(*wide64(), 0.05, screening=False),
        "wide64/no-accel": lambda: solve_mode(*wide64(), 0.05, acceleration=False),
        "text32/no-accel": lambda: solve_mode(*text32(), 0.01, acceleration=False),
        "text32/no-ws-no-screen": lambda: solve_mode(*text32(), 0.05,
                                                     working_sets=False,
                                                     screening=False),
        "tall-lazy/lazy-no-accel": lambda: solve_mode(*tall_lazy(), 0.01, gram="lazy",
                                                      acceleration=False),
        "tall/full-no-accel": lambda: solve_mode(*tall(), 0.01, gram="full",
                                                 acceleration=False),
        # paths: Newton steps (sparse CG, dense Cholesky), Gram across a path
        "path/text32-noint/1e-3": lambda: path(text32()[0],
                                               text32()[1] - text32()[1].mean(),
                                               1e-3, tol=1e-6, max_iter=100000),
        "path/text64/1e-3/intercept": lambda: path(*text64(), 1e-3, fit_intercept=True,
                                                   tol=1e-6, max_iter=100000),
        "path/text32/positive": lambda: path(*text32(), 1e-2, 30, positive=True,
                                             fit_intercept=True, tol=1e-6),
        "path/wide64-noint/1e-3": lambda: path(wide64()[0],
                                               wide64()[1] - wide64()[1].mean(),
                                               1e-3, tol=1e-6, max_iter=100000),
        "path/wide64/enet": lambda: path(*wide64(), 1e-2, 30, l1_ratio=0.5,
                                         fit_intercept=True, tol=1e-8),
        "path/wide32/1e-2": lambda: path(*wide32(), 1e-2, 30, fit_intercept=True,
                                         tol=1e-4),
        "path/tall/auto(full)": lambda: path(*tall(), 1e-3, 50, fit_intercept=True,
                                             tol=1e-8),
        "path/tall-lazy/lazy->full": lambda: path(*tall_lazy(), 1e-3, 50,
                                                  fit_intercept=True, tol=1e-8),
        "path/mid/lazy": lambda: path(*mid(), 1e-3, 50, fit_intercept=True, tol=1e-8),
        "path/text-mid-noint/1e-3": lambda: path(
            text_mid()[0], text_mid()[1] - text_mid()[1].mean(), 1e-3, tol=1e-6,
            max_iter=100000),
        "path/tall-lazy/off": lambda: path(*tall_lazy(), 1e-2, 20, precompute=False,
                                           fit_intercept=True, tol=1e-8),
        "path/tall-lazy/weights": lambda: path(*tall_lazy(), 1e-2, 20,
                                               sample_weight=_weights(2000),
                                               fit_intercept=True, tol=1e-8),
        # cross-validation (folds one after the other)
        "cv/wide64": lambda: _cv(*wide64()),
        "cv/text32": lambda: _cv(*text32()),
    }
    return cases


def _cv(X, y):
    m = fastlasso.LassoCV(cv=3, alphas=20, eps=1e-2, n_jobs=1, tol=1e-6).fit(X, y)
    return [m.coef_, np.asarray(m.alpha_), m.mse_path_]


def real_cases(data_dir):
    cases = {}
    for name in problems.REAL_SETS:
        f = os.path.join(data_dir, name + ".npz")
        if not os.path.exists(f):
            continue

        def load(f=f):
            return problems.load_npz(f)

        if name == "debian_desc":
            cases[f"{name}/lasso/0.01"] = lambda load=load: fit(*load(), 0.01,
                                                                 tol=1e-4)
            cases[f"path/{name}/1e-3"] = lambda load=load: path(
                *load(), 1e-3, 50, fit_intercept=True, tol=1e-4)
        else:
            cases[f"{name}/lasso/0.01"] = lambda load=load: fit(*load(), 0.01,
                                                                 tol=1e-8)
            cases[f"path/{name}/1e-3"] = lambda load=load: path(
                *load(), 1e-3, 100, fit_intercept=True, tol=1e-8, max_iter=100000)
    return cases


def run(cases, verbose=True, options=None):
    results = {}
    for name, case in cases.items():
        with KernelLog(options) as log:
            t0 = time.perf_counter()
            arrays = case()
            dt = time.perf_counter() - t0
        if not log.calls:
            raise RuntimeError(f"{name}: the kernel was not called (wrapper bypassed)")
        rec = {
            "calls": len(log.calls),
            "epochs": sum(c["epochs"] for c in log.calls),
            "outer": sum(c["outer"] for c in log.calls),
            "newton": sum(c.get("newton", 0) for c in log.calls),
            "coef_hash": _digest(*arrays),
            "kernel_hash": hashlib.sha256(
                json.dumps(log.calls, sort_keys=True).encode()).hexdigest()[:16],
            "per_call": log.calls,
            "seconds": round(dt, 3),
        }
        results[name] = rec
        if verbose:
            print(f"{name:36s} calls {rec['calls']:4d} epochs {rec['epochs']:7d} "
                  f"outer {rec['outer']:5d} newton {rec['newton']:4d} "
                  f"coef {rec['coef_hash']} kernel {rec['kernel_hash']} "
                  f"{dt:7.2f} s", flush=True)
    return results


def compare(a_path, b_path):
    with open(a_path) as f:
        a = json.load(f)["cases"]
    with open(b_path) as f:
        b = json.load(f)["cases"]
    same = True
    print(f"{'case':36s} {'epochs':>15s} {'outer':>11s} {'newton':>9s}  result")
    for name in sorted(set(a) | set(b)):
        if name not in a or name not in b:
            print(f"{name:36s} only in {'the first' if name in a else 'the second'}")
            same = False
            continue
        x, y = a[name], b[name]
        ok = (x["coef_hash"] == y["coef_hash"] and x["kernel_hash"] == y["kernel_hash"])
        same &= ok
        print(f"{name:36s} {x['epochs']:7d}/{y['epochs']:<7d} "
              f"{x['outer']:5d}/{y['outer']:<5d} {x['newton']:4d}/{y['newton']:<4d}  "
              f"{'identical' if ok else 'DIFFERENT'}")
    tot = [sum(r[k] for r in d.values()) for d in (a, b) for k in ("epochs", "outer")]
    print(f"total epochs {tot[0]} / {tot[2]}, outer iterations {tot[1]} / {tot[3]}; "
          + ("all identical" if same else "DIFFERENCES"))
    return 0 if same else 1


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", help="write the records (JSON) here")
    ap.add_argument("--data", help="directory of the real data sets (.npz)")
    ap.add_argument("--only", help="comma-separated substrings of case names to run")
    ap.add_argument("--compare", nargs=2, metavar=("A", "B"),
                    help="compare two record files; exit 1 if they differ")
    ap.add_argument("--kernel-option", action="append", default=[],
                    metavar="NAME=VALUE",
                    help="a keyword argument for every kernel call (a Python literal, "
                         "such as polish=False); repeatable")
    args = ap.parse_args(argv)
    options = {}
    for opt in args.kernel_option:
        name, _, value = opt.partition("=")
        options[name] = ast.literal_eval(value)
    if args.compare:
        return compare(*args.compare)
    cases = synthetic_cases()
    if args.data:
        cases.update(real_cases(args.data))
    if args.only:
        keys = args.only.split(",")
        cases = {k: v for k, v in cases.items() if any(s in k for s in keys)}
    results = run(cases, options=options)
    if args.out:
        with open(args.out, "w") as f:
            json.dump({"cases": results}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
