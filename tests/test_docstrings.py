"""Every public name documents itself in numpydoc form with a runnable example.

Public names: ``fastlasso.__all__`` and ``fastlasso.dask.__all__``. The examples
themselves are run by ``pytest --doctest-modules`` over the modules that define them (a
step of .ci/run, with the documentation build); this test keeps any public name from
losing its docstring, its sections or its example, so that the API reference
(generated from these docstrings) has no empty page.
"""

import inspect
import re

import pytest

import fastlasso

try:
    import fastlasso.dask as fastlasso_dask
except ImportError:  # the dask extra is not installed
    fastlasso_dask = None

PUBLIC = [(fastlasso, name) for name in fastlasso.__all__]
if fastlasso_dask is not None:
    PUBLIC += [(fastlasso_dask, name) for name in fastlasso_dask.__all__]
IDS = [f"{module.__name__}.{name}" for module, name in PUBLIC]


def _sections(doc):
    """{title: its lines} of a numpydoc docstring (a title is a line followed by a
    line of dashes of its length)."""
    lines = inspect.cleandoc(doc).splitlines()
    out, current = {}, None
    for i, line in enumerate(lines):
        nxt = lines[i + 1].strip() if i + 1 < len(lines) else ""
        if line.strip() and re.fullmatch(r"-+", nxt) and len(nxt) == len(line.strip()):
            current = line.strip()
            out[current] = []
        elif current is not None and not re.fullmatch(r"-+", line.strip()):
            out[current].append(line)
    return out


def _names(section_lines):
    """Names documented in a Parameters/Attributes section: "a, b : type" lines, a
    group of names possibly wrapped over lines ending with a comma."""
    names, pending = set(), ""
    for line in section_lines:
        if line.startswith(" "):  # a description line
            pending = ""
            continue
        text = pending + line.strip()
        if text.endswith(","):
            pending = text + " "
            continue
        pending = ""
        m = re.match(r"^(\*{0,2}\w+(?:, \*{0,2}\w+)*) :", text)
        if m:
            names.update(n.strip().lstrip("*") for n in m.group(1).split(","))
    return names


def test_all_lists_the_public_api():
    # the docs' api.rst is checked against __all__ at build time; __all__ itself must
    # name only objects that exist
    for module, name in PUBLIC:
        assert hasattr(module, name), f"{module.__name__}.{name}"


@pytest.mark.parametrize(("module", "name"), PUBLIC, ids=IDS)
def test_public_docstring_has_numpydoc_sections_and_an_example(module, name):
    obj = getattr(module, name)
    doc = obj.__doc__
    assert doc, f"{name} has no docstring"
    sections = _sections(doc)
    assert "Examples" in sections, f"{name}: no Examples section ({list(sections)})"
    assert any(line.lstrip().startswith(">>> ") for line in sections["Examples"]), (
        f"{name}: its Examples section has no >>> line")
    assert list(sections)[-1] == "Examples", f"{name}: Examples must come last"
    signature = inspect.signature(obj)
    if any(p.kind is p.VAR_KEYWORD for p in signature.parameters.values()):
        return  # lasso_path forwards **params: documented under enet_path's names
    documented = _names(sections.get("Parameters", []))
    missing = [p for p in signature.parameters if p not in documented]
    assert not missing, f"{name}: parameters not documented: {missing}"


ESTIMATORS = [(m, n) for m, n in PUBLIC if isinstance(getattr(m, n), type)]


@pytest.mark.parametrize(("module", "name"), ESTIMATORS,
                         ids=[f"{m.__name__}.{n}" for m, n in ESTIMATORS])
def test_estimator_docstring_documents_the_fitted_attributes(module, name):
    documented = _names(_sections(getattr(module, name).__doc__)["Attributes"])
    for attr in ("coef_", "intercept_", "dual_gap_", "n_iter_", "n_features_in_",
                 "feature_names_in_"):
        assert attr in documented, f"{name}: {attr}"
