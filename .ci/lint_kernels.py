"""cython-lint on the kernels, templates included: ``python .ci/lint_kernels.py``.

cython-lint reads .pyx/.pxd/.pxi files; most kernels are Tempita templates (``*.tp``,
expanded per data layout by src/fastlasso/_build_tempita.py), which it cannot parse.
Each template is therefore checked twice:

- style (pycodestyle, with the ``[tool.cython-lint]`` settings of pyproject.toml) on
  the template's own text, with every Tempita directive line turned into a comment and
  every ``{{expression}}`` into a name of the same width, so that line numbers, line
  lengths and indentation are those of the file as written;
- Cython checks (unused names, imports, ...) on its expansion, as the compiler sees
  it; a finding is reported with the expanded line, and with the template's line when
  that line occurs in the template verbatim.

A finding of the Cython checks counts when every expansion of the line has it (a
name that only some layouts use is not dead). Plain .pxi files get the Cython checks
too (cython-lint runs them on .pyx/.pxd only).
Exits 1 on any finding.
"""

import io
import re
import shutil
import sys
import tempfile
from collections import Counter
from contextlib import redirect_stdout
from pathlib import Path

from cython_lint.cython_lint import main as cython_lint

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "fastlasso"
sys.path.insert(0, str(SRC))
from _build_tempita import expand  # noqa: E402

SPAN = re.compile(r"\{\{.*?\}\}", re.S)
DIRECTIVE = re.compile(r"\{\{\s*(for|endfor|if|elif|else|endif|py:|#)")


def masked(text):
    """The template with directives as comments and expressions as names."""
    lines = text.split("\n")
    out = list(lines)
    directive_lines = set()
    for m in SPAN.finditer(text):
        first = text.count("\n", 0, m.start())
        last = first + m.group().count("\n")
        if DIRECTIVE.match(m.group()):
            directive_lines.update(range(first, last + 1))
    def indent(k):
        return len(lines[k]) - len(lines[k].lstrip())

    code = [k for k, line in enumerate(lines)
            if k not in directive_lines and line.strip()]
    for i in sorted(directive_lines):
        # indented as the code after it; but a directive just before the closing
        # bracket of a call stays inside the call, indented as the code before it
        after = min((k for k in code if k > i), default=None)
        before = max((k for k in code if k < i), default=None)
        closing = after is not None and lines[after].strip() in (")", "]", "}", "):")
        k = before if closing and before is not None else after
        width = indent(k) if k is not None else 0
        out[i] = " " * width + "# (template directive)"
    text = "\n".join(out)
    return SPAN.sub(lambda m: "x" * len(m.group()), text)


def run(paths, *options):
    """cython-lint's findings on paths (lines of path:line:col: message)."""
    buffer = io.StringIO()
    with redirect_stdout(buffer):
        cython_lint([str(p) for p in paths] + list(options))
    return buffer.getvalue().splitlines()


def main():
    sources = sorted(p for p in SRC.iterdir()
                     if p.suffix in (".pyx", ".pxd", ".pxi") or p.name.endswith(".tp"))
    findings = []
    plain = [p for p in sources if not p.name.endswith(".tp")]
    findings += run(plain)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        # the settings of [tool.cython-lint] apply to the copies too
        shutil.copy(ROOT / "pyproject.toml", tmp / "pyproject.toml")
        (tmp / "style").mkdir()
        (tmp / "checks").mkdir()
        copies = {}  # copy -> (source, expansion text or None)
        for p in sources:
            if p.name.endswith(".tp"):
                text = p.read_text()
                style = tmp / "style" / (p.name[:-3].rsplit(".", 1)[0] + ".pxi")
                style.write_text(masked(text))
                copies[style] = (p, None)
                body = expand(text, str(p))
            elif p.suffix == ".pxi":
                body = p.read_text()
            else:
                continue
            checks = tmp / "checks" / (p.name.split(".")[0] + ".pyx")
            checks.write_text(body)
            copies[checks] = (p, body.split("\n"))
        lines = run([tmp / "style"]) + run([tmp / "checks"], "--no-pycodestyle")
        expanded = []  # Cython findings on expansions of templates
        for line in lines:
            path, lineno, rest = line.split(":", 2)
            source, body = copies[Path(path)]
            name = source.relative_to(ROOT)
            if body is None or not source.name.endswith(".tp"):
                findings.append(f"{name}:{lineno}:{rest}")
            else:
                code = body[int(lineno) - 1]
                message = rest.split(":", 1)[-1].strip()
                expanded.append((source, body, lineno, rest, code, message))
        # A template line is expanded once per layout; a name used by some layouts
        # only (a dense-only pointer) is unused in the others, which is no fault of
        # the template: a finding counts when every expansion of its line has it.
        count = Counter((f[0], f[4], f[5]) for f in expanded)
        reported = set()
        for source, body, lineno, rest, code, message in expanded:
            key = (source, code, message)
            if count[key] < body.count(code) or key in reported:
                continue
            reported.add(key)
            name = source.relative_to(ROOT)
            template = source.read_text().split("\n")
            where = [str(i + 1) for i, t in enumerate(template) if t == code]
            at = where[0] if len(where) == 1 else "?"
            findings.append(f"{name}:{at}:{rest}  [expanded line {lineno}: "
                            f"{code.strip()}]")
    for line in findings:
        print(line)
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
