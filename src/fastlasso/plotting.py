"""Pictures of regularisation paths and cross-validation curves (needs matplotlib:
``pip install fastlasso[plot]``)."""

import numpy as np


def _pyplot():
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:  # pragma: no cover - exercised by monkeypatching
        raise ImportError(
            "fastlasso's plots need matplotlib: pip install 'fastlasso[plot]' "
            "(or pip install matplotlib)."
        ) from exc
    return plt


def _axes(ax):
    if ax is not None:
        return ax
    return _pyplot().subplots(figsize=(7, 4.5))[1]


def _is_cv_model(obj):
    return hasattr(obj, "mse_path_") and hasattr(obj, "alphas_")


def _cv_curve(model):
    """(alphas, mean mse, se, nonzeros) of the chosen l1_ratio of a fitted CV model."""
    alphas = np.asarray(model.alphas_)
    mse = np.asarray(model.mse_path_)
    se = np.asarray(model.mse_se_)
    nnz = np.asarray(model.n_nonzero_path_)
    if mse.ndim == 3:  # several l1_ratios: show the chosen one
        ratios = np.atleast_1d(model.l1_ratio)
        i = int(np.flatnonzero(np.isclose(ratios, model.l1_ratio_))[0])
        mse, se, nnz = mse[i], se[i], nnz[i]
        alphas = alphas[i] if alphas.ndim == 2 else alphas
    return alphas, mse.mean(axis=1), se, nnz


def plot_path(model_or_path, X=None, y=None, *, ax=None, feature_names=None,
              top=10, sample_weight=None):
    """Coefficient paths against log10(alpha), with chosen alphas marked.

    Parameters
    ----------
    model_or_path : tuple or fitted LassoCV / ElasticNetCV
        ``(alphas, coefs, ...)`` as returned by :func:`fastlasso.lasso_path` /
        :func:`fastlasso.enet_path`; or a fitted CV model, whose path is recomputed on
        ``X, y`` (required then) over its grid, with ``alpha_min_`` and ``alpha_1se_``
        marked.
    X, y : data for a CV model (ignored for a path tuple).
    ax : matplotlib Axes, default=None (a new figure).
    feature_names : list of str, default=None
        Labels for the ``top`` features with the largest coefficients at the smallest
        alpha (a CV model's ``feature_names_in_`` are used when present).
    top : int, default=10
        How many paths get a legend entry.
    sample_weight : array-like, default=None
        For a CV model: weights of the path fit.

    Returns
    -------
    ax : matplotlib Axes

    See Also
    --------
    lasso_path, enet_path : Compute the path.
    plot_cv : The cross-validation curve of a CV model.

    Examples
    --------
    >>> from sklearn.datasets import load_diabetes
    >>> from fastlasso import lasso_path, plot_path
    >>> X, y = load_diabetes(return_X_y=True, as_frame=True)
    >>> path = lasso_path(X, y, fit_intercept=True)
    >>> ax = plot_path(path, feature_names=X.columns)
    >>> ax.get_xlabel()
    'log10(alpha)'
    >>> [t.get_text() for t in ax.get_legend().get_texts()][:4]
    ['age', 'sex', 'bmi', 'bp']
    """
    marks = {}
    if _is_cv_model(model_or_path):
        from fastlasso._path_functions import enet_path

        model = model_or_path
        if X is None or y is None:
            raise ValueError(
                "plot_path of a CV model needs the data: plot_path(model, X, y)."
            )
        l1 = getattr(model, "l1_ratio_", 1.0)
        alphas = np.asarray(model.alphas_)
        if alphas.ndim == 2:
            alphas = _cv_curve(model)[0]
        alphas, coefs, _ = enet_path(
            X, y, l1_ratio=l1, alphas=alphas, fit_intercept=model.fit_intercept,
            sample_weight=sample_weight, tol=model.tol, max_iter=model.max_iter,
            positive=model.positive,
        )
        marks = {"alpha_min": model.alpha_min_, "alpha_1se": model.alpha_1se_}
        if feature_names is None:
            feature_names = getattr(model, "feature_names_in_", None)
    elif isinstance(model_or_path, (tuple, list)) and len(model_or_path) >= 2:
        alphas, coefs = model_or_path[0], model_or_path[1]
    else:
        raise TypeError(
            "plot_path takes the (alphas, coefs, ...) tuple of lasso_path/enet_path "
            f"or a fitted LassoCV/ElasticNetCV, got {type(model_or_path).__name__}."
        )
    alphas = np.asarray(alphas, dtype=np.float64)
    coefs = np.asarray(coefs, dtype=np.float64)
    if coefs.ndim != 2 or coefs.shape[1] != alphas.shape[0]:
        raise ValueError(
            f"coefs must have shape (n_features, n_alphas={alphas.shape[0]}), "
            f"got {coefs.shape}."
        )
    ax = _axes(ax)
    log_alpha = np.log10(alphas)
    order = np.argsort(-np.abs(coefs[:, -1]))
    labelled = set(order[:top].tolist())
    for j in np.flatnonzero(np.any(coefs != 0, axis=1)):
        label = None
        if j in labelled:
            label = str(feature_names[j]) if feature_names is not None else f"x{j}"
        ax.plot(log_alpha, coefs[j], lw=1.2 if label else 0.7, label=label)
    for name, value in marks.items():
        color = "k" if name == "alpha_min" else "grey"
        ax.axvline(np.log10(value), ls="--", color=color, label=f"{name} = {value:.3g}")
    ax.axhline(0.0, color="k", lw=0.5)
    ax.set_xlabel("log10(alpha)")
    ax.set_ylabel("coefficient")
    ax.set_title("Regularisation path")
    ax.invert_xaxis()
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize="small", loc="best")
    return ax


def plot_cv(cv_model, *, ax=None):
    """Mean cross-validated MSE with one-standard-error bars against log10(alpha),
    ``alpha_min_`` and ``alpha_1se_`` marked, and the number of nonzero coefficients
    (mean over folds) along the top axis, as glmnet's ``plot(cv.glmnet)``.

    Parameters
    ----------
    cv_model : fitted LassoCV or ElasticNetCV
    ax : matplotlib Axes, default=None (a new figure).

    Returns
    -------
    ax : matplotlib Axes

    See Also
    --------
    LassoCV, ElasticNetCV : The models whose curve this draws.
    plot_path : The coefficient paths, with the same alphas marked.

    Examples
    --------
    >>> from sklearn.datasets import load_diabetes
    >>> from fastlasso import LassoCV, plot_cv
    >>> X, y = load_diabetes(return_X_y=True)
    >>> ax = plot_cv(LassoCV(cv=5).fit(X, y))
    >>> [t.get_text().split(" =")[0] for t in ax.get_legend().get_texts()]
    ['alpha_min', 'alpha_1se']
    """
    if not _is_cv_model(cv_model):
        raise TypeError("plot_cv needs a fitted fastlasso LassoCV or ElasticNetCV.")
    alphas, mean, se, nnz = _cv_curve(cv_model)
    ax = _axes(ax)
    log_alpha = np.log10(alphas)
    ax.errorbar(log_alpha, mean, yerr=se, fmt="o", ms=3, color="tab:red",
                ecolor="tab:grey", elinewidth=0.8, capsize=2)
    ax.axvline(np.log10(cv_model.alpha_min_), ls="--", color="k",
               label=f"alpha_min = {cv_model.alpha_min_:.3g}")
    ax.axvline(np.log10(cv_model.alpha_1se_), ls=":", color="k",
               label=f"alpha_1se = {cv_model.alpha_1se_:.3g}")
    ax.set_xlabel("log10(alpha)")
    ax.set_ylabel("mean squared error (CV)")
    ax.invert_xaxis()
    ax.legend(fontsize="small", loc="best")
    top = ax.twiny()
    top.set_xlim(ax.get_xlim())
    ticks = np.linspace(0, len(alphas) - 1, num=min(8, len(alphas))).astype(int)
    top.set_xticks(log_alpha[ticks])
    top.set_xticklabels([f"{nnz[t]:.0f}" for t in ticks])
    top.set_xlabel("nonzero coefficients (mean over folds)")
    return ax
