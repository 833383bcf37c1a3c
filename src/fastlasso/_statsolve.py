"""Certified Elastic Net solves from sufficient statistics and passes over the data.

The client side of distributed fits (fastlasso.dask), independent of the scheduler: the
data are reached only through a ``passes`` object whose method
``run(resid=None, gram=None)`` makes one pass over the rows and returns the summed
``fastlasso._chunkstats.chunk_pass`` results (residual products at coefficient columns,
with a cross-validation fold's rows zero-weighted per column; Gram blocks of new
working-set features per fold of rows).

Solves are generators of requests (``Residuals``: the gradient and gap at a point;
``GramFetch``: Gram blocks of new features) and ``run_rounds`` drives several of them
in lockstep, answering each round's requests with ONE pass: the K folds of
cross-validation (and their l1_ratios) share every pass, so passes grow with the
working-set iterations of the slowest fold, not with K.

Units. As in memory, weights are rescaled to sum to n (factor n / S for the raw sums)
and the kernels minimise F(w) = n P(w) = 1/2 ||y_c - X~ w||_S^2 + l1_n ||w||_1
+ l2_n/2 ||w||^2 with (l1_n, l2_n) = n alpha (rho, 1 - rho) (_solve.scaled_penalties);
tol_abs = tol ||y_c||_S^2 in these units. The duality gap from a pass is the kernels'
(see _enet_math.pxd): r, R2 = ||r||_S^2, Ry = r^T S y_c, XtA = X~^T S r - l2_n w,
scale = min(1, l1_n / ||XtA||_inf),
gap = F(w) + scale^2/2 (R2 + l2_n ||w||^2) - scale Ry.

Solves. Coordinate descent runs in the kernels' full-Gram mode on a quadratic model of
the data-fit term: for features W (all features in regime A, a working set in regime B)
with Gram block G = X~_W^T S X~_W and the exact gradient g = X~_W^T S r and R2 at the
current w (from a pass), the model
    1/2 (yy' - 2 v^T b + v^T G v),  b = g + G w,  yy' = R2 + 2 w^T g + w^T G w
equals 1/2 ||y_c - X~ v||_S^2 and its gradient at v = w, and has curvature G. From the
statistics of the first pass, g = X~^T S y_c and R2 = ||y_c||^2 at w = 0, so the first
model is the plain Gram problem; later models are anchored at data gradients, so a Gram
matrix rounded by its conditioning (the Gram squares the condition number) costs
iterations, never the answer (iterative refinement). Every solve ends with a pass that
evaluates the gap on the data: the certificate.

The kernels read X only through its shape in full-Gram mode (the cache holds G and b);
they are given an X placeholder of min(rows of positive weight, |W|) rows, so that
their working-set cap (at most that many rows) acts as in memory. The placeholder is
NaN-filled: were a kernel ever to read it, the result would be NaN, and rejected.
"""

import sys
import warnings
from dataclasses import dataclass

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from fastlasso import _cd
from fastlasso._blas_threads import kernel_blas_threads
from fastlasso._cancel import map_threads
from fastlasso._chunkstats import dense_blocks
from fastlasso._data import check_scale, intercept_of
from fastlasso._solve import NOT_CONVERGED, scaled_penalties, selection_seed

GAP_ROUNDING = 1e-13  # as the kernels: no restricted solve below this x ||y_c||^2
MAX_OUTER = 100  # working-set iterations (each a pass or two) of one solve
STALL_OUTER = 3  # iterations without a smaller gap before giving up
WS_GROW_MIN = 64  # features a working set takes in at least (regime B)
WS_MAX = 8192  # largest working set, so its Gram block fits (8192^2 doubles: 512 MiB)
WS_TAKE_ALL = 4096  # violators that all enter a working set at once (working_set)
# client memory for the Gram blocks a GramStore keeps (all its views): past it, the
# features least recently used by a solve are dropped before new ones come in
STORE_BYTES = 1 << 30


@dataclass
class StatsProblem:
    """An Elastic Net problem given by its statistics (units: weights summing to n).

    G (p, p) = X~^T S X~ (None in regime B), xty = X~^T S y_c, yy = ||y_c||_S^2,
    norm2 = diag(G) with exact zeros for features constant on the weighted rows, mu the
    weighted column means and y_mean the weighted mean of y (zeros without intercept),
    n rows, n_rows of them with positive weight, S the raw weight sum; held_out the
    segment (cross-validation fold) of rows that carry zero weight in this problem, -1
    if none.
    """

    n: int
    n_rows: int
    S: float
    G: np.ndarray | None
    xty: np.ndarray
    yy: float
    norm2: np.ndarray
    mu: np.ndarray
    y_mean: float
    dtype: np.dtype
    fit_intercept: bool
    held_out: int = -1

    @property
    def n_features(self):
        return self.xty.shape[0]

    @property
    def scale(self):
        """n / S: from raw weighted sums to the units of the problem."""
        return self.n / self.S


def problem_from_moments(m, fit_intercept, dtype, n=None, check=True):
    """The StatsProblem of Moments m (fastlasso._chunkstats); n overrides the row count
    (cross-validation folds keep the n of all rows, as in memory). With check, data
    the in-memory solver rejects (scale, weights) raise its errors."""
    n = m.n if n is None else n
    if not (m.S > 0 and np.isfinite(m.S)):
        raise ValueError(f"sample_weight must have a positive finite sum, got {m.S}.")
    scale = n / m.S
    const_x = m.xmin == m.xmax
    const_y = m.ymin == m.ymax
    with np.errstate(over="ignore", invalid="ignore"):
        if fit_intercept:
            mu, y_mean = m.xbar.copy(), m.ybar
            norm2 = scale * m.xm2
            xty = scale * m.cxy
            yy = scale * m.cyy
            G = None if m.C is None else scale * m.C
            dead = const_x
        else:
            mu, y_mean = np.zeros_like(m.xbar), 0.0
            norm2 = scale * (m.xm2 + m.S * m.xbar * m.xbar)
            xty = scale * (m.cxy + m.S * m.xbar * m.ybar)
            yy = scale * (m.cyy + m.S * m.ybar * m.ybar)
            G = None if m.C is None else scale * (m.C + m.S * np.outer(m.xbar, m.xbar))
            dead = const_x & (m.xmin == 0)
    norm2 = np.where(dead, 0.0, np.maximum(norm2, 0.0))
    if fit_intercept and const_y:  # y constant on the weighted rows: y_c = 0 exactly
        xty = np.zeros_like(xty)
        yy = 0.0
    xty = np.where(dead, 0.0, xty)
    if G is not None:
        G[dead, :] = 0.0
        G[:, dead] = 0.0
    if check:
        check_scale(norm2, dtype, "X")
        check_scale(np.array([yy]), dtype, "y")
    return StatsProblem(n, m.n_pos, m.S, G, xty, float(yy), norm2, mu, float(y_mean),
                        np.dtype(dtype), fit_intercept)


def alpha_max(problem, l1_ratio=1.0, positive=False):
    """Smallest alpha with w = 0 optimal, max_j |x~_j^T S y_c| / (n l1_ratio), 0 when
    that is rounding noise next to max_j ||x~_j|| ||y_c|| (as fastlasso._path)."""
    if l1_ratio == 0:
        raise ValueError(
            "Automatic alpha grid generation is not supported for l1_ratio=0: pass "
            "an explicit grid with alphas=[...].")
    xty = problem.xty
    top = max(float(np.max(xty) if positive else np.max(np.abs(xty))), 0.0)
    bound = np.sqrt(float(np.max(problem.norm2, initial=0.0))) * np.sqrt(problem.yy)
    if top <= np.finfo(np.float64).resolution * bound:
        return 0.0
    return top / (problem.n * l1_ratio)


# --------------------------------------------------------------------------------------
# passes: what a solve asks of the data


@dataclass
class PassState:
    """What a pass gives at w (units of the problem): g = X~^T S r, R2, Ry, and the raw
    weighted squared error sum s r^2 over the problem's held-out rows (0 if none)."""

    w: np.ndarray
    g: np.ndarray
    R2: float
    Ry: float
    held_sse: float = 0.0


@dataclass
class Residuals:
    """A request: the PassStates of ``problem`` at the columns of W (p, c)."""

    problem: StatsProblem
    W: np.ndarray


@dataclass
class GramFetch:
    """A request: the Gram blocks of features ``feats`` for every view of ``store``."""

    store: "GramStore"
    feats: np.ndarray


def serve(requests, passes):
    """Answer a round of requests (Residuals, GramFetch) with one pass over the data:
    every Residuals column (of any problem) and the union of the features to fetch go
    into the same pass. Returns the answers in order: a list of PassStates for a
    Residuals, None for a GramFetch (its store is updated). Fetches for a second store
    (not made by the drivers here) take a pass of their own."""
    resid = [r for r in requests if isinstance(r, Residuals)]
    fetches = [f for f in requests if isinstance(f, GramFetch)]
    stores = []
    for f in fetches:
        if not any(f.store is st for st in stores):
            stores.append(f.store)
    spec = None
    if resid:
        W = np.hstack([np.asarray(r.W, dtype=np.float64).reshape(r.W.shape[0], -1)
                       for r in resid])
        b, ybars, held = [], [], []
        for r in resid:
            Wr = np.asarray(r.W, dtype=np.float64).reshape(r.W.shape[0], -1)
            pr = r.problem
            b.append(np.atleast_1d(intercept_of(pr.y_mean, pr.mu, Wr)))
            ybars += [pr.y_mean] * Wr.shape[1]
            held += [pr.held_out] * Wr.shape[1]
        spec = (W, np.concatenate(b), np.array(ybars), np.array(held))
    out_r = None
    for i, store in enumerate(stores or [None]):
        gram = None
        if store is not None:
            asked = np.unique(np.concatenate(
                [f.feats for f in fetches if f.store is store]))
            new = asked[store.slot[asked] < 0]
            store.make_room(asked, new.size)
            if new.size:
                gram = (new, np.concatenate([store.feats, new]), store.shift)
        if gram is None and (i > 0 or spec is None):
            continue
        r, g = passes.run(resid=spec if i == 0 else None, gram=gram)
        if i == 0:
            out_r = r
        if gram is not None:
            store.add(gram[0], dense_blocks(g))
    answers, col = [], 0
    for req in requests:
        if isinstance(req, GramFetch):
            answers.append(None)
            continue
        c = np.asarray(req.W).reshape(req.W.shape[0], -1).shape[1]
        answers.append(_states(req.problem, req.W, out_r, slice(col, col + c)))
        col += c
    return answers


def _states(problem, W, raw, cols):
    """PassStates of problem at the columns of W from the summed chunk_pass results
    raw (the columns ``cols`` of them), in the problem's units."""
    G, sr, rr, ry, hs = (a[..., cols] for a in raw)
    W = np.asarray(W).reshape(W.shape[0], -1)
    c = problem.scale
    states = []
    for k in range(W.shape[1]):
        g = c * (G[:, k] - problem.mu * sr[k])
        g[problem.norm2 == 0] = 0.0
        states.append(PassState(W[:, k], g, c * float(rr[k]), c * float(ry[k]),
                                float(hs[k])))
    return states


def residual_states(problem, passes, W):
    """PassStates at the columns of W (p, k): one pass over the data."""
    W = np.atleast_2d(np.asarray(W, dtype=problem.dtype).T).T
    return serve([Residuals(problem, W)], passes)[0]


def run_rounds(steps, passes, n_jobs=1):
    """Drive generators of requests (``certify_steps``, ``path_steps``) in lockstep:
    each round collects the pending request of every unfinished generator and answers
    them all with one pass (``serve``). Returns the generators' return values. With K
    folds of cross-validation as generators, the passes are those of the slowest fold,
    not K times as many. n_jobs > 1 advances the generators of a round in threads
    (their client solves release the GIL; between passes they only read the stores)."""
    results = [None] * len(steps)
    pending = {}

    def advance(item):
        # the return value only, not the StopIteration: its traceback holds this
        # frame, whose caller holds the list of outcomes holding the exception, a
        # cycle that would keep the passes (the data a fit persisted on the workers)
        # alive after the fit, until the garbage collector runs
        i, value = item
        try:
            return i, False, steps[i].send(value)
        except StopIteration as stop:
            return i, True, stop.value

    def step_all(items):
        if n_jobs > 1 and len(items) > 1:
            out = map_threads(advance, items, min(n_jobs, len(items)))
        else:
            out = [advance(item) for item in items]
        for i, done, value in out:
            if done:
                results[i] = value
            else:
                pending[i] = value

    step_all([(i, None) for i in range(len(steps))])
    while pending:
        order = sorted(pending)
        answers = serve([pending.pop(i) for i in order], passes)
        step_all(list(zip(order, answers, strict=True)))
    return results


def gap_of(problem, state, alpha, l1_ratio, positive):
    """(gap, primal) of state.w in the kernels' n-scaled units (module docstring)."""
    l1_n, l2_n = scaled_penalties(problem.n, alpha, l1_ratio)
    w = state.w
    alive = problem.norm2 > 0
    w_l1 = float(np.abs(w).sum())
    w_l2sq = float(w @ w)
    primal = 0.5 * state.R2 + l1_n * w_l1 + 0.5 * l2_n * w_l2sq
    xta = (state.g - l2_n * w)[alive]
    if l1_n > 0:
        if xta.size == 0:
            dnorm = 0.0
        else:
            dnorm = float(np.max(xta)) if positive else float(np.max(np.abs(xta)))
        scale = l1_n / dnorm if dnorm > l1_n else 1.0
        gap = (primal + 0.5 * scale * scale * (state.R2 + l2_n * w_l2sq)
               - scale * state.Ry)
    elif l2_n > 0:
        gsq = float(state.g[alive] @ state.g[alive])
        gap = state.R2 + 0.5 * l2_n * w_l2sq - state.Ry + gsq / (2.0 * l2_n)
    else:
        gap = float(state.g[alive] @ state.g[alive])
    return max(gap, 0.0), primal


# --------------------------------------------------------------------------------------
# kernel solves on a Gram model


class GramModelSolver:
    """Full-Gram coordinate descent (fastlasso._cd) on a model given by G, b, yy' for a
    set of features; keeps the kernel's cache and gradient bounds across the solves of
    a path (one model, several alphas), as fastlasso._path does.

    working_sets: the kernel's own working sets (inner Gram blocks of the features
    likely to be active). Off for the restricted problems of regime B, whose features
    are already a working set (support, violators, margin): there the kernel's inner
    set is nearly all of them and re-packing its Gram block every outer iteration
    (|W|^2 floats) costs more than the sweeps it saves (working set of 4,624 features,
    support 3,975: 8.6 s with them, 1.7 s without)."""

    def __init__(self, G, b, yy, norm2, n_rows, dtype, working_sets=True):
        m = b.shape[0]
        self.working_sets = bool(working_sets)
        self.dtype = np.dtype(dtype)
        self.m = m
        self.norm2 = np.ascontiguousarray(norm2, dtype=np.float64)
        self.xnorm = np.sqrt(self.norm2)
        self.yy = float(yy)
        rows = max(1, min(int(n_rows), m))
        self.X = np.full((rows, max(m, 1)), np.nan, dtype=self.dtype, order="F")
        self.mu = np.zeros(max(m, 1), dtype=self.dtype)
        self.cache = None
        if m:
            self.cache = _cd.GramCache(m, m)
            _cd.gram_fill_full(
                self.cache, self.X, np.empty(0), self.mu, self.norm2,
                np.empty(0, dtype=self.dtype),
                np.ascontiguousarray(G, dtype=np.float64),
                np.ascontiguousarray(b, dtype=np.float64),
            )
        self.workspace = _cd.PathWorkspace(rows, max(m, 1))

    def solve(self, w0, l1_n, l2_n, tol_abs, max_iter, positive, selection,
              random_state):
        """(w, kernel output) from warm start w0 (length m), in the kernels' units."""
        w = np.zeros(self.m, dtype=self.dtype)
        if w0 is not None:
            w[:] = w0
        if self.m == 0 or self.yy == 0.0:
            return np.zeros(self.m, dtype=self.dtype), dict(gap=0.0, epochs=0)
        with kernel_blas_threads(1, size=self.m ** 3):
            out = _cd.enet_cd_dense(
                self.X, np.zeros(1, dtype=self.dtype), np.empty(0, dtype=self.dtype),
                np.empty(0), self.mu, self.norm2, self.xnorm, w, l1_n, l2_n, tol_abs,
                max_iter, positive=positive, working_sets=self.working_sets,
                screening=True,
                anderson=True, newton=True, gram_mode=_cd.GramMode.GRAM_FULL,
                cache=self.cache, n_threads=1, shuffle=selection == "random",
                seed=selection_seed(selection, random_state), hist=None,
                workspace=self.workspace,
                full_gram_max=0, yy_c=self.yy,
            )
        if not np.isfinite(w).all():
            raise ValueError(
                "Coordinate descent produced non-finite coefficients: the data are too "
                "large in magnitude for this dtype; rescale X and y.")
        return w, out


def anchored_model(G, state, feats):
    """(b, yy') of the quadratic model anchored at state (module docstring), restricted
    to feats (state.w must vanish outside feats)."""
    wW = state.w[feats].astype(np.float64)
    gW = state.g[feats]
    Gw = G @ wW
    return gW + Gw, state.R2 + 2.0 * float(wW @ gW) + float(wW @ Gw)


# --------------------------------------------------------------------------------------
# Gram blocks of a growing working set (regime B), or the whole Gram (regime A)


class FullGram:
    """The whole Gram matrix of a problem (regime A): nothing to fetch."""

    full = True

    def __init__(self, problem):
        self.G = problem.G

    def missing(self, feats):
        return np.zeros(0, dtype=np.intp)

    def sub(self, view, feats):
        return self.G[np.ix_(feats, feats)]


class GramStore:
    """Client-side X~_F^T S X~_F of the features F fetched so far, for one or several
    problems on the same rows (views: a fit, or the folds of cross-validation and the
    refit). A pass computes, per segment j of rows (a fold), the sums
    A_j = sum s (x - m)(x - m)^T of the new features against F and them, about one
    shift m (the weighted mean of all rows, or 0 without intercept); a view v whose
    training rows T_v are segments, with weighted mean mu_v and weight sum S_v, takes
        X~^T S X~ = n/S_v (sum_(j in T_v) A_j - S_v d d^T),  d = mu_v - m,
    (the centred sums of its rows, without cancellation against large means: d is
    the small difference of two means). Memory: |F|^2 per view, bounded: F keeps at
    most ``cap`` features (STORE_BYTES over the views), or the features of one
    round's requests if they are more; before new features come in, those least
    recently read by a solve (``sub``) and not requested in the round are dropped
    (``make_room``; a solve that needs one again fetches it again, a pass). Along a
    path the working sets move with alpha, and without the bound F would collect
    every feature any of them ever held."""

    full = False

    def __init__(self, problems, train, shift):
        p = problems[0].n_features
        self.problems, self.train = list(problems), [list(t) for t in train]
        self.shift = np.asarray(shift, dtype=np.float64)
        self.slot = np.full(p, -1, dtype=np.intp)
        self.feats = np.zeros(0, dtype=np.intp)
        self.G = [np.zeros((0, 0)) for _ in self.problems]
        self.cap = max(WS_GROW_MIN,
                       int(np.sqrt(STORE_BYTES / (8.0 * len(self.problems)))))
        self.last_used = np.zeros(p, dtype=np.int64)  # round of the last read
        self.round = 0

    def missing(self, feats):
        feats = np.asarray(feats, dtype=np.intp)
        return feats[self.slot[feats] < 0]

    def make_room(self, keep, n_new):
        """Before n_new features come in: drop the least recently read features not
        in ``keep`` (the round's requests) while F + n_new exceeds ``cap``."""
        self.round += 1
        excess = self.feats.size + n_new - self.cap
        if excess <= 0:
            return
        keep_mask = np.zeros(self.slot.size, dtype=bool)
        keep_mask[np.asarray(keep, dtype=np.intp)] = True
        cand = self.feats[~keep_mask[self.feats]]
        if cand.size == 0:
            return
        drop = cand[np.argsort(self.last_used[cand], kind="stable")[:excess]]
        stay = np.ones(self.feats.size, dtype=bool)
        stay[self.slot[drop]] = False
        for v in range(len(self.G)):
            self.G[v] = self.G[v][np.ix_(stay, stay)]
        self.slot[drop] = -1
        self.feats = self.feats[stay]
        self.slot[self.feats] = np.arange(self.feats.size)

    def add(self, new, blocks):
        """Insert the fetched blocks {segment: A_j (|new|, |F| + |new|)}."""
        allf = np.concatenate([self.feats, new])
        m_old, m = self.feats.size, allf.size
        for v, (pr, segs) in enumerate(zip(self.problems, self.train, strict=True)):
            block = np.zeros((new.size, m))
            for j in segs:
                if j in blocks:
                    block += blocks[j]
            if pr.fit_intercept:
                d = pr.mu - self.shift
                block -= pr.S * np.outer(d[new], d[allf])
            block *= pr.scale
            G = np.empty((m, m))
            G[:m_old, :m_old] = self.G[v]
            G[m_old:, :] = block
            G[:m_old, m_old:] = block[:, :m_old].T
            nn = G[m_old:, m_old:]  # symmetrised (rounding of the two triangles)
            G[m_old:, m_old:] = 0.5 * (nn + nn.T)
            self.G[v] = G
        self.feats = allf
        self.slot[new] = np.arange(m_old, m)
        self.last_used[new] = self.round

    def sub(self, view, feats):
        s = self.slot[feats]
        self.last_used[feats] = self.round
        return self.G[view][np.ix_(s, s)]


# --------------------------------------------------------------------------------------
# the outer loop: restricted Gram solves certified by passes over the data


@dataclass
class Fit:
    """A certified solution: coef (problem dtype), gap and tol_gap in P units (divided
    by n), epochs of client solves, converged flag, last PassState (exact at coef, or
    None if the gap came from the Gram model only)."""

    coef: np.ndarray
    gap: float
    tol_gap: float
    n_iter: int
    converged: bool
    state: PassState | None = None


def working_set(problem, state, l1_n, l2_n, positive, ws_prev):
    """(core, margin): the support of state.w plus its violators of the optimality
    conditions at 0 (the most violating first, at most max(WS_GROW_MIN, 2 |support|,
    |ws_prev|) of them; all of them while there are at most WS_TAKE_ALL), and the
    nearest non-violators (a tenth of that, at least 16), each sorted.

    Every violator there is room for enters at once when they are few (WS_TAKE_ALL):
    in memory a working-set iteration costs a pass over the working set's columns, so
    the set doubles; here it costs one or two passes over all the data, against a
    client solve that is cheap on a few thousand features."""
    w = state.w
    alive = problem.norm2 > 0
    supp = np.flatnonzero((w != 0) & alive)
    cand = np.flatnonzero((w == 0) & alive)
    xta = state.g[cand] - l2_n * w[cand]
    excess = l1_n - (xta if positive else np.abs(xta))
    score = excess / np.sqrt(problem.norm2[cand] + l2_n)
    order = np.argsort(score, kind="stable")
    n_viol = int(np.count_nonzero(score < 0))
    grow = max(WS_GROW_MIN, 2 * supp.size, ws_prev)
    if n_viol <= WS_TAKE_ALL:
        grow = max(grow, n_viol)
    room = min(max(0, WS_MAX - supp.size), cand.size)
    n_core = min(n_viol, grow, room)
    n_margin = min(max(16, grow // 10), room - n_core)
    core = np.sort(np.concatenate([supp, cand[order[:n_core]]]))
    return core, np.sort(cand[order[n_core:n_core + n_margin]])


def certify_steps(problem, store, view, alpha, l1_ratio, state, *, tol=1e-4,
                   max_iter=1000, positive=False, selection="cyclic",
                   random_state=None, full_first=None):
    """Minimise P from state (exact at state.w, from a pass or the statistics) until the
    gap from a pass is <= tol_gap: a generator of requests (Residuals, GramFetch) that
    returns the Fit (run it with ``run_rounds``). store: FullGram (regime A) or a
    GramStore whose view ``view`` is this problem's. If full_first is a
    GramModelSolver (regime A), its solve comes first and is then certified by one
    pass. Each outer iteration solves on the working set's Gram model and asks for the
    gradient and gap at the new point (a pass), after fetching the Gram blocks of
    features new to the store (a pass, shared with the other problems of the round)."""
    n = problem.n
    l1_n, l2_n = scaled_penalties(n, alpha, l1_ratio)
    tol_abs = tol * problem.yy
    tol_gap = tol_abs / n
    epochs = 0
    if problem.yy == 0.0:
        return Fit(np.zeros(problem.n_features, dtype=problem.dtype), 0.0, 0.0, 0,
                   True, None)
    if full_first is not None:
        w, out = full_first.solve(state.w, l1_n, l2_n, tol_abs, max_iter, positive,
                                  selection, random_state)
        epochs += out["epochs"]
        state = (yield Residuals(problem, w[:, None]))[0]
    best, stall, ws_prev = np.inf, 0, 0
    for _ in range(MAX_OUTER):
        gap, _ = gap_of(problem, state, alpha, l1_ratio, positive)
        if gap <= tol_abs or epochs >= max_iter:
            break
        if gap < 0.9 * best:
            best, stall = gap, 0
        else:
            stall += 1
            if stall >= STALL_OUTER:
                break
        if store.full:
            feats = np.flatnonzero(problem.norm2 > 0)
        else:
            core, margin = working_set(problem, state, l1_n, l2_n, positive, ws_prev)
            if store.missing(core).size:  # the margin comes along in the same pass
                feats = np.union1d(core, margin)
                yield GramFetch(store, feats)
            else:  # no pass only for margin features: those fetched already
                feats = np.union1d(core, margin[store.slot[margin] >= 0])
            ws_prev = feats.size
        G = store.sub(view, feats)
        b, yy_model = anchored_model(G, state, feats)
        solver = GramModelSolver(G, b, yy_model, problem.norm2[feats], problem.n_rows,
                                 problem.dtype, working_sets=store.full)
        tol_in = max(0.3 * tol_abs, GAP_ROUNDING * problem.yy)
        wW, out = solver.solve(state.w[feats], l1_n, l2_n, tol_in, max_iter - epochs,
                               positive, selection, random_state)
        epochs += out["epochs"]
        w = np.zeros(problem.n_features, dtype=problem.dtype)
        w[feats] = wW
        state = (yield Residuals(problem, w[:, None]))[0]
    else:
        gap, _ = gap_of(problem, state, alpha, l1_ratio, positive)
    coef = np.asarray(state.w, dtype=problem.dtype)
    return Fit(coef, gap / n, tol_gap, epochs, gap <= tol_abs, state)


def solve_certified(problem, passes, store, alpha, l1_ratio, state, *, view=0,
                    warn=True, **params):
    """certify_steps run alone (one problem); warns (ConvergenceWarning) if the gap
    from the data misses the tolerance. Returns the Fit."""
    fit = run_rounds([certify_steps(problem, store, view, alpha, l1_ratio, state,
                                    **params)], passes)[0]
    if warn and not fit.converged:
        warn_gap(fit.gap, fit.tol_gap, params.get("tol", 1e-4), fit.n_iter)
    return fit


@dataclass
class PathFit:
    """A warm-started path of certified fits: coefs (p, k) in the problem dtype, gaps
    (k,) in P units from the data, epochs per alpha, converged flags, and the held-out
    squared errors sum s r^2 over the problem's held-out rows (cross-validation)."""

    coefs: np.ndarray
    gaps: np.ndarray
    n_iters: list
    converged: np.ndarray
    held_sse: np.ndarray


def path_steps(problem, store, view, grid, l1_ratio, state, params):
    """certify_steps for each alpha of grid (decreasing), each starting from the last
    one's solution and exact gradient (no pass): a generator returning a PathFit."""
    p, k = problem.n_features, len(grid)
    coefs = np.zeros((p, k), dtype=problem.dtype)
    gaps, sse = np.zeros(k), np.zeros(k)
    conv = np.ones(k, dtype=bool)
    n_iters = []
    for i, alpha in enumerate(grid):
        fit = yield from certify_steps(problem, store, view, alpha, l1_ratio, state,
                                       **params)
        coefs[:, i] = fit.coef
        gaps[i], conv[i] = fit.gap, fit.converged
        n_iters.append(fit.n_iter)
        if fit.state is not None:
            state = fit.state
        sse[i] = state.held_sse
    return PathFit(coefs, gaps, n_iters, conv, sse)


def user_stacklevel():
    """The stacklevel of a warning issued by the caller of this function that points at
    the first frame outside fastlasso and scikit-learn's wrappers (its fit context
    and parameter validation): the user's call."""
    frame, level = sys._getframe(1), 1
    while frame is not None:
        name = frame.f_globals.get("__name__", "")
        if not (name == "fastlasso" or name.startswith("fastlasso.")
                or name in ("sklearn.base", "sklearn.utils._param_validation")):
            return level
        frame, level = frame.f_back, level + 1
    return level


def warn_gap(gap, tol_gap, tol, epochs, what=""):
    """ConvergenceWarning of a distributed fit, at the user's call."""
    warnings.warn(
        f"{NOT_CONVERGED} Duality gap{what}: {gap:.3e} (from a pass over the data), "
        f"tolerance: {tol_gap:.3e} (tol={tol:g} x ||y - mean(y)||^2 / n), after "
        f"{epochs} epochs.",
        ConvergenceWarning,
        stacklevel=user_stacklevel(),
    )


def gram_path(problem, alphas, l1_ratio, coef_init=None, *, tol=1e-4, max_iter=1000,
              positive=False, selection="cyclic", random_state=None, solver=None):
    """Warm-started full-Gram solves over alphas (decreasing) on the statistics alone
    (regime A): coefs (p, k) in the problem's dtype, Gram-model gaps (k,) in P units,
    epochs per alpha. solver: a GramModelSolver of the problem to reuse."""
    if solver is None:
        solver = GramModelSolver(problem.G, problem.xty, problem.yy, problem.norm2,
                                 problem.n_rows, problem.dtype)
    p = problem.n_features
    coefs = np.zeros((p, len(alphas)), dtype=problem.dtype)
    gaps = np.zeros(len(alphas))
    n_iters = []
    w = None if coef_init is None else np.asarray(coef_init, dtype=problem.dtype)
    tol_abs = tol * problem.yy
    for i, alpha in enumerate(alphas):
        l1_n, l2_n = scaled_penalties(problem.n, alpha, l1_ratio)
        w, out = solver.solve(w, l1_n, l2_n, tol_abs, max_iter, positive, selection,
                              random_state)
        coefs[:, i] = w
        gaps[i] = out["gap"] / problem.n
        n_iters.append(int(out["epochs"]))
    return coefs, gaps, n_iters


def held_out_mse(block, train, coefs):
    """Weighted mean squared error on the rows of Moments ``block`` of the models
    (coefs (p, k), intercepts from the training problem's means), from the block's
    centred moments: with delta = ybar_B - b - xbar_B^T w,
    SSE = c_yy - 2 w^T c_xy + w^T C w + S_B delta^2."""
    W = np.asarray(coefs, dtype=np.float64)
    b = intercept_of(train.y_mean, train.mu, W)
    delta = block.ybar - b - block.xbar @ W
    quad = np.einsum("ja,ja->a", W, block.C @ W)
    sse = block.cyy - 2.0 * (block.cxy @ W) + quad + block.S * delta * delta
    return np.maximum(sse, 0.0) / block.S
