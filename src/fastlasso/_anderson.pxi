# Anderson extrapolation of coordinate-descent iterates (included by _cd.pyx).

from libc.math cimport fabs

cdef enum:
    ANDERSON_K = 5         # extrapolate from the last K+1 iterates


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
