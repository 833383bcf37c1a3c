# Packed working-set columns of C-ordered X (included by _cd.pyx).
#
# Coordinate descent reads one column at a time; in a C-ordered (row-major) X a column
# is strided, one cache line per entry. Instead of a Fortran copy of all of X, the
# outer loop of enet_cd_cdense copies the columns of the working set into a packed
# Fortran block and runs the dense restricted solver (_inner_data_dense, Newton steps
# included) on that block, with the working set renumbered by slot. A column is copied
# when its feature first enters a working set and stays for the later working sets and
# the later solves of a path (the pack lives in the path's workspace, as the Gram
# cache does). Extra memory: n x (slots) entries, the slots growing with the largest
# working set (the dense Newton step packs the support the same way); a whole copy of
# X only if a working set is all of X.

from cython cimport floating
from libc.stdint cimport int32_t, uint32_t

import numpy as np


cdef class ColumnPack:
    """Columns of X copied into a Fortran block: slot a holds feature feat[a]
    (slot_of[feat[a]] == a), n entries each. Also the solver's compact per-slot copies
    of w, mu, norm2 and the working set's gradients, for one solve at a time."""
    cdef object block      # (cap, n) in X's dtype: row a is slot a's column
    cdef object w_loc      # (cap,) X's dtype
    cdef object mu_loc     # (cap,) X's dtype
    cdef object norm2_loc  # (cap,) float64
    cdef object grad_loc   # (cap,) float64
    cdef object ws_loc     # (cap,) int32
    cdef int32_t[::1] slot_of
    cdef int32_t[::1] feat
    cdef Py_ssize_t n, m, cap
    cdef object dtype

    def __cinit__(self, Py_ssize_t n, Py_ssize_t p, dtype):
        self.n = n
        self.m = 0
        self.cap = 0
        self.dtype = np.dtype(dtype)
        self.slot_of = np.full(p, -1, dtype=np.int32)
        self.feat = np.empty(0, dtype=np.int32)
        self._allocate(0)

    def _allocate(self, Py_ssize_t cap):
        """Room for cap slots, empty (the old block is dropped first, so that the
        peak is the new block alone)."""
        cdef Py_ssize_t a
        for a in range(self.m):
            self.slot_of[self.feat[a]] = -1
        self.m = 0
        self.block = None
        self.block = np.empty((max(cap, 1), self.n), dtype=self.dtype)
        self.w_loc = np.empty(max(cap, 1), dtype=self.dtype)
        self.mu_loc = np.empty(max(cap, 1), dtype=self.dtype)
        self.norm2_loc = np.empty(max(cap, 1))
        self.grad_loc = np.empty(max(cap, 1))
        self.ws_loc = np.empty(max(cap, 1), dtype=np.int32)
        self.feat = np.empty(max(cap, 1), dtype=np.int32)
        self.cap = cap

    @property
    def n_packed(self):
        return self.m

    @property
    def slots(self):
        return self.cap


cdef Py_ssize_t _pack_columns(ColumnPack pack, const floating* X, Py_ssize_t ldx,
                              Py_ssize_t n, const int32_t* feats,
                              Py_ssize_t n_feats) except -1 nogil:
    """Give every feature of feats a slot, copying the new columns from X row by row;
    when the free slots do not suffice, the pack is emptied first (and grown if feats
    alone need more slots than it has). Returns the entries of X read."""
    cdef Py_ssize_t t, a, i, m_old, n_new = 0
    cdef int32_t j
    cdef int32_t* slot_of = &pack.slot_of[0]
    cdef floating[:, ::1] block
    cdef floating* B
    cdef const floating* row
    for t in range(n_feats):
        n_new += slot_of[feats[t]] < 0
    if n_new == 0:
        return 0
    if pack.m + n_new > pack.cap:
        with gil:
            if n_feats > pack.cap:
                pack._allocate(max(n_feats, min(2 * pack.cap, pack.slot_of.shape[0])))
            else:
                pack._allocate(pack.cap)  # empties it
        n_new = n_feats
    m_old = pack.m
    for t in range(n_feats):
        j = feats[t]
        if slot_of[j] < 0:
            slot_of[j] = <int32_t> pack.m
            pack.feat[pack.m] = j
            pack.m += 1
    with gil:
        block = pack.block
    B = &block[0, 0]
    for i in range(n):
        row = X + i * ldx
        for a in range(m_old, pack.m):
            B[a * n + i] = row[pack.feat[a]]
    return n * (pack.m - m_old)


cdef int _inner_packed(
    ColumnPack pack, const floating* X, Py_ssize_t ldx, Py_ssize_t n,
    const floating* yc, const floating* sw, const floating* mu, const double* norm2,
    floating* w, floating* q, double* s, floating* q_try, int32_t* ws, Py_ssize_t m,
    const Settings* o, double tol_in, uint32_t* rng, double* W_hist, double* w_try,
    Py_ssize_t n_rows, double* grad_ws, Stats* st,
) except -1 nogil:
    """The restricted solve of C-ordered X: the working set's columns packed
    (_pack_columns), then _inner_data_dense on the pack with the working set
    renumbered by slot; w and the gradients grad_ws[j] (j in ws) are written back."""
    cdef Py_ssize_t t, a
    cdef int status
    cdef floating[:, ::1] block
    cdef floating[::1] w_loc, mu_loc
    cdef double[::1] norm2_loc, grad_loc
    cdef int32_t[::1] ws_loc
    _pack_columns(pack, X, ldx, n, ws, m)
    with gil:
        block = pack.block
        w_loc = pack.w_loc
        mu_loc = pack.mu_loc
        norm2_loc = pack.norm2_loc
        grad_loc = pack.grad_loc
        ws_loc = pack.ws_loc
    for t in range(m):
        a = pack.slot_of[ws[t]]
        ws_loc[t] = <int32_t> a
        w_loc[a] = w[ws[t]]
        mu_loc[a] = mu[ws[t]]
        norm2_loc[a] = norm2[ws[t]]
    status = _inner_data_dense(
        &block[0, 0], n, n, yc, sw, &mu_loc[0], &norm2_loc[0], &w_loc[0], q, s, q_try,
        &ws_loc[0], m, o, tol_in, rng, W_hist, w_try, n_rows, &grad_loc[0], NULL, st)
    for t in range(m):
        a = ws_loc[t]
        w[pack.feat[a]] = w_loc[a]
        grad_ws[pack.feat[a]] = grad_loc[a]
    return status
