# Working sets (included by the coordinate-descent kernels).
#
# Each outer iteration solves the problem restricted to a working set: the support and
# the features closest to violating their optimality condition, scored by the distance
# of their constraint to the dual point (Massias, Gramfort & Salmon 2018, "Celer: a fast
# solver for the Lasso with dual extrapolation", ICML; Bertrand et al. 2022, skglm), of
# a size that grows with the support (rules below). The restricted problem is solved to
# a fraction of the outer gap; screening and the next outer gap check every feature, so
# the final certificate does not depend on these choices.
#
# Self-contained: no module-level names but these functions, so that every kernel
# (_cd, _cd_multitask, ...) can include it.

from cython cimport floating
from libc.math cimport INFINITY, fabs
from libc.stdint cimport int32_t
from fastlasso._enet_math cimport dual_distance


cdef Py_ssize_t score_features(
    const floating* w, const int32_t* alive, Py_ssize_t n_alive, int32_t* ws,
    const double* grad, const double* d_at, double D, const double* xnorm,
    const double* col_norm, double l1_n, bint positive, double* score,
    Py_ssize_t* n_supp,
) noexcept nogil:
    """ws = alive, with score[j] = -inf on the support (n_supp of them), else the dual
    distance (l1_n - |XtA_j|) / col_norm_j where the gradient is exact (d_at[j] == D),
    or the lower bound (l1_n - bound_j) / col_norm_j from the gradient bound
    |g_j| + xnorm_j (D - d_at_j) (see PathWorkspace). Returns how many features
    violate their optimality condition (negative score)."""
    cdef Py_ssize_t t, j, n_viol = 0
    n_supp[0] = 0
    for t in range(n_alive):
        j = alive[t]
        ws[t] = <int32_t> j
        if w[j] != 0:
            score[j] = -INFINITY
            n_supp[0] += 1
        elif d_at[j] == D:
            score[j] = dual_distance(grad[j], l1_n, col_norm[j], positive)
            n_viol += score[j] < 0
        else:
            score[j] = (l1_n - (fabs(grad[j]) + xnorm[j] * (D - d_at[j]))) / col_norm[j]
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
                                     Py_ssize_t ws_min, Py_ssize_t ws_cold,
                                     Py_ssize_t m_prev, Py_ssize_t n_rows) noexcept nogil:
    """Dense data: from w = 0 the ws_cold strongest violators; then, while the
    violators outnumber the support (a support still growing), twice the support or
    twice the last working set of this solve (m_prev; the caller passes 0 where outer
    passes are cheap: Gram blocks, or fewer than 4 features per row), whichever is
    larger; else the support and 10% more. The restricted solve of correlated columns
    keeps only some of the features it was given (a 500 x 10,000 AR(1) design,
    rho = 0.95, at alpha_max/10: 24 of the first 64), so doubling the support alone
    would shrink the working set while most features still violate, at the price of
    one outer pass (p / m epochs) per step. Violators of correlated designs
    that no longer outnumber the support are mostly transient near-copies of support
    features (many of them at each warm start along a path) that slow the restricted
    solve down, the more so past n_rows columns, where the restricted problem is
    singular (a Lasso support has at most n_rows features)."""
    cdef Py_ssize_t m, grow = max(10, n_supp // 10)
    if n_supp == 0:
        m = min(n_viol, ws_cold)
    elif n_viol > n_supp:
        m = 2 * max(n_supp, m_prev)
    else:
        m = n_supp + grow
    return max(ws_min, min(m, max(n_rows, n_supp + grow)))


cdef double select_working_set(int32_t* ws, Py_ssize_t n_alive, Py_ssize_t m,
                               const double* score, double gap, double tol_abs,
                               double tol_floor) noexcept nogil:
    """Keep in ws (the n_alive features, scored) the m of smallest score; returns the
    gap to solve the restricted problem to: 0.3 x the outer gap, or the final
    tolerance when the working set is everything or when an outer pass (about
    n_alive / m epochs) is worth >= 100 restricted epochs; at least tol_floor when the
    working set is not everything (rounding noise)."""
    cdef double tol_in
    _select_smallest(ws, n_alive, m, score)
    tol_in = 0.3 * gap if m < n_alive else tol_abs
    if n_alive >= 100 * m:
        tol_in = min(tol_in, 0.3 * tol_abs)
    if m < n_alive:
        tol_in = max(tol_in, tol_floor)
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
