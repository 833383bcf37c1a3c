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

Residual products (``chunk_residual_products``): for coefficient columns W and
intercepts b, r = y - X W - b and X^T S r, s^T r, s^T r^2, (S (y - ybar))^T r: all a
duality gap needs (see fastlasso._statsolve). Gram blocks (``chunk_gram_block``):
X~_A^T S X~_B for two feature sets, centred by given means.

Determinism: each dense chunk is first copied into a 64-byte-aligned float64 buffer
and the BLAS calls run on one thread, so a chunk's result does not depend on where
its memory landed or on how many threads the worker has; with a merge tree fixed by
chunk index (``tree_reduce``) the totals are then bitwise reproducible across
schedulers and after recomputation (e.g. when a worker is lost).

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


def _moments_rows(X, y, s, gram):
    """Moments of (X, y, s) already checked by as_chunk (s: None or float64)."""
    n, p = X.shape
    pos = None if s is None else s > 0
    n_pos = n if s is None else int(np.count_nonzero(pos))
    if n_pos == 0:
        return _empty_moments(n, p, gram)
    sv = np.ones(n) if s is None else s
    S = float(n) if s is None else float(s.sum())
    ys = y if pos is None or n_pos == n else y[pos]
    ymin, ymax = float(ys.min()), float(ys.max())
    ybar = float(sv @ y) / S
    yc = y - ybar
    syc = sv * yc
    cyy = float(syc @ yc)
    if sp.issparse(X):
        Xp = X if pos is None or n_pos == n else X[pos]
        xmin = np.asarray(Xp.min(axis=0).toarray(), dtype=np.float64).ravel()
        xmax = np.asarray(Xp.max(axis=0).toarray(), dtype=np.float64).ravel()
        xbar = np.asarray(X.T @ sv, dtype=np.float64).ravel() / S
        cxy = np.asarray(X.T @ syc, dtype=np.float64).ravel() - xbar * float(syc.sum())
        # centred squares as the in-memory column statistics form them: stored entries
        # (x - xbar)^2, then the implicit zeros' weight times xbar^2
        rows = np.repeat(np.arange(n), np.diff(X.indptr))
        cols = X.indices
        dev = X.data.astype(np.float64) - xbar[cols]
        xm2 = np.bincount(cols, weights=sv[rows] * dev * dev, minlength=p)
        stored_w = np.bincount(cols, weights=sv[rows], minlength=p)
        stored = np.bincount(cols[sv[rows] > 0], minlength=p)
        implicit = np.where(stored < n_pos, np.maximum(S - stored_w, 0.0), 0.0)
        xm2 += implicit * xbar * xbar
        C = None
        if gram:
            Xs = X.multiply(np.sqrt(sv)[:, None]).tocsr() if s is not None else X
            A = (Xs.T @ Xs).toarray().astype(np.float64)
            C = A - S * np.outer(xbar, xbar)
            C[np.diag_indices(p)] = xm2
    else:
        Xp = X if pos is None or n_pos == n else X[pos]
        xmin = np.asarray(Xp.min(axis=0), dtype=np.float64)
        xmax = np.asarray(Xp.max(axis=0), dtype=np.float64)
        Z = aligned_copy(X, order="F")
        with _blas1():
            xbar = (sv @ Z) / S
            Z -= xbar
            cxy = syc @ Z
            if s is not None:
                Z *= np.sqrt(sv)[:, None]
            if gram:
                C = dsyrk(1.0, Z, trans=1, lower=0)
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
    if segments is None:
        return _moments_rows(X, y, s, gram)
    out = {}
    for key, a, b in segments:
        out[key] = _moments_rows(X[a:b], y[a:b], None if s is None else s[a:b], gram)
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


def chunk_residual_products(X, y, sw, W, intercepts, ybar, where=None):
    """For coefficient columns W (p, k) and intercepts b (k,), with r = y - X W - b:
    (X^T S r (p, k), s^T r (k,), s^T r^2 (k,), (S (y - ybar))^T r (k,)), in float64."""
    X, y, s = as_chunk(X, y, sw, where)
    W = np.asarray(W, dtype=np.float64)
    n = X.shape[0]
    active = np.flatnonzero(np.any(W != 0, axis=1))
    with _blas1():
        if sp.issparse(X):
            XA = X[:, active] if active.size < X.shape[1] else X
            R = -np.asarray(XA @ W[active], dtype=np.float64)
        else:
            Z = aligned_copy(X, order="C")
            R = (-(Z[:, active] @ W[active]) if active.size
                 else np.zeros((n, W.shape[1])))
        R += y[:, None]
        R -= np.asarray(intercepts, dtype=np.float64)
        SR = R if s is None else R * s[:, None]
        if sp.issparse(X):
            G = np.asarray(X.T @ SR, dtype=np.float64)
        else:
            G = Z.T @ SR
        sr = SR.sum(axis=0)
        rr = np.einsum("ik,ik->k", SR, R)
        ry = (y - ybar) @ SR
    return G, sr, rr, ry


def merge_sums(a, b):
    """Element-wise sum of two tuples of arrays (residual products, Gram blocks)."""
    return tuple(u + v for u, v in zip(a, b, strict=True))


def chunk_gram_block(X, y, sw, rows, cols, mu, where=None):
    """(X~_A^T S X~_B, X~_A^T s) for the feature sets A = rows, B = cols, with
    X~ = X - mu (dense chunks are centred, sparse ones corrected:
    sum s (x_a - mu_a)(x_b - mu_b) = A_ab - mu_a u_b - u_a mu_b + S mu_a mu_b with
    u = X^T s). The second part is for checks only (0 up to rounding when mu are
    the weighted means)."""
    X, _, s = as_chunk(X, y, sw, where)
    rows = np.asarray(rows, dtype=np.intp)
    cols = np.asarray(cols, dtype=np.intp)
    mu = np.asarray(mu, dtype=np.float64)
    n = X.shape[0]
    sv = np.ones(n) if s is None else s
    with _blas1():
        if sp.issparse(X):
            Xc = X.tocsc()
            Xa, Xb = Xc[:, rows], Xc[:, cols]
            ua = np.asarray(Xa.T @ sv).ravel()
            ub = np.asarray(Xb.T @ sv).ravel()
            Xbs = Xb if s is None else Xb.multiply(sv[:, None]).tocsc()
            A = np.asarray((Xa.T @ Xbs).toarray(), dtype=np.float64)
            S = float(sv.sum())
            ma, mb = mu[rows], mu[cols]
            A -= np.outer(ma, ub) + np.outer(ua, mb) - S * np.outer(ma, mb)
            return A, ua - S * ma
        Za = aligned_copy(X[:, rows], order="C")
        Za -= mu[rows]
        Zb = aligned_copy(X[:, cols], order="C")
        Zb -= mu[cols]
        if s is not None:
            Zb *= sv[:, None]
        return Za.T @ Zb, Za.T @ sv


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
