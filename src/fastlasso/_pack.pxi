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
# same way); a whole copy of X only if a working set is all of X. While the block
# grows (to at least twice its slots), the old one is held until its kept columns are
# copied over: a peak of at most 1.5 x the new block.

from cython cimport floating
from libc.stdint cimport int32_t
from libc.stdlib cimport free, malloc, qsort
from libc.string cimport memcpy

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
        """Room for cap slots, empty (this object's reference to the old block is
        dropped first: _pack_columns holds it only while it copies kept columns)."""
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
    """Give every feature of feats a slot, copying the new columns from X row by row.
    When the free slots do not suffice, the pack keeps only the columns of feats it
    holds: they move to its first slots (in their old order), within the block or into
    a larger one (when feats alone need more slots than it has), copied from the old
    block (contiguous) rather than read again from X (strided, one cache line per
    entry); the other columns are dropped. Returns the entries of X read."""
    cdef Py_ssize_t t, a, b, i, i0, i1, m_old, n_new = 0, n_keep = 0
    cdef int32_t j
    cdef int32_t* slot_of = &pack.slot_of[0]
    cdef int32_t* keep
    cdef floating[:, ::1] block
    cdef floating[:, ::1] old_block
    cdef floating* B
    cdef floating* dst
    cdef const floating* col
    for t in range(n_feats):
        n_new += slot_of[feats[t]] < 0
    if n_new == 0:
        return 0
    if pack.m + n_new > pack.cap:
        # the kept columns: old slot (keep[b]) and feature (keep[n_feats + b]), by
        # increasing old slot, so that the moves within one block go downwards
        keep = <int32_t*> malloc(max(2 * n_feats, 1) * sizeof(int32_t))
        if keep == NULL:
            with gil:
                raise MemoryError()
        for t in range(n_feats):
            if slot_of[feats[t]] >= 0:
                keep[n_keep] = slot_of[feats[t]]
                n_keep += 1
        qsort(keep, n_keep, sizeof(int32_t), _cmp_slot)
        for b in range(n_keep):
            keep[n_feats + b] = pack.feat[keep[b]]
        for a in range(pack.m):
            slot_of[pack.feat[a]] = -1
        with gil:
            old_block = pack.block
            if n_feats > pack.cap:
                pack._allocate(max(n_feats, min(2 * pack.cap, pack.slot_of.shape[0])))
            block = pack.block
        B = &block[0, 0]
        for b in range(n_keep):
            a = keep[b]
            if a != b or &old_block[0, 0] != B:
                memcpy(B + b * n, &old_block[a, 0], n * sizeof(floating))
            j = keep[n_feats + b]
            slot_of[j] = <int32_t> b
            pack.feat[b] = j
        pack.m = n_keep
        free(keep)
        with gil:
            old_block = None
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


cdef int _cmp_slot(const void* a, const void* b) noexcept nogil:
    cdef int32_t x = (<int32_t*> a)[0]
    cdef int32_t y = (<int32_t*> b)[0]
    return (x > y) - (x < y)


def _pack_for_test(ColumnPack pack, const floating[:, ::1] X, const int32_t[::1] feats):
    """_pack_columns from Python (tests): packs the columns feats of the C-ordered X;
    returns (entries of X read, the pack's block (slots, n), slot_of)."""
    cdef Py_ssize_t reads
    if X.shape[0] != pack.n or X.shape[1] != pack.slot_of.shape[0] \
            or np.dtype(pack.dtype) != np.asarray(X).dtype:
        raise ValueError("X does not match the pack")
    reads = _pack_columns(pack, &X[0, 0], X.shape[1], X.shape[0],
                          &feats[0] if feats.shape[0] > 0 else NULL, feats.shape[0])
    return reads, np.asarray(pack.block)[:pack.m].copy(), np.asarray(pack.slot_of).copy()
