# Vector and matrix primitives of the kernels.
#
# Level 1 (dot, axpy) are plain C loops, 4-way unrolled: compiled with -O3 they run as
# fast as single-threaded OpenBLAS, and they never spawn threads (OpenBLAS parallelises
# ddot/daxpy on long vectors: its threads, woken for microseconds of work per call, wait
# for cores when the machine is busy, and oversubscribe them when CV folds run in
# threads). Level 3 (Gram blocks) goes to scipy.linalg.cython_blas. No checks are made
# on any pointer or length.

from cython cimport floating
from scipy.linalg.cython_blas cimport dgemm, dsyrk


cdef inline floating _dot(Py_ssize_t n, const floating* x, const floating* y) noexcept nogil:
    """x @ y (unit strides), four partial sums."""
    cdef Py_ssize_t i = 0
    cdef floating a0 = 0, a1 = 0, a2 = 0, a3 = 0
    while i + 4 <= n:
        a0 += x[i] * y[i]
        a1 += x[i + 1] * y[i + 1]
        a2 += x[i + 2] * y[i + 2]
        a3 += x[i + 3] * y[i + 3]
        i += 4
    while i < n:
        a0 += x[i] * y[i]
        i += 1
    return (a0 + a1) + (a2 + a3)


cdef inline void _axpy(Py_ssize_t n, floating a, const floating* x,
                       floating* y) noexcept nogil:
    """y += a * x (unit strides)."""
    cdef Py_ssize_t i
    for i in range(n):
        y[i] += a * x[i]


cdef inline void _gemm_tn(int m, int k, int n, const double* A, int lda,
                          const double* B, int ldb, double* C, int ldc) noexcept nogil:
    """C += A.T @ B for column-major A (n x m), B (n x k), C (m x k)."""
    cdef char ta = b'T'
    cdef char tb = b'N'
    cdef double one = 1.0
    dgemm(&ta, &tb, &m, &k, &n, &one, <double*> A, &lda, <double*> B, &ldb,
          &one, C, &ldc)


cdef inline void _syrk_tn(int m, int n, const double* A, int lda, double* C,
                          int ldc) noexcept nogil:
    """Upper triangle of C += A.T @ A for column-major A (n x m), C (m x m)."""
    cdef char uplo = b'U'
    cdef char trans = b'T'
    cdef double one = 1.0
    dsyrk(&uplo, &trans, &m, &n, &one, <double*> A, &lda, &one, C, &ldc)


cdef inline void _syrk_nt(int m, int n, const double* A, int lda, double* C,
                          int ldc) noexcept nogil:
    """Upper triangle of C += A @ A.T for column-major A (m x n), C (m x m) (the Gram
    matrix of a row-major n x m array, which is A)."""
    cdef char uplo = b'U'
    cdef char trans = b'N'
    cdef double one = 1.0
    dsyrk(&uplo, &trans, &m, &n, &one, <double*> A, &lda, &one, C, &ldc)
