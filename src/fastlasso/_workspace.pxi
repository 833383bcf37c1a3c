# What a path carries from one solve to the next (included by _cd.pyx).

from cython cimport floating
from libc.math cimport fabs
from libc.stdint cimport int32_t

import numpy as np


cdef class PathWorkspace:
    """Gradients g_j = x~_j^T S r from earlier passes and how far r moved since.

    With D the sum of ||r_t - r_(t-1)||_S over the outer iterations so far and d_j the
    value of D when g_j was last computed exactly, Cauchy-Schwarz gives for the current
    residual  |x~_j^T S r| <= |g_j| + ||x~_j||_S (D - d_j).  A feature whose bound stays
    below l1_n satisfies its optimality condition at w_j = 0 and cannot raise the dual
    norm above l1_n, so its dot product is skipped; the duality gap, screening and
    working-set scores use the bound instead, and stay valid. Along a path the same
    object is passed from one alpha to the next, so each alpha recomputes only the
    features near the boundary instead of a whole pass over X. It also keeps the
    residual (q, s) of the last pass with the support and values of its w: a solve
    that starts from that w (the next one along a path) takes it over instead of
    recomputing it, and meets a drift of exactly 0. And it lends the solves their
    scratch arrays (``buffer``), so that those of a path do not each page in fresh
    memory (about 700 page faults per solve of the `text` path): one solve at a time
    may use it.
    """
    cdef double[::1] g
    cdef double[::1] d_at
    cdef double[::1] v
    cdef double D
    cdef bint has_v
    cdef object q_at  # in the solver's dtype, made by its first pass
    cdef double s_at
    cdef int32_t[::1] supp_at
    cdef double[::1] wsupp_at
    cdef Py_ssize_t n_supp_at  # -1: no residual kept
    cdef dict scratch
    # the path driver of the public path functions sets this (lasso_path, enet_path;
    # cross-validation folds leave it off): a solve started from a predicted point
    # takes in the features that must enter before it is accepted (_predicted_goes_on)
    cdef public bint take_entrants

    def __cinit__(self, Py_ssize_t n_samples, Py_ssize_t n_features):
        self.g = np.zeros(n_features)
        self.d_at = np.full(n_features, -1.0)
        self.v = np.zeros(n_samples)
        self.D = 0.0
        self.has_v = False
        self.q_at = None
        self.supp_at = np.empty(n_features, dtype=np.int32)
        self.wsupp_at = np.empty(n_features)
        self.n_supp_at = -1
        self.scratch = {}
        self.take_entrants = False

    cdef object buffer(self, str name, Py_ssize_t size, object dtype):
        """An uninitialised array of size entries: the same one for every solve that
        asks under this name (a new one only if it is too short or of another dtype)."""
        a = self.scratch.get(name)
        if a is None or a.shape[0] < size or a.dtype != dtype:
            a = self.scratch[name] = np.empty(max(size, 1), dtype=dtype)
        return a[:max(size, 1)]

    def start_at_zero(self, const double[::1] xty):
        """Take xty = X~^T S y_c (from column_stats) as exact gradients for a solve
        from w = 0 (residual y_c): its first pass then recomputes none of them (an
        outer pass skips gradients exact at its residual). Fresh bounds only."""
        if self.has_v or xty.shape[0] != self.g.shape[0]:
            raise ValueError(
                "start_at_zero needs fresh bounds and one gradient per feature")
        self.g[:] = xty
        self.d_at[:] = self.D


cdef inline double _bound(PathWorkspace b, const double* xnorm, Py_ssize_t j) noexcept nogil:
    return fabs(b.g[j]) + xnorm[j] * (b.D - b.d_at[j])


cdef inline bint _kept_residual_fits(PathWorkspace b, const floating* w,
                                     const int32_t* supp, Py_ssize_t n_supp) noexcept nogil:
    """Whether b's kept residual is that of w (nonzero exactly on supp)."""
    cdef Py_ssize_t t
    if b.n_supp_at != n_supp:
        return False
    for t in range(n_supp):
        if b.supp_at[t] != supp[t] or b.wsupp_at[t] != w[supp[t]]:
            return False
    return True
