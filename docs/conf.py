"""Sphinx configuration of fastlasso's documentation.

Build (from the repository root):

    pip install ".[docs]" && sphinx-build -W -b html docs docs/_build/html

The gallery runs every ``examples/plot_*.py`` script and embeds its pictures; the API
pages are generated from the docstrings by autosummary. Nothing here reaches the
network: no intersphinx inventories, no data downloads.
"""

import os
import sys
import warnings
from pathlib import Path

import fastlasso

DOCS = Path(__file__).resolve().parent
sys.path.insert(0, str(DOCS / "_ext"))

project = "fastlasso"
author = "the fastlasso developers"
copyright = "fastlasso developers (BSD-3-Clause)"
release = fastlasso.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "numpydoc",
    "myst_parser",
    "sphinx_gallery.gen_gallery",
    "fastlasso_docs",
    "mathsvg",
]
# math drawn into the pages at build time (no CDN, no JavaScript): see _ext/mathsvg.py
html_math_renderer = "mathsvg"

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "auto_examples/*.ipynb", "auto_examples/*.py",
                    "auto_examples/*.zip", "auto_examples/*.json",
                    "auto_examples/*.md5", "auto_examples/*.codeobj.json"]
templates_path = ["_templates"]

# -- API reference: one page per public name, from its docstring ------------------
autosummary_generate = True
autosummary_imported_members = True
autodoc_default_options = {"members": False, "inherited-members": False}
numpydoc_show_class_members = False  # the class template lists the methods itself
numpydoc_class_members_toctree = False

# -- Markdown (the README-like pages, CHANGELOG.md, benchmarks/README.md) --------
myst_enable_extensions = ["dollarmath", "colon_fence"]
myst_heading_anchors = 3
# Included files (benchmarks/README.md, CHANGELOG.md) are written for GitHub and may
# skip heading levels; that is not an error in the site.
suppress_warnings = ["myst.header"]

# -- Gallery: run every example, keep its pictures -------------------------------
# The agg backend needs no display.
os.environ.setdefault("MPLBACKEND", "agg")
sphinx_gallery_conf = {
    "examples_dirs": ["../examples"],
    "gallery_dirs": ["auto_examples"],
    "filename_pattern": r"/plot_",
    "ignore_pattern": r"__init__\.py",
    "within_subsection_order": "fastlasso_docs.ExampleOrder",
    "download_all_examples": False,
    "remove_config_comments": True,
    "abort_on_example_error": True,
    "min_reported_time": 1,
    "show_memory": False,
    "doc_module": ("fastlasso",),
    "backreferences_dir": "generated/backreferences",
    "reference_url": {"fastlasso": None},
    "matplotlib_animations": False,
    "image_scrapers": ("matplotlib",),
}
# matplotlib's agg backend under sphinx-gallery warns on plt.show(); not an error here.
warnings.filterwarnings("ignore", category=UserWarning,
                        message="Matplotlib is currently using agg")

# -- HTML --------------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"fastlasso {release}"
html_static_path = ["_static"]
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "navbar_align": "left",
    "footer_start": ["copyright"],
    "footer_end": [],
    "secondary_sidebar_items": ["page-toc"],
}
html_sidebars = {"benchmarks": []}
html_show_sourcelink = False
