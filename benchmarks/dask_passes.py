"""Where the time of a fastlasso.dask fit goes in the Gram regime (n >> p): the passes
timed alone and the fits, interleaved in one run.

    python benchmarks/dask_passes.py --n 400000 --p 200 --repeat 3

On a LocalCluster (2 worker processes x 1 thread, ``--worker-memory`` each), with the
dense data of ``dask_compare.py`` (``problem_chunk``: generated from seeds on the
workers, ``--rows`` per chunk). Each round, in this order (then medians over
``--repeat`` rounds):

  gen          a pass that only generates the chunks and sums them
  stats        the statistics pass (means and centred Gram matrix; streams)
  solve        the client's Gram solve at alpha = ``--alpha-ratio`` alpha_max
  cert         the certificate pass at the solution (X^T r, r^T r; streams)
  stats_kept   the statistics pass over data already in the workers' memory
  cert_kept    the certificate pass over them (kept data: computation and scheduling
               without the generation)
  fit_stream   Lasso(persist=False).fit
  fit_auto     Lasso(persist="auto").fit (the default)

The 1.5x target of issue #18 reads fit / (stats + solve). Printed: a markdown table
of the medians and the ratios.
"""

import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from dask_compare import dask_problem, gen_pass  # noqa: E402


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=400_000)
    ap.add_argument("--p", type=int, default=200)
    ap.add_argument("--rows", type=int, default=50_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--worker-memory", default="2GiB")
    ap.add_argument("--alpha-ratio", type=float, default=0.05)
    ap.add_argument("--tol", type=float, default=1e-8)
    ap.add_argument("--steps", default=",".join(STEPS),
                    help="comma-separated steps to run (default: all)")
    ap.add_argument("--clock", choices=["wall", "cpu"], default="wall",
                    help="'cpu': CPU seconds of the workers' and this process "
                    "(which runs the scheduler), less sensitive to other load")
    args = ap.parse_args(argv)

    from distributed import Client, LocalCluster

    from fastlasso._statsolve import alpha_max, problem_from_moments
    from fastlasso.dask._passes import DaskData

    times = {}
    steps = set(args.steps.split(","))

    def timed(name, fn):
        if name not in steps:
            return None
        clock = time.perf_counter
        if args.clock == "cpu":
            def clock():
                return sum(client.run(time.process_time).values()) + time.process_time()
        t = clock()
        out = fn()
        times.setdefault(name, []).append(clock() - t)
        print(f"  {name}: {times[name][-1]:.2f} s", flush=True)
        return out

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      memory_limit=args.worker_memory,
                      dashboard_address=None) as cluster, Client(cluster) as client:
        X, y = dask_problem("dense", args.n, args.p, args.rows)
        with DaskData(X, y, None, client) as data:
            prob = problem_from_moments(data.moments(gram=True), True, data.dtype)
        alpha = args.alpha_ratio * alpha_max(prob)
        for r in range(args.repeat):
            print(f"round {r + 1}", flush=True)
            one_round(client, X, y, alpha, args, timed)
    med = {k: float(np.median(v)) for k, v in times.items()}
    load = os.getloadavg()[0]
    print(f"\n{args.n} x {args.p}, {args.rows} rows per chunk, {args.worker_memory} "
          f"per worker, medians of {args.repeat} (load now {load:.1f}):\n")
    print("| " + " | ".join(med) + " |")
    print("|" + "---|" * len(med))
    print("| " + " | ".join(f"{v:.2f}" for v in med.values()) + " |")
    ref = med.get("stats", np.nan) + med.get("solve", 0.0)
    for k in ("fit_stream", "fit_auto"):
        if k in med:
            print(f"{k} / (stats + solve) = {med[k] / ref:.2f}")



STEPS = ("gen", "stats", "solve", "cert", "stats_kept", "cert_kept", "fit_stream",
         "fit_auto")


def one_round(client, X, y, alpha, args, timed):
    """The steps of one round (module docstring), each timed by ``timed``."""
    from fastlasso._solve import scaled_penalties
    from fastlasso._statsolve import GramModelSolver, problem_from_moments
    from fastlasso.dask._passes import DaskData

    timed("gen", lambda: gen_pass(X, y))
    with DaskData(X, y, None, client) as data:
        prob = timed("stats", lambda: problem_from_moments(
            data.moments(gram=True), True, data.dtype))
        if prob is None or not {"solve", "cert", "stats_kept", "cert_kept"} & set(
                args.steps.split(",")):
            return fits(client, X, y, alpha, args, timed)

        def solve():
            solver = GramModelSolver(prob.G, prob.xty, prob.yy, prob.norm2,
                                     prob.n_rows, prob.dtype)
            return solver.solve(None, *scaled_penalties(prob.n, alpha, 1.0),
                                args.tol * prob.yy, 1000, False, "cyclic", None)[0]
        W = np.asarray(timed("solve", solve), dtype=np.float64)[:, None]
        timed("cert", lambda: data.residuals(W, [0.0], prob.y_mean))
    if {"stats_kept", "cert_kept"} & set(args.steps.split(",")):
        with DaskData(X, y, None, client, persist=True) as kept:
            kept.moments()  # computes and keeps the chunks (not timed)
            timed("stats_kept", lambda: kept.moments(gram=True))
            timed("cert_kept", lambda: kept.residuals(W, [0.0], prob.y_mean))
    fits(client, X, y, alpha, args, timed)


def fits(client, X, y, alpha, args, timed):
    import fastlasso.dask as fld
    from fastlasso.dask._passes import auto_keep

    timed("fit_stream", lambda: fld.Lasso(alpha=alpha, tol=args.tol,
                                          persist=False).fit(X, y))
    kept = auto_keep(client, [X, y], False)  # what the next fit will keep
    est = timed("fit_auto", lambda: fld.Lasso(alpha=alpha, tol=args.tol).fit(X, y))
    if est is not None:
        print(f"  fit_auto: passes {est.n_passes_}, gap {est.dual_gap_:.3g}, kept "
              f"about {kept} of {X.numblocks[0]} chunks", flush=True)


if __name__ == "__main__":
    main()
