"""The path driver: alpha grids and warm-started solves from alpha_max down.

Internal (the public ``lasso_path`` / ``enet_path`` are in _path_functions): takes a
validated Design and centred target, returns plain arrays. Used by the public path
functions and by every cross-validation fold (_cv).

Each alpha starts from the previous solution (the public path functions: from the
secant through the last two, secant_start) and from the gradients X~^T S r of the
previous passes with bounds on how far they moved (_cd.PathWorkspace), so it recomputes
only the features near the boundary instead of a whole pass over X; the first outer
iteration already screens with a small duality gap (Gap Safe rules drop most features)
and its working set starts from the previous support plus the features nearest to
violating the optimality conditions (a safe version of the sequential strong rule:
every working-set solve is followed by a full KKT/gap check). A Gram cache, when used,
lives for the whole path (glmnet's covariance mode).
"""

from numbers import Integral

import numpy as np

from fastlasso import _cd
from fastlasso._progress import Progress
from fastlasso._solve import make_gram_cache, resolve_gram_mode, solve_cd


def alpha_max(design, yc, l1_ratio=1.0, positive=False, Xty=None):
    """Smallest alpha for which w = 0 is optimal:
    max_j |x~_j^T S y_c| / (n * l1_ratio)   (max_j x~_j^T S y_c if positive),
    from Xty = X~^T S y_c if given. Exactly 0 when that is rounding noise next to the
    Cauchy-Schwarz bound max_j ||x~_j||_S ||y_c||_S (y_c orthogonal to every column),
    whatever the scale of the data."""
    if l1_ratio == 0:
        raise ValueError(  # scikit-learn's text, verbatim
            "Automatic alpha grid generation is not supported for l1_ratio=0. Please "
            "supply a grid by providing your estimator with the appropriate `alphas=` "
            "argument."
        )
    n = design.n_samples
    ycw = yc if design.sw is None else yc * design.sw
    if Xty is None:
        Xty = np.asarray(design.X.T @ ycw.astype(design.dtype), dtype=np.float64)
        Xty = Xty.ravel()
        # centring: x~_j^T S y_c = x_j^T S y_c - mu_j * sum(S y_c), and sum(S y_c) = 0
        Xty -= design.mu.astype(np.float64) * float(np.sum(ycw))
    top = max(float(np.max(Xty) if positive else np.max(np.abs(Xty))), 0.0)
    bound = (np.sqrt(float(np.max(design.norm2, initial=0.0)))
             * np.sqrt(design.weighted_sq_norm(yc)))
    if top <= np.finfo(np.float64).resolution * bound:
        return 0.0
    return top / (n * l1_ratio)


def alpha_grid(design, yc, l1_ratio=1.0, eps=1e-3, n_alphas=100, positive=False,
               Xty=None):
    """n_alphas values from alpha_max down to eps * alpha_max, geometrically spaced
    (scikit-learn's grid); a constant tiny grid if y_c is orthogonal to every column.
    Xty: X~^T S y_c if already known."""
    return geometric_grid(alpha_max(design, yc, l1_ratio, positive, Xty), eps, n_alphas)


def geometric_grid(amax, eps, n_alphas):
    """n_alphas values from amax down to eps * amax; scikit-learn's constant grid of
    1e-15 if amax is 0 (then w = 0 is optimal for every alpha > 0)."""
    if amax <= 0:
        return np.full(n_alphas, np.finfo(np.float64).resolution)
    return np.geomspace(amax, amax * eps, num=n_alphas)


def check_alphas(alphas):
    """``alphas`` as every path and CV takes it: a count of grid points (None: 100),
    returned as an int >= 1, or the values themselves, returned as float64 sorted
    decreasingly (a path runs from the largest alpha down). ValueError for a count
    < 1, no values, or values that are not finite and non-negative."""
    if alphas is None:
        alphas = 100
    if isinstance(alphas, Integral) and not isinstance(alphas, bool):
        if alphas < 1:
            raise ValueError(
                f"alphas must be >= 1 when given as a count, got {alphas}."
            )
        return int(alphas)
    alphas = np.asarray(alphas, dtype=np.float64).ravel()
    if alphas.size == 0:
        raise ValueError("alphas is empty.")
    if not np.all(np.isfinite(alphas)) or np.any(alphas < 0):
        raise ValueError("alphas must be finite and non-negative.")
    return np.sort(alphas)[::-1]


def check_path_params(l1_ratio, eps, tol, max_iter, selection, **flags):
    """The scalar parameters of every path function (in memory and fastlasso.dask),
    by one rule: ValueError naming the parameter for l1_ratio outside [0, 1], eps not
    > 0, tol not >= 0 (NaN fails each), max_iter not an integer >= 1, selection not
    "cyclic" or "random", or a flag (given by keyword) that is not a bool."""
    if not 0 <= l1_ratio <= 1:
        raise ValueError(f"l1_ratio must be in [0, 1], got {l1_ratio}.")
    if not eps > 0:
        raise ValueError(f"eps must be > 0, got {eps}.")
    if not tol >= 0:
        raise ValueError(f"tol must be >= 0, got {tol}.")
    if not (isinstance(max_iter, (Integral, np.integer)) and max_iter >= 1):
        raise ValueError(f"max_iter must be an integer >= 1, got {max_iter!r}.")
    if selection not in ("cyclic", "random"):
        raise ValueError(f"selection must be 'cyclic' or 'random', got {selection!r}.")
    for name, value in flags.items():
        if not isinstance(value, (bool, np.bool_)):
            raise ValueError(f"{name} must be a bool, got {value!r}.")


def resolve_alphas(design, yc, alphas, l1_ratio, eps, positive, Xty=None):
    """The grid for ``alphas`` (check_alphas): a count gives alpha_grid (Xty as
    there), values are the grid."""
    alphas = check_alphas(alphas)
    if isinstance(alphas, int):
        return alpha_grid(design, yc, l1_ratio, eps, alphas, positive, Xty)
    return alphas


def gram_cache_for(design, yc, gram_mode, n_solves, gram_matrix=None, gram_xty=None):
    """(resolved gram_mode, cache) for n_solves solves on design: gram_mode resolved
    (resolve_gram_mode) and its cache made (make_gram_cache)."""
    gram_mode = resolve_gram_mode(design.X, gram_mode, n_solves=n_solves)
    return gram_mode, make_gram_cache(design, yc, gram_mode, gram_matrix, gram_xty)


SECANT_MAX = 4.0  # the largest secant step, in units of the last one


def secant_start(w_prev, w, a_prev, a, a_next):
    """The warm start of the solve at a_next from the last two solutions, w_prev (at
    a_prev) and w (at a): w + (w - w_prev) (a - a_next) / (a_prev - a) on the support
    of w, a coefficient that would change sign set to 0 (entering features are left to
    the solver). A Lasso solution is piecewise linear in alpha (Efron et al. 2004,
    LARS): on a stretch of the path where the support stays, from exact solutions, this
    is the next solution itself. From solutions within a tolerance it still moves every
    coefficient the way the path goes, where w itself leaves all of them behind: on a
    loose tolerance, the next penalty's gap check often accepts w at once, and the
    returned solution is then the last one unchanged, its suboptimality growing along
    the stretch where that repeats (sparse tails of paths). The step is at most
    SECANT_MAX times the last one (irregular grids); w itself if the spacing is
    degenerate.

    A multi-task w (p, T) is stepped by rows, the groups of its L2,1 penalty: a row
    that is 0 in w, or that the step would turn against itself (<start_j, w_j> < 0),
    starts at 0. The path is not piecewise linear there, but the step still moves the
    rows the way the path goes (the same loose-tolerance stall otherwise)."""
    if a == a_prev:
        return w
    r = min((a - a_next) / (a_prev - a), SECANT_MAX)
    start = w + (w - w_prev) * r
    if w.ndim == 2:
        start[~np.any(w != 0, axis=1) | (np.einsum("ij,ij->i", start, w) < 0)] = 0
    else:
        start[(w == 0) | (start * w < 0)] = 0
    return start


def solve_path(
    design,
    yc,
    alphas,
    l1_ratio=1.0,
    *,
    coef_init=None,
    gram_mode="auto",
    gram_matrix=None,
    gram_xty=None,
    gram_cache=None,
    verbose=False,
    extrapolate=False,
    **solve_params,
):
    """Warm-started solves over ``alphas`` (decreasing). Returns (coefs (p, k) in X's
    dtype, dual gaps (k,) in P units, epochs per alpha (list), converged flags).
    gram_cache, if given, serves every alpha: made by gram_cache_for(design, yc,
    gram_mode, k) with gram_mode the mode it returned (as for _solve.solve_cd).
    With ``extrapolate`` (the public path functions), a Lasso solve from the third
    alpha on starts from secant_start: more accurate solutions at a loose tol, for
    more work at a given tol (cross-validation, which uses only the held-out error of
    its fold paths, leaves it off); except after a solve that ended exact where the
    kernel's homotopy step is cheap (its ``homotopy_next``): then the start is that
    solution unchanged, which the kernel steps to the next alpha exactly on its
    support (the step the secant approximates from two points; _polish_predict_*)."""
    p = design.n_features
    k = len(alphas)
    if gram_cache is None:
        gram_mode, gram_cache = gram_cache_for(design, yc, gram_mode, k, gram_matrix,
                                               gram_xty)
    coefs = np.empty((k, p), dtype=design.dtype)  # one contiguous row per alpha
    gaps = np.empty(k)
    n_iters, converged = [], []
    w = None if coef_init is None else np.asarray(coef_init, dtype=design.dtype)
    progress = Progress(k, "path", verbose)
    workspace = _cd.PathWorkspace(design.n_samples, p)
    # predicted points take entering features in before they are accepted (the
    # kernel's _predicted_goes_on): for the paths a user sees, not for CV folds
    workspace.take_entrants = bool(extrapolate)
    yy = design.weighted_sq_norm(yc)
    w_prev = None
    exact = False  # the kernel steps the last solution itself (homotopy_next)
    for i, alpha in enumerate(alphas):
        start = w
        # from an exact solution the kernel takes the exact homotopy step itself (on
        # its kept Cholesky factor); it needs the start to be that solution unchanged
        if extrapolate and l1_ratio == 1.0 and i >= 2 and not exact:
            start = secant_start(w_prev, w, alphas[i - 2], alphas[i - 1], alpha)
        sol = solve_cd(design, yc, alpha, l1_ratio, coef_init=start,
                       gram_mode=gram_mode, gram_cache=gram_cache, workspace=workspace,
                       yy=yy, **solve_params)
        coefs[i] = sol.coef
        gaps[i] = sol.gap
        n_iters.append(sol.n_iter)
        converged.append(sol.converged)
        w_prev, w = w, sol.coef
        exact = bool(sol.info.get("homotopy_next", False)) if sol.info else False
        if progress.enabled:
            progress.step(f"alpha={alpha:.3g} nnz={np.count_nonzero(w)}")
    return coefs.T, gaps, n_iters, converged
