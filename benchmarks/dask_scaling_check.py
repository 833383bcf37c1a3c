"""Passes and bytes of fastlasso.dask fits, counted, against dask_scaling.md's formulas.

Every pass is run by dask's synchronous scheduler on in-memory chunks, its leaves and
merges evaluated one by one so that their results can be measured: the bytes each
leaf task returns (pickled, as a worker would send them), the bytes of the merges
below the root (what travels between workers) and of the root (what reaches the
client). Counts, not times: the same on any machine.

    python benchmarks/dask_scaling_check.py [--markdown out.md]
"""

import argparse
import pickle
import re
import threading

import dask
import dask.array as da
import numpy as np
import scipy.sparse as sp

import fastlasso.dask as fld
from fastlasso.dask import _passes

_tag = threading.local()


class Recorder:
    """Replaces DaskData._run (and tags moments/run) to record each pass."""

    def __init__(self):
        self.passes = []

    def install(self, monkey):
        rec = self
        orig_moments, orig_run = _passes.DaskData.moments, _passes.DaskData.run

        def moments(self, gram=False, fold_bounds=None):
            _tag.kind = "statistics" + (" + Gram" if gram else "") + (
                " per fold" if fold_bounds is not None else "")
            return orig_moments(self, gram=gram, fold_bounds=fold_bounds)

        def run(self, resid=None, gram=None):
            parts = []
            if resid is not None:
                parts.append(f"gradient x {np.asarray(resid[0]).shape[1]}")
            if gram is not None:
                parts.append(f"Gram {len(gram[0])} x {len(gram[1])}")
            _tag.kind = " + ".join(parts)
            return orig_run(self, resid=resid, gram=gram)

        def _run(self, leaves, merge):
            values = list(dask.compute(*leaves, scheduler="synchronous"))
            leaf_bytes = [len(pickle.dumps(v)) for v in values]
            between = 0
            level = values
            while len(level) > 1:
                nxt = [merge(level[i], level[i + 1])
                       for i in range(0, len(level) - 1, 2)]
                if len(level) % 2:
                    nxt.append(level[-1])
                level = nxt
                if len(level) > 1:
                    between += sum(len(pickle.dumps(v)) for v in nxt)
            root = level[0]
            rec.passes.append(dict(kind=getattr(_tag, "kind", "?"),
                                   leaves=len(values), leaf_bytes=sum(leaf_bytes),
                                   leaf_max=max(leaf_bytes), between=between,
                                   client=len(pickle.dumps(root))))
            self.count += 1
            return root

        monkey.append((_passes.DaskData, "moments", orig_moments))
        monkey.append((_passes.DaskData, "run", orig_run))
        monkey.append((_passes.DaskData, "_run", _passes.DaskData._run))
        _passes.DaskData.moments = moments
        _passes.DaskData.run = run
        _passes.DaskData._run = _run


def dense(n, p, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p)) + 0.5 * rng.standard_normal((n, 1))
    beta = np.zeros(p)
    beta[: min(20, p)] = rng.uniform(0.5, 2.0, min(20, p))
    return X, X @ beta + rng.standard_normal(n)


def sparse_data(n, p, density, seed=0):
    rng = np.random.default_rng(seed)
    X = sp.random(n, p, density=density, format="csr", random_state=rng,
                  data_rvs=rng.standard_normal)
    beta = np.zeros(p)
    beta[rng.choice(min(1000, p), min(100, p), replace=False)] = 1.0
    return X, np.asarray(X @ beta).ravel() + rng.standard_normal(n)


def alpha_at(X, y, frac):
    Xc = X - X.mean(axis=0) if not sp.issparse(X) else X
    g = np.abs(np.asarray(Xc.T @ (y - y.mean())).ravel())
    return frac * g.max() / X.shape[0]


def cases():
    """(regime, description, callable returning (n_passes, note))."""
    out = []
    for n, p, c in ((20_000, 50, 8), (20_000, 100, 16), (40_000, 200, 8)):
        X, y = dense(n, p)
        dX, dy = da.from_array(X, chunks=(n // c, p)), da.from_array(y, chunks=n // c)
        a = alpha_at(X, y, 0.05)
        out.append(("A", f"fit, dense {n:,} x {p}, c = {c}",
                    lambda dX=dX, dy=dy, a=a: fld.Lasso(alpha=a, tol=1e-8)
                    .fit(dX, dy).n_passes_, dict(n=n, p=p, c=c, k=1)))
        out.append(("A", f"path of 20 alphas, dense {n:,} x {p}, c = {c}",
                    lambda dX=dX, dy=dy: fld.lasso_path(
                        dX, dy, alphas=20, tol=1e-8, fit_intercept=True,
                        return_n_passes=True)[-1], dict(n=n, p=p, c=c, k=20)))
        out.append(("A", f"LassoCV(cv=5), 20 alphas, dense {n:,} x {p}, c = {c}",
                    lambda dX=dX, dy=dy: fld.LassoCV(cv=5, alphas=20, tol=1e-8)
                    .fit(dX, dy).n_passes_, dict(n=n, p=p, c=c, k=1, K=5)))
    X, y = sparse_data(20_000, 5_000, 0.001)
    dX, dy = da.from_array(X, chunks=(5_000, 5_000)), da.from_array(y, chunks=5_000)
    a = alpha_at(X, y, 0.05)
    out.append(("B", "fit, sparse 20,000 x 5,000 at 0.1%, c = 4",
                lambda: fld.Lasso(alpha=a, tol=1e-8).fit(dX, dy).n_passes_,
                dict(n=20_000, p=5_000, c=4)))
    out.append(("B", "path of 20 alphas, sparse 20,000 x 5,000, c = 4",
                lambda: fld.lasso_path(dX, dy, alphas=20, eps=0.05, tol=1e-8,
                                       fit_intercept=True, return_n_passes=True)[-1],
                dict(n=20_000, p=5_000, c=4)))
    out.append(("B", "LassoCV(cv=5), 20 alphas to 0.05 alpha_max, sparse, c = 4",
                lambda: fld.LassoCV(cv=5, alphas=20, eps=0.05, tol=1e-8)
                .fit(dX, dy).n_passes_, dict(n=20_000, p=5_000, c=4, K=5)))
    Xw, yw = dense(400, 20_000)
    dXw = da.from_array(Xw, chunks=(100, 2_000))  # column chunks: rechunked to rows
    dyw = da.from_array(yw, chunks=100)
    aw = alpha_at(Xw, yw, 0.1)
    out.append(("C", "fit, dense 400 x 20,000 (p >> n), c = 4 row blocks",
                lambda: fld.Lasso(alpha=aw, tol=1e-8).fit(dXw, dyw).n_passes_,
                dict(n=400, p=20_000, c=4)))
    Xs, ys = dense(300, 240, seed=1)
    dXs, dys = da.from_array(Xs, chunks=(75, 240)), da.from_array(ys, chunks=75)
    out.append(("CV", "one path, 20 alphas, dense 300 x 240 (working sets), c = 4",
                lambda: fld.lasso_path(dXs, dys, alphas=20, tol=1e-8,
                                       fit_intercept=True, return_n_passes=True)[-1],
                dict(n=300, p=240, c=4)))
    out.append(("CV", "LassoCV(cv=4), 20 alphas, dense 300 x 240, c = 4",
                lambda: fld.LassoCV(cv=4, alphas=20, tol=1e-8).fit(dXs, dys)
                .n_passes_, dict(n=300, p=240, c=4, K=4)))
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--markdown", default=None)
    ap.add_argument("--only", default=None, help="regimes, e.g. A,C")
    args = ap.parse_args(argv)
    lines = ["| regime | fit | passes | passes of a kind | leaves | bytes out of the "
             "leaves, largest pass (largest leaf) | between workers | to the client "
             "| formula |",
             "|---|---|---|---|---|---|---|---|---|"]
    monkey = []
    rec = Recorder()
    rec.install(monkey)
    try:
        with dask.config.set(scheduler="synchronous"):
            for regime, what, fit, dims in cases():
                if args.only and regime not in args.only.split(","):
                    continue
                rec.passes.clear()
                n_passes = fit()
                p, c = dims["p"], dims["c"]
                groups = {}
                for ps in rec.passes:
                    key = re.sub(r"Gram \d+ x \d+", "Gram", ps["kind"])
                    groups.setdefault(key, []).append(ps)
                first = True
                for key, group in groups.items():
                    formula = ""
                    if key.startswith("statistics + Gram"):
                        K = dims.get("K", 1)
                        formula = f"c p^2 = {c * p * p * 8:,} B"
                        if K > 1:
                            formula += (f"; (c + K) p^2 = {(c + K) * p * p * 8:,} B, "
                                        f"K p^2 = {K * p * p * 8:,} B")
                    elif key.startswith("statistics"):
                        formula = f"c p = {c * p * 8:,} B (several p-vectors)"
                    elif key.startswith("gradient x"):
                        k = int(key.split()[2])
                        formula = f"c (p + 3) k = {c * (p + 3) * k * 8:,} B"
                    sizes = ", ".join(g["kind"].split("Gram ")[1] for g in group
                                      if "Gram " in g["kind"])
                    lines.append(
                        f"| {regime} | {what if first else ''} | "
                        f"{n_passes if first else ''} | {len(group)} x {key}"
                        f"{f' ({sizes})' if sizes else ''} | {group[0]['leaves']} | "
                        f"{max(g['leaf_bytes'] for g in group):,} "
                        f"({max(g['leaf_max'] for g in group):,}) | "
                        f"{max(g['between'] for g in group):,} | "
                        f"{max(g['client'] for g in group):,} | {formula} |")
                    print(lines[-1], flush=True)
                    first = False
    finally:
        for cls, name, fn in monkey:
            setattr(cls, name, fn)
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
