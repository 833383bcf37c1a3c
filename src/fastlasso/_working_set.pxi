# Working sets (included by _cd.pyx).
#
# Each outer iteration solves the problem restricted to a working set: the support and
# the features closest to violating their optimality condition, scored by the distance
# of their constraint to the dual point (Massias, Gramfort & Salmon 2018, "Celer: a fast
# solver for the Lasso with dual extrapolation", ICML; Bertrand et al. 2022, skglm), of
# a size that grows with the support (rules below). The restricted problem is solved to
# a fraction of the outer gap; screening and the next outer gap check every feature, so
# the final certificate does not depend on these choices.

from cython cimport floating
from libc.math cimport INFINITY
from libc.stdint cimport int32_t
from fastlasso._enet_math cimport dual_distance

# a restricted problem is solved to at least GAP_ROUNDING ||y_c||_S^2 (its gap may never
# get below rounding noise: with tol=0 the solve would stay on that working set)
cdef double GAP_ROUNDING = 1e-13

cdef enum:
    WS_MIN = 10            # smallest working set
    WS_MIN_GRAM = 64       # ... when restricted problems are solved on Gram blocks
    WS_COLD = 64           # largest first working set from w = 0 (dense data)


cdef Py_ssize_t score_features(
    const floating* w, Features* f, GradientBounds b, const double* xnorm,
    const double* col_norm, const Settings* o, double* score,
) noexcept nogil:
    """f.ws = the alive features, with score[j] = -inf on the support (f.n_supp of
    them), else the dual distance (l1 - |XtA_j|) / col_norm_j, or a lower bound on it
    where the gradient is known only by its bound. Returns how many features violate
    their optimality condition (negative score)."""
    cdef Py_ssize_t t, j, n_viol = 0
    cdef const double* grad = &b.g[0]
    cdef const double* d_at = &b.d_at[0]
    f.n_supp = 0
    for t in range(f.n_alive):
        j = f.alive[t]
        f.ws[t] = <int32_t> j
        if w[j] != 0:
            score[j] = -INFINITY
            f.n_supp += 1
        elif d_at[j] == b.D:
            score[j] = dual_distance(grad[j], o.l1, col_norm[j], o.positive)
            n_viol += score[j] < 0
        else:
            score[j] = (o.l1 - _bound(b, xnorm, j)) / col_norm[j]
    return n_viol


cdef inline Py_ssize_t ws_size_sparse(Py_ssize_t n_supp, Py_ssize_t n_viol,
                                      Py_ssize_t ws_min, Py_ssize_t m_prev,
                                      Py_ssize_t ep_last) noexcept nogil:
    """Sparse data: the support doubled (celer, skglm) and every feature violating its
    optimality condition (glmnet), up to 4x the last working set (m_prev), 8x if that
    one was solved in <= 5 epochs (ep_last): an outer pass costs about an epoch over
    every feature, so cheap restricted solves should not wait for many passes; sparse
    violators are short, nearly orthogonal columns."""
    return max(ws_min, 2 * n_supp,
               min(n_supp + n_viol, (8 if 0 <= ep_last <= 5 else 4) * m_prev))


cdef inline Py_ssize_t ws_size_dense(Py_ssize_t n_supp, Py_ssize_t n_viol,
                                     Py_ssize_t ws_min, Py_ssize_t n_rows) noexcept nogil:
    """Dense data: from w = 0 the WS_COLD strongest violators; then the support doubled
    only while the violators outnumber it (a support still growing), else the support
    and 10% more. Violators of correlated designs are mostly transient near-copies of
    support features (many of them at each warm start along a path) that slow the
    restricted solve down, the more so past n_rows columns, where the restricted
    problem is singular (a Lasso support has at most n_rows features)."""
    cdef Py_ssize_t m, grow = max(10, n_supp // 10)
    if n_supp == 0:
        m = min(n_viol, WS_COLD)
    else:
        m = n_supp + (n_supp if n_viol > n_supp else grow)
    return max(ws_min, min(m, max(n_rows, n_supp + grow)))


cdef double select_working_set(Features* f, const double* score, double gap,
                               double tol_abs, double yy) noexcept nogil:
    """Keep in f.ws (the alive features, scored) the f.m of smallest score; returns the
    gap to solve the restricted problem to: 0.3 x the outer gap, or the final
    tolerance when the working set is everything or when an outer pass (about
    n_alive / m epochs) is worth >= 100 restricted epochs."""
    cdef double tol_in
    _select_smallest(f.ws, f.n_alive, f.m, score)
    tol_in = 0.3 * gap if f.m < f.n_alive else tol_abs
    if f.n_alive >= 100 * f.m:
        tol_in = min(tol_in, 0.3 * tol_abs)
    if f.m < f.n_alive:
        tol_in = max(tol_in, GAP_ROUNDING * yy)
    return tol_in


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
