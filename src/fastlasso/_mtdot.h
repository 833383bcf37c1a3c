/* Dense column kernels of the multi-task solver (_cd_multitask) with AVX2, float64.
 *
 * A multi-task row step on dense X is T dot products x_j^T q_t and T updates
 * q_t -= d_t S (x_j - mu_j) over columns of n entries: most of the solver's time on
 * dense data. The plain loops (_blas.pxd's _dot: four partial sums; _update_dot in
 * _cd_multitask.pyx.tp) compile to SSE2 on baseline x86-64; these do the same
 * operations four entries at a time in one AVX2 register whose lanes are the four
 * partial sums, with multiplications and additions kept separate (no FMA), so they
 * give the plain loops' results to the bit, only faster. They are used where
 * fl_simd_on (set in _spdot.h from the CPU's features at import) says AVX2 runs;
 * elsewhere they are plain loops that are never called.
 */
#ifndef FASTLASSO_MTDOT_H
#define FASTLASSO_MTDOT_H

#include <stdint.h>

#if (defined(__GNUC__) || defined(__clang__)) && defined(__x86_64__)
#include <immintrin.h>
#define FL_MT_TARGET __attribute__((target("avx2")))

/* (a0 + a1) + (a2 + a3) of the lanes, a0 first taking the tail's products in order */
static inline FL_MT_TARGET double fl_mt_finish(__m256d acc, const double* x,
                                               const double* q, int64_t i, int64_t n)
{
    double lane[4];
    _mm256_storeu_pd(lane, acc);
    for (; i < n; i++)
        lane[0] += x[i] * q[i];
    return (lane[0] + lane[1]) + (lane[2] + lane[3]);
}

/* x^T q, as _blas.pxd's _dot */
static FL_MT_TARGET double fl_mt_dot_d(const double* x, const double* q, int64_t n)
{
    __m256d acc = _mm256_setzero_pd();
    int64_t i = 0;
    for (; i + 4 <= n; i += 4)
        acc = _mm256_add_pd(acc, _mm256_mul_pd(_mm256_loadu_pd(x + i),
                                               _mm256_loadu_pd(q + i)));
    return fl_mt_finish(acc, x, q, i, n);
}

/* q -= d S (xp - mu) (sw NULL: unit weights), then xj^T q, as _update_dot */
static FL_MT_TARGET double fl_mt_update_dot_d(int64_t n, const double* xp, double d,
                                              double mu, const double* sw,
                                              const double* xj, double* q)
{
    __m256d acc = _mm256_setzero_pd(), qv;
    __m256d vd = _mm256_set1_pd(d), vnd = _mm256_set1_pd(-d), vmu = _mm256_set1_pd(mu);
    int64_t i = 0;
    if (sw == 0 && mu == 0) {
        for (; i + 4 <= n; i += 4) {
            qv = _mm256_add_pd(_mm256_loadu_pd(q + i),
                               _mm256_mul_pd(vnd, _mm256_loadu_pd(xp + i)));
            _mm256_storeu_pd(q + i, qv);
            acc = _mm256_add_pd(acc, _mm256_mul_pd(_mm256_loadu_pd(xj + i), qv));
        }
        for (; i < n; i++)
            q[i] += -d * xp[i];
    } else if (sw == 0) {
        for (; i + 4 <= n; i += 4) {
            qv = _mm256_sub_pd(_mm256_loadu_pd(q + i),
                               _mm256_mul_pd(vd, _mm256_sub_pd(_mm256_loadu_pd(xp + i),
                                                               vmu)));
            _mm256_storeu_pd(q + i, qv);
            acc = _mm256_add_pd(acc, _mm256_mul_pd(_mm256_loadu_pd(xj + i), qv));
        }
        for (; i < n; i++)
            q[i] -= d * (xp[i] - mu);
    } else {
        for (; i + 4 <= n; i += 4) {
            qv = _mm256_sub_pd(
                _mm256_loadu_pd(q + i),
                _mm256_mul_pd(_mm256_mul_pd(vd, _mm256_loadu_pd(sw + i)),
                              _mm256_sub_pd(_mm256_loadu_pd(xp + i), vmu)));
            _mm256_storeu_pd(q + i, qv);
            acc = _mm256_add_pd(acc, _mm256_mul_pd(_mm256_loadu_pd(xj + i), qv));
        }
        for (; i < n; i++)
            q[i] -= d * sw[i] * (xp[i] - mu);
    }
    /* the tail's updated entries, then their products into lane 0 */
    return fl_mt_finish(acc, xj, q, n - (n % 4), n);
}

#else  /* no AVX2 code: fl_simd_on stays 0 and these are never called */

static double fl_mt_dot_d(const double* x, const double* q, int64_t n)
{
    double acc = 0.0;
    int64_t i;
    for (i = 0; i < n; i++)
        acc += x[i] * q[i];
    return acc;
}

static double fl_mt_update_dot_d(int64_t n, const double* xp, double d, double mu,
                                 const double* sw, const double* xj, double* q)
{
    (void)n; (void)xp; (void)d; (void)mu; (void)sw; (void)xj; (void)q;
    return 0.0;
}

#endif

#endif
