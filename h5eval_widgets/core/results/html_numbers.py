"""Each chart of the HTML report with its numbers as a table (WCAG 2.1, 1.1.1: a text
alternative a screen reader reaches, and a reader can open): a ``<details>`` under the chart."""

from __future__ import annotations

import html

import numpy as np

from .names import fmt

__all__ = ["MAX_ROWS", "curve_numbers", "described_plot"]

#: Rows listed per series at most (a curve of thousands of points is sampled evenly).
MAX_ROWS = 25


def curve_numbers(curve: dict) -> str:
    """A ``<details>`` holding one table per series of ``curve`` (``title``, ``x``, ``y`` and
    ``series``, ``(name, x, y)`` triples, as :func:`~.html_report.svg_plot` draws them)."""
    tables = []
    for name, x, y in curve["series"]:
        n = min(len(x), len(y))
        rows = np.unique(np.linspace(0, n - 1, min(n, MAX_ROWS)).round().astype(int)) if n else []
        note = f" ({len(rows)} of {n} points, evenly spaced)" if len(rows) < n else ""
        body = "".join(f"<tr><td>{fmt(float(x[r]))}</td><td>{fmt(float(y[r]))}</td></tr>" for r in rows)
        tables.append(
            f"<table><caption>{html.escape(str(name))}{note}</caption><tr><th scope='col'>"
            f"{html.escape(curve['x'])}</th><th scope='col'>{html.escape(curve['y'])}</th></tr>{body}</table>"
        )
    return (
        f"<details class='numbers'><summary>numbers of {html.escape(curve['title'])}</summary>"
        + "".join(tables)
        + "</details>"
    )


def described_plot(svg: str, curve: dict) -> str:
    """The chart ``svg`` of ``curve`` with :func:`curve_numbers` under it."""
    return f"<div class='plot'>{svg}{curve_numbers(curve)}</div>"
