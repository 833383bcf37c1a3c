"""What the ``fastlasso`` subcommands do, given parsed options: load the data, fit,
build a result dictionary (printed as JSON with ``--json``, as text otherwise) and
write the ``--out`` / ``--plot`` files. Parsing lives in :mod:`fastlasso.cli`."""

import importlib.util
import json
import math
import sys
import time
import warnings

import numpy as np
import scipy.sparse as sp

import fastlasso
from fastlasso import _cli_report as report
from fastlasso._bench_peers import Problem, compare
from fastlasso._data import intercept_of
from fastlasso._io import load_dataset

DEFAULT_ALPHA_FRACTION = 20  # with neither --alpha nor --lambda: alpha_max / 20


class CommandError(Exception):
    """A problem to report in one line (an option that does not fit the data, a
    feature this installation lacks)."""


def alpha_max(X, y, l1_ratio=1.0, fit_intercept=True, positive=False):
    """Smallest alpha giving all-zero weights: max_j |x_j^T (y - ybar)| / (n l1_ratio)
    (the signed maximum, floored at 0, when positive).

    X need not be centred: sum(y - ybar) = 0 makes x~_j^T (y - ybar) = x_j^T (y - ybar).
    """
    yc = y - y.mean() if fit_intercept else y
    corr = np.asarray(X.T @ yc, dtype=np.float64).ravel()
    top = max(corr.max(initial=0.0), 0.0) if positive else np.abs(corr).max(initial=0.0)
    return top / (X.shape[0] * l1_ratio) if l1_ratio > 0 else math.inf


def _chosen_alpha(args, data, positive=False):
    """(alpha, how it was chosen: '--alpha' / '--lambda' / 'default', alpha_max)."""
    amax = alpha_max(data.X, data.y, args.l1_ratio, not args.no_intercept, positive)
    if args.alpha is not None:
        return args.alpha, "--alpha", amax
    if args.lambda_ is not None:
        return args.lambda_ / 2, "--lambda", amax
    if not math.isfinite(amax):
        raise CommandError("with --l1-ratio 0 there is no alpha_max: give --alpha")
    if amax == 0:
        raise CommandError(
            "every alpha gives all-zero weights here (y is constant or "
            "X is zero): give --alpha to fit anyway"
        )
    return amax / DEFAULT_ALPHA_FRACTION, "default", amax


def _model_label(l1_ratio):
    return "Lasso" if l1_ratio == 1.0 else f"ElasticNet(l1_ratio={l1_ratio:g})"


def _data_summary(data):
    return {
        "name": data.name,
        "n_samples": data.n_samples,
        "n_features": data.n_features,
        "sparse": bool(sp.issparse(data.X)),
    }


def _top_features(names, coef, k):
    order = np.argsort(-np.abs(coef), kind="stable")
    return [
        {"feature": names[j], "weight": float(coef[j])}
        for j in order[:k]
        if coef[j] != 0
    ]


def _y_scale(y, fit_intercept):
    """||y - ybar||^2 / n: the unit of --tol."""
    yc = y - y.mean() if fit_intercept else y
    return float(yc @ yc) / y.shape[0]


class _Timed:
    """Time a block and collect the warnings it raises as unique one-line texts."""

    def __enter__(self):
        self._catcher = warnings.catch_warnings(record=True)
        self._caught = self._catcher.__enter__()
        warnings.simplefilter("always")
        self._start = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self._start
        self._catcher.__exit__(*exc)
        self.warnings = []
        for w in self._caught:
            text = (str(w.message).splitlines() or [""])[0]
            if text not in self.warnings:
                self.warnings.append(text)
        return False


def _finish(args, result, text):
    for line in result.get("warnings", []):
        print(f"fastlasso: warning: {line}", file=sys.stderr)
    print(json.dumps(result, indent=2) if args.json else "\n".join(text(result)))
    return 0


def _plot_function(args, name):
    """fastlasso.<name> if --plot was asked (None otherwise), checked before fitting."""
    if not args.plot:
        return None
    if importlib.util.find_spec("matplotlib") is None:
        raise CommandError("--plot needs matplotlib: pip install 'fastlasso[plot]'")
    plot = getattr(fastlasso, name, None)
    if plot is None:
        raise CommandError(f"--plot is not available: this fastlasso has no {name}")
    return plot


def _save_plot(plot, obj, filename, **kwargs):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure = plot(obj, **kwargs).figure
    figure.savefig(filename, bbox_inches="tight")
    plt.close(figure)


def _require(name, command):
    api = getattr(fastlasso, name, None)
    if api is None:
        raise CommandError(
            f"'fastlasso {command}' is not available yet: this version "
            f"of fastlasso has no {name}"
        )
    return api


def _progress(args):
    """Progress bars (the path and CV code draw them) only on a terminal."""
    return not args.quiet and sys.stderr.isatty()


# ---------------------------------------------------------------------------------- fit
def run_fit(args):
    data = load_dataset(args.data, args.target)
    alpha, how, amax = _chosen_alpha(args, data, args.positive)
    params = dict(
        alpha=alpha,
        fit_intercept=not args.no_intercept,
        positive=args.positive,
        tol=args.tol,
        max_iter=args.max_iter,
        n_jobs=args.threads,
        solver=args.solver,
    )
    if args.l1_ratio == 1.0:
        est = fastlasso.Lasso(**params)
    else:
        est = fastlasso.ElasticNet(l1_ratio=args.l1_ratio, **params)
    with _Timed() as timed:
        est.fit(data.X, data.y)
    coef = np.asarray(est.coef_, dtype=np.float64)
    n_nonzero = int(np.count_nonzero(coef))
    tolerance_gap = args.tol * _y_scale(data.y, not args.no_intercept)
    result = {
        "command": "fit",
        "model": _model_label(args.l1_ratio),
        "data": _data_summary(data),
        "alpha": alpha,
        "lambda": 2 * alpha,
        "l1_ratio": args.l1_ratio,
        "alpha_chosen_by": how,
        "default_fraction": DEFAULT_ALPHA_FRACTION,
        "alpha_max": amax,
        "n_nonzero": n_nonzero,
        "intercept": float(est.intercept_),
        "dual_gap": float(est.dual_gap_),
        "tolerance_gap": tolerance_gap,
        "converged": float(est.dual_gap_) <= tolerance_gap,
        "n_iter": int(est.n_iter_),
        "time_s": timed.seconds,
        "top_features": _top_features(data.feature_names, coef, args.top),
        "warnings": timed.warnings,
    }
    if args.out:
        report.write_coefficients(
            args.out,
            data.feature_names,
            coef,
            est.intercept_,
            {"alpha": np.float64(alpha)},
        )
        result["out"] = args.out
    return _finish(args, result, report.fit_text)


# --------------------------------------------------------------------------------- path
def run_path(args):
    enet_path = _require("enet_path", "path")
    plot = _plot_function(args, "plot_path")
    data = load_dataset(args.data, args.target)
    fit_intercept = not args.no_intercept
    with _Timed() as timed:
        alphas, coefs, gaps = enet_path(
            data.X,
            data.y,
            l1_ratio=args.l1_ratio,
            eps=args.eps,
            alphas=args.n_alphas,
            positive=args.positive,
            fit_intercept=fit_intercept,
            tol=args.tol,
            max_iter=args.max_iter,
            n_jobs=args.threads,
            verbose=_progress(args),
        )
    alphas = np.asarray(alphas, dtype=np.float64)
    coefs = np.asarray(coefs, dtype=np.float64)
    gaps = np.asarray(gaps, dtype=np.float64)
    entry = _entry_order(data.feature_names, alphas, coefs)
    result = {
        "command": "path",
        "model": _model_label(args.l1_ratio),
        "data": _data_summary(data),
        "l1_ratio": args.l1_ratio,
        "n_alphas": int(alphas.size),
        "alpha_max": float(alphas.max()),
        "alpha_min": float(alphas.min()),
        "alphas": alphas.tolist(),
        "n_nonzero": np.count_nonzero(coefs, axis=0).tolist(),
        "dual_gaps": gaps.tolist(),
        "time_s": timed.seconds,
        "entry_order": entry[: args.top],
        "n_entered": len(entry),
        "warnings": timed.warnings,
    }
    if args.out:
        intercepts = _path_intercepts(data, coefs, fit_intercept)
        report.write_path(args.out, data.feature_names, alphas, coefs, intercepts, gaps)
        result["out"] = args.out
    if plot is not None:
        _save_plot(
            plot,
            (alphas, coefs, gaps),
            args.plot,
            feature_names=data.feature_names,
            top=max(args.top, 1),
        )
        result["plot"] = args.plot
    return _finish(args, result, report.path_text)


def _path_intercepts(data, coefs, fit_intercept):
    """b(alpha) = ybar - xbar^T w(alpha) (zero without intercept)."""
    if not fit_intercept:
        return np.zeros(coefs.shape[1])
    return intercept_of(data.y.mean(), np.asarray(data.X.mean(axis=0)).ravel(), coefs)


def _entry_order(names, alphas, coefs):
    """Features in the order they enter the model, from the largest alpha down."""
    first = {}
    for i in np.argsort(-alphas, kind="stable"):
        for j in np.flatnonzero(coefs[:, i]):
            first.setdefault(int(j), float(alphas[i]))
    return [{"feature": names[j], "alpha": a} for j, a in first.items()]


# ----------------------------------------------------------------------------------- cv
def run_cv(args):
    lasso = args.l1_ratio == 1.0
    cv_class = _require("LassoCV" if lasso else "ElasticNetCV", "cv")
    plot = _plot_function(args, "plot_cv")
    data = load_dataset(args.data, args.target)
    if args.folds > data.n_samples:
        raise CommandError(
            f"--folds {args.folds} is more than the {data.n_samples} samples"
        )
    from sklearn.model_selection import KFold

    folds = KFold(args.folds, shuffle=args.seed is not None, random_state=args.seed)
    params = dict(
        eps=args.eps,
        alphas=args.n_alphas,
        fit_intercept=not args.no_intercept,
        positive=args.positive,
        tol=args.tol,
        max_iter=args.max_iter,
        cv=folds,
        n_jobs=args.threads,
        verbose=_progress(args),
        alpha_rule=args.rule,
    )
    if not lasso:
        params["l1_ratio"] = args.l1_ratio
    model = cv_class(**params)
    with _Timed() as timed:
        model.fit(data.X, data.y)
    coef = np.asarray(model.coef_, dtype=np.float64)
    alphas = np.asarray(model.alphas_, dtype=np.float64).ravel()
    mse = np.asarray(model.mse_path_, dtype=np.float64).reshape(alphas.size, -1)
    mean = mse.mean(axis=1)
    se = np.asarray(model.mse_se_, dtype=np.float64).reshape(alphas.size)

    def at(a):
        i = int(np.argmin(np.abs(alphas - a)))
        return {
            "alpha": float(a),
            "lambda": 2 * float(a),
            "cv_mse": float(mean[i]),
            "cv_mse_se": float(se[i]),
        }

    n_nonzero = int(np.count_nonzero(coef))
    result = {
        "command": "cv",
        "model": _model_label(args.l1_ratio),
        "data": _data_summary(data),
        "folds": args.folds,
        "rule": args.rule,
        "alpha": float(model.alpha_),
        "lambda": 2 * float(model.alpha_),
        "alpha_min": at(model.alpha_min_),
        "alpha_1se": at(model.alpha_1se_),
        "n_nonzero": n_nonzero,
        "intercept": float(model.intercept_),
        "dual_gap": float(model.dual_gap_),
        "time_s": timed.seconds,
        "top_features": _top_features(data.feature_names, coef, args.top),
        "warnings": timed.warnings,
    }
    if args.out:
        extra = {
            "alpha": np.float64(model.alpha_),
            "alphas": alphas,
            "mse_path": mse,
            "alpha_min": np.float64(model.alpha_min_),
            "alpha_1se": np.float64(model.alpha_1se_),
        }
        report.write_coefficients(
            args.out, data.feature_names, coef, model.intercept_, extra
        )
        result["out"] = args.out
    if plot is not None:
        _save_plot(plot, model, args.plot)
        result["plot"] = args.plot
    return _finish(args, result, report.cv_text)


# -------------------------------------------------------------------------------- bench
def run_bench(args):
    data = load_dataset(args.data, args.target)
    alpha, how, amax = _chosen_alpha(args, data)
    problem = Problem(
        alpha=alpha,
        l1_ratio=args.l1_ratio,
        fit_intercept=not args.no_intercept,
        tol=args.tol,
        max_iter=args.max_iter,
        n_jobs=args.threads,
    )
    rows = compare(data.X, data.y, problem, args.solvers, args.repeat)
    result = {
        "command": "bench",
        "model": _model_label(args.l1_ratio),
        "data": _data_summary(data),
        "alpha": alpha,
        "lambda": 2 * alpha,
        "alpha_chosen_by": how,
        "alpha_max": amax,
        "tol": args.tol,
        "repeat": args.repeat,
        "results": rows,
    }
    return _finish(args, result, report.bench_text)
