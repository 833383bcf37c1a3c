"""fastlasso.dask under faults and memory pressure, on the session's LocalCluster.

X is built from its task graph on the workers (never scattered), so a lost worker's
chunks are recomputed; with the fixed merge tree, aligned copies and one BLAS thread the
statistics, and so the coefficients, come out bitwise the same. The generators below
kill their own worker (os._exit) or raise, on chosen executions, counted in files.
"""

import logging
import os
import warnings

import dask
import dask.array as da
import numpy as np
import pytest
from dask import delayed
from sklearn.exceptions import ConvergenceWarning

import fastlasso.dask as fld

pytestmark = pytest.mark.slow  # workers killed and restarted: tens of seconds each

ROWS, P = 300, 8


def _runs(marker):
    """Executions so far of the task counting in ``marker`` (a file of one 'x' each)."""
    with open(marker, "a+") as f:
        f.seek(0)
        done = len(f.read())
        f.write("x")
    return done


def make_chunk(i, fault=None, marker=None, on_run=0):
    """Rows [300 i, 300 (i + 1)) of X (seeded by i); fault "kill" exits the worker
    process, "raise" raises, on the on_run-th execution (0-based) counted in marker, or
    always ("raise" with on_run=None)."""
    if fault is not None:
        run = _runs(marker)
        if on_run is None or run == on_run:
            if fault == "kill":
                os._exit(1)
            raise OSError(f"cannot read the rows of chunk {i}")
    rng = np.random.default_rng(i)
    X = rng.standard_normal((ROWS, P))
    X[:, 1] += 3.0
    return X


def dataset(n_chunks=8, faulty=None, **fault):
    """(X, y) dask arrays generated on the workers; chunk ``faulty`` misbehaves."""
    blocks = [da.from_delayed(delayed(make_chunk, pure=False)(
        i, **(fault if i == faulty else {})), shape=(ROWS, P), dtype=np.float64)
        for i in range(n_chunks)]
    X = da.concatenate(blocks)
    beta = np.linspace(-1, 1, P)
    noise = da.random.default_rng(7).standard_normal(X.shape[0], chunks=ROWS)
    return X, X @ beta + noise


def counted_chunk(i, marker):
    """(X, y) of chunk i, counting its executions in marker (one file per chunk)."""
    _runs(f"{marker}-{i}")
    rng = np.random.default_rng(i)
    X = rng.standard_normal((ROWS, P))
    return X, X @ np.linspace(-1, 1, P) + rng.standard_normal(ROWS)


def counted_dataset(marker, n_chunks=6):
    """(X, y) whose chunks come from ONE generating task each (as a file read gives a
    partition's features and target together)."""
    xs, ys = [], []
    for i in range(n_chunks):
        pair = delayed(counted_chunk, pure=True)(i, marker)
        xs.append(da.from_delayed(pair[0], shape=(ROWS, P), dtype=np.float64))
        ys.append(da.from_delayed(pair[1], shape=(ROWS,), dtype=np.float64))
    return da.concatenate(xs), da.concatenate(ys)


def runs_per_chunk(marker, n_chunks=6):
    return [len(open(f"{marker}-{i}").read()) for i in range(n_chunks)]


def test_each_pass_generates_a_chunk_once_and_persist_once_per_fit(dask_client,
                                                                  tmp_path):
    """A task that makes a chunk's X and y together runs once per chunk per pass (not
    once for X and once for y) with persist=False; with persist=True once per fit,
    whatever the passes (the certificate reads the workers' memory), and so with the
    default persist="auto" for data this small against the workers' memory. Same
    coefficients every way."""
    marker = str(tmp_path / "runs")
    X, y = counted_dataset(marker + "a")
    est = fld.Lasso(alpha=0.01, persist=False).fit(X, y)
    assert est.n_passes_ == 2
    assert runs_per_chunk(marker + "a") == [2] * 6
    X, y = counted_dataset(marker + "b")
    kept = fld.Lasso(alpha=0.01).fit(X, y)
    assert kept.n_passes_ == 2
    assert runs_per_chunk(marker + "b") == [1] * 6
    np.testing.assert_array_equal(kept.coef_, est.coef_)
    # wide data: many passes, still one generation per chunk
    X, y = counted_dataset(marker + "c")
    ws = fld.Lasso(alpha=0.001, precompute=False, tol=1e-10, persist=True).fit(X, y)
    assert ws.n_passes_ >= 3
    assert runs_per_chunk(marker + "c") == [1] * 6


def test_persist_auto_keeps_the_leading_chunks_that_fit(dask_client, tmp_path,
                                                        monkeypatch):
    """Data larger than persist="auto"'s quarter of the workers' free memory (here
    one worker of 507,600 bytes holding nothing: 126,900 bytes against 6 chunks of
    21,600 bytes of X and y) keep the leading chunks that fit under 60% of its limit
    next to 12 chunks of working memory (304,560 - 259,200 = 45,360 bytes: 2 chunks):
    the certificate pass regenerates only the other four; the coefficients are bitwise
    those of the streamed fit."""
    marker = str(tmp_path / "runs")
    X, y = counted_dataset(marker + "a")
    est = fld.Lasso(alpha=0.01, persist=False).fit(X, y)
    assert runs_per_chunk(marker + "a") == [2] * 6
    check_two_leading_chunks_kept(
        counted_dataset, marker + "b", 507_600, est, monkeypatch
    )


def check_two_leading_chunks_kept(make_dataset, marker, limit, streamed, monkeypatch):
    """A persist="auto" fit of make_dataset(marker)'s 6 chunks on one worker of limit
    bytes (holding nothing) keeps its first two chunks: they are made once, the others
    once per pass (2), and the result is bitwise ``streamed``'s (persist=False)."""
    from fastlasso.dask import _passes

    monkeypatch.setattr(_passes, "_worker_memory", lambda client: [(limit, 0)])
    X, y = make_dataset(marker)
    part = fld.Lasso(alpha=0.01).fit(X, y)
    assert part.n_passes_ == 2
    assert runs_per_chunk(marker) == [1, 1, 2, 2, 2, 2]
    np.testing.assert_array_equal(part.coef_, streamed.coef_)
    assert (part.intercept_, part.dual_gap_) == (
        streamed.intercept_,
        streamed.dual_gap_,
    )


def counted_sparse_chunk(i, marker):
    """(X, y) of chunk i with X a CSR matrix (half its entries stored), counting its
    executions in marker."""
    import scipy.sparse as sp

    _runs(f"{marker}-{i}")
    rng = np.random.default_rng(i)
    X = sp.random(ROWS, P, density=0.5, format="csr", random_state=rng)
    return X, X @ np.linspace(-1, 1, P) + rng.standard_normal(ROWS)


def counted_sparse_dataset(marker, n_chunks=6):
    import scipy.sparse as sp

    xs, ys = [], []
    for i in range(n_chunks):
        pair = delayed(counted_sparse_chunk, pure=True)(i, marker)
        xs.append(da.from_delayed(pair[0], shape=(ROWS, P), dtype=np.float64,
                                  meta=sp.csr_matrix((0, P))))
        ys.append(da.from_delayed(pair[1], shape=(ROWS,), dtype=np.float64))
    return da.concatenate(xs), da.concatenate(ys)


def test_persist_auto_keeps_sparse_chunks_sized_by_the_first(dask_client, tmp_path,
                                                             monkeypatch):
    """Sparse chunks, whose bytes are unknown until made: persist="auto" makes the
    first chunk, keeps it and counts the others as large per row (x 1.5); data that
    fit the workers easily are then all kept (each chunk made once per fit, the first
    one included), larger data keep their leading chunks (here one worker, a quarter
    of whose memory is less than the 6 chunks and whose 60% leaves room for 2.2
    chunks next to 12 chunks of working memory: 2 kept). The
    coefficients are bitwise those of the streamed fit."""
    marker = str(tmp_path / "runs")
    X, y = counted_sparse_dataset(marker + "a")
    est = fld.Lasso(alpha=0.01, persist=False).fit(X, y)
    assert est.n_passes_ == 2
    assert runs_per_chunk(marker + "a") == [2] * 6
    X, y = counted_sparse_dataset(marker + "b")
    kept = fld.Lasso(alpha=0.01).fit(X, y)
    assert runs_per_chunk(marker + "b") == [1] * 6
    np.testing.assert_array_equal(kept.coef_, est.coef_)
    X0, y0 = counted_sparse_chunk(0, str(tmp_path / "probe"))
    chunk = 1.5 * (X0.data.nbytes + X0.indices.nbytes + X0.indptr.nbytes + y0.nbytes)
    limit = (12 + 2.2) * chunk / 0.6  # a quarter of it: 5.9 chunks
    check_two_leading_chunks_kept(
        counted_sparse_dataset, marker + "c", limit, est, monkeypatch
    )


class _Records(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.messages = []

    def emit(self, record):
        self.messages.append(record.getMessage())


@pytest.fixture
def scheduler_log():
    """Messages the (in-process) scheduler logs during the test; distributed's logger
    does not propagate to the root logger that caplog reads."""
    handler = _Records()
    logger = logging.getLogger("distributed.scheduler")
    logger.addHandler(handler)
    yield handler.messages
    logger.removeHandler(handler)


def held_keys(client, *names):
    """Keys of the scheduler whose name starts with one of ``names``, once it has
    handled what this client sent before (the releases of dropped futures travel on
    the same ordered stream as the task submitted here)."""
    client.submit(int, 0, pure=False).result()

    def keys(dask_scheduler, names):
        return sorted(str(k) for k in dask_scheduler.tasks
                      if str(k).lstrip("('").startswith(tuple(names)))
    return client.run_on_scheduler(keys, names=list(names))


def test_fits_hold_no_key_that_another_graph_of_x_reuses(dask_client, scheduler_log,
                                                         tmp_path):
    """dask's scheduler warns "Detected different `run_spec` for key" (and may hang,
    dask/dask#9888) when a key it holds comes back in a new graph with another task,
    as X's chunks do when the same X is optimised differently (dask's default linear
    fusion, the fit's graphs without; with or without y). So a fit sends every pass
    and its persist as one optimised graph (two fits of the same X at once, one
    persisting, one streaming, then agree), and drops its data when it returns or
    fails (no reference cycle keeps them): the user's own computations of X in between
    then meet no key of it, and nothing of the fits stays on the workers."""
    from fastlasso.dask._passes import DaskData

    X, y = counted_dataset(str(tmp_path / "runs"))

    def user_pass():  # the user's own graph of X's chunks: dask's default fusion
        return dask.compute(X, y)

    user_pass()
    for persist in (True, False, True):
        fld.Lasso(alpha=0.01, persist=persist).fit(X, y)
        user_pass()
    fld.LassoCV(cv=3, alphas=5, persist=True).fit(X, y)
    user_pass()
    with DaskData(X, y, None, dask_client, persist=True) as kept, \
            DaskData(X, y, None, dask_client, persist=False) as streamed:
        kept.moments()
        streamed.moments()
        kept.moments(gram=True)
        streamed.moments(gram=True)
    user_pass()
    with pytest.raises(ValueError, match="coef_init has shape") as failed:
        fld.lasso_path(X, y, coef_init=np.zeros(P + 1), persist=True)
    user_pass()
    assert not [m for m in scheduler_log if "run_spec" in m]
    # the failed fit's frames live on in the traceback, its data do not
    assert failed.traceback is not None
    assert held_keys(dask_client, X.name, y.name) == []


def workers(client):
    return sorted(client.scheduler_info()["workers"])


# A nanny restarts a killed worker in a new process (imports included): seconds on a
# quiet machine, a minute or more on a loaded CI. Nothing here depends on how long.
RESTART_TIMEOUT = 600


@pytest.fixture(autouse=True)
def whole_cluster(dask_client):
    """Both workers up before each test (a previous test may have killed one)."""
    dask_client.wait_for_workers(2, timeout=RESTART_TIMEOUT)


@pytest.mark.parametrize("on_run, persist", [(0, False), (1, False), (0, True)],
                         ids=["statistics pass", "certificate pass", "persisted"])
def test_worker_killed_mid_pass_same_coefficients(on_run, persist, dask_client,
                                                  tmp_path):
    """The worker computing chunk 3 exits (os._exit) on the chunk's first execution
    (the statistics pass) or its second (the certificate pass; or, with persist=True,
    while the chunks are computed to be kept); the scheduler recomputes the lost
    chunks from the graph on the other worker, and the fit ends with the
    coefficients, intercept, gap and passes of the fit without faults, bitwise. That
    a worker died is read from the scheduler when the fit returns (the fit needs chunk
    3, so the dead worker has been removed by then); the restarted worker is not
    waited for here (whole_cluster does, before the next test)."""
    X, y = dataset()
    ref = fld.Lasso(alpha=0.01, tol=1e-10, persist=False).fit(X, y)
    marker = str(tmp_path / "runs")
    before = workers(dask_client)
    Xk, yk = dataset(faulty=3, fault="kill", marker=marker, on_run=on_run)
    est = fld.Lasso(alpha=0.01, tol=1e-10, persist=persist).fit(Xk, yk)
    assert set(before) - set(workers(dask_client))  # a worker did die
    assert open(marker).read().startswith("x" * (on_run + 1))
    np.testing.assert_array_equal(est.coef_, ref.coef_)
    assert est.intercept_ == ref.intercept_ and est.dual_gap_ == ref.dual_gap_
    assert est.n_passes_ == ref.n_passes_ == 2


def test_task_failing_once_is_retried(dask_client, tmp_path):
    X, y = dataset()
    ref = fld.Lasso(alpha=0.01).fit(X, y)
    Xf, yf = dataset(faulty=2, fault="raise", marker=str(tmp_path / "runs"), on_run=0)
    est = fld.Lasso(alpha=0.01).fit(Xf, yf)
    np.testing.assert_array_equal(est.coef_, ref.coef_)


def test_chunk_always_failing_gives_one_clear_error(dask_client, tmp_path):
    X, y = dataset(faulty=5, fault="raise", marker=str(tmp_path / "runs"), on_run=None)
    with pytest.raises(RuntimeError, match=r"chunk 5 \(rows 1500\.\.1799\) of the "
                                           r"input failed .*OSError: cannot read the "
                                           r"rows of chunk 5"):
        fld.Lasso(alpha=0.01).fit(X, y)


def test_nan_in_a_generated_chunk_is_named(dask_client):
    X, y = dataset()
    X = da.where(da.arange(X.shape[0])[:, None] == 1000, np.nan, X)
    with pytest.raises(ValueError, match=r"Input X contains NaN.*chunk 3 \(rows 900"):
        fld.Lasso(alpha=0.01).fit(X, y)


def reset_peak_rss():
    """Forget the process's peak resident memory (Linux: VmHWM restarts at the current
    resident size), so that a later reading is the peak of what runs in between."""
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")


def peak_rss():
    """Peak resident memory (bytes) of this process since the last reset_peak_rss."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


BETA = np.zeros(40)
BETA[:4] = [2.0, -1.0, 0.5, 3.0]


def big_chunk(i, rows):
    """(X, y) of chunk i: uniform X, y = X beta + noise with beta's 4 nonzeros applied
    column by column (elementwise: the same bits in every process; X @ beta would round
    with the BLAS threads and the alignment of each process)."""
    rng = np.random.default_rng([11, i])
    X = rng.random((rows, BETA.size))
    y = 0.1 * rng.standard_normal(rows)
    for j in np.flatnonzero(BETA):
        y += BETA[j] * X[:, j]
    return X, y


def disk_writes(dask_worker):
    """Chunks the worker has spilled to disk so far (its memory manager spills when
    the data it holds near its memory limit)."""
    return dask_worker.data.cumulative_metrics.get(("disk-write", "count"), 0)


def test_data_three_times_a_worker_memory_limit():
    """2.6 GB generated on the workers (one task makes a chunk's X and y, as a file
    read would), more than three times a worker's memory limit (800 MiB): the fit
    streams the chunks (persist="auto" keeps only the few leading ones that leave a
    pass its working memory under 60% of the limit), so no worker dies, and the
    gap is certified (no ConvergenceWarning) with the coefficients bitwise those of
    the same fit run by dask's synchronous scheduler in this process.

    On a cluster of its own (2 fresh worker processes, 800 MiB each), so that the
    workers' memory is the fit's and not what earlier tests left in the session's
    workers (about 250 MiB of a fresh one are its imports). Their peak resident memory
    during the fit, as the kernel measures it, must stay below the limit the nannies
    enforce (they terminate a worker at 95% of it). Spilling to disk (a worker spills
    at 70% of its limit) is allowed: it costs time, not the answer, and how many
    chunks a pass has in flight on a worker is dask's scheduling, which can take a
    worker past that line, so the test does not assert it."""
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      memory_limit="800MiB", dashboard_address=":0") as cluster, \
            Client(cluster, set_as_default=False) as client:
        check_memory_fit(client)


def check_memory_fit(dask_client):
    info = dask_client.scheduler_info()["workers"]
    limit = min(w["memory_limit"] for w in info.values())
    n_chunks, rows, p = 160, 50_000, BETA.size  # 2.56 GB of X in 16 MB chunks
    xs, ys = [], []
    for i in range(n_chunks):
        pair = delayed(big_chunk, pure=True)(i, rows)
        xs.append(da.from_delayed(pair[0], shape=(rows, p), dtype=np.float64))
        ys.append(da.from_delayed(pair[1], shape=(rows,), dtype=np.float64))
    X, y = da.concatenate(xs), da.concatenate(ys)
    assert X.nbytes > 3 * limit
    before = workers(dask_client)
    spilled = sum(dask_client.run(disk_writes).values())
    dask_client.run(reset_peak_rss)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)  # certified by the data
        est = fld.Lasso(alpha=1e-4, tol=1e-8, client=dask_client).fit(X, y)
    peak = max(dask_client.run(peak_rss).values())
    spilled = sum(dask_client.run(disk_writes).values()) - spilled
    print(f"peak worker memory during the fit: {peak / 2**20:.0f} MiB; "
          f"chunks spilled to disk: {spilled:.0f}")
    assert workers(dask_client) == before  # no worker died (and was restarted)
    assert peak < limit, f"peak worker memory {peak / 2**20:.0f} MiB"
    assert est.n_passes_ == 2
    with dask.config.set(scheduler="synchronous"):
        ref = fld.Lasso(alpha=1e-4, tol=1e-8).fit(X, y)
    np.testing.assert_array_equal(est.coef_, ref.coef_)
    assert (est.intercept_, est.dual_gap_) == (ref.intercept_, ref.dual_gap_)
    # the support and signs of the generating model
    np.testing.assert_allclose(est.coef_[:4], BETA[:4], atol=0.01)
    assert np.abs(est.coef_[4:]).max() < 0.01
