"""Peak extra memory of a fit compared with the size of X (the figures in the README).

    python benchmarks/memory_usage.py               # X of 100-400 MB per case
    python benchmarks/memory_usage.py --scale 0.25  # smaller, quicker
    python benchmarks/memory_usage.py --case csc64  # one case

Every case runs in a fresh process (Linux: it reads /proc/self). X is built without
large temporaries, then the peak-RSS counter is reset (``/proc/self/clear_refs``) and
tracemalloc started just before ``fit``. Two figures:

- traced: tracemalloc's peak above what was held before the fit. It sees every numpy
  allocation, not the kernels' C malloc (Gram caches);
- RSS: peak resident set size above the resident size before the fit: everything,
  Gram caches included.

Expected: O(n + p) for Fortran and CSC input with precompute=False; plus the Gram
cache for precompute=True (p^2 doubles) or "auto" (blocks of the working sets); one
copy of X for C-ordered dense or CSR input (converted to the kernels' layout).
"""

import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np
import scipy.sparse as sp

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from peak_memory import PeakMemory  # noqa: E402

# name: (layout, n, p, dtype, index dtype or None, precompute)
CASES = {
    "dense64-F": ("dense_F", 100_000, 500, "float64", None, False),
    "dense32-F": ("dense_F", 100_000, 500, "float32", None, False),
    "dense64-F-gram-full": ("dense_F", 100_000, 500, "float64", None, True),
    "dense64-wide-F": ("dense_F", 2_000, 20_000, "float64", None, False),
    "dense64-wide-F-gram-auto": ("dense_F", 2_000, 20_000, "float64", None, "auto"),
    "csc64-int32": ("csc", 200_000, 20_000, "float64", "int32", False),
    "csc32-int32": ("csc", 200_000, 20_000, "float32", "int32", False),
    "csc64-int64": ("csc", 200_000, 20_000, "float64", "int64", False),
    "control: dense64-C": ("dense_C", 100_000, 500, "float64", None, False),
    "control: csr64": ("csr", 200_000, 20_000, "float64", "int32", False),
}
NNZ_PER_COLUMN = 500  # sparse cases: nnz = 500 p


def _build(layout, n, p, dtype, index_dtype):
    """X (no temporary larger than a column) and y."""
    rng = np.random.default_rng(0)
    if layout.startswith("dense"):
        X = np.empty((n, p), dtype=dtype, order="F" if layout == "dense_F" else "C")
        for j in range(p):
            X[:, j] = rng.standard_normal(n)
        beta = rng.standard_normal(10)
        y = X[:, :10] @ beta + rng.standard_normal(n)
        return X, y
    k = NNZ_PER_COLUMN
    indptr = np.arange(0, p * k + 1, k, dtype=index_dtype)
    indices = np.empty(p * k, dtype=index_dtype)
    data = np.empty(p * k, dtype=dtype)
    for j in range(p):
        indices[j * k : (j + 1) * k] = np.sort(rng.choice(n, k, replace=False))
        data[j * k : (j + 1) * k] = rng.standard_normal(k)
    X = sp.csc_matrix((data, indices, indptr), shape=(n, p), copy=False)
    X.indices, X.indptr = indices, indptr  # scipy narrows int64 indices if it can
    y = np.asarray(X[:, :20] @ rng.standard_normal(20)) + rng.standard_normal(n)
    return (X.tocsr() if layout == "csr" else X), y


def _nbytes(X):
    if sp.issparse(X):
        return X.data.nbytes + X.indices.nbytes + X.indptr.nbytes
    return X.nbytes


def run_case(name, scale):
    """Measure one case in this process; return a dict of figures."""
    import fastlasso

    layout, n, p, dtype, index_dtype, precompute = CASES[name]
    if layout.startswith("dense"):
        n = max(100, int(n * scale))
    else:
        p = max(100, int(p * scale))
    X, y = _build(layout, n, p, dtype, index_dtype)
    alpha_max = np.abs(X.T @ (y - y.mean())).max() / n  # no copy of X for this
    est = fastlasso.Lasso(alpha=0.05 * alpha_max, precompute=precompute, tol=1e-4)
    with PeakMemory() as mem:
        t0 = time.perf_counter()
        est.fit(X, y)
        seconds = time.perf_counter() - t0
    return dict(
        case=name,
        n=n,
        p=p,
        nnz=int(X.nnz) if sp.issparse(X) else n * p,
        x_mb=_nbytes(X) / 1e6,
        traced_mb=mem.traced / 1e6,
        rss_mb=mem.rss / 1e6,
        seconds=seconds,
        n_nonzero=int(np.count_nonzero(est.coef_)),
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--scale",
        type=float,
        default=1.0,
        help="multiply n (dense) or p (sparse) by this",
    )
    parser.add_argument(
        "--case",
        choices=sorted(CASES),
        action="append",
        help="run only these cases (repeatable)",
    )
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run_case(args.case[0], args.scale)))
        return
    print(
        "| case | n | p | nnz | X (MB) | traced peak (MB) | % of X "
        "| peak RSS (MB) | % of X | fit (s) |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name in args.case or CASES:
        out = subprocess.run(
            [
                sys.executable,
                __file__,
                "--child",
                "--case",
                name,
                "--scale",
                str(args.scale),
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        r = json.loads(out.stdout.strip().splitlines()[-1])
        print(
            f"| {r['case']} | {r['n']} | {r['p']} | {r['nnz']:.3g} "
            f"| {r['x_mb']:.0f} | {r['traced_mb']:.2f} "
            f"| {100 * r['traced_mb'] / r['x_mb']:.2f} | {r['rss_mb']:.1f} "
            f"| {100 * r['rss_mb'] / r['x_mb']:.1f} | {r['seconds']:.2f} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
