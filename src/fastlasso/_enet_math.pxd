# Scalar pieces of the Elastic Net optimality theory, shared by every solver.
#
# All quantities are in the kernels' "n-scaled" units: for the estimator objective
#     P(w) = 1/(2n) ||y_c - X~ w||_S^2 + alpha*rho*||w||_1 + alpha*(1-rho)/2 ||w||^2
# the kernels minimise n * P(w), with the n-scaled penalties (the "_n" of their names;
# _solve.scaled_penalties computes them)
#     l1_n = n*alpha*rho,   l2_n = n*alpha*(1-rho),
#     F(w) = 1/2 R2 + l1_n ||w||_1 + l2_n/2 ||w||^2,   R2 = ||y_c - X~ w||_S^2.
# w_l1 = ||w||_1 and w_l2sq = ||w||^2 are norms of the iterate, not penalties. Gaps and
# objectives in these units are n times the estimator's (dual_gap_ = gap / n).
#
# Duality gap (Fercoq, Gramfort & Salmon 2015; scikit-learn's "formulation A"): with
# r = y_c - X~ w, XtA = X~^T S r - l2_n w and the rescaled dual point theta = r * scale,
# scale = min(1, l1_n / ||XtA||_inf),
#     D = -scale^2/2 (R2 + l2_n ||w||^2) + scale * r^T S y_c,   gap = F(w) - D >= F(w) - F*.
# For l1_n = 0 < l2_n it is "formulation B" (Duenner et al. 2016); for l1_n = l2_n = 0
# (least squares) there is no dual bound and ||X~^T S r||^2 (the first-order condition)
# is used, as scikit-learn does.

from libc.math cimport fabs


cdef inline double prox_enet(double z, double thresh, double denom,
                             bint positive) noexcept nogil:
    """argmin_w  denom/2 w^2 - z w + thresh |w|  (and w >= 0 if positive): z
    soft-thresholded at thresh, over denom. The coordinate update of every kernel, in
    its own units: thresh = l1_n and denom = ||x~_j||_S^2 + l2_n here; the logistic
    kernel passes its own L1 weight and curvature."""
    if positive:
        return (z - thresh) / denom if z > thresh else 0.0
    if z > thresh:
        return (z - thresh) / denom
    if z < -thresh:
        return (z + thresh) / denom
    return 0.0


cdef inline double primal_value(double l1_n, double l2_n, double R2, double w_l1,
                                double w_l2sq) noexcept nogil:
    return 0.5 * R2 + l1_n * w_l1 + 0.5 * l2_n * w_l2sq


cdef inline double duality_gap(double l1_n, double l2_n, double R2, double Ry, double w_l1,
                               double w_l2sq, double dual_norm,
                               double grad_sq) noexcept nogil:
    """Gap for the current w; dual_norm = ||XtA||_inf (max XtA_j if positive),
    grad_sq = ||X~^T S r||^2 (only read when l1_n == 0)."""
    cdef double scale, quad
    if l1_n > 0:
        scale = l1_n / dual_norm if dual_norm > l1_n else 1.0
        quad = R2 + l2_n * w_l2sq
        return primal_value(l1_n, l2_n, R2, w_l1, w_l2sq) + 0.5 * scale * scale * quad - scale * Ry
    if l2_n > 0:
        return R2 + 0.5 * l2_n * w_l2sq - Ry + grad_sq / (2.0 * l2_n)
    return grad_sq


cdef inline double dual_distance(double xta_j, double l1_n, double col_norm,
                                 bint positive) noexcept nogil:
    """(l1_n - |XtA_j|) / ||x_j||: how far feature j is from entering the model; it is
    the Gap Safe test quantity d_j * l1_n with d_j = (1 - |x_j^T theta|) / ||x_j||."""
    if positive:
        return (l1_n - xta_j) / col_norm
    return (l1_n - fabs(xta_j)) / col_norm
