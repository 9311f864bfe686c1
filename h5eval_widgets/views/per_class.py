"""Per-class view: precision, recall and F1 by class as bars and a sortable table."""

from __future__ import annotations

import html

import bqplot as bq
import ipywidgets as W
import numpy as np

from ..state import EvalState
from ._base import View, guarded

METRICS = ("precision", "recall", "f1")
LEGEND = "precision (blue), recall (orange), F1 (green)"


class PerClassView(View):
    """Grouped bars of precision, recall and F1; clicking a class's bars makes it the focus class.

    With many classes the chart shows the ``max_bars`` classes with the lowest F1.
    """

    def __init__(self, state: EvalState, *, max_bars: int = 30, **kwargs):
        super().__init__(state, **kwargs)
        self.max_bars = max_bars
        self.shown = np.arange(0)
        self.x_scale = bq.OrdinalScale()
        self.y_scale = bq.LinearScale(min=0.0, max=1.0)
        self.bars = bq.Bars(
            x=[], y=[], type="grouped", scales={"x": self.x_scale, "y": self.y_scale},
            colors=["#6baed6", "#fd8d3c", "#74c476"], labels=list(METRICS),
        )
        self.on_click(self.bars, self._on_bar_click)
        self.figure = bq.Figure(
            marks=[self.bars],
            axes=[bq.Axis(scale=self.x_scale, label="class"),
                  bq.Axis(scale=self.y_scale, orientation="vertical", tick_format=".1f")],
            title="Per class",
            layout=W.Layout(width="520px", height="300px"),
            fig_margin={"top": 40, "bottom": 40, "left": 45, "right": 10},
        )
        self.sort_by = W.Dropdown(options=["class", "f1", "precision", "recall", "support"],
                                  value="class", description="sort by", layout=W.Layout(width="200px"))
        self.sort_by.observe(lambda c: self._render_table(), names="value")
        self.table = W.HTML()
        state.observe(self._on_focus, names=["focus_class", "threshold", "comparison"])
        self.children = [self.figure, self.sort_by, self.table]
        if state.evaluation is not None:
            self.refresh()

    def frame(self):
        """The per-class table as shown (binary: at the current threshold)."""
        return self.state.class_table()

    def refresh(self) -> None:
        ev = self.shown_for("binary", "multiclass", "multilabel")
        if ev is None:
            return
        df = self.frame()
        f1 = df["f1"].to_numpy()
        if ev.n_classes > self.max_bars:
            self.shown = np.sort(np.argsort(np.nan_to_num(f1, nan=-1.0), kind="stable")[: self.max_bars])
            self.figure.title = f"The {self.max_bars} classes with the lowest F1 · {LEGEND}"
        else:
            self.shown = np.arange(ev.n_classes)
            self.figure.title = f"Per class · {LEGEND}"
        cmp_ = self.state.comparison
        if cmp_ is not None:
            # comparison mode: F1 of both models per class
            other = cmp_.b.per_class()["f1"].to_numpy()
            values = np.nan_to_num(np.vstack([f1[self.shown], other[self.shown]]), nan=0.0)
            self.figure.title = f"F1 per class · {cmp_.names[0]} (blue) vs {cmp_.names[1]} (orange)"
        else:
            values = np.nan_to_num(df[list(METRICS)].to_numpy()[self.shown].T, nan=0.0)
        with self.bars.hold_sync():
            self.bars.x = [ev.classes[i] for i in self.shown]
            self.bars.y = values
        self._render_table()

    def _render_table(self) -> None:
        ev = self.state.evaluation
        if ev is None or not ev.is_classification:
            return
        df = self.frame()
        key = self.sort_by.value
        if key != "class":
            df = df.sort_values(key, ascending=key != "support", kind="stable")
        focus = self.state.focus_class
        rows = []
        for name, row in df.iterrows():
            bg = "background:#fff3e0;font-weight:bold" if focus is not None and ev.classes[focus] == name else ""
            cells = "".join(
                f"<td>{'—' if np.isnan(row[m]) else f'{row[m]:.3f}'}</td>" for m in METRICS
            )
            rows.append(f"<tr style='{bg}'><td>{html.escape(str(name))}</td>{cells}<td>{int(row['support'])}</td></tr>")
        self.table.value = (
            "<table class='h5eval-per-class' style='font-size:12px;border-collapse:collapse'>"
            "<tr><th>class</th><th>precision</th><th>recall</th><th>F1</th><th>support</th></tr>"
            + "".join(rows) + "</table>"
        )

    @guarded
    def _on_focus(self, change):
        if self.state.evaluation is not None:
            self.refresh()

    @guarded
    def _on_bar_click(self, data: dict):
        """A click on a class's bars, as the browser sends it (``index`` = bar group)."""
        self.state.focus_class = int(self.shown[int(data["index"])])

    def click_class(self, cls: int) -> None:
        """Act as if the user clicked the bars of class ``cls`` in the browser."""
        self.click(self.bars, index=int(np.flatnonzero(self.shown == cls)[0]))
