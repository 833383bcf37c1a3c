"""plot_path / plot_cv draw what they claim: rendered to PNG with the Agg backend, and
the artists checked against the data (coefficient paths vs log10(alpha), mean CV error
with one-standard-error bars, alpha_min / alpha_1se marks, nonzeros on the top axis).
"""

import subprocess
import sys

import matplotlib
import numpy as np
import pytest
from numpy.testing import assert_allclose
from sklearn import linear_model

import fastlasso

from conftest import make_regression_data

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (after choosing the backend)

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
L1_RATIOS = [1.0, 0.6, 0.2]  # unsorted on purpose: the plot must find l1_ratio_'s row


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def lasso_data():
    X, y, _ = make_regression_data(60, 30, seed=1)
    return X, y


@pytest.fixture(scope="module")
def lasso_cv(lasso_data):
    return fastlasso.LassoCV(alphas=20, tol=1e-10, max_iter=100_000).fit(*lasso_data)


@pytest.fixture(scope="module")
def enet_cv():
    """Correlated features with a dense truth: the smallest l1_ratio wins."""
    rng = np.random.default_rng(3)
    Z = rng.standard_normal((60, 5))
    X = Z @ rng.standard_normal((5, 30)) + 0.5 * rng.standard_normal((60, 30)) + 1.0
    y = X @ rng.uniform(0.2, 0.5, 30) + rng.standard_normal(60)
    model = fastlasso.ElasticNetCV(l1_ratio=L1_RATIOS, alphas=20, tol=1e-10)
    return model.fit(X, y), X, y


def assert_png(ax, path):
    ax.figure.savefig(path)
    data = path.read_bytes()
    assert data[:8] == PNG_MAGIC
    assert len(data) > 2000


def vertical_lines(ax):
    """x positions of the axvline artists (x data constant, y spanning the axes)."""
    return {line.get_label(): line.get_xdata()[0] for line in ax.lines
            if np.ptp(line.get_xdata()) == 0 and len(line.get_xdata()) == 2}


def curve_lines(ax):
    """Lines that are curves over the grid (not the axvline/axhline marks)."""
    return [line for line in ax.lines if len(line.get_xdata()) > 2]


def top_axis(ax):
    others = [a for a in ax.figure.axes if a is not ax]
    assert len(others) == 1
    return others[0]


# ------------------------------------------------------------------------ plot_path


def test_plot_path_of_a_path_tuple(tmp_path):
    X, y, _ = make_regression_data(40, 12, seed=0)
    alphas, coefs, _ = fastlasso.lasso_path(X, y, alphas=15, eps=1e-2)
    ax = fastlasso.plot_path((alphas, coefs))
    assert_png(ax, tmp_path / "path.png")
    active = np.flatnonzero(np.any(coefs != 0, axis=1))
    curves = curve_lines(ax)
    assert len(curves) == len(active)  # one curve per feature that ever enters
    for line, j in zip(curves, active, strict=True):
        assert_allclose(line.get_xdata(), np.log10(alphas), rtol=1e-12)
        assert_allclose(line.get_ydata(), coefs[j], rtol=1e-6)
    assert vertical_lines(ax) == {}  # a bare path has no chosen alpha
    assert ax.get_xlabel() == "log10(alpha)"
    assert ax.xaxis_inverted()  # alpha decreasing from left to right, as glmnet


def test_plot_path_legend_names_the_top_features():
    X, y, _ = make_regression_data(40, 12, seed=0)
    alphas, coefs, gaps, n_iters = fastlasso.lasso_path(X, y, alphas=10,
                                                        return_n_iter=True)
    names = [f"gene{j}" for j in range(12)]
    ax = fastlasso.plot_path((alphas, coefs, gaps, n_iters), feature_names=names,
                             top=3)
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    largest = np.argsort(-np.abs(coefs[:, -1]))[:3]
    assert sorted(labels) == sorted(names[j] for j in largest)


def test_plot_path_draws_on_the_given_axes():
    X, y, _ = make_regression_data(40, 12, seed=0)
    fig, (left, right) = plt.subplots(1, 2)
    ax = fastlasso.plot_path(fastlasso.lasso_path(X, y, alphas=5), ax=right)
    assert ax is right and len(left.lines) == 0 and len(right.lines) > 0


def reference_path(X, y, alphas, l1_ratio):
    """scikit-learn's enet_path on centred data (= with intercept), tol=1e-14."""
    return linear_model.enet_path(X - X.mean(axis=0), y - y.mean(), l1_ratio=l1_ratio,
                                  alphas=alphas, tol=1e-14, max_iter=200_000)[1]


def assert_curves_are_path(ax, alphas, ref):
    """One curve per feature that is ever nonzero, in feature order, equal to ref."""
    active = np.flatnonzero(np.any(ref != 0, axis=1))
    curves = curve_lines(ax)
    assert len(curves) == len(active)
    for line, j in zip(curves, active, strict=True):
        assert_allclose(line.get_xdata(), np.log10(alphas), rtol=1e-12)
        assert_allclose(line.get_ydata(), ref[j], rtol=0, atol=1e-6 * np.abs(ref).max())


def test_plot_path_of_a_cv_model(lasso_cv, lasso_data, tmp_path):
    """The path is recomputed on (X, y) over alphas_ with the model's intercept;
    alpha_min_ and alpha_1se_ are marked."""
    X, y = lasso_data
    ax = fastlasso.plot_path(lasso_cv, X, y)
    assert_png(ax, tmp_path / "cv_path.png")
    marks = vertical_lines(ax)
    assert len(marks) == 2
    (x_min,) = [x for label, x in marks.items() if label.startswith("alpha_min")]
    (x_1se,) = [x for label, x in marks.items() if label.startswith("alpha_1se")]
    assert_allclose(x_min, np.log10(lasso_cv.alpha_min_), rtol=1e-12)
    assert_allclose(x_1se, np.log10(lasso_cv.alpha_1se_), rtol=1e-12)
    assert_curves_are_path(ax, lasso_cv.alphas_,
                           reference_path(X, y, lasso_cv.alphas_, 1.0))


def test_plot_path_of_an_enet_cv_model_uses_the_chosen_l1_ratio(enet_cv):
    model, X, y = enet_cv
    row = L1_RATIOS.index(model.l1_ratio_)
    assert row == 2
    ax = fastlasso.plot_path(model, X, y)
    alphas = model.alphas_[row]
    assert_curves_are_path(ax, alphas, reference_path(X, y, alphas, model.l1_ratio_))


# -------------------------------------------------------------------------- plot_cv


def assert_cv_plot(ax, alphas, mse_path, se, n_nonzero, alpha_min, alpha_1se):
    (bars,) = ax.containers
    data_line, _, (segments,) = bars.lines
    log_alpha = np.log10(alphas)
    mean = mse_path.mean(axis=1)
    assert_allclose(data_line.get_xdata(), log_alpha, rtol=1e-12)
    assert_allclose(data_line.get_ydata(), mean, rtol=1e-12)
    ends = np.array(segments.get_segments())  # (n_alphas, 2 ends, (x, y))
    assert_allclose(ends[:, 0, 0], log_alpha, rtol=1e-12)
    assert_allclose(ends[:, 0, 1], mean - se, rtol=1e-12)
    assert_allclose(ends[:, 1, 1], mean + se, rtol=1e-12)
    marks = vertical_lines(ax)
    assert_allclose(sorted(marks.values()), sorted(np.log10([alpha_min, alpha_1se])),
                    rtol=1e-12)
    labels = sorted(marks)
    assert labels[0].startswith("alpha_1se") and labels[1].startswith("alpha_min")
    top = top_axis(ax)
    assert "nonzero" in top.get_xlabel()
    assert_allclose(top.get_xlim(), ax.get_xlim(), rtol=1e-12)  # aligned axes
    ticks = top.get_xticks()
    texts = [t.get_text() for t in top.get_xticklabels()]
    assert 2 <= len(ticks) <= len(alphas)
    for x, text in zip(ticks, texts, strict=True):
        (k,) = np.flatnonzero(np.isclose(log_alpha, x, rtol=1e-12))
        assert text == f"{n_nonzero[k]:.0f}"


def test_plot_cv_of_lasso_cv(lasso_cv, tmp_path):
    ax = fastlasso.plot_cv(lasso_cv)
    assert_png(ax, tmp_path / "cv.png")
    m = lasso_cv
    se = m.mse_path_.std(axis=1, ddof=1) / np.sqrt(m.mse_path_.shape[1])
    assert_allclose(m.mse_se_, se, rtol=1e-12)
    assert_cv_plot(ax, m.alphas_, m.mse_path_, se, m.n_nonzero_path_, m.alpha_min_,
                   m.alpha_1se_)
    assert ax.xaxis_inverted()


def test_plot_cv_of_elastic_net_cv_with_l1_ratio_list(enet_cv, tmp_path):
    model, _, _ = enet_cv
    row = L1_RATIOS.index(model.l1_ratio_)
    assert row == 2
    ax = fastlasso.plot_cv(model)
    assert_png(ax, tmp_path / "enet_cv.png")
    mse = model.mse_path_[row]
    se = mse.std(axis=1, ddof=1) / np.sqrt(mse.shape[1])
    assert_cv_plot(ax, model.alphas_[row], mse, se, model.n_nonzero_path_[row],
                   model.alpha_min_, model.alpha_1se_)


def test_plot_cv_with_explicit_alphas_and_l1_ratio_list(enet_cv):
    _, X, y = enet_cv
    alphas = np.geomspace(3.0, 0.003, 12)
    model = fastlasso.ElasticNetCV(l1_ratio=L1_RATIOS, alphas=alphas, tol=1e-8)
    model.fit(X, y)
    row = L1_RATIOS.index(model.l1_ratio_)
    ax = fastlasso.plot_cv(model)
    mse = model.mse_path_[row]
    se = mse.std(axis=1, ddof=1) / np.sqrt(mse.shape[1])
    assert_cv_plot(ax, alphas, mse, se, model.n_nonzero_path_[row], model.alpha_min_,
                   model.alpha_1se_)


def test_plot_cv_draws_on_the_given_axes(lasso_cv):
    fig, ax = plt.subplots()
    assert fastlasso.plot_cv(lasso_cv, ax=ax) is ax


# ------------------------------------------------------------------- wrong inputs


@pytest.mark.parametrize(
    "obj",
    [
        lambda: fastlasso.LassoCV(),  # unfitted
        lambda: fastlasso.Lasso(alpha=0.1).fit(*make_regression_data(20, 6)[:2]),
        lambda: fastlasso.lasso_path(*make_regression_data(20, 6)[:2], alphas=3),
        lambda: "LassoCV",
    ],
    ids=["unfitted_cv", "single_fit", "path_tuple", "string"],
)
def test_plot_cv_rejects_what_is_not_a_fitted_cv_model(obj):
    with pytest.raises(TypeError, match="fitted fastlasso LassoCV or ElasticNetCV"):
        fastlasso.plot_cv(obj())


def test_plot_path_of_a_cv_model_needs_the_data(lasso_cv, lasso_data):
    X, _ = lasso_data
    with pytest.raises(ValueError, match=r"plot_path\(model, X, y\)"):
        fastlasso.plot_path(lasso_cv)
    with pytest.raises(ValueError, match=r"plot_path\(model, X, y\)"):
        fastlasso.plot_path(lasso_cv, X)


@pytest.mark.parametrize("coefs_shape", [(4, 6), (4,), (2, 4, 5)])
def test_plot_path_rejects_coefs_of_the_wrong_shape(coefs_shape):
    alphas = np.geomspace(1.0, 0.01, 5)
    with pytest.raises(ValueError, match="coefs must have shape"):
        fastlasso.plot_path((alphas, np.ones(coefs_shape)))


def test_plot_path_rejects_a_single_fit():
    model = fastlasso.Lasso(alpha=0.1).fit(*make_regression_data(20, 6)[:2])
    with pytest.raises(TypeError):
        fastlasso.plot_path(model)


# ----------------------------------------------------------- matplotlib is optional


def test_missing_matplotlib_gives_a_clear_import_error(monkeypatch, lasso_cv):
    for name in [m for m in sys.modules if m.split(".")[0] == "matplotlib"]:
        monkeypatch.setitem(sys.modules, name, None)
    with pytest.raises(ImportError, match=r"need matplotlib.*pip install"):
        fastlasso.plot_cv(lasso_cv)
    with pytest.raises(ImportError, match=r"need matplotlib.*pip install"):
        fastlasso.plot_path((np.ones(2), np.ones((3, 2))))


@pytest.mark.slow  # a fresh interpreter in a subprocess
def test_fastlasso_imports_without_matplotlib():
    code = ("import sys; sys.modules['matplotlib'] = None; import fastlasso; "
            "assert callable(fastlasso.plot_cv)")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=300)
