"""The one peer harness: uniform adapters over the Lasso / Elastic Net solvers that
fastlasso is compared with, used by ``fastlasso bench`` and by benchmarks/.

Every adapter fits one alpha (``Solver.fit`` -> coefficients, intercept) or, for the
Lasso, a path of alphas without intercept (``Solver.path`` -> coefficients of shape
(n_features, n_alphas)); every answer is judged by one objective computed here in
float64 (r = l1_ratio),

    P(w, b) = ||y - X w - b||^2 / (2 n) + alpha * (r ||w||_1 + (1 - r) / 2 ||w||^2),

so that differences in the solvers' stopping rules show as suboptimality. Each solver
stops by its own criterion; ``Solver.ladder`` lists the tolerances a benchmark tries,
loosest first, in that solver's own units:

- fastlasso, scikit-learn, celer: duality gap <= tol * ||y - ybar||^2 / n;
- scikit-learn-intelex (``daal4py.sklearn.linear_model.Lasso``): oneDAL's coordinate
  descent with its ``accuracyThreshold`` = tol, on dense data with n >= p; otherwise
  the estimator hands the fit to scikit-learn (sparse X, p > n, sample weights);
- skglm: largest distance of a gradient coordinate to the subdifferential <= tol (the
  units of alpha, so the ladder is scaled by alpha_max);
- glum (``GeneralizedLinearRegressor``, normal family, solver irls-cd): the sum over
  the features of the distance of the gradient to the subdifferential <= gradient_tol
  (units of alpha, ladder scaled by alpha_max);
- adelie (``grpnet`` with groups of one feature): its coordinate-descent tolerance;
- glmnet: largest weighted change of the objective by a coordinate update <= tol times
  the null deviance.

Settings beyond the tolerance (each solver run as a user would, with iteration caps so
high that the tolerance, not the cap, stops it; a benchmark's time cap stops runaways):

- scikit-learn ``Lasso`` uses ``precompute=True`` (Gram) on dense data with n > p, the
  choice its own ``lasso_path`` makes with ``precompute="auto"``;
- skglm's own intercept (a coordinate updated with the others) is very slow on
  uncentred dense data (50-80 s instead of 0.3 s on riboflavin at alpha_max/1000), so
  on dense data with intercept it is given centred data, as scikit-learn and celer
  centre internally; the centring is inside its timing;
- celer runs with pruning (its estimator default);
- glmnet: python-glmnet's Fortran routines as its ``ElasticNet.fit`` calls them with
  ``standardize=False`` and no cross-validation (see ``Glmnet``); for the Lasso its
  lambda equals scikit-learn's alpha, which ``check_glmnet_scaling`` verifies
  numerically. Its timings include the copy of X that python-glmnet always makes;
- adelie: ``early_exit=False`` (its default stops a path once 90% of the deviance is
  explained, which would skip the requested alpha), no progress bar, its lambda is
  alpha and its ``alpha`` is l1_ratio; a single fit is the path [alpha];
- glum: its lambda is alpha (its objective is P above for the normal family);
- scikit-learn-intelex: oneDAL limited to the benchmark's thread count.

Dense X is passed in the layout it comes in (a C-ordered array stays C-ordered: the
conversion a solver makes is then part of its time, as for a user with numpy's default
order); sparse X goes to each solver as CSC (glmnet copies it).
"""

import importlib
import importlib.metadata
import importlib.util
import time
import warnings
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

GAP_LADDER = tuple(10.0**-k for k in range(3, 13))
KKT_LADDER = tuple(10.0**-k for k in range(3, 14))
GLMNET_LADDER = tuple(10.0**-k for k in range(4, 15))
WIDE_LADDER = tuple(10.0**-k for k in range(2, 15))
MAX_EPOCHS = 10**6
WARMUP_ROWS, WARMUP_COLS = 60, 120


def objective(X, y, coef, intercept, alpha, l1_ratio=1.0):
    """P(w, b) of the module docstring, in float64."""
    w = np.asarray(coef, dtype=np.float64).ravel()
    r = np.asarray(y, dtype=np.float64) - np.asarray(X @ w, dtype=np.float64).ravel()
    r -= float(intercept)
    penalty = l1_ratio * np.abs(w).sum() + (1 - l1_ratio) / 2 * (w @ w)
    return float(r @ r / (2 * y.shape[0]) + alpha * penalty)


def alpha_max(X, y, fit_intercept=True, l1_ratio=1.0):
    """max_j |x~_j^T (y - ybar)| / (n l1_ratio): the smallest alpha giving w = 0.

    With an intercept the columns are centred too, but x_j^T (y - ybar) already equals
    (x_j - mean x_j)^T (y - ybar), so X is never centred here.
    """
    r = y - y.mean() if fit_intercept else y
    return float(np.max(np.abs(X.T @ r))) / (X.shape[0] * l1_ratio)


def _dense_like(X, Xs):
    """The dense slice Xs in the memory order of X (C stays C, else Fortran)."""
    if X.flags.c_contiguous and not X.flags.f_contiguous:
        return np.ascontiguousarray(Xs)
    return np.asfortranarray(Xs)


class Solver:
    """Base adapter. Subclasses set ``name``/``module``/``dist`` and define ``_fit``
    (and ``_path`` when ``has_path``)."""

    name = ""  # short name: table columns, --solvers of the benchmarks
    module = ""  # imported to tell whether the solver is installed
    dist = ""  # distribution name: version, and accepted as a name
    has_path = True
    # does the solver's own ``tol`` mean what ``fastlasso bench --tol`` means (a
    # scikit-learn-style estimator parameter)? If not, the CLI keeps its default.
    takes_cli_tol = True

    def available(self):
        try:
            return importlib.util.find_spec(self.module) is not None
        except (ImportError, ValueError):
            return False

    def version(self):
        return importlib.metadata.version(self.dist)

    def ladder(self, alpha_max):
        """Tolerances to try, loosest first, in the solver's own units."""
        return GAP_LADDER

    def prepare(self, X):
        """The layout this solver is given (converted once, outside the timings)."""
        return X

    def fit(self, X, y, alpha, fit_intercept=True, tol=None, *, l1_ratio=1.0,
            max_iter=None, n_jobs=None):
        """(coef, intercept) at ``alpha``; tol None: the solver's default; max_iter
        None: a cap so high that the tolerance stops the solver."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            coef, intercept = self._fit(
                X, y, alpha, fit_intercept, tol, l1_ratio, max_iter, n_jobs
            )
        return np.asarray(coef, dtype=np.float64).ravel(), float(intercept)

    def path(self, X, y, alphas, tol):
        """Coefficients (n_features, n_alphas) of the no-intercept Lasso path."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return np.asarray(self._path(X, y, alphas, tol), dtype=np.float64)

    def warmup(self, X, y, fit_intercept, l1_ratio=1.0):
        """One small fit on a slice of (X, y) in the layout of X: loads code and
        compiles JIT kernels for the exact dtypes and layouts of the problem."""
        m, q = min(X.shape[0], WARMUP_ROWS), min(X.shape[1], WARMUP_COLS)
        Xs = X[:m, :q]
        Xs = sp.csc_matrix(Xs) if sp.issparse(Xs) else _dense_like(X, Xs)
        ys = np.ascontiguousarray(y[:m])
        amax = max(alpha_max(Xs, ys, True, l1_ratio), 1e-12)
        self.fit(self.prepare(Xs), ys, amax / 5, fit_intercept, self.ladder(amax)[2],
                 l1_ratio=l1_ratio)


def _cap(max_iter, default=MAX_EPOCHS):
    return default if max_iter is None else max_iter


class FastLasso(Solver):
    name, module, dist = "fastlasso", "fastlasso", "fastlasso"

    def __init__(self, n_jobs=None):
        self.n_jobs = n_jobs

    @property
    def has_path(self):
        return hasattr(importlib.import_module("fastlasso"), "lasso_path")

    def _fit(self, X, y, alpha, fit_intercept, tol, l1_ratio, max_iter, n_jobs):
        # the package as a user imports it (at call time: this module is imported by
        # the package's CLI, below the package root)
        fastlasso = importlib.import_module("fastlasso")
        kw = {"alpha": alpha, "fit_intercept": fit_intercept,
              "max_iter": _cap(max_iter), "n_jobs": n_jobs or self.n_jobs}
        if tol is not None:
            kw["tol"] = tol
        if l1_ratio == 1.0:
            m = fastlasso.Lasso(**kw)
        else:
            m = fastlasso.ElasticNet(l1_ratio=l1_ratio, **kw)
        m.fit(X, y)
        return m.coef_, m.intercept_

    def _path(self, X, y, alphas, tol):
        fastlasso = importlib.import_module("fastlasso")
        _, coefs, _ = fastlasso.lasso_path(
            X, y, alphas=alphas, tol=tol, max_iter=MAX_EPOCHS, n_jobs=self.n_jobs
        )
        return coefs


class ScikitLearn(Solver):
    name, module, dist = "sklearn", "sklearn", "scikit-learn"

    def _fit(self, X, y, alpha, fit_intercept, tol, l1_ratio, max_iter, n_jobs):
        from sklearn.linear_model import ElasticNet, Lasso

        kw = {"alpha": alpha, "fit_intercept": fit_intercept,
              "max_iter": _cap(max_iter),
              "precompute": not sp.issparse(X) and X.shape[0] > X.shape[1]}
        if tol is not None:
            kw["tol"] = tol
        if l1_ratio == 1.0:
            m = Lasso(**kw)
        else:
            m = ElasticNet(l1_ratio=l1_ratio, **kw)
        m.fit(X, y)
        return m.coef_, m.intercept_

    def _path(self, X, y, alphas, tol):
        from sklearn.linear_model import lasso_path

        _, coefs, _ = lasso_path(X, y, alphas=alphas, tol=tol, max_iter=MAX_EPOCHS)
        return coefs


class Celer(Solver):
    name, module, dist = "celer", "celer", "celer"

    def _fit(self, X, y, alpha, fit_intercept, tol, l1_ratio, max_iter, n_jobs):
        import celer

        kw = {"alpha": alpha, "fit_intercept": fit_intercept, "max_iter": 10**4,
              "max_epochs": MAX_EPOCHS, "prune": True}
        if tol is not None:
            kw["tol"] = tol
        if l1_ratio == 1.0:
            m = celer.Lasso(**kw)
        else:
            m = celer.ElasticNet(l1_ratio=l1_ratio, **kw)
        m.fit(X, y)
        return m.coef_, m.intercept_

    def _path(self, X, y, alphas, tol):
        from celer import celer_path

        _, coefs, _ = celer_path(X, y, "lasso", alphas=alphas, tol=tol,
                                 max_iter=10**4, max_epochs=MAX_EPOCHS, prune=1)
        return coefs


class Skglm(Solver):
    name, module, dist = "skglm", "skglm", "skglm"
    has_path = False

    def ladder(self, alpha_max):
        return tuple(alpha_max * t for t in KKT_LADDER)

    def _fit(self, X, y, alpha, fit_intercept, tol, l1_ratio, max_iter, n_jobs):
        import skglm

        kw = {"alpha": alpha, "max_iter": 10**4, "max_epochs": MAX_EPOCHS}
        if tol is not None:
            kw["tol"] = tol
        if l1_ratio != 1.0:
            kw["l1_ratio"] = l1_ratio
        cls = skglm.Lasso if l1_ratio == 1.0 else skglm.ElasticNet
        if fit_intercept and not sp.issparse(X):
            mean, ybar = X.mean(axis=0), y.mean()
            Xc = np.asfortranarray(X - mean)
            m = cls(fit_intercept=False, **kw).fit(Xc, y - ybar)
            return m.coef_, ybar - mean @ m.coef_
        m = cls(fit_intercept=fit_intercept, **kw).fit(X, y)
        return m.coef_, m.intercept_


class Glmnet(Solver):
    """python-glmnet's Fortran routines (``elnet``/``spelnet``), called as its
    ``ElasticNet.fit`` calls them with ``standardize=False`` and no cross-validation
    (same argument preparation, copy of X included), except for the algorithm: R
    glmnet's rule (covariance updates for p < 500, naive otherwise) instead of
    python-glmnet's (covariance whenever n > p), which asks for a p x p block and fails
    with a memory error on the 100,000 x 100,000 text problem.

    Elastic Net: glmnet fits y / s with lambda / s and scales back (s the standard
    deviation of y, centred even without intercept: measured), which divides its
    ridge part by s; lambda_g = alpha (r + s (1 - r)) and a_g = alpha r / lambda_g
    then give P (for r = 1: lambda_g = alpha)."""

    name, module, dist = "glmnet", "glmnet", "python-glmnet"
    takes_cli_tol = False  # its tol is on coefficient changes, default 1e-7
    DEFAULT_TOL = 1e-7

    def ladder(self, alpha_max):
        return GLMNET_LADDER

    def _run(self, X, y, lambdas, fit_intercept, tol, parm=1.0):
        """(coefs (p, n_lambdas), intercepts) at the decreasing ``lambdas``."""
        from glmnet._glmnet import elnet, solns, spelnet
        from glmnet.errors import _check_error_flag

        n, p = X.shape
        ka = 1 if p < 500 else 2
        lam = np.asarray(lambdas, dtype=np.float64)
        tol = self.DEFAULT_TOL if tol is None else tol
        y = y.astype(np.float64, order="F", copy=True)
        w = np.ones(n, dtype=np.float64)
        vp = np.ones(p, dtype=np.float64, order="F")
        cl = np.empty((2, p), dtype=np.float64, order="F")
        cl[0], cl[1] = -np.inf, np.inf
        flags = (lam.size, False, fit_intercept, 10**8)  # nlam, isd, intr, maxit
        if sp.issparse(X):
            x = sp.csc_matrix(X, dtype=np.float64, copy=True)
            out = spelnet(ka, parm, n, p, x.data, x.indptr + 1, x.indices + 1, y, w,
                          0, vp, cl, p, p + 1, 1.0, lam, tol, *flags)
        else:
            x = X.astype(np.float64, order="F", copy=True)
            out = elnet(ka, parm, x, y, w, 0, vp, cl, p + 1, 1.0, lam, tol, p, *flags)
        lmu, a0, ca, ia, nin, _, _, _, jerr = out
        _check_error_flag(jerr)
        if lmu != lam.size:
            raise RuntimeError(f"glmnet returned {lmu} of {lam.size} path points")
        return solns(p, ca[:, :lmu], ia, nin[:lmu]), a0[:lmu]

    def _fit(self, X, y, alpha, fit_intercept, tol, l1_ratio, max_iter, n_jobs):
        lam, parm = alpha, 1.0
        if l1_ratio != 1.0:
            s = float(np.std(y))
            lam = alpha * (l1_ratio + s * (1.0 - l1_ratio))
            parm = alpha * l1_ratio / lam
        coefs, a0 = self._run(X, y, [lam], fit_intercept, tol, parm)
        return coefs[:, 0], a0[0]

    def _path(self, X, y, alphas, tol):
        return self._run(X, y, alphas, False, tol)[0]


class Adelie(Solver):
    """adelie's ``grpnet`` (groups of one feature: the Lasso / Elastic Net), its
    Gaussian GLM; a single fit is the path [alpha] (adelie starts it from 0)."""

    name, module, dist = "adelie", "adelie", "adelie"
    takes_cli_tol = False
    threads = 1

    def ladder(self, alpha_max):
        return WIDE_LADDER

    def _grpnet(self, X, y, lambdas, fit_intercept, tol, l1_ratio=1.0, n_jobs=None):
        import adelie as ad

        kw = {} if tol is None else {"tol": tol}
        Xa = ad.matrix.sparse(sp.csc_matrix(X)) if sp.issparse(X) else X
        state = ad.grpnet(
            Xa, ad.glm.gaussian(np.ascontiguousarray(y, dtype=np.float64)),
            alpha=l1_ratio, lmda_path=np.asarray(lambdas, dtype=np.float64),
            intercept=fit_intercept, early_exit=False, progress_bar=False,
            max_iters=10**9, n_threads=n_jobs or self.threads, **kw,
        )
        if len(state.lmdas) != len(lambdas):
            raise RuntimeError(f"adelie returned {len(state.lmdas)} of {len(lambdas)} "
                               "path points")
        return state.betas.toarray().T, np.asarray(state.intercepts)

    def _fit(self, X, y, alpha, fit_intercept, tol, l1_ratio, max_iter, n_jobs):
        coefs, a0 = self._grpnet(X, y, [alpha], fit_intercept, tol, l1_ratio, n_jobs)
        return coefs[:, -1], a0[-1]

    def _path(self, X, y, alphas, tol):
        return self._grpnet(X, y, alphas, False, tol)[0]


class Glum(Solver):
    """glum's ``GeneralizedLinearRegressor`` (normal family, irls-cd)."""

    name, module, dist = "glum", "glum", "glum"
    takes_cli_tol = False  # gradient_tol, units of alpha

    def ladder(self, alpha_max):
        return tuple(alpha_max * t for t in WIDE_LADDER[:-1])

    def _model(self, fit_intercept, tol, l1_ratio, **kw):
        from glum import GeneralizedLinearRegressor

        if tol is not None:
            kw["gradient_tol"] = tol
        return GeneralizedLinearRegressor(
            family="normal", l1_ratio=l1_ratio, fit_intercept=fit_intercept,
            max_inner_iter=MAX_EPOCHS, **kw,
        )

    def _fit(self, X, y, alpha, fit_intercept, tol, l1_ratio, max_iter, n_jobs):
        m = self._model(fit_intercept, tol, l1_ratio, alpha=alpha).fit(X, y)
        return m.coef_, m.intercept_

    def _path(self, X, y, alphas, tol):
        m = self._model(False, tol, 1.0, alpha=list(alphas), alpha_search=True)
        return m.fit(X, y).coef_path_.T


class ScikitLearnIntelex(Solver):
    """scikit-learn-intelex's ``Lasso`` / ``ElasticNet`` (``daal4py.sklearn``; the
    estimators ``patch_sklearn`` substitutes). oneDAL solves dense problems with
    n >= p; the rest goes to scikit-learn's own code inside the same estimator."""

    name, module, dist = "sklearnex", "daal4py", "scikit-learn-intelex"
    has_path = False
    threads = 1

    def ladder(self, alpha_max):
        return WIDE_LADDER

    def _fit(self, X, y, alpha, fit_intercept, tol, l1_ratio, max_iter, n_jobs):
        import daal4py
        from daal4py.sklearn.linear_model import ElasticNet, Lasso

        daal4py.daalinit(n_jobs or self.threads)
        kw = {"alpha": alpha, "fit_intercept": fit_intercept,
              "max_iter": _cap(max_iter)}
        if tol is not None:
            kw["tol"] = tol
        if l1_ratio == 1.0:
            m = Lasso(**kw)
        else:
            m = ElasticNet(l1_ratio=l1_ratio, **kw)
        m.fit(X, y)
        return m.coef_, m.intercept_


ALL_SOLVERS = (FastLasso, ScikitLearn, Celer, Skglm, Glmnet, Adelie, Glum,
               ScikitLearnIntelex)
NAMES = tuple(cls.name for cls in ALL_SOLVERS)
# names ``fastlasso bench --solvers`` takes (scikit-learn under its distribution name)
PEERS = ("fastlasso", "scikit-learn", "celer", "skglm", "glmnet", "adelie", "glum",
         "sklearnex")


def solver_class(name):
    """The adapter class called ``name`` (its short or its distribution name)."""
    for cls in ALL_SOLVERS:
        if name in (cls.name, cls.dist):
            return cls
    raise ValueError(f"unknown solver {name!r}; choose from {', '.join(NAMES)}")


def make_solvers(names=None, n_jobs=None):
    """Available adapters (fastlasso first), optionally only those in ``names``."""
    out = []
    for cls in ALL_SOLVERS:
        s = cls(n_jobs) if cls is FastLasso else cls()
        if (names is None or s.name in names or s.dist in names) and s.available():
            out.append(s)
    return out


def check_glmnet_scaling(seed=0):
    """Check glmnet's lambda against scikit-learn's alpha on a small problem.

    Fits scikit-learn at alpha = alpha_max/10 (tol 1e-12) and glmnet at lambda = alpha
    and lambda = 2 alpha (tol 1e-14), with intercept; returns the relative objective
    differences (P_glmnet - P_sklearn) / P_sklearn, all evaluated at alpha. The first
    must be ~0 and the second clearly positive for the mapping lambda = alpha to hold.
    """
    rng = np.random.default_rng(seed)
    X = np.asfortranarray(rng.standard_normal((60, 150)))
    y = X[:, :5] @ np.arange(1.0, 6.0) + rng.standard_normal(60) + 2.0
    alpha = alpha_max(X, y, True) / 10
    ref = objective(X, y, *ScikitLearn().fit(X, y, alpha, True, 1e-12), alpha)
    out = []
    for lam in (alpha, 2 * alpha):
        coef, b = Glmnet().fit(X, y, lam, True, 1e-14)
        out.append((objective(X, y, coef, b, alpha) - ref) / ref)
    return tuple(out)


# ---------------------------------------------------------------- fastlasso bench
@dataclass
class Problem:
    """What ``fastlasso bench`` asks every solver to do: tol goes to the solvers whose
    ``takes_cli_tol`` (the others keep their defaults), max_iter to fastlasso and
    scikit-learn (the others get caps so high that their tolerance stops them)."""

    alpha: float
    l1_ratio: float = 1.0
    fit_intercept: bool = True
    tol: float = 1e-4
    max_iter: int = 10_000
    n_jobs: int = 1


def compare(X, y, problem, solvers=PEERS, repeat=3):
    """One row per solver: time (best of ``repeat``), objective, suboptimality.

    Rows of solvers that are not installed or fail say so in ``status``; the others
    also hold ``rel_suboptimality`` = (P - P_best) / |P_best| and ``time_vs_fastlasso``.
    """
    rows = []
    for name in solvers:
        solver = solver_class(name)(problem.n_jobs) if name == "fastlasso" else (
            solver_class(name)()
        )
        if not solver.available():
            rows.append({"solver": name, "status": "not installed"})
        else:
            rows.append(_time_one(name, solver, X, y, problem, repeat))
    done = [row for row in rows if "objective" in row]
    if done:
        best = min(row["objective"] for row in done)
        base = next(
            (row["time_s"] for row in done if row["solver"] == "fastlasso"), None
        )
        for row in done:
            row["rel_suboptimality"] = (row["objective"] - best) / max(
                abs(best), 1e-300
            )
            if base:
                row["time_vs_fastlasso"] = row["time_s"] / base
    return rows


def _time_one(name, solver, X, y, problem, repeat):
    row = {"solver": name}
    tol = problem.tol if solver.takes_cli_tol else None
    max_iter = problem.max_iter if solver.name in ("fastlasso", "sklearn") else None

    def fit(X, y):
        return solver._fit(X, y, problem.alpha, problem.fit_intercept, tol,
                           problem.l1_ratio, max_iter, problem.n_jobs)

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            # untimed warm-up on a slice: imports, skglm's numba compilation
            m, q = min(X.shape[0], WARMUP_ROWS), X.shape[1]
            fit(X[:m, :q], y[:m])
            times = []
            for _ in range(repeat):
                start = time.perf_counter()
                coef, intercept = fit(X, y)
                times.append(time.perf_counter() - start)
        except Exception as exc:  # noqa: BLE001 - a failing peer must not end the run
            first_line = (str(exc).splitlines() or [""])[0]
            row["status"] = f"failed: {type(exc).__name__}: {first_line}"
            return row
    coef = np.asarray(coef, dtype=np.float64).ravel()
    row["time_s"] = min(times)
    row["objective"] = objective(X, y, coef, intercept, problem.alpha, problem.l1_ratio)
    row["n_nonzero"] = int(np.count_nonzero(coef))
    messages = []
    for w in caught:
        text = (str(w.message).splitlines() or [""])[0]
        if text not in messages:
            messages.append(text)
    row["warnings"] = messages
    row["status"] = "ok" if not messages else f"warned: {messages[0]}"
    return row
