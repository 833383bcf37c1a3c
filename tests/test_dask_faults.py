"""fastlasso.dask under faults and memory pressure, on the session's LocalCluster.

X is built from its task graph on the workers (never scattered), so a lost worker's
chunks are recomputed; with the fixed merge tree, aligned copies and one BLAS thread the
statistics, and so the coefficients, come out bitwise the same. The generators below
kill their own worker (os._exit) or raise, on chosen executions, counted in files.
"""

import os
import warnings

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


def workers(client):
    return sorted(client.scheduler_info()["workers"])


@pytest.mark.parametrize("on_run", [0, 1], ids=["statistics pass", "certificate pass"])
def test_worker_killed_mid_pass_same_coefficients(on_run, dask_client, tmp_path):
    X, y = dataset()
    ref = fld.Lasso(alpha=0.01, tol=1e-10).fit(X, y)
    marker = str(tmp_path / "runs")
    before = workers(dask_client)
    Xk, yk = dataset(faulty=3, fault="kill", marker=marker, on_run=on_run)
    est = fld.Lasso(alpha=0.01, tol=1e-10).fit(Xk, yk)
    dask_client.wait_for_workers(2, timeout=60)
    assert workers(dask_client) != before  # a worker did die (and was restarted)
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


def worker_peak_rss(client):
    """Peak resident memory (bytes) of each worker process so far."""
    def peak():
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return client.run(peak)


def test_data_three_times_a_worker_memory_limit(dask_client):
    """1.9 GB generated on the workers (600 MiB each): the fit streams the chunks, no
    worker is restarted or goes near its limit, and the gap is certified (no
    ConvergenceWarning: the gap from the pass over the data met tol)."""
    dask_client.wait_for_workers(2, timeout=60)
    info = dask_client.scheduler_info()["workers"].values()
    limit = min(w["memory_limit"] for w in info)
    n, p, rows = 4_800_000, 50, 20_000
    rng = da.random.default_rng(11)
    X = rng.random((n, p), chunks=(rows, p))
    beta = np.zeros(p)
    beta[:4] = [2.0, -1.0, 0.5, 3.0]
    y = X @ beta + 0.1 * rng.standard_normal(n, chunks=rows)
    assert X.nbytes > 3 * limit
    before = workers(dask_client)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)  # certified by the data
        est = fld.Lasso(alpha=1e-4, tol=1e-8).fit(X, y)
    assert workers(dask_client) == before
    peak = max(worker_peak_rss(dask_client).values())
    assert peak < 0.8 * limit, f"peak worker memory {peak / 2**20:.0f} MiB"
    assert est.n_passes_ == 2
    # the support and signs of the generating model
    np.testing.assert_allclose(est.coef_[:4], beta[:4], atol=0.01)
    assert np.abs(est.coef_[4:]).max() < 0.01
