"""Sparse logistic regression: Design + labels + penalty + warm start -> certified fit.

The estimator's objective is scikit-learn's (its user guide's regularised logistic
loss):

    P(W, b) = C sum_i s_i l(y_i, x_i^T W + b) + l1_ratio ||W||_1
              + (1 - l1_ratio) / 2 ||W||_F^2

with l the logistic loss for two classes (one coefficient vector, the probability of
``classes_[1]``) or the multinomial (softmax) loss for more (one row of W per class, an
entrywise penalty), s the sample weights times the class weights (not rescaled: scaling
every weight by a is scaling C by a), b unpenalised. The kernels (_logistic.pyx)
minimise F = P / C' in units where the weights sum to n, C' = C sum(s) / n:
l1 = l1_ratio / C', l2 = (1 - l1_ratio) / C'.

Stopping rule: duality gap <= tol * F_null, F_null the loss of the best model without
features (the intercepts alone if fit, else W = 0, b = 0): for the logistic loss the
analogue of the Lasso's ||y - mean(y)||^2 / n, scale-free in C, n and the weights.
``dual_gap_`` is reported in the units of P.

A class without weight in the data (a cross-validation fold may lack one) makes the
problem unbounded below when intercepts are fitted: the infimum takes that class's
intercept to -inf (its probability to 0). It is solved on the classes present; the
absent classes get zero coefficients and an intercept of -inf.
"""

import warnings
from dataclasses import dataclass, field

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from fastlasso import _logistic
from fastlasso._data import make_design, make_design_for_target


@dataclass
class LogisticSolution:
    """coef: (K, p) in X's dtype (K = 1 for two classes); intercept (K,) float64; gap:
    duality gap in the units of P, an upper bound on P(coef, intercept) - inf P;
    tol_gap: the gap asked for; n_iter: prox-Newton iterations; history: rows
    (iteration, P, gap or NaN) in P's units, if asked."""

    coef: np.ndarray
    intercept: np.ndarray
    gap: float
    tol_gap: float
    n_iter: int
    converged: bool
    history: np.ndarray | None = None
    info: dict = field(default_factory=dict)


def class_masses(y_idx, n_classes, sw):
    """sum of the (rescaled) weights of each class."""
    return np.bincount(y_idx, weights=sw, minlength=n_classes).astype(np.float64)


def null_intercept(masses, fit_intercept, multinomial=None):
    """The intercepts of the best model without features: logit of the class-1 share
    (binomial) or centred log class shares (multinomial, the default for more than two
    classes); zeros without intercept."""
    K = len(masses)
    if multinomial is None:
        multinomial = K > 2
    if not fit_intercept:
        return np.zeros(K if multinomial else 1)
    share = masses / masses.sum()
    if not multinomial:
        return np.array([np.log(share[1]) - np.log(share[0])])
    b = np.log(share)
    return b - b.mean()


def null_loss(masses, fit_intercept):
    """F_null (module docstring), in the kernels' units (weights summing to n)."""
    S = masses.sum()
    if not fit_intercept:
        return S * np.log(len(masses))
    share = masses[masses > 0] / S
    return float(-S * np.sum(share * np.log(share)))


def kernel_penalties(C, l1_ratio, scale):
    """(l1, l2) of the kernels for C' = C * scale (scale = sum(s) / n)."""
    Cp = float(C) * float(scale)
    return float(l1_ratio) / Cp, (1.0 - float(l1_ratio)) / Cp


def solve_logistic(
    design,
    y_idx,
    n_classes,
    C,
    l1_ratio=1.0,
    *,
    weight_sum=None,
    coef_init=None,
    intercept_init=None,
    tol=1e-4,
    max_iter=100,
    working_sets=True,
    screening=True,
    n_threads=1,
    record_history=False,
    warn=True,
    max_cd=100,
    multinomial=None,
    workspace=None,
):
    """Fit one C (see the module docstring). design: make_design(X, s, fit_intercept)
    with s the raw weights (rescaled to sum to n there); weight_sum: sum of the raw
    weights (n if None); y_idx: int class indices in [0, n_classes). coef_init (K, p)
    and intercept_init (K,) warm-start the solver (K = 1 for two classes). Returns a
    LogisticSolution. multinomial: use the softmax loss even for two classes (None:
    for more than two only). workspace: a _logistic.LogisticWorkspace carried along a
    path (see make_design_and_workspace), or None."""
    n, p = design.X.shape
    if n_classes < 2:
        raise ValueError(
            "This solver needs samples of at least 2 classes in the data, but the data "
            "contains only one class."
        )
    weight_sum = float(n if weight_sum is None else weight_sum)
    s = (np.ones(n) if design.sw is None
         else np.ascontiguousarray(design.sw, dtype=np.float64))
    y_idx = np.ascontiguousarray(y_idx, dtype=np.int32)
    masses = class_masses(y_idx, n_classes, s)
    if multinomial is None:
        multinomial = n_classes > 2
    K = n_classes if multinomial else 1
    present = masses > 0
    fit_intercept = design.fit_intercept
    if fit_intercept and not present.all():
        return _solve_missing_classes(
            design, y_idx, n_classes, present, C, l1_ratio, weight_sum=weight_sum,
            coef_init=coef_init, intercept_init=intercept_init, tol=tol,
            max_iter=max_iter, working_sets=working_sets, screening=screening,
            n_threads=n_threads, record_history=record_history, warn=warn,
            max_cd=max_cd, workspace=None)
    l1, l2 = kernel_penalties(C, l1_ratio, weight_sum / n)
    W = np.zeros((p, K))
    b = np.zeros(K)
    if coef_init is not None:
        W[:] = np.asarray(coef_init, dtype=np.float64).reshape(K, p).T
    if intercept_init is not None and fit_intercept:
        b[:] = np.asarray(intercept_init, dtype=np.float64).reshape(K)
    elif fit_intercept and max_iter > 0 and not W.any():
        # the exact minimiser over b when W = 0 (a cold start): the first gap is
        # then that of the intercepts' model, with no Newton step spent on them
        b[:] = null_intercept(masses, True, multinomial)
    f_null = null_loss(masses, fit_intercept)
    tol_abs = tol * f_null
    hist = np.zeros((max(16, 4 * max_iter + 16) if record_history else 0, 3))
    kernel = getattr(_logistic, ("pn_binom_" if K == 1 else "pn_multi_") + design.kind)
    y_kernel = y_idx if K > 1 else (y_idx == 1).astype(np.int32)
    out = kernel(
        *design.kernel_args(),
        y_kernel,
        s,
        design.mu,
        design.norm2,
        W,
        b,
        l1,
        l2,
        fit_intercept,
        tol_abs,
        max_iter,
        working_sets=working_sets,
        screening=screening,
        n_threads=n_threads,
        hist=hist,
        max_cd=max_cd,
        workspace=workspace,
    )
    if K > 1 and fit_intercept:
        b -= b.mean()  # softmax is invariant to a common shift: report the centred one
    Cp = float(C) * weight_sum / n  # P = C' F
    gap = out["gap"] * Cp
    tol_gap = tol_abs * Cp
    converged = out["gap"] <= tol_abs
    history = None
    if record_history:
        history = hist[: out["n_hist"]].copy()
        history[:, 1:] *= Cp
    if warn and not converged:
        warnings.warn(
            f"Logistic regression did not converge after {out['n_iter']} prox-Newton "
            f"iterations: duality gap {gap:.3e} > tolerance {tol_gap:.3e} "
            f"(tol={tol:g} x "
            "the loss of the model without features). Increase max_iter, scale the "
            "features, or decrease C.",
            ConvergenceWarning,
            stacklevel=3,
        )
    info = dict(out, primal=out["primal"] * Cp, l1=l1, l2=l2, scale=Cp)
    return LogisticSolution(W.T.astype(design.dtype), b, gap, tol_gap, out["n_iter"],
                            converged, history, info)


def _solve_missing_classes(design, y_idx, n_classes, present, C, l1_ratio, *,
                           coef_init, intercept_init, workspace, **params):
    """Classes without weight, with intercepts fitted: solve on the classes present
    (see the module docstring); absent classes get W = 0, b = -inf."""
    p = design.X.shape[1]
    K = 1 if n_classes == 2 else n_classes
    kept = np.flatnonzero(present)
    coef = np.zeros((K, p), dtype=design.dtype)
    intercept = np.full(K, -np.inf)
    if len(kept) <= 1:  # one class: a constant model, probability 1
        if K == 1:
            intercept[0] = np.inf if kept.size and kept[0] == 1 else -np.inf
        elif kept.size:
            intercept[kept[0]] = 0.0
        return LogisticSolution(coef, intercept, 0.0, 0.0, 0, True, None,
                                {"missing_classes": n_classes - len(kept)})
    remap = np.full(n_classes, -1, dtype=np.int32)
    remap[kept] = np.arange(len(kept), dtype=np.int32)
    y_sub = remap[y_idx]
    y_sub[y_sub < 0] = 0  # rows of a missing class have zero weight
    init_c = init_b = None
    if coef_init is not None:
        init_c = np.asarray(coef_init).reshape(K, p)[kept]
    if intercept_init is not None:
        init_b = np.asarray(intercept_init, dtype=np.float64).reshape(K)[kept]
        if not np.isfinite(init_b).all():
            init_b = None
    # the softmax loss on the classes present (also for two of them: the penalty of
    # the K-class problem is not the binomial one)
    sol = solve_logistic(design, y_sub, len(kept), C, l1_ratio, coef_init=init_c,
                         intercept_init=init_b, multinomial=True, **params)
    coef[kept] = sol.coef
    intercept[kept] = sol.intercept
    sol.coef, sol.intercept = coef, intercept
    sol.info["missing_classes"] = n_classes - len(kept)
    return sol


def c_min(design, y_idx, n_classes, l1_ratio, weight_sum=None, multinomial=None):
    """The largest C for which every coefficient is 0: the null model (intercepts only,
    if fitted) is optimal iff C' |x_j^T S (Y_k - P0_k)| <= l1_ratio for every j, k
    (P0 its probabilities; columns centred by their weighted means, which changes
    nothing when the intercepts are fitted). Infinite if no column moves the loss."""
    n = design.X.shape[0]
    weight_sum = float(n if weight_sum is None else weight_sum)
    s = np.ones(n) if design.sw is None else np.asarray(design.sw, dtype=np.float64)
    masses = class_masses(y_idx, n_classes, s)
    if multinomial is None:
        multinomial = n_classes > 2
    if multinomial:
        Y = np.zeros((n, n_classes))
        Y[np.arange(n), y_idx] = 1.0
        P0 = (masses / masses.sum() if design.fit_intercept
              else np.full(n_classes, 1.0 / n_classes))
        R = s[:, None] * (Y - P0)
    else:
        p1 = masses[1] / masses.sum() if design.fit_intercept else 0.5
        R = (s * ((y_idx == 1) - p1))[:, None]
    G = np.asarray(design.X.T @ R)
    if design.fit_intercept:
        G -= np.outer(design.mu.astype(np.float64), R.sum(axis=0))
    G[design.norm2 == 0] = 0.0  # columns that cannot enter the model
    g = float(np.abs(G).max()) if G.size else 0.0
    if g == 0.0 or l1_ratio == 0:
        return np.inf
    return float(l1_ratio) * n / (weight_sum * g)


def make_design_and_workspace(X, y_idx, n_classes, sample_weight, fit_intercept,
                              estimator_name=None):
    """(design, workspace): make_design and a _logistic.LogisticWorkspace for solves of
    this problem. For two classes and sparse or C-ordered X, the pass over X that
    computes the column statistics also gives the gradients of the model without
    features (X^T S (y - p0), p0 the class-1 share, or 1/2 without intercept:
    make_design_for_target with that target), which the workspace takes: a cold solve
    then skips its first pass over X (see LogisticWorkspace.start_at). (Fortran-ordered
    X has no such pass: make_design_for_target gives no gradient there.)"""
    if n_classes == 2:
        target = (np.asarray(y_idx) == 1).astype(np.float64)
        if not fit_intercept:
            target -= 0.5  # centring is then not done: y - 1/2 is the residual
        design, _, _, xty = make_design_for_target(X, target, sample_weight,
                                                   fit_intercept, estimator_name)
        workspace = _logistic.LogisticWorkspace(*design.X.shape, 1)
        if xty is not None:
            workspace.start_at(xty[None, :])
        return design, workspace
    design = make_design(X, sample_weight, fit_intercept, estimator_name)
    K = 1 if n_classes == 2 else n_classes
    return design, _logistic.LogisticWorkspace(*design.X.shape, K)


def solve_logistic_path(design, y_idx, n_classes, Cs, l1_ratio=1.0, *, coef_init=None,
                        intercept_init=None, callback=None, workspace=None, **params):
    """Fit the increasing Cs in turn, each warm-started from the last. Returns
    (coefs (n_Cs, K, p), intercepts (n_Cs, K), gaps (n_Cs,), n_iters (n_Cs,)) in the
    order of Cs (which must be increasing). callback(i, solution), if given, sees every
    solution (cross-validation scores them). The solves share one LogisticWorkspace
    (workspace, or a new one): each recomputes only the gradients near the boundary."""
    Cs = np.asarray(Cs, dtype=np.float64)
    if np.any(np.diff(Cs) < 0):
        raise ValueError("Cs must be increasing")
    coefs, intercepts, gaps, n_iters = [], [], [], []
    w, b = coef_init, intercept_init
    if workspace is None:
        K = 1 if n_classes == 2 else n_classes
        workspace = _logistic.LogisticWorkspace(*design.X.shape, K)
    for i, C in enumerate(Cs):
        sol = solve_logistic(design, y_idx, n_classes, C, l1_ratio, coef_init=w,
                             intercept_init=b, workspace=workspace, **params)
        coefs.append(sol.coef)
        intercepts.append(sol.intercept)
        gaps.append(sol.gap)
        n_iters.append(sol.n_iter)
        if callback is not None:
            callback(i, sol)
        w = sol.coef
        b = sol.intercept if np.isfinite(sol.intercept).all() else None
    return (np.array(coefs), np.array(intercepts), np.array(gaps),
            np.array(n_iters, dtype=np.int32))
