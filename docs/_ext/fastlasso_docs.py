"""Small Sphinx helpers for fastlasso's documentation.

- ``.. program-help:: fit`` inserts the output of ``fastlasso fit --help`` (or of
  ``fastlasso --help`` without an argument) as a literal block, so the page on the
  command cannot drift from the parser. The command is reached through its console-
  script entry point, whichever module implements it.
- ``ExampleOrder`` orders the gallery as a reader meets the ideas (examples not
  listed come last, by file name).
- Methods that fastlasso's estimators inherit from scikit-learn (``get_params``,
  ``score``, the metadata-routing ``set_*_request``) get no entry of their own: their
  docstrings point into scikit-learn's documentation. The class template names them.
- At the end of reading, every name in the ``__all__`` of ``PUBLIC_MODULES`` must have
  a page in the API reference: a public name missing from ``api.rst`` is a build
  error (a warning, which ``-W`` turns into an error).
"""

import contextlib
import io
import os
from importlib.metadata import entry_points

from docutils import nodes
from docutils.parsers.rst import Directive
from sphinx.util import logging

logger = logging.getLogger(__name__)


def _command_main():
    (ep,) = entry_points(group="console_scripts", name="fastlasso")
    return ep.load()


def command_help(args):
    """The text ``fastlasso ARGS --help`` prints (80 columns)."""
    main = _command_main()
    out = io.StringIO()
    old = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = "80"
    try:
        with contextlib.redirect_stdout(out), contextlib.suppress(SystemExit):
            main([*args, "--help"])
    finally:
        if old is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = old
    return out.getvalue().rstrip()


class ProgramHelp(Directive):
    optional_arguments = 1
    has_content = False

    def run(self):
        text = command_help(self.arguments)
        node = nodes.literal_block(text, text)
        node["language"] = "text"
        return [node]


PUBLIC_MODULES = ["fastlasso", "fastlasso.dask"]

EXAMPLE_ORDER = [
    "plot_lasso_path.py",
    "plot_lasso_cv_1se.py",
    "plot_enet_vs_lasso.py",
    "plot_text_regression.py",
    "plot_solvers_compared.py",
    "plot_patch_sklearn.py",
    "plot_dask_lasso_cv.py",
]


class ExampleOrder:
    """sphinx-gallery sort key (``within_subsection_order``): EXAMPLE_ORDER first."""

    def __init__(self, src_dir):
        self.src_dir = src_dir

    def __call__(self, filename):
        name = str(filename).rsplit("/", 1)[-1]
        if name in EXAMPLE_ORDER:
            return (EXAMPLE_ORDER.index(name), name)
        return (len(EXAMPLE_ORDER), name)

    def __repr__(self):
        return "ExampleOrder"


def check_api_coverage(app, env):
    import importlib

    documented, module = set(), "fastlasso"
    with open(env.doc2path("api"), encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if line.startswith(".. currentmodule::"):
                module = line.split("::", 1)[1].strip()
            elif line and not line.startswith((".", ":")):
                documented.add(f"{module}.{line}")
    missing = []
    for name in PUBLIC_MODULES:
        mod = importlib.import_module(name)
        missing += [f"{name}.{n}" for n in mod.__all__
                    if f"{name}.{n}" not in documented]
    if missing:
        logger.warning("api.rst lists no page for these public names: %s",
                       ", ".join(missing))


def skip_inherited_from_sklearn(app, what, name, obj, skip, options):
    """Skip (True) a method defined outside fastlasso; else leave the decision."""
    if what == "method" or callable(obj):
        module = getattr(obj, "__module__", None) or ""
        if module and not module.startswith("fastlasso"):
            return True
    return None


def setup(app):
    app.add_directive("program-help", ProgramHelp)
    app.connect("autodoc-skip-member", skip_inherited_from_sklearn)
    app.connect("env-updated", check_api_coverage)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
