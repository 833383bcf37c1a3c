# Anderson extrapolation of coordinate-descent iterates (included by _cd.pyx).
#
# Every restricted solver (on the data, _inner.pxi; on Gram blocks, _gram.pxi) keeps the
# iterates of its working set in an Anderson history, one row of m entries per epoch.
# After K+1 epochs it asks for the extrapolated point; it keeps that point only if it
# lowers the objective (each solver evaluates the objective its own way), then the
# history restarts from the point the solver continues from.

from libc.math cimport fabs

cdef enum:
    ANDERSON_K = 5         # extrapolate from the last K+1 iterates


cdef struct Anderson:
    double* W              # (K+1) x m iterates, oldest first: row k at W + k * m
    Py_ssize_t m
    Py_ssize_t n_stored    # rows filled since the last restart


cdef inline void anderson_start(Anderson* h, double* W, Py_ssize_t m) noexcept nogil:
    """An empty history of iterates of m entries in W ((K+1) m entries)."""
    h.W = W
    h.m = m
    h.n_stored = 0


cdef inline double* anderson_next(Anderson* h) noexcept nogil:
    """The row to fill with the current iterate (it counts as stored)."""
    cdef double* row = h.W + h.n_stored * h.m
    h.n_stored += 1
    return row


cdef inline bint anderson_ready(const Anderson* h) noexcept nogil:
    """Whether K+1 iterates are stored (time to extrapolate)."""
    return h.n_stored == ANDERSON_K + 1


cdef inline void anderson_restart(Anderson* h) noexcept nogil:
    """Forget the stored iterates (the solver jumped: a Newton step)."""
    h.n_stored = 0


cdef bint anderson_extrapolate(Anderson* h, bint positive, double* out) noexcept nogil:
    """The extrapolated point of the K+1 stored iterates into out (m entries, clipped
    at 0 if positive), if their system is not degenerate (else False). Either way the
    history is emptied: the caller then stores the point it continues from."""
    cdef double c[ANDERSON_K]
    cdef double z
    cdef Py_ssize_t t, k, m = h.m
    h.n_stored = 0
    if not _anderson_weights(h.W, m, c):
        return False
    for t in range(m):
        z = 0.0
        for k in range(ANDERSON_K):
            z += c[k] * h.W[(k + 1) * m + t]
        out[t] = 0.0 if (positive and z < 0) else z
    return True


cdef bint _anderson_weights(const double* W, Py_ssize_t m, double* c) noexcept nogil:
    """Anderson extrapolation weights from K+1 iterates W[k*m:(k+1)*m], k = 0..K.

    With U_k = W_{k+1} - W_k, solve (U U^T + eps I) z = 1, c = z / sum(z); the
    extrapolated point is sum_k c_k W_{k+1}. Returns False if the system is degenerate.
    """
    cdef double A[ANDERSON_K][ANDERSON_K]
    cdef double z[ANDERSON_K]
    cdef double acc, piv, f, tr = 0.0
    cdef Py_ssize_t a, b, i, r, best
    for a in range(ANDERSON_K):
        for b in range(a, ANDERSON_K):
            acc = 0.0
            for i in range(m):
                acc += ((W[(a + 1) * m + i] - W[a * m + i])
                        * (W[(b + 1) * m + i] - W[b * m + i]))
            A[a][b] = acc
            A[b][a] = acc
        tr += A[a][a]
        z[a] = 1.0
    if not tr > 0:
        return False
    for a in range(ANDERSON_K):
        A[a][a] += 1e-10 * tr
    # Gaussian elimination with partial pivoting
    for a in range(ANDERSON_K):
        best = a
        for r in range(a + 1, ANDERSON_K):
            if fabs(A[r][a]) > fabs(A[best][a]):
                best = r
        if A[best][a] == 0:
            return False
        if best != a:
            for b in range(ANDERSON_K):
                A[a][b], A[best][b] = A[best][b], A[a][b]
            z[a], z[best] = z[best], z[a]
        piv = A[a][a]
        for r in range(a + 1, ANDERSON_K):
            f = A[r][a] / piv
            for b in range(a, ANDERSON_K):
                A[r][b] -= f * A[a][b]
            z[r] -= f * z[a]
    for a in range(ANDERSON_K - 1, -1, -1):
        acc = z[a]
        for b in range(a + 1, ANDERSON_K):
            acc -= A[a][b] * z[b]
        z[a] = acc / A[a][a]
    acc = 0.0
    for a in range(ANDERSON_K):
        acc += z[a]
    if acc == 0 or acc != acc:
        return False
    for a in range(ANDERSON_K):
        c[a] = z[a] / acc
    return True
