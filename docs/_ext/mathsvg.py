"""Math rendered at build time, so the pages need no network and no JavaScript.

Sphinx's default HTML math renderer loads MathJax from a CDN when the page is viewed;
this project has no host and its pages are read from files, often offline. This
renderer draws every ``$...$`` / ``$$...$$`` (and ``:math:``) with matplotlib's
mathtext, which parses a large subset of TeX without a LaTeX installation, into an SVG
image embedded in the page. A formula mathtext cannot parse is a build warning (an
error under ``-W``), naming the formula, instead of raw TeX in the page.
"""

import base64
import functools
import html
import io

from docutils import nodes
from sphinx.util import logging

logger = logging.getLogger(__name__)

INLINE_SIZE = 12.0   # points: the body text's size
DISPLAY_SIZE = 13.5


@functools.cache
def render(latex, size):
    """(SVG bytes, depth below the baseline in points) of one formula."""
    from matplotlib.font_manager import FontProperties
    from matplotlib.mathtext import math_to_image

    buf = io.BytesIO()
    depth = math_to_image(f"${latex}$", buf, prop=FontProperties(size=size),
                          dpi=72, format="svg")
    return buf.getvalue(), float(depth)


def _img(self, node, latex, size, css_class):
    text = " ".join(latex.split())
    try:
        svg, depth = render(text, size)
    except Exception as exc:  # mathtext raises ValueError subclasses with a caret
        logger.warning("mathtext cannot draw %r: %s", text,
                       str(exc).splitlines()[-1] if str(exc) else type(exc).__name__,
                       location=node)
        return f'<code class="{css_class}">{html.escape(text)}</code>'
    data = base64.b64encode(svg).decode("ascii")
    style = ""
    if css_class == "math-inline":
        style = f' style="vertical-align: -{depth:.1f}pt"'
    return (f'<img class="{css_class}" src="data:image/svg+xml;base64,{data}" '
            f'alt="{html.escape(text)}"{style}/>')


def visit_math(self, node):
    self.body.append(_img(self, node, node.astext(), INLINE_SIZE, "math-inline"))
    raise nodes.SkipNode


def visit_displaymath(self, node):
    latex = node["latex"] if "latex" in node else node.astext()
    self.body.append(f'<div class="math-display">'
                     f'{_img(self, node, latex, DISPLAY_SIZE, "math-display")}</div>\n')
    raise nodes.SkipNode


def setup(app):
    app.add_html_math_renderer("mathsvg", (visit_math, None), (visit_displaymath, None))
    app.add_css_file("mathsvg.css")
    return {"parallel_read_safe": True, "parallel_write_safe": True}
