"""fastlasso.dask side by side with dask-ml, pyspark, scikit-learn's GridSearchCV under
joblib's Dask backend, and in-memory fastlasso, on data generated on the workers.

    pip install -e ".[dask,bench-dask]"
    python benchmarks/dask_compare.py --quick              # small sizes, minutes
    nice python benchmarks/dask_compare.py --markdown out.md  # full sizes (quiet box)

Problems (``--problems``, full / quick sizes):
  dense   2,000,000 x 200 float64 (3.2 GB) / 100,000 x 50: single Lasso fit;
  densecv the same data: LassoCV(cv=5) (contiguous folds);
  sparse  500,000 x 100,000 at 0.1% density (CSR chunks) / 20,000 x 5,000.
The data are generated chunk by chunk from seeds (``problem_chunk``): the same rows
for every solver, on the Dask workers (never as a whole in one process), as Spark
partitions for pyspark. alpha = 0.05 alpha_max for the single fits.

Measured per solver: wall time of ``fit`` (data generation included for the Dask
solvers: a worker regenerates its chunks on each pass, unless fastlasso.dask keeps
them, as its default ``persist="auto"`` does for as many leading chunks as take at most
a quarter of the workers' free memory (all of them for smaller data), and its later
passes read those from memory; ``gen pass`` is the time of one pass that only
generates and sums them; ``--persist`` times the other setting too),
passes over the data (fastlasso.dask's
``n_passes_``), peak worker RSS, and P - P* with P evaluated by one Dask pass in
float64 (``objective``) and P* from in-memory fastlasso at tol 1e-12 where X fits in
this process (``--reference``; else the best objective of the run). Targets: P - P* <=
1e-6 P*; fastlasso.dask's time within 1.5x of (statistics pass + client solve); faster
than pyspark; at least 10x faster than dask-ml. Peers that take longer than ``--cap``
seconds (default 600) are stopped (they run in a child process) and shown as "> cap".
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
import scipy.sparse as sp

SIZES = {
    "full": {"dense": (2_000_000, 200, 50_000), "sparse": (500_000, 100_000, 25_000)},
    "quick": {"dense": (100_000, 50, 10_000), "sparse": (20_000, 5_000, 5_000)},
}
SPARSE_DENSITY = 0.001
SEED = 20261206


# --------------------------------------------------------------------------------------
# data: the same rows for every solver


def problem_chunk(kind, i, rows, p, density=SPARSE_DENSITY, seed=SEED):
    """(X, y) of chunk i (rows [i rows, (i + 1) rows)): dense N(0, 1) with a common
    factor (pairwise correlation 0.2) and shifted means, or sparse CSR with N(0, 1)
    entries; y = X beta + N(0, 1), beta with 20 nonzeros among the first 40 (dense) or
    100 among the first 1000 (sparse) features."""
    rng = np.random.default_rng([seed, i])
    if kind == "dense":
        X = rng.standard_normal((rows, p))
        X += 0.5 * rng.standard_normal((rows, 1))
        X[:, : p // 4] += 1.0
    else:
        X = sp.random(rows, p, density=density, format="csr", random_state=rng,
                      data_rvs=rng.standard_normal)
    beta = true_coef(kind, p)
    y = np.asarray(X @ beta).ravel() + rng.standard_normal(rows)
    return X, y


def true_coef(kind, p):
    rng = np.random.default_rng(SEED)
    k, first = (20, 40) if kind == "dense" else (100, 1000)
    beta = np.zeros(p)
    idx = rng.choice(min(first, p), size=min(k, p), replace=False)
    beta[idx] = rng.choice([-1.0, 1.0], idx.size) * rng.uniform(0.5, 2.0, idx.size)
    return beta


def dask_problem(kind, n, p, rows, density=SPARSE_DENSITY):
    """(X, y) dask arrays whose chunks problem_chunk generates on the workers."""
    import dask.array as da
    from dask import delayed

    n_chunks = n // rows
    meta = sp.csr_matrix((0, p)) if kind == "sparse" else np.empty((0, p))
    xs, ys = [], []
    for i in range(n_chunks):
        pair = delayed(problem_chunk, pure=True)(kind, i, rows, p, density)
        xs.append(da.from_delayed(pair[0], shape=(rows, p), dtype=np.float64,
                                  meta=meta))
        ys.append(da.from_delayed(pair[1], shape=(rows,), dtype=np.float64))
    return da.concatenate(xs), da.concatenate(ys)


def local_problem(kind, n, p, rows):
    """The whole (X, y) in this process (for the in-memory reference)."""
    parts = [problem_chunk(kind, i, rows, p) for i in range(n // rows)]
    if kind == "sparse":
        X = sp.vstack([a for a, _ in parts], format="csr")
    else:
        X = np.asfortranarray(np.vstack([a for a, _ in parts]))
    return X, np.concatenate([b for _, b in parts])


def objective(X, y, coef, intercept, alpha):
    """P(w, b) = ||y - X w - b||^2 / (2 n) + alpha ||w||_1, by one Dask pass
    (float64)."""
    import dask.array as da

    w = np.asarray(coef, dtype=np.float64)
    r = y - X.map_blocks(lambda b: np.asarray(b @ w).ravel(), drop_axis=1,
                         dtype=np.float64) - float(intercept)
    rss = float(da.dot(r, r).compute())
    return rss / (2 * X.shape[0]) + alpha * np.abs(w).sum()


def gen_pass(X, y):
    """Seconds for one pass that only generates the chunks (and sums them)."""
    import dask
    import dask.array as da

    t = time.perf_counter()
    dask.compute(X.map_blocks(lambda b: np.asarray(b.sum(axis=0)).reshape(1, -1),
                              chunks=(1, X.shape[1])).sum(axis=0), da.sum(y))
    return time.perf_counter() - t


def _reset_peak_rss():
    with open("/proc/self/clear_refs", "w") as f:  # VmHWM restarts at the current RSS
        f.write("5")


def _peak_rss():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return 0


def reset_worker_peaks(client):
    """Start the workers' peak-RSS count afresh (before a timed fit)."""
    client.run(_reset_peak_rss)


def worker_peak_rss(client):
    """Largest peak resident memory of a worker since reset_worker_peaks: the kernel's
    VmHWM of the worker process (Linux). Not ``ru_maxrss``: a worker process the nanny
    (re)starts is forked from this process and keeps, through the exec, the resident
    size this process had then (Linux keeps the larger of the two in ru_maxrss), e.g.
    after the in-memory reference held X here, and it never resets."""
    return max(client.run(_peak_rss).values())


# --------------------------------------------------------------------------------------
# solvers


def run_fastlasso_dask(X, y, alpha, cv=None, alphas=None, tol=1e-8, persist="auto",
                       repeat=1):
    """The fit (median time of ``repeat``); for a single fit in the Gram regime also
    the reference of the 1.5x target, the statistics pass alone and the client solve,
    timed interleaved with the fits (fit, pass, fit, pass, ...)."""
    import fastlasso.dask as fld
    from fastlasso._solve import scaled_penalties
    from fastlasso._statsolve import GramModelSolver, problem_from_moments
    from fastlasso.dask._passes import DaskData

    times, stats, solves = [], [], []
    for _ in range(repeat):
        t = time.perf_counter()
        if cv:
            est = fld.LassoCV(cv=cv, alphas=alphas, tol=tol, persist=persist).fit(X, y)
        else:
            est = fld.Lasso(alpha=alpha, tol=tol, persist=persist).fit(X, y)
        times.append(time.perf_counter() - t)
        if cv or getattr(est, "regime_", "") != "gram":
            continue
        data = DaskData(X, y, None, None)  # streams: one read of the data
        t = time.perf_counter()
        prob = problem_from_moments(data.moments(gram=True), True, data.dtype)
        stats.append(time.perf_counter() - t)
        t = time.perf_counter()
        solver = GramModelSolver(prob.G, prob.xty, prob.yy, prob.norm2, prob.n_rows,
                                 prob.dtype)
        solver.solve(None, *scaled_penalties(prob.n, alpha, 1.0), tol * prob.yy, 1000,
                     False, "cyclic", None)
        solves.append(time.perf_counter() - t)
    out = dict(time=float(np.median(times)), passes=est.n_passes_, coef=est.coef_,
               intercept=float(est.intercept_), gap=float(est.dual_gap_),
               regime=getattr(est, "regime_", None))
    if cv:
        out["alpha"] = est.alpha_
    if stats:
        out["stats_pass"] = float(np.median(stats))
        out["client_solve"] = float(np.median(solves))
    return out


def run_in_child(target, args, cap):
    """Run ``python this_file --child target args`` and return its JSON result, or
    {"timeout": cap} when it takes longer than cap seconds."""
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as f:
        out = f.name
    cmd = [sys.executable, __file__, "--child", target, json.dumps(args), out]
    t = time.perf_counter()
    try:
        subprocess.run(cmd, timeout=cap, check=True)
    except subprocess.TimeoutExpired:
        return {"timeout": cap, "time": time.perf_counter() - t}
    except subprocess.CalledProcessError as exc:
        return {"error": f"exit {exc.returncode}"}
    with open(out) as fh:
        res = json.load(fh)
    os.unlink(out)
    return res


def child_daskml(args):
    """dask-ml LinearRegression(penalty="l1", solver=...) with C = 1 / (2 n alpha)
    (its loss is a plain sum: sum (y - Xw - b)^2 / 2 + ||w||_1 / C)."""
    from dask_ml.linear_model import LinearRegression
    from distributed import Client

    with Client(args["scheduler"]):
        X, y = dask_problem(args["kind"], args["n"], args["p"], args["rows"])
        if args["kind"] == "sparse":
            return {"error": "dask-ml needs dense chunks here"}
        n = args["n"]
        est = LinearRegression(penalty="l1", solver=args["solver"],
                               C=1.0 / (2 * n * args["alpha"]), fit_intercept=True,
                               max_iter=args.get("max_iter", 100))
        t = time.perf_counter()
        est.fit(X, y)
        elapsed = time.perf_counter() - t
        return dict(time=elapsed, coef=np.asarray(est.coef_).tolist(),
                    intercept=float(est.intercept_))


def child_pyspark(args):
    """pyspark LinearRegression(elasticNetParam=1, standardization=False), local[2]:
    regParam = alpha is scikit-learn's alpha. The data are generated as Spark partitions
    (the same chunks), cached and counted before the timed fit."""
    from pyspark.ml.linalg import DenseVector, SparseVector
    from pyspark.ml.regression import LinearRegression
    from pyspark.sql import SparkSession

    kind, n, p, rows = args["kind"], args["n"], args["p"], args["rows"]
    spark = (SparkSession.builder.master("local[2]")
             .config("spark.driver.memory", args.get("driver_memory", "8g"))
             .config("spark.sql.shuffle.partitions", "4")
             .config("spark.ui.enabled", "false").getOrCreate())

    def rows_of(i):
        X, y = problem_chunk(kind, i, rows, p)
        for k in range(rows):
            if kind == "sparse":
                r = X.getrow(k)
                row = SparseVector(p, r.indices.tolist(), r.data.tolist())
                yield (row, float(y[k]))
            else:
                yield (DenseVector(X[k]), float(y[k]))

    rdd = spark.sparkContext.parallelize(range(n // rows), n // rows).flatMap(rows_of)
    df = spark.createDataFrame(rdd, ["features", "label"]).cache()
    df.count()
    lr = LinearRegression(regParam=args["alpha"], elasticNetParam=1.0,
                          standardization=False, fitIntercept=True, maxIter=1000,
                          tol=1e-10)
    t = time.perf_counter()
    model = lr.fit(df)
    elapsed = time.perf_counter() - t
    res = dict(time=elapsed, coef=model.coefficients.toArray().tolist(),
               intercept=float(model.intercept),
               iterations=int(model.summary.totalIterations))
    spark.stop()
    return res


def child_gridsearch(args):
    """scikit-learn GridSearchCV(Lasso) over alphas under joblib's Dask backend, on the
    benchmark's cluster, X in this (child) process's memory: joblib scatters X and y
    to a worker (hash=False: data no task can recompute).

    In a child process under the cap, because joblib's Dask backend can hang: when the
    scatter fails (the receiving worker dies, e.g. restarted by its nanny for memory
    when X is larger than its limit, as at 2,000,000 x 200 against 3 GiB), the
    exception stays in the callback joblib runs on the client's event loop
    (``DaskDistributedBackend.submit.<locals>.f``), logged by tornado but never set on
    the future Parallel waits for (dask/distributed#4635 shows the same traceback);
    and a worker lost after the scatter loses the only copy of X (the fit then fails
    with FutureCancelledError). fastlasso's in-memory LassoCV passes no data
    arguments (its folds' closures carry X), so a lost worker's folds are rerun."""
    import joblib
    from distributed import Client
    from sklearn.linear_model import Lasso
    from sklearn.model_selection import GridSearchCV, KFold

    X, y = local_problem(args["kind"], args["n"], args["p"], args["rows"])
    with Client(args["scheduler"]):
        gs = GridSearchCV(Lasso(), {"alpha": list(args["alphas"])},
                          cv=KFold(args["cv"]), scoring="neg_mean_squared_error",
                          n_jobs=-1)
        t = time.perf_counter()
        with joblib.parallel_config("dask"):
            gs.fit(X, y)
        elapsed = time.perf_counter() - t
    best = gs.best_estimator_
    return dict(time=elapsed, alpha=gs.best_params_["alpha"],
                coef=best.coef_.tolist(), intercept=float(best.intercept_))


# --------------------------------------------------------------------------------------


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="small sizes")
    ap.add_argument("--problems", default="dense,densecv,sparse")
    ap.add_argument("--peers", default="fastlasso,daskml,pyspark,gridsearch")
    ap.add_argument("--cap", type=float, default=600.0)
    ap.add_argument("--tol", type=float, default=1e-8,
                    help="fastlasso's tol (its certified gap <= tol ||y - ybar||^2 "
                    "/ n)")
    ap.add_argument("--worker-memory", default=None,
                    help="per worker (default: 3GiB full, 1GiB quick)")
    ap.add_argument("--persist", choices=["auto", "no"], default="auto",
                    help="'auto': besides the default fit (persist='auto'), time "
                    "fastlasso.dask with persist=False when the default kept chunks "
                    "in memory, or with persist=True when it kept none and X takes "
                    "at most 40%% of the workers' memory; 'no': the default fit only")
    ap.add_argument("--reference", default="auto",
                    help="'auto': in-memory fastlasso at tol 1e-12 when X fits; 'no'")
    ap.add_argument("--repeat", type=int, default=1,
                    help="fastlasso.dask fits per cell (median), each followed by a "
                    "statistics pass alone (the 1.5x reference)")
    ap.add_argument("--spark-memory", default="8g",
                    help="pyspark's spark.driver.memory (local[2]: its whole JVM)")
    ap.add_argument("--markdown", default=None)
    ap.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        target, payload, out = args.child
        child = {"daskml": child_daskml, "pyspark": child_pyspark,
                 "gridsearch": child_gridsearch}[target]
        res = child(json.loads(payload))
        with open(out, "w") as f:
            json.dump(res, f)
        return

    from distributed import Client, LocalCluster

    import fastlasso

    sizes = SIZES["quick" if args.quick else "full"]
    mem = args.worker_memory or ("1GiB" if args.quick else "3GiB")
    peers = args.peers.split(",")
    lines = [(f"# fastlasso.dask benchmarks ({time.strftime('%Y-%m-%d')}, "
              f"{'quick' if args.quick else 'full'} sizes, LocalCluster 2 x 1 thread, "
              f"{mem} per worker, fastlasso tol {args.tol:g})"), "",
             ("| problem | solver | time (s) | passes | peak worker RSS (MiB) | "
              "P - P* | (P - P*) / P* | notes |"), "|---|---|---|---|---|---|---|---|"]

    def row(problem, solver, res, P, Pstar, rss, notes=""):
        if "timeout" in res or "error" in res:
            t = f"> {res['timeout']:.0f}" if "timeout" in res else res["error"]
            lines.append(f"| {problem} | {solver} | {t} | | | | | {notes} |")
        else:
            gap = P - Pstar
            lines.append(
                f"| {problem} | {solver} | {res['time']:.2f} | "
                f"{res.get('passes', '')} | "
                f"{'' if rss is None else f'{rss / 2**20:.0f}'} | {gap:.2e} | "
                f"{gap / Pstar:.1e} | {notes} |")
        print(lines[-1], flush=True)

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      memory_limit=mem, dashboard_address=None) as cluster, \
            Client(cluster) as client:
        for problem in args.problems.split(","):
            kind = "sparse" if problem == "sparse" else "dense"
            n, p, rows = sizes[kind]
            X, y = dask_problem(kind, n, p, rows)
            gen = gen_pass(X, y)
            lines.append(f"| {problem} {n} x {p} | (one generating pass) | {gen:.2f} "
                         "| 1 | | | | |")
            # alpha and (for CV) the grid from the statistics of the data
            from fastlasso._statsolve import alpha_max, problem_from_moments
            from fastlasso.dask._passes import DaskData

            stats = problem_from_moments(DaskData(X, y, None, client).moments(), True,
                                         np.float64)
            amax = alpha_max(stats)
            alpha = 0.05 * amax
            cv = 5 if problem == "densecv" else None
            alphas = np.geomspace(amax, amax * 1e-3, 20) if cv else None
            results = {}
            if "fastlasso" in peers:
                from fastlasso.dask._passes import auto_keep

                kept = auto_keep(client, [X, y], kind == "sparse")
                reset_worker_peaks(client)
                res = run_fastlasso_dask(X, y, alpha, cv=cv, alphas=alphas,
                                         tol=args.tol, repeat=args.repeat)
                res["persist"] = f"{kept} of {X.numblocks[0]} chunks"
                res["rss"] = worker_peak_rss(client)
                results["fastlasso.dask"] = res
                if cv:
                    alpha = res["alpha"]
                memory = sum(w["memory_limit"]
                             for w in client.scheduler_info()["workers"].values())
                other = False if kept else (True if X.nbytes <= 0.4 * memory
                                            else None)
                if args.persist == "auto" and other is not None:
                    reset_worker_peaks(client)
                    res = run_fastlasso_dask(X, y, alpha, cv=cv, alphas=alphas,
                                             tol=args.tol, persist=other,
                                             repeat=args.repeat)
                    res["rss"] = worker_peak_rss(client)
                    results[f"fastlasso.dask persist={other}"] = res
            if args.reference != "no":
                Xl, yl = local_problem(kind, n, p, rows)
                est = (fastlasso.Lasso(alpha=alpha, tol=1e-12, max_iter=100_000)
                       .fit(Xl, yl))
                t = time.perf_counter()
                fastlasso.Lasso(alpha=alpha, tol=args.tol).fit(Xl, yl)
                t_local = time.perf_counter() - t
                if cv:
                    t = time.perf_counter()
                    fastlasso.LassoCV(cv=5, alphas=alphas, tol=args.tol).fit(Xl, yl)
                    t_local = time.perf_counter() - t
                results["fastlasso (in memory)"] = dict(
                    time=t_local, coef=est.coef_, intercept=float(est.intercept_))
                del Xl, yl  # the children make their own copies
            scheduler = cluster.scheduler_address
            common = dict(kind=kind, n=n, p=p, rows=rows, alpha=alpha,
                          scheduler=scheduler, driver_memory=args.spark_memory)
            def child(target, child_args):
                """A peer in a child process under the cap; if it was stopped (or
                failed), the workers restart: tasks it left running on them cannot be
                interrupted (GridSearchCV's folds, dask-ml's iterations) and would
                share the workers with the next cells, as would a half-done scatter
                of X."""
                res = run_in_child(target, child_args, args.cap)
                if "timeout" in res or "error" in res:
                    client.restart()
                return res

            if "daskml" in peers and not cv:
                for solver in ("admm", "proximal_grad"):
                    results[f"dask-ml {solver}"] = child(
                        "daskml", dict(common, solver=solver))
            if "pyspark" in peers and not cv:
                results["pyspark local[2]"] = child("pyspark", common)
            if "gridsearch" in peers and cv:
                results["sklearn GridSearchCV (joblib dask)"] = child(
                    "gridsearch", dict(common, alphas=list(alphas), cv=cv))
            objs = {}
            for name, res in results.items():
                if "coef" in res:
                    objs[name] = objective(X, y, res["coef"], res["intercept"], alpha)
            if "fastlasso (in memory)" in objs:
                Pstar = objs["fastlasso (in memory)"]
            else:
                Pstar = min(objs.values())
            for name, res in results.items():
                notes = ""
                if "stats_pass" in res:
                    ref = res["stats_pass"] + res["client_solve"]
                    notes = (f"stats pass {res['stats_pass']:.2f} s + client solve "
                             f"{res['client_solve']:.3f} s: fit / that = "
                             f"{res['time'] / ref:.2f}")
                elif res.get("regime") == "ws":
                    ref = res["passes"] * gen
                    notes = (f"passes x gen pass = {ref:.1f} s: fit / that = "
                             f"{res['time'] / ref:.2f}")
                if "alpha" in res:
                    notes += f" alpha_ = {res['alpha']:.4g}"
                if "persist" in res:
                    notes += f" (persist='auto' kept {res['persist']})"
                if name == "fastlasso (in memory)":
                    notes += "P* (tol 1e-12); time of a fit at --tol"
                row(f"{problem} {n} x {p}", name, res, objs.get(name, np.nan), Pstar,
                    res.get("rss"), notes)
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
