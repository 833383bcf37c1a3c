"""Dask input handling and the passes over the data that fastlasso._statsolve asks for.

A pass maps a function of fastlasso._chunkstats over the row chunks of (X, y, weights)
and folds the results with a merge tree fixed by chunk index (pairs (0, 1), (2, 3), ...
then pairs of those), so the totals are bitwise the same whatever scheduler runs them
and however often a task is recomputed (a lost worker). X is read from its task graph
each time (never scattered: scattered data die with their worker); the client keeps
only the merged statistics.
"""

import asyncio

import dask
import dask.array as da
import numpy as np
import scipy.sparse as sp
from dask.delayed import delayed

from fastlasso._chunkstats import (
    ChunkDataError,
    chunk_moments,
    chunk_pass,
    merge_moments,
    merge_pass,
)

RETRIES = 2  # automatic reruns of a failed task (a lost worker does not count)
# persist="auto" keeps data whose bytes are at most this fraction of the workers'
# free memory (limits minus what the processes hold now): a worker spills at 70% of its
# limit, and the passes need working memory on top of the chunks a worker holds (up to
# about twice its share when the chunks are spread unevenly)
AUTO_PERSIST_FRACTION = 0.25
# data too large for that keep their leading chunks as far as each worker stays under
# KEEP_HEADROOM of its limit (below the 70% where it starts spilling to disk) with the
# working memory of a pass, WORKING_CHUNKS chunks (made, copied, temporaries: a
# streamed pass over 16 MB chunks took a 600 MiB worker from its ~250 MiB of imports
# to 425 MiB, 70%: about 11 chunks)
KEEP_HEADROOM = 0.6
WORKING_CHUNKS = 12
# sparse chunks are sized from the first one made (bytes per row): the others are
# counted this much larger (a chunk of 25,000 rows at 0.1% of 100,000 columns holds
# 2.5 million entries, +- 0.06%; data whose density varies along the rows keep fewer
# chunks, or spill, never fail)
SPARSE_MARGIN = 1.5


def resolve_client(client):
    """The client given; else, if dask's configuration names a scheduler other than
    distributed's (``dask.config.set(scheduler="synchronous")``, as for any dask
    computation), None: that scheduler; else distributed's default client, or None
    without one (dask's default scheduler)."""
    if client is not None:
        return client
    scheduler = dask.config.get("scheduler", None)
    if scheduler is not None and scheduler != "dask.distributed":
        return None
    try:
        from distributed import default_client

        return default_client()
    except (ImportError, ValueError):
        return None


def _worker_memory(client):
    """[(memory limit, memory the process holds now)] of the workers, in bytes; None
    without that information (no client, a worker without a limit)."""
    if client is None:
        return None
    try:
        workers = list(client.scheduler_info()["workers"].values())
    except Exception:  # noqa: BLE001 - no information: do not persist
        return None
    if not workers or any(not w.get("memory_limit") for w in workers):
        return None
    return [(w["memory_limit"], w.get("metrics", {}).get("memory", 0))
            for w in workers]


def chunk_nbytes(*parts):
    """Bytes of a chunk's arrays in memory: ndarrays, and scipy.sparse matrices or
    arrays by the ndarrays they hold (data, indices, indptr; row, col), None as 0.
    (dask's ``sizeof`` counts scipy's sparse arrays, unlike its matrices, as an
    object of a few dozen bytes.)"""
    total = 0
    for a in parts:
        if a is None:
            continue
        if isinstance(a, np.ndarray):
            total += a.nbytes
        elif sp.issparse(a):
            total += sum(v.nbytes for v in vars(a).values()
                         if isinstance(v, np.ndarray))
        else:
            total += np.asarray(a).nbytes
    return int(total)


def keep_count(workers, sizes):
    """How many leading chunks of bytes ``sizes`` persist="auto" keeps on workers
    [(memory limit, memory held now)]: all of them when they take at most
    AUTO_PERSIST_FRACTION of the workers' free memory (limits minus what the processes
    hold); else the most leading chunks that fit both in that fraction and, on every
    worker, under KEEP_HEADROOM of its limit next to what it holds and the working
    memory of a pass (WORKING_CHUNKS chunks: the chunks in flight, their aligned
    copies, temporaries), so that keeping them does not by itself push a worker to
    its spill line (70% of the limit; a pass that holds more chunks in flight than
    that estimate may still spill, which costs time, not the answer)."""
    sizes = np.asarray(sizes, dtype=np.float64)
    budget = AUTO_PERSIST_FRACTION * sum(max(0, lim - used) for lim, used in workers)
    if sizes.sum() <= budget:
        return len(sizes)
    working = WORKING_CHUNKS * sizes.max()
    room = sum(max(0.0, KEEP_HEADROOM * lim - used - working) for lim, used in workers)
    return int(np.count_nonzero(np.cumsum(sizes) <= min(budget, room)))


def auto_keep(client, arrays, sparse, row_bytes=None):
    """persist="auto": how many leading row chunks of the arrays (row-aligned, of
    known shape) to keep in the workers' memory for the fit (``keep_count``). Dense
    chunks' bytes follow from the shape and dtype; sparse chunks' only from a chunk
    made: ``row_bytes``, the bytes per row measured on one (DaskData makes and keeps
    the first chunk to measure it), times SPARSE_MARGIN for chunks denser than that
    one. 0 on dask's local schedulers, for sparse chunks without row_bytes, data of
    unknown shape, workers without a memory limit.

    A pass after the first reads the kept chunks from memory and recomputes only the
    others (reads the files, generates them): with the chunks' graph costing g per
    pass, a fit of T passes costs (T - (T - 1) kept fraction) g instead of T g."""
    if client is None or (sparse and row_bytes is None):
        return 0
    if any(np.isnan(s) for a in arrays for s in a.shape):
        return 0
    workers = _worker_memory(client)
    if workers is None:
        return 0
    rows = np.asarray(arrays[0].chunks[0], dtype=np.float64)
    if sparse:
        per_row = SPARSE_MARGIN * float(row_bytes)
    else:
        per_row = sum(a.dtype.itemsize * float(np.prod(a.shape[1:])) for a in arrays)
    return keep_count(workers, rows * per_row)


async def _loop_turns(n):
    """Return after n turns of the event loop (the callbacks queued before run)."""
    for _ in range(n):
        await asyncio.sleep(0)


def _in_memory(arr):
    """True if every task of arr's graph is a chunk already computed: futures on the
    workers (``X.persist()`` on a distributed client) or arrays in this process."""
    try:
        from distributed import Future
    except ImportError:  # pragma: no cover - distributed is a dependency of the extra
        Future = ()
    return all(isinstance(v, Future) or isinstance(v, np.ndarray) or sp.issparse(v)
               for v in dict(arr.__dask_graph__()).values())


def _is_dask_collection(obj):
    return dask.is_dask_collection(obj)


def _frame_to_array(obj, what, lengths):
    """A dask DataFrame/Series as a dask array, and its column names. lengths: the rows
    of its partitions, or True to count them (a pass over the partitions)."""
    names = None
    if getattr(obj, "ndim", 1) == 2:  # a DataFrame (a Series has ndim 1)
        names = np.asarray([str(c) for c in obj.columns], dtype=object)
        bad = [c for c, t in obj.dtypes.items() if np.dtype(t).kind not in "fiub"]
        if bad:
            raise ValueError(
                f"{what} has non-numeric columns {bad[:5]}: encode them as numbers "
                "first.")
    elif np.dtype(obj.dtype).kind not in "fiub":
        raise ValueError(f"{what} has dtype {obj.dtype}; expected numbers.")
    if lengths is not True and obj.npartitions != len(lengths):
        raise ValueError(
            f"{what} has {obj.npartitions} partitions but X has {len(lengths)} row "
            "chunks: pass them partitioned alike.")
    return obj.to_dask_array(lengths=lengths), names


def _as_dask_array(obj, what, row_chunks=None):
    """(dask array, feature names or None, passes made) for X, y or sample_weight given
    as a dask array, DataFrame/Series or an in-memory array; row_chunks: X's row
    chunks, which a DataFrame's partitions are taken to have and an in-memory array is
    cut into. Unknown chunk sizes of X cost a pass to count (one is counted)."""
    names, passes = None, 0
    if _is_dask_collection(obj) and hasattr(obj, "to_dask_array"):
        arr, names = _frame_to_array(obj, what, True if row_chunks is None
                                     else list(row_chunks))
        passes = row_chunks is None
    elif isinstance(obj, da.Array):
        arr = obj
    elif _is_dask_collection(obj):
        raise TypeError(f"{what} must be a dask array or a dask DataFrame/Series, got "
                        f"{type(obj).__name__}.")
    else:
        if not (sp.issparse(obj) or hasattr(obj, "shape")):
            obj = np.asarray(obj)
        chunks = "auto"
        if row_chunks is not None:
            chunks = (row_chunks,) + tuple((s,) for s in obj.shape[1:])
        arr = da.from_array(obj, chunks=chunks, asarray=not sp.issparse(obj))
    if arr.ndim and any(np.isnan(c) for c in arr.chunks[0]):
        if row_chunks is not None and len(arr.chunks[0]) == len(row_chunks):
            # the same partitioning as X (checked chunk by chunk in every pass)
            arr = da.Array(arr.dask, arr.name, (tuple(row_chunks),) + arr.chunks[1:],
                           meta=arr._meta)
        else:
            arr = arr.compute_chunk_sizes()  # rows of each chunk: reads the data once
            passes = 1
    return arr, names, passes


def _float_dtype(dtype):
    dtype = np.dtype(dtype)
    if dtype in (np.float32, np.float64):
        return dtype
    if dtype.kind in "iub" or dtype == np.float16:
        return np.dtype(np.float64)
    raise ValueError(f"X has dtype {dtype}; expected numbers.")


class DaskData:
    """(X, y, weights) as row-aligned dask arrays, and the passes over them.

    X: 2-D, numpy or scipy.sparse chunks, all columns in one chunk per row block
    (rechunked if not); y and the weights chunked like X's rows. ``count`` is the number
    of passes over the data so far (counting one made to learn unknown chunk sizes)."""

    def __init__(self, X, y, sample_weight, client, persist=False):
        self.client = resolve_client(client)
        self._settle()
        self.count = 0
        X, self.feature_names, self.count = _as_dask_array(X, "X")
        if X.ndim != 2:
            raise ValueError(f"Expected a 2-D X, got {X.ndim} dimensions.")
        if any(np.isnan(c) for c in X.chunks[1]):
            raise ValueError("X has an unknown number of columns; pass a dask array "
                             "with known chunk sizes or a DataFrame.")
        if len(X.chunks[1]) > 1:
            X = X.rechunk({1: -1})
        n, p = X.shape
        if n == 0 or p == 0:
            raise ValueError(f"Found array with shape {X.shape}: at least one sample "
                             "and one feature are required.")
        self.dtype = _float_dtype(X.dtype)
        self.sparse = sp.issparse(X._meta)
        y, _, passes = _as_dask_array(y, "y", X.chunks[0])
        self.count += passes
        if y.ndim == 2 and y.shape[1] == 1:
            y = y[:, 0]
        if y.ndim != 1:
            raise ValueError(f"y must be 1-D (one target), got shape {y.shape}.")
        if np.dtype(y.dtype).kind not in "fiub":
            raise ValueError(f"y has dtype {y.dtype}; expected numbers.")
        if y.shape[0] != n:
            raise ValueError("Found input variables with inconsistent numbers of "
                             f"samples: [{n}, {y.shape[0]}]")
        if y.chunks[0] != X.chunks[0]:
            y = y.rechunk((X.chunks[0],))
        sw = None
        if sample_weight is not None and not np.isscalar(sample_weight):
            sw, _, passes = _as_dask_array(sample_weight, "sample_weight", X.chunks[0])
            self.count += passes
            if sw.ndim != 1 or sw.shape[0] != n:
                raise ValueError(
                    f"sample_weight has shape {sw.shape}, expected ({n},).")
            if sw.chunks[0] != X.chunks[0]:
                sw = sw.rechunk((X.chunks[0],))
        elif sample_weight is not None:
            value = float(sample_weight)
            if not np.isfinite(value) or value <= 0:
                raise ValueError(
                    f"sample_weight must be a positive finite number, got {value!r}.")
        self.X, self.y, self.sw = X, y, sw
        self.n_samples, self.n_features = int(n), int(p)
        self.starts = np.concatenate([[0], np.cumsum(X.chunks[0])]).astype(np.int64)
        arrays = [a for a in (X, y, sw) if a is not None]
        n_chunks = len(X.chunks[0])
        probe = persist == "auto" and self.sparse and self.client is not None
        if all(_in_memory(a) for a in arrays):  # persisted beforehand
            keep, probe = 0, False
        elif persist == "auto":
            keep = 0 if probe else auto_keep(self.client, arrays, self.sparse)
        else:
            keep = n_chunks if persist else 0
        whole = keep == n_chunks
        # the three graphs optimised together, without dask's low-level fusion:
        # chunks of X, y and the weights made by one task (a file read, a generator)
        # are then made once per pass (linear fusion copies such a task into each of
        # its dependents, and it would run twice). The persist sends this optimised
        # graph too, so that a key the scheduler holds for one fit never comes back
        # with another task from a pass of another fit of the same data (the
        # scheduler warns "Detected different `run_spec`", dask/dask#9888: it keeps
        # the first task and may deadlock on the second one's dependencies)
        with dask.config.set({"optimization.fuse.active": False}):
            arrays = dask.optimize(*arrays)
        if whole:  # computed by the first pass, kept in the workers' memory
            arrays = (self.client.persist(arrays, optimize_graph=False,
                                          retries=RETRIES)
                      if self.client is not None
                      else list(dask.persist(*arrays, optimize_graph=False)))
        blocks = [a.to_delayed(optimize_graph=False).ravel() for a in arrays]
        if probe:  # sparse: sized by the first chunk, made now and kept
            keep = self._probe_keep(blocks, arrays)
        self.kept_chunks = keep
        if keep and not whole:  # the leading chunks, kept as the first pass makes them
            first = 1 if probe else 0  # (the probe's first chunk is kept already)
            lead = [b[i] for b in blocks for i in range(first, keep)]
            if lead:
                lead = self.client.persist(lead, optimize_graph=False,
                                           retries=RETRIES)
            m = keep - first
            for j, b in enumerate(blocks):
                for i in range(first, keep):
                    b[i] = lead[j * m + i - first]
        self._xb, self._yb = blocks[0], blocks[1]
        self._sb = blocks[2] if sw is not None else [None] * len(self._xb)
        self.segments = None

    def _probe_keep(self, blocks, arrays):
        """persist="auto" for sparse chunks, whose bytes are unknown until one is
        made: make the first chunk (X, y, weights), keep it on a worker (the fit's
        first pass reads it there), measure its bytes per row and return how many
        leading chunks to keep (``auto_keep``); the first chunk is released again if
        that is none. Costs the first chunk's making ahead of the others (the other
        workers idle meanwhile: a chunk's time, of a pass of c chunks). Nothing is
        made where auto_keep would keep nothing anyway (unknown shape, workers
        without a memory limit)."""
        if (any(np.isnan(s) for a in arrays for s in a.shape)
                or _worker_memory(self.client) is None):
            return 0
        first = [b[0] for b in blocks]
        first = self.client.persist(first, optimize_graph=False, retries=RETRIES)
        nbytes = self.client.compute(delayed(chunk_nbytes, pure=True)(*first),
                                     retries=RETRIES).result()
        rows = max(1, int(self.starts[1] - self.starts[0]))
        keep = auto_keep(self.client, arrays, True, row_bytes=nbytes / rows)
        if keep:
            for b, f in zip(blocks, first, strict=True):
                b[0] = f
        return keep

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.release()

    def release(self):
        """End of the fit (``with DaskData(...) as data``: also when it fails or is
        interrupted, whoever holds the traceback): drop the chunks' graphs, so the
        data it persisted leave the workers (``_settle``). No pass after this."""
        self._xb = self._yb = self._sb = None
        self.X = self.y = self.sw = None
        self._settle()

    def _settle(self):
        """Return once the releases of futures dropped so far are on their way to
        the scheduler, ahead of anything submitted next.

        A dropped future (a computation's result, data kept) sends its release from
        the client's event loop two callbacks later, so a graph submitted right after
        (our first pass after the user's ``dask.compute(X)``, the user's after our
        fit) can reach the scheduler first and meet the earlier graph's keys of X,
        optimised differently (dask's default fusion; ours without): the scheduler
        warns "Detected different `run_spec`" and keeps the first task
        (dask/dask#9888). Letting the loop turn twice sends the releases first."""
        if self.client is None:
            return
        try:
            self.client.sync(_loop_turns, 2)
        except Exception:  # noqa: BLE001 - a closed client has nothing to release
            pass

    @property
    def n_chunks(self):
        return len(self._xb)

    def where(self, i):
        return f"chunk {i} (rows {self.starts[i]}..{self.starts[i + 1] - 1})"

    # -- passes ------------------------------------------------------------------------

    def _run(self, leaves, merge):
        """Evaluate the tree of merges over the leaves (one pass over the data)."""
        level = list(leaves)
        while len(level) > 1:
            nxt = [delayed(merge, pure=True)(level[i], level[i + 1])
                   for i in range(0, len(level) - 1, 2)]
            if len(level) % 2:
                nxt.append(level[-1])
            level = nxt
        root = level[0]
        self.count += 1
        if self.client is None:
            return dask.compute(root)[0]
        future = self.client.compute(root, retries=RETRIES)
        try:
            return future.result()
        except ChunkDataError:
            raise
        except Exception as exc:
            chunk = self._erred_leaf([leaf.key for leaf in leaves])
            if chunk is None:
                raise
            raise RuntimeError(
                f"Computing {self.where(chunk)} of the input failed (after {RETRIES} "
                f"retries): {type(exc).__name__}: {exc}") from exc
        finally:
            del future

    def _erred_leaf(self, keys):
        """Index of the first leaf task the scheduler holds as erred, or None."""
        def states(dask_scheduler, keys):
            tasks = dask_scheduler.tasks
            return [tasks[k].state if k in tasks else None for k in keys]
        try:
            st = self.client.run_on_scheduler(states, keys=keys)
        except Exception:  # noqa: BLE001 - diagnosis only; the original error is raised
            return None
        for i, s in enumerate(st):
            if s == "erred":
                return i
        return None

    def _leaves(self, fn, *args, segments=None, **kwargs):
        args = [delayed(a, pure=True) if isinstance(a, np.ndarray) else a for a in args]
        out = []
        for i in range(self.n_chunks):
            kw = dict(kwargs, where=self.where(i))
            if segments is not None:
                kw["segments"] = segments[i]
            out.append(delayed(fn, pure=True)(self._xb[i], self._yb[i], self._sb[i],
                                              *args, **kw))
        return out

    def fold_segments(self, bounds):
        """Per chunk, the (fold, start, stop) row ranges of the folds with row bounds
        ``bounds`` (K + 1 increasing offsets from 0 to n) that it overlaps."""
        segs = []
        for i in range(self.n_chunks):
            a, b = int(self.starts[i]), int(self.starts[i + 1])
            segs.append([(k, max(a, int(bounds[k])) - a, min(b, int(bounds[k + 1])) - a)
                         for k in range(len(bounds) - 1)
                         if bounds[k] < b and bounds[k + 1] > a])
        return segs

    def moments(self, gram=False, fold_bounds=None):
        """Merged Moments (fastlasso._chunkstats) of all rows, or a dict {fold: Moments}
        for the row ranges of fold_bounds. One pass."""
        segments = None if fold_bounds is None else self.fold_segments(fold_bounds)
        leaves = self._leaves(chunk_moments, gram=gram, segments=segments)
        return self._run(leaves, merge_moments)

    def use_folds(self, bounds):
        """Cut the later passes' chunks at the row offsets ``bounds`` (K + 1, from 0 to
        n): their segments are the folds of cross-validation (keys 0..K-1)."""
        self.segments = None if bounds is None else self.fold_segments(bounds)

    def run(self, resid=None, gram=None):
        """Summed fastlasso._chunkstats.chunk_pass results for the requests ``resid``
        and ``gram`` (its arguments), over the current segments. One pass."""
        if resid is not None:
            resid = tuple(delayed(np.asarray(a), pure=True) for a in resid)
        if gram is not None:
            gram = tuple(delayed(np.asarray(a), pure=True) for a in gram)
        leaves = self._leaves(chunk_pass, resid=resid, gram=gram,
                              segments=self.segments)
        return self._run(leaves, merge_pass)

    def residuals(self, W, intercepts, ybar):
        """(X^T S r, s^T r, r^T S r, (S (y - ybar))^T r) at the columns of W, over all
        rows (chunk_pass without folds). One pass."""
        W = np.asarray(W, dtype=np.float64)
        k = W.shape[1]
        segments, self.segments = self.segments, None
        try:
            out, _ = self.run(resid=(W, np.asarray(intercepts, dtype=np.float64),
                                     np.full(k, float(ybar)), np.full(k, -1)))
        finally:
            self.segments = segments
        return out[:4]
