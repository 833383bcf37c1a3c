"""The ``fastlasso`` command: results against scikit-learn, every data format, --out and
--plot files, one-line errors, help texts, progress, and the bench table."""

import bz2
import gzip
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose
from sklearn.datasets import dump_svmlight_file, load_diabetes
from sklearn.linear_model import ElasticNet, Lasso, LassoCV, lasso_path
from sklearn.model_selection import KFold

import fastlasso
from fastlasso import _bench_peers
from fastlasso.cli import build_parser, main

TIGHT = "1e-10"


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def run_json(capsys, *argv):
    code, out, err = run(capsys, *argv, "--json")
    assert code == 0, err
    return json.loads(out), err


def one_line_error(capsys, *argv, code=1):
    got, out, err = run(capsys, *argv)
    assert got == code
    assert out == ""
    assert err.count("\n") == 1 and "Traceback" not in err
    return err


def diabetes():
    data = load_diabetes()
    return data.data, data.target, list(data.feature_names)


def problem(n=50, p=7, seed=0):
    """Data with real zeros (so that sparse files are sparse) and no empty column."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p)) * (rng.random((n, p)) < 0.7)
    X[0] = 1.0  # every column, including column 0, has a nonzero
    y = X[:, 1] - 2 * X[:, 4] + 0.3 * rng.standard_normal(n) + 1.0
    return X, y


def alpha_max(X, y, fit_intercept=True, l1_ratio=1.0):
    yc = y - y.mean() if fit_intercept else y
    return np.abs(X.T @ yc).max() / (len(y) * l1_ratio)


def npz_coef(path):
    with np.load(path) as z:
        return z["coef"], float(z["intercept"]), list(z["feature_names"])


# ------------------------------------------------------------------ fit, quick start
@pytest.mark.slow  # the installed console script, in a subprocess
def test_quick_start_command_fits_the_diabetes_data():
    script = Path(sys.executable).with_name("fastlasso")
    assert script.exists(), "the console script is not installed"
    done = subprocess.run(
        [script, "fit"], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    X, y, _ = diabetes()
    out = done.stdout
    assert out.startswith("Lasso on diabetes")
    assert f"alpha       {alpha_max(X, y) / 20:.6g}" in out
    for label in ("nonzeros", "duality gap", "converged", "time", "bmi", "s5"):
        assert label in out
    assert len(out.splitlines()) < 25


def test_fit_default_alpha_and_weights_match_sklearn(capsys, tmp_path):
    X, y, names = diabetes()
    out = tmp_path / "coef.npz"
    result, err = run_json(capsys, "fit", "--tol", TIGHT, "--out", out)
    alpha = alpha_max(X, y) / 20
    assert result["alpha"] == pytest.approx(alpha, rel=1e-12)
    assert result["lambda"] == pytest.approx(2 * alpha, rel=1e-12)
    assert result["alpha_chosen_by"] == "default"
    ref = Lasso(alpha=alpha, tol=1e-12).fit(X, y)
    coef, intercept, saved_names = npz_coef(out)
    assert_allclose(coef, ref.coef_, rtol=1e-6, atol=1e-6)
    assert intercept == pytest.approx(ref.intercept_, rel=1e-8)
    assert saved_names == names
    assert result["n_nonzero"] == np.count_nonzero(ref.coef_)
    order = np.argsort(-np.abs(ref.coef_))[: result["n_nonzero"]]
    assert [t["feature"] for t in result["top_features"]] == [names[j] for j in order]
    assert_allclose(
        [t["weight"] for t in result["top_features"]], ref.coef_[order], rtol=1e-6
    )
    assert result["converged"] and result["dual_gap"] <= result["tolerance_gap"]
    assert err == ""


def test_lambda_is_twice_alpha(capsys, tmp_path):
    a, b = tmp_path / "a.npz", tmp_path / "b.npz"
    by_lambda, _ = run_json(
        capsys, "fit", "--lambda", "0.6", "--tol", TIGHT, "--out", a
    )
    run_json(capsys, "fit", "--alpha", "0.3", "--tol", TIGHT, "--out", b)
    assert by_lambda["alpha"] == 0.3 and by_lambda["alpha_chosen_by"] == "--lambda"
    assert_allclose(npz_coef(a)[0], npz_coef(b)[0], rtol=1e-9, atol=1e-9)
    # the textbook objective MSE + lambda*|w|_1 is minimal there: perturbing w raises it
    X, y, _ = diabetes()
    w, b0 = npz_coef(a)[:2]

    def textbook(w):
        return np.mean((y - X @ w - b0) ** 2) + 0.6 * np.abs(w).sum()

    rng = np.random.default_rng(0)
    best = textbook(w)
    assert all(
        textbook(w + 1e-3 * rng.standard_normal(w.size)) > best for _ in range(20)
    )


def test_elastic_net_positive_without_intercept_matches_sklearn(capsys, tmp_path):
    X, y = problem()
    path = tmp_path / "d.npz"
    np.savez(path, X=X, y=y)
    out = tmp_path / "coef.npz"
    result, _ = run_json(
        capsys,
        "fit",
        path,
        "--alpha",
        "0.05",
        "--l1-ratio",
        "0.4",
        "--positive",
        "--no-intercept",
        "--tol",
        TIGHT,
        "--out",
        out,
    )
    ref = ElasticNet(
        alpha=0.05, l1_ratio=0.4, positive=True, fit_intercept=False, tol=1e-12
    ).fit(X, y)
    coef, intercept, _ = npz_coef(out)
    assert_allclose(coef, ref.coef_, rtol=1e-6, atol=1e-8)
    assert intercept == 0.0 and result["intercept"] == 0.0
    assert (coef >= 0).all()
    assert result["model"] == "ElasticNet(l1_ratio=0.4)"


def test_out_csv_lists_intercept_then_every_weight(capsys, tmp_path):
    X, y, names = diabetes()
    out = tmp_path / "coef.csv"
    code, text, _ = run(capsys, "fit", "--alpha", "0.5", "--tol", TIGHT, "--out", out)
    assert code == 0 and f"coefficients written to {out}" in text
    lines = out.read_text().splitlines()
    assert lines[0] == "feature,weight"
    ref = Lasso(alpha=0.5, tol=1e-12).fit(X, y)
    assert lines[1].split(",")[0] == "(intercept)"
    assert float(lines[1].split(",")[1]) == pytest.approx(ref.intercept_, rel=1e-8)
    assert [line.split(",")[0] for line in lines[2:]] == names
    assert_allclose(
        [float(line.split(",")[1]) for line in lines[2:]],
        ref.coef_,
        rtol=1e-6,
        atol=1e-8,
    )


def test_non_convergence_is_one_warning_line_and_reported(capsys):
    result, err = run_json(
        capsys, "fit", "--alpha", "0.001", "--max-iter", "1", "--tol", "1e-14"
    )
    assert result["converged"] is False
    assert err.startswith("fastlasso: warning: Objective did not converge")
    assert err.count("\n") == 1
    assert result["warnings"] == [err.removeprefix("fastlasso: warning: ").strip()]


# ------------------------------------------------------------------------- data formats
def _svmlight(tmp_path, name, X, y, zero_based, opener=open):
    plain = tmp_path / "plain.svm"
    dump_svmlight_file(X, y, str(plain), zero_based=zero_based)
    path = tmp_path / name
    with opener(path, "wb") as handle:
        handle.write(plain.read_bytes())
    return path


def _csv(tmp_path, name, X, y, sep=",", opener=open):
    names = [f"f{j}" for j in range(X.shape[1])]
    header = names[:3] + ["response"] + names[3:]
    rows = [sep.join(header)]
    for xi, yi in zip(X, y, strict=True):
        cells = [repr(float(v)) for v in xi]
        rows.append(sep.join(cells[:3] + [repr(float(yi))] + cells[3:]))
    path = tmp_path / name
    with opener(path, "wb") as handle:
        handle.write(("\n".join(rows) + "\n").encode())
    return path


def _npz_dense(tmp_path, X, y):
    np.savez(tmp_path / "d.npz", X=X, y=y)
    return tmp_path / "d.npz"


def _npz_parts(tmp_path, X, y):  # the layout of ../shared/data: CSC parts with X_
    Xc = sp.csc_matrix(X)
    np.savez(
        tmp_path / "s.npz",
        X_data=Xc.data,
        X_indices=Xc.indices,
        X_indptr=Xc.indptr,
        X_shape=np.array(Xc.shape),
        y=y,
    )
    return tmp_path / "s.npz"


def _npz_save_npz_keys(tmp_path, X, y):  # scipy.sparse.save_npz's keys, CSR, plus y
    Xr = sp.csr_matrix(X)
    np.savez(
        tmp_path / "r.npz",
        data=Xr.data,
        indices=Xr.indices,
        indptr=Xr.indptr,
        shape=np.array(Xr.shape),
        format=np.array(b"csr"),
        y=y,
        feature_names=np.array([f"g{j}" for j in range(X.shape[1])]),
    )
    return tmp_path / "r.npz"


FORMATS = {
    "svm one-based": (lambda t, X, y: _svmlight(t, "d.svm", X, y, False), "x1", []),
    "libsvm zero-based": (
        lambda t, X, y: _svmlight(t, "d.libsvm", X, y, True),
        "x0",
        [],
    ),
    "svm.gz": (
        lambda t, X, y: _svmlight(t, "d.svm.gz", X, y, False, gzip.open),
        "x1",
        [],
    ),
    "txt.bz2": (
        lambda t, X, y: _svmlight(t, "d.txt.bz2", X, y, False, bz2.open),
        "x1",
        [],
    ),
    "npz dense": (_npz_dense, "x0", []),
    "npz CSC parts": (_npz_parts, "x0", []),
    "npz save_npz keys": (_npz_save_npz_keys, "g0", []),
    "csv": (lambda t, X, y: _csv(t, "d.csv", X, y), "f0", ["--target", "response"]),
    "csv.gz": (
        lambda t, X, y: _csv(t, "d.csv.gz", X, y, opener=gzip.open),
        "f0",
        ["--target", "response"],
    ),
    "tsv": (
        lambda t, X, y: _csv(t, "d.tsv", X, y, sep="\t"),
        "f0",
        ["--target", "response"],
    ),
}


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_every_format_gives_sklearns_fit(capsys, tmp_path, fmt):
    X, y = problem()
    write, first_name, extra = FORMATS[fmt]
    path = write(tmp_path, X, y)
    out = tmp_path / "coef.npz"
    result, _ = run_json(
        capsys, "fit", path, *extra, "--alpha", "0.05", "--tol", TIGHT, "--out", out
    )
    ref = Lasso(alpha=0.05, tol=1e-12).fit(X, y)
    coef, intercept, names = npz_coef(out)
    assert_allclose(coef, ref.coef_, rtol=1e-6, atol=1e-8)
    assert intercept == pytest.approx(ref.intercept_, rel=1e-8)
    assert names[0] == first_name and len(names) == X.shape[1]
    assert result["data"]["n_samples"] == X.shape[0]
    assert result["data"]["sparse"] == (
        fmt.startswith(("svm", "libsvm", "txt")) or "parts" in fmt or "save_npz" in fmt
    )


def _write(tmp_path, name, content):
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    return path


def _bad_npz(tmp_path, **arrays):
    np.savez(tmp_path / "bad.npz", **arrays)
    return tmp_path / "bad.npz"


BAD_FILES = {
    "missing": (lambda t: t / "nope.svm", [], "no such file"),
    "directory": (lambda t: t, [], "is a directory"),
    "extension": (lambda t: _write(t, "d.dat", "1 2\n"), [], "cannot tell the format"),
    "svm syntax": (lambda t: _write(t, "d.svm", "1 a:b\n"), [], "not a valid svmlight"),
    "svm empty": (lambda t: _write(t, "d.svm", ""), [], "holds no samples"),
    "gz not gzip": (lambda t: _write(t, "d.svm.gz", "1 1:2\n"), [], "cannot read"),
    "npz garbage": (lambda t: _write(t, "d.npz", "not a zip"), [], ".npz"),
    "npz no y": (lambda t: _bad_npz(t, X=np.ones((3, 2))), [], "no array 'y'"),
    "npz no X": (lambda t: _bad_npz(t, y=np.ones(3)), [], "neither X"),
    "npz pickled": (
        lambda t: _bad_npz(t, X=np.array([sp.eye(3)], dtype=object), y=np.ones(3)),
        [],
        "pickled",
    ),
    "npz y length": (
        lambda t: _bad_npz(t, X=np.ones((3, 2)), y=np.ones(4)),
        [],
        "3 rows but y has 4",
    ),
    "npz sparse parts": (
        lambda t: _bad_npz(
            t,
            X_data=np.ones(2),
            X_indices=[0, 9],
            X_indptr=[0, 1, 2],
            X_shape=[3, 2],
            y=np.ones(3),
        ),
        [],
        "inconsistent sparse",
    ),
    "csv no target": (lambda t: _write(t, "d.csv", "a,b\n1,2\n"), [], "--target"),
    "csv unknown target": (
        lambda t: _write(t, "d.csv", "a,b\n1,2\n"),
        ["--target", "c"],
        "'c' is not in",
    ),
    "csv text cell": (
        lambda t: _write(t, "d.csv", "a,b\n1,2\n3,x\n"),
        ["--target", "a"],
        "data row 2, column 'b': 'x' is not a number",
    ),
    "csv empty cell": (
        lambda t: _write(t, "d.csv", "a,b\n1,\n"),
        ["--target", "a"],
        "an empty cell",
    ),
    "csv ragged": (
        lambda t: _write(t, "d.csv", "a,b\n1,2,3\n"),
        ["--target", "a"],
        "3 cells",
    ),
    "csv header only": (
        lambda t: _write(t, "d.csv", "a,b\n"),
        ["--target", "a"],
        "no data rows",
    ),
    "target not csv": (
        lambda t: _bad_npz(t, X=np.ones((3, 2)), y=np.ones(3)),
        ["--target", "y"],
        "CSV files only",
    ),
    "nan in X": (
        lambda t: _write(t, "d.csv", "a,b\n1,2\n2,nan\n"),
        ["--target", "a"],
        "X holds nan (sample 2, feature 'b')",
    ),
    "inf in y": (
        lambda t: _write(t, "d.csv", "a,b\n1,2\ninf,3\n"),
        ["--target", "a"],
        "y holds inf (sample 2)",
    ),
    "nan in sparse X": (
        lambda t: _write(t, "d.svm", "1 1:2\n2 2:nan\n"),
        [],
        "X holds nan (sample 2, feature 'x2')",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_bad_files_give_one_line_on_stderr(capsys, tmp_path, case):
    make, extra, message = BAD_FILES[case]
    err = one_line_error(capsys, "fit", make(tmp_path), *extra)
    assert err.startswith("fastlasso fit: error: ")
    assert message in err


def test_target_for_builtin_data_is_refused(capsys):
    err = one_line_error(capsys, "fit", "--target", "y")
    assert "built-in data" in err


# ------------------------------------------------------------------------------ options
BAD_OPTIONS = [
    (["fit", "--alpha", "-1"], "--alpha: -1 must be >= 0.0"),
    (["fit", "--alpha", "x"], "'x' is not a valid float"),
    (["fit", "--alpha", "nan"], "is not finite"),
    (["fit", "--alpha", "1", "--lambda", "2"], "not allowed with argument --alpha"),
    (["fit", "--l1-ratio", "1.5"], "must be <= 1.0"),
    (["fit", "--tol", "0"], "must be > 0.0"),
    (["fit", "--max-iter", "0"], "must be >= 1"),
    (["fit", "--threads", "0"], "0 threads"),
    (["fit", "--solver", "newton"], "invalid choice: 'newton'"),
    (["fit", "--out", "coef.txt"], "must end with .csv or .npz"),
    (["fit", "--frobnicate"], "unrecognized arguments"),
    (["path", "--eps", "0"], "must be > 0.0"),
    (["path", "--plot", "p.gif"], "must end with .png or .svg or .pdf"),
    (["cv", "--folds", "1"], "must be >= 2"),
    (["cv", "--rule", "2se"], "invalid choice: '2se'"),
    (["bench", "--solvers", "fastlasso,lars"], "unknown solver(s) lars"),
    (["bench", "--l1-ratio", "0"], "must be > 0.0"),
    (["frobnicate"], "invalid choice: 'frobnicate'"),
    ([], "the following arguments are required: COMMAND"),
]


@pytest.mark.parametrize(("argv", "message"), BAD_OPTIONS)
def test_bad_options_give_one_line_and_status_2(capsys, argv, message):
    with pytest.raises(SystemExit) as stop:
        main(argv)
    out, err = capsys.readouterr()
    assert stop.value.code == 2 and out == ""
    assert err.count("\n") == 1 and message in err and "--help')" in err


def test_elastic_net_with_l1_ratio_0_needs_an_alpha(capsys):
    assert "give --alpha" in one_line_error(capsys, "fit", "--l1-ratio", "0")


def _subparsers(parser):
    action = next(a for a in parser._actions if a.choices and a.dest == "command")
    return action.choices


def test_every_option_of_every_command_is_explained(capsys):
    parser = build_parser()
    commands = _subparsers(parser)
    assert sorted(commands) == ["bench", "cv", "fit", "path"]
    for name, sub in [("fastlasso", parser), *commands.items()]:
        for action in sub._actions:
            if action.dest in ("help", "command", "version"):
                continue
            assert action.help and len(action.help) > 15, (name, action.dest)
    with pytest.raises(SystemExit) as stop:
        main(["--help"])
    out = capsys.readouterr().out
    assert stop.value.code == 0
    for name in commands:
        assert name in out
    for name, sub in commands.items():
        with pytest.raises(SystemExit):
            main([name, "--help"])
        text = capsys.readouterr().out
        for action in sub._actions:
            assert all(opt in text for opt in action.option_strings)


# ------------------------------------------------------------------------------- errors
def test_unexpected_errors_are_one_line_and_debug_shows_them(capsys, monkeypatch):
    def boom(self, X, y):
        raise RuntimeError("solver exploded\nwith details")

    monkeypatch.setattr(fastlasso.Lasso, "fit", boom)
    err = one_line_error(capsys, "fit")
    assert "solver exploded with details (RuntimeError;" in err
    with pytest.raises(RuntimeError, match="solver exploded"):
        main(["--debug", "fit"])


def test_ctrl_c_exits_with_130(capsys, monkeypatch):
    def interrupted(self, X, y):
        raise KeyboardInterrupt

    monkeypatch.setattr(fastlasso.Lasso, "fit", interrupted)
    err = one_line_error(capsys, "fit", code=130)
    assert err == "fastlasso fit: interrupted\n"


# --------------------------------------------------------------------------------- path
def test_path_matches_sklearns_lasso_path(capsys, tmp_path):
    X, y = problem()
    data = _npz_dense(tmp_path, X, y)
    out = tmp_path / "path.npz"
    result, err = run_json(
        capsys,
        "path",
        data,
        "--n-alphas",
        "12",
        "--eps",
        "0.01",
        "--tol",
        TIGHT,
        "--out",
        out,
    )
    assert err == ""  # no progress bar when stderr is not a terminal
    Xc, yc = X - X.mean(0), y - y.mean()
    alphas, coefs, _ = lasso_path(Xc, yc, eps=0.01, alphas=12, tol=1e-12)
    with np.load(out) as z:
        assert_allclose(z["alphas"], alphas, rtol=1e-10)
        assert_allclose(z["coefs"], coefs, rtol=1e-5, atol=1e-8)
        assert_allclose(z["intercepts"], y.mean() - X.mean(0) @ coefs, rtol=1e-5)
        ref = Lasso(alpha=alphas[5], tol=1e-12).fit(X, y)
        assert z["intercepts"][5] == pytest.approx(ref.intercept_, rel=1e-5)
    assert_allclose(result["alphas"], alphas, rtol=1e-10)
    assert result["n_nonzero"] == np.count_nonzero(coefs, axis=0).tolist()
    first = [
        int(np.flatnonzero(coefs[j])[0]) for j in range(X.shape[1]) if coefs[j].any()
    ]
    entered = sorted((i, j) for j, i in zip(range(X.shape[1]), first, strict=False))
    assert [e["alpha"] for e in result["entry_order"]] == pytest.approx(
        [alphas[i] for i, _ in entered], rel=1e-12
    )


def test_path_csv_has_one_row_per_alpha(capsys, tmp_path):
    out = tmp_path / "path.csv"
    code, text, _ = run(capsys, "path", "--n-alphas", "7", "--out", out)
    assert code == 0 and "7 alphas" in text
    lines = out.read_text().splitlines()
    assert lines[0].split(",")[:5] == [
        "alpha",
        "lambda",
        "dual_gap",
        "intercept",
        "age",
    ]
    assert len(lines) == 8 and all(len(line.split(",")) == 14 for line in lines)
    first = [float(v) for v in lines[1].split(",")]
    assert first[1] == pytest.approx(2 * first[0]) and not any(first[4:])


@pytest.mark.parametrize(("command", "suffix"), [("path", ".png"), ("cv", ".svg")])
def test_plot_files_are_written(capsys, tmp_path, command, suffix):
    picture = tmp_path / f"picture{suffix}"
    code, text, _ = run(capsys, command, "--n-alphas", "10", "--plot", picture)
    assert code == 0 and f"picture written to {picture}" in text
    head = picture.read_bytes()[:200]
    assert (
        head.startswith(b"\x89PNG")
        if suffix == ".png"
        else b"<svg" in head or (b"<?xml" in head)
    )


def test_progress_is_asked_for_only_on_a_terminal(capsys, monkeypatch):
    seen = []
    real = fastlasso.enet_path

    def spy(*args, **kwargs):
        seen.append(kwargs["verbose"])
        return real(*args, **{**kwargs, "verbose": False})

    monkeypatch.setattr(fastlasso, "enet_path", spy)
    run(capsys, "path", "--n-alphas", "5")
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    run(capsys, "path", "--n-alphas", "5")
    run(capsys, "path", "--n-alphas", "5", "--quiet")
    assert seen == [False, True, False]


@pytest.mark.parametrize(
    ("missing", "argv"),
    [
        ("enet_path", ["path"]),
        ("LassoCV", ["cv"]),
        ("ElasticNetCV", ["cv", "--l1-ratio", "0.5"]),
    ],
)
def test_path_and_cv_say_when_their_api_is_missing(capsys, monkeypatch, missing, argv):
    monkeypatch.delattr(fastlasso, missing)
    err = one_line_error(capsys, *argv)
    assert f"is not available yet: this version of fastlasso has no {missing}" in err


def test_plot_says_when_the_plot_api_is_missing(capsys, monkeypatch, tmp_path):
    monkeypatch.delattr(fastlasso, "plot_path")
    err = one_line_error(capsys, "path", "--plot", tmp_path / "p.png")
    assert "no plot_path" in err


# ----------------------------------------------------------------------------------- cv
def test_cv_alphas_match_sklearn_and_the_one_se_rule(capsys, tmp_path):
    X, y, _ = diabetes()
    out = tmp_path / "cv.npz"
    result, _ = run_json(
        capsys,
        "cv",
        "--folds",
        "4",
        "--n-alphas",
        "30",
        "--rule",
        "1se",
        "--tol",
        TIGHT,
        "--out",
        out,
    )
    ref = LassoCV(cv=KFold(4), alphas=30, tol=1e-12, max_iter=100_000).fit(X, y)
    mean = ref.mse_path_.mean(axis=1)
    se = ref.mse_path_.std(axis=1, ddof=1) / np.sqrt(4)
    best = np.argmin(mean)
    one_se = ref.alphas_[np.flatnonzero(mean <= mean[best] + se[best])[0]]
    assert result["alpha_min"]["alpha"] == pytest.approx(ref.alpha_, rel=1e-10)
    assert result["alpha_min"]["cv_mse"] == pytest.approx(mean[best], rel=1e-5)
    assert result["alpha_1se"]["alpha"] == pytest.approx(one_se, rel=1e-10)
    assert result["alpha"] == result["alpha_1se"]["alpha"]
    refit = Lasso(alpha=one_se, tol=1e-12).fit(X, y)
    coef, intercept, _ = npz_coef(out)
    assert_allclose(coef, refit.coef_, rtol=1e-5, atol=1e-6)
    assert intercept == pytest.approx(refit.intercept_, rel=1e-6)
    assert result["n_nonzero"] == np.count_nonzero(refit.coef_)


def test_cv_text_marks_the_chosen_rule(capsys):
    code, text, _ = run(capsys, "cv", "--folds", "3", "--n-alphas", "10", "--seed", "1")
    lines = text.splitlines()
    assert code == 0
    assert lines[1].startswith("alpha_min") and lines[1].endswith("<- chosen")
    assert lines[2].startswith("alpha_1se") and "chosen" not in lines[2]


def test_cv_with_more_folds_than_samples_is_refused(capsys, tmp_path):
    X, y = problem(n=6)
    err = one_line_error(capsys, "cv", _npz_dense(tmp_path, X, y), "--folds", "10")
    assert "--folds 10 is more than the 6 samples" in err


# -------------------------------------------------------------------------------- bench
def _objective(X, y, coef, intercept, alpha, l1_ratio):
    r = y - X @ coef - intercept
    return (
        r @ r / (2 * len(y))
        + alpha * l1_ratio * np.abs(coef).sum()
        + alpha * (1 - l1_ratio) / 2 * coef @ coef
    )


def test_bench_table_reports_time_and_objective_of_each_solver(capsys):
    result, _ = run_json(
        capsys,
        "bench",
        "--solvers",
        "fastlasso,scikit-learn",
        "--repeat",
        "1",
        "--tol",
        TIGHT,
    )
    X, y, _ = diabetes()
    alpha = alpha_max(X, y) / 20
    ref = Lasso(alpha=alpha, tol=1e-12).fit(X, y)
    best = _objective(X, y, ref.coef_, ref.intercept_, alpha, 1.0)
    rows = {row["solver"]: row for row in result["results"]}
    assert sorted(rows) == ["fastlasso", "scikit-learn"]
    for row in rows.values():
        assert row["status"] == "ok" and row["time_s"] > 0
        assert row["objective"] == pytest.approx(best, rel=1e-9)
        assert 0 <= row["rel_suboptimality"] < 1e-9
        assert row["n_nonzero"] == np.count_nonzero(ref.coef_)
    assert rows["fastlasso"]["time_vs_fastlasso"] == 1.0
    code, text, _ = run(
        capsys, "bench", "--solvers", "scikit-learn,fastlasso", "--repeat", "1"
    )
    header = text.splitlines()[3]
    assert code == 0 and header.split()[:2] == ["solver", "time"]
    assert text.splitlines()[4].startswith("scikit-learn")


def test_bench_lists_missing_and_failing_peers_and_goes_on(capsys, monkeypatch):
    def failing(*args):
        raise RuntimeError("peer crashed\nbadly")

    monkeypatch.setattr(_bench_peers.Celer, "module", "no_such_module_xyz")
    monkeypatch.setattr(_bench_peers.Skglm, "module", "numpy")
    monkeypatch.setattr(_bench_peers.Skglm, "_fit", failing)
    result, _ = run_json(
        capsys, "bench", "--solvers", "celer,skglm,fastlasso", "--repeat", "1"
    )
    rows = {row["solver"]: row for row in result["results"]}
    assert rows["celer"]["status"] == "not installed"
    assert rows["skglm"]["status"] == "failed: RuntimeError: peer crashed"
    assert rows["fastlasso"]["status"] == "ok"


@pytest.mark.parametrize(
    "peer", ["glmnet", "celer", "adelie", "glum", "sklearnex"]
)  # skglm: a 15 s JIT compile
def test_bench_peers_solve_the_same_elastic_net(capsys, peer):
    pytest.importorskip(peer)  # the bench extra; the test extra does not install it
    result, _ = run_json(
        capsys,
        "bench",
        "--solvers",
        f"scikit-learn,{peer}",
        "--l1-ratio",
        "0.5",
        "--repeat",
        "1",
        "--tol",
        TIGHT,
    )
    rows = {row["solver"]: row for row in result["results"]}
    assert rows[peer]["status"].startswith(("ok", "warned"))
    assert rows[peer]["rel_suboptimality"] < 1e-6
