# Packed working-set columns of C-ordered X (included by _cd.pyx and _logistic.pyx).
#
# Coordinate descent reads one column at a time; in a C-ordered (row-major) X a column
# is strided, one cache line per entry. Instead of a Fortran copy of all of X, the
# outer loop of a solver on C-ordered X copies the columns of the working set into a
# packed Fortran block and runs its dense restricted solver on that block, with the
# working set renumbered by slot (enet_cd_cdense: _inner_data_dense, Newton steps
# included, see _pack_inner.pxi; pn_*_cdense: the prox-Newton model solves). A column
# is copied when its feature first enters a working set and stays for the later
# working sets and the later solves of a path (the pack lives in the path's
# workspace, as the Gram cache does). Extra memory: n x (slots) entries, the slots
# growing with the largest working set (the dense Newton step packs the support the
# same way); a whole copy of X only if a working set is all of X.

from cython cimport floating
from libc.stdint cimport int32_t

import numpy as np

cdef enum:
    PACK_ROWS = 64  # rows copied per block by _pack_columns


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
    cdef Py_ssize_t t, a, i, i0, i1, m_old, n_new = 0
    cdef int32_t j
    cdef int32_t* slot_of = &pack.slot_of[0]
    cdef floating[:, ::1] block
    cdef floating* B
    cdef floating* dst
    cdef const floating* col
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
    # a block of PACK_ROWS rows at a time: its rows stay in cache while each new slot
    # takes its entries as one contiguous run (row by row, every entry went to another
    # cache line of the pack)
    i0 = 0
    while i0 < n:
        i1 = min(i0 + PACK_ROWS, n)
        for a in range(m_old, pack.m):
            dst = B + a * n
            col = X + pack.feat[a]
            for i in range(i0, i1):
                dst[i] = col[i * ldx]
        i0 = i1
    return n * (pack.m - m_old)
