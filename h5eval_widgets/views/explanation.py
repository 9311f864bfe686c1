"""The explanation of the metric pressed in the summary: its formula with this evaluation's
numbers, the counts it is made of, and which matrix cells they are (the matrix marks them)."""

from __future__ import annotations

import html

import ipywidgets as W

from ..core.results.names import metric_name
from ._base import View, guarded


class ExplanationView(View):
    """How the metric named by ``state.explained_metric`` is made (``ev.explain``), at the
    threshold in force; hidden when no metric is explained. "close" clears the choice."""

    redraw_on = ("explained_metric", "focus_class", "threshold")

    def build(self) -> list[W.Widget]:
        self.title = W.HTML()
        self.close_button = W.Button(
            description="close", icon="times", tooltip="close the explanation", layout=W.Layout(width="90px")
        )
        self.close_button.on_click(self._on_close)
        self.body = W.HTML()
        self.cells = W.HTML()
        self.add_class("h5eval-explanation")
        return [W.HBox([self.title, self.close_button], layout=W.Layout(align_items="center")), self.cells, self.body]

    def refresh(self) -> None:
        metric, ev = self.state.explained_metric, self.session.evaluation
        if metric is None or ev is None or metric not in ev.scores:
            self.set_visible(False)
            return
        self.set_visible(True)
        self.title.value = f"<b>How {html.escape(metric_name(metric))} is made</b>"
        try:
            ex = self.state.explanation()
        except ValueError as exc:  # a metric with no explanation: say so in the panel
            self.body.value = f"<p>{html.escape(str(exc))}</p>"
            self.cells.value = ""
            return
        self.body.value = ex._repr_html_()
        used = self.state.explained_cells()
        self.cells.value = (
            f"<p style='font-size:12px'>In the matrix: {html.escape(used.what)}.</p>" if used is not None else ""
        )

    @guarded
    def _on_close(self, button=None) -> None:
        self.state.explained_metric = None
