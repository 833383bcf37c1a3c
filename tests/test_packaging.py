"""The package's own rules, checked on its source: one version source, and imports
that flow one way through the layers.

Layers (the table "Where a change goes" in CONTRIBUTING.md), lowest first; a module
may import modules of its own layer or of lower layers, never of higher ones:

  kernel   compiled kernels (_cd, _prox, _cd_multitask, _logistic, and _interrupt,
           the cancellation state they poll) and the leaf modules they and
           everything else may use (_cancel, _blas_threads, _compat, _progress,
           _param_check, _version);
  data     _data: validation, the Design, the Gram-mode parser, the intercept;
           _chunkstats: statistics of row chunks (for fastlasso.dask);
  solve    _solve (one solve), then _statsolve (solves from statistics),
           _solve_path (paths) and _solve_logistic (logistic solves and paths),
           _mt_polish (the multi-task solves' finish on their support), then _cv
           (cross-validation), then _multitask (multi-task solves, paths and CV)
           and _logistic_cv, which reuse the CV's pieces;
  public   estimators, path functions, plots, the scikit-learn patch;
  package  fastlasso/__init__.py (public names only);
  client   the command line and what only it uses (the data readers, the peer
           harness), which use the package as a user does.

Only clients import the package root; every other module imports the modules that
define what it needs (the root imports them, so the reverse would be a cycle).
"""

import ast
import importlib.metadata
import re
from pathlib import Path

import pytest

import fastlasso

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "fastlasso"
RANKS = {"kernel": 0, "data": 1, "solve": 2, "public": 3, "package": 4, "client": 5}
LAYER = {
    "_cd": "kernel",
    "_cd_multitask": "kernel",
    "_prox": "kernel",
    "_logistic": "kernel",
    "_interrupt": "kernel",
    "_cancel": "kernel",
    "_blas_threads": "kernel",
    "_compat": "kernel",
    "_progress": "kernel",
    "_param_check": "kernel",
    "_version": "kernel",
    "_build_tempita": "kernel",  # build script, imports nothing of fastlasso
    "_data": "data",
    "_chunkstats": "data",
    "_solve": "solve",
    "_statsolve": "solve",
    "_solve_path": "solve",
    "_cv": "solve",
    "_multitask": "solve",
    "_mt_polish": "solve",
    "_solve_logistic": "solve",
    "_logistic_cv": "solve",
    "_estimators": "public",
    "_estimators_cv": "public",
    "_estimators_multitask": "public",
    "_estimators_logistic": "public",
    "_sklearn_logistic": "public",  # scikit-learn's logistic classes, patched
    "_path_functions": "public",
    "plotting": "public",
    "sklearn_patch": "public",
    "dask": "public",  # the subpackage fastlasso.dask
    "__init__": "package",
    "cli": "client",
    "_cli_commands": "client",
    "_cli_report": "client",
    "_io": "client",
    "_bench_peers": "client",
}
# within the solve layer: one solve <- solves from statistics, paths, logistic solves
# <- cross-validation <- multi-task solves, paths and CV, logistic CV (which reuse the
# CV's folds and selection)
SOLVE_ORDER = {
    "_solve": 0, "_statsolve": 1, "_solve_path": 1, "_solve_logistic": 1, "_cv": 2,
    "_mt_polish": 1, "_multitask": 3, "_logistic_cv": 3,
}


def _modules():
    """(module name relative to fastlasso, path) of every Python source file."""
    for path in sorted(SRC.rglob("*.py")):
        parts = path.relative_to(SRC).with_suffix("").parts
        yield ".".join(parts), path


def _layer(name):
    top = name.split(".")[0]
    if top not in LAYER:
        pytest.fail(
            f"fastlasso.{name} is in no layer: add it to LAYER in "
            f"{Path(__file__).name} (and to the layers in CONTRIBUTING.md)"
        )
    return LAYER[top]


def _imports(path):
    """Names of fastlasso modules imported by the file at path ("" for the package
    root), from every import statement, at module level or inside functions."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == "fastlasso" or alias.name.startswith("fastlasso."):
                    found.append(alias.name.removeprefix("fastlasso").lstrip("."))
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module == "fastlasso":
                for alias in node.names:  # a submodule, or a name of the root
                    is_module = (SRC / f"{alias.name}.py").exists() or any(
                        SRC.glob(f"{alias.name}.pyx*")
                    )
                    found.append(alias.name if is_module else "")
            elif node.module.startswith("fastlasso."):
                found.append(node.module.removeprefix("fastlasso."))
    return found


def test_every_module_is_in_a_layer():
    for name, _ in _modules():
        if _layer(name) == "solve":
            assert name.split(".")[0] in SOLVE_ORDER, (
                f"fastlasso.{name} is in the solve layer but not in SOLVE_ORDER"
            )


@pytest.mark.parametrize("name", [name for name, _ in _modules()])
def test_imports_flow_one_way(name):
    path = dict(_modules())[name]
    layer = _layer(name)
    for target in _imports(path):
        if target == "":
            assert layer in ("package", "client"), (
                f"fastlasso.{name} imports the package root; import the defining "
                "module instead"
            )
            continue
        target_layer = _layer(target)
        assert RANKS[target_layer] <= RANKS[layer], (
            f"fastlasso.{name} ({layer}) imports fastlasso.{target} ({target_layer})"
        )
        top, target_top = name.split(".")[0], target.split(".")[0]
        if layer == target_layer == "solve":
            assert SOLVE_ORDER[target_top] <= SOLVE_ORDER[top], (
                f"fastlasso.{name} imports fastlasso.{target}, against the order "
                "of the solve layer (SOLVE_ORDER: _multitask -> _cv -> _solve_path "
                "-> _solve)"
            )


def _meson_version():
    text = (ROOT / "meson.build").read_text()
    match = re.search(r"project\(\s*'fastlasso'.*?version:\s*'([^']+)'", text, re.S)
    assert match, "no version in meson.build's project()"
    return match.group(1)


def test_version_has_one_source():
    # written once, in meson.build; pyproject.toml declares it dynamic, and
    # fastlasso.__version__ and the installed metadata both come from it
    version = _meson_version()
    assert fastlasso.__version__ == version
    assert importlib.metadata.version("fastlasso") == version
    pyproject = (ROOT / "pyproject.toml").read_text()
    project = pyproject.split("[project]", 1)[1].split("\n[", 1)[0]
    assert not re.search(r"^version\s*=", project, re.M)
    assert re.search(r'^dynamic\s*=\s*\[[^]]*"version"', project, re.M)
    for name, path in _modules():
        assert not re.search(r"(?<![\w.])__version__\s*=(?!=)", path.read_text()), (
            f"fastlasso.{name} assigns __version__; it is generated from meson.build"
        )
    assert re.fullmatch(r"\d+\.\d+\.\d+(\.dev\d+|rc\d+)?", version)


def test_version_of_the_command(capsys):
    from fastlasso.cli import main

    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0
    assert capsys.readouterr().out.strip() == f"fastlasso {_meson_version()}"
