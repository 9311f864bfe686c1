"""Confusion matrices that show their errors, shared by the classifier, segmentation and
detection views.

A :class:`MatrixPlot` is one bqplot figure of five marks, bottom to top:

1. ``fills``: a :class:`bqplot.HeatMap` (an image) painting each cell. Off-diagonal cells (the
   errors) are shaded on their own log scale in :data:`ERROR_RAMP`, the diagonal (the right
   answers) on another in :data:`RIGHT_RAMP`, and a 0 stays white: a 1 or a 3 stands out from a
   0 whatever the largest count (the 20,000 background pixels of a segmentation set the
   diagonal's scale only, and only on a log scale).
2. ``labels``: a :class:`bqplot.Label` writing each cell's number in black or white, whichever
   contrasts more with that cell's colour (WCAG relative luminance; at least 4.5:1).
3. ``focus``: dashed lines around the focus class's row and column (explained in the legend).
4. ``used``: the cells an explained metric counts (:class:`~._matrix_used.UsedCells`).
5. ``heatmap``: the :class:`bqplot.GridHeatMap` that is clicked. Its ``color`` holds the numbers
   (counts or rates) as before, its cells are transparent (the fills show through) with white
   grid lines, and its ``selected`` cell is outlined thick in :data:`SELECTED_STROKE`.

A :class:`~._grid_keys.GridKeys` over the cells is the matrix's tab stop (arrow keys, Enter); a
view shows :attr:`MatrixPlot.box`, the figure with it. The figure has no toolbar (it covered
the title on hover), and its margins and axis-label offsets are sized from the longest class
name, so the axis titles never cross the tick labels.
Every colour is a named constant here, taken from the shared palette (core/results/palette.py).
"""

from __future__ import annotations

import html
from typing import Sequence

import bqplot as bq
import ipywidgets as W
import numpy as np

from ..core.results import palette
from ..core.results.palette import contrast, relative_luminance
from ._grid_keys import GridKeys
from ._matrix_used import UsedCells

__all__ = [
    "MatrixPlot",
    "cell_colours",
    "contrast",
    "relative_luminance",
    "text_colours",
]

#: A cell holding 0 (no error there): white, its number not written off the diagonal.
BLANK = "#ffffff"
#: Errors (off the diagonal) and right answers (the diagonal), light to full: the palette's ramps
#: of its ERROR (Okabe-Ito orange) and CORRECT (blue) hues, as the HTML report shades them.
ERROR_RAMP = palette.ERROR_RAMP
RIGHT_RAMP = palette.CORRECT_RAMP
#: The selected cell's outline: thick, and of neither ramp's hue nor the focus colour.
SELECTED_STROKE = palette.SELECTION
SELECTED_WIDTH = 4
#: The focus class's row and column: thin dashed lines just inside their cells.
FOCUS_STROKE = palette.FOCUS
FOCUS_WIDTH = 2
#: The grid between cells.
GRID_STROKE = "#e0e0e0"
#: Text on light and on dark cells.
DARK_TEXT = palette.BLACK
LIGHT_TEXT = palette.WHITE
TRANSPARENT = "rgba(0, 0, 0, 0)"

#: Font sizes (pixels) of the tick labels and of the numbers in the cells.
TICK_PX = 11
CELL_PX = 12
#: Width of a character of the tick labels, an over-estimate for sans-serif at TICK_PX.
CHAR_PX = 0.62 * TICK_PX
#: The widest room kept for tick labels (pixels): longer class names are cut.
MAX_TICK_PX = 170


# ------------------------------------------------------------------ colours
def _rgb(colour: str) -> np.ndarray:
    h = colour.lstrip("#")
    return np.array([int(h[i : i + 2], 16) for i in (0, 2, 4)], np.float64)


def _hex(rgb) -> str:
    return "#" + "".join(f"{int(round(float(v))):02x}" for v in rgb)


def text_colour(background: str) -> str:
    """Black or white, whichever contrasts more with ``background`` (the palette's :func:`text_on`)."""
    return palette.text_on(background)


def text_colours(fills: np.ndarray) -> np.ndarray:
    """:func:`text_colour` of each cell of an array of ``#rrggbb`` strings."""
    return np.vectorize(text_colour, otypes=[object])(fills)


def ramp(stops: Sequence[str], t: float) -> str:
    """The colour at ``t`` in [0, 1] along ``stops`` (linear in sRGB between stops)."""
    pos = float(np.clip(t, 0.0, 1.0)) * (len(stops) - 1)
    i = min(int(pos), len(stops) - 2)
    a, b = _rgb(stops[i]), _rgb(stops[i + 1])
    return _hex(a + (b - a) * (pos - i))


def _log_shades(values: np.ndarray) -> np.ndarray:
    """Where each positive value sits (0 to 1) on a log scale from the group's smallest step to
    its largest value: a count's step is 1 (so 1, 2 and 3 differ), a rate's its smallest
    positive value. NaN where the value is not positive."""
    out = np.full(values.shape, np.nan)
    pos = values > 0
    if not pos.any():
        return out
    v = values[pos]
    unit = 1.0 if np.allclose(v, np.round(v)) else float(v.min())
    top = np.log1p(v.max() / unit)
    out[pos] = np.log1p(v / unit) / top if top > 0 else 1.0
    return out


def right_cells(shape: tuple[int, int], n_right: int | None = None) -> np.ndarray:
    """Where the right answers are: the diagonal's first ``n_right`` cells (all when None)."""
    right = np.zeros(shape, bool)
    n = min(shape) if n_right is None else min(n_right, *shape)
    right[np.arange(n), np.arange(n)] = True
    return right


def cell_colours(values: np.ndarray, n_right: int | None = None) -> np.ndarray:
    """Each cell's fill (``#rrggbb`` strings): the diagonal's first ``n_right`` cells (all of it
    when None) on :data:`RIGHT_RAMP`, every other cell on :data:`ERROR_RAMP`, each group on its
    own log scale (:func:`_log_shades`); 0 (or less, or NaN) is :data:`BLANK`."""
    values = np.nan_to_num(np.asarray(values, np.float64), nan=0.0)
    right = right_cells(values.shape, n_right)
    out = np.full(values.shape, BLANK, dtype=object)
    for mask, stops in ((right, RIGHT_RAMP), (~right, ERROR_RAMP)):
        shades = _log_shades(values[mask])
        out[mask] = [BLANK if np.isnan(s) else ramp(stops, s) for s in shades]
    return out


def _format(value: float, spec: str) -> str:
    """``value`` in ``spec``, whole numbers with thousands separators (24,174)."""
    return format(float(value), "," + spec if spec.endswith("f") and "," not in spec else spec)


# ------------------------------------------------------------------ sizes
def tick_width(names: Sequence[str]) -> int:
    """Pixels the longest of ``names`` takes as a tick label (over-estimated)."""
    return int(np.ceil(max((len(str(n)) for n in names), default=1) * CHAR_PX)) + 4


def layout(names: Sequence[str], width: int) -> dict:
    """Margins, plot side, axis-label offsets and tick rotation for a figure ``width`` pixels
    wide of ``names``: the vertical axis title sits left of the longest row label (a name longer
    than :data:`MAX_TICK_PX` may be cut), and the column labels are turned (and the bottom
    margin grows) when the longest does not fit in a column."""
    w = min(tick_width(names), MAX_TICK_PX)
    left, right = w + 8 + 22, 12  # the tick, the labels, a gap, the rotated title
    side = width - left - right
    cell = side / max(len(names), 1)
    if w <= cell - 4:
        rotate, below = 0, TICK_PX + 10
    else:
        rotate, below = -45, int(np.ceil(w * 0.71)) + TICK_PX + 8
    return {
        "side": side,
        "margin": {"top": 40, "bottom": below + 24, "left": left, "right": right},
        "y_label_offset": f"{w + 12}px",
        "x_label_offset": f"{below + 8}px",
        "rotate": rotate,
    }


class MatrixPlot:
    """A confusion matrix's figure (see the module's docstring) and its legend.

    Parameters
    ----------
    title : str
        The figure's first title.
    width : int, default=440
        The figure's width in pixels; the cells' area is square, what the margins leave.
    focus_name : str, default="focus class"
        How the legend names the class whose row and column :meth:`set_focus` outlines.

    Attributes
    ----------
    heatmap : bqplot.GridHeatMap
        The clicked mark: ``color`` holds the numbers drawn, ``selected`` the selected cell.
    fills, labels, focus : bqplot marks
        The cells' colours (``fills.color`` indexes ``fills.scales['color'].colors``), the
        numbers written, and the focus lines.
    figure : bqplot.Figure
    legend : ipywidgets.HTML
    """

    def __init__(self, title: str, *, width: int = 440, focus_name: str = "focus class"):
        self.width = width
        self.focus_name = focus_name
        self.focus_index: int | None = None
        self.n = 2
        self.row_scale = bq.OrdinalScale(reverse=True)
        self.col_scale = bq.OrdinalScale()
        # cell (i, j) is centred on x = j, y = i, row 0 at the top
        self.x = bq.LinearScale(min=-0.5, max=1.5, allow_padding=False)
        self.y = bq.LinearScale(min=-0.5, max=1.5, reverse=True, allow_padding=False)
        self.fill_scale = bq.ColorScale(colors=[BLANK, BLANK], min=0.0, max=1.0)
        self.fills = bq.HeatMap(
            x=np.arange(2.0),
            y=np.arange(2.0),
            color=np.zeros((2, 2)),
            scales={"x": self.x, "y": self.y, "color": self.fill_scale},
            null_color=BLANK,
        )
        self.labels = bq.Label(
            x=np.zeros(0),
            y=np.zeros(0),
            text=[],
            colors=[DARK_TEXT],
            scales={"x": self.x, "y": self.y},
            align="middle",
            default_size=CELL_PX,
            font_unit="px",
        )
        self.focus = bq.Lines(
            x=np.zeros((2, 5)),
            y=np.zeros((2, 5)),
            scales={"x": self.x, "y": self.y},
            colors=[FOCUS_STROKE],
            stroke_width=FOCUS_WIDTH,
            line_style="dashed",
            visible=False,
        )
        self.used = UsedCells(self.x, self.y)  # the cells an explained metric counts
        self.heatmap = bq.GridHeatMap(
            color=np.zeros((2, 2)),
            scales={
                "row": self.row_scale,
                "column": self.col_scale,
                "color": bq.ColorScale(colors=[TRANSPARENT, TRANSPARENT]),
            },
            display_format=".0f",
            # the numbers a screen or a test reads; drawn (visibly) by ``labels``
            font_style={"fill-opacity": "0", "font-size": f"{CELL_PX}px"},
            selected_style={"stroke": SELECTED_STROKE, "stroke-width": str(SELECTED_WIDTH)},
            stroke=GRID_STROKE,
            null_color=TRANSPARENT,
        )
        tick = {"font-size": f"{TICK_PX}px"}
        self.x_axis = bq.Axis(scale=self.col_scale, label="predicted", tick_style=tick)
        self.y_axis = bq.Axis(scale=self.row_scale, side="left", label="true", tick_style=tick)
        self.figure = bq.Figure(
            marks=[self.fills, self.labels, self.focus, *self.used.marks, self.heatmap],
            axes=[self.x_axis, self.y_axis],
            title=title,
            padding_x=0.0,
            padding_y=0.0,
            display_toolbar=False,
            layout=W.Layout(width=f"{width}px", height=f"{width}px"),
        )
        self.figure.add_class("h5eval-matrix")
        self.legend = W.HTML().add_class("h5eval-matrix-legend")
        # the keyboard's way in, laid over the cells: the box is what a view shows
        self.name = title
        self.keys = GridKeys()
        self.box = W.Box([self.figure, self.keys]).add_class("h5eval-matrix-box")
        self.values = np.zeros((2, 2))
        self.n_right: int | None = None

    # -------------------------------------------------------------- drawing
    def draw(
        self,
        values,
        names: Sequence[str],
        *,
        display_format: str = ".0f",
        n_right: int | None = None,
        cell_name: Sequence[str] | None = None,
    ) -> None:
        """Draw ``values`` (rows true, columns predicted) labelled ``names``.

        ``n_right``: how many of the diagonal's cells are right answers (detection's background
        corner is not); all when None. ``cell_name``: how a screen reader names a cell, and a
        cell holding 1 (see :class:`~._grid_keys.GridKeys`'s ``template``); samples when None.
        """
        values = np.asarray(values, np.float64)
        names = [str(c) for c in names]
        n = len(names)
        self.values, self.n_right, self.n = values, n_right, n
        fills = cell_colours(values, n_right)
        palette = list(dict.fromkeys(fills.ravel().tolist()))
        if len(palette) < 2:
            palette = palette * 2
        index = {c: i for i, c in enumerate(palette)}
        right = right_cells(values.shape, n_right)
        # off the diagonal a 0 is left blank (white, no number): the errors stand out
        shown = (values != 0) | right
        rows, cols = np.nonzero(shown)
        texts = [_format(values[i, j], display_format) for i, j in zip(rows, cols)]
        colours = text_colours(fills)[rows, cols].tolist()
        # a HeatMap needs two positions a side: a single class is drawn as two half cells
        xs = np.arange(n, dtype=np.float64) if n > 1 else np.array([-0.25, 0.25])
        grid = np.array([[index[c] for c in row] for row in fills], np.float64)
        if n == 1:
            grid = np.repeat(np.repeat(grid, 2, axis=0), 2, axis=1)
        fit = layout(names, self.width)
        with self.figure.hold_sync():
            self.x.min, self.x.max = -0.5, n - 0.5
            self.y.min, self.y.max = -0.5, n - 0.5
            with self.fills.hold_sync():
                self.fill_scale.colors = palette
                self.fill_scale.min, self.fill_scale.max = 0.0, float(len(palette) - 1)
                self.fills.x, self.fills.y, self.fills.color = xs, xs.copy(), grid
            with self.labels.hold_sync():
                self.labels.x, self.labels.y = cols.astype(np.float64), rows.astype(np.float64)
                self.labels.text = texts
                self.labels.colors = colours or [DARK_TEXT]
            with self.heatmap.hold_sync():
                # row/column are validated against color's shape: clear them first
                self.heatmap.row = None
                self.heatmap.column = None
                self.heatmap.color = values
                self.heatmap.row = names
                self.heatmap.column = names
                self.heatmap.display_format = display_format
            self.x_axis.tick_rotate = fit["rotate"]
            self.x_axis.tick_style = {"font-size": f"{TICK_PX}px", **({"text-anchor": "end"} if fit["rotate"] else {})}
            self.x_axis.label_offset = fit["x_label_offset"]
            self.y_axis.label_offset = fit["y_label_offset"]
            m = fit["margin"]
            self.figure.fig_margin = m
            # bqplot centres the title on the cells: centre it on the figure (wide row labels)
            shift = (m["left"] - m["right"]) / 2
            self.figure.title_style = {"font-size": "15px", "transform": f"translateX({-shift:g}px)"}
            self.figure.layout.height = f"{fit['side'] + m['top'] + m['bottom']}px"
        self.keys.show(
            values,
            names,
            value_format=display_format,
            margin=fit["margin"],
            label=f"{self.name}, {n} by {n}, rows true class, columns predicted class",
            template=cell_name,
        )
        self.set_focus(self.focus_index)
        self.set_used(self.used.used, self.used.positions)

    def set_focus(self, index: int | None) -> None:
        """Outline row and column ``index`` (dashed, :data:`FOCUS_STROKE`), or nothing when None
        (nor while an explained metric outlines a class's row or column: the same lines)."""
        self.focus_index = index
        n = self.n
        if index is None or not 0 <= index < n:
            self.focus.visible = False
        else:
            a, b, lo, hi = index - 0.42, index + 0.42, -0.42, n - 0.58
            with self.focus.hold_sync():
                self.focus.x = np.array([[lo, hi, hi, lo, lo], [a, b, b, a, a]])
                self.focus.y = np.array([[a, a, b, b, a], [lo, lo, hi, hi, lo]])
                self.focus.visible = not self.used.spans.visible
        self.legend.value = self.legend_html()

    def set_used(self, used=None, positions=None) -> None:
        """Outline the cells a metric counts (see :class:`~._matrix_used.UsedCells`)."""
        self.used.draw(used, self.n, positions)
        self.set_focus(self.focus_index)

    def select(self, cell: tuple[int, int] | None) -> None:
        """Outline cell ``(row, column)`` of the drawn matrix, or none."""
        self.heatmap.selected = None if cell is None else np.array([[int(cell[0]), int(cell[1])]])
        self.keys.move_to(cell)  # the keys go on from a clicked cell

    # -------------------------------------------------------------- legend
    def legend_html(self) -> str:
        """What the colours and outlines mean, with the values at the ends of each scale."""
        v = self.values
        right = right_cells(v.shape, self.n_right)
        fmt = self.heatmap.display_format or ".0f"

        def scale(stops, mask, what):
            pos = v[mask & (v > 0)]
            if not len(pos):
                return f"<span>{what}: none</span>"
            bar = f"linear-gradient(to right, {', '.join(stops)})"
            return (
                f"<span style='white-space:nowrap'>{what} <b>{_format(pos.min(), fmt)}</b> "
                f"<span style='display:inline-block;width:60px;height:10px;vertical-align:middle;"
                f"background:{bar};border:1px solid #999'></span> <b>{_format(pos.max(), fmt)}</b></span>"
            )

        box = "display:inline-block;width:12px;height:10px;vertical-align:middle;margin-right:3px"
        items = [
            scale(ERROR_RAMP, ~right, "errors (off the diagonal, log scale)"),
            scale(RIGHT_RAMP, right, "right (diagonal, log scale)"),
            "<span>blank: 0</span>",
            f"<span style='white-space:nowrap'><span style='{box};border:{SELECTED_WIDTH - 1}px solid "
            f"{SELECTED_STROKE}'></span>selected cell</span>",
        ]
        if self.focus.visible:
            items.append(
                f"<span style='white-space:nowrap'><span style='{box};border:{FOCUS_WIDTH}px dashed "
                f"{FOCUS_STROKE}'></span>{html.escape(self.focus_name)}'s row and column</span>"
            )
        items += self.used.legend(box)
        return f"<div style='font-size:11px;line-height:18px;max-width:{self.width}px'>{' · '.join(items)}</div>"
