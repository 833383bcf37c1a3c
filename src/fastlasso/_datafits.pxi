# Datafits of the prox-Newton kernels (included by _logistic.pyx): the logistic loss
# (binomial, one linear predictor) and the multinomial loss (softmax, K predictors).
#
# A datafit sees only the linear predictors Z (n x K, row-major; K = 1 for binomial),
# the labels y (class indices) and the sample weights s; it never reads X. Each one
# provides, under the same names with its own prefix (_binom_*, _multi_*), what the
# solver template (_prox_newton.pxi.tp) composes at compile time:
#
#   refresh     exact state from Z: probabilities, their logs, the loss sum_i s_i l_i
#   block /     the negative gradient R = S (Y - P) (binom: with the Newton weights
#   residuals   h_i = s_i p_i (1 - p_i); multi: the quadratic model's own step in
#               _prox_newton.pxi.tp, with the exact softmax Hessian)
#   line        the change of the loss along the Newton direction, computed per sample
#               as log1p(p expm1(t dz)) so that it has no cancellation against the loss
#   accept      move Z to the accepted point
#   dual_fix    the shift t and class mix q that make the dual point satisfy the
#               intercept's constraint exactly (see below), and E_k = ||Y_k - q_k||_S
#   kl          sum_i s_i KL(pi_i || p_i) - theta^T (Z - 1 b^T) for the dual point
#               pi_i(c) (below): the datafit part of the duality gap
#   GAMMA       the strong concavity of the dual (Gap Safe radius sqrt(2 gap / GAMMA))
#
# Duality (Ndiaye, Fercoq, Gramfort & Salmon 2017, "Gap Safe screening rules for
# sparsity enforcing penalties", JMLR 18, sec. 2 and their logistic example; the same
# dual as celer's and skglm's Logistic datafit). With f_i(z) = s_i l(y_i, z) and
# Omega the Elastic-Net penalty, the primal is
#     P(W, b) = sum_i f_i(x_i^T W + b) + Omega(W)
# and, for theta (n x K) with 1^T theta = 0 when b is fitted (the unpenalised intercept),
#     D(theta) = -sum_i f_i*(-theta_i) - Omega*(X^T theta) <= P(W, b).
# For the logistic / softmax losses, -f_i*(-theta_i) = s_i H(pi_i) with
# pi_i = e_{y_i} - theta_i / s_i a probability vector and H the Shannon entropy: the
# dual is the entropy-bounded one. Fenchel-Young gives, for any feasible theta, the gap
#     P - D = sum_i s_i KL(pi_i || p_i) - theta^T Z + Omega(W) + Omega*(X^T theta)
# (p_i = softmax(z_i)), a sum of nonnegative pieces once theta^T Z = (X^T theta)^T W
# (the intercept term vanishes since 1^T theta = 0), all computed without cancellation.
# The dual point is theta_i = s_i (e_{y_i} - pi_i) with
#     pi_i(c) = (1 - c) e_{y_i} + c ((1 - t) p_i + t q):
# c in (0, 1] rescales towards the labels (feasibility |X^T theta| <= l1 when l2 = 0,
# as the rescaled residual of the Lasso), and t in [0, 1) with the class mix q repairs
# 1^T theta = 0: with m_k = sum_i s_i p_ik and n_k = sum_i s_i [y_i = k], the column
# sums of theta vanish iff sum_i s_i pi_ik = n_k, which (1 - t) m + t S q = n achieves
# with q = (n - (1 - t) m) / (t S) >= 0 for t = max_k (1 - n_k / m_k)_+ (t = 0 at an
# exact intercept). Then X^T theta = c ((1 - t) X~^T S (Y - P) + t X~^T S (Y - 1 q^T))
# (X~: columns centred by their S-weighted means; the centring changes nothing since
# 1^T theta = 0), and the second term is bounded by Cauchy-Schwarz,
#     |x~_j^T S (Y_k - q_k 1)| <= ||x~_j||_S E_k,   E_k^2 = n_k (1 - q_k)^2 + (S - n_k) q_k^2,
# so the solver works with upper bounds on |X^T theta|, which keep D a lower bound
# (Omega* is monotone in |v|). Strong concavity: d^2/d theta^2 of s H(e - theta/s) is
# -diag(1/pi)/s; on directions with zero sum over classes d^T diag(1/pi) d >=
# ||d||_1^2 >= 2 ||d||_2^2, so D is 2-strongly concave in ||theta||^2 = sum ||theta_i||^2
# / s_i (multinomial); for the binomial loss in its scalar form, 1/(pi (1 - pi)) >= 4.
# Hence ||theta - theta*||_{S^-1} <= sqrt(2 gap / GAMMA) and, since x~_j^T (theta -
# theta*) <= ||x~_j||_S ||theta - theta*||_{S^-1},
#     |x_j^T theta*_k| <= |x_j^T theta_k| + ||x~_j||_S sqrt(2 gap / GAMMA) < l1
# proves W*_j = 0 (Gap Safe rule).

from libc.math cimport exp, expm1, log, log1p, fabs, sqrt
from libc.stdint cimport int32_t


cdef inline double _softplus(double x) noexcept nogil:
    """log(1 + e^x) without overflow."""
    return (x if x > 0 else 0.0) + log1p(exp(-fabs(x)))


# ---------------------------------------------------------------------------------------
# binomial: K = 1, y_i in {0, 1}, p_i = sigma(z_i) the probability of class 1,
# l(y, z) = log(1 + e^z) - y z

cdef double _BINOM_GAMMA = 4.0


cdef double _binom_refresh(Py_ssize_t n, Py_ssize_t K, const int32_t* y, const double* s,
                           const double* Z, double* lse, double* P, double* Pc,
                           double* LP) noexcept nogil:
    """p, 1 - p (Pc), log p (LP[:n]) and log(1 - p) (LP[n:]) from z, each without
    cancellation; returns sum_i s_i l_i."""
    cdef Py_ssize_t i
    cdef double z, e, l1pe, acc = 0.0
    for i in range(n):
        z = Z[i]
        e = exp(-fabs(z))
        l1pe = log1p(e)
        if z >= 0:
            P[i] = 1.0 / (1.0 + e)
            Pc[i] = e / (1.0 + e)
            LP[i] = -l1pe
            LP[n + i] = -z - l1pe
        else:
            P[i] = e / (1.0 + e)
            Pc[i] = 1.0 / (1.0 + e)
            LP[i] = z - l1pe
            LP[n + i] = -l1pe
        if s[i] != 0:
            acc -= s[i] * (LP[i] if y[i] == 1 else LP[n + i])
    return acc


cdef void _binom_block(Py_ssize_t n, const int32_t* y, const double* s, const double* P,
                       const double* Pc, floating* R, floating* h, double* sum_R,
                       double* sum_h) noexcept nogil:
    """R_i = s_i (y_i - p_i) and the Newton weights h_i = s_i p_i (1 - p_i)."""
    cdef Py_ssize_t i
    cdef double r, hh, aR = 0.0, aH = 0.0
    for i in range(n):
        r = s[i] * Pc[i] if y[i] == 1 else -s[i] * P[i]
        hh = s[i] * P[i] * Pc[i]
        R[i] = <floating> r
        h[i] = <floating> hh
        aR += r
        aH += hh
    sum_R[0] = aR
    sum_h[0] = aH


cdef double _binom_line(Py_ssize_t n, const int32_t* y, const double* s, const double* z,
                        const double* P, const double* dz, double t) noexcept nogil:
    """sum_i s_i (l_i(z_i + t dz_i) - l_i(z_i)), per sample as log1p(p expm1(t dz)) -
    y t dz (exact softplus differences for large moves)."""
    cdef Py_ssize_t i
    cdef double u, ld, acc = 0.0
    for i in range(n):
        if s[i] == 0:
            continue
        u = t * dz[i]
        if u == 0:
            continue
        if fabs(u) < 1.0:
            ld = log1p(P[i] * expm1(u))
        else:
            ld = _softplus(z[i] + u) - _softplus(z[i])
        acc += s[i] * (ld - u if y[i] == 1 else ld)
    return acc


cdef double _binom_dual_fix(Py_ssize_t n, Py_ssize_t K, const int32_t* y,
                            const double* s, const double* P, const double* Pc,
                            const double* ncls, double S, bint fit_intercept,
                            double* q, double* E) noexcept nogil:
    """t (see the file header) for the two classes; q[0] = the class-1 share of the
    repair, q[1] = 1 - q[0]; E[0] = ||y - q 1||_S. ncls = (n_0, n_1)."""
    cdef Py_ssize_t i
    cdef double m1 = 0.0, m0 = 0.0, t = 0.0, n0 = ncls[0], n1 = ncls[1]
    q[0] = 0.0
    q[1] = 0.0
    if fit_intercept:
        for i in range(n):
            m1 += s[i] * P[i]
            m0 += s[i] * Pc[i]
        if m1 > 0:
            t = max(t, 1.0 - n1 / m1)
        if m0 > 0:
            t = max(t, 1.0 - n0 / m0)
        t = min(t, 1.0)
        if t > 0:
            q[0] = min(1.0, max(0.0, (n1 - (1.0 - t) * m1) / (t * S)))
            q[1] = min(1.0, max(0.0, (n0 - (1.0 - t) * m0) / (t * S)))
    E[0] = sqrt(n1 * q[1] * q[1] + n0 * q[0] * q[0])
    return t


cdef double _binom_kl(Py_ssize_t n, Py_ssize_t K, const int32_t* y, const double* s,
                      const double* Z, const double* b, const double* P,
                      const double* Pc, const double* LP, double c, double t,
                      const double* q) noexcept nogil:
    """sum_i s_i KL(pi_i || p_i) - theta^T (z - b) at pi(c) (file header)."""
    cdef Py_ssize_t i
    cdef double a, ac, pi, pic, kl, acc = 0.0
    cdef bint exact = c == 1.0 and t == 0.0  # pi = p: KL = 0
    for i in range(n):
        if s[i] == 0:
            continue
        a = (1.0 - t) * P[i] + t * q[0]
        ac = (1.0 - t) * Pc[i] + t * q[1]
        if y[i] == 1:
            pi = (1.0 - c) + c * a
            pic = c * ac
        else:
            pi = c * a
            pic = (1.0 - c) + c * ac
        kl = 0.0
        if not exact:
            if pi > 0:
                kl += pi * (log(pi) - LP[i])
            if pic > 0:
                kl += pic * (log(pic) - LP[n + i])
        # theta_i = s_i (y_i - pi_i)
        acc += s[i] * (kl - (pic if y[i] == 1 else -pi) * (Z[i] - b[0]))
    return acc


# ---------------------------------------------------------------------------------------
# multinomial: K >= 2 predictors, p_i = softmax(z_i), l(y, z) = logsumexp(z) - z_y

cdef double _MULTI_GAMMA = 2.0


cdef double _multi_refresh(Py_ssize_t n, Py_ssize_t K, const int32_t* y, const double* s,
                           const double* Z, double* lse, double* P, double* Pc,
                           double* LP) noexcept nogil:
    """lse_i = logsumexp(z_i), P = softmax, LP = log P = Z - lse; returns the loss."""
    cdef Py_ssize_t i, k
    cdef double mx, se, lse_i, acc = 0.0
    cdef const double* z
    for i in range(n):
        z = Z + i * K
        mx = z[0]
        for k in range(1, K):
            mx = max(mx, z[k])
        se = 0.0
        for k in range(K):
            P[i * K + k] = exp(z[k] - mx)
            se += P[i * K + k]
        lse_i = mx + log(se)
        lse[i] = lse_i
        for k in range(K):
            P[i * K + k] /= se
            LP[i * K + k] = z[k] - lse_i
        if s[i] != 0:
            acc += s[i] * (lse_i - z[y[i]])
    return acc


cdef double _multi_line(Py_ssize_t n, Py_ssize_t K, const int32_t* y, const double* s,
                        const double* P, const double* LP, const double* dZ,
                        double t) noexcept nogil:
    """sum_i s_i (l_i(z_i + t dz_i) - l_i(z_i)) for the joint direction dZ (K x n,
    class-major). Per sample, lse(z + u) - lse(z) is log1p(sum_k p_k expm1(u_k)) while
    every |u_k| < 1 (no cancellation against the loss), else logsumexp_k(log p_k + u_k)
    (from the log-probabilities, max-shifted): the first form breaks on large moves,
    where sum_k p_k expm1(u_k) rounds to -1 (every u_k < -37, e.g. a shift of the
    whole row, which softmax ignores) and log1p returns -inf, a "decrease" the line
    search would accept whatever the true change."""
    cdef Py_ssize_t i, k
    cdef double u, acc = 0.0, sm, mx
    cdef bint small
    for i in range(n):
        if s[i] == 0:
            continue
        small = True
        for k in range(K):
            if fabs(t * dZ[k * n + i]) >= 1.0:
                small = False
        if small:
            sm = 0.0
            for k in range(K):
                u = t * dZ[k * n + i]
                if u != 0:
                    sm += P[i * K + k] * expm1(u)
            sm = log1p(sm)
        else:
            mx = LP[i * K] + t * dZ[i]
            for k in range(1, K):
                mx = max(mx, LP[i * K + k] + t * dZ[k * n + i])
            sm = 0.0
            for k in range(K):
                sm += exp(LP[i * K + k] + t * dZ[k * n + i] - mx)
            sm = mx + log(sm)
        acc += s[i] * (sm - t * dZ[y[i] * n + i])
    return acc


cdef void _multi_accept(Py_ssize_t n, Py_ssize_t K, double* Z, const double* dZ,
                        double t) noexcept nogil:
    cdef Py_ssize_t i, k
    for i in range(n):
        for k in range(K):
            Z[i * K + k] += t * dZ[k * n + i]


cdef void _multi_residuals(Py_ssize_t n, Py_ssize_t K, const int32_t* y,
                           const double* s, const double* P, floating* R,
                           double* sum_R) noexcept nogil:
    """R_k = S (Y_k - P_k) (class-major) and its sums, at the refreshed state."""
    cdef Py_ssize_t i, k
    cdef double r
    for k in range(K):
        sum_R[k] = 0.0
    for i in range(n):
        for k in range(K):
            r = s[i] * ((1.0 if y[i] == k else 0.0) - P[i * K + k])
            R[k * n + i] = <floating> r
            sum_R[k] += r


cdef double _multi_dual_fix(Py_ssize_t n, Py_ssize_t K, const int32_t* y,
                            const double* s, const double* P, const double* Pc,
                            const double* ncls, double S, bint fit_intercept,
                            double* q, double* E) noexcept nogil:
    """t and q (file header) for K classes, q[k] and E[k] = ||Y_k - q_k 1||_S; the
    class masses m_k are accumulated in E first."""
    cdef Py_ssize_t i, k
    cdef double t = 0.0
    for k in range(K):
        q[k] = 0.0
        E[k] = 0.0
    if fit_intercept:
        for i in range(n):
            if s[i] != 0:
                for k in range(K):
                    E[k] += s[i] * P[i * K + k]
        for k in range(K):
            if E[k] > 0:
                t = max(t, 1.0 - ncls[k] / E[k])
        t = min(t, 1.0)
        if t > 0:
            for k in range(K):
                q[k] = max(0.0, (ncls[k] - (1.0 - t) * E[k]) / (t * S))
    for k in range(K):
        E[k] = sqrt(ncls[k] * (1.0 - q[k]) * (1.0 - q[k]) + (S - ncls[k]) * q[k] * q[k])
    return t


cdef double _multi_kl(Py_ssize_t n, Py_ssize_t K, const int32_t* y, const double* s,
                      const double* Z, const double* b, const double* P,
                      const double* Pc, const double* LP, double c, double t,
                      const double* q) noexcept nogil:
    """sum_i s_i KL(pi_i || p_i) - theta^T (Z - 1 b^T) at pi(c) (file header)."""
    cdef Py_ssize_t i, k
    cdef double pi, kl, thz, acc = 0.0
    cdef bint exact = c == 1.0 and t == 0.0
    for i in range(n):
        if s[i] == 0:
            continue
        kl = 0.0
        thz = 0.0
        for k in range(K):
            pi = c * ((1.0 - t) * P[i * K + k] + t * q[k])
            if k == y[i]:
                pi += 1.0 - c
            if not exact and pi > 0:
                kl += pi * (log(pi) - LP[i * K + k])
            thz += ((1.0 if k == y[i] else 0.0) - pi) * (Z[i * K + k] - b[k])
        acc += s[i] * (kl - thz)
    return acc
