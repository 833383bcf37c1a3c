# The restricted solve of enet_cd_cdense on packed columns (included by _cd.pyx after
# _pack.pxi, whose ColumnPack it fills; _inner.pxi's dense solver does the work).

from cython cimport floating
from libc.stdint cimport int32_t, uint32_t


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
