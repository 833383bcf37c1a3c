# The Gram cache (dense data only) and the restricted solver on it (included by _cd.pyx).

from cython cimport floating
from fastlasso._signals cimport check_interrupt_status
from libc.math cimport fabs, INFINITY, NAN
from libc.stdint cimport int32_t, uint32_t
from libc.stdlib cimport malloc, free
from libc.string cimport memcpy, memset
from fastlasso._blas cimport _gemm_tn, _syrk_nt, _syrk_tn
from fastlasso._enet_math cimport prox_enet, primal_value, duality_gap

import numpy as np

cdef enum:
    GRAM_MIN_ROWS = 1024   # Gram blocks pay off only for long (memory-bound) columns

cpdef enum GramMode:
    # how the restricted problems use X~^T S X~ (chosen by fastlasso._solve)
    GRAM_OFF = 0    # never: coordinate updates on the data
    GRAM_LAZY = 1   # cache G[ws, ws] as features enter working sets (dense only)
    GRAM_FULL = 2   # whole G cached (GramCache filled by gram_fill_full)


cdef class GramCache:
    """Entries of G = X~^T S X~ for the features that have entered a working set.

    G is kept column-major with leading dimension ``cap``; slot a holds feature feat[a].
    The cache lives across the alphas of a path (glmnet's covariance caching). In full
    mode every feature has a slot (slot == feature) and X~^T S y_c is cached too.
    """
    cdef double* G
    cdef int32_t* slot_of
    cdef int32_t* feat
    cdef double* Xty
    cdef Py_ssize_t p, m, cap, max_slots
    cdef bint full
    cdef double yy

    def __cinit__(self, Py_ssize_t n_features, Py_ssize_t max_slots):
        cdef Py_ssize_t j
        self.p = n_features
        self.max_slots = min(max_slots, n_features)
        self.slot_of = <int32_t*> malloc(max(n_features, 1) * sizeof(int32_t))
        self.feat = <int32_t*> malloc(max(self.max_slots, 1) * sizeof(int32_t))
        if self.slot_of == NULL or self.feat == NULL:
            raise MemoryError("cannot allocate the Gram cache index")
        for j in range(n_features):
            self.slot_of[j] = -1
        self.G = NULL
        self.Xty = NULL
        self.m = 0
        self.cap = 0
        self.full = False

    def __dealloc__(self):
        free(self.G)
        free(self.slot_of)
        free(self.feat)
        free(self.Xty)

    @property
    def n_cached(self):
        return self.m

    @property
    def xty(self):
        """A copy of the cached X~^T S y_c (full mode), else None."""
        if not self.full:
            return None
        return np.array(<double[:self.p]> self.Xty)

    cdef int _reserve(self, Py_ssize_t need) noexcept nogil:
        """Grow to at least ``need`` slots: OK, or DECLINED if over budget or OOM."""
        cdef Py_ssize_t cap, a
        cdef double* G
        if need <= self.cap:
            return OK
        if need > self.max_slots:
            return DECLINED
        cap = min(self.max_slots, max(need, 2 * self.cap, 64))
        G = <double*> malloc(cap * cap * sizeof(double))
        if G == NULL:
            return DECLINED
        for a in range(self.m):
            memcpy(G + a * cap, self.G + a * self.cap, self.m * sizeof(double))
        free(self.G)
        self.G = G
        self.cap = cap
        return OK

    cdef void _clear(self) noexcept nogil:
        cdef Py_ssize_t a
        for a in range(self.m):
            self.slot_of[self.feat[a]] = -1
        self.m = 0


cdef void _gram_grad(GramCache cache, const floating* w, const int32_t* alive,
                     Py_ssize_t n_alive, const int32_t* supp, Py_ssize_t n_supp,
                     double* grad) noexcept nogil:
    """grad_j = (X~^T S y_c)_j - sum_k G_jk w_k over alive j (full mode: slot == feature)."""
    cdef Py_ssize_t t, i
    cdef const double* Gk
    cdef double wk
    for t in range(n_alive):
        grad[alive[t]] = cache.Xty[alive[t]]
    for i in range(n_supp):
        Gk = cache.G + supp[i] * cache.cap
        wk = w[supp[i]]
        for t in range(n_alive):
            grad[alive[t]] -= Gk[alive[t]] * wk


cdef void _gram_gradients(GramCache cache, const floating* w, const Features* f,
                          PathWorkspace b, double yy, double* R2, double* Ry,
                          Stats* st) noexcept nogil:
    """Phase 1 in full mode: the gradients of every alive feature (exact) and
    R2 = ||r||_S^2, Ry = r^T S y_c from the cache: Ry = yy - w.(X~^T S y_c) and
    R2 = Ry - w.grad, with no pass over X."""
    cdef Py_ssize_t i, t
    cdef double* grad = &b.g[0]
    cdef double* d_at = &b.d_at[0]
    cdef double r2 = 0.0, ry = yy
    _gram_grad(cache, w, f.alive, f.n_alive, f.supp, f.n_supp, grad)
    for i in range(f.n_supp):
        ry -= w[f.supp[i]] * cache.Xty[f.supp[i]]
        r2 -= w[f.supp[i]] * grad[f.supp[i]]
    r2 += ry
    R2[0] = r2
    Ry[0] = ry
    for t in range(f.n_alive):
        d_at[f.alive[t]] = b.D
    st.work += f.n_alive * (f.n_supp + 1)


cdef bint _gram_keep_xty(const Features* f, PathWorkspace b, double* xty) noexcept nogil:
    """At w = 0, if every alive gradient is exact, they are X~^T S y_c, which full
    mode needs (_promote_to_full): copy them to xty and return True."""
    cdef Py_ssize_t t
    for t in range(f.n_alive):
        if b.d_at[f.alive[t]] != b.D:
            return False
    for t in range(f.n_alive):
        xty[f.alive[t]] = b.g[f.alive[t]]
    return True


cdef int _gram_add(GramCache cache, const floating* X, Py_ssize_t n, Py_ssize_t rs,
                   Py_ssize_t cs, const double* sqrt_sw, const floating* mu,
                   const int32_t* feats, Py_ssize_t n_feats) except -1 nogil:
    """Give every feature of feats a slot and fill the new rows/columns of G.

    X[i, j] is at X + i * rs + j * cs (Fortran order: rs = 1, cs = n; C order: rs = p,
    cs = 1). Rows are processed in chunks: A = S^(1/2) (X[rows, slots] - mu) is
    gathered in float64 (so float32 data give an exact float64 Gram; from C-ordered X
    row by row) and G[:, new] += A^T A[:, new] by dgemm. Extra memory: one chunk,
    O(rows x slots). OK, or DECLINED if the cache cannot hold them (the caller then
    solves on the data); on Ctrl-C the cache is emptied and KeyboardInterrupt raised.
    """
    cdef Py_ssize_t t, a, b, i, i0, c, chunk, m_old, m_new, n_add = 0, work = 0
    cdef int32_t j
    cdef double* A
    cdef const floating* col
    cdef const floating* row
    cdef double mj, sq
    for t in range(n_feats):
        if cache.slot_of[feats[t]] < 0:
            n_add += 1
    if n_add == 0:
        return OK
    if cache.m + n_add > cache.max_slots:
        cache._clear()
        n_add = n_feats
    if cache._reserve(cache.m + n_add) != OK:
        return DECLINED
    m_old = cache.m
    for t in range(n_feats):
        j = feats[t]
        if cache.slot_of[j] < 0:
            cache.slot_of[j] = <int32_t> cache.m
            cache.feat[cache.m] = j
            cache.m += 1
    m_new = cache.m
    chunk = max(16, min(n, 524288 // m_new))
    A = <double*> malloc(chunk * m_new * sizeof(double))
    if A == NULL:
        for a in range(m_old, m_new):
            cache.slot_of[cache.feat[a]] = -1
        cache.m = m_old
        return DECLINED
    for b in range(m_old, m_new):
        memset(cache.G + b * cache.cap, 0, m_new * sizeof(double))
    i0 = 0
    while i0 < n:
        c = min(chunk, n - i0)
        if rs == 1:
            for a in range(m_new):
                col = X + cache.feat[a] * cs + i0
                mj = mu[cache.feat[a]]
                if sqrt_sw == NULL:
                    for i in range(c):
                        A[a * c + i] = col[i] - mj
                else:
                    for i in range(c):
                        A[a * c + i] = sqrt_sw[i0 + i] * (col[i] - mj)
        else:
            for i in range(c):
                row = X + (i0 + i) * rs
                sq = 1.0 if sqrt_sw == NULL else sqrt_sw[i0 + i]
                for a in range(m_new):
                    A[a * c + i] = sq * (row[cache.feat[a] * cs] - mu[cache.feat[a]])
        if m_old == 0:
            _syrk_tn(<int> m_new, <int> c, A, <int> c, cache.G, <int> cache.cap)
        else:
            _gemm_tn(<int> m_new, <int> (m_new - m_old), <int> c, A, <int> c,
                     A + m_old * c, <int> c, cache.G + m_old * cache.cap, <int> cache.cap)
        i0 += c
        work += c * m_new * (m_new - m_old) // 16 + c * m_new
        if work > CHECK_WORK:
            work = 0
            if check_interrupt_status() == -1:
                free(A)
                cache._clear()
                return -1
    free(A)
    if m_old == 0:  # syrk filled the upper triangle
        for b in range(m_new):
            for a in range(b):
                cache.G[b + a * cache.cap] = cache.G[a + b * cache.cap]
    for b in range(m_old, m_new):
        for a in range(m_old):
            cache.G[b + a * cache.cap] = cache.G[a + b * cache.cap]
    return OK


cdef int _gram_fill_plain(GramCache cache, const double* X, Py_ssize_t n,
                          Py_ssize_t p, bint c_order) except -1 nogil:
    """Whole Gram X^T X of uncentred, unweighted float64 X: dsyrk straight on X in
    blocks of rows (no gathered copy; Ctrl-C checked between blocks). C-ordered X is
    the Fortran p x n matrix X^T: dsyrk takes X^T X as (X^T)(X^T)^T."""
    # blocks of ~2e9 multiply-adds (about 50 ms) between interrupt checks
    cdef Py_ssize_t i0 = 0, c, a, b, block = max(4096, 2000000000 // max(p * p, 1))
    if cache._reserve(p) != OK:
        return DECLINED
    for a in range(p):
        cache.slot_of[a] = <int32_t> a
        cache.feat[a] = <int32_t> a
        memset(cache.G + a * cache.cap, 0, p * sizeof(double))
    cache.m = p
    while i0 < n:
        c = min(block, n - i0)
        if c_order:
            _syrk_nt(<int> p, <int> c, X + i0 * p, <int> p, cache.G, <int> cache.cap)
        else:
            _syrk_tn(<int> p, <int> c, X + i0, <int> n, cache.G, <int> cache.cap)
        i0 += c
        if check_interrupt_status() == -1:
            cache._clear()
            return -1
    for b in range(p):
        for a in range(b):
            cache.G[b + a * cache.cap] = cache.G[a + b * cache.cap]
    return OK


cdef int _fill_full_gram(GramCache cache, const floating* X, Py_ssize_t n,
                         Py_ssize_t p, Py_ssize_t rs, Py_ssize_t cs,
                         const double* sqrt_sw, const floating* mu,
                         const double* norm2) except -1 nogil:
    """Whole centred weighted Gram into the cache (slot == feature); X as for _gram_add.

    For unweighted float64 X whose column means are small next to their spread
    (mu_j^2 <= 1e4 norm2_j / n: the centring below loses < 1e-11 relative), dsyrk runs
    straight on X and the centring is the rank-one correction G - n mu mu^T; otherwise
    rows are gathered centred (and weighted) first. OK, or DECLINED if it cannot fit."""
    cdef Py_ssize_t a, b
    cdef int32_t* allf
    cdef bint direct = sqrt_sw == NULL
    cdef int status
    for a in range(p):
        direct = direct and n * mu[a] * mu[a] <= 1e4 * norm2[a]
    if floating is double:
        if direct:
            status = _gram_fill_plain(cache, X, n, p, rs != 1)
            if status == OK:
                for b in range(p):
                    for a in range(p):
                        cache.G[a + b * cache.cap] -= n * (<double> mu[a]) * mu[b]
            return status
    allf = <int32_t*> malloc(p * sizeof(int32_t))
    if allf == NULL:
        return DECLINED
    for a in range(p):
        allf[a] = <int32_t> a
    status = _gram_add(cache, X, n, rs, cs, sqrt_sw, mu, allf, p)
    free(allf)
    return status


cdef int _promote_to_full(GramCache cache, const floating* X, Py_ssize_t n,
                          Py_ssize_t p, Py_ssize_t rs, Py_ssize_t cs,
                          const double* sqrt_sw, const floating* mu,
                          const floating* yc, const floating* sw, const double* norm2,
                          const double* xty, int n_threads) except -1 nogil:
    """Refill the cache with the whole Gram matrix and X~^T S y_c (full mode; taken from
    xty if not NULL, else computed): OK, or DECLINED if it cannot hold it (the cache
    is then as it was, or empty if the Gram matrix itself did not fit)."""
    cdef Py_ssize_t i
    cdef int32_t* allf = NULL
    cdef floating* ycw = NULL
    cdef int status
    if cache.max_slots < p:
        return DECLINED
    if cache.Xty == NULL:
        cache.Xty = <double*> malloc(p * sizeof(double))
        if cache.Xty == NULL:
            return DECLINED
    if xty == NULL:
        allf = <int32_t*> malloc(p * sizeof(int32_t))
        ycw = <floating*> malloc(n * sizeof(floating))
        if allf == NULL or ycw == NULL:
            free(allf)
            free(ycw)
            return DECLINED
    cache._clear()
    status = _fill_full_gram(cache, X, n, p, rs, cs, sqrt_sw, mu, norm2)
    if status == OK:
        if xty != NULL:
            memcpy(cache.Xty, xty, p * sizeof(double))
        else:
            for i in range(p):
                allf[i] = <int32_t> i
            for i in range(n):
                ycw[i] = yc[i] if sw == NULL else sw[i] * yc[i]
            if rs == 1:
                full_grad_dense(X, n, n, allf, p, ycw, 0.0, mu, cache.Xty, n_threads)
            else:
                full_grad_cdense(X, p, n, allf, p, ycw, 0.0, mu, cache.Xty, n_threads)
        cache.full = True
    free(allf)
    free(ycw)
    return status


def gram_fill_full(GramCache cache, const floating[:, :] X, const double[::1] sqrt_sw,
                   const floating[::1] mu, const double[::1] norm2,
                   const floating[::1] yc_sw, const double[:, :] G_user=None,
                   const double[::1] Xty_user=None):
    """Cache the whole Gram matrix and X~^T S y_c (full mode). yc_sw = S y_c. X is
    Fortran- or C-ordered (read in place either way).

    G_user, if given, is taken as X~^T S X~ (a user's precomputed Gram, or one that
    cross-validation derived) instead of computing it; Xty_user likewise for X~^T S y_c.
    """
    cdef Py_ssize_t n = X.shape[0], p = X.shape[1], a, b
    cdef int32_t[::1] allf = np.arange(p, dtype=np.int32)
    cdef const double* ssw = &sqrt_sw[0] if sqrt_sw.shape[0] > 0 else NULL
    cdef int status = OK
    cdef Py_ssize_t item = X.itemsize
    # X[i, j] at X + i * rs + j * cs (elements): Fortran (rs = 1, cs = n) or C (rs = p,
    # cs = 1) order (an array with a dimension of 1 is both: read as Fortran)
    cdef bint f_ok = ((n <= 1 or X.strides[0] == item)
                      and (p <= 1 or X.strides[1] == n * item))
    cdef bint c_order = (not f_ok and (p <= 1 or X.strides[1] == item)
                         and (n <= 1 or X.strides[0] == p * item))
    cdef Py_ssize_t rs = p if c_order else 1, cs = 1 if c_order else n
    if not (f_ok or c_order):
        raise ValueError("X must be Fortran- or C-contiguous")
    if cache.Xty == NULL:
        cache.Xty = <double*> malloc(p * sizeof(double))
        if cache.Xty == NULL:
            raise MemoryError("cannot allocate X^T y for the Gram cache")
    with nogil:
        cache._clear()
        if G_user is None:
            status = _fill_full_gram(cache, &X[0, 0], n, p, rs, cs, ssw, &mu[0],
                                     &norm2[0])
        elif cache._reserve(p) == OK:
            for a in range(p):
                cache.slot_of[a] = <int32_t> a
                cache.feat[a] = <int32_t> a
                for b in range(p):
                    cache.G[b + a * cache.cap] = G_user[b, a]
            cache.m = p
        else:
            status = DECLINED
        if status == OK and Xty_user is None and not c_order:
            full_grad_dense(&X[0, 0], n, n, &allf[0], p, &yc_sw[0], 0.0, &mu[0],
                            cache.Xty, 1)
        elif status == OK and Xty_user is None:
            full_grad_cdense(&X[0, 0], p, n, &allf[0], p, &yc_sw[0], 0.0, &mu[0],
                             cache.Xty, 1)
        elif status == OK:
            for a in range(p):
                cache.Xty[a] = Xty_user[a]
    if status != OK:
        raise MemoryError("the full Gram matrix does not fit the cache budget")
    cache.full = True


cdef int _inner_gram(
    GramCache cache, floating* w, const double* grad, const double* norm2,
    int32_t* ws, Py_ssize_t m, const Settings* o, double yy, double tol_in,
    uint32_t* rng, double* grad_out, double out_below, Stats* st,
) except -1 nogil:
    """CD on the working set with Gram updates: O(m) per coordinate.

    Works in float64 on compact copies: Gw = G[ws, ws], g = X~_ws^T S r (kept up to
    date), b = X~_ws^T S y_c = g + Gw w. Then r^T S y_c = yy - w.b and
    R2 = r^T S y_c - w.g, so the restricted gap costs O(m) and is checked every epoch.
    If the final restricted gap (st.inner_gap) is <= out_below, the gradients of the
    working set at the final w, b - Gw w recomputed without the epochs' accumulated
    updates (m^2), are left in grad_out[j] (j in ws): the support polish that then
    follows needs them exact.
    """
    cdef Py_ssize_t a, b, t, ep = 0, cap = cache.cap
    cdef double* Gw = <double*> malloc(m * m * sizeof(double))
    cdef double* g = <double*> malloc(m * sizeof(double))
    cdef double* bvec = <double*> malloc(m * sizeof(double))
    cdef double* x = <double*> malloc(m * sizeof(double))
    cdef double* W_hist = NULL
    cdef double* x_try = NULL
    cdef double* g_try = NULL
    cdef int32_t* order = <int32_t*> malloc(m * sizeof(int32_t))
    cdef double z, old, new, d, R2, Ry, w_l1, w_l2sq, dnorm, xta, gsq, gap
    cdef Anderson history
    cdef bint extrapolated
    cdef int status = OK
    cdef double l1_n = o.l1_n, l2_n = o.l2_n
    cdef bint positive = o.positive
    cdef Py_ssize_t max_epochs = o.max_epochs
    if o.anderson:
        W_hist = <double*> malloc((ANDERSON_K + 1) * m * sizeof(double))
        x_try = <double*> malloc(m * sizeof(double))
        g_try = <double*> malloc(m * sizeof(double))
    if (Gw == NULL or g == NULL or bvec == NULL or x == NULL or order == NULL
            or (o.anderson and (W_hist == NULL or x_try == NULL or g_try == NULL))):
        status = DECLINED
    else:
        for a in range(m):
            order[a] = <int32_t> a
            x[a] = w[ws[a]]
            g[a] = grad[ws[a]]
            for b in range(m):
                Gw[a + b * m] = cache.G[cache.slot_of[ws[a]] + cache.slot_of[ws[b]] * cap]
        for a in range(m):
            z = g[a]
            for b in range(m):
                z += Gw[a + b * m] * x[b]
            bvec[a] = z
        if o.anderson:
            anderson_start(&history, W_hist, m)
        while True:
            if o.shuffle:
                _shuffle(order, m, rng)
            for t in range(m):
                a = order[t]
                old = x[a]
                new = prox_enet(g[a] + norm2[ws[a]] * old, l1_n, norm2[ws[a]] + l2_n, positive)
                if new != old:
                    d = new - old
                    x[a] = new
                    for b in range(m):
                        g[b] -= d * Gw[b + a * m]
            ep += 1
            st.epochs += 1
            st.work += m * m
            if st.work > CHECK_WORK:
                st.work_done += st.work
                st.work = 0
                if check_interrupt_status() == -1:
                    status = -1
                    break

            if o.anderson:
                memcpy(anderson_next(&history), x, m * sizeof(double))
                if anderson_ready(&history):
                    extrapolated = False
                    if anderson_extrapolate(&history, positive, x_try):
                        for a in range(m):
                            z = bvec[a]
                            for b in range(m):
                                z -= Gw[a + b * m] * x_try[b]
                            g_try[a] = z
                        if (_gram_primal(m, x_try, g_try, bvec, yy, l1_n, l2_n)
                                < _gram_primal(m, x, g, bvec, yy, l1_n, l2_n)):
                            memcpy(x, x_try, m * sizeof(double))
                            memcpy(g, g_try, m * sizeof(double))
                            extrapolated = True
                    memcpy(anderson_next(&history), x, m * sizeof(double))
                    # an extrapolated point is no CD iterate: its tiny values must go
                    # through one more epoch (exact zeros) before the solve may stop
                    if extrapolated and st.epochs < max_epochs:
                        continue

            Ry = yy
            R2 = 0.0
            w_l1 = 0.0
            w_l2sq = 0.0
            gsq = 0.0
            dnorm = 0.0 if not positive else -INFINITY
            for a in range(m):
                Ry -= x[a] * bvec[a]
                R2 -= x[a] * g[a]
                w_l1 += fabs(x[a])
                w_l2sq += x[a] * x[a]
                gsq += g[a] * g[a]
                xta = g[a] - l2_n * x[a]
                dnorm = max(dnorm, xta) if positive else max(dnorm, fabs(xta))
            R2 += Ry
            gap = duality_gap(l1_n, l2_n, R2, Ry, w_l1, w_l2sq, dnorm, gsq)
            if ep % GAP_FREQ == 0:
                _record(st, primal_value(l1_n, l2_n, R2, w_l1, w_l2sq), NAN)
            if gap <= tol_in or st.epochs >= max_epochs:
                st.inner_gap = gap
                break
        for a in range(m):
            w[ws[a]] = <floating> x[a]
        if status == OK and st.inner_gap <= out_below:
            for a in range(m):  # (x as stored in w: rounded to its precision)
                x[a] = w[ws[a]]
            for a in range(m):
                z = bvec[a]
                for b in range(m):
                    z -= Gw[a + b * m] * x[b]
                grad_out[ws[a]] = z
            st.work += m * m
    free(Gw)
    free(g)
    free(bvec)
    free(x)
    free(order)
    free(W_hist)
    free(x_try)
    free(g_try)
    return status


cdef double _gram_primal(Py_ssize_t m, const double* x, const double* g,
                         const double* bvec, double yy, double l1_n,
                         double l2_n) noexcept nogil:
    cdef Py_ssize_t a
    cdef double R2 = yy, w_l1 = 0.0, w_l2sq = 0.0
    for a in range(m):
        R2 -= x[a] * (bvec[a] + g[a])
        w_l1 += fabs(x[a])
        w_l2sq += x[a] * x[a]
    return primal_value(l1_n, l2_n, R2, w_l1, w_l2sq)
