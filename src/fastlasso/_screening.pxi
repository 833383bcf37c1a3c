# Gap Safe screening (included by _cd.pyx).
#
# Ndiaye, Fercoq, Gramfort & Salmon (2017), "Gap Safe screening rules for sparsity
# enforcing penalties", JMLR 18. With theta = r * scale the rescaled dual point of the
# duality gap (_enet_math.pxd) and the gap G, the dual optimum lies in the ball of radius
# sqrt(2 G) / l1_n around theta / l1_n (the dual objective is 1-strongly concave in the
# scaling of the quadratic datafit), so a feature with
#     1 - |x_j^T theta| / l1_n > ||x_j|| sqrt(2 G) / l1_n
# has |x_j^T theta*| < l1_n at the optimum, and w*_j = 0: it is dropped for the rest of
# the solve. For the Elastic Net x_j is a column of the extended design (X~ stacked on
# sqrt(l2_n) I), whose norm is col_norm_j = sqrt(||x~_j||_S^2 + l2_n) and whose correlation
# with the dual point is x~_j^T S r - l2_n w_j. Features whose gradient is known only by
# its bound (PathWorkspace) are tested with the bound, which is safe: it can only keep
# a feature that the exact value would drop.

from cython cimport floating
from libc.math cimport fabs, sqrt
from libc.stdint cimport int32_t


cdef bint _lasso_screen = True


def set_lasso_screen(bint on):
    """Use the Lasso's branch-free screening loop (default) or the general one for
    Lasso problems too; returns the previous setting. For tests and A/B timing: both
    drop the same features."""
    global _lasso_screen
    cdef bint was = _lasso_screen
    _lasso_screen = on
    return was


cdef Py_ssize_t gap_safe_screen(
    const floating* w, Features* f, PathWorkspace b, const double* xnorm,
    const double* col_norm, const Settings* o, double gap, double dnorm,
    int32_t* dropped, Stats* st,
) noexcept nogil:
    """Drop the alive features the Gap Safe rule proves to be 0 at the optimum
    (l1_n > 0; dnorm = ||XtA||_inf of the gap). Those with w_j != 0 are listed in
    dropped, in order, and counted in the return value: the caller sets them to 0 and
    takes them out of its residual."""
    cdef Py_ssize_t t, j, i = 0, k = 0, n_alive = f.n_alive
    cdef double xta, D = b.D
    cdef double radius = sqrt(2.0 * gap) / o.l1_n
    cdef double scale_max = max(o.l1_n, dnorm)
    cdef const double* grad = &b.g[0]
    cdef const double* d_at = &b.d_at[0]
    cdef int32_t* alive = f.alive
    cdef bint drop
    if _lasso_screen and not o.positive and o.l2_n == 0:
        # the Lasso: |x_j^T theta| scaled is |g_j| where g_j is exact (d_j == D), else
        # its bound |g_j| + ||x_j|| (D - d_j), which is |g_j| to the bit where
        # d_j == D: one expression for both, and the kept features compacted in
        # place without a branch (the two tests of the loop below are unpredictable
        # branches while features are being dropped: most of its time)
        for t in range(n_alive):
            j = alive[t]
            drop = 1.0 - (fabs(grad[j]) + xnorm[j] * (D - d_at[j])) / scale_max > (
                radius * col_norm[j])
            alive[i] = <int32_t> j
            i += not drop
            if drop & (w[j] != 0):
                dropped[k] = <int32_t> j
                k += 1
        st.n_screened += n_alive - i
        f.n_alive = i
        return k
    for t in range(n_alive):
        j = f.alive[t]
        if d_at[j] == b.D:
            xta = (grad[j] - o.l2_n * w[j]) / scale_max
            xta = 1.0 - xta if o.positive else 1.0 - fabs(xta)
        else:
            xta = 1.0 - _bound(b, xnorm, j) / scale_max
        if xta > radius * col_norm[j]:
            st.n_screened += 1
            if w[j] != 0:
                dropped[k] = <int32_t> j
                k += 1
        else:
            f.alive[i] = <int32_t> j
            i += 1
    f.n_alive = i
    return k
