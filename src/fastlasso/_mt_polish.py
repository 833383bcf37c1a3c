"""Finishing a converged multi-task solve exactly on its support of rows (internal).

Block coordinate descent (_cd_multitask) stops anywhere inside its tolerance ball: on
the same data, cyclic and random selection, dense and CSR input, one solve and two warm
halves of it stop at different points (1e-7 to 1e-4 apart, relatively, at tight tol).
As the Lasso kernel's polish does (_polish.pxi.tp), the solve is finished on the
identified support: on the rows S with W_j != 0, F (in the kernels' n-scaled units)

    F_S(W_S) = 1/2 ||Y_c - X~_S W_S||_S,F^2 + l1_n sum_j ||W_j||_2 + l2_n/2 ||W_S||_F^2

is smooth (every ||W_j|| > 0 there) and strictly convex, and its minimiser is found by
Newton's method from the coordinate-descent point. If that minimiser keeps every row of
S nonzero and every row outside S satisfies ||X~_j^T S R|| <= l1_n (checked by the outer
pass that follows, which certifies the point with its duality gap), it is the minimiser
of F itself, to rounding -- the same point whatever the layout or the trajectory.

Newton's system. With U the rows u_j = W_j / ||W_j||, b_j = l1_n / ||W_j|| and
A = X~_S^T S X~_S (k x k), the Hessian of F_S acts on a direction D (k x T) as

    H D = (A + diag(b + l2_n)) D - diag(b) U o (rowsum(U o D))

(o: entrywise product; the second derivative of ||w|| is (I - u u^T) / ||w||): a
k T x k T matrix M (x) I minus a rank-k term, M = A + diag(b + l2_n). By the
Sherman-Morrison-Woodbury identity the step solves only k x k systems: with
Z = M^-1 V (V = -grad F_S) and psi the solution of

    (diag(1/b) - M^-1 o (U U^T)) psi = rowsum(U o Z),

D = Z + M^-1 (diag(psi) U). The k x k matrix on the left is positive definite (the
Schur complement of the positive definite block matrix [[M (x) I, E], [E^T, diag(1/b)]]
whose other complement is H, E the k columns e_j (x) u_j), so both are Cholesky
factored. Cost: A in n k^2 (from the k support columns, packed to a dense n x k block
in float64: sparse columns are expanded, never all of X), then per Newton step k^3
(M^-1) and 2 n k T for the gradient, recomputed from the data's residual each time
(so the steps also refine away the rounding of the normal-matrix factorisation, as
iterative refinement does).

With l1_n = 0 (ridge) every alive row is in S, b = 0 and one step solves the linear
system (A + l2_n I) W = X~^T S Y_c; the steps that follow refine it.

A step that would turn a row through 90 degrees or more (u_j . W_j_new <= 0: the row is
on its way out of the support) is not taken, nor one that leaves F larger: the polish
then returns nothing and the solve keeps its coordinate-descent point.
"""

import numpy as np
from scipy import linalg

# Newton steps at most (from a converged point it takes 2-4: quadratic convergence)
MAX_STEPS = 8
# steps stop once they move W_S by less than this fraction of its largest entry
STEP_EXACT = 1e-15
# a support is polished when this costs at most POLISH_FREE multiply-adds or
# POLISH_SHARE of the solve's own work (the Lasso kernel's rule, _polish.pxi.tp)
POLISH_FREE = 1 << 23
POLISH_SHARE = 0.25
POLISH_MAX_K = 2048  # largest support factored


def polish_cost(n, k, T):
    """Multiply-adds of a polish of k rows: the normal matrix, then about three Newton
    steps (M^-1 and the gradient from the data)."""
    return n * k * k + 3 * (k**3 + 2 * n * k * T)


def support_rows(design, W, l1_n):
    """The rows polished: those with W_j != 0, or (l1_n = 0) every row whose column can
    enter the model (norm2 > 0)."""
    if l1_n == 0:
        return np.flatnonzero(design.norm2 > 0)
    return np.flatnonzero(np.any(W != 0, axis=1))


def _support_columns(design, rows):
    """X~_S (n x k, float64, centred): the support's columns, dense."""
    X = design.X
    if design.kind in ("dense", "cdense"):
        Xs = np.array(X[:, rows], dtype=np.float64, order="F")
    else:
        Xs = np.asarray(X[:, rows].toarray(), dtype=np.float64, order="F")
    if design.fit_intercept:
        Xs -= design.mu[rows].astype(np.float64)
    return Xs


def _objective(Xs, Y, sw, Wk, l1_n, l2_n):
    R = Y - Xs @ Wk
    r2 = np.sum(R * R if sw is None else sw[:, None] * R * R)
    norms = np.sqrt(np.sum(Wk * Wk, axis=1))
    return 0.5 * r2 + l1_n * np.sum(norms) + 0.5 * l2_n * np.sum(Wk * Wk)


def polish_mt(design, Yc, W, l1_n, l2_n):
    """The minimiser of F on the support of W (module docstring), as a new array of
    W's shape and dtype, or None when the polish does not apply (no support, a support
    too large, a row leaving it, a factorisation that fails, F not lowered)."""
    rows = support_rows(design, W, l1_n)
    k = rows.size
    if k == 0 or k > POLISH_MAX_K:
        return None
    Xs = _support_columns(design, rows)
    sw = None if design.sw is None else design.sw.astype(np.float64)
    Y = np.asarray(Yc, dtype=np.float64)
    Xw = Xs if sw is None else Xs * sw[:, None]
    A = Xw.T @ Xs
    Wk = np.array(W[rows], dtype=np.float64)
    f_start = _objective(Xs, Y, sw, Wk, l1_n, l2_n)
    eye = np.eye(k)
    for _ in range(MAX_STEPS):
        R = Y - Xs @ Wk
        G = Xw.T @ R if sw is None else Xs.T @ (sw[:, None] * R)
        grad = l2_n * Wk - G
        if l1_n > 0:
            norms = np.sqrt(np.sum(Wk * Wk, axis=1))
            if not np.all(norms > 0):
                return None
            U = Wk / norms[:, None]
            b = l1_n / norms
            grad += l1_n * U
        else:
            b = np.zeros(k)
        try:
            cho = linalg.cho_factor(A + np.diag(b + l2_n), check_finite=False)
            Z = linalg.cho_solve(cho, -grad, check_finite=False)
            if l1_n > 0:
                Minv = linalg.cho_solve(cho, eye, check_finite=False)
                C = np.diag(1.0 / b) - Minv * (U @ U.T)
                psi = linalg.cho_solve(linalg.cho_factor(C, check_finite=False),
                                       np.sum(U * Z, axis=1), check_finite=False)
                D = Z + Minv @ (psi[:, None] * U)
            else:
                D = Z
        except (linalg.LinAlgError, ValueError):
            return None
        if not np.all(np.isfinite(D)):
            return None
        W_new = Wk + D
        if l1_n > 0 and not np.all(np.sum(U * W_new, axis=1) > 0):
            return None
        Wk = W_new
        if np.max(np.abs(D)) <= STEP_EXACT * np.max(np.abs(Wk)):
            break
    if not _objective(Xs, Y, sw, Wk, l1_n, l2_n) <= f_start * (1 + 1e-12):
        return None
    out = np.zeros_like(W)
    out[rows] = Wk
    return out
