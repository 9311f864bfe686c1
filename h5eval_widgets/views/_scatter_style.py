"""jupyter-scatter with its stylesheet kept inside the map.

jupyter-scatter 1.0's stylesheet (``jscatter/bundle.css``, sent by its anywidget as ``_css``, which
the browser adds to the page's ``<head>``) is built by Tailwind 4 from ``@import "tailwindcss"``,
so it holds Tailwind's whole *preflight* with unscoped selectors: ``*`` (box-sizing, margin,
padding, border style), ``html, :host`` (font, line height), ``button, input, select`` (font,
background, radius), ``table``, ``img, svg, canvas``... Once the map's widget exists, every element
of the page takes them: the dashboard's buttons, tables and labels change their padding, box
sizing and font (issue 32).

Here the widget is a subclass of jupyter-scatter's, whose ``_css`` is the same stylesheet with
every selector put under :data:`SCOPE`, a class of the map's box: ``*`` becomes
``.SCOPE *``, and ``:root``, ``:host``, ``html`` or ``body`` become ``.SCOPE`` itself (so the
variables and fonts the map expects are set on its box and inherited inside it). At-rules that
hold rules (``@layer``, ``@media``, ``@supports``, ``@container``) are scoped inside; the others
(``@property``, ``@font-face``, ``@keyframes``) are kept as they are. The subclass has its own
anywidget id, so its stylesheet is a ``<style>`` of its own: a jupyter-scatter the user shows
elsewhere keeps upstream's.
"""

from __future__ import annotations

import functools
import re
import threading
import types
import warnings

#: The class of the map's box; jupyter-scatter's rules apply only inside it.
SCOPE = "h5eval-scatter-scope"

#: At-rules whose block holds rules (scoped inside); other at-rules' blocks are kept as they are.
_GROUPING = {"media", "supports", "layer", "container", "document", "starting-style"}
#: A selector's first compound that names the document (or a shadow host): the scope itself.
_ROOT = re.compile(r"^(?:(?::root|:host|html)(?:\s*>?\s*body)?|body)(?=$|[\s>+~])")


def _skip(css: str, i: int) -> int:
    """The index after the string or comment that starts at ``i`` (``i`` when none does)."""
    if css.startswith("/*", i):
        end = css.find("*/", i + 2)
        return len(css) if end < 0 else end + 2
    if css[i] in "\"'":
        quote, j = css[i], i + 1
        while j < len(css) and css[j] != quote:
            j += 2 if css[j] == "\\" else 1
        return j + 1
    return i


def _find(css: str, i: int, stops: str) -> int:
    """The index of the first of ``stops`` at or after ``i`` outside strings, comments and
    brackets (``len(css)`` when none)."""
    depth = 0
    while i < len(css):
        j = _skip(css, i)
        if j != i:
            i = j
            continue
        c = css[i]
        if depth == 0 and c in stops:
            return i
        if c in "([":
            depth += 1
        elif c in ")]":
            depth = max(0, depth - 1)
        i += 1
    return i


def _block_end(css: str, i: int) -> int:
    """The index of the ``}`` that closes the block opened at ``i`` (a ``{``)."""
    depth = 0
    while i < len(css):
        j = _skip(css, i)
        if j != i:
            i = j
            continue
        if css[i] == "{":
            depth += 1
        elif css[i] == "}":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    return len(css)


def _split_selectors(prelude: str) -> list[str]:
    """A selector list cut at its top-level commas (not those inside ``:is(...)`` and the like)."""
    parts, start = [], 0
    while True:
        end = _find(prelude, start, ",")
        parts.append(prelude[start:end].strip())
        if end >= len(prelude):
            return [p for p in parts if p]
        start = end + 1


def _scope_selector(selector: str, scope: str) -> str:
    if _ROOT.match(selector):
        return _ROOT.sub(scope, selector, count=1)
    return f"{scope} {selector}"


def scope_css(css: str, scope: str = f".{SCOPE}") -> str:
    """``css`` with every style rule's selectors put under ``scope`` (a selector): descendants of
    it, or it itself for ``:root``, ``:host``, ``html`` and ``body``; within ``@layer``,
    ``@media``, ``@supports`` and ``@container`` blocks too. Other at-rules and the comments are
    kept as they are; declarations are not touched."""
    out: list[str] = []
    i = 0
    while i < len(css):
        if css[i].isspace():
            out.append(css[i])
            i += 1
            continue
        j = _skip(css, i)
        if j != i:  # a comment between rules
            out.append(css[i:j])
            i = j
            continue
        stop = _find(css, i, "{;}")
        if stop >= len(css) or css[stop] != "{":  # a statement (@layer a, b;) or a stray }
            out.append(css[i : stop + 1])
            i = stop + 1
            continue
        end = _block_end(css, stop)
        prelude, body = css[i:stop].strip(), css[stop + 1 : end]
        if prelude.startswith("@"):
            name = re.match(r"@([\w-]+)", prelude)
            if name and name.group(1).lower() in _GROUPING:
                body = scope_css(body, scope)
            out.append(f"{prelude} {{{body}}}")
        else:
            scoped = (_scope_selector(s, scope) for s in _split_selectors(prelude))
            selectors = ", ".join(dict.fromkeys(scoped))  # html and :host both become the scope
            out.append(f"{selectors} {{{body}}}")
        i = end + 1
    return "".join(out)


_LOCK = threading.Lock()


def scoped_scatter_class():
    """``jscatter.Scatter`` whose widget is jupyter-scatter's with its stylesheet scoped to
    :data:`SCOPE` (put that class on a box holding the widget). Made on first use (importing
    jscatter takes a while). When this jupyter-scatter builds its widget in a way not foreseen
    here, its own widget is used, with a warning (the page is restyled as upstream does)."""
    with _LOCK:  # one class, though the map's preparation in the background may ask at once
        return _scoped_scatter_class()


@functools.cache
def _scoped_scatter_class():
    import jscatter
    from jscatter import jscatter as upstream
    from jscatter.widget import JupyterScatter

    class ScopedJupyterScatter(JupyterScatter):
        """jupyter-scatter's widget, its stylesheet applying only inside ``.h5eval-scatter-scope``."""

        _css = scope_css(str(JupyterScatter._css))

    build = upstream.Scatter.widget.fget
    if "JupyterScatter" not in build.__code__.co_names:
        warnings.warn(
            "jupyter-scatter builds its widget in a way h5eval-widgets does not know: its "
            "stylesheet is not scoped, and may restyle the dashboard",
            RuntimeWarning,
            stacklevel=3,
        )
        return jscatter.Scatter
    # upstream's `widget` property, run with JupyterScatter meaning the scoped class (a copy of
    # the function with its own globals: jscatter's module is left as it is)
    scoped_build = types.FunctionType(
        build.__code__,
        {**build.__globals__, "JupyterScatter": ScopedJupyterScatter},
        build.__name__,
        build.__defaults__,
        build.__closure__,
    )

    class ScopedScatter(jscatter.Scatter):
        """``jscatter.Scatter`` whose widget keeps its stylesheet inside ``.h5eval-scatter-scope``."""

        @property
        def widget(self):
            return scoped_build(self)

    return ScopedScatter
