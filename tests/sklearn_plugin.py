"""pytest plugin: run scikit-learn's own tests with ``fastlasso.patch_sklearn()``
active.

The strictest client of the drop-in promise is scikit-learn's own test suite (Intel's
scikit-learn-intelex holds its patching to the same standard). This plugin patches
scikit-learn when pytest configures itself, before any test module is collected, so
every ``from sklearn.linear_model import Lasso`` in a test module gets fastlasso's
object. Tests listed in ``sklearn_deselected.txt`` (next to this file) are deselected,
each for the reason written on its line.

Run it from a directory without a pytest configuration (scikit-learn's tests assume
pytest's defaults, e.g. non-strict xfail), with this directory on the path::

    cd "$(mktemp -d)" && PYTHONPATH=/path/to/fastlasso/tests python -m pytest \\
        -p sklearn_plugin --pyargs sklearn.linear_model.tests.test_coordinate_descent

or ``python tests/sklearn_plugin.py [GROUP ...] [-- PYTEST ARGS]``, which does exactly
that for the test modules of the named groups of ``SKLEARN_TEST_MODULES`` (all groups
by default). A group joins the run by adding its modules there (and its estimators to
``fastlasso.sklearn_patch.REPLACEABLE``): the multi-task and logistic estimators of
issue 21 add ``"multitask"`` / ``"logistic"`` entries such as
``sklearn.linear_model.tests.test_logistic``.

Deselection file format, one entry a line (``#`` starts a comment line)::

    <module>::<test name>[<parameters>]  -- <reason>

``<module>`` is the dotted test module; without ``[<parameters>]`` the entry covers
every parametrization of the test. Every entry needs a reason, and an entry that
matches no collected test of a module that was collected is an error (a stale entry
would silently hide a test once its cause is fixed).
"""

import os
import sys
import tempfile
from pathlib import Path

import pytest

DESELECTED_FILE = Path(__file__).with_name("sklearn_deselected.txt")
SEPARATOR = " -- "

# scikit-learn test modules run against the patch, by group of estimators
SKLEARN_TEST_MODULES = {
    "coordinate_descent": (
        "sklearn.linear_model.tests.test_coordinate_descent",
        "sklearn.linear_model.tests.test_sparse_coordinate_descent",
    ),
    "logistic": ("sklearn.linear_model.tests.test_logistic",),
}


def read_deselected(path=DESELECTED_FILE):
    """{(module, test name, parameters or None): reason} from the deselection file."""
    entries = {}
    for lineno, raw in enumerate(path.read_text().splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        target, sep, reason = line.partition(SEPARATOR)
        reason = reason.strip()
        if not sep or not reason:
            raise pytest.UsageError(
                f"{path.name}:{lineno}: no reason given "
                f"(write 'target{SEPARATOR}reason')"
            )
        module, sep, test = target.strip().partition("::")
        if not sep or not module or not test:
            raise pytest.UsageError(
                f"{path.name}:{lineno}: expected 'module::test[params]', got {target!r}"
            )
        name, bracket, params = test.partition("[")
        key = (module, name, params[:-1] if bracket else None)
        if bracket and not params.endswith("]"):
            raise pytest.UsageError(f"{path.name}:{lineno}: unbalanced '[' in {test!r}")
        if key in entries:
            raise pytest.UsageError(f"{path.name}:{lineno}: duplicate entry {target!r}")
        entries[key] = reason
    return entries


def _item_keys(item):
    """The two keys an item can be deselected by: with and without its parameters."""
    module = getattr(item.module, "__name__", None) if hasattr(item, "module") else None
    name = item.originalname if hasattr(item, "originalname") else item.name
    params = item.callspec.id if hasattr(item, "callspec") else None
    return (module, name, params), (module, name, None)


def pytest_configure(config):
    """Patch scikit-learn before collection imports any test module."""
    import fastlasso

    config._fastlasso_patched = fastlasso.patch_sklearn()
    config._fastlasso_deselected = read_deselected()
    config._fastlasso_report = []


def pytest_report_header(config):
    patched = getattr(config, "_fastlasso_patched", [])
    return [f"fastlasso.patch_sklearn(): {', '.join(patched)}"]


def pytest_collection_modifyitems(session, config, items):
    entries = config._fastlasso_deselected
    used, modules = set(), set()
    keep, drop = [], []
    for item in items:
        exact, whole = _item_keys(item)
        modules.add(exact[0])
        key = exact if exact in entries else whole if whole in entries else None
        if key is None:
            keep.append(item)
        else:
            used.add(key)
            drop.append(item)
    stale = [k for k in entries if k[0] in modules and k not in used]
    if stale:
        shown = "\n  ".join(
            f"{m}::{n}" + (f"[{p}]" if p is not None else "") for m, n, p in stale
        )
        raise pytest.UsageError(
            f"{DESELECTED_FILE.name}: entries that match no collected test "
            f"(remove them):\n  {shown}"
        )
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep
        config._fastlasso_report = sorted(
            {entries[k]: None for k in used}.keys()
        )
        config._fastlasso_n_deselected = len(drop)


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    reasons = getattr(config, "_fastlasso_report", [])
    if reasons:
        terminalreporter.write_sep(
            "-", f"{config._fastlasso_n_deselected} tests deselected "
            f"({DESELECTED_FILE.name}), reasons:"
        )
        for reason in reasons:
            terminalreporter.write_line(f"  {reason}")


def main(argv):
    """Run the named groups' modules (all by default) with the plugin, from a scratch
    directory; arguments after ``--`` go to pytest. Returns pytest's exit code."""
    groups, extra = argv, []
    if "--" in argv:
        i = argv.index("--")
        groups, extra = argv[:i], argv[i + 1:]
    unknown = [g for g in groups if g not in SKLEARN_TEST_MODULES]
    if unknown:
        sys.exit(f"unknown groups {unknown}; choose from {list(SKLEARN_TEST_MODULES)}")
    modules = [
        m for g in (groups or SKLEARN_TEST_MODULES) for m in SKLEARN_TEST_MODULES[g]
    ]
    here = str(Path(__file__).resolve().parent)
    env_path = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = here + (os.pathsep + env_path if env_path else "")
    sys.path.insert(0, here)
    with tempfile.TemporaryDirectory() as scratch:
        os.chdir(scratch)
        return pytest.main(
            ["-p", "sklearn_plugin", "-p", "no:cacheprovider", *extra,
             "--pyargs", *modules]
        )


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
