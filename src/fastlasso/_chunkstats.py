"""Statistics of row chunks and their merges: the per-chunk work of distributed fits.

Plain numpy/scipy functions of one chunk (X_c, y_c, s_c) of rows, returning small
arrays, and associative merges of their results; no scheduler is imported here, so
Dask (fastlasso.dask), Spark (treeAggregate) or Ray only map them over chunks and fold
the results with ``tree_reduce``. Nothing here pickles a Cython object.

Moments (``chunk_moments``). For a chunk with weights s (ones if None) and
S = sum s, xbar = X^T s / S, ybar = s^T y / S, the centred sums
    C = sum s (x - xbar)(x - xbar)^T   (only with gram=True; else its diagonal),
    c_xy = sum s (x - xbar)(y - ybar),  c_yy = sum s (y - ybar)^2,
together with the minimum and maximum of every column and of y over the rows of
positive weight (a column constant there cannot enter the model: the in-memory
solver marks it with a squared norm of exactly 0, and so do these statistics).
Two chunks merge by the parallel-variance update (Chan, Golub & LeVeque 1979)
    S = Sa + Sb,  d = xbar_b - xbar_a,  xbar = xbar_a + (Sb / S) d,
    C = Ca + Cb + (Sa Sb / S) d d^T   (and likewise for c_xy, c_yy),
so one pass gives the means and the centred Gram matrix, with no cancellation between
chunks however large the means are.

Passes of the solves (``chunk_pass``): for coefficient columns W and intercepts b,
r = y - X W - b and X^T S r, s^T r, s^T r^2, (S (y - ybar))^T r: all a duality gap
needs (see fastlasso._statsolve), with the rows of a cross-validation fold zero-weighted
per column and their squared error returned apart (the held-out error); and Gram blocks
X~_A^T S X~_B of two feature sets, centred by given means, per fold of rows. One pass
serves the requests of several problems at once (the K folds of cross-validation).

Determinism: every matrix a BLAS call reads (a dense chunk, or blocks of its rows
kept in cache) is first copied into a 64-byte-aligned float64 buffer, so are the
vectors and outputs, and all the work of a chunk runs with BLAS on one thread: a
chunk's result then does not depend on where its memory landed (OpenBLAS's kernels
round differently at different alignments: 1e-9 relative in X^T v) or on how many
threads the process has (a threaded dot product sums in another order). With a merge
tree fixed by chunk index (``tree_reduce``) the totals are bitwise reproducible across
schedulers, in the client's process and on workers, and after recomputation (e.g. when
a worker is lost).

Bad data raise ``ChunkDataError`` (a ValueError) naming the chunk.
"""

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.linalg.blas import dsyrk
from threadpoolctl import threadpool_limits

from fastlasso._compat import _assert_all_finite
from fastlasso._data import check_structure

ALIGN = 64


class ChunkDataError(ValueError):
    """Invalid values in one chunk of a distributed input (the message names it)."""


def _where(where):
    return f" (in {where})" if where else ""


def aligned_empty(shape, order="C"):
    """An uninitialised float64 array whose data start on a 64-byte boundary."""
    size = int(np.prod(shape))
    buf = np.empty(size + ALIGN // 8, dtype=np.float64)
    start = (-buf.ctypes.data % ALIGN) // 8
    return buf[start:start + size].reshape(shape, order=order)


def aligned_ones(n):
    """A 64-byte-aligned float64 vector of n ones."""
    out = aligned_empty((n,))
    out[...] = 1.0
    return out


def aligned_copy(X, order="C"):
    """X (dense) as a 64-byte-aligned float64 array in the given order."""
    out = aligned_empty(X.shape, order)
    out[...] = X
    return out


def _blas1():
    return threadpool_limits(limits=1, user_api="blas")


def as_chunk(X, y, sw, where=None):
    """Checked (X, y, s) of one chunk: X 2-D (dense ndarray, or canonical float64 CSR),
    y a 1-D float64 vector, s float64 weights or None. Raises ChunkDataError for NaN or
    infinity, negative weights and rows of X, y and weights that do not match."""
    at = _where(where)
    if sp.issparse(X):
        X = check_structure(X)
        X = sp.csr_matrix(X)
        if not X.has_canonical_format:
            X = X.copy()
            X.sum_duplicates()
        values = X.data
        if X.dtype != np.float64:  # products accumulate in float64, as in memory
            X = X.astype(np.float64)
    else:
        X = np.asarray(X)
        if X.ndim != 2:
            raise ChunkDataError(
                f"A chunk of X has {X.ndim} dimensions; expected 2{at}."
            )
        values = X
    if X.dtype.kind not in "fiub":
        raise ChunkDataError(f"X has dtype {X.dtype}; expected numbers{at}.")
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1:
        raise ChunkDataError(f"y must be 1-D, got a chunk of shape {y.shape}{at}.")
    if y.shape[0] != X.shape[0]:
        raise ChunkDataError(
            f"A chunk of X has {X.shape[0]} rows but the matching chunk of y has "
            f"{y.shape[0]}{at}: X and y must be chunked alike.")
    for arr, name in ((values, "X"), (y, "y")):
        try:
            _assert_all_finite(arr, input_name=name)
        except ValueError as exc:
            raise ChunkDataError(f"{exc}{at}") from None
    y = np.asarray(y, dtype=np.float64)
    if sw is not None:
        sw = np.asarray(sw)
        if sw.ndim != 1 or sw.shape[0] != X.shape[0]:
            raise ChunkDataError(
                f"A chunk of sample_weight has shape {sw.shape} for {X.shape[0]} rows "
                f"of X{at}: sample_weight must be 1-D and chunked like X.")
        try:
            _assert_all_finite(sw, input_name="sample_weight")
        except ValueError as exc:
            raise ChunkDataError(f"{exc}{at}") from None
        sw = np.asarray(sw, dtype=np.float64)
        if sw.size and sw.min() < 0:
            raise ChunkDataError(
                f"Negative values in data passed to `sample_weight`{at}."
            )
    return X, y, sw


@dataclass
class Moments:
    """Weighted moments of a set of rows (module docstring). C is None unless the
    Gram matrix was asked for; xmin/xmax/ymin/ymax are +inf/-inf without rows of
    positive weight."""

    n: int
    n_pos: int
    S: float
    xbar: np.ndarray
    ybar: float
    xm2: np.ndarray
    cxy: np.ndarray
    cyy: float
    xmin: np.ndarray
    xmax: np.ndarray
    ymin: float
    ymax: float
    C: np.ndarray | None = None

    @property
    def n_features(self):
        return self.xbar.shape[0]


def _empty_moments(n, p, gram):
    inf = np.full(p, np.inf)
    return Moments(n, 0, 0.0, np.zeros(p), 0.0, np.zeros(p), np.zeros(p), 0.0,
                   inf, -inf, np.inf, -np.inf, np.zeros((p, p)) if gram else None)


def _target_moments(y, sv, S, pos, n_pos):
    """The target's moments over rows with weights sv (aligned, sum S): the weighted
    mean ybar, syc = sv (y - ybar) (aligned: the X^T syc products read it),
    cyy = sum_i sv_i (y_i - ybar)^2, and min and max of y over the rows of positive
    weight (pos: their mask, None when every row counts; n_pos of them)."""
    n = y.shape[0]
    ys = y if pos is None or n_pos == n else y[pos]
    ymin, ymax = float(ys.min()), float(ys.max())
    ybar = float(np.dot(sv, y)) / S
    yc, syc = aligned_empty(n), aligned_empty(n)
    np.subtract(y, ybar, out=yc)
    np.multiply(sv, yc, out=syc)
    cyy = float(np.dot(syc, yc))
    return ybar, syc, cyy, ymin, ymax


def _moments_rows(X, y, s, gram):
    """Moments of (X, y, s) already checked by as_chunk (s: None or float64); called
    with BLAS on one thread. Dense rows go by blocks (_moments_dense)."""
    n, p = X.shape
    if not sp.issparse(X):
        return _moments_dense(X, y, s, gram)
    pos = None if s is None else s > 0
    n_pos = n if s is None else int(np.count_nonzero(pos))
    if n_pos == 0:
        return _empty_moments(n, p, gram)
    # every vector a BLAS call reads or writes is 64-byte aligned (module docstring)
    sv = aligned_ones(n) if s is None else aligned_copy(s)
    y = aligned_copy(y)
    S = float(n) if s is None else float(s.sum())
    ybar, syc, cyy, ymin, ymax = _target_moments(y, sv, S, pos, n_pos)
    xbar = np.asarray(X.T @ sv, dtype=np.float64).ravel() / S
    cxy = np.asarray(X.T @ syc, dtype=np.float64).ravel() - xbar * float(syc.sum())
    # centred squares as the in-memory column statistics form them: stored entries
    # (x - xbar)^2, then the implicit zeros' weight times xbar^2
    rows = np.repeat(np.arange(n), np.diff(X.indptr))
    cols = X.indices
    live = None if pos is None or n_pos == n else pos[rows]  # entries of weighted rows
    dev = X.data.astype(np.float64) - xbar[cols]
    xm2 = np.bincount(cols, weights=sv[rows] * dev * dev, minlength=p)
    stored_w = np.bincount(cols, weights=sv[rows], minlength=p)
    stored = np.bincount(cols if live is None else cols[live], minlength=p)
    xmin, xmax = _column_extremes(X.data, cols, live, stored < n_pos, p)
    implicit = np.where(stored < n_pos, np.maximum(S - stored_w, 0.0), 0.0)
    xm2 += implicit * xbar * xbar
    C = None
    if gram:
        Xs = X.multiply(np.sqrt(sv)[:, None]).tocsr() if s is not None else X
        A = (Xs.T @ Xs).toarray().astype(np.float64)
        C = A - S * np.outer(xbar, xbar)
        C[np.diag_indices(p)] = xm2
    return Moments(n, n_pos, S, xbar, ybar, xm2, cxy, cyy, xmin, xmax, ymin, ymax, C)


def _column_extremes(data, cols, live, implicit_zero, p):
    """(min, max) of every column of a CSR chunk over its rows of positive weight:
    of the stored entries on those rows (``live``: their mask, None for all), and 0
    for the columns with an implicit zero there (fewer stored entries than such
    rows). What scipy's ``X.min(axis=0)`` gives, by ufunc.at on the stored entries
    instead of its conversion to CSC (a sort of all the entries: 0.45 s against
    0.03 s per extreme on a chunk of 25,000 x 100,000 with 2.5 million entries)."""
    if live is not None:
        data, cols = data[live], cols[live]
    data = np.asarray(data, dtype=np.float64)
    xmin, xmax = np.full(p, np.inf), np.full(p, -np.inf)
    np.minimum.at(xmin, cols, data)
    np.maximum.at(xmax, cols, data)
    xmin[implicit_zero] = np.minimum(xmin[implicit_zero], 0.0)
    xmax[implicit_zero] = np.maximum(xmax[implicit_zero], 0.0)
    return xmin, xmax


def _moments_dense(X, y, s, gram):
    """Moments of dense rows, read once: blocks of rows (BLOCK_BYTES, at least 64 and
    p rows, a multiple of 8) are copied into one 64-byte-aligned buffer, their moments
    formed in cache (_moments_block) and merged block after block (merge_moments: the
    parallel-variance update, so each block is centred by its own means). The blocks
    are fixed by row index: the result does not depend on where memory landed."""
    n, p = X.shape
    rows = -(-max(64, p, BLOCK_BYTES // (8 * p)) // 8) * 8
    buf = aligned_empty((min(rows, n), p))
    sv = None if s is None else aligned_copy(s)
    y = aligned_copy(y)
    out = None
    for u in range(0, n, rows):
        v = min(u + rows, n)
        Z = buf[: v - u]
        Z[...] = X[u:v]
        m = _moments_block(Z, y[u:v], None if sv is None else sv[u:v], gram)
        out = m if out is None else merge_moments(out, m)
    return out


def _moments_block(Z, y, s, gram):
    """Moments of an aligned C-ordered block Z (overwritten) with aligned y and s."""
    n, p = Z.shape
    pos = None if s is None else s > 0
    n_pos = n if s is None else int(np.count_nonzero(pos))
    if n_pos == 0:
        return _empty_moments(n, p, gram)
    sv = aligned_ones(n) if s is None else s
    S = float(n) if s is None else float(s.sum())
    Zp = Z if pos is None or n_pos == n else Z[pos]
    xmin, xmax = Zp.min(axis=0), Zp.max(axis=0)
    ybar, syc, cyy, ymin, ymax = _target_moments(y, sv, S, pos, n_pos)
    xbar, cxy = aligned_empty(p), aligned_empty(p)
    np.matmul(sv, Z, out=xbar)
    xbar /= S
    Z -= xbar
    np.matmul(syc, Z, out=cxy)
    if s is not None:
        Z *= np.sqrt(sv)[:, None]
    if gram:
        C = aligned_empty((p, p), order="F")
        C[...] = 0.0
        # Z^T Z as (Z^T)(Z^T)^T: Z^T is a Fortran-ordered view, no copy
        C = dsyrk(1.0, Z.T, beta=0.0, c=C, trans=0, lower=0, overwrite_c=1)
        C = np.triu(C) + np.triu(C, 1).T
        xm2 = np.diag(C).copy()
    else:
        C = None
        xm2 = np.einsum("ij,ij->j", Z, Z)
    return Moments(n, n_pos, S, xbar, ybar, xm2, cxy, cyy, xmin, xmax, ymin, ymax, C)


def chunk_moments(X, y, sw=None, *, gram=False, segments=None, where=None):
    """Moments of one chunk (module docstring); with gram=True also the centred Gram
    matrix C (p x p, float64).

    segments, if given, is a list of (key, start, stop) row ranges of the chunk (a
    chunk that straddles cross-validation folds): the result is then a dict
    {key: Moments} with one entry per segment, merged per key by ``merge_moments``.
    """
    X, y, s = as_chunk(X, y, sw, where)
    with _blas1():
        if segments is None:
            return _moments_rows(X, y, s, gram)
        out = {}
        for key, a, b in segments:
            out[key] = _moments_rows(X[a:b], y[a:b], None if s is None else s[a:b],
                                     gram)
    return out


def merge_moments(a, b):
    """Moments of the union of the rows of a and b (parallel-variance update); dicts of
    Moments merge key by key (in sorted key order)."""
    if isinstance(a, dict):
        out = dict(a)
        for key in sorted(b):
            out[key] = merge_moments(out[key], b[key]) if key in out else b[key]
        return dict(sorted(out.items()))
    n, n_pos = a.n + b.n, a.n_pos + b.n_pos
    if b.S == 0 or a.S == 0:
        keep = a if b.S == 0 else b
        return Moments(n, n_pos, keep.S, keep.xbar, keep.ybar, keep.xm2, keep.cxy,
                       keep.cyy, np.minimum(a.xmin, b.xmin), np.maximum(a.xmax, b.xmax),
                       min(a.ymin, b.ymin), max(a.ymax, b.ymax), keep.C)
    S = a.S + b.S
    d = b.xbar - a.xbar
    dy = b.ybar - a.ybar
    f = a.S * b.S / S
    C = None
    if a.C is not None and b.C is not None:
        C = a.C + b.C + f * np.outer(d, d)
    return Moments(
        n, n_pos, S,
        a.xbar + (b.S / S) * d,
        a.ybar + (b.S / S) * dy,
        a.xm2 + b.xm2 + f * d * d,
        a.cxy + b.cxy + f * d * dy,
        a.cyy + b.cyy + f * dy * dy,
        np.minimum(a.xmin, b.xmin), np.maximum(a.xmax, b.xmax),
        min(a.ymin, b.ymin), max(a.ymax, b.ymax),
        C,
    )


ROWS = 4096  # rows of a dense chunk gathered at a time for Gram blocks
BLOCK_BYTES = 1 << 19  # a block of dense rows kept in cache for both residual products


def _segments(n, segments):
    """The chunk's (key, start, stop) row ranges, or one range (0, 0, n) of all rows."""
    return [(0, 0, n)] if segments is None else list(segments)


def _dense_products(X, y, W, b, M, active):
    """(R, X^T (M * R)) with R = y - X W - b, for a dense chunk X read ONCE: blocks of
    rows (BLOCK_BYTES, at least 64) are copied into a 64-byte-aligned float64 buffer
    that stays in cache for both products (X W, or X_active W_active when few features
    are active, then the block's X^T (M R)). No copy of the chunk or of its columns; the
    blocks are fixed by row index, so the result does not depend on where memory
    landed (see the module docstring)."""
    n, p = X.shape
    c = W.shape[1]
    rows = max(64, BLOCK_BYTES // (8 * p)) // 8 * 8  # R's blocks stay aligned
    gather = 4 * active.size < p
    Wp = aligned_copy(W[active] if gather else W)
    buf = aligned_empty((min(rows, n), p))
    gbuf = aligned_empty((min(rows, n), active.size)) if gather else None
    sbuf = aligned_empty((min(rows, n), c))
    R = aligned_empty((n, c))
    G = np.zeros((p, c))
    gout = aligned_empty((p, c))
    for u in range(0, n, rows):
        v = min(u + rows, n)
        Zb, SRb = buf[: v - u], sbuf[: v - u]
        Zb[...] = X[u:v]
        Rb = R[u:v]
        if active.size == 0:
            Rb[...] = 0.0
        elif gather:
            Zg = gbuf[: v - u]
            np.take(Zb, active, axis=1, out=Zg)
            np.matmul(Zg, Wp, out=Rb)
        else:
            np.matmul(Zb, Wp, out=Rb)
        np.subtract(y[u:v, None], Rb, out=Rb)
        Rb -= b
        np.multiply(Rb, M[u:v], out=SRb)
        np.matmul(Zb.T, SRb, out=gout)
        G += gout
    return R, G


def _residual_part(X, y, sv, segs, W, intercepts, ybars, held):
    """(X^T S_c r_c (p, c), s_c^T r_c, r_c^T S_c r_c, (S_c (y - ybar_c))^T r_c, and
    sum s r_c^2 over the rows of segment held_c), r_c = y - X w_c - b_c, S_c = the
    weights with the rows of segment held_c set to 0 (all rows when held_c < 0)."""
    n, c = X.shape[0], W.shape[1]
    active = np.flatnonzero(np.any(W != 0, axis=1))
    M = np.repeat(sv[:, None], c, axis=1)
    held_rows = []
    for key, a, b in segs:
        cols = np.flatnonzero(held == key)
        if cols.size:
            M[a:b, cols] = 0.0
            held_rows.append((cols, a, b))
    if sp.issparse(X):
        XA = X[:, active] if active.size < X.shape[1] else X
        R = -np.asarray(XA @ W[active], dtype=np.float64).reshape(n, -1)
        R += y[:, None]
        R -= intercepts
        SR = aligned_empty(R.shape)
        np.multiply(R, M, out=SR)
        G = np.asarray(X.T @ SR, dtype=np.float64)
    else:
        R, G = _dense_products(X, y, W, intercepts, M, active)
        SR = R * M
    held_sse = np.zeros(c)
    for cols, a, b in held_rows:
        Rh = R[a:b, cols]
        held_sse[cols] = (Rh * Rh * sv[a:b, None]).sum(axis=0)
    sr = SR.sum(axis=0)
    rr = np.einsum("ik,ik->k", SR, R)
    ry = np.einsum("ik,ik->k", SR, y[:, None] - ybars)
    return G, sr, rr, ry, held_sse


def _gram_part(X, sv, weighted, segs, rows, cols, shift):
    """{key: X~_rows^T S X~_cols over the rows of segment key} with X~ = X - shift:
    dense rows gathered ROWS at a time into aligned buffers, centred block by block (an
    ndarray); sparse rows as a SparseGramSums (the products of the raw columns, sparse,
    centred only once all chunks are summed)."""
    out = {}
    if sp.issparse(X):
        # the columns picked from the CSR rows directly (a pass over the entries),
        # not through CSC (a sort of all of them, six times longer on 0.1%-dense
        # chunks); their indices need not be sorted for the products below
        Xa, Xb = X[:, rows], X[:, cols]
        ma, mb = shift[rows], shift[cols]
        for key, a, b in segs:
            s = sv[a:b]
            A_seg, B_seg = Xa[a:b], Xb[a:b]
            ua = np.asarray(A_seg.T @ s, dtype=np.float64).ravel()
            ub = np.asarray(B_seg.T @ s, dtype=np.float64).ravel()
            Bs = B_seg.multiply(s[:, None]).tocsr() if weighted else B_seg
            A = sp.csr_matrix(A_seg.T @ Bs, dtype=np.float64)
            A.sum_duplicates()  # canonical: sorted, unique entries
            out[key] = SparseGramSums(_compact(A), ua, ub, float(s.sum()), ma, mb)
        return out
    ra = min(ROWS, X.shape[0])
    buf_a = aligned_empty((ra, rows.size))
    buf_b = aligned_empty((ra, cols.size))
    prod = aligned_empty((rows.size, cols.size))
    for key, a, b in segs:
        A = np.zeros((rows.size, cols.size))
        for u in range(a, b, ROWS):
            v = min(u + ROWS, b)
            Za, Zb = buf_a[: v - u], buf_b[: v - u]
            Za[...] = X[u:v, rows]
            Zb[...] = X[u:v, cols]
            Za -= shift[rows]
            Zb -= shift[cols]
            if weighted:
                Zb *= sv[u:v, None]
            np.matmul(Za.T, Zb, out=prod)
            A += prod
        out[key] = A
    return out


def _compact(A):
    """A canonical CSR matrix, or A as an ndarray where that takes fewer bytes (at
    least 2/3 of the entries stored: 12 bytes an entry against 8)."""
    if sp.issparse(A) and 3 * A.nnz >= 2 * A.shape[0] * A.shape[1]:
        return A.toarray()
    return A


def _add_blocks(a, b):
    """a + b for blocks stored as canonical CSR or ndarray (a new object). Each entry
    is the same sum a_ij + b_ij either way (absent entries are exact zeros), so the
    storage does not change a bit of the result."""
    if sp.issparse(a) and sp.issparse(b):
        c = (a + b).tocsr()
        c.sum_duplicates()
        return _compact(c)
    if sp.issparse(a):
        a, b = b, a
    out = np.array(a, dtype=np.float64)
    if sp.issparse(b):
        coo = b.tocoo()  # canonical: each (row, col) once, so += adds each entry once
        out[coo.row, coo.col] += coo.data
    else:
        out += b
    return out


class SparseGramSums:
    """The Gram block sum s (x_rows - m_rows)(x_cols - m_cols)^T of sparse rows, kept
    as the sums it is made of until all chunks are added:
        A = sum s x_rows x_cols^T (sparse: two columns of 0.1%-dense data share a
            row in a chunk rarely, so a chunk's block has few entries),
        u_rows = sum s x_rows, u_cols = sum s x_cols, S = sum s,
    centred only when read (``dense``, ``np.asarray``):
        A - m_rows u_cols^T - u_rows m_cols^T + S m_rows m_cols^T.
    Centring each chunk's block would make it dense (the means are not 0): |rows| x
    |cols| floats per chunk in flight on the workers and between them, however few
    rows the chunk has. Added with ``+`` (merge_pass); the sums are formed in the merge
    tree's order, so the result is as reproducible as the dense blocks'."""

    def __init__(self, A, u_rows, u_cols, S, m_rows, m_cols):
        self.A, self.u_rows, self.u_cols, self.S = A, u_rows, u_cols, S
        self.m_rows, self.m_cols = m_rows, m_cols

    def __add__(self, other):
        if not isinstance(other, SparseGramSums):
            return self.dense() + np.asarray(other)
        return SparseGramSums(_add_blocks(self.A, other.A),
                              self.u_rows + other.u_rows, self.u_cols + other.u_cols,
                              self.S + other.S, self.m_rows, self.m_cols)

    def dense(self):
        """The centred block as a new float64 ndarray."""
        out = self.A.toarray() if sp.issparse(self.A) else np.array(self.A)
        out = np.asarray(out, dtype=np.float64)
        if np.any(self.m_rows) or np.any(self.m_cols):
            out -= np.outer(self.m_rows, self.u_cols - self.S * self.m_cols)
            out -= np.outer(self.u_rows, self.m_cols)
        return out

    def __array__(self, dtype=None, copy=None):
        out = self.dense()
        return out if dtype is None else out.astype(dtype, copy=False)


def dense_blocks(gram):
    """The Gram part of a merged pass with every block as a centred ndarray."""
    if gram is None:
        return None
    return {key: (v.dense() if isinstance(v, SparseGramSums) else v)
            for key, v in gram.items()}


def chunk_pass(X, y, sw, resid=None, gram=None, segments=None, where=None):
    """One read of a chunk for the requests of a round of distributed solves.

    resid = (W (p, c), intercepts (c,), ybars (c,), held (c,) segment keys or -1): for
    each column c, r = y - X w_c - b_c and, with S_c the weights s with the rows of
    segment held_c set to 0 (a cross-validation fold's held-out rows),
    (X^T S_c r (p, c), s_c^T r, r^T S_c r, (S_c (y - ybar_c))^T r, sum over the rows of
    segment held_c of s r^2 (the held-out squared error; 0 for held_c = -1)).
    gram = (rows, cols, shift): {key: sum s (x_rows - m)(x_cols - m)^T over the rows of
    each segment}, m = shift (an ndarray for dense rows, a SparseGramSums for sparse
    ones: ``dense_blocks`` of the merged pass gives ndarrays).
    segments: the chunk's (key, start, stop) row ranges (fold_segments), or None for
    one segment (key 0) of all rows. Returns (residual part or None, gram part or None);
    merged by ``merge_pass``.
    """
    X, y, s = as_chunk(X, y, sw, where)
    n = X.shape[0]
    sv = aligned_ones(n) if s is None else aligned_copy(s)
    segs = _segments(n, segments)
    out_r = out_g = None
    with _blas1():
        if resid is not None:
            W, b, ybars, held = resid
            out_r = _residual_part(
                X, y, sv, segs, np.asarray(W, dtype=np.float64),
                np.asarray(b, dtype=np.float64), np.asarray(ybars, dtype=np.float64),
                np.asarray(held, dtype=np.int64))
        if gram is not None:
            rows, cols, shift = gram
            out_g = _gram_part(
                X, sv, s is not None, segs, np.asarray(rows, dtype=np.intp),
                np.asarray(cols, dtype=np.intp), np.asarray(shift, dtype=np.float64))
    return out_r, out_g


def merge_pass(a, b):
    """Sum of two chunk_pass results (the Gram parts key by key, in sorted order)."""
    ra, ga = a
    rb, gb = b
    r = rb if ra is None else (ra if rb is None else merge_sums(ra, rb))
    if ga is None or gb is None:
        return r, (gb if ga is None else ga)
    g = dict(ga)
    for key in sorted(gb):
        g[key] = g[key] + gb[key] if key in g else gb[key]
    return r, dict(sorted(g.items()))


def chunk_residual_products(X, y, sw, W, intercepts, ybar, where=None):
    """For coefficient columns W (p, k) and intercepts b (k,), with r = y - X W - b:
    (X^T S r (p, k), s^T r (k,), s^T r^2 (k,), (S (y - ybar))^T r (k,)), in float64
    (chunk_pass for all rows)."""
    W = np.asarray(W, dtype=np.float64)
    k = W.shape[1]
    held = np.full(k, -1)
    (G, sr, rr, ry, _), _ = chunk_pass(
        X, y, sw, resid=(W, intercepts, np.full(k, float(ybar)), held), where=where)
    return G, sr, rr, ry


def merge_sums(a, b):
    """Element-wise sum of two tuples of arrays (residual products, Gram blocks)."""
    return tuple(u + v for u, v in zip(a, b, strict=True))


def chunk_gram_block(X, y, sw, rows, cols, mu, where=None):
    """X~_A^T S X~_B for the feature sets A = rows, B = cols with X~ = X - mu, over all
    rows of the chunk (chunk_pass), an ndarray."""
    _, g = chunk_pass(X, y, sw, gram=(rows, cols, mu), where=where)
    return dense_blocks(g)[0]


def tree_reduce(items, merge):
    """Fold items pairwise in a tree fixed by their order: ((0,1),(2,3)),... The same
    items give bitwise the same result whatever evaluates the merges."""
    items = list(items)
    if not items:
        raise ValueError("nothing to reduce")
    while len(items) > 1:
        nxt = [merge(items[i], items[i + 1]) for i in range(0, len(items) - 1, 2)]
        if len(items) % 2:
            nxt.append(items[-1])
        items = nxt
    return items[0]
