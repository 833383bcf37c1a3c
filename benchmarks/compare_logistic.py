"""Sparse logistic regression, side by side in one run: fastlasso and its peers.

    python benchmarks/compare_logistic.py --quick --data /work/shared/data   # smoke run
    python benchmarks/compare_logistic.py --data DIR --clock cpu --markdown out.md

Problem: the L1-penalised logistic regression without intercept (every peer fits that
one; celer has no intercept), in scikit-learn's units,

    P(W) = C sum_i l(y_i, x_i^T W) + ||W||_1

(l the logistic loss, or the multinomial one with an entrywise penalty), judged for
every solver by ``objective`` below (numpy, float64). C_min is the largest C with
W = 0. Sections (``--sections``):

- ``single``: C = C_min x {10, 100, 1000} (``--multipliers``), one fit each;
- ``path``: 100 values of C from C_min to 100 C_min (geometric, ``--n-cs``), a path
  reaching a target when every point does.

The measurement is compare_peers.py's, through its own code (``Bench``: forked
children killed at a cap, the tolerance ladders, ``--race``, ``--clock cpu``, the
tables and the summary): each solver climbs its tolerance ladder (the same rungs
1e-2 ... 1e-14 for every solver, in its own units, loosest first, and looser rungs
still while the loosest reaches the loosest target) until a run reaches relative
suboptimality (P - P*)/P* <= the tightest target (``--targets``, 1e-3 and 1e-6), P*
the best objective of any run, the reference fits included (fastlasso and celer at
``--ref-tol``). The first rung reaching a target gives that target's time, the best of
``--repeats`` runs. Runs are single-threaded (BLAS and OpenMP limited to one thread
before numpy is imported).

Peers (the ones installed; a peer without a model for a problem is left out):

- scikit-learn ``liblinear`` (binary only; a path is cold fits, it cannot warm-start)
  and ``saga`` (``LogisticRegression`` with ``l1_ratio=1``; its path warm-starts);
  tol as their ``tol``;
- celer ``LogisticRegression`` (celer-pn; binary only; path: ``celer_path`` "logreg"
  with alpha = 1/C); its tol: duality gap <= tol n log 2;
- skglm ``SparseLogisticRegression`` (binary; its multiclass is one-vs-rest, another
  problem): alpha = 1/(C n); tol on the KKT violation in units of alpha, so its
  ladder is scaled by alpha_max = 1/(C_min n); path: warm starts;
- glmnet (python-glmnet's Fortran ``lognet``/``splognet`` as ``LogitNet`` calls them,
  standardize=False, no cross-validation; binomial and the ungrouped multinomial):
  lambda = 1/(C n), tol its convergence threshold; a path is one call;
- adelie ``grpnet`` with ``glm.binomial`` (binary; its multinomial penalises each
  feature's row of W as a group, another problem): lambda = 1/(C n); a path is one
  call.

Dense X is passed C-ordered, as numpy makes it (a solver's conversion is part of its
time, as in compare_peers.py); sparse X as CSC.

Problems (``--problems``; ``--quick`` takes small versions of each): ``leukemia`` (72 x
7,129 dense, its ALL/AML labels), ``tall`` (simulated dense 20,000 x 500, AR(1)
correlated columns), ``debian2`` and ``debian6`` (the Debian descriptions' tf-idf,
63,540 x 39,938 CSC, labelled from the corpus' ``section``: library packages (libs,
libdevel) vs the rest; the five largest sections and "other"), ``text100k``
(simulated 100,000 x 100,000 text-like CSC: Zipf-distributed terms, ~40 per row,
tf-idf weights, labels from a sparse logistic model).
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
# compare_peers fixes the thread counts (one) before numpy is first imported
import compare_peers as cp  # noqa: E402

# isort: split

import argparse  # noqa: E402
import importlib.metadata  # noqa: E402
import importlib.util  # noqa: E402
import json  # noqa: E402
import lzma  # noqa: E402
import math  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from dataclasses import dataclass  # noqa: E402

import numpy as np  # noqa: E402
import scipy.sparse as sp  # noqa: E402
from scipy.special import log_expit, logsumexp  # noqa: E402

MULTIPLIERS = (10.0, 100.0, 1000.0)
PATH_SPAN = 100.0  # a path runs from C_min to PATH_SPAN C_min
LADDER = tuple(10.0**-k for k in range(2, 15))  # every solver's rungs, own units


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
    dist = ""
    binary_only = True
    has_path = True

    def available(self):
        return importlib.util.find_spec(self.module) is not None

    def version(self):
        return importlib.metadata.version(self.dist)

    def supports(self, K):
        return K == 2 or not self.binary_only

    def ladder(self, prob):
        """Tolerances to try, loosest first, in the solver's own units."""
        return LADDER

    def path(self, X, y, Cs, tol):  # default: cold fits
        return np.array([self.fit(X, y, C, tol) for C in Cs])


class FastLasso(Solver):
    name = module = dist = "fastlasso"
    binary_only = False

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
    name, module, dist, binary_only = "sklearn-saga", "sklearn", "scikit-learn", False

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
    name, module, dist = "sklearn-liblinear", "sklearn", "scikit-learn"

    def fit(self, X, y, C, tol):
        from sklearn.linear_model import LogisticRegression

        m = LogisticRegression(C=C, l1_ratio=1.0, solver="liblinear", tol=tol,
                               fit_intercept=False, max_iter=10**7)
        return m.fit(X, y).coef_


class Celer(Solver):
    name = module = dist = "celer"

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
    name = module = dist = "skglm"

    def ladder(self, prob):
        # its KKT violation is in units of alpha = 1 / (C n): scaled by alpha_max
        return tuple(t / (prob.cmin * prob.X.shape[0]) for t in LADDER)

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

    name, module, dist, binary_only = "glmnet", "glmnet", "python-glmnet", False

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
    name = module = dist = "adelie"

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


@dataclass
class Problem:
    name: str
    X: object
    y: np.ndarray

    def __post_init__(self):
        self.K = int(self.y.max()) + 1
        self.cmin = c_min(self.X, self.y, self.K)

    def describe(self):
        X = self.X
        kind = (f"CSC, nnz {X.nnz:,}" if sp.issparse(X)
                else f"dense {'C' if X.flags.c_contiguous else 'F'}-ordered")
        shares = np.bincount(self.y, minlength=self.K) / len(self.y)
        return (f"{self.name}: {X.shape[0]:,} x {X.shape[1]:,} {kind}, K={self.K} "
                f"(class shares {', '.join(f'{v:.2f}' for v in shares)}), "
                f"C_min={self.cmin:.4g}")


def load_leukemia(data):
    z = np.load(Path(data) / "leukemia.npz", allow_pickle=False)
    return z["X"], (z["y"] > 0).astype(np.int64)


def load_debian(data, K, rows=None):
    z = np.load(Path(data) / "debian_desc.npz", allow_pickle=False)
    X = sp.csc_matrix((z["X_data"], z["X_indices"], z["X_indptr"]),
                      shape=tuple(z["X_shape"]))
    with lzma.open(Path(data) / "debian_bookworm_pkgdesc.jsonl.xz", "rt",
                   encoding="utf-8") as f:
        sections = np.array([json.loads(line)["section"] for line in f])
    if K == 2:
        y = np.isin(sections, ["libs", "libdevel"]).astype(np.int64)
    else:
        top = ["libs", "libdevel", "python", "doc", "perl"]
        y = np.full(len(sections), len(top), dtype=np.int64)
        for k, s in enumerate(top):
            y[sections == s] = k
    if rows is not None:  # a random subset of rows, the columns they use
        keep = np.sort(np.random.default_rng(0).choice(X.shape[0], rows, replace=False))
        X = X[keep]
        X = sp.csc_matrix(X[:, np.flatnonzero(X.getnnz(axis=0))])
        y = y[keep]
    return X, y


def make_tall(n=20_000, p=500, rho=0.5, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    for j in range(1, p):  # AR(1) columns: corr(x_j, x_k) = rho^|j-k|
        X[:, j] = rho * X[:, j - 1] + math.sqrt(1 - rho * rho) * X[:, j]
    w = np.zeros(p)
    idx = rng.choice(p, min(20, p), replace=False)
    w[idx] = rng.uniform(0.5, 1.5, idx.size) * rng.choice([-1, 1], idx.size)
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
    lo, hi = min(100, p // 20), min(5000, p // 2)
    active = rng.choice(np.arange(lo, hi), min(200, hi - lo), replace=False)
    w[active] = rng.standard_normal(active.size) * 6.0
    z = X @ w
    y = (rng.uniform(size=n) < 1 / (1 + np.exp(-(z - np.median(z))))).astype(np.int64)
    X = sp.csc_matrix(X)
    return X[:, np.flatnonzero(X.getnnz(axis=0))], y


PROBLEMS = {  # name -> (full, quick)
    "leukemia": (load_leukemia, load_leukemia),
    "tall": (lambda d: make_tall(), lambda d: make_tall(2_000, 100)),
    "debian2": (lambda d: load_debian(d, 2), lambda d: load_debian(d, 2, 3_000)),
    "debian6": (lambda d: load_debian(d, 6), lambda d: load_debian(d, 6, 3_000)),
    "text100k": (lambda d: make_text(), lambda d: make_text(3_000, 3_000)),
}


def load_problem(name, data, quick=False):
    X, y = PROBLEMS[name][quick](data)
    return Problem(name, X, y)


# ---------------------------------------------------------------------------------
# the cells, measured by compare_peers.Bench


def warmup(solvers, prob, log):
    """A small fit of each solver in this process before any timed child is forked:
    imports its modules and compiles JIT kernels (skglm) for the problem's layout, so
    that the children time the fits alone."""
    X, y, K = prob.X, prob.y, prob.K
    rows = np.concatenate([np.flatnonzero(y == k)[:30] for k in range(K)])
    Xs = X[rows][:, :120]
    Xs = sp.csc_matrix(Xs) if sp.issparse(Xs) else np.ascontiguousarray(Xs)
    ys = y[rows]
    C = 10 * c_min(Xs, ys, K) if np.abs(Xs).sum() > 0 else 1.0
    for s in solvers:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                s.fit(Xs, ys, C, 1e-4)
                s.path(Xs, ys, [C, 2 * C], 1e-4)
        except Exception as e:  # noqa: BLE001 (reported; the timed runs will show it)
            log(f"    warm-up of {s.name} failed: {e!r}")


def measure(bench, prob, solvers, label, frac, Cs, is_path):
    """One cell: every solver's ladder on the fit at Cs[0] or the path Cs."""
    X, y = prob.X, prob.y

    def fn_of(s):
        if is_path:
            return lambda tol: s.path(X, y, Cs, tol)
        return lambda tol: s.fit(X, y, Cs[0], tol)

    def evaluate(out):
        coefs = np.asarray(out, dtype=np.float64)
        coefs = coefs if is_path else coefs[None]
        P = np.array([objective(X, y, W, C) for W, C in zip(coefs, Cs, strict=True)])
        return (P if is_path else float(P[0])), int(np.count_nonzero(coefs[-1]))

    cap = bench.args.path_cap if is_path else bench.args.cap
    refs, P_ref = bench.references(solvers, fn_of, evaluate, cap, label + " ref")
    entries = bench.race(solvers, lambda s: s.ladder(prob), fn_of, evaluate, P_ref,
                         cap, label)
    return cp.finish_cell(bench, prob.name, frac, entries, refs)


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true",
                    help="small versions of the problems, short caps (smoke run)")
    ap.add_argument("--data", default="/work/shared/data",
                    help="directory holding leukemia.npz and the Debian files")
    ap.add_argument("--problems", default=",".join(PROBLEMS))
    ap.add_argument("--solvers", default=",".join(s.name for s in SOLVERS),
                    help="comma-separated solver names (fastlasso is kept)")
    ap.add_argument("--sections", default="single,path")
    ap.add_argument("--multipliers", default=",".join(f"{m:g}" for m in MULTIPLIERS),
                    type=lambda v: [float(m) for m in v.split(",")],
                    help="C / C_min of the single fits")
    ap.add_argument("--n-cs", type=int, default=100, help="points of a path")
    ap.add_argument("--targets", default="1e-3,1e-6",
                    type=lambda v: [float(t) for t in v.split(",")])
    cp.add_bench_args(ap, ref_tol=1e-12, cap=120.0, path_cap=300.0)
    args = cp.parse_bench_args(ap, argv, (2.0, 3.0, 0.2))
    if args.quick:
        args.n_cs = min(args.n_cs, 10)
    if args.threads != 1:
        ap.error("the peers run single-threaded here: --threads 1 only")
    return args


def main(argv=None):
    args = parse_args(argv)
    wanted = {"fastlasso", *args.solvers.split(",")}
    solvers = [cls() for cls in SOLVERS if cls.name in wanted]
    solvers = [s for s in solvers if s.available()]
    bench, t_start = cp.Bench(args), time.monotonic()
    out = [cp.header(args, solvers)]
    print(out[0], flush=True)
    single, paths, described = [], [], []
    for pname in args.problems.split(","):
        prob = load_problem(pname, args.data, args.quick)
        described.append(prob.describe())
        bench.log(described[-1])
        active = [s for s in solvers if s.supports(prob.K)]
        warmup(active, prob, bench.log)
        if "single" in args.sections:
            for m in args.multipliers:
                single.append(measure(bench, prob, active, f"{pname} C={m:g}C_min", m,
                                      [m * prob.cmin], False))
        if "path" in args.sections:
            Cs = list(prob.cmin * np.geomspace(1.0, PATH_SPAN, args.n_cs))
            paths.append(measure(bench, prob, [s for s in active if s.has_path],
                                 f"{pname} path", PATH_SPAN, Cs, True))
        del prob
    names = [s.name for s in solvers]
    out.append("problems:\n" + "\n".join(f"- {d}" for d in described))
    for target in bench.targets if single else ():
        out.append(cp.section(
            f"Single fits: seconds to relative suboptimality {target:g} (tolerance "
            "used)", single, names, target, args.ref_tol, column="C/C_min"))
    for target in bench.targets if paths else ():
        out.append(cp.section(
            f"Paths ({args.n_cs} values of C from C_min to {PATH_SPAN:g} C_min, no "
            f"intercept): seconds until every point reaches {target:g}", paths, names,
            target, args.ref_tol, column="C_max/C_min"))
    out.append(f"total benchmark time: {time.monotonic() - t_start:.0f} s")
    print("\n\n" + "\n\n".join(out[1:]), flush=True)
    if args.markdown:
        Path(args.markdown).write_text("\n\n".join(out) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
