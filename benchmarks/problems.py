"""Benchmark problems: synthetic generators and real data sets loaded from a path.

Every problem is a Lasso instance (X, y, fit_intercept) with the objective

    P(w, b) = 1/(2 n) ||y - X w - b||^2 + alpha ||w||_1        (b = 0 without intercept)

evaluated here, in numpy, identically for every solver. Dense X is float64 in Fortran
order and sparse X is CSC float64 with int32 indices: the layouts every solver reads
without conversion.

Synthetic designs:

- ``wide``: p >> n, Gaussian rows with Toeplitz correlation corr(x_i, x_j) = rho^|i-j|
  (an AR(1) recursion over the columns), rho = 0.95;
- ``tall``: n >> p, the same construction with rho = 0.5;
- ``text``: a tf-idf-like sparse matrix: document lengths ~ 1 + Poisson(m), tokens drawn
  from a Zipf-Mandelbrot law over the vocabulary (power-law column frequencies), entries
  (1 + log count) * idf, rows scaled to unit norm, empty columns dropped.

- ``small_sq`` (500 x 600), ``small_tall`` (10,000 x 100), ``small_wide`` (100 x
  10,000): the simulated problems of the public Lasso benchmark (benchopt), AR(1)
  correlation rho = 0.6, 10% of the features active; the same sizes in quick runs.

y = X w0 + noise (signal-to-noise ratio 3 in standard deviations) with a sparse w0; the
text problem adds an offset of 5 so that the intercept matters. Each of wide, tall and
text gives two problems: with intercept (y as generated) and without (y centred); the
small designs give the problem with intercept (scikit-learn's default).

Every dense problem with intercept also comes as ``<name>[C]``: the same X in C order
(numpy's default), given to every solver as it is, so that the conversion a solver
makes is part of its time.
"""

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from fastlasso import _bench_peers as peers

# the simulated problems of benchopt's Lasso benchmark: (n, p), same in quick runs
SMALL = {
    "small_sq": {"n": 500, "p": 600},
    "small_tall": {"n": 10_000, "p": 100},
    "small_wide": {"n": 100, "p": 10_000},
}
SMALL_RHO, SMALL_ACTIVE = 0.6, 0.1
SIZES = {
    "quick": {
        "wide": {"n": 100, "p": 1_000},
        "tall": {"n": 5_000, "p": 100},
        "text": {"n": 2_000, "p": 3_000, "mean_len": 30},
        **{k: v for k, v in SMALL.items()},
    },
    "full": {
        "wide": {"n": 500, "p": 10_000},
        "tall": {"n": 100_000, "p": 400},
        "text": {"n": 100_000, "p": 100_000, "mean_len": 80},
        **{k: v for k, v in SMALL.items()},
    },
}
REAL_SETS = ("leukemia", "riboflavin", "debian_desc")
QUICK_ROWS = 1_000


@dataclass
class Problem:
    """One Lasso instance; ``name`` identifies it in the tables."""

    name: str
    X: object
    y: np.ndarray
    fit_intercept: bool

    @property
    def shape(self):
        return self.X.shape

    @property
    def sparse(self):
        return sp.issparse(self.X)

    def describe(self):
        n, p = self.shape
        if self.sparse:
            kind = f"sparse, nnz {self.X.nnz:,}"
        else:
            c_order = self.X.flags.c_contiguous and p > 1
            kind = "dense, " + ("C" if c_order else "Fortran")
            kind += " order"
        icpt = "intercept" if self.fit_intercept else "no intercept"
        return f"{self.name}: {n:,} x {p:,} ({kind}; {icpt})"


def alpha_max(X, y, fit_intercept):
    """max_j |x~_j^T (y - ybar)| / n: the smallest alpha giving w = 0 (the harness's
    ``fastlasso._bench_peers.alpha_max``)."""
    return peers.alpha_max(X, y, fit_intercept)


def objective(X, y, alpha, coef, intercept):
    """P(w, b) = ||y - X w - b||^2 / (2 n) + alpha ||w||_1, in float64 (the harness's
    ``fastlasso._bench_peers.objective``, the same code for every solver)."""
    return peers.objective(X, y, coef, intercept, alpha)


def toeplitz_gaussian(n, p, rho, rng):
    """n x p Gaussian matrix (Fortran order) with corr(x_i, x_j) = rho^|i-j|."""
    X = np.asfortranarray(rng.standard_normal((n, p)))
    s = np.sqrt(1.0 - rho**2)
    for j in range(1, p):
        X[:, j] *= s
        X[:, j] += rho * X[:, j - 1]
    return X


def tfidf_like(n, p, mean_len, rng, zipf_a=1.1, zipf_shift=10.0):
    """Sparse n x p' (p' <= p, empty columns dropped) tf-idf-like CSC matrix.

    Token j has probability proportional to (rank_j + shift)^(-a) with ranks a random
    permutation of the columns; entries are (1 + log count) * (1 + log((1+n)/(1+df))),
    each row then scaled to unit Euclidean norm.
    """
    lengths = 1 + rng.poisson(mean_len, size=n)
    rank = rng.permutation(p)
    prob = (rank + zipf_shift) ** (-zipf_a)
    cdf = np.cumsum(prob / prob.sum())
    tokens = np.minimum(np.searchsorted(cdf, rng.random(lengths.sum())), p - 1)
    rows = np.repeat(np.arange(n, dtype=np.int32), lengths)
    counts = sp.csr_matrix(
        (np.ones(tokens.size), (rows, tokens.astype(np.int32))), shape=(n, p)
    )
    counts.sum_duplicates()
    df = np.bincount(counts.indices, minlength=p)
    idf = 1.0 + np.log((1.0 + n) / (1.0 + df))
    counts.data = (1.0 + np.log(counts.data)) * idf[counts.indices]
    row_norm = np.sqrt(np.asarray(counts.multiply(counts).sum(axis=1)).ravel())
    X = sp.diags(1.0 / np.maximum(row_norm, 1e-300)) @ counts
    X = sp.csc_matrix(X)[:, df > 0]
    return _canonical_csc(X)


def _canonical_csc(X):
    X = sp.csc_matrix(X, dtype=np.float64)
    X.sum_duplicates()
    X.eliminate_zeros()
    X.sort_indices()
    return sp.csc_matrix(
        (X.data, X.indices.astype(np.int32), X.indptr.astype(np.int32)), shape=X.shape
    )


def _response(X, rng, n_nonzero, offset):
    """y = X w0 + noise + offset: w0 has n_nonzero random +-U(0.5, 1.5) weights, scaled
    so that X w0 has unit standard deviation; the noise has standard deviation 1/3."""
    p = X.shape[1]
    w0 = np.zeros(p)
    support = rng.choice(p, size=min(n_nonzero, p), replace=False)
    w0[support] = rng.choice([-1.0, 1.0], support.size) * rng.uniform(
        0.5, 1.5, support.size
    )
    signal = X @ w0
    signal /= signal.std()
    return signal + rng.standard_normal(X.shape[0]) / 3.0 + offset


def synthetic(kind, size="quick", seed=0):
    """(X, y) of the synthetic design ``kind`` in {"wide", "tall", "text"}."""
    rng = np.random.default_rng(seed)
    dims = SIZES[size][kind]
    if kind == "wide":
        X = toeplitz_gaussian(dims["n"], dims["p"], 0.95, rng)
        return X, _response(X, rng, max(5, dims["p"] // 100), 0.0)
    if kind == "tall":
        X = toeplitz_gaussian(dims["n"], dims["p"], 0.5, rng)
        return X, _response(X, rng, dims["p"] // 10, 0.0)
    if kind == "text":
        X = tfidf_like(dims["n"], dims["p"], dims["mean_len"], rng)
        return X, _response(X, rng, max(20, X.shape[1] // 200), 5.0)
    if kind in SMALL:
        X = toeplitz_gaussian(dims["n"], dims["p"], SMALL_RHO, rng)
        return X, _response(X, rng, max(1, round(SMALL_ACTIVE * dims["p"])), 0.0)
    raise ValueError(f"unknown synthetic design {kind!r}")


def c_ordered(problem):
    """The same problem with X in C order, named ``<name>[C]``."""
    return Problem(f"{problem.name}[C]", np.ascontiguousarray(problem.X), problem.y,
                   problem.fit_intercept)


def with_c_variants(probs, intercept_only=True):
    """probs, each dense one (with intercept, if ``intercept_only``) followed by its
    C-ordered variant."""
    out = []
    for p in probs:
        out.append(p)
        if not p.sparse and (p.fit_intercept or not intercept_only):
            out.append(c_ordered(p))
    return out


def synthetic_problems(kind, size="quick", seed=0):
    """The problems of one design: with intercept, and without (y centred) for the
    large designs; the small ones with intercept only."""
    X, y = synthetic(kind, size, seed)
    if kind in SMALL:
        return [Problem(kind, X, y, True)]
    return [
        Problem(f"{kind}", X, y, True),
        Problem(f"{kind}-noint", X, y - y.mean(), False),
    ]


def load_npz(path):
    """(X, y) from a data-set file of ../shared/data (dense or CSC layout)."""
    with np.load(path, allow_pickle=False) as z:
        if "X_data" in z:
            X = sp.csc_matrix(
                (z["X_data"], z["X_indices"], z["X_indptr"]), shape=tuple(z["X_shape"])
            )
            X = _canonical_csc(X)
        else:
            X = np.asfortranarray(z["X"], dtype=np.float64)
        return X, np.asarray(z["y"], dtype=np.float64)


def real_problem(data_dir, name, size="full"):
    """The real data set ``name`` (file ``<data_dir>/<name>.npz``), with intercept.

    With size "quick", a set with more than QUICK_ROWS rows keeps only its first
    QUICK_ROWS rows (and the columns not empty on them).
    """
    X, y = load_npz(Path(data_dir) / f"{name}.npz")
    if size == "quick" and X.shape[0] > QUICK_ROWS:
        X, y = X[:QUICK_ROWS], y[:QUICK_ROWS]
        X = X[:, np.flatnonzero(np.diff(X.indptr))] if sp.issparse(X) else X
        X = _canonical_csc(X) if sp.issparse(X) else np.asfortranarray(X)
        name = f"{name}[:{QUICK_ROWS}]"
    return Problem(name, X, y, True)


def problem_makers(size, data_dir=None, select=None, c_variants=True):
    """[(name, maker)] where maker() returns a list of Problems; built lazily so that
    only one design is in memory at a time. ``select``: substrings of names to keep;
    ``c_variants``: add the C-ordered variant of each dense problem with intercept."""
    kinds = ("wide", "tall", "text", *SMALL)
    makers = [(k, lambda k=k: synthetic_problems(k, size)) for k in kinds]
    if data_dir is not None:
        makers += [
            (r, lambda r=r: [real_problem(data_dir, r, size)]) for r in REAL_SETS
        ]
    if c_variants:
        makers = [(k, lambda m=m: with_c_variants(m())) for k, m in makers]
    if select:  # "wide[C]" or "wide-noint" select the maker "wide"
        stems = [s.split("[")[0].split("-")[0] for s in select]
        makers = [(k, m) for k, m in makers if any(s in k for s in stems)]
    return makers


def selected(probs, select):
    """The problems whose name holds one of the substrings ``select`` (all if None)."""
    if not select:
        return probs
    return [p for p in probs if any(s in p.name for s in select)]


def path_problem(problem):
    """The no-intercept problem used for path benchmarks.

    Path solvers (sklearn ``lasso_path``, ``celer_path``) fit no intercept. A dense
    problem with intercept is centred explicitly, which is exactly equivalent; a sparse
    one cannot be centred without densifying, so only y is centred (a different
    problem, named ``<name>-noint``).
    """
    if not problem.fit_intercept:
        return problem
    y = problem.y - problem.y.mean()
    if problem.sparse:
        return Problem(f"{problem.name}-noint", problem.X, y, False)
    Xc = problem.X - problem.X.mean(axis=0)  # keeps the order of X
    base, c = (problem.name[:-3], "[C]") if problem.name.endswith("[C]") else (
        problem.name, "")
    return Problem(f"{base}-centred{c}", Xc, y, False)


def path_problems(data_dir, size, select, c_variants):
    """compare_peers' path problems (path_problem of each problem, or its no-intercept
    problems where it has them) whose names hold one of ``select``, with their
    C-ordered variants if ``c_variants``."""
    out = []
    for _, make in problem_makers(size, data_dir, select, c_variants=False):
        probs = make()
        path_probs = [p for p in probs if not p.fit_intercept] or [
            path_problem(p) for p in probs]
        if c_variants:
            path_probs = with_c_variants(path_probs, intercept_only=False)
        out += selected(path_probs, select)
    return out
