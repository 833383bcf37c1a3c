"""Where the time and the memory of a fastlasso.dask working-set fit go, pass by pass
(wide or sparse data: regime "ws").

    python benchmarks/dask_ws_passes.py --n 100000 --p 20000 --rows 10000

On a LocalCluster (2 worker processes x 1 thread, ``--worker-memory`` each), with the
sparse data of ``dask_compare.py`` (``problem_chunk``: CSR chunks at ``--density``
generated from seeds on the workers, ``--rows`` per chunk), at alpha =
``--alpha-ratio`` alpha_max:

  gen        one pass that only generates the chunks and sums them
  fit        Lasso(persist=False).fit, every pass timed as it runs:
             kind (statistics; residuals at w; Gram block of |new| x |W| features),
             wall seconds, the client's seconds before it (its solve), and the
             workers' peak resident memory during the pass (VmHWM, reset before the
             pass: the kernel's count, not ru_maxrss, which a process forked from a
             large one inherits)
  replay     each pass's request rerun on chunk 0 in this process: bytes of the
             chunk's result (what a pass moves and merges, per chunk) and the peak
             bytes allocated while computing it (tracemalloc), deterministic

Printed: a markdown table per pass and the totals: fit / (passes x gen) and the
passes' sum against the fit.
"""

import argparse
import os
import sys
import time
import tracemalloc

import numpy as np
import scipy.sparse as sp

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from dask_compare import (  # noqa: E402
    SPARSE_DENSITY,
    dask_problem,
    gen_pass,
    problem_chunk,
    reset_worker_peaks,
    worker_peak_rss,
)


def nbytes(obj):
    """Bytes of the arrays in a (nested) chunk result."""
    if obj is None:
        return 0
    if isinstance(obj, np.ndarray):
        return obj.nbytes
    if sp.issparse(obj):
        obj = obj.tocsr() if obj.format not in ("csr", "csc") else obj
        return obj.data.nbytes + obj.indices.nbytes + obj.indptr.nbytes
    if hasattr(obj, "u_rows"):  # fastlasso._chunkstats.SparseGramSums
        return nbytes(obj.A) + nbytes(obj.u_rows) + nbytes(obj.u_cols)
    if isinstance(obj, dict):
        return sum(nbytes(v) for v in obj.values())
    if isinstance(obj, (tuple, list)):
        return sum(nbytes(v) for v in obj)
    if hasattr(obj, "__dataclass_fields__"):
        return sum(nbytes(getattr(obj, f)) for f in obj.__dataclass_fields__)
    return 8


class PassLog:
    """Wraps DaskData's passes: per pass (kind, seconds, client seconds before it,
    workers' peak RSS) and the request, for the replay."""

    def __init__(self, client):
        self.client = client
        self.rows = []
        self.last = None

    def install(self):
        from fastlasso.dask import _passes

        log = self
        cls = _passes.DaskData
        orig_run, orig_moments, orig_r = cls._run, cls.moments, cls.run

        def moments(self, gram=False, fold_bounds=None):
            log.request = ("moments", dict(gram=gram))
            return orig_moments(self, gram=gram, fold_bounds=fold_bounds)

        def run(self, resid=None, gram=None):
            log.request = ("pass", dict(resid=resid, gram=gram))
            return orig_r(self, resid=resid, gram=gram)

        def _run(self, leaves, merge):
            t0 = time.perf_counter()
            client_s = None if log.last is None else t0 - log.last
            reset_worker_peaks(log.client)
            out = orig_run(self, leaves, merge)
            t1 = time.perf_counter()
            rss = worker_peak_rss(log.client)
            log.rows.append(dict(request=log.request, seconds=t1 - t0,
                                 client=client_s, rss=rss))
            log.last = time.perf_counter()
            return out

        _passes.DaskData._run, _passes.DaskData.moments = _run, moments
        _passes.DaskData.run = run


def describe(request):
    kind, kw = request
    if kind == "moments":
        return "statistics" + (" + Gram" if kw["gram"] else "")
    parts = []
    if kw["resid"] is not None:
        parts.append(f"residuals ({np.asarray(kw['resid'][0]).shape[1]} col)")
    if kw["gram"] is not None:
        rows, cols = np.asarray(kw["gram"][0]), np.asarray(kw["gram"][1])
        parts.append(f"Gram {rows.size} x {cols.size}")
    return " + ".join(parts)


def replay(request, X, y):
    """(result bytes, peak traced bytes, seconds) of the request on one chunk."""
    from fastlasso._chunkstats import chunk_moments, chunk_pass

    kind, kw = request
    tracemalloc.start()
    t = time.perf_counter()
    if kind == "moments":
        out = chunk_moments(X, y, None, **kw)
    else:
        out = chunk_pass(X, y, None, **kw)
    sec = time.perf_counter() - t
    _, top = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return nbytes(out), top, sec


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--p", type=int, default=20_000)
    ap.add_argument("--rows", type=int, default=10_000)
    ap.add_argument("--density", type=float, default=SPARSE_DENSITY)
    ap.add_argument("--worker-memory", default="2GiB")
    ap.add_argument("--alpha-ratio", type=float, default=0.05)
    ap.add_argument("--tol", type=float, default=1e-8)
    ap.add_argument("--no-replay", action="store_true")
    args = ap.parse_args(argv)

    from distributed import Client, LocalCluster

    import fastlasso.dask as fld
    from fastlasso._statsolve import alpha_max, problem_from_moments
    from fastlasso.dask._passes import DaskData

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      memory_limit=args.worker_memory,
                      dashboard_address=None) as cluster, Client(cluster) as client:
        X, y = dask_problem("sparse", args.n, args.p, args.rows, args.density)
        gen = gen_pass(X, y)
        print(f"gen pass {gen:.2f} s", flush=True)
        with DaskData(X, y, None, client) as data:
            prob = problem_from_moments(data.moments(), True, data.dtype)
        alpha = args.alpha_ratio * alpha_max(prob)
        log = PassLog(client)
        log.install()
        t = time.perf_counter()
        est = fld.Lasso(alpha=alpha, tol=args.tol, persist=False).fit(X, y)
        fit = time.perf_counter() - t
        limit = min(w["memory_limit"]
                    for w in client.scheduler_info()["workers"].values())
    Xc = yc = None
    if not args.no_replay:
        Xc, yc = problem_chunk("sparse", 0, args.rows, args.p, args.density)
    print(f"\n{args.n} x {args.p} sparse, {args.rows} rows per chunk "
          f"({args.n // args.rows} chunks), {args.worker_memory} per worker, alpha = "
          f"{args.alpha_ratio} alpha_max, tol {args.tol:g}; load "
          f"{os.getloadavg()[0]:.1f}\n")
    print("| pass | request | seconds | client before (s) | worker peak RSS (MiB) | "
          "chunk result (MiB) | chunk task peak alloc (MiB) | chunk task (s) |")
    print("|---|---|---|---|---|---|---|---|")
    for i, r in enumerate(log.rows):
        rep = ("", "", "")
        if Xc is not None:
            b, top, sec = replay(r["request"], Xc, yc)
            rep = (f"{b / 2**20:.2f}", f"{top / 2**20:.1f}", f"{sec:.3f}")
        cl = "" if r["client"] is None else f"{r['client']:.2f}"
        print(f"| {i + 1} | {describe(r['request'])} | {r['seconds']:.2f} | {cl} | "
              f"{r['rss'] / 2**20:.0f} | {rep[0]} | {rep[1]} | {rep[2]} |")
    total = sum(r["seconds"] for r in log.rows)
    ratio = fit / (est.n_passes_ * gen)
    print(f"\nfit {fit:.2f} s, {est.n_passes_} passes, support "
          f"{np.count_nonzero(est.coef_)}, gap {est.dual_gap_:.3g}; passes sum "
          f"{total:.2f} s; client {fit - total:.2f} s; fit / (passes x gen) = "
          f"{ratio:.2f}; worker limit {limit / 2**20:.0f} MiB, peak "
          f"{max(r['rss'] for r in log.rows) / 2**20:.0f} MiB")


if __name__ == "__main__":
    main()
