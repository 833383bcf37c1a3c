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

What each time includes (wall clock, `time` column):
  fastlasso.dask          ``fit`` from the dask graph of the data: every pass makes
                          the chunks it does not hold (generation counted), except the
                          leading chunks ``persist="auto"`` keeps after making them
                          (all of them when they take at most a quarter of the
                          workers' free memory; sparse chunks sized by the first one);
  ..., data persisted first  ``fit`` on ``client.persist([X, y])`` made and waited for
                          beforehand (its time in the notes): fit only, as pyspark;
  fastlasso (in memory)   ``fit`` on X, y already in this process (a fit at --tol;
                          P* from another fit at tol 1e-12);
  dask-ml                 ``fit`` from the same dask graph (dask-glm persists what it
                          needs; generation counted), stopped at --cap;
  pyspark local[2]        ``fit`` only: its DataFrame was generated from the same
                          chunks, cached and counted before (that time in the notes;
                          the cap counts from the end of it);
  GridSearchCV            ``fit`` under joblib's Dask backend with X, y in the
                          child's memory (generated before; the fit ships X to the
                          workers), stopped at --cap.
``(one generating pass)`` is a pass that only makes the chunks and sums them.
Also: passes over the data (fastlasso.dask's ``n_passes_``), peak worker memory (VmHWM,
reset before each fastlasso.dask fit), and P - P* with every P evaluated by ONE Dask
pass in float64 (``objectives``) and P* from in-memory fastlasso at tol 1e-12 where X
fits in this process (``--reference``; else the best objective of the run). Targets:
P - P* <= 1e-6 P*; fastlasso.dask's time within 1.5x of (statistics pass + client
solve); faster than pyspark; at least 10x faster than dask-ml. Peers that take longer
than ``--cap`` seconds (default 600) are stopped (they run in a child process) and
shown as "> cap".
"""

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

import numpy as np
import scipy.sparse as sp
from peak_memory import proc_status, reset_peak_rss

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
    n_chunks = n // rows
    y = np.empty(n_chunks * rows)
    if kind == "sparse":
        parts = []
        for i in range(n_chunks):
            Xi, y[i * rows:(i + 1) * rows] = problem_chunk(kind, i, rows, p)
            parts.append(Xi)
        return sp.vstack(parts, format="csr"), y
    # dense: filled chunk by chunk, one copy of X (3.2 GB at full size, not 3)
    X = np.empty((n_chunks * rows, p), order="F")
    for i in range(n_chunks):
        X[i * rows:(i + 1) * rows], y[i * rows:(i + 1) * rows] = problem_chunk(
            kind, i, rows, p)
    return X, y


def objective(X, y, coef, intercept, alpha):
    """P(w, b) = ||y - X w - b||^2 / (2 n) + alpha ||w||_1, by one Dask pass
    (float64)."""
    return objectives(X, y, [(coef, intercept)], alpha)[0]


def objectives(X, y, models, alpha):
    """P of every (coef, intercept) of models, all by ONE Dask pass (float64): at
    full size a pass regenerates the data (~30-60 s)."""
    import dask.array as da

    if not models:
        return []
    W = np.column_stack([np.asarray(c, dtype=np.float64) for c, _ in models])
    b = np.array([float(i) for _, i in models])

    def sq_resid(Xb, yb):  # yb: a (rows, 1) block of y[:, None]
        R = yb - np.asarray(Xb @ W) - b
        return (R * R).sum(axis=0)[None, :]

    rss = da.map_blocks(sq_resid, X, y[:, None], chunks=(1, W.shape[1]),
                        dtype=np.float64, meta=np.empty((0, 0))).sum(axis=0).compute()
    return [float(rss[k]) / (2 * X.shape[0]) + alpha * np.abs(W[:, k]).sum()
            for k in range(W.shape[1])]


def kept_chunks(client, X, y):
    """How many leading chunks fastlasso.dask's persist="auto" keeps of (X, y) now
    (sparse: sized by the first chunk, made for that and released again)."""
    from fastlasso.dask._passes import DaskData, auto_keep

    if not sp.issparse(X._meta):
        return auto_keep(client, [X, y], False)
    with DaskData(X, y, None, client, persist=False) as data:
        return data._probe_keep([list(data._xb), list(data._yb)], [data.X, data.y])


def gen_pass(X, y):
    """Seconds for one pass that only generates the chunks (and sums them)."""
    import dask
    import dask.array as da

    t = time.perf_counter()
    dask.compute(X.map_blocks(lambda b: np.asarray(b.sum(axis=0)).reshape(1, -1),
                              chunks=(1, X.shape[1])).sum(axis=0), da.sum(y))
    return time.perf_counter() - t


def reset_worker_peaks(client):
    """Start the workers' peak-RSS count afresh (before a timed fit)."""
    client.run(reset_peak_rss)


def worker_peak_rss(client):
    """Largest peak resident memory of a worker since reset_worker_peaks: the kernel's
    VmHWM of the worker process (Linux). Not ``ru_maxrss``: a worker process the nanny
    (re)starts is forked from this process and keeps, through the exec, the resident
    size this process had then (Linux keeps the larger of the two in ru_maxrss), e.g.
    after the in-memory reference held X here, and it never resets."""
    return max(client.run(proc_status, "VmHWM").values())


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


class Workers:
    """The benchmark's LocalCluster (2 worker processes x 1 thread) and its client,
    replaced by a fresh one after a peer was stopped or failed (``fresh``):
    client.restart() is not enough there, the scheduler's restart met tasks of a
    child's graphs after its workers had been killed for memory (``assert not
    self.tasks`` in Scheduler.restart, four times in a row)."""

    def __init__(self, memory):
        self.memory = memory
        self.start()

    def start(self):
        from distributed import Client, LocalCluster

        self.cluster = LocalCluster(n_workers=2, threads_per_worker=1,
                                    processes=True, memory_limit=self.memory,
                                    dashboard_address=None)
        self.client = Client(self.cluster)
        self.scheduler_address = self.cluster.scheduler_address

    def close(self):
        for obj in (self.client, self.cluster):
            try:
                obj.close()
            except Exception as exc:  # noqa: BLE001 - going away anyway
                print(f"closing {type(obj).__name__}: {exc!r}", flush=True)

    def fresh(self):
        self.close()
        self.start()


def run_in_child(target, args, cap, loads=False):
    """Run ``python this_file --child target args`` and return its JSON result, or
    {"timeout": cap} when its fit takes longer than cap seconds. A child that loads
    its data before the timed fit (``loads``; pyspark: generate, cache, count) writes
    the seconds that took to OUT.load; the cap then counts from there, and the
    loading has cap seconds of its own: {"timeout": cap, "load": s}."""
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as f:
        out = f.name
    cmd = [sys.executable, __file__, "--child", target, json.dumps(args), out]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, start_new_session=True)  # its JVM too, on a kill
    load, t_loaded = None, None
    while proc.poll() is None:
        now = time.perf_counter()
        if load is None and os.path.exists(out + ".load"):
            with open(out + ".load") as fh:
                load = json.load(fh)["load"]
            t_loaded = now
        limit = (t_loaded + cap) if load is not None else t0 + cap
        if now > limit:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            res = {"timeout": cap, "time": now - (t_loaded or t0)}
            if load is not None:
                res["load"] = load
            elif loads:
                res["load_timeout"] = cap
            return res
        time.sleep(0.5)
    if os.path.exists(out + ".load"):
        os.unlink(out + ".load")
    if proc.returncode:
        return {"error": f"exit {proc.returncode}"}
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
        kwargs = None
        if args["kind"] == "sparse":
            # dask-glm takes pydata-sparse COO chunks (not scipy's); without its
            # standardisation, which would subtract the means from X (dense); the
            # intercept as a last column of ones made here (dask-ml's own appends a
            # dense column, which sparse arrays refuse), penalised as dask-ml's is
            import sparse

            def coo_with_ones(b):
                ones = sp.csr_matrix(np.ones((b.shape[0], 1)))
                return sparse.COO.from_scipy_sparse(sp.hstack([b, ones], "csr"))

            X = X.map_blocks(coo_with_ones, dtype=X.dtype,
                             chunks=(X.chunks[0], (args["p"] + 1,)),
                             meta=sparse.COO.from_numpy(np.zeros((0, 0))))
            kwargs = {"normalize": False}
        n = args["n"]
        est = LinearRegression(penalty="l1", solver=args["solver"],
                               C=1.0 / (2 * n * args["alpha"]),
                               fit_intercept=kwargs is None,
                               max_iter=args.get("max_iter", 100),
                               solver_kwargs=kwargs)
        t = time.perf_counter()
        est.fit(X, y)
        elapsed = time.perf_counter() - t
        coef = np.asarray(est.coef_, dtype=np.float64).ravel()
        intercept = float(est.intercept_)
        if kwargs is not None:
            coef, intercept = coef[:-1], float(coef[-1])
        return dict(time=elapsed, coef=coef.tolist(), intercept=intercept)


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
    t = time.perf_counter()
    df = spark.createDataFrame(rdd, ["features", "label"]).cache()
    df.count()
    load = time.perf_counter() - t
    with open(args["out"] + ".load", "w") as fh:  # the parent's cap starts now
        json.dump({"load": load}, fh)
    lr = LinearRegression(regParam=args["alpha"], elasticNetParam=1.0,
                          standardization=False, fitIntercept=True, maxIter=1000,
                          tol=1e-10)
    t = time.perf_counter()
    model = lr.fit(df)
    elapsed = time.perf_counter() - t
    res = dict(time=elapsed, coef=model.coefficients.toArray().tolist(),
               intercept=float(model.intercept), load=load,
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
    ap.add_argument("--daskml-problems", default="dense,sparse",
                    help="kinds of data dask-ml runs on (dense, sparse)")
    ap.add_argument("--tol", type=float, default=1e-8,
                    help="fastlasso's tol (its certified gap <= tol ||y - ybar||^2 "
                    "/ n)")
    ap.add_argument("--worker-memory", default=None,
                    help="per worker (default: 3GiB full, 1GiB quick)")
    ap.add_argument("--persist", choices=["auto", "no", "dense", "sparse"],
                    default="auto",
                    help="'auto': besides the default fit (persist='auto'), time "
                    "fastlasso.dask with persist=False when the default kept chunks "
                    "in memory, or with persist=True when it kept none and X takes "
                    "at most 40%% of the workers' memory, and, where all the chunks "
                    "were kept, a fit on data persisted beforehand; 'no': the "
                    "default fit only; 'dense'/'sparse': the other setting on "
                    "those problems only")
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
        res = child(dict(json.loads(payload), out=out))
        with open(out, "w") as f:
            json.dump(res, f)
        return

    from distributed import wait

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

    cl = Workers(mem)
    try:
        for problem in args.problems.split(","):
            client = cl.client
            kind = "sparse" if problem == "sparse" else "dense"
            n, p, rows = sizes[kind]
            X, y = dask_problem(kind, n, p, rows)
            gen = gen_pass(X, y)
            lines.append(f"| {problem} {n} x {p} | (one generating pass) | {gen:.2f} "
                         "| 1 | | | | |")
            # alpha and (for CV) the grid from the statistics of the data
            from fastlasso._statsolve import alpha_max, problem_from_moments
            from fastlasso.dask._passes import DaskData

            with DaskData(X, y, None, client, persist=False) as data:
                stats = problem_from_moments(data.moments(), True, np.float64)
            amax = alpha_max(stats)
            alpha = 0.05 * amax
            cv = 5 if problem == "densecv" else None
            alphas = np.geomspace(amax, amax * 1e-3, 20) if cv else None
            results = {}
            if "fastlasso" in peers:
                kept = kept_chunks(client, X, y)
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
                if (args.persist == "auto" or args.persist == kind) and \
                        other is not None:
                    reset_worker_peaks(client)
                    res = run_fastlasso_dask(X, y, alpha, cv=cv, alphas=alphas,
                                             tol=args.tol, persist=other,
                                             repeat=args.repeat)
                    res["rss"] = worker_peak_rss(client)
                    results[f"fastlasso.dask persist={other}"] = res
                if kept == X.numblocks[0] and args.persist != "no":
                    # as pyspark is timed: the data made and cached first, then
                    # the fit alone on them
                    t = time.perf_counter()
                    Xp, yp = client.persist([X, y])
                    wait([Xp, yp])
                    t_cache = time.perf_counter() - t
                    reset_worker_peaks(client)
                    res = run_fastlasso_dask(Xp, yp, alpha, cv=cv, alphas=alphas,
                                             tol=args.tol, repeat=args.repeat)
                    res["rss"] = worker_peak_rss(client)
                    res["cache"] = t_cache
                    results["fastlasso.dask, data persisted first"] = res
                    del Xp, yp
            if args.reference != "no":
                t = time.perf_counter()
                Xl, yl = local_problem(kind, n, p, rows)
                t_make = time.perf_counter() - t
                est = (fastlasso.Lasso(alpha=alpha, tol=1e-12, max_iter=100_000)
                       .fit(Xl, yl))
                t = time.perf_counter()
                fastlasso.Lasso(alpha=alpha, tol=args.tol).fit(Xl, yl)
                t_local = time.perf_counter() - t
                if cv:
                    t = time.perf_counter()
                    fastlasso.LassoCV(cv=5, alphas=alphas, tol=args.tol,
                                      n_jobs=2).fit(Xl, yl)  # 2 threads: 2 workers
                    t_local = time.perf_counter() - t
                results["fastlasso (in memory)"] = dict(
                    time=t_local, coef=est.coef_, intercept=float(est.intercept_),
                    make=t_make, cv=cv)
                del Xl, yl  # the children make their own copies
            common = dict(kind=kind, n=n, p=p, rows=rows, alpha=alpha,
                          driver_memory=args.spark_memory)

            def child(target, child_args, loads=False):
                """A peer in a child process under the cap; if it was stopped (or
                failed), a fresh cluster replaces the workers: tasks it left running
                on them cannot be interrupted (GridSearchCV's folds, dask-ml's
                iterations) and would share the workers with the next cells, as
                would a half-done scatter of X."""
                child_args = dict(child_args, scheduler=cl.scheduler_address)
                res = run_in_child(target, child_args, args.cap, loads)
                if "timeout" in res or "error" in res:
                    cl.fresh()
                return res

            if "daskml" in peers and not cv and kind in args.daskml_problems:
                for solver in ("admm", "proximal_grad"):
                    results[f"dask-ml {solver}"] = child(
                        "daskml", dict(common, solver=solver))
            if "pyspark" in peers and not cv:
                results["pyspark local[2]"] = child("pyspark", common, loads=True)
            if "gridsearch" in peers and cv:
                results["sklearn GridSearchCV (joblib dask)"] = child(
                    "gridsearch", dict(common, alphas=list(alphas), cv=cv))
            names = [name for name, res in results.items() if "coef" in res]
            objs = dict(zip(names, objectives(
                X, y, [(results[k]["coef"], results[k]["intercept"]) for k in names],
                alpha), strict=True))
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
                if "cache" in res:
                    notes += (f" fit only: X.persist() took {res['cache']:.1f} s "
                              "before it")
                if "load" in res:
                    notes += (f" fit only: generating, caching and counting its "
                              f"DataFrame took {res['load']:.1f} s before it")
                if res.get("load_timeout"):
                    notes += (" still loading its data after "
                              f"{res['load_timeout']:.0f} s")
                if name == "fastlasso (in memory)":
                    notes += (f"P* (tol 1e-12); time of a "
                              f"{'LassoCV(n_jobs=2)' if res['cv'] else 'fit'} at "
                              f"--tol, X, y made in this process first "
                              f"({res['make']:.1f} s)")
                row(f"{problem} {n} x {p}", name, res, objs.get(name, np.nan), Pstar,
                    res.get("rss"), notes)
            if args.markdown:  # after every problem: a stopped run keeps its rows
                with open(args.markdown, "w") as f:
                    f.write("\n".join(lines) + "\n")
    finally:
        cl.close()
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
