"""What a screen reader hears: names for pictures, sliders and charts, and each chart's numbers
as a table (WCAG 2.1: 1.1.1 non-text content, 4.1.2 name, role, value).

ipywidgets 8 gives a picture no ``alt``, a slider's handle no name (its label is not tied to
noUiSlider's ``role="slider"`` handle), and a bqplot figure no name; ``tooltip`` (the ``title``
attribute) is the one name a widget can take, and an :class:`ipywidgets.Image` given one fails to
draw (its view reads a ``description`` it does not have). So:

- :class:`NamedImage` is an Image with that ``description`` (empty), whose ``tooltip`` is its
  text alternative; :class:`PageNames` copies it to the picture's ``alt``;
- :class:`PageNames` (one per dashboard, invisible) names each slider's handle after the
  slider's label, and gives each chart made with :func:`described` (its drawing, the ``svg``) ``role="img"`` and a name;
- :func:`described` puts a chart and its :class:`ChartNumbers` together: a visually hidden table
  of the numbers drawn (a screen reader reads it; it takes no room on the page).
"""

from __future__ import annotations

import html
from typing import Sequence

import anywidget
import bqplot as bq
import ipywidgets as W
import numpy as np
import traitlets as T

__all__ = ["ChartNumbers", "NamedImage", "PageNames", "alt_text", "described", "sample_alt", "VISUALLY_HIDDEN"]

#: Inline style of content a screen reader reads and the page does not show.
VISUALLY_HIDDEN = (
    "position:absolute;width:1px;height:1px;margin:-1px;padding:0;border:0;"
    "overflow:hidden;clip:rect(0 0 0 0);clip-path:inset(50%);white-space:nowrap"
)

#: Rows a chart's table holds at most (a curve of thousands of points is sampled evenly).
MAX_ROWS = 25


class NamedImage(W.Image):
    """An :class:`ipywidgets.Image` whose ``tooltip`` is its text alternative (the picture's
    ``title``, and its ``alt`` on a page with :class:`PageNames`)."""

    # the view's tooltip code reads the description's length; Image has none and fails to draw
    description = T.Unicode("", help="Unused; lets the page's tooltip code run.").tag(sync=True)


def alt_text(i: int, true: str, predicted: str, confidence: float | None = None) -> str:
    """A sample picture's text alternative: ``"sample 17: true 8, predicted 1, confidence 0.93"``."""
    tail = "" if confidence is None or confidence != confidence else f", confidence {confidence:.2f}"
    return f"sample {i}: true {true}, predicted {predicted}{tail}"


def sample_alt(ev, i: int, y_pred: np.ndarray | None = None, row: dict | None = None) -> str:
    """:func:`alt_text` of sample ``i`` of evaluation ``ev``.

    Parameters
    ----------
    ev : Evaluation or None
    i : int
    y_pred : ndarray, default=None
        The decisions shown (binary: at the dashboard's threshold); default ``ev.y_pred``.
    row : dict, default=None
        The sample's ``true``, ``predicted`` and ``confidence`` when known (else asked of ``ev``).
    """
    if row is None and ev is not None:
        row = {k: np.asarray(v)[0] for k, v in ev.sample_columns(np.array([i]), y_pred=y_pred).items()}
    if not row or "true" not in row:
        return f"sample {i}"
    true, pred = (np.round(row[k], 4) if isinstance(row[k], float) else row[k] for k in ("true", "predicted"))
    return alt_text(i, str(true), str(pred), row.get("confidence"))


_ESM = """
const NAMED = "data-h5eval-named";
function nameAll(root) {
  // sliders: noUiSlider's handle (role="slider") takes the slider's label as its name
  for (const handle of root.querySelectorAll(".widget-slider .noUi-handle, .widget-hslider .noUi-handle")) {
    const box = handle.closest(".widget-slider, .widget-hslider");
    const label = box && box.querySelector(".widget-label");
    const text = label ? label.textContent.trim() : "";
    if (text && handle.getAttribute("aria-label") !== text) handle.setAttribute("aria-label", text);
  }
  // pictures: the widget's tooltip (title) is the text alternative
  for (const img of root.querySelectorAll("img[title]")) {
    const text = img.getAttribute("title");
    if (img.getAttribute("alt") !== text) img.setAttribute("alt", text);
  }
  // charts: one picture named by its table's caption (the numbers are in that table)
  for (const fig of root.querySelectorAll(".bqplot[class*='h5eval-chart-']")) {
    const key = [...fig.classList].find(c => /^h5eval-chart-[0-9a-f]+$/.test(c));
    if (!key) continue;
    const caption = document.getElementById(key + "-name");
    const heading = fig.querySelector("text.mainheading");
    const text = (caption && caption.textContent.trim()) || (heading && heading.textContent.trim()) || "chart";
    // the drawing is the picture, not the figure: the toolbar bqplot adds to the figure on
    // hover holds buttons, which a picture may not (axe: nested-interactive)
    const svg = fig.querySelector(":scope > svg.svg-figure");
    if (!svg) continue;
    if (svg.getAttribute("role") !== "img") svg.setAttribute("role", "img");
    if (svg.getAttribute("aria-label") !== text) svg.setAttribute("aria-label", text);
    fig.setAttribute(NAMED, "");
  }
}
function render({ el }) {
  let tries = 0;
  const start = () => {
    if (!el.isConnected) { if (tries++ < 600) setTimeout(start, 100); return; }
    const root = el.closest(".h5eval-dashboard") || el.parentElement || document.body;
    let queued = false;
    const run = () => { queued = false; nameAll(root); };
    new MutationObserver(() => { if (!queued) { queued = true; requestAnimationFrame(run); } })
      .observe(root, { subtree: true, childList: true, characterData: true, attributeFilter: ["title"] });
    run();
  };
  start();
}
export default { render };
"""


class PageNames(anywidget.AnyWidget):
    """Names what ipywidgets and bqplot leave unnamed in the page, for the dashboard it is in
    (an invisible widget; see the module's docstring)."""

    _esm = T.Unicode(_ESM).tag(sync=True)

    def __init__(self, **kwargs) -> None:
        super().__init__(layout=W.Layout(display="none"), **kwargs)


def _cell(v) -> str:
    if isinstance(v, (float, np.floating)):
        return "—" if v != v else (f"{v:,.0f}" if abs(v) >= 1000 else f"{v:.3f}")
    return html.escape(str(v))


def _axis_label(fig: bq.Figure, scale: bq.Scale | None, default: str) -> str:
    for axis in fig.axes:
        if scale is not None and axis.scale is scale and axis.label:
            return axis.label
    return default


class ChartNumbers:
    """The numbers of a bqplot figure's marks as a visually hidden HTML table, kept up to date
    as the marks change (``html``, an :class:`ipywidgets.HTML`).

    Parameters
    ----------
    fig : bqplot.Figure
    name : str, default=""
        The chart's name (its title when empty); the table's caption, and the chart's name on a
        page with :class:`PageNames`.
    marks : sequence of bqplot.Mark, default=None
        The marks whose numbers are listed (all with data when None).
    numbers_in : str, default=""
        Where the page already has the chart's numbers (``"the table below"``): then said
        instead of a table.
    columns : tuple of str, default=None
        The x and y columns' names (default: the axes' labels).
    """

    def __init__(
        self,
        fig: bq.Figure,
        name: str = "",
        marks: Sequence[bq.Mark] | None = None,
        numbers_in: str = "",
        columns: tuple[str, str] | None = None,
    ) -> None:
        self.fig, self.name, self.only = fig, name, list(marks) if marks is not None else None
        self.numbers_in, self.columns = numbers_in, columns
        self.key = f"h5eval-chart-{fig.model_id}"  # unique on a page of several kernels
        fig.add_class(self.key)
        self.html = W.HTML(layout=W.Layout(width="1px", height="1px", overflow="hidden", margin="0"))
        self._watched: list[bq.Mark] = []
        fig.observe(self._rewatch, names="marks")
        fig.observe(self.update, names="title")
        self._rewatch()

    def _rewatch(self, change=None) -> None:
        for m in self._watched:
            m.unobserve(self.update, names=["x", "y", "visible"])
        self._watched = list(self.fig.marks)
        for m in self._watched:
            m.observe(self.update, names=["x", "y", "visible"])
        self.update()

    def title(self) -> str:
        return self.name or self.fig.title or "chart"

    def tables(self) -> list[str]:
        """One ``<table>`` per mark with data: its x and y (or each of its series) by row."""
        out = []
        for mark in self.only if self.only is not None else self.fig.marks:
            x, y = np.asarray(mark.x), np.asarray(mark.y)
            if not mark.visible or x.size == 0 or y.size == 0:
                continue
            ys = y if y.ndim == 2 else y[None]
            xs = x if x.ndim == 2 else np.broadcast_to(x, (len(ys), x.shape[-1]))
            n = min(xs.shape[-1], ys.shape[-1])
            labels = list(mark.labels or [])
            series = [labels[k] if k < len(labels) else f"series {k + 1}" for k in range(len(ys))]
            rows = np.unique(np.linspace(0, n - 1, min(n, MAX_ROWS)).round().astype(int)) if n else []
            note = f" ({len(rows)} of {n} points, evenly spaced)" if len(rows) < n else ""
            xname, yname = self.columns or (
                _axis_label(self.fig, mark.scales.get("x"), "x"),
                _axis_label(self.fig, mark.scales.get("y"), "value"),
            )
            head = [xname] + ([yname] if len(ys) == 1 else [f"{yname}: {s}" for s in series])
            what = mark.labels[0] if len(ys) == 1 and labels else type(mark).__name__.lower()
            body = "".join(
                "<tr><th scope='row'>"
                + _cell(xs[0][r])
                + "</th>"
                + "".join(f"<td>{_cell(s[r])}</td>" for s in ys)
                + "</tr>"
                for r in rows
            )
            out.append(
                f"<table><caption>{html.escape(what)}{note}</caption><tr>"
                + "".join(f"<th scope='col'>{html.escape(h)}</th>" for h in head)
                + f"</tr>{body}</table>"
            )
        return out

    def update(self, change=None) -> None:
        title = html.escape(self.title())
        if self.numbers_in:
            said, tables = f"its numbers are in {html.escape(self.numbers_in)}", []
        else:
            said, tables = "its numbers follow", self.tables() or ["<p>nothing drawn</p>"]
        self.html.value = (
            f"<div style='{VISUALLY_HIDDEN}' class='h5eval-chart-numbers'>"
            f"<p id='{self.key}-name'>{title}: chart; {said}</p>" + "".join(tables) + "</div>"
        )


def described(fig: bq.Figure, name: str = "", marks: Sequence[bq.Mark] | None = None, **options) -> W.VBox:
    """``fig`` with its :class:`ChartNumbers` (kept as the box's ``numbers``; see there for
    the parameters)."""
    numbers = ChartNumbers(fig, name, marks, **options)
    box = W.VBox([fig, numbers.html])
    box.numbers = numbers
    return box
