"""Chunk statistics of fastlasso.dask (fastlasso._chunkstats and the passes over dask
arrays) against their definitions recomputed in numpy on the whole data, and bitwise
reproducibility across dask's schedulers.

The references below are the textbook formulas (weighted means, centred cross products,
X~^T S r) in float64 on the whole data, independent of the chunking and merge code.
"""

import dask
import dask.array as da
import numpy as np
import pytest
import scipy.sparse as sp

from fastlasso import _chunkstats as chunkstats
from fastlasso._chunkstats import (
    ChunkDataError,
    chunk_gram_block,
    chunk_moments,
    chunk_residual_products,
    merge_moments,
    tree_reduce,
)
from fastlasso._data import make_design
from fastlasso._statsolve import problem_from_moments
from fastlasso.dask._passes import DaskData

from conftest import make_regression_data


def data(layout="dense", dtype=np.float64, weighted=False, n=503, p=12, seed=0):
    X, y, sw = make_regression_data(n, p, seed=seed, density=0.3)
    X[:, 5] = 7.25  # a constant column (exact zero norm with an intercept)
    X[:, 6] = 0.0  # an all-zero column (exact zero norm either way)
    X[:, 2] += 1e4  # a large mean next to a unit spread
    X = X.astype(dtype)
    if layout != "dense":
        X = getattr(sp, layout + "_matrix")(X)
    return X, y, sw if weighted else None


def to_dask(X, y, sw, rows=97):
    dX = da.from_array(X, chunks=(rows, X.shape[1]), asarray=not sp.issparse(X))
    dy = da.from_array(y, chunks=rows)
    dsw = None if sw is None else da.from_array(sw, chunks=rows)
    return dX, dy, dsw


def reference(X, y, sw, fit_intercept):
    """(mu, G, xty, yy) from the definitions, weights rescaled to sum to n."""
    Xd = np.asarray(X.toarray() if sp.issparse(X) else X, dtype=np.float64)
    n = Xd.shape[0]
    s = np.ones(n) if sw is None else sw * (n / sw.sum())
    mu = s @ Xd / n if fit_intercept else np.zeros(Xd.shape[1])
    ybar = s @ y / n if fit_intercept else 0.0
    Xc, yc = Xd - mu, y - ybar
    return mu, Xc.T @ (s[:, None] * Xc), Xc.T @ (s * yc), float(s @ (yc * yc))


@pytest.mark.parametrize("layout", ["dense", "csr", "csc"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_merged_statistics_equal_whole_data(layout, dtype, weighted, fit_intercept):
    X, y, sw = data(layout, dtype, weighted)
    rows = 97
    parts = [chunk_moments(X[a:a + rows], y[a:a + rows],
                           None if sw is None else sw[a:a + rows], gram=True)
             for a in range(0, X.shape[0], rows)]
    prob = problem_from_moments(tree_reduce(parts, merge_moments), fit_intercept, dtype)
    mu, G, xty, yy = reference(X, y, sw, fit_intercept)
    scale = np.sqrt(np.outer(np.diag(G), np.diag(G))) + 1.0
    np.testing.assert_allclose(prob.mu, mu, rtol=1e-13)
    np.testing.assert_allclose(prob.G / scale, G / scale, rtol=0, atol=1e-11)
    np.testing.assert_allclose(prob.xty, xty, rtol=1e-10, atol=1e-9 * np.abs(xty).max())
    assert prob.yy == pytest.approx(yy, rel=1e-12)
    # squared column norms as the in-memory solver computes them (in X's dtype with
    # float32 weights), with exact zeros for the columns constant on the weighted rows
    design = make_design(X, sw, fit_intercept)
    rtol = 1e-11 if dtype == np.float64 else 1e-6
    np.testing.assert_allclose(prob.norm2, design.norm2, rtol=rtol, atol=1e-12)
    dead = np.zeros(X.shape[1], dtype=bool)
    dead[6] = True
    dead[5] = fit_intercept
    np.testing.assert_array_equal(prob.norm2 == 0, dead)
    assert prob.n == X.shape[0] and prob.n_rows == X.shape[0]


def test_merge_of_empty_and_zero_weight_chunks():
    X, y, _ = data()
    sw = np.ones(X.shape[0])
    sw[:150] = 0.0  # whole chunks and part of one without weight
    parts = [chunk_moments(X[a:a + 50], y[a:a + 50], sw[a:a + 50], gram=True)
             for a in range(0, X.shape[0], 50)]
    prob = problem_from_moments(tree_reduce(parts, merge_moments), True, np.float64)
    mu, _, xty, _ = reference(X[150:], y[150:], None, True)
    np.testing.assert_allclose(prob.mu, mu, rtol=1e-12)
    np.testing.assert_allclose(prob.xty * (X.shape[0] - 150) / X.shape[0], xty,
                               rtol=1e-9, atol=1e-9)
    assert prob.n_rows == X.shape[0] - 150


@pytest.mark.parametrize("layout", ["dense", "csr"])
def test_column_extremes_over_the_rows_of_positive_weight(layout):
    """Minimum and maximum of every column over the rows with positive weight, as
    numpy gives them on those rows: a column stored only on zero-weight rows (0, 0),
    one whose stored entries are all negative next to implicit zeros (max 0), one
    stored on every weighted row (no zero), an explicit stored zero."""
    rng = np.random.default_rng(5)
    X = rng.standard_normal((60, 6)) * (rng.random((60, 6)) < 0.4)
    sw = rng.uniform(0.5, 2.0, 60)
    sw[:20] = 0.0
    X[:, 0] = 0.0
    X[:10, 0] = 3.0  # only on zero-weight rows
    X[:, 1] = -np.abs(X[:, 1])  # negative entries and implicit zeros
    X[:, 2] = rng.uniform(1.0, 2.0, 60)  # every row
    X[25, 3] = 0.0
    Xs = X if layout == "dense" else sp.csr_matrix(X)
    if layout == "csr":
        Xs[25, 3] = 0.0  # an explicit zero in the structure
        Xs.data[Xs.indptr[25]:Xs.indptr[26]] *= 1.0
    m = chunk_moments(Xs, rng.standard_normal(60), sw)
    live = X[sw > 0]
    np.testing.assert_array_equal(m.xmin, live.min(axis=0))
    np.testing.assert_array_equal(m.xmax, live.max(axis=0))
    assert (m.xmin[0], m.xmax[0]) == (0.0, 0.0) and m.xmax[1] == 0.0
    assert m.xmin[2] >= 1.0


@pytest.mark.parametrize("layout", ["dense", "csr"])
@pytest.mark.parametrize("weighted", [False, True])
def test_residual_products_and_gram_blocks(layout, weighted):
    X, y, sw = data(layout, np.float64, weighted)
    Xd = X.toarray() if sp.issparse(X) else X
    s = np.ones(X.shape[0]) if sw is None else sw
    rng = np.random.default_rng(3)
    W = rng.standard_normal((X.shape[1], 3)) * (rng.random((X.shape[1], 3)) < 0.5)
    b = rng.standard_normal(3)
    G, sr, rr, ry = chunk_residual_products(X, y, sw, W, b, 0.7)
    R = y[:, None] - Xd @ W - b
    np.testing.assert_allclose(G, Xd.T @ (s[:, None] * R), rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(sr, s @ R, rtol=1e-12)
    np.testing.assert_allclose(rr, s @ (R * R), rtol=1e-12)
    np.testing.assert_allclose(ry, (s * (y - 0.7)) @ R, rtol=1e-12)
    mu = rng.standard_normal(X.shape[1])
    rows, cols = np.array([4, 0, 9]), np.array([1, 4, 2, 11])
    A = chunk_gram_block(X, y, sw, rows, cols, mu)
    Za, Zb = Xd[:, rows] - mu[rows], Xd[:, cols] - mu[cols]
    np.testing.assert_allclose(A, Za.T @ (s[:, None] * Zb), rtol=1e-10, atol=1e-8)


@pytest.mark.parametrize("layout", ["dense", "csr"])
@pytest.mark.parametrize("weighted", [False, True])
def test_chunk_pass_with_folds(layout, weighted, monkeypatch):
    """One read of a chunk that straddles folds: per column, the residual products
    with the rows of its held-out fold zero-weighted and their squared error apart;
    per fold, the Gram blocks of its rows (scratch blocks of ROWS rows)."""
    monkeypatch.setattr(chunkstats, "ROWS", 37)  # several row blocks per segment
    monkeypatch.setattr(chunkstats, "BLOCK_BYTES", 1)  # 64 rows per residual block
    X, y, sw = data(layout, np.float64, weighted)
    Xd = X.toarray() if sp.issparse(X) else X
    s = np.ones(X.shape[0]) if sw is None else sw
    rng = np.random.default_rng(4)
    W = rng.standard_normal((X.shape[1], 4)) * (rng.random((X.shape[1], 4)) < 0.4)
    b, ybars = rng.standard_normal(4), rng.standard_normal(4)
    held = np.array([-1, 2, 5, 2])
    segments = [(2, 0, 150), (5, 150, 400), (6, 400, 503)]
    resid = (W, b, ybars, held)
    rows, cols = np.array([4, 0, 9]), np.array([1, 4, 2, 11, 0])
    mu = rng.standard_normal(X.shape[1])
    (G, sr, rr, ry, hs), gram = chunkstats.chunk_pass(
        X, y, sw, resid=resid, gram=(rows, cols, mu), segments=segments)
    R = y[:, None] - Xd @ W - b
    M = np.repeat(s[:, None], 4, axis=1)
    M[0:150, [1, 3]] = 0.0
    M[150:400, 2] = 0.0
    np.testing.assert_allclose(G, Xd.T @ (M * R), rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(sr, (M * R).sum(axis=0), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(rr, (M * R * R).sum(axis=0), rtol=1e-12)
    np.testing.assert_allclose(ry, (M * R * (y[:, None] - ybars)).sum(axis=0),
                               rtol=1e-12)
    H = s[:, None] * R * R
    np.testing.assert_allclose(
        hs, [0.0, H[:150, 1].sum(), H[150:400, 2].sum(), H[:150, 3].sum()],
        rtol=1e-12)
    assert sorted(gram) == [2, 5, 6]
    for key, a, bnd in segments:
        Za = Xd[a:bnd, rows] - mu[rows]
        Zb = Xd[a:bnd, cols] - mu[cols]
        np.testing.assert_allclose(gram[key], Za.T @ (s[a:bnd, None] * Zb),
                                   rtol=1e-10, atol=1e-8)
    # merged results: the residual parts summed, the Gram parts key by key
    other = chunkstats.chunk_pass(X[:100], y[:100], None if sw is None else sw[:100],
                                  resid=resid, gram=(rows, cols, mu),
                                  segments=[(5, 0, 100)])
    (G2, *_), gram2 = chunkstats.merge_pass(((G, sr, rr, ry, hs), gram), other)
    np.testing.assert_array_equal(G2, G + other[0][0])
    np.testing.assert_array_equal(gram2[5], gram[5] + other[1][5])
    np.testing.assert_array_equal(gram2[2], gram[2])


def sparse_chunks(n=4000, p=3000, rows=500, density=0.002, seed=5):
    """Row chunks of a CSR matrix as sparse as the benchmarks' (0.1-0.2%), with a
    non-zero mean in every column, y and positive weights."""
    rng = np.random.default_rng(seed)
    X = sp.random(n, p, density=density, format="csr", random_state=rng,
                  data_rvs=lambda k: 1.0 + rng.standard_normal(k))
    y = rng.standard_normal(n)
    sw = rng.uniform(0.5, 2.0, n)
    return X, y, sw, [(a, min(a + rows, n)) for a in range(0, n, rows)]


@pytest.mark.parametrize("weighted", [False, True])
def test_sparse_gram_blocks_stay_sparse_until_merged(weighted):
    """A sparse chunk's Gram block of 1,000 x 1,500 features (a working set of wide
    sparse data) is returned as sparse sums: about as many bytes as the chunk's
    products have entries, not the 12 MB of a dense centred block (centring by the
    non-zero means makes a block dense); the merged, centred total equals the block
    recomputed densely on the whole data."""
    X, y, sw, bounds = sparse_chunks()
    sw = sw if weighted else None
    rng = np.random.default_rng(1)
    cols = np.sort(rng.choice(X.shape[1], 1500, replace=False))
    rows = cols[::3][:500]
    rows = np.concatenate([rows, np.setdiff1d(np.arange(X.shape[1]), cols)[:500]])
    mu = np.asarray(X.mean(axis=0)).ravel()
    parts = []
    for a, b in bounds:
        part = chunkstats.chunk_pass(X[a:b], y[a:b], None if sw is None else sw[a:b],
                                     gram=(rows, cols, mu))
        parts.append(part)
        assert _result_bytes(part[1]) < rows.size * cols.size * 8 / 20
    total = chunkstats.dense_blocks(tree_reduce(parts, chunkstats.merge_pass)[1])[0]
    Xd = X.toarray()
    s = np.ones(X.shape[0]) if sw is None else sw
    Za, Zb = Xd[:, rows] - mu[rows], Xd[:, cols] - mu[cols]
    ref = Za.T @ (s[:, None] * Zb)
    np.testing.assert_allclose(total, ref, rtol=1e-11, atol=1e-9 * np.abs(ref).max())


def _result_bytes(obj):
    """Bytes of the arrays in a chunk_pass Gram part."""
    if isinstance(obj, dict):
        return sum(_result_bytes(v) for v in obj.values())
    if isinstance(obj, chunkstats.SparseGramSums):
        return sum(_result_bytes(v) for v in (obj.A, obj.u_rows, obj.u_cols))
    if sp.issparse(obj):
        return obj.data.nbytes + obj.indices.nbytes + obj.indptr.nbytes
    return np.asarray(obj).nbytes


def test_sparse_gram_sums_do_not_depend_on_their_storage(monkeypatch):
    """The merged sparse Gram sums are bitwise the same whether the partial sums are
    kept sparse or turned dense along the merge tree (each entry is the same sum in
    the tree's order), so a chunk recomputed elsewhere merges to the same totals."""
    # 5 chunks, about half their block's entries each: merged in pairs they turn
    # dense, and the last merge adds a sparse chunk to a dense sum
    X, y, sw, bounds = sparse_chunks(n=1500, p=200, rows=300, density=0.05)
    rows, cols = np.arange(0, 200, 2), np.arange(200)
    mu = np.asarray(X.mean(axis=0)).ravel()

    def total():
        parts = [chunkstats.chunk_pass(X[a:b], y[a:b], sw[a:b], gram=(rows, cols, mu))
                 for a, b in bounds]
        return tree_reduce(parts, chunkstats.merge_pass)[1][0]

    mixed = total()  # chunks sparse, sums turned dense as they fill up
    assert not sp.issparse(mixed.A)
    monkeypatch.setattr(chunkstats, "_compact", lambda A: A)  # always sparse
    sparse = total()
    assert sp.issparse(sparse.A)
    monkeypatch.setattr(chunkstats, "_compact",
                        lambda A: A.toarray() if sp.issparse(A) else A)  # always dense
    dense = total()
    for other in (sparse, dense):
        np.testing.assert_array_equal(np.asarray(other), np.asarray(mixed))


def test_working_set_iteration_fetches_only_for_violators():
    """A working-set iteration whose violators' Gram blocks are all on the client asks
    for no Gram pass, even though its margin (the nearest non-violators) has features
    never fetched: those are left out of the working set (the gap from the data
    certifies the result either way), so that iteration costs one pass, not two."""
    from fastlasso._solve import scaled_penalties
    from fastlasso._statsolve import (
        GramFetch,
        GramStore,
        PassState,
        Residuals,
        certify_steps,
        working_set,
    )

    rng = np.random.default_rng(8)
    X = rng.standard_normal((300, 60))
    y = X[:, :6] @ np.array([3.0, -2.0, 2.0, 1.5, -1.0, 1.0]) + rng.standard_normal(300)
    prob = problem_from_moments(chunk_moments(X, y, None, gram=True), True, np.float64)
    alpha = 0.3 * np.abs(prob.xty).max() / prob.n
    state = PassState(np.zeros(60), prob.xty.copy(), prob.yy, prob.yy)
    l1_n, l2_n = scaled_penalties(prob.n, alpha, 1.0)
    core, margin = working_set(prob, state, l1_n, l2_n, False, 0)
    assert 0 < core.size < 60 and margin.size >= 16
    store = GramStore([prob], [[0]], prob.mu)
    Xc = X - prob.mu
    store.add(core, {0: Xc[:, core].T @ Xc[:, core]})  # the violators', not the margin
    steps = certify_steps(prob, store, 0, alpha, 1.0, state, tol=1e-10)
    first = next(steps)
    assert not isinstance(first, GramFetch)
    assert isinstance(first, Residuals)
    assert np.flatnonzero(first.W[:, 0]).size > 0
    assert np.all(store.slot[np.flatnonzero(first.W[:, 0])] >= 0)


def test_cross_validation_segments_split_chunks():
    """A chunk that straddles fold boundaries is cut into segments, merged per fold."""
    X, y, sw = data("dense", np.float64, True)
    out = chunk_moments(X[:100], y[:100], sw[:100], gram=True,
                        segments=[(0, 0, 30), (1, 30, 100)])
    whole = chunk_moments(X[30:100], y[30:100], sw[30:100], gram=True)
    np.testing.assert_array_equal(out[1].C, whole.C)
    merged = merge_moments(out[0], out[1])
    direct = chunk_moments(X[:100], y[:100], sw[:100], gram=True)
    np.testing.assert_allclose(merged.C, direct.C, rtol=1e-12, atol=1e-9)


def at_offset(a, offset):
    """A copy of array a whose data start ``offset`` float64s after a 64-byte
    boundary."""
    buf = chunkstats.aligned_empty((a.size + 8,))
    out = buf[offset:offset + a.size].reshape(a.shape)
    out[...] = a
    return out


@pytest.mark.parametrize("active", ["few", "all"])
@pytest.mark.parametrize("weighted", [False, True])
def test_chunk_results_do_not_depend_on_memory_alignment(active, weighted,
                                                         monkeypatch):
    """The same chunk (X, y, weights) at 8 different addresses modulo 64 bytes each
    (and X Fortran-ordered): bitwise the same moments, residual products and Gram
    blocks (every BLAS operand copied aligned, one BLAS thread), so that chunks
    recomputed elsewhere (a lost worker, another scheduler) merge to the same totals."""
    monkeypatch.setattr(chunkstats, "BLOCK_BYTES", 1)  # blocks of 64 rows
    X, y, sw = data("dense", np.float64, weighted, n=700, p=40)
    W = np.zeros((40, 2))
    W[[3, 7] if active == "few" else slice(None)] = 0.25
    resid = (W, np.array([0.1, -0.2]), np.array([0.3, 0.3]), np.array([-1, 1]))
    gram = (np.array([1, 5, 9]), np.arange(0, 40, 3), np.linspace(0, 1, 40))
    segments = [(0, 0, 300), (1, 300, 700)]
    results = []
    for offset in range(8):
        Xo, yo = at_offset(X, offset), at_offset(y, (offset + 3) % 8)
        so = None if sw is None else at_offset(sw, (offset + 5) % 8)
        if offset == 7:
            Xo = np.asfortranarray(Xo)
        results.append((
            chunkstats.chunk_pass(Xo, yo, so, resid=resid, gram=gram,
                                  segments=segments),
            chunkstats.chunk_moments(Xo, yo, so, gram=True, segments=segments)))
    (r0, g0), m0 = results[0]
    for (r, g), m in results[1:]:
        for a, b in zip(r, r0, strict=True):
            np.testing.assert_array_equal(a, b)
        for key in g0:
            np.testing.assert_array_equal(g[key], g0[key])
        for key in m0:
            for field in ("xbar", "C", "cxy", "xm2", "ybar", "cyy", "S"):
                np.testing.assert_array_equal(getattr(m[key], field),
                                              getattr(m0[key], field))


def test_chunk_results_do_not_depend_on_blas_threads():
    """A chunk long enough for OpenBLAS to split its products between threads: the
    same results whatever threads the calling process allows BLAS (the chunk functions
    run it on one)."""
    from threadpoolctl import threadpool_limits

    X, y, sw = data("dense", np.float64, True, n=60_000, p=8)
    W = np.full((8, 1), 0.3)
    resid = (W, np.array([0.1]), np.array([0.2]), np.array([-1]))
    out = []
    for threads in (1, 2):
        with threadpool_limits(limits=threads, user_api="blas"):
            out.append((chunkstats.chunk_moments(X, y, sw, gram=True),
                        chunkstats.chunk_pass(X, y, sw, resid=resid)[0]))
    (m1, r1), (m2, r2) = out
    for field in ("xbar", "C", "cxy", "xm2", "ybar", "cyy", "S"):
        np.testing.assert_array_equal(getattr(m1, field), getattr(m2, field))
    for a, b in zip(r1, r2, strict=True):
        np.testing.assert_array_equal(a, b)


def sync_moments(X, y, sw):
    """Merged moments of (X, y, sw) in chunks of 97 rows, on the synchronous
    scheduler."""
    dX, dy, dsw = to_dask(X, y, sw)
    with dask.config.set(scheduler="synchronous"):
        d = DaskData(dX, dy, dsw, None)
        d.client = None
        return d.moments()


def test_bad_chunks_are_named():
    X, y, sw = data(weighted=True)
    Xb = X.copy()
    Xb[250, 3] = np.nan
    nan_in_chunk_2 = r"Input X contains NaN.*chunk 2 \(rows 194"
    with pytest.raises(ChunkDataError, match=nan_in_chunk_2):
        sync_moments(Xb, y, None)
    yb = y.copy()
    yb[10] = np.inf
    with pytest.raises(ValueError, match=r"Input y contains infinity.*chunk 0 "):
        sync_moments(X, yb, None)
    swb = sw.copy()
    swb[400] = -1.0
    with pytest.raises(ValueError, match=r"Negative values in data passed to "
                                         r"`sample_weight`.*chunk 4 "):
        sync_moments(X, y, swb)
    assert sync_moments(X, y, sw).n == X.shape[0]


@pytest.mark.slow  # the LocalCluster's worker processes
@pytest.mark.parametrize("layout", ["dense", "csr"])
def test_statistics_bitwise_equal_across_schedulers(layout, dask_client):
    """The same chunks give bitwise the same merged statistics and residual products
    on the synchronous, threaded and distributed schedulers (fixed merge tree, aligned
    copies, one BLAS thread)."""
    X, y, sw = data(layout, np.float64, True, n=2000, p=30)
    dX, dy, dsw = to_dask(X, y, sw, rows=113)
    W = np.linspace(-1, 1, 30)[:, None]
    results = {}
    for name in ("synchronous", "threads", "distributed"):
        d = DaskData(dX, dy, dsw, dask_client)
        if name != "distributed":
            d.client = None
        with dask.config.set(scheduler=name if name != "distributed" else "sync"):
            if name == "distributed":
                d.client = dask_client
            m = d.moments(gram=True)
            r = d.residuals(W, np.array([0.3]), 0.1)
        results[name] = (m, r)
    m0, r0 = results["synchronous"]
    for name in ("threads", "distributed"):
        m, r = results[name]
        for field in ("xbar", "C", "cxy", "xm2", "xmin", "xmax"):
            np.testing.assert_array_equal(getattr(m, field), getattr(m0, field))
        assert (m.S, m.ybar, m.cyy) == (m0.S, m0.ybar, m0.cyy)
        for a, b in zip(r, r0, strict=True):
            np.testing.assert_array_equal(a, b)


class FakeClient:
    """scheduler_info() of a cluster whose workers have these (memory_limit, process
    memory) pairs (bytes)."""

    def __init__(self, *workers):
        self.workers = workers

    def scheduler_info(self):
        return {"workers": {f"tcp://w{i}": {"memory_limit": lim,
                                            "metrics": {"memory": used}}
                            for i, (lim, used) in enumerate(self.workers)}}


def test_auto_persist_keeps_only_dense_data_that_fit_easily():
    """persist="auto" keeps the data when their bytes are at most a quarter of the
    workers' free memory (limits minus what the processes hold), and never on dask's
    local schedulers, for sparse chunks, data of unknown shape or workers without a
    memory limit."""
    from fastlasso.dask._passes import auto_keep

    def auto_persist(client, arrays, sparse):  # every chunk kept: DaskData.persisted
        return auto_keep(client, arrays, sparse) == len(arrays[0].chunks[0])

    mib = 2**20
    X = da.zeros((1000, 100), chunks=(100, 100))  # 800,000 bytes
    y = da.zeros(1000, chunks=100)  # 8,000 bytes
    # free memory 2 x (2 MiB - 0.4 MiB) = 3.2 MiB: a quarter is 0.8 MiB = 838,861 B
    roomy = FakeClient((2 * mib, 0.4 * mib), (2 * mib, 0.4 * mib))
    assert auto_persist(roomy, [X, y], sparse=False)
    assert not auto_persist(roomy, [X, X], sparse=False)  # 1,600,000 B
    assert not auto_persist(roomy, [X, y], sparse=True)
    assert not auto_persist(None, [X, y], sparse=False)
    busy = FakeClient((2 * mib, 0.5 * mib), (2 * mib, 0.5 * mib))  # a quarter: 786,432
    assert not auto_persist(busy, [X, y], sparse=False)
    unlimited = FakeClient((2 * mib, 0.4 * mib), (0, 0.4 * mib))
    assert not auto_persist(unlimited, [X, y], sparse=False)
    unknown = da.zeros(1000, chunks=100)[da.zeros(1000, chunks=100) > 0]
    assert not auto_persist(roomy, [X, unknown], sparse=False)


def test_auto_keep_counts_the_leading_chunks_within_the_budget():
    """Larger data keep the most leading row chunks whose bytes (all the arrays'
    rows) fit in a quarter of the workers' free memory and leave every worker under
    60% of its limit with 12 chunks of working memory; none where persist="auto" keeps
    nothing."""
    from fastlasso.dask._passes import auto_keep

    mib = 2**20
    X = da.zeros((1000, 100), chunks=(100, 100))  # 80,000 bytes per chunk
    y = da.zeros(1000, chunks=100)  # 800 bytes per chunk
    roomy = FakeClient((2 * mib, 0.4 * mib), (2 * mib, 0.4 * mib))  # 838,861 B
    assert auto_keep(roomy, [X, y], sparse=False) == 10  # 808,000 B: all
    # 20 chunks (1,616,000 B) over a quarter of the free memory (1,310,720 B); the
    # room binds: 2 x (0.6 x 3 MiB - 0.5 MiB - 12 x 80,800 B) = 787,098 B
    X2, y2 = da.zeros((2000, 100), chunks=(100, 100)), da.zeros(2000, chunks=100)
    busy = FakeClient((3 * mib, 0.5 * mib), (3 * mib, 0.5 * mib))
    assert auto_keep(busy, [X2, y2], sparse=False) == 9  # 727,200 B
    assert auto_keep(roomy, [X, X], sparse=False) == 0  # no room next to 12 chunks
    # small chunks on large workers: the quarter binds (3,932,160 B)
    Xs = da.zeros((100_000, 10), chunks=(1000, 10))  # 100 chunks of 80,000 B
    large = FakeClient((8 * mib, 0.5 * mib), (8 * mib, 0.5 * mib))
    assert auto_keep(large, [Xs], sparse=False) == 49
    assert auto_keep(roomy, [X, y], sparse=True) == 0
    assert auto_keep(None, [X, y], sparse=False) == 0
    unlimited = FakeClient((2 * mib, 0.4 * mib), (0, 0.4 * mib))
    assert auto_keep(unlimited, [X, y], sparse=False) == 0


def test_auto_keep_sizes_sparse_chunks_by_the_measured_bytes_per_row():
    """Sparse chunks' bytes are known only from a chunk made (DaskData measures its
    first): auto_keep counts row_bytes x SPARSE_MARGIN (1.5) per row, by the dense
    rule. chunk_nbytes counts a CSR matrix or array by its three arrays."""
    import scipy.sparse as sp

    from fastlasso.dask._passes import auto_keep, chunk_nbytes

    mib = 2**20
    X = da.zeros((1000, 100), chunks=(100, 100))  # shape only: 10 chunks of 100 rows
    y = da.zeros(1000, chunks=100)
    roomy = FakeClient((2 * mib, 0.4 * mib), (2 * mib, 0.4 * mib))  # 838,861 B
    # 10 x 100 rows x 1.5 x 500 B = 750,000 B: all
    assert auto_keep(roomy, [X, y], sparse=True, row_bytes=500.0) == 10
    # 20 chunks of 100 rows at 808 / 1.5 B a row: 80,800 B a chunk, 1,616,000 B in
    # all, over a quarter of the free memory (1,310,720 B); the room binds:
    # 2 x (0.6 x 3 MiB - 0.5 MiB - 12 x 80,800 B) = 787,098 B: 9 chunks
    X2, y2 = da.zeros((2000, 100), chunks=(100, 100)), da.zeros(2000, chunks=100)
    busy = FakeClient((3 * mib, 0.5 * mib), (3 * mib, 0.5 * mib))
    assert auto_keep(busy, [X2, y2], sparse=True, row_bytes=808 / 1.5) == 9
    assert auto_keep(busy, [X2, y2], sparse=True, row_bytes=1.0) == 20
    assert auto_keep(None, [X, y], sparse=True, row_bytes=1.0) == 0
    A = sp.random(50, 40, density=0.1, format="csr", random_state=0)
    expect = A.data.nbytes + A.indices.nbytes + A.indptr.nbytes
    assert chunk_nbytes(A, np.zeros(50), None) == expect + 400
    assert chunk_nbytes(sp.csr_array(A)) == expect


def test_fits_free_their_passes_without_the_garbage_collector(monkeypatch):
    """Once a fit, path or CV returns, nothing holds its passes (DaskData: the graphs
    of the chunks, the data a fit persisted on the workers) but its last reference, so
    they go at once and not at the garbage collector's next run (a StopIteration kept
    with its traceback, whose frames held the passes, did make a cycle). Dask's
    synchronous scheduler, with the collector off; LassoCV with n_jobs=2 advances its
    folds in threads."""
    import gc
    import weakref

    import fastlasso.dask as fld
    from fastlasso.dask import _passes

    made = []
    init = _passes.DaskData.__init__

    def recording_init(self, *args, **kwargs):
        init(self, *args, **kwargs)
        made.append(weakref.ref(self))

    monkeypatch.setattr(_passes.DaskData, "__init__", recording_init)
    X, y, _ = data(n=600, p=12)
    dX, dy, _ = to_dask(X, y, None)
    enabled = gc.isenabled()
    gc.disable()
    try:
        with dask.config.set(scheduler="synchronous"):
            fld.Lasso(alpha=0.1, persist=True).fit(dX, dy)
            fld.Lasso(alpha=0.1, precompute=False).fit(dX, dy)
            fld.LassoCV(cv=3, alphas=4, n_jobs=2).fit(dX, dy)
            fld.LassoCV(cv=3, alphas=4, precompute=False, n_jobs=2).fit(dX, dy)
            fld.lasso_path(dX, dy, alphas=4)
        alive = [ref() is not None for ref in made]
    finally:
        if enabled:
            gc.enable()
    assert len(alive) == 5 and not any(alive)


def test_gram_store_along_a_path_stays_within_its_cap(monkeypatch):
    """Along a working-set path the client's GramStore holds at most ``cap`` features
    (STORE_BYTES over its views) or one round's requests if those are more: the
    features a solve read least recently are dropped (and fetched again if a later
    working set needs them). Here a cap of 64 features: the 15-alpha path's store
    held 362 features unbounded, at most its largest request (333) bounded; every
    alpha is still certified by its gap from the data, at the objective of the
    unbounded path."""
    import fastlasso.dask as fld
    from fastlasso import _statsolve

    rng = np.random.default_rng(3)
    n, p = 240, 400
    X = rng.standard_normal((n, p))
    y = X[:, :30] @ rng.uniform(0.5, 1.5, 30) + rng.standard_normal(n)
    dX, dy = da.from_array(X, chunks=(60, p)), da.from_array(y, chunks=60)
    sizes, asked = [], []
    make_room, add = _statsolve.GramStore.make_room, _statsolve.GramStore.add

    def recording_make_room(self, keep, n_new):
        asked.append(np.asarray(keep).size)
        return make_room(self, keep, n_new)

    def recording_add(self, new, blocks):
        add(self, new, blocks)
        sizes.append(self.feats.size)

    monkeypatch.setattr(_statsolve.GramStore, "make_room", recording_make_room)
    monkeypatch.setattr(_statsolve.GramStore, "add", recording_add)
    with dask.config.set(scheduler="synchronous"):
        alphas, free, free_gaps = fld.lasso_path(dX, dy, alphas=15, tol=1e-10,
                                                 fit_intercept=True)
        held = max(sizes)
        monkeypatch.setattr(_statsolve, "STORE_BYTES", 8 * 64 * 64)
        sizes.clear()
        asked.clear()
        _, bound, gaps = fld.lasso_path(dX, dy, alphas=15, tol=1e-10,
                                        fit_intercept=True)
    assert held > 64  # the path's working sets need more than the cap in all
    assert max(sizes) <= max(64, max(asked))
    assert max(sizes) < held
    tol_gap = 1e-10 * np.var(y)
    assert np.all(gaps <= tol_gap) and np.all(free_gaps <= tol_gap)

    def P(w, a):
        b = y.mean() - X.mean(axis=0) @ w
        return ((y - X @ w - b) ** 2).sum() / (2 * n) + a * np.abs(w).sum()

    for k, a in enumerate(alphas):
        assert abs(P(bound[:, k], a) - P(free[:, k], a)) <= gaps[k] + free_gaps[k]


def test_gram_store_drops_the_least_recently_read_features(monkeypatch):
    """GramStore.make_room: with room for 6 features, 4 held and 4 new ones coming,
    the 2 held features read longest ago and not requested now are dropped; the
    others keep their blocks (bitwise) and slots that point at them."""
    from fastlasso import _statsolve
    from fastlasso._statsolve import GramStore

    rng = np.random.default_rng(0)
    X = rng.standard_normal((50, 10))
    prob = problem_from_moments(chunk_moments(X, rng.standard_normal(50), None,
                                              gram=True), False, np.float64)
    monkeypatch.setattr(_statsolve, "WS_GROW_MIN", 1)
    monkeypatch.setattr(_statsolve, "STORE_BYTES", 8 * 6 * 6)
    store = GramStore([prob], [[0]], np.zeros(10))
    assert store.cap == 6
    first = np.array([1, 3, 5, 7])
    store.make_room(first, 4)
    store.add(first, {0: X[:, first].T @ X[:, first]})
    store.make_room(np.array([3]), 0)  # rounds go by; 3 and 7 are read later
    store.sub(0, np.array([3, 7]))
    store.make_room(np.array([2]), 0)
    store.sub(0, np.array([7]))
    new = np.array([0, 2, 8, 9])
    before = store.sub(0, np.array([1, 7]))
    store.make_room(np.array([0, 2, 8, 9, 1]), 4)  # 1 is requested: it stays
    np.testing.assert_array_equal(store.feats, [1, 7])  # 3 and 5 dropped
    np.testing.assert_array_equal(store.slot[[3, 5]], [-1, -1])
    store.add(new, {0: X[:, new].T @ X[:, np.r_[store.feats, new]]})
    feats = np.array([1, 7, 0, 2, 8, 9])
    np.testing.assert_array_equal(store.feats, feats)
    Xf = X[:, feats]
    expect = Xf.T @ Xf
    got = store.sub(0, feats)
    np.testing.assert_allclose(got, expect, rtol=1e-13, atol=1e-12)
    np.testing.assert_array_equal(store.sub(0, np.array([1, 7])), before)
