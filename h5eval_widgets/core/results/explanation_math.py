"""An explanation's formula typeset as MathML, and the explanation as HTML (no script, no CDN).

The MathML is built from parts (:func:`mi`, :func:`mn`, :func:`frac`, :func:`sqrt`...), each
returning a well-formed fragment, by the builders of
:mod:`~h5eval_widgets.core.results.explanation`; the one-line text formula is never parsed.
Browsers draw MathML Core natively (Chromium 109+, Firefox, Safari), so it works offline. The
HTML keeps the text formula under the typeset one, and the ``<math>`` element carries it as
``alttext``, for screen readers and for copying. Colours are inherited or JupyterLab's
variables with a fallback, so the block reads in the light and the dark themes.
"""

from __future__ import annotations

import html
from typing import Iterable

from .html_assets import fmt_cell, html_table
from .names import fmt, metric_name

__all__ = [
    "mi",
    "mn",
    "mo",
    "mtext",
    "lead",
    "row",
    "frac",
    "sqrt",
    "sub",
    "sup",
    "subsup",
    "join",
    "listed",
    "explanation_html",
]

#: the most terms a typeset sum lists one by one (as the text formula does)
MAX_TERMS = 6


def _esc(s) -> str:
    return html.escape(str(s), quote=True)


def mi(name: str) -> str:
    """An identifier (``TP``, ``p_o``'s ``p``)."""
    return f"<mi>{_esc(name)}</mi>"


def mn(x) -> str:
    """A number, written by :func:`~.names.fmt` (a string as it is)."""
    return f"<mn>{_esc(fmt(x))}</mn>"


def mo(op: str) -> str:
    """An operator or a fence: ``+``, ``−``, ``·``, ``=``, ``(``."""
    return f"<mo>{_esc(op)}</mo>"


def mtext(text: str) -> str:
    """Words inside a formula (a class name, ``at threshold 0.5``)."""
    return f"<mtext>{_esc(text)}</mtext>"


def space(width: str = "0.5em") -> str:
    return f'<mspace width="{width}"/>'


def lead(text: str) -> str:
    """Words before a formula, a space after them (``each class c:``)."""
    return mtext(text) + space()


def row(*parts: str) -> str:
    """Parts grouped in one ``<mrow>``."""
    return f"<mrow>{''.join(parts)}</mrow>"


def frac(num: str, den: str) -> str:
    """``num`` over ``den``."""
    return f"<mfrac>{row(num)}{row(den)}</mfrac>"


def sqrt(x: str) -> str:
    return f"<msqrt>{row(x)}</msqrt>"


def sub(base: str, s: str) -> str:
    return f"<msub>{row(base)}{row(s)}</msub>"


def sup(base: str, s: str) -> str:
    return f"<msup>{row(base)}{row(s)}</msup>"


def subsup(base: str, s: str, t: str) -> str:
    """``base`` with subscript ``s`` and superscript ``t`` (``p_c²``)."""
    return f"<msubsup>{row(base)}{row(s)}{row(t)}</msubsup>"


def paren(x: str) -> str:
    return row(mo("("), x, mo(")"))


def join(parts: Iterable[str], op: str = "+") -> str:
    """Parts joined by an operator (``+`` by default)."""
    return row(*[p if i == 0 else mo(op) + p for i, p in enumerate(parts)])


def listed(parts: Iterable[str], op: str = "+") -> str:
    """As :func:`join`, the middle ones left out (``a + b + c + … + z``) when there are many."""
    parts = list(parts)
    if len(parts) > MAX_TERMS:
        parts = parts[:3] + [mi("…")] + parts[-1:]
    return join(parts, op)


def math_block(content: str, alttext: str) -> str:
    """One equation on its own line, in display style, left-aligned; ``alttext`` its words
    (what a screen reader without MathML says)."""
    return (
        f'<div style="margin: 0.45em 0"><math displaystyle="true" alttext="{_esc(alttext)}" style="font-size: 1.1em">'
        f"{row(content)}</math></div>"
    )


_BOX = "color: inherit; font-size: 0.95em; max-width: 100%"
_SMALL = "color: inherit; font-size: 0.9em"
_SCROLL = "overflow: auto; max-width: 100%"
_TABLE = f"{_SCROLL}; max-height: 22em; border: 1px solid var(--jp-border-color2, #9e9e9e); display: inline-block"


def _scroller(inner: str, label: str, style: str) -> str:
    """``inner`` in a box that scrolls when it is larger than its room: a named region that
    takes the keyboard's focus, so that it can be scrolled without a mouse (WCAG 2.1.1)."""
    return f'<div role="region" tabindex="0" aria-label="{_esc(label)}" style="{style}">{inner}</div>'


def explanation_html(ex, *, standalone: bool = True) -> str:
    """``ex`` (an :class:`~h5eval_widgets.core.results.explanation.Explanation`) as HTML: its
    name and value, the formula typeset (when its builder gave MathML) with the text formula
    under it, the scikit-learn call and the terms table; well-formed XML, no script; colours
    inherited (or JupyterLab's border colour), so it reads in light and dark themes.
    ``standalone=False`` (inside the HTML report, whose stylesheet styles tables and which names
    the metric already) leaves out the heading and the table's own spacing."""
    name = metric_name(ex.metric) + (f" of class {ex.cls}" if ex.cls else "")
    head = f"<p><strong>{_esc(name)}</strong> = {_esc(fmt(ex.value))}</p>" if standalone else ""
    typeset = "".join(math_block(m, alt) for m, alt in ex.math)
    if typeset:
        typeset = _scroller(typeset, f"formula of {name}", _SCROLL)
    text = (
        f'<p style="{_SMALL}"><span>As text: </span><code style="color: inherit">{_esc(ex.formula)}</code></p>'
        if ex.math
        else f'<p style="font-family: serif; font-size: 1.05em">{_esc(ex.formula)}</p>'
    )
    table = html_table(ex.terms, str(ex.terms.index.name or ""), number=fmt_cell)
    if standalone:  # cells apart, whatever the page's own table style
        table = table.replace("<table>", '<table style="border-collapse: separate; border-spacing: 10px 1px">', 1)
    return (
        f'<div class="h5e-explanation" style="{_BOX}">{head}{typeset}{text}'
        f'<p style="{_SMALL}">scikit-learn: <code style="color: inherit">{_esc(ex.sklearn)}</code></p>'
        f"{_scroller(table, f'the counts of {name}', _TABLE)}</div>"
    )


def explanation_details(ex) -> str:
    """``ex`` folded in a ``<details>`` whose summary names the metric (for the HTML report's
    metrics table: the formula typeset, the text formula, the scikit-learn call, the terms)."""
    what = _esc(metric_name(ex.metric))
    return f"<details class='explain'><summary>How {what} is made</summary>{explanation_html(ex, standalone=False)}</details>"
