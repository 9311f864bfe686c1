"""Drawing helpers shared by the views: bqplot figures with the dashboard's look, and HTML tables."""

from __future__ import annotations

from typing import Iterable, Mapping, Sequence

import bqplot as bq
import ipywidgets as W
import numpy as np

__all__ = ["MARGIN", "axes", "figure", "html_table", "number"]

#: Figure margins (pixels) that leave room for axis labels and a title.
MARGIN = {"top": 40, "bottom": 45, "left": 50, "right": 10}

#: A table cell: its HTML, or its HTML and the attributes of its ``<td>``.
Cell = str | tuple[str, str]


def axes(
    x_scale: bq.Scale,
    y_scale: bq.Scale,
    xlabel: str = "",
    ylabel: str = "",
    *,
    x_format: str | None = None,
    y_format: str | None = None,
) -> list[bq.Axis]:
    """A horizontal axis on ``x_scale`` and a vertical one on ``y_scale``.

    Parameters
    ----------
    x_scale, y_scale : bqplot.Scale
    xlabel, ylabel : str, default=""
    x_format, y_format : str, default=None
        d3 tick formats (``".1f"``, ``".0%"``); bqplot's default when None.
    """
    x = {"tick_format": x_format} if x_format else {}
    y = {"tick_format": y_format} if y_format else {}
    return [
        bq.Axis(scale=x_scale, label=xlabel, **x),
        bq.Axis(scale=y_scale, label=ylabel, side="left", **y),
    ]


def figure(
    marks: Sequence[bq.Mark],
    axes: Sequence[bq.Axis],
    *,
    title: str = "",
    width: int = 330,
    height: int = 320,
    margin: Mapping[str, int] | None = None,
    **kwargs,
) -> bq.Figure:
    """A bqplot figure of a fixed size in pixels, with :data:`MARGIN` updated by ``margin``.

    Other keyword arguments go to :class:`bqplot.Figure` (``interaction``, ``legend_location``...).
    """
    return bq.Figure(
        marks=list(marks),
        axes=list(axes),
        title=title,
        layout=W.Layout(width=f"{width}px", height=f"{height}px"),
        fig_margin={**MARGIN, **(margin or {})},
        **kwargs,
    )


def number(value: float, spec: str = ".4f", *, nan: str = "—") -> str:
    """``value`` formatted with ``spec``, or ``nan`` for a missing value."""
    return nan if np.isnan(value) else format(value, spec)


def _cell(cell: Cell) -> str:
    html, attrs = (cell, "") if isinstance(cell, str) else cell
    return f"<td {attrs}>{html}</td>" if attrs else f"<td>{html}</td>"


def html_table(
    header: Sequence[str] | None,
    rows: Iterable[Sequence[Cell]],
    *,
    css_class: str = "",
    style: str = "font-size:12px",
    row_attrs: Iterable[str] | None = None,
) -> str:
    """An HTML table from cells that are already HTML (escape text with ``html.escape``).

    Parameters
    ----------
    header : sequence of str or None
        Column titles (HTML); no header row when None.
    rows : iterable of sequences of cells
        A cell is its HTML, or a pair ``(html, attributes)`` such as ``("0.5", "style='color:var(--jp-ui-font-color2, #666)'")``.
    css_class : str, default=""
        Class of the ``<table>`` (pages and tests find tables by it).
    style : str, default="font-size:12px"
    row_attrs : iterable of str, default=None
        Attributes of each ``<tr>``, one per row ("" for none).

    Returns
    -------
    str
    """
    rows = list(rows)
    attrs = list(row_attrs) if row_attrs is not None else [""] * len(rows)
    head = "" if header is None else "<tr>" + "".join(f"<th>{h}</th>" for h in header) + "</tr>"
    body = "".join(
        f"<tr{' ' + a if a else ''}>" + "".join(_cell(c) for c in row) + "</tr>" for row, a in zip(rows, attrs)
    )
    cls = f"class='{css_class}' " if css_class else ""
    return f"<table {cls}style='{style}'>{head}{body}</table>"
