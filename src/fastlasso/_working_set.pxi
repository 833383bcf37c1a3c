# Working-set selection (included by _cd.pyx).

from libc.stdint cimport int32_t


cdef int _cmp_int32(const void* a, const void* b) noexcept nogil:
    cdef int32_t x = (<int32_t*> a)[0]
    cdef int32_t y = (<int32_t*> b)[0]
    return (x > y) - (x < y)


cdef void _select_smallest(int32_t* idx, Py_ssize_t m, Py_ssize_t k,
                           const double* key) noexcept nogil:
    """Reorder idx[:m] so that idx[:k] hold the k entries of smallest key[idx] (quickselect)."""
    cdef Py_ssize_t lo = 0, hi = m - 1, i, j
    cdef double pivot
    cdef int32_t tmp
    if k <= 0 or k >= m:
        return
    while lo < hi:
        pivot = key[idx[(lo + hi) // 2]]
        i = lo
        j = hi
        while i <= j:
            while key[idx[i]] < pivot:
                i += 1
            while key[idx[j]] > pivot:
                j -= 1
            if i <= j:
                tmp = idx[i]
                idx[i] = idx[j]
                idx[j] = tmp
                i += 1
                j -= 1
        if k - 1 <= j:
            hi = j
        elif k - 1 >= i:
            lo = i
        else:
            return
