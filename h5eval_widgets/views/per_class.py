"""Per-class view: precision, recall and F1 by class as bars and a sortable table."""

from __future__ import annotations

import html

import bqplot as bq
import ipywidgets as W
import numpy as np

from ..core.metrics.queries import lowest_classes
from ..state import EvalState
from ..core.results.palette import SERIES
from ..core.results.names import fmt
from ._a11y import described
from ._base import View, guarded
from ._draw import axes, figure, html_table

METRICS = ("precision", "recall", "f1")
#: The focus class's row in the table (styled by the dashboard's stylesheet, in the theme's colours).
FOCUS_ROW = "class='h5eval-focus'"


class PerClassView(View):
    """Grouped bars of precision, recall and F1; clicking a class's bars makes it the focus class.

    With many classes the chart shows the ``max_bars`` classes with the lowest F1.
    """

    redraw_on = ("focus_class", "threshold", "comparison")

    def __init__(self, state: EvalState, *, max_bars: int = 30, **kwargs):
        self.max_bars = max_bars
        self.shown = np.arange(0)
        super().__init__(state, **kwargs)

    def build(self) -> list[W.Widget]:
        self.x_scale = bq.OrdinalScale()
        self.y_scale = bq.LinearScale(min=0.0, max=1.0)
        self.bars = bq.Bars(
            x=[],
            y=[],
            type="grouped",
            scales={"x": self.x_scale, "y": self.y_scale},
            colors=list(SERIES[:3]),
            labels=["precision", "recall", "F1"],
            display_legend=True,
        )
        self.on_click(self.bars, self._on_bar_click)
        self.figure = figure(
            [self.bars],
            axes(self.x_scale, self.y_scale, "class", y_format=".1f"),
            title="Per class",
            width=520,
            height=300,
            margin={"bottom": 40, "left": 45},
            legend_location="top-right",
        )
        self.sort_by = W.Dropdown(
            options=["class", "f1", "precision", "recall", "support"],
            value="class",
            description="sort by",
            layout=W.Layout(width="200px"),
        )
        self.sort_by.observe(lambda c: self._draw(self._render_table), names="value")
        self.table = W.HTML()
        return [described(self.figure, numbers_in="the per-class table below"), self.sort_by, self.table]

    def frame(self):
        """The per-class table as shown (binary: at the current threshold)."""
        dec = self.state.decisions  # (no ROC AUC column here: nothing to sort)
        source = dec if dec is not None else self.session.evaluation
        return source.per_class(ranking=False)

    def refresh(self) -> None:
        ev = self.shown_for("is_classification")
        if ev is None:
            return
        if getattr(ev, "per_pixel", False):  # segmentation has its IoU bars; its tabs are hidden, and a
            self.set_visible(False)  # chart drawn in a hidden tab has no size (negative <rect>s)
            return
        df = self.frame()
        f1 = df["f1"].to_numpy()
        if ev.n_classes > self.max_bars:
            self.shown = lowest_classes(f1, self.max_bars)
            self.figure.title = f"The {self.max_bars} classes with the lowest F1"
        else:
            self.shown = np.arange(ev.n_classes)
            self.figure.title = "Per class"
        cmp_ = self.session.comparison
        if cmp_ is not None:
            # comparison mode: F1 of both models per class
            other = cmp_.b.per_class(ranking=False)["f1"].to_numpy()
            values = np.nan_to_num(np.vstack([f1[self.shown], other[self.shown]]), nan=0.0)
            self.figure.title = "F1 per class, the two models compared"
        else:
            values = np.nan_to_num(df[list(METRICS)].to_numpy()[self.shown].T, nan=0.0)
        self.figure.title = self.sliced(self.figure.title)
        with self.bars.hold_sync():
            self.bars.x = [ev.classes[i] for i in self.shown]
            self.bars.y = values
            self.bars.labels = list(cmp_.names[:2]) if cmp_ is not None else ["precision", "recall", "F1"]
        self._render_table()

    def _render_table(self) -> None:
        ev = self.session.evaluation
        if not ev.is_classification:
            return
        df = self.frame()
        key = self.sort_by.value
        if key != "class":
            df = df.sort_values(key, ascending=key != "support", kind="stable")
        focus = None if self.state.focus_class is None else ev.classes[self.state.focus_class]
        rows = [
            [html.escape(str(name)), *(fmt(row[m]) for m in METRICS), fmt(int(row["support"]))]
            for name, row in df.iterrows()
        ]
        self.table.value = html_table(
            ["class", "precision", "recall", "F1", "support"],
            rows,
            css_class="h5eval-per-class",
            style="font-size:12px;border-collapse:collapse",
            row_attrs=[FOCUS_ROW if name == focus else "" for name in df.index],
        )

    @guarded
    def _on_bar_click(self, data: dict):
        """A click on a class's bars, as the browser sends it (``index`` = bar group)."""
        self.state.focus_class = int(self.shown[int(data["index"])])

    def click_class(self, cls: int) -> None:
        """Act as if the user clicked the bars of class ``cls`` in the browser."""
        self.click(self.bars, index=int(np.flatnonzero(self.shown == cls)[0]))
