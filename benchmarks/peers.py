"""Uniform adapters over the Lasso solvers compared in the benchmarks.

Each adapter fits one alpha (``fit`` -> coefficients, intercept) or a path of alphas
without intercept (``path`` -> coefficients of shape (n_features, n_alphas)), so that
the objective

    P(w, b) = 1/(2 n) ||y - X w - b||^2 + alpha ||w||_1

is evaluated by the same numpy code (``problems.objective``) for every solver. Each
solver has its own stopping criterion; ``ladder`` lists the tolerances tried, loosest
first, in that solver's own units:

- fastlasso, scikit-learn, celer: duality gap <= tol * ||y - ybar||^2 / n;
- skglm: largest distance of a gradient coordinate to the subdifferential <= tol (the
  units of alpha, so the ladder is scaled by alpha_max);
- glmnet: largest weighted change of the objective by a coordinate update <= tol times
  the null deviance.

Settings beyond the tolerance (each solver left as a user would run it, with iteration
caps high enough that the tolerance, not the cap, stops it; the benchmark's time cap
stops runaways):

- scikit-learn ``Lasso`` uses ``precompute=True`` (Gram) on dense data with n > p, the
  choice its own ``lasso_path`` makes with ``precompute="auto"``;
- skglm's own intercept (a coordinate updated with the others) is very slow on
  uncentred dense data (50-80 s instead of 0.3 s on riboflavin at alpha_max/1000), so
  on dense data with intercept it is given centred data, as scikit-learn and celer
  centre internally; the centring is inside its timing;
- celer runs with pruning (its estimator default);
- glmnet: python-glmnet's Fortran routines as its ``ElasticNet.fit`` calls them with
  ``standardize=False`` and no cross-validation (see ``Glmnet``); its lambda equals
  scikit-learn's alpha (glmnet minimises 1/(2n) sum_i (y_i - b - x_i w)^2
  + lambda ||w||_1), which ``check_glmnet_scaling`` verifies numerically. Its timings
  include the copy of X that python-glmnet always makes.
"""

import importlib
import importlib.metadata
import warnings

import numpy as np
import scipy.sparse as sp

GAP_LADDER = tuple(10.0**-k for k in range(3, 13))
KKT_LADDER = tuple(10.0**-k for k in range(3, 14))
GLMNET_LADDER = tuple(10.0**-k for k in range(4, 15))
MAX_EPOCHS = 10**6


class Solver:
    """Base adapter. Subclasses set ``name``/``module``/``dist`` and define ``_fit``."""

    name = ""
    module = ""
    dist = ""
    has_path = True

    def available(self):
        try:
            importlib.import_module(self.module)
        except ImportError:
            return False
        return True

    def version(self):
        return importlib.metadata.version(self.dist)

    def ladder(self, alpha_max):
        """Tolerances to try, loosest first, in the solver's own units."""
        return GAP_LADDER

    def prepare(self, X):
        """The layout this solver is given (converted once, outside the timings)."""
        return X

    def fit(self, X, y, alpha, fit_intercept, tol):
        """(coef, intercept) of the Lasso at ``alpha``."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            coef, intercept = self._fit(X, y, alpha, fit_intercept, tol)
        return np.asarray(coef, dtype=np.float64).ravel(), float(intercept)

    def path(self, X, y, alphas, tol):
        """Coefficients (n_features, n_alphas) of the no-intercept Lasso path."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return np.asarray(self._path(X, y, alphas, tol), dtype=np.float64)

    def warmup(self, X, y, fit_intercept):
        """One small fit on a slice of (X, y): loads code and compiles JIT kernels for
        the exact dtypes and layouts of the problem."""
        m, q = min(X.shape[0], 60), min(X.shape[1], 120)
        Xs = X[:m, :q]
        Xs = sp.csc_matrix(Xs) if sp.issparse(Xs) else np.asfortranarray(Xs)
        ys = y[:m]
        amax = max(float(np.max(np.abs(Xs.T @ (ys - ys.mean())))) / m, 1e-12)
        self.fit(self.prepare(Xs), ys, amax / 5, fit_intercept, self.ladder(amax)[2])


class FastLasso(Solver):
    name, module, dist = "fastlasso", "fastlasso", "fastlasso"

    def __init__(self, n_jobs=None):
        self.n_jobs = n_jobs

    @property
    def has_path(self):
        return hasattr(importlib.import_module("fastlasso"), "lasso_path")

    def _fit(self, X, y, alpha, fit_intercept, tol):
        import fastlasso

        m = fastlasso.Lasso(
            alpha=alpha,
            fit_intercept=fit_intercept,
            tol=tol,
            max_iter=MAX_EPOCHS,
            n_jobs=self.n_jobs,
        ).fit(X, y)
        return m.coef_, m.intercept_

    def _path(self, X, y, alphas, tol):
        import fastlasso

        _, coefs, _ = fastlasso.lasso_path(
            X, y, alphas=alphas, tol=tol, max_iter=MAX_EPOCHS
        )
        return coefs


class ScikitLearn(Solver):
    name, module, dist = "sklearn", "sklearn", "scikit-learn"

    def _fit(self, X, y, alpha, fit_intercept, tol):
        from sklearn.linear_model import Lasso

        gram = not sp.issparse(X) and X.shape[0] > X.shape[1]
        m = Lasso(
            alpha=alpha,
            fit_intercept=fit_intercept,
            tol=tol,
            max_iter=MAX_EPOCHS,
            precompute=gram,
        ).fit(X, y)
        return m.coef_, m.intercept_

    def _path(self, X, y, alphas, tol):
        from sklearn.linear_model import lasso_path

        _, coefs, _ = lasso_path(X, y, alphas=alphas, tol=tol, max_iter=MAX_EPOCHS)
        return coefs


class Celer(Solver):
    name, module, dist = "celer", "celer", "celer"

    def _fit(self, X, y, alpha, fit_intercept, tol):
        from celer import Lasso

        m = Lasso(
            alpha=alpha,
            fit_intercept=fit_intercept,
            tol=tol,
            max_iter=10**4,
            max_epochs=MAX_EPOCHS,
            prune=True,
        ).fit(X, y)
        return m.coef_, m.intercept_

    def _path(self, X, y, alphas, tol):
        from celer import celer_path

        _, coefs, _ = celer_path(
            X,
            y,
            "lasso",
            alphas=alphas,
            tol=tol,
            max_iter=10**4,
            max_epochs=MAX_EPOCHS,
            prune=1,
        )
        return coefs


class Skglm(Solver):
    name, module, dist = "skglm", "skglm", "skglm"
    has_path = False

    def ladder(self, alpha_max):
        return tuple(alpha_max * t for t in KKT_LADDER)

    def _fit(self, X, y, alpha, fit_intercept, tol):
        from skglm import Lasso

        kw = {"alpha": alpha, "tol": tol, "max_iter": 10**4, "max_epochs": MAX_EPOCHS}
        if fit_intercept and not sp.issparse(X):
            mean, ybar = X.mean(axis=0), y.mean()
            m = Lasso(fit_intercept=False, **kw).fit(
                np.asfortranarray(X - mean), y - ybar
            )
            return m.coef_, ybar - mean @ m.coef_
        m = Lasso(fit_intercept=fit_intercept, **kw).fit(X, y)
        return m.coef_, m.intercept_


class Glmnet(Solver):
    """python-glmnet's Fortran routines (``elnet``/``spelnet``), called as its
    ``ElasticNet.fit`` calls them with ``standardize=False`` and no cross-validation
    (same argument preparation, copy of X included), except for the algorithm: R
    glmnet's rule (covariance updates for p < 500, naive otherwise) instead of
    python-glmnet's (covariance whenever n > p), which asks for a p x p block and fails
    with a memory error on the 100,000 x 100,000 text problem."""

    name, module, dist = "glmnet", "glmnet", "python-glmnet"

    def ladder(self, alpha_max):
        return GLMNET_LADDER

    def _run(self, X, y, lambdas, fit_intercept, tol):
        """(coefs (p, n_lambdas), intercepts) at the decreasing ``lambdas``."""
        from glmnet._glmnet import elnet, solns, spelnet
        from glmnet.errors import _check_error_flag

        n, p = X.shape
        ka = 1 if p < 500 else 2
        lam = np.asarray(lambdas, dtype=np.float64)
        y = y.astype(np.float64, order="F", copy=True)
        w = np.ones(n, dtype=np.float64)
        vp = np.ones(p, dtype=np.float64, order="F")
        cl = np.empty((2, p), dtype=np.float64, order="F")
        cl[0], cl[1] = -np.inf, np.inf
        flags = (lam.size, False, fit_intercept, 10**8)  # nlam, isd, intr, maxit
        if sp.issparse(X):
            x = sp.csc_matrix(X, dtype=np.float64, copy=True)
            out = spelnet(
                ka,
                1.0,
                n,
                p,
                x.data,
                x.indptr + 1,
                x.indices + 1,
                y,
                w,
                0,
                vp,
                cl,
                p,
                p + 1,
                1.0,
                lam,
                tol,
                *flags,
            )
        else:
            x = X.astype(np.float64, order="F", copy=True)
            out = elnet(ka, 1.0, x, y, w, 0, vp, cl, p + 1, 1.0, lam, tol, p, *flags)
        lmu, a0, ca, ia, nin, _, _, _, jerr = out
        _check_error_flag(jerr)
        if lmu != lam.size:
            raise RuntimeError(f"glmnet returned {lmu} of {lam.size} path points")
        return solns(p, ca[:, :lmu], ia, nin[:lmu]), a0[:lmu]

    def _fit(self, X, y, alpha, fit_intercept, tol):
        coefs, a0 = self._run(X, y, [alpha], fit_intercept, tol)
        return coefs[:, 0], a0[0]

    def _path(self, X, y, alphas, tol):
        return self._run(X, y, alphas, False, tol)[0]


ALL_SOLVERS = (FastLasso, ScikitLearn, Celer, Skglm, Glmnet)


def make_solvers(names=None, n_jobs=None):
    """Available adapters (fastlasso first), optionally only those in ``names``."""
    out = []
    for cls in ALL_SOLVERS:
        s = cls(n_jobs) if cls is FastLasso else cls()
        if (names is None or s.name in names) and s.available():
            out.append(s)
    return out


def check_glmnet_scaling(seed=0):
    """Check glmnet's lambda against scikit-learn's alpha on a small problem.

    Fits scikit-learn at alpha = alpha_max/10 (tol 1e-12) and glmnet at lambda = alpha
    and lambda = 2 alpha (tol 1e-14), with intercept; returns the relative objective
    differences (P_glmnet - P_sklearn) / P_sklearn, all evaluated at alpha. The first
    must be ~0 and the second clearly positive for the mapping lambda = alpha to hold.
    """
    from problems import alpha_max, objective

    rng = np.random.default_rng(seed)
    X = np.asfortranarray(rng.standard_normal((60, 150)))
    y = X[:, :5] @ np.arange(1.0, 6.0) + rng.standard_normal(60) + 2.0
    alpha = alpha_max(X, y, True) / 10
    ref = objective(X, y, alpha, *ScikitLearn().fit(X, y, alpha, True, 1e-12))
    out = []
    for lam in (alpha, 2 * alpha):
        coef, b = Glmnet().fit(X, y, lam, True, 1e-14)
        out.append((objective(X, y, alpha, coef, b) - ref) / ref)
    return tuple(out)
