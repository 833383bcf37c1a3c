"""One entry point: Design + target + penalty + warm start -> certified solution.

Chooses the kernel (layout: dense / CSC int32 / CSC int64; method: coordinate descent or
the first-order solvers of _prox) and, for coordinate descent, the Gram mode: how the
solve uses the Gram matrix X~^T S X~. Through the whole Python layer the Gram mode is
called ``gram_mode`` and is one of the strings of GRAM_MODES; the estimators' and path
functions' scikit-learn parameter ``precompute`` is turned into it once
(_data.gram_mode_from_precompute), "auto" is resolved here (resolve_gram_mode), and the
kernels receive it as their enum (_cd.GramMode) from solve_cd alone:

- ``"full"``: cache X~^T S X~ once (n p^2 flops, p^2 floats) and never touch X again.
  Chosen automatically for dense X with n >= 4 p and p <= 128 (single fits), or
  p <= 3000 when the cache serves a whole path or CV fold;
- ``"lazy"``: cache Gram blocks of the working sets as features enter them; the outer
  loop still reads X (the features near the boundary) once per iteration. Automatic for
  other dense X; a working set of a quarter of the features not screened out of a
  tall problem (n >= 4 p, n >= 1024, p <= 3000) switches the solve to the full Gram
  matrix (the kernel's promotion rule);
- ``"off"``: coordinate updates on the data only (always the case for sparse X). For
  C-ordered dense X "off" means "lazy": coordinate descent needs columns, which C
  order does not store contiguously; Gram blocks give them without copying X (the
  restricted solves that do not run on Gram blocks run on packed copies of the
  working set's columns);
- ``"auto"``: one of the above by the rules just stated (resolve_gram_mode).

All quantities returned are in the estimator's units: the objective
P(w) = ||y_c - X~ w||_S^2 / (2n) + alpha * l1_ratio * ||w||_1
       + alpha (1 - l1_ratio)/2 ||w||^2.
"""

import os
import warnings
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state

from fastlasso import _cd, _prox
from fastlasso._blas_threads import kernel_blas_threads

GRAM_MODES = ("auto", "full", "lazy", "off")
_KERNEL_GRAM_MODE = {"off": _cd.GramMode.GRAM_OFF, "lazy": _cd.GramMode.GRAM_LAZY,
                     "full": _cd.GramMode.GRAM_FULL}
# scikit-learn's ConvergenceWarning text, verbatim (see _certified)
NOT_CONVERGED = (
    "Objective did not converge. You might want to increase the number of iterations, "
    "check the scale of the features or consider increasing regularisation."
)
FULL_GRAM_MAX_SINGLE = 128
# the largest epoch budget that runs plain cyclic sweeps (see solve_cd, "stepping")
STEPPED_MAX_ITER = 10
FULL_GRAM_MAX_PATH = 3000
LAZY_GRAM_MAX_SLOTS = 4096
# the kernels' empty arguments (no weights, no history), made once: they stay empty
_EMPTY = {np.dtype(t): np.empty(0, dtype=t) for t in (np.float32, np.float64)}
_NO_HISTORY = np.zeros((0, 3))


def _empty(dtype):
    """A shared empty array of dtype (the kernels' "no weights")."""
    a = _EMPTY.get(np.dtype(dtype))
    return np.empty(0, dtype=dtype) if a is None else a


@dataclass
class Solution:
    """A solution and its certificate.

    gap: duality gap, an upper bound on P(coef) - min P; tol_gap: the gap asked for
    (tol * ||y_c||_S^2 / n); n_iter: epochs (passes over the working set);
    history: rows (epoch, P, gap or NaN) recorded at each gap evaluation, if asked.
    """

    coef: np.ndarray
    gap: float
    tol_gap: float
    n_iter: int
    converged: bool
    history: np.ndarray | None = None
    info: dict = field(default_factory=dict)


def scaled_penalties(n, alpha, l1_ratio):
    """The n-scaled penalties (l1_n, l2_n) = n alpha (rho, 1 - rho), rho = l1_ratio, the
    kernels' arguments (_enet_math.pxd): the kernels minimise
    n P(w) = ||y_c - X~ w||_S^2 / 2 + l1_n ||w||_1 + l2_n / 2 ||w||^2. Capped at the
    largest float: n alpha may overflow although alpha is valid (then the L1 weight
    exceeds n alpha_max and the solution is 0 whatever it is), and an infinite penalty
    would turn the duality gap into NaN."""
    cap = np.finfo(np.float64).max
    alpha, l1_ratio = float(alpha), float(l1_ratio)  # Python floats overflow to inf
    return min(n * (alpha * l1_ratio), cap), min(n * (alpha * (1.0 - l1_ratio)), cap)


def n_threads_for(n_jobs):
    """Threads for the kernels' parallel sweeps: None -> 1, -1 -> all cores, ..."""
    if n_jobs is None:
        return 1
    if n_jobs < 0:
        return max(1, (os.cpu_count() or 1) + 1 + n_jobs)
    return max(1, int(n_jobs))


def selection_seed(selection, random_state):
    """The seed of the kernels' random feature order: drawn from random_state (one
    draw) for selection="random"; 1 for "cyclic", which draws nothing (numpy's
    global stream stays untouched, as scikit-learn's cyclic descent leaves it)."""
    if selection != "random":
        return 1
    return int(check_random_state(random_state).randint(1, 2**31 - 1))


def resolve_gram_mode(X, gram_mode, n_solves=1):
    """The Gram mode a solve on X uses: gram_mode unless "auto" (or X sparse: "off"),
    else chosen by the cost model of the module docstring for n_solves solves."""
    if gram_mode not in GRAM_MODES:
        raise ValueError(f"gram_mode must be one of {GRAM_MODES}, got {gram_mode!r}.")
    n, p = X.shape
    if sp.issparse(X):
        return "off"
    if gram_mode == "off" and not X.flags.f_contiguous:
        return "lazy"
    if gram_mode != "auto":
        return gram_mode
    limit = FULL_GRAM_MAX_SINGLE if n_solves == 1 else FULL_GRAM_MAX_PATH
    if n >= 4 * p and p <= limit:
        return "full"
    return "lazy"


def make_gram_cache(design, yc, gram_mode, gram_matrix=None, gram_xty=None):
    """A GramCache for the resolved gram_mode "full" (filled; from gram_matrix and
    gram_xty, the centred weighted X~^T S X~ and X~^T S y_c, if given) or "lazy"
    (empty), None for "off"."""
    if gram_mode == "off":
        return None
    p = design.n_features
    if gram_mode == "full":
        cache = _cd.GramCache(p, p)
        sqrt_sw = design.sqrt_sw
        yc_sw = yc if design.sw is None else (yc * design.sw).astype(design.dtype)
        _cd.gram_fill_full(
            cache,
            design.X,
            np.empty(0) if sqrt_sw is None else sqrt_sw,
            design.mu,
            design.norm2,
            np.ascontiguousarray(yc_sw),
            gram_matrix,
            gram_xty,
        )
        return cache
    return _cd.GramCache(p, LAZY_GRAM_MAX_SLOTS)


def workspace_at_zero(design, xty):
    """PathWorkspace for a solve from w = 0 whose first gradient X~^T S y_c = xty came
    with the column statistics (make_design_for_target); None without xty."""
    if xty is None:
        return None
    workspace = _cd.PathWorkspace(*design.X.shape)
    workspace.start_at_zero(xty)
    return workspace


def solve_cd(
    design,
    yc,
    alpha,
    l1_ratio=1.0,
    *,
    coef_init=None,
    tol=1e-4,
    max_iter=1000,
    positive=False,
    selection="cyclic",
    random_state=None,
    gram_mode="auto",
    gram_matrix=None,
    gram_xty=None,
    gram_cache=None,
    working_sets=True,
    screening=True,
    acceleration=True,
    n_threads=1,
    record_history=False,
    workspace=None,
    yy=None,
    warn=True,
    polish=True,
):
    """Coordinate descent (working sets, Gap Safe screening, Anderson, Gram modes),
    a converged solution finished exactly on its support where that is cheap
    (``polish``, the kernels' _polish.pxi: the same data then give the same solution,
    to rounding, in every layout, dtype path and Gram mode).

    Stepping: a budget of at most STEPPED_MAX_ITER epochs is a caller stepping the
    solver (warm starts that continue one trajectory a few epochs at a time, a
    deliberately rough fit). Then every epoch is a full cyclic (or shuffled) sweep over
    all features, without working sets, screening or extrapolation: scikit-learn's
    algorithm, whose next iterate depends on the current w alone. So k fits of m
    epochs, each warm-started from the last, return the fit of k m epochs (to
    rounding), and an unconverged w is one well-defined point, the same in every
    layout. (The working-set solver carries state between its epochs: its working
    set, its extrapolation history; with so few epochs it gains little: a dense
    restricted problem checks its gap every 10 epochs.) Such sweeps cost at most
    max_iter passes over X, about what the working-set solver's outer passes cost.

    gram_cache, if given, must have been made by make_gram_cache(design, yc, gram_mode)
    with gram_mode already resolved; it is reused (paths, CV). workspace (a
    _cd.PathWorkspace for this design and target) is passed from one alpha of a path
    to the next; yy is ||y_c||_S^2 if already known. Returns a Solution.
    """
    n, p = design.X.shape
    yy = design.weighted_sq_norm(yc) if yy is None else yy
    tol_gap = tol * yy / n
    w = np.zeros(p, dtype=design.dtype)
    if coef_init is not None:
        w[:] = coef_init
    if yy == 0.0:  # y constant on the weighted rows: w = 0 is optimal for every alpha
        return Solution(np.zeros(p, dtype=design.dtype), 0.0, 0.0, 0, True)
    if max_iter <= STEPPED_MAX_ITER:  # stepping (see above): plain sweeps
        working_sets = screening = acceleration = False
    prior_work = 0.0  # what this solve spent before the kernel: its own full Gram
    if gram_cache is None:
        gram_mode = resolve_gram_mode(design.X, gram_mode)
        gram_cache = make_gram_cache(design, yc, gram_mode, gram_matrix, gram_xty)
        if gram_mode == "full" and gram_matrix is None:
            prior_work = n * p * (p + 1) / 2
    # else the caller resolved the mode and made the cache (paths, CV)
    sqrt_sw = design.sqrt_sw
    hist = (np.zeros((max(16, 2 * max_iter + 16), 3)) if record_history
            else _NO_HISTORY)
    kernel = getattr(_cd, "enet_cd_" + design.kind)
    # BLAS on the kernel's thread budget; n * p^2 bounds its largest level-3 product
    with kernel_blas_threads(n_threads, size=n * p * p):
        out = kernel(
            *design.kernel_args(),
            yc,
            _empty(design.dtype) if design.sw is None else design.sw,
            _empty(np.float64) if sqrt_sw is None else sqrt_sw,
            design.mu,
            design.norm2,
            design.col_norms,
            w,
            *scaled_penalties(n, alpha, l1_ratio),
            tol * yy,
            max_iter,
            positive=positive,
            working_sets=working_sets,
            screening=screening,
            anderson=acceleration,
            newton=acceleration,
            gram_mode=_KERNEL_GRAM_MODE[gram_mode],
            cache=gram_cache,
            n_threads=n_threads,
            shuffle=selection == "random",
            seed=selection_seed(selection, random_state),
            hist=hist,
            workspace=workspace,
            full_gram_max=FULL_GRAM_MAX_PATH,
            yy_c=yy,
            polish=polish,
            prior_work=prior_work,
        )
    return _certified(
        w, out, hist, n, tol, tol_gap, out["epochs"], "epochs",
        "", record_history, warn, out,
    )


def _certified(w, out, hist, n, tol, tol_gap, n_iter, unit, advice, record_history,
               warn, info):
    """The Solution of a kernel run: gap and history in P units (the kernels work in
    n-scaled units), and a ConvergenceWarning naming the gap reached if it is > tol.

    The warning opens with scikit-learn's sentence (code and tests written for
    scikit-learn match it), then gives the gap, the tolerance, the iterations run and
    the solver-specific advice, if any."""
    # a gap below 0 is rounding (weak duality: P - D >= 0), as at an exact (polished) w
    gap = max(out["gap"], 0.0) / n
    converged = gap <= tol_gap
    history = None
    if record_history:
        history = hist[: out["n_hist"]].copy()
        history[:, 1:] /= n
        with np.errstate(invalid="ignore"):  # (NaN gaps stay NaN)
            history[:, 2] = np.where(history[:, 2] < 0, 0.0, history[:, 2])
    if warn and not converged:
        warnings.warn(
            f"{NOT_CONVERGED} Duality gap: {gap:.3e}, tolerance: {tol_gap:.3e} "
            f"(tol={tol:g} x ||y - mean(y)||^2 / n), after {n_iter} {unit}."
            + (" " + advice if advice else ""),
            ConvergenceWarning,
            stacklevel=4,
        )
    return Solution(w, gap, tol_gap, n_iter, converged, history, info)


PROX_SOLVERS = ("fista", "ista", "subgradient")
SOLVERS = ("cd",) + PROX_SOLVERS
STEP_SCHEDULES = ("decaying", "constant", "polyak", "polyak_diagonal")
# keyword arguments that only one family of solvers reads (``solve`` drops the others,
# so callers such as the estimators can pass one set of options whatever the solver)
_CD_ONLY = {"selection", "random_state", "gram_mode", "polish", "gram_matrix",
            "gram_xty", "gram_cache",
            "working_sets", "screening", "acceleration", "workspace"}
_PROX_ONLY = {"step_size", "step_schedule", "threshold", "lipschitz", "gap_freq"}


def lipschitz_constant(design, n_threads=1, *, rtol=1e-5, max_iter=100):
    """L = lambda_max(X~^T S X~) / n, the Lipschitz constant of the gradient of the
    least-squares part of P, by power iteration (X^T X is never formed; two passes over
    X per iteration). A lower bound on L; it stops when it changes by <= rtol, which
    can be early when the top eigenvalues are close (then it is a few percent low)."""
    design = design.by_columns
    n, p = design.X.shape
    v = np.random.default_rng(0).standard_normal(p).astype(design.dtype)
    kernel = getattr(_prox, "lipschitz_" + design.kind)
    sw = np.empty(0, dtype=design.dtype) if design.sw is None else design.sw
    lam = kernel(*design.kernel_args(), n, sw, design.mu, design.norm2, v,
                 rtol=rtol, max_iter=max_iter, n_threads=n_threads)
    return lam / n


def solve_prox(
    design,
    yc,
    alpha,
    l1_ratio=1.0,
    *,
    method="fista",
    coef_init=None,
    tol=1e-4,
    max_iter=1000,
    positive=False,
    step_size=None,
    step_schedule="polyak_diagonal",
    threshold=0.0,
    lipschitz=None,
    gap_freq=10,
    n_threads=1,
    record_history=False,
    warn=True,
):
    """Full-gradient solvers (see _prox): "fista", "ista" or "subgradient".

    An iteration is one full-gradient pass, so n_iter counts passes over X. ISTA and
    FISTA step by 1/L (L = lipschitz, in P's units, from lipschitz_constant if None;
    raised when a step violates the descent lemma, as in Beck & Teboulle's backtracking,
    the final value is in info["lipschitz"]). The
    subgradient step is Polyak's with a target level between the best dual and primal
    objectives, in a diagonal metric adapted per coordinate ("polyak_diagonal") or the
    Euclidean one ("polyak"), see _prox; or eta_0 / sqrt(k + 1) ("decaying") or eta_0
    ("constant") with eta_0 = step_size, default 1 / (L + alpha (1 - l1_ratio)) (the
    power iteration for L runs only for these two); its returned best iterate
    has |w_j| < threshold zeroed, the count is in info["n_thresholded"]. The gap is
    checked every gap_freq iterations; history rows are one per iteration (iteration,
    P, gap or NaN), plus, for the subgradient method, one for the returned iterate.
    """
    if method not in PROX_SOLVERS:
        raise ValueError(f"method must be one of {PROX_SOLVERS}, got {method!r}.")
    if step_schedule not in STEP_SCHEDULES:
        raise ValueError(
            f"step_schedule must be one of {STEP_SCHEDULES}, got {step_schedule!r}."
        )
    polyak = method == "subgradient" and step_schedule.startswith("polyak")
    design = design.by_columns
    if polyak and step_size is not None:
        raise ValueError(
            "step_size sets eta_0 of step_schedule='decaying' or 'constant'; the "
            "subgradient method's Polyak steps need none. Set step_schedule to "
            "'decaying' or 'constant', or leave step_size=None."
        )
    n, p = design.X.shape
    yy = design.weighted_sq_norm(yc)
    tol_gap = tol * yy / n
    w = np.zeros(p, dtype=design.dtype)
    if coef_init is not None:
        w[:] = coef_init
    if yy == 0.0:  # y constant on the weighted rows: w = 0 is optimal for every alpha
        return Solution(np.zeros(p, dtype=design.dtype), 0.0, 0.0, 0, True,
                        info={"n_thresholded": 0})
    if polyak:
        lipschitz = 0.0  # not used
    elif lipschitz is None:
        # a rough estimate is enough: the kernel raises L where a step needs it
        lipschitz = lipschitz_constant(design, n_threads, rtol=1e-3, max_iter=30)
    l2_p = alpha * (1.0 - l1_ratio)
    eta0 = 0.0
    if method == "subgradient":
        if step_size is not None:
            eta0 = step_size
        elif lipschitz + l2_p > 0:
            eta0 = 1.0 / (lipschitz + l2_p)
    hist = np.zeros((max_iter + 2 if record_history else 0, 3))
    kernel = getattr(_prox, "prox_" + design.kind)
    out = kernel(
        *design.kernel_args(),
        yc,
        np.empty(0, dtype=design.dtype) if design.sw is None else design.sw,
        design.mu,
        design.norm2,
        w,
        *scaled_penalties(n, alpha, l1_ratio),
        tol * yy,
        max_iter,
        method=_prox.Method[method.upper()],
        lipschitz=n * lipschitz,
        eta0=eta0 / n,
        step_rule=_prox.StepRule[step_schedule.upper()],
        threshold=threshold,
        positive=positive,
        gap_freq=gap_freq,
        n_threads=n_threads,
        hist=hist,
    )
    advice = ("The subgradient method converges slowly (O(1/sqrt(k))): prefer "
              "solver='fista' or 'cd'." if method == "subgradient" else
              "Consider solver='cd'.")
    info = dict(out, lipschitz=out["lipschitz"] / n, step_size=eta0)
    return _certified(
        w, out, hist, n, tol, tol_gap, out["n_iter"], "iterations", advice,
        record_history, warn, info,
    )


def solve(design, yc, alpha, l1_ratio=1.0, *, solver="cd", **params):
    """Dispatch to the solver named by ``solver`` (see SOLVERS); options that only the
    other family reads are dropped."""
    if solver == "cd":
        params = {k: v for k, v in params.items() if k not in _PROX_ONLY}
        return solve_cd(design, yc, alpha, l1_ratio, **params)
    if solver in PROX_SOLVERS:
        params = {k: v for k, v in params.items() if k not in _CD_ONLY}
        return solve_prox(design, yc, alpha, l1_ratio, method=solver, **params)
    raise ValueError(f"solver must be one of {SOLVERS}, got {solver!r}.")
