# Thin fused wrappers over scipy.linalg.cython_blas: kernels call these, never raw BLAS.
# Every pointer argument is read as a column-major vector/matrix; no checks are made.

from cython cimport floating
from scipy.linalg.cython_blas cimport sdot, ddot, saxpy, daxpy, dgemm, dsyrk


cdef inline floating _dot(int n, const floating* x, const floating* y) noexcept nogil:
    """x @ y (unit strides)."""
    cdef int inc = 1
    if floating is float:
        return sdot(&n, <float*> x, &inc, <float*> y, &inc)
    else:
        return ddot(&n, <double*> x, &inc, <double*> y, &inc)


cdef inline void _axpy(int n, floating a, const floating* x, floating* y) noexcept nogil:
    """y += a * x (unit strides)."""
    cdef int inc = 1
    if floating is float:
        saxpy(&n, &a, <float*> x, &inc, y, &inc)
    else:
        daxpy(&n, &a, <double*> x, &inc, y, &inc)


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
