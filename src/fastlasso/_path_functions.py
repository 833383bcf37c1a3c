"""The public path functions ``lasso_path`` and ``enet_path`` (scikit-learn 1.9
signatures): validate the arguments and the data (_data), then run the path driver
(_solve_path) on the grid."""

import warnings
from numbers import Integral

import numpy as np
from sklearn.utils import check_array, check_consistent_length

from fastlasso._data import (
    check_kernel_layout,
    check_structure,
    gram_mode_from_precompute,
    make_design,
    solver_reads_x,
)
from fastlasso._multitask import (
    center_targets,
    mt_alpha_max,
    resolve_mt_alphas,
    solve_mt_path,
)
from fastlasso._solve import n_threads_for
from fastlasso._solve_path import (
    alpha_max,
    check_path_params,
    geometric_grid,
    gram_cache_for,
    resolve_alphas,
    solve_path,
)

_DOC_PARAMS = """
    Parameters
    ----------
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
        Training data, dense (Fortran order used in place) or any scipy.sparse format
        (CSC used in place). float32 stays float32.
    y : array-like of shape (n_samples,) or (n_samples, n_targets)
        Target. A 2-D y asks for the multi-task path (scikit-learn's): the penalty
        on the rows of W is alpha * (l1_ratio ||W||_21 + (1 - l1_ratio)/2
        ||W||_F^2), coefs of shape (n_targets, n_features, n_alphas), sparse X,
        sample weights and ``fit_intercept`` honoured, ``positive`` not allowed and
        ``precompute`` not used (see :class:`MultiTaskElasticNet`). With one
        column it is this path, shaped (1, n_features, n_alphas).
{l1_ratio}    eps : float, default=1e-3
        Length of the path: alpha_min / alpha_max = eps.
    alphas : int or array-like, default=100
        Number of alphas on the automatic grid, or the alphas themselves (sorted
        decreasingly before use). None means 100, with scikit-learn 1.9's
        FutureWarning.
    n_alphas : int
        Deprecated alias of ``alphas`` as a count, with scikit-learn 1.9's
        FutureWarning.
    precompute : "auto", bool or array-like of shape (n_features, n_features)
        Gram-matrix use for dense X ("auto": fastlasso decides; a whole path makes the
        full Gram worthwhile for n >> p).
    Xy : array-like of shape (n_features,) or (n_features, n_targets), default=None
        X^T y, used for the automatic grid when given.
    copy_X : bool, default=True
        Accepted for compatibility; X is never modified.
    coef_init : array-like of shape (n_features,) or (n_targets, n_features)
        Warm start for the first alpha (default None: zeros).
    verbose : bool or int, default=False
        Print progress on stderr (one line per alpha, a bar on a terminal).
    return_n_iter : bool, default=False
        Also return the epochs run per alpha.
    positive : bool, default=False
        Constrain coefficients to be >= 0.
    check_input : bool, default=True
        False promises X in the layout scikit-learn's solver reads (float64/float32,
        CSC if sparse, Fortran-contiguous where it reads dense X directly), else a
        ValueError, as in scikit-learn (see :meth:`ElasticNet.fit`); the input is
        validated either way.
    fit_intercept : bool, default=False
        Centre X and y implicitly (with sample weights) first. scikit-learn's paths
        never centre; the default keeps that behaviour.
    sample_weight : array-like of shape (n_samples,), default=None
        Sample weights, rescaled to sum to n_samples (honoured for dense and sparse X).
    tol, max_iter, random_state, selection :
        As in :class:`ElasticNet`; every alpha stops when its duality gap is
        <= tol * ||y - ybar||_sw^2 / n.
    n_jobs : int, default=None
        Threads for the full-gradient sweeps.
    do_screening : bool, default=True
        Gap Safe screening on or off.
    **params :
        Any other name raises scikit-learn's ValueError ("Unexpected parameters in
        params"); scikit-learn's internal ``X_offset`` and ``X_scale`` are accepted
        only as None.

    Returns
    -------
    alphas : ndarray of shape (n_alphas,)
    coefs : ndarray of shape (n_features, n_alphas) or (n_targets, n_features, n_alphas)
    dual_gaps : ndarray of shape (n_alphas,)
        Duality gap at each alpha, in the units of the objective.
    n_iters : list of int
        Epochs per alpha (only if ``return_n_iter``).
"""


def enet_path(
    X,
    y,
    *,
    l1_ratio=0.5,
    eps=1e-3,
    n_alphas="deprecated",
    alphas="warn",
    precompute="auto",
    Xy=None,
    copy_X=True,
    coef_init=None,
    verbose=False,
    return_n_iter=False,
    positive=False,
    check_input=True,
    fit_intercept=False,
    sample_weight=None,
    tol=1e-4,
    max_iter=1000,
    random_state=None,
    selection="cyclic",
    n_jobs=None,
    do_screening=True,
    **params,
):
    """Elastic Net path by warm-started coordinate descent.

    Minimises, for each alpha on the grid (from the largest down, each solve
    warm-started from the previous one), ::

        1/(2n) ||y - X w||^2 + alpha * l1_ratio * ||w||_1
                             + alpha * (1 - l1_ratio) / 2 * ||w||^2

    and certifies every solution by its duality gap.
    {params}
    See Also
    --------
    lasso_path : The case ``l1_ratio=1``.
    ElasticNetCV : The path cross-validated to choose alpha and l1_ratio.
    plot_path : Draws the coefficients against alpha.

    Examples
    --------
    >>> from sklearn.datasets import load_diabetes
    >>> from fastlasso import enet_path
    >>> X, y = load_diabetes(return_X_y=True)
    >>> alphas, coefs, gaps = enet_path(X, y, l1_ratio=0.5, alphas=5,
    ...                                 fit_intercept=True)
    >>> alphas.round(4)  # from alpha_max down to eps * alpha_max
    array([4.2961, 0.764 , 0.1359, 0.0242, 0.0043])
    >>> (coefs != 0).sum(axis=0)  # nonzero weights at each alpha
    array([ 0,  9, 10, 10, 10])
    """
    alphas = _deprecated_alphas(n_alphas, alphas)
    for name in ("X_offset", "X_scale"):  # scikit-learn's ElasticNet passes these
        if params.pop(name, None) is not None:
            raise ValueError(
                f"{name} is not supported (scikit-learn's internal centring of sparse "
                "X); pass fit_intercept=True to centre X and y implicitly."
            )
    if params:  # scikit-learn's error, verbatim
        raise ValueError("Unexpected parameters in params", params.keys())
    check_path_params(l1_ratio, eps, tol, max_iter, selection, positive=positive,
                      fit_intercept=fit_intercept, copy_X=copy_X,
                      return_n_iter=return_n_iter, check_input=check_input,
                      do_screening=do_screening)
    if not (n_jobs is None or isinstance(n_jobs, (int, np.integer))):
        raise ValueError(f"n_jobs must be None or an integer, got {n_jobs!r}.")
    if not check_input:
        check_kernel_layout(X, reads_x=solver_reads_x(precompute,
                                                       getattr(X, "shape", (0, 0))))
    # NaN and inf in X: make_design raises check_array's error from its column
    # statistics (one pass over X less)
    X = check_array(check_structure(X), accept_sparse=True, accept_large_sparse=True,
                    dtype=[np.float64, np.float32], input_name="X",
                    ensure_all_finite=False)
    y = check_array(y, ensure_2d=False, dtype=X.dtype, input_name="y")
    multi_output = y.ndim == 2
    if multi_output and positive:  # scikit-learn's error, verbatim
        raise ValueError("positive=True is not allowed for multi-output (y.ndim != 1)")
    if multi_output and y.shape[1] != 1:
        check_consistent_length(X, y)
        return _multitask_path(
            X, y, l1_ratio=l1_ratio, eps=eps, alphas=alphas, Xy=Xy,
            coef_init=coef_init, verbose=verbose, return_n_iter=return_n_iter,
            fit_intercept=fit_intercept, sample_weight=sample_weight, tol=tol,
            max_iter=max_iter, random_state=random_state, selection=selection,
            n_jobs=n_jobs, do_screening=do_screening,
        )
    if multi_output:
        y = y[:, 0]
    check_consistent_length(X, y)
    design = make_design(X, sample_weight, fit_intercept)
    yc, _ = design.center(y)
    p = design.n_features
    gram_mode, gram_matrix = gram_mode_from_precompute(precompute, design)
    # for a grid of a valid count, the Gram cache first: in full mode it holds
    # X~^T S y_c, the numerator of alpha_max (one pass over X less)
    count = alphas
    gram_cache = xty = None
    if (Xy is None and isinstance(count, Integral) and not isinstance(count, bool)
            and count >= 1):
        gram_mode, gram_cache = gram_cache_for(design, yc, gram_mode, int(count),
                                               gram_matrix)
        xty = None if gram_cache is None else gram_cache.xty
    if Xy is not None and not isinstance(alphas, (list, tuple, np.ndarray)):
        Xy = np.asarray(Xy, dtype=np.float64).ravel()
        if Xy.shape != (p,):
            raise ValueError(f"Xy has shape {Xy.shape}, expected ({p},).")
        amax = alpha_max(design, yc, l1_ratio, positive, Xty=Xy)
        grid = geometric_grid(amax, eps, int(alphas))
    else:
        grid = resolve_alphas(design, yc, alphas, l1_ratio, eps, positive, Xty=xty)
    if coef_init is not None:
        coef_init = np.asarray(coef_init, dtype=design.dtype).ravel()
        if coef_init.shape != (p,):
            raise ValueError(f"coef_init has shape {coef_init.shape}, expected ({p},).")
    coefs, gaps, n_iters, _ = solve_path(
        design,
        yc,
        grid,
        l1_ratio,
        coef_init=coef_init,
        gram_mode=gram_mode,
        gram_matrix=gram_matrix,
        gram_cache=gram_cache,
        verbose=verbose,
        extrapolate=True,
        tol=tol,
        max_iter=max_iter,
        positive=positive,
        selection=selection,
        random_state=random_state,
        screening=do_screening,
        n_threads=n_threads_for(n_jobs),
    )
    if multi_output:  # scikit-learn's shape for a 2-D y of one column
        coefs = coefs[None]
    if return_n_iter:
        return grid, coefs, gaps, n_iters
    return grid, coefs, gaps


def _multitask_path(X, Y, *, l1_ratio, eps, alphas, Xy, coef_init, verbose,
                    return_n_iter, fit_intercept, sample_weight, tol, max_iter,
                    random_state, selection, n_jobs, do_screening):
    """scikit-learn's multi-task path (Y with several columns), by fastlasso's
    multi-task solver (_multitask): the L2,1 penalty on the rows of W, coefs of shape
    (n_targets, n_features, n_alphas). ``precompute`` plays no part (scikit-learn has
    no Gram variant of the multi-task solver either)."""
    design = make_design(X, sample_weight, fit_intercept)
    Yc, _, _ = center_targets(design, Y)
    p, T = design.n_features, Yc.shape[1]
    if Xy is not None and not isinstance(alphas, (list, tuple, np.ndarray)):
        Xy = np.asarray(Xy, dtype=np.float64)
        if Xy.shape != (p, T):
            raise ValueError(f"Xy has shape {Xy.shape}, expected ({p}, {T}).")
        grid = geometric_grid(mt_alpha_max(design, Yc, l1_ratio, Xty=Xy), eps,
                              int(alphas))
    else:
        grid = resolve_mt_alphas(design, Yc, alphas, l1_ratio, eps)
    W0 = None
    if coef_init is not None:  # scikit-learn's coef_ layout: (n_targets, n_features)
        W0 = np.asarray(coef_init, dtype=design.dtype)
        if W0.shape != (T, p):
            raise ValueError(
                f"coef_init has shape {W0.shape}, expected ({T}, {p})."
            )
        W0 = W0.T
    coefs, gaps, n_iters, _ = solve_mt_path(
        design, Yc, grid, l1_ratio, coef_init=W0, verbose=verbose, tol=tol,
        max_iter=max_iter, selection=selection, random_state=random_state,
        screening=do_screening, n_threads=n_threads_for(n_jobs), extrapolate=True,
    )
    if return_n_iter:
        return grid, coefs, gaps, n_iters
    return grid, coefs, gaps


def _deprecated_alphas(n_alphas, alphas):
    """The grid argument from scikit-learn 1.9's deprecated spellings, with its
    FutureWarnings (texts verbatim): n_alphas=k means alphas=k; alphas=None means 100;
    the default ("warn") is 100 without a warning."""
    count = 100
    if not (isinstance(n_alphas, str) and n_alphas == "deprecated"):
        warnings.warn(
            "'n_alphas' was deprecated in 1.9 and will be removed in 1.11. 'alphas' "
            "now accepts an integer value which removes the need to pass 'n_alphas'. "
            "The default value of 'alphas' will change from None to 100 in 1.11. Pass "
            "an explicit value to 'alphas' and leave 'n_alphas' to its default value "
            "to silence this warning.",
            FutureWarning,
            stacklevel=3,
        )
        count = n_alphas
    if isinstance(alphas, str) and alphas == "warn":
        return count
    if alphas is None:
        warnings.warn(
            "'alphas=None' is deprecated and will be removed in 1.11, at which point "
            "the default value will be set to 100. Set 'alphas=100' to silence this "
            "warning.",
            FutureWarning,
            stacklevel=3,
        )
        return count
    return alphas


def lasso_path(X, y, *, eps=1e-3, n_alphas="deprecated", alphas="warn",
               precompute="auto", Xy=None, copy_X=True, coef_init=None, verbose=False,
               return_n_iter=False, positive=False, **params):
    """Lasso path by warm-started coordinate descent.

    Minimises, for each alpha on the grid (from the largest down, each solve
    warm-started from the previous one), ::

        1/(2n) ||y - X w||^2 + alpha ||w||_1

    (the textbook form MSE + lambda ||w||_1 with lambda = 2 alpha) and certifies every
    solution by its duality gap.
    {params}
    See Also
    --------
    enet_path : The Elastic Net path (``l1_ratio`` below 1).
    LassoCV : The path cross-validated to choose alpha.
    plot_path : Draws the coefficients against alpha.

    Examples
    --------
    >>> from sklearn.datasets import load_diabetes
    >>> from fastlasso import lasso_path
    >>> X, y = load_diabetes(return_X_y=True)
    >>> alphas, coefs, gaps = lasso_path(X, y, alphas=5,
    ...                                  fit_intercept=True)
    >>> coefs.shape  # (n_features, n_alphas)
    (10, 5)
    >>> (coefs != 0).sum(axis=0)  # features in, from alpha_max down
    array([ 0,  4,  7,  9, 10])
    >>> bool((gaps <= 1e-4 * y.var()).all())  # all certified, tol=1e-4
    True
    """
    return enet_path(X, y, l1_ratio=1.0, eps=eps, n_alphas=n_alphas, alphas=alphas,
                     precompute=precompute, Xy=Xy, copy_X=copy_X, coef_init=coef_init,
                     verbose=verbose, return_n_iter=return_n_iter, positive=positive,
                     **params)


_DOC_L1_RATIO = """\
    l1_ratio : float, default=0.5
        Mix of the penalties, ``0 <= l1_ratio <= 1`` (1: Lasso, 0: ridge).
"""
enet_path.__doc__ = enet_path.__doc__.format(
    params=_DOC_PARAMS.replace("{l1_ratio}", _DOC_L1_RATIO)
)
lasso_path.__doc__ = lasso_path.__doc__.format(
    params=_DOC_PARAMS.replace("{l1_ratio}", "")
)
