"""Sparse logistic regression, side by side in one run: fastlasso and its peers.

    python benchmarks/compare_logistic.py --data ../shared/data --markdown out.md
    python benchmarks/compare_logistic.py --quick --data ../shared/data   # smoke run

Problem: the L1-penalised logistic regression without intercept (every peer fits that
one; celer has no intercept), in scikit-learn's units,

    P(W) = C sum_i l(y_i, x_i^T W) + ||W||_1

(l the logistic loss, or the multinomial one with an entrywise penalty), judged for
every solver by ``objective`` below (numpy, float64). C_min is the largest C with
W = 0; single fits take C = C_min x {10, 100, 1000}; paths take 100 values of C from
C_min to 100 C_min (geometric), a path reaching a target when every point does.

For each cell, each solver climbs its own tolerance ladder (loosest first, in its own
units; see the adapters) until its result reaches relative suboptimality
(P - P*)/P* <= each target (1e-6, and 1e-3 for context), P* the best objective of any
run, tight reference fits included (fastlasso at tol 1e-13). Then the rung found for
the tightest target is timed again ``--repeats`` times, interleaved across the solvers
(A, B, C, A, B, C, ...: the machine is shared), and the best time is reported; the
ratio is fastlasso's time over the best peer's. Every run is a forked child killed
after ``--cap`` seconds (">cap"); runs are single-threaded (BLAS and OpenMP limited to
one thread before numpy is imported).

Peers (the ones installed; a peer without a model for a problem is left out):

- scikit-learn ``liblinear`` (binary only) and ``saga`` (``LogisticRegression`` with
  ``l1_ratio=1``; saga's path warm-starts, liblinear cannot); tol as their ``tol``;
- celer ``LogisticRegression`` (celer-pn; binary only; path: ``celer_path`` "logreg"
  with alpha = 1/C); its tol: duality gap <= tol n log 2;
- skglm ``SparseLogisticRegression`` (binary; its multiclass is one-vs-rest, another
  problem): alpha = 1/(C n); tol on the KKT violation; path: warm starts;
- glmnet (python-glmnet's Fortran ``lognet``/``splognet`` as ``LogitNet`` calls them,
  standardize=False, no cross-validation; binomial and the ungrouped multinomial):
  lambda = 1/(C n), tol its convergence threshold; a path is one call;
- adelie ``grpnet`` with ``glm.binomial`` (binary; its multinomial penalises each
  feature's row of W as a group, another problem): lambda = 1/(C n); a path is one
  call.

Problems (``--problems``): ``leukemia`` (72 x 7,129 dense, its ALL/AML labels),
``tall`` (simulated dense 20,000 x 500, correlated columns), ``debian2`` and
``debian6`` (the Debian descriptions' tf-idf, 63,540 x 39,938 CSC, labelled from the
corpus' ``section``: library packages (libs, libdevel) vs the rest; the five largest
sections and "other"), ``text100k`` (simulated 100,000 x 100,000 text-like CSC:
Zipf-distributed terms, ~40 per row, tf-idf weights, labels from a sparse logistic
model).
"""

import os
import sys

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
             "NUMBA_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import datetime  # noqa: E402
import json  # noqa: E402
import lzma  # noqa: E402
import math  # noqa: E402
import multiprocessing  # noqa: E402
import platform  # noqa: E402
import time  # noqa: E402
import traceback  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import scipy.sparse as sp  # noqa: E402
from scipy.special import log_expit, logsumexp  # noqa: E402

TARGETS = (1e-3, 1e-6)
MULTIPLIERS = (10.0, 100.0, 1000.0)


# ---------------------------------------------------------------------------------
# the objective and C_min


def objective(X, y, W, C):
    """P(W) of the module docstring in float64; y holds class indices 0..K-1, W is
    (1, p) for two classes (log-odds of class 1) or (K, p)."""
    W = np.asarray(W, dtype=np.float64)
    Z = np.asarray(X @ W.T, dtype=np.float64)
    if W.shape[0] == 1:
        z = Z[:, 0]
        loss = -np.where(y == 1, log_expit(z), log_expit(-z)).sum()
    else:
        loss = (logsumexp(Z, axis=1) - Z[np.arange(len(y)), y]).sum()
    return float(C * loss + np.abs(W).sum())


def c_min(X, y, K):
    """The largest C with W = 0 (no intercept): 1 / max |X^T (Y - P0)| at P0 = 1/K."""
    if K == 2:
        R = (y == 1) - 0.5
    else:
        R = np.eye(K)[y] - 1.0 / K
    G = np.asarray(X.T @ R)
    return 1.0 / float(np.abs(G).max())


# ---------------------------------------------------------------------------------
# adapters: fit(X, y, C, tol) -> W (K', p); path(X, y, Cs, tol) -> (n_Cs, K', p)


class Solver:
    name = ""
    module = ""
    binary_only = True
    ladder = tuple(10.0**-k for k in range(2, 13))

    def available(self):
        import importlib.util

        return importlib.util.find_spec(self.module) is not None

    def supports(self, K):
        return K == 2 or not self.binary_only

    def path(self, X, y, Cs, tol):  # default: warm-started loop, or cold fits
        return np.array([self.fit(X, y, C, tol) for C in Cs])


class FastLasso(Solver):
    name, module, binary_only = "fastlasso", "fastlasso", False
    ladder = tuple(10.0**-k for k in range(2, 14))

    def fit(self, X, y, C, tol):
        import fastlasso

        m = fastlasso.LogisticRegression(C=C, l1_ratio=1.0, fit_intercept=False,
                                         tol=tol, max_iter=10**5)
        return m.fit(X, y).coef_

    def path(self, X, y, Cs, tol):
        import fastlasso

        _, coefs, _, _ = fastlasso.logistic_path(X, y, Cs=Cs, l1_ratio=1.0,
                                                 fit_intercept=False, tol=tol,
                                                 max_iter=10**5)
        return coefs


class SklearnSaga(Solver):
    name, module, binary_only = "sklearn-saga", "sklearn", False

    def _model(self, C, tol, warm=False):
        from sklearn.linear_model import LogisticRegression

        return LogisticRegression(C=C, l1_ratio=1.0, solver="saga", tol=tol,
                                  fit_intercept=False, max_iter=10**7,
                                  warm_start=warm)

    def fit(self, X, y, C, tol):
        return self._model(C, tol).fit(X, y).coef_

    def path(self, X, y, Cs, tol):
        m, out = self._model(Cs[0], tol, warm=True), []
        for C in Cs:
            out.append(m.set_params(C=C).fit(X, y).coef_.copy())
        return np.array(out)


class SklearnLiblinear(Solver):
    name, module = "sklearn-liblinear", "sklearn"

    def fit(self, X, y, C, tol):
        from sklearn.linear_model import LogisticRegression

        m = LogisticRegression(C=C, l1_ratio=1.0, solver="liblinear", tol=tol,
                               fit_intercept=False, max_iter=10**7)
        return m.fit(X, y).coef_


class Celer(Solver):
    name, module = "celer", "celer"

    def fit(self, X, y, C, tol):
        import celer

        m = celer.LogisticRegression(C=C, tol=tol, max_iter=10**4, max_epochs=10**7)
        return m.fit(X, y).coef_

    def path(self, X, y, Cs, tol):
        from celer import celer_path

        _, coefs, _ = celer_path(X, 2.0 * y - 1, "logreg", alphas=1.0 / np.asarray(Cs),
                                 tol=tol, max_iter=10**4, max_epochs=10**7)
        return coefs.T[:, None, :]


class Skglm(Solver):
    name, module = "skglm", "skglm"

    def _model(self, X, C, tol, warm=False):
        from skglm import SparseLogisticRegression

        return SparseLogisticRegression(alpha=1.0 / (C * X.shape[0]), tol=tol,
                                        fit_intercept=False, max_iter=10**4,
                                        max_epochs=10**6, warm_start=warm)

    def fit(self, X, y, C, tol):
        return self._model(X, C, tol).fit(X, y).coef_

    def path(self, X, y, Cs, tol):
        m, out = self._model(X, Cs[0], tol, warm=True), []
        for C in Cs:
            m.alpha = 1.0 / (C * X.shape[0])
            out.append(m.fit(X, y).coef_.copy())
        return np.array(out)


class Glmnet(Solver):
    """python-glmnet's lognet / splognet (module docstring)."""

    name, module, binary_only = "glmnet", "glmnet", False
    ladder = tuple(10.0**-k for k in range(3, 15))

    def _run(self, X, y, Cs, tol):
        from glmnet._glmnet import lognet, lsolns, splognet
        from glmnet.errors import _check_error_flag

        n, p = X.shape
        K = int(y.max()) + 1
        classes = np.arange(K)
        lam = np.sort(1.0 / (np.asarray(Cs, dtype=np.float64) * n))[::-1]
        if K == 2:  # as LogitNet: two columns, glmnet told there is one class
            _y = (y[:, None] != classes).astype(np.float64, order="F")
            nc = 1
        else:
            _y = (y[:, None] == classes).astype(np.float64, order="F")
            nc = K
        offset = np.zeros((n, max(nc, 2)), dtype=np.float64, order="F")
        vp = np.ones(p, dtype=np.float64, order="F")
        cl = np.empty((2, p), dtype=np.float64, order="F")
        cl[0], cl[1] = -np.inf, np.inf
        args = (p + 1, 1.0, lam, tol)  # flmin = 1: the lambdas given are used
        if sp.issparse(X):
            x = sp.csc_matrix(X, dtype=np.float64, copy=True)
            out = splognet(1.0, n, p, nc, x.data, x.indptr + 1, x.indices + 1, _y,
                           offset, 0, vp, cl, p, *args, lam.size, False, False,
                           10**7, 0)
        else:
            x = X.astype(np.float64, order="F", copy=True)
            out = lognet(1.0, nc, x, _y, offset, 0, vp, cl, p + 1, 1.0, lam, tol, p,
                         lam.size, False, False, 10**7, 0)
        lmu, _a0, ca, ia, nin = out[0], out[1], out[2], out[3], out[4]
        jerr = out[-1]
        _check_error_flag(jerr)
        if lmu != lam.size:
            raise RuntimeError(f"glmnet returned {lmu} of {lam.size} path points")
        coefs = lsolns(p, ca[:, :, :lmu], ia, nin[:lmu])  # (p, nc, n_lambda)
        coefs = np.transpose(coefs, (2, 1, 0))  # (n_lambda, nc, p), C increasing
        return coefs

    def fit(self, X, y, C, tol):
        return self._run(X, y, [C], tol)[0]

    def path(self, X, y, Cs, tol):
        return self._run(X, y, Cs, tol)


class Adelie(Solver):
    name, module = "adelie", "adelie"
    ladder = tuple(10.0**-k for k in range(2, 15))

    def path(self, X, y, Cs, tol):
        import adelie as ad

        n = X.shape[0]
        lam = np.sort(1.0 / (np.asarray(Cs, dtype=np.float64) * n))[::-1]
        Xa = ad.matrix.sparse(sp.csc_matrix(X)) if sp.issparse(X) else X
        state = ad.grpnet(Xa, ad.glm.binomial(np.asarray(y, dtype=np.float64)),
                          lmda_path=lam, intercept=False, early_exit=False,
                          progress_bar=False, max_iters=10**9, n_threads=1, tol=tol)
        if len(state.lmdas) != lam.size:
            raise RuntimeError("adelie returned a shorter path")
        return state.betas.toarray()[:, None, :]

    def fit(self, X, y, C, tol):
        return self.path(X, y, [C], tol)[0]


SOLVERS = (FastLasso, SklearnLiblinear, SklearnSaga, Celer, Skglm, Glmnet, Adelie)


# ---------------------------------------------------------------------------------
# problems


def load_leukemia(data):
    z = np.load(Path(data) / "leukemia.npz", allow_pickle=False)
    return z["X"], (z["y"] > 0).astype(np.int64)


def load_debian(data, K):
    z = np.load(Path(data) / "debian_desc.npz", allow_pickle=False)
    X = sp.csc_matrix((z["X_data"], z["X_indices"], z["X_indptr"]),
                      shape=tuple(z["X_shape"]))
    with lzma.open(Path(data) / "debian_bookworm_pkgdesc.jsonl.xz", "rt",
                   encoding="utf-8") as f:
        sections = [json.loads(line)["section"] for line in f]
    sections = np.array(sections)
    if K == 2:
        y = np.isin(sections, ["libs", "libdevel"]).astype(np.int64)
    else:
        top = ["libs", "libdevel", "python", "doc", "perl"]
        y = np.full(len(sections), len(top), dtype=np.int64)
        for k, s in enumerate(top):
            y[sections == s] = k
    return X, y


def make_tall(n=20_000, p=500, rho=0.5, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    for j in range(1, p):  # AR(1) columns: corr(x_j, x_k) = rho^|j-k|
        X[:, j] = rho * X[:, j - 1] + math.sqrt(1 - rho * rho) * X[:, j]
    w = np.zeros(p)
    idx = rng.choice(p, 20, replace=False)
    w[idx] = rng.uniform(0.5, 1.5, 20) * rng.choice([-1, 1], 20)
    y = (rng.uniform(size=n) < 1 / (1 + np.exp(-X @ w))).astype(np.int64)
    return X, y


def make_text(n=100_000, p=100_000, per_row=40, seed=0):
    """Zipf term frequencies, log-tf x idf weights, rows of unit norm; labels from a
    sparse logistic model on mid-frequency terms."""
    rng = np.random.default_rng(seed)
    prob = 1.0 / (np.arange(p) + 10.0) ** 1.1
    prob /= prob.sum()
    lengths = rng.poisson(per_row, n) + 1
    cols = rng.choice(p, lengths.sum(), p=prob)
    rows = np.repeat(np.arange(n), lengths)
    X = sp.csr_matrix((np.ones(cols.size), (rows, cols)), shape=(n, p))
    X.sum_duplicates()
    X.data = 1.0 + np.log(X.data)
    df = np.bincount(X.indices, minlength=p)
    X.data *= np.log((1 + n) / (1 + df[X.indices])) + 1.0
    norms = np.sqrt(np.asarray(X.multiply(X).sum(axis=1)).ravel())
    X = sp.diags(1.0 / np.maximum(norms, 1e-12)) @ X
    w = np.zeros(p)
    active = rng.choice(np.arange(100, 5000), 200, replace=False)
    w[active] = rng.standard_normal(200) * 6.0
    z = X @ w
    y = (rng.uniform(size=n) < 1 / (1 + np.exp(-(z - np.median(z))))).astype(np.int64)
    return sp.csc_matrix(X), y


def load_problem(name, data):
    if name == "leukemia":
        return load_leukemia(data)
    if name == "tall":
        return make_tall()
    if name == "debian2":
        return load_debian(data, 2)
    if name == "debian6":
        return load_debian(data, 6)
    if name == "text100k":
        return make_text()
    raise ValueError(name)


# ---------------------------------------------------------------------------------
# running: forked children with a cap


def _child(conn, solver, X, y, arg, tol, is_path, budget):
    """Fit once and send (seconds, coefficients); a fit shorter than budget / 10 is
    run again until the budget is spent and the fastest run counts (on a shared
    machine a single short run mostly measures the scheduler)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            best, spent = math.inf, 0.0
            while True:
                t0 = time.perf_counter()
                out = (solver.path(X, y, arg, tol) if is_path
                       else solver.fit(X, y, arg, tol))
                elapsed = time.perf_counter() - t0
                best, spent = min(best, elapsed), spent + elapsed
                if budget <= 0 or elapsed > budget / 10 or spent > budget:
                    break
        conn.send(("ok", best, np.asarray(out, dtype=np.float64)))
    except BaseException:  # reported, never fatal to the benchmark
        conn.send(("error", traceback.format_exc(limit=3), None))
    conn.close()


def run(solver, X, y, arg, tol, is_path, cap, budget=0.0):
    """(seconds or None, coefficients or None, note); budget: see _child."""
    ctx = multiprocessing.get_context("fork")
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child,
                       args=(child, solver, X, y, arg, tol, is_path, budget))
    proc.start()
    child.close()
    if parent.poll(cap + 1.0):
        status, value, coefs = parent.recv()
        proc.join()
        if status == "ok":
            return value, coefs, ""
        return None, None, "error: " + value.strip().splitlines()[-1]
    proc.kill()
    proc.join()
    return None, None, f">{cap:g}s"


def subopt(X, y, coefs, Cs, f_star):
    """Largest relative suboptimality over the points (one point for a single fit)."""
    coefs = coefs if coefs.ndim == 3 else coefs[None]
    return max((objective(X, y, W, C) - f) / f
               for W, C, f in zip(coefs, Cs, f_star, strict=True))


def warmup(solvers, X, y, K, log):
    """A small fit of each solver in this process before any timed child is forked:
    imports its modules and compiles JIT kernels (skglm) for the problem's layout, so
    that the children time the fits alone."""
    m, q = min(X.shape[0], 60), min(X.shape[1], 120)
    Xs = X[:m, :q]
    Xs = sp.csc_matrix(Xs) if sp.issparse(Xs) else np.ascontiguousarray(Xs)
    ys = np.asarray(y[:m])
    if len(np.unique(ys)) < K:  # every class in the slice
        rows = np.concatenate([np.flatnonzero(y == k)[:m // K + 1] for k in range(K)])
        Xs, ys = (X[rows][:, :q], y[rows])
        Xs = sp.csc_matrix(Xs) if sp.issparse(Xs) else np.ascontiguousarray(Xs)
    C = 10 * c_min(Xs, ys, K)
    for s in solvers:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                s.fit(Xs, ys, C, 1e-4)
                s.path(Xs, ys, [C, 2 * C], 1e-4)
        except Exception as e:  # noqa: BLE001 (reported, the timed runs will show it)
            log(f"    warm-up of {s.name} failed: {e!r}")


def cell(X, y, K, Cs, is_path, solvers, args, log):
    """Times (per solver, per target) of one cell; the best time over repeats."""
    arg = Cs if is_path else Cs[0]
    # reference: the best objective per point
    ref_t, ref, note = run(FastLasso(), X, y, arg, 1e-13, is_path, 10 * args.cap)
    if ref is None:
        log(f"    reference failed: {note}")
        return None
    ref = ref if ref.ndim == 3 else ref[None]
    f_star = [objective(X, y, W, C) for W, C in zip(ref, Cs, strict=True)]
    found = {}
    for s in solvers:
        found[s.name] = {}
        for tol in s.ladder:
            t, coefs, note = run(s, X, y, arg, tol, is_path, args.cap)
            if coefs is None:
                found[s.name]["note"] = note
                break
            if not np.isfinite(coefs).all():
                found[s.name]["note"] = "non-finite"
                break
            gap = subopt(X, y, coefs, Cs, f_star)
            c = coefs if coefs.ndim == 3 else coefs[None]
            f_star = [min(f, objective(X, y, W, C))
                      for f, W, C in zip(f_star, c, Cs, strict=True)]
            for target in TARGETS:
                if gap <= target and target not in found[s.name]:
                    found[s.name][target] = (tol, t)
            if gap <= TARGETS[-1]:
                break
        else:
            found[s.name].setdefault("note", "ladder exhausted")
    # interleaved repeats at the rung of the tightest target
    best = {s.name: dict(found[s.name]) for s in solvers}
    for _ in range(args.repeats):
        for s in solvers:
            hit = found[s.name].get(TARGETS[-1])
            if hit is None:
                continue
            t, _, _ = run(s, X, y, arg, hit[0], is_path, args.cap, budget=1.0)
            if t is not None:
                prev = best[s.name][TARGETS[-1]][1]
                best[s.name][TARGETS[-1]] = (hit[0], min(t, prev))
    return best


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default="../shared/data")
    ap.add_argument("--problems", default="leukemia,tall,debian2,debian6,text100k")
    ap.add_argument("--solvers", default=",".join(s.name for s in SOLVERS))
    ap.add_argument("--sections", default="single,path")
    ap.add_argument("--cap", type=float, default=300.0)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--multipliers", default=",".join(str(m) for m in MULTIPLIERS))
    ap.add_argument("--n-cs", type=int, default=100)
    ap.add_argument("--quick", action="store_true",
                    help="small problems and caps (CI smoke run)")
    ap.add_argument("--markdown", default=None)
    args = ap.parse_args(argv)
    if args.quick:
        args.problems, args.cap, args.repeats, args.n_cs = "leukemia", 30.0, 1, 10
    wanted = args.solvers.split(",")
    solvers = [cls() for cls in SOLVERS if cls.name in wanted]
    solvers = [s for s in solvers if s.available()]
    lines = []

    def log(msg):
        print(msg, flush=True)

    stamp = datetime.datetime.now().strftime("%Y-%m-%d %H:%M")
    log(f"# compare_logistic {stamp} {platform.machine()} python "
        f"{platform.python_version()}; solvers: {', '.join(s.name for s in solvers)}")
    rows = []
    for pname in args.problems.split(","):
        X, y = load_problem(pname, args.data)
        K = int(y.max()) + 1
        cmin = c_min(X, y, K)
        active = [s for s in solvers if s.supports(K)]
        warmup(active, X, y, K, log)
        log(f"## {pname}: {X.shape[0]} x {X.shape[1]}, "
            f"{'sparse' if sp.issparse(X) else 'dense'}, K={K}, C_min={cmin:.4g}")
        cells = []
        if "single" in args.sections:
            for m in (float(v) for v in args.multipliers.split(",")):
                cells.append((f"C={m:g} C_min", [cmin * m], False))
        if "path" in args.sections:
            cells.append((f"path {args.n_cs} C", list(np.geomspace(cmin, 100 * cmin,
                                                                   args.n_cs)), True))
        for label, Cs, is_path in cells:
            best = cell(X, y, K, Cs, is_path, active, args, log)
            if best is None:
                continue
            row = {"problem": pname, "cell": label, "times": {}}
            for s in active:
                b = best[s.name]
                row["times"][s.name] = (b[TARGETS[-1]][1] if TARGETS[-1] in b
                                        else b.get("note", "n/a"))
            rows.append(row)
            log("  " + label + ": " + ", ".join(
                f"{k}={v:.4g}s" if isinstance(v, float) else f"{k}={v}"
                for k, v in row["times"].items()))
    # table and ratios
    names = [s.name for s in solvers]
    head = "| problem | cell | " + " | ".join(names) + " | fastlasso / best peer |"
    lines += [head, "|" + "---|" * (len(names) + 3)]
    ratios = []
    for row in rows:
        t = row["times"]
        ours = t.get("fastlasso")
        peers = [v for k, v in t.items() if k != "fastlasso" and isinstance(v, float)]
        ratio = ""
        if isinstance(ours, float) and peers:
            r = ours / min(peers)
            ratios.append(r)
            ratio = f"{r:.3f}"
        elif isinstance(ours, float):
            ratio = "no peer reached"
        cells_txt = [f"{t[n]:.3g}" if isinstance(t.get(n), float) else str(t.get(n, ""))
                     for n in names]
        lines.append(f"| {row['problem']} | {row['cell']} | " + " | ".join(cells_txt)
                     + f" | {ratio} |")
    if ratios:
        gm = math.exp(sum(math.log(r) for r in ratios) / len(ratios))
        lines.append("")
        lines.append(f"geometric mean of fastlasso / best peer over {len(ratios)} "
                     f"cells: {gm:.3f}; largest: {max(ratios):.3f}")
    table = "\n".join(lines)
    log(table)
    if args.markdown:
        Path(args.markdown).write_text(table + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
