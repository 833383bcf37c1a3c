"""Side-by-side fits for ``fastlasso bench``: the same problem solved by fastlasso,
scikit-learn, and, when installed, celer, skglm and glmnet.

Every solver's answer is judged by one objective computed here in float64,

    P(w, b) = ||y - X w - b||^2 / (2 n) + alpha * (r ||w||_1 + (1 - r) / 2 ||w||^2),

(r = l1_ratio), so differences in the peers' stopping rules show as suboptimality.
"""

import importlib
import importlib.util
import time
import warnings
from dataclasses import dataclass

import numpy as np

PEERS = ("fastlasso", "scikit-learn", "celer", "skglm", "glmnet")
WARMUP_ROWS = 20


@dataclass
class Problem:
    """What every solver is asked to do (tol and max_iter in each one's own units)."""

    alpha: float
    l1_ratio: float = 1.0
    fit_intercept: bool = True
    tol: float = 1e-4
    max_iter: int = 10_000
    n_jobs: int = 1


def objective(X, y, coef, intercept, alpha, l1_ratio=1.0):
    """P(w, b) of the module docstring, in float64."""
    w = np.asarray(coef, dtype=np.float64).ravel()
    r = y - np.asarray(X @ w, dtype=np.float64).ravel() - float(intercept)
    penalty = l1_ratio * np.abs(w).sum() + (1 - l1_ratio) / 2 * (w @ w)
    return float(r @ r / (2 * y.shape[0]) + alpha * penalty)


def _sklearn_style(module_name, **extra):
    """A fit for libraries with scikit-learn's Lasso / ElasticNet parameters."""

    def fit(problem, X, y):
        module = importlib.import_module(module_name)
        params = dict(
            alpha=problem.alpha, fit_intercept=problem.fit_intercept, tol=problem.tol
        )
        params.update({key: getattr(problem, attr) for key, attr in extra.items()})
        if problem.l1_ratio == 1.0:
            est = module.Lasso(**params)
        else:
            est = module.ElasticNet(l1_ratio=problem.l1_ratio, **params)
        est.fit(X, y)
        return est.coef_, est.intercept_

    return fit


def _glmnet_fit(problem, X, y):
    """glmnet fits y / sd(y) with lambda / sd(y) and scales back, which divides its
    ridge part by sd(y); lambda_g = alpha (r + sd (1 - r)), a_g = alpha r / lambda_g
    gives P. Its tolerance (on changes of the weights) stays at glmnet's default."""
    import glmnet

    r, sd = problem.l1_ratio, float(np.std(y))
    lam = problem.alpha * (r + sd * (1 - r))
    est = glmnet.ElasticNet(
        alpha=problem.alpha * r / lam,
        lambda_path=[lam],
        standardize=False,
        fit_intercept=problem.fit_intercept,
        n_splits=0,
    )
    est.fit(X, y)
    return est.coef_path_[:, -1], est.intercept_path_[-1]


FITTERS = {
    "fastlasso": (
        "fastlasso",
        _sklearn_style("fastlasso", max_iter="max_iter", n_jobs="n_jobs"),
    ),
    "scikit-learn": (
        "sklearn",
        _sklearn_style("sklearn.linear_model", max_iter="max_iter"),
    ),
    "celer": ("celer", _sklearn_style("celer")),
    "skglm": ("skglm", _sklearn_style("skglm")),
    "glmnet": ("glmnet", _glmnet_fit),
}


def compare(X, y, problem, solvers=PEERS, repeat=3):
    """One row per solver: time (best of ``repeat``), objective, suboptimality.

    Rows of solvers that are not installed or fail say so in ``status``; the others
    also hold ``rel_suboptimality`` = (P - P_best) / |P_best| and ``time_vs_fastlasso``.
    """
    rows = []
    for name in solvers:
        module, fit = FITTERS[name]
        if importlib.util.find_spec(module) is None:
            rows.append({"solver": name, "status": "not installed"})
        else:
            rows.append(_time_one(name, fit, X, y, problem, repeat))
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


def _time_one(name, fit, X, y, problem, repeat):
    row = {"solver": name}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            # untimed warm-up on a few rows: imports, skglm's numba compilation
            fit(problem, X[:WARMUP_ROWS], y[:WARMUP_ROWS])
            times = []
            for _ in range(repeat):
                start = time.perf_counter()
                coef, intercept = fit(problem, X, y)
                times.append(time.perf_counter() - start)
        except Exception as exc:  # noqa: BLE001 - a failing peer must not end the run
            first_line = (str(exc).splitlines() or [""])[0]
            row["status"] = f"failed: {type(exc).__name__}: {first_line}"
            return row
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
