# The design-matrix primitives of C-ordered (row-major) dense X, the layout "cdense"
# (included by _cd.pyx after _design.pxi, whose conventions it follows: implicit
# centring by mu, weights sw, the stored residual q with s = 0 for dense data).
#
# X is n x p with row i at X + i * ldx (ldx = p): a column is strided, so these
# primitives read X by rows. A product X~^T S r over many columns is one sweep of the
# rows (each row added, times q_i, into p accumulators: the rows are read in memory
# order, as a GEMV on the p x n Fortran view X^T); over few columns, each row's entries
# of those columns are gathered. Coordinate descent itself never runs on strided
# columns: the outer loop copies the working set's columns into a packed Fortran block
# (_pack.pxi) and runs the dense solver there. The single-column primitives below
# (col_dot_cdense, col_update_cdense) serve the rare single-column steps of the outer
# loop (screening a support feature out).
#
# Rounding: the sums run in another order than the column products of the Fortran
# layout (row by row, in float64), so the same data in C and in Fortran order give the
# same answer to rounding, not bit for bit.

from cython cimport floating
from cython.parallel cimport prange
from libc.stdint cimport int32_t
from libc.stdlib cimport calloc, free

cdef enum:
    # a product over fewer than p / ROW_GATHER columns gathers their entries of each
    # row; over more, it sweeps whole rows (a row's entries share cache lines of 8)
    ROW_GATHER = 8
    # column statistics: blocks of at least 16 rows, of about this many entries (512 KiB
    # of float64: cache-resident for the block's second read)
    STATS_BLOCK = 65536


cdef inline double col_dot_cdense(const floating* X, Py_ssize_t ldx, Py_ssize_t n,
                                  Py_ssize_t j, const floating* v) noexcept nogil:
    """x_j^T v (raw column, strided)."""
    cdef Py_ssize_t i
    cdef double acc = 0.0
    cdef const floating* x = X + j
    for i in range(n):
        acc += x[i * ldx] * v[i]
    return acc


cdef inline void col_update_cdense(const floating* X, Py_ssize_t ldx, Py_ssize_t n,
                                   Py_ssize_t j, floating d, floating mu_j,
                                   const floating* sw, floating* q,
                                   double* s) noexcept nogil:
    """Residual update for w_j += d:  S r -= d S x~_j (strided column)."""
    cdef Py_ssize_t i
    cdef const floating* x = X + j
    if sw == NULL:
        for i in range(n):
            q[i] -= d * (x[i * ldx] - mu_j)
    else:
        for i in range(n):
            q[i] -= d * sw[i] * (x[i * ldx] - mu_j)


cdef inline Py_ssize_t col_len_cdense(const floating* X, Py_ssize_t ldx, Py_ssize_t n,
                                      Py_ssize_t j) noexcept nogil:
    """Entries touched by one update of column j."""
    return n


cdef void _rows_dot_all(const floating* X, Py_ssize_t ldx, Py_ssize_t n,
                        Py_ssize_t j0, Py_ssize_t j1, const floating* v,
                        double* acc) noexcept nogil:
    """acc[j] = sum_i X[i, j] v_i for j in [j0, j1) (acc zeroed by the caller), rows
    read in memory order, four rows per sweep of the accumulators."""
    cdef Py_ssize_t i = 0, j
    cdef double v0, v1, v2, v3
    cdef const floating* r0
    cdef const floating* r1
    cdef const floating* r2
    cdef const floating* r3
    while i + 4 <= n:
        v0 = v[i]
        v1 = v[i + 1]
        v2 = v[i + 2]
        v3 = v[i + 3]
        r0 = X + i * ldx
        r1 = r0 + ldx
        r2 = r1 + ldx
        r3 = r2 + ldx
        for j in range(j0, j1):
            acc[j] += (r0[j] * v0 + r1[j] * v1) + (r2[j] * v2 + r3[j] * v3)
        i += 4
    while i < n:
        v0 = v[i]
        r0 = X + i * ldx
        for j in range(j0, j1):
            acc[j] += r0[j] * v0
        i += 1


cdef void full_grad_cdense(const floating* X, Py_ssize_t ldx, Py_ssize_t n,
                           const int32_t* cols, Py_ssize_t n_cols, const floating* q,
                           double s, const floating* mu, double* grad,
                           int n_threads) noexcept nogil:
    """grad[j] = x~_j^T S r for j in cols: a sweep of whole rows when cols are at
    least p / ROW_GATHER of the columns (in parallel over blocks of columns), else
    the entries of cols gathered row by row."""
    cdef Py_ssize_t t, i, j, b, n_blocks, p = ldx
    cdef double qi
    cdef const floating* row
    cdef double* acc
    if n_cols == 0:
        return
    if ROW_GATHER * n_cols >= p:
        acc = <double*> calloc(p, sizeof(double))
        if acc != NULL:
            n_blocks = max(1, min(<Py_ssize_t> n_threads, p // 64))
            if n_blocks > 1:
                for b in prange(n_blocks, schedule="static", num_threads=n_blocks):
                    _rows_dot_all(X, ldx, n, b * p // n_blocks, (b + 1) * p // n_blocks,
                                  q, acc)
            else:
                _rows_dot_all(X, ldx, n, 0, p, q, acc)
            for t in range(n_cols):
                j = cols[t]
                grad[j] = acc[j] - s * mu[j]
            free(acc)
            return
    acc = <double*> calloc(n_cols, sizeof(double))
    if acc == NULL:  # out of memory: column by column (strided)
        for t in range(n_cols):
            j = cols[t]
            grad[j] = col_dot_cdense(X, ldx, n, j, q) - s * mu[j]
        return
    for i in range(n):
        qi = q[i]
        row = X + i * ldx
        for t in range(n_cols):
            acc[t] += row[cols[t]] * qi
    for t in range(n_cols):
        grad[cols[t]] = acc[t] - s * mu[cols[t]]
    free(acc)


cdef void residual_cdense(const floating* X, Py_ssize_t ldx, Py_ssize_t n,
                          const floating* yc, const floating* sw, const floating* mu,
                          const floating* w, const int32_t* supp, Py_ssize_t n_supp,
                          floating* q, double* s) noexcept nogil:
    """(q, s) from scratch for the current w (nonzero only on supp): row by row,
    q_i = sw_i (y_c,i - sum_j (X[i, j] - mu_j) w_j), s = 0."""
    cdef Py_ssize_t i, t, j, p = ldx
    cdef double acc, mw = 0.0
    cdef const floating* row
    for t in range(n_supp):
        mw += <double> mu[supp[t]] * w[supp[t]]
    for i in range(n):
        row = X + i * ldx
        acc = 0.0
        if ROW_GATHER * n_supp >= p:  # w is 0 off its support: whole rows
            for j in range(p):
                acc += row[j] * w[j]
        else:
            for t in range(n_supp):
                acc += row[supp[t]] * w[supp[t]]
        q[i] = <floating> (yc[i] - (acc - mw))
        if sw != NULL:
            q[i] *= sw[i]
    s[0] = 0.0


cdef void residual_grad_cdense(const floating* X, Py_ssize_t ldx, Py_ssize_t n,
                               const floating* yc, const floating* sw,
                               const floating* mu, const floating* w,
                               const int32_t* supp, Py_ssize_t n_supp, floating* q,
                               double* s, double* acc) noexcept nogil:
    """residual_cdense and, in the same sweep of the rows, acc[j] = sum_i X[i, j] q_i
    for every j (the gradients at the new residual, s = 0): each row is read from
    memory once, for its residual entry, and again from cache for its share of
    X^T q, where residual_cdense then full_grad_cdense stream X twice (a gather
    of many support columns reads most of each row's cache lines anyway). Rows
    go four at a time, as in _rows_dot_all."""
    cdef Py_ssize_t i, i0, j, t, b, nb, p = ldx
    cdef double a, mw = 0.0
    cdef double v[4]
    cdef const floating* row
    cdef const floating* r0
    cdef const floating* r1
    cdef const floating* r2
    cdef const floating* r3
    for j in range(p):
        acc[j] = 0.0
    for t in range(n_supp):
        mw += <double> mu[supp[t]] * w[supp[t]]
    i0 = 0
    while i0 < n:
        nb = min(4, n - i0)
        for b in range(nb):
            i = i0 + b
            row = X + i * ldx
            a = 0.0
            for t in range(n_supp):
                a += row[supp[t]] * w[supp[t]]
            q[i] = <floating> (yc[i] - (a - mw))
            if sw != NULL:
                q[i] *= sw[i]
            v[b] = q[i]
        r0 = X + i0 * ldx
        if nb == 4:
            r1 = r0 + ldx
            r2 = r1 + ldx
            r3 = r2 + ldx
            for j in range(p):
                acc[j] += (r0[j] * v[0] + r1[j] * v[1]) + (r2[j] * v[2] + r3[j] * v[3])
        else:
            for b in range(nb):
                row = r0 + b * ldx
                for j in range(p):
                    acc[j] += row[j] * v[b]
        i0 += nb
    s[0] = 0.0


cdef void _rows_wsum(const floating* X, Py_ssize_t ldx, Py_ssize_t n, Py_ssize_t p,
                     const double* v, double* acc) noexcept nogil:
    """acc[j] += sum_i v_i X[i, j] over the n rows (float64 v: _rows_dot_all's
    weights are in X's dtype), four rows per sweep of the accumulators."""
    cdef Py_ssize_t i = 0, j
    cdef double v0, v1, v2, v3
    cdef const floating* r0
    cdef const floating* r1
    cdef const floating* r2
    cdef const floating* r3
    while i + 4 <= n:
        v0 = v[i]
        v1 = v[i + 1]
        v2 = v[i + 2]
        v3 = v[i + 3]
        r0 = X + i * ldx
        r1 = r0 + ldx
        r2 = r1 + ldx
        r3 = r2 + ldx
        for j in range(p):
            acc[j] += (r0[j] * v0 + r1[j] * v1) + (r2[j] * v2 + r3[j] * v3)
        i += 4
    while i < n:
        v0 = v[i]
        r0 = X + i * ldx
        for j in range(p):
            acc[j] += r0[j] * v0
        i += 1


cdef void _rows_sq_dev(const floating* X, Py_ssize_t ldx, Py_ssize_t n, Py_ssize_t p,
                       const double* v, const double* m, double* acc) noexcept nogil:
    """acc[j] += sum_i v_i (X[i, j] - m_j)^2 over the n rows, four rows per sweep of
    the accumulators."""
    cdef Py_ssize_t i = 0, j
    cdef double v0, v1, v2, v3, d0, d1, d2, d3
    cdef const floating* r0
    cdef const floating* r1
    cdef const floating* r2
    cdef const floating* r3
    while i + 4 <= n:
        v0 = v[i]
        v1 = v[i + 1]
        v2 = v[i + 2]
        v3 = v[i + 3]
        r0 = X + i * ldx
        r1 = r0 + ldx
        r2 = r1 + ldx
        r3 = r2 + ldx
        for j in range(p):
            d0 = r0[j] - m[j]
            d1 = r1[j] - m[j]
            d2 = r2[j] - m[j]
            d3 = r3[j] - m[j]
            acc[j] += (v0 * d0 * d0 + v1 * d1 * d1) + (v2 * d2 * d2 + v3 * d3 * d3)
        i += 4
    while i < n:
        v0 = v[i]
        r0 = X + i * ldx
        for j in range(p):
            d0 = r0[j] - m[j]
            acc[j] += v0 * d0 * d0
        i += 1


def column_stats_cdense(
    const floating[:, ::1] X_arr,
    Py_ssize_t n,
    const floating[::1] sw_arr,
    double[::1] mu_out,
    double[::1] norm2_out,
    bint center,
    const floating[::1] yc_arr=None,
    double[::1] xty_out=None,
):
    """column_stats_dense for C-ordered X, in one sweep of the rows: weighted column
    means (if center) and centred squared norms in float64; columns constant on the
    rows of positive weight get norm2 exactly 0. If yc_arr is given, also
    xty_out[j] = x_j^T S y_c (the solver's first gradient from w = 0).

    Rows go by blocks of about STATS_BLOCK entries (cache-resident): each block's sums
    give its means, a second read of the block (from cache) its squared deviations,
    and the blocks are merged by Chan, Golub & LeVeque's update (1979): for blocks
    A, B of weights W_A, W_B and means m_A, m_B,
        M2 = M2_A + M2_B + (m_B - m_A)^2 W_A W_B / (W_A + W_B),
    which is as accurate as two passes over X and reads it from memory once. (Rows of
    weight 0 add 0 to every sum.)"""
    cdef Py_ssize_t p = mu_out.shape[0]
    cdef Py_ssize_t i, j, k, i0, nb, n_sus = 0, block
    cdef double v, d, W = 0.0, Wb, f, g
    cdef const floating* sw = NULL
    cdef const floating* yc = NULL
    cdef const floating* X = &X_arr[0, 0]
    cdef Py_ssize_t first_row = -1
    if X_arr.shape[0] != n or X_arr.shape[1] != p or norm2_out.shape[0] != p:
        raise ValueError("X, mu_out and norm2_out disagree on the shape")
    if yc_arr is not None:
        if yc_arr.shape[0] != n or xty_out is None or xty_out.shape[0] != p:
            raise ValueError("yc_arr needs n entries and xty_out p entries")
        yc = &yc_arr[0]
    if sw_arr.shape[0] > 0:
        sw = &sw_arr[0]
    block = max(16, STATS_BLOCK // max(p, 1))
    cdef int32_t[::1] sus = np.empty(p, dtype=np.int32)
    cdef double[::1] sb_arr = np.empty(p)  # a block's sums, then its means
    cdef double[::1] mb_arr = np.empty(p)  # a block's squared deviations
    cdef double[::1] wb_arr = np.empty(block)  # a block's weights
    cdef double[::1] yb_arr = np.empty(block)  # ... and weighted targets
    cdef double* sb = &sb_arr[0]
    cdef double* m2b = &mb_arr[0]
    cdef double* wb = &wb_arr[0]
    cdef double* yb = &yb_arr[0]
    cdef double* mean = &mu_out[0]
    cdef double* m2 = &norm2_out[0]
    cdef double* xty = &xty_out[0] if yc != NULL else NULL
    cdef bint const_col
    with nogil:
        for j in range(p):
            mean[j] = 0.0
            m2[j] = 0.0
            if yc != NULL:
                xty[j] = 0.0
        for i in range(n):
            if sw == NULL or sw[i] > 0:
                first_row = i
                break
        i0 = 0
        while i0 < n:
            nb = min(n - i0, block)
            Wb = 0.0
            for i in range(nb):
                wb[i] = 1.0 if sw == NULL else sw[i0 + i]
                Wb += wb[i]
                if yc != NULL:
                    yb[i] = wb[i] * yc[i0 + i]
            for j in range(p):
                sb[j] = 0.0
                m2b[j] = 0.0
            _rows_wsum(X + i0 * p, p, nb, p, wb, sb)
            if yc != NULL:
                _rows_wsum(X + i0 * p, p, nb, p, yb, xty)
            if Wb > 0:
                if center:
                    g = 1.0 / Wb
                    for j in range(p):
                        sb[j] *= g  # the block's means
                    _rows_sq_dev(X + i0 * p, p, nb, p, wb, sb, m2b)
                    f = W * Wb / (W + Wb)
                    g = Wb / (W + Wb)
                    for j in range(p):
                        d = sb[j] - mean[j]
                        m2[j] += m2b[j] + d * d * f
                        mean[j] += d * g
                else:
                    for j in range(p):
                        sb[j] = 0.0
                    _rows_sq_dev(X + i0 * p, p, nb, p, wb, sb, m2)
                W += Wb
            i0 += nb
        for j in range(p):
            # the weights sum to n (rows of weight 0 included), so the weighted mean
            # of the rows of positive weight is sum_i sw_i x_ij / n
            mu_out[j] = mean[j] * (W / n) if center else 0.0
        # a column constant on the weighted rows leaves only rounding: check those
        # exactly (rare, so the sweep above stays branch-free)
        for j in range(p):
            if m2[j] <= 1e-20 * (m2[j] + n * mu_out[j] * mu_out[j]):
                sus[n_sus] = <int32_t> j
                n_sus += 1
        for k in range(n_sus):
            j = sus[k]
            const_col = True
            if first_row >= 0:
                v = X[first_row * p + j]
                for i in range(first_row, n):
                    if (sw == NULL or sw[i] > 0) and X[i * p + j] != v:
                        const_col = False
                        break
            # (without centring, a constant column is exactly 0 only if it is 0)
            if const_col and (center or first_row < 0 or X[first_row * p + j] == 0):
                m2[j] = 0.0
