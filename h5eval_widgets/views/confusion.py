"""Confusion matrix view: a bqplot GridHeatMap whose cell clicks select samples."""

from __future__ import annotations

import bqplot as bq
import ipywidgets as W
import numpy as np

from ..core.metrics.functions import confusion_matrix, normalize_confusion
from ..core.metrics.queries import classes_to_draw, errors_covered
from ..state import EvalState
from ._base import View, guarded
from ._draw import figure

#: Light-to-mid blues: dark text stays readable on every cell.
CELL_COLORS = ["#f7fbff", "#c6dbef", "#6baed6"]


class ConfusionMatrixView(View):
    """Counts (or rates) per (true, predicted) cell; a click selects the cell in the state.

    A browser click arrives as bqplot's ``element_click`` message (handled by
    :meth:`_on_cell_click`), not through ``GridHeatMap.selected``: with bqplot 0.13 and
    ipywidgets 8 a selection made in the browser does not reach Python observers (bqplot
    issue 1632), while messages do. Python then sets ``selected`` to draw the highlight.

    Parameters
    ----------
    state : EvalState
    max_classes : int, default=30
        Above this many classes only the most confused ones are drawn (adjustable).
    """

    redraw_on = ("normalize", "threshold", "focus_class", "count_label_issues", "brushed")
    update_on = {"selected_cell": "_on_selected_cell"}

    def __init__(self, state: EvalState, *, max_classes: int = 30, **kwargs):
        self.max_classes = max_classes
        self.shown = np.arange(0)
        super().__init__(state, **kwargs)

    def build(self) -> list[W.Widget]:
        self.row_scale = bq.OrdinalScale(reverse=True)
        self.col_scale = bq.OrdinalScale()
        self.color_scale = bq.ColorScale(colors=CELL_COLORS)
        self.heatmap = bq.GridHeatMap(
            color=np.zeros((2, 2)),
            scales={"row": self.row_scale, "column": self.col_scale, "color": self.color_scale},
            display_format=".0f",
            font_style={"fill": "#111", "font-size": "13px"},
            selected_style={"stroke": "#ff7f0e", "stroke-width": "3"},
            stroke="white",
        )
        self.on_click(self.heatmap, self._on_cell_click)
        axes = [
            bq.Axis(scale=self.col_scale, label="predicted"),
            bq.Axis(scale=self.row_scale, orientation="vertical", label="true"),
        ]
        self.figure = figure(
            [self.heatmap],
            axes,
            title="Confusion matrix",
            width=440,
            height=440,
            margin={"bottom": 50, "left": 70},
            padding_y=0.0,
        )
        self.mode = W.ToggleButtons(
            options=[("counts", None), ("by true", "true"), ("by predicted", "pred")],
            value=self.state.normalize,
            style={"button_width": "100px"},
        )
        self.link((self.mode, "value"), (self.state, "normalize"))
        self.issues_toggle = W.ToggleButton(
            description="label errors",
            icon="flag",
            layout=W.Layout(width="120px"),
            tooltip="count each cell's likely label errors (cleanlab)",
        )
        self.link((self.issues_toggle, "value"), (self.state, "count_label_issues"))
        self.top_n = W.BoundedIntText(
            value=15, min=2, max=200, description="top classes", layout=W.Layout(width="170px", display="none")
        )
        self.top_n.observe(lambda c: self._draw(self.refresh), names="value")
        self.caption = W.HTML()
        return [W.HBox([self.mode, self.issues_toggle, self.top_n]), self.figure, self.caption]

    # -------------------------------------------------------------- state -> view
    def refresh(self) -> None:
        ev = self.shown_for("single_label")
        if ev is None:
            return
        cm = self.state.decisions.confusion
        brushed = self.state.brushed
        if brushed is not None:  # the samples chosen on the embedding map, counted
            cm = confusion_matrix(ev.y_true[brushed], self.state.decisions.y_pred[brushed], ev.n_classes)
        many = ev.n_classes > self.max_classes
        self.top_n.layout.display = None if many else "none"
        sel = self.state.selected_cell
        self.shown = classes_to_draw(
            cm, self.top_n.value if many else ev.n_classes, self.state.focus_class, keep=() if sel is None else sel
        )
        issues = self.state.count_label_issues
        if issues:  # each cell's likely label errors, counted (not normalized)
            counts = ev.label_issue_counts(self.state.decisions.y_pred)
            values = counts[np.ix_(self.shown, self.shown)]
        else:
            values = normalize_confusion(cm[np.ix_(self.shown, self.shown)], self.state.normalize)
        names = [ev.classes[i] for i in self.shown]
        with self.heatmap.hold_sync():
            # row/column are validated against color's shape: clear them first
            self.heatmap.row = None
            self.heatmap.column = None
            self.heatmap.color = np.asarray(values, dtype=np.float64)
            self.heatmap.row = names
            self.heatmap.column = names
            self.heatmap.display_format = ".0f" if self.state.normalize is None or issues else ".2f"
        if many:
            covered, errors = errors_covered(cm, self.shown)
            share = f" ({covered / errors:.0%})" if errors else ""
            self.figure.title = (
                f"{len(self.shown)} of {ev.n_classes} classes · the drawn cells hold "
                f"{covered:,.0f} of {errors:,.0f} errors{share}"
            )
        else:
            self.figure.title = "Confusion matrix"
        if brushed is not None:
            self.figure.title = f"Confusion matrix of the {len(brushed)} samples chosen on the map"
        if issues:
            self.figure.title = (
                f"Likely label errors per cell: {int(counts.sum())} of "
                f"{ev.n_samples} samples (cleanlab; held-out data only)"
            )
        self.figure.title = self.sliced(self.figure.title)
        self._highlight()

    def _on_selected_cell(self) -> None:
        """A selected cell whose classes are not drawn (chosen in the confused list) redraws
        the matrix with them; otherwise only the highlight moves."""
        sel = self.state.selected_cell
        if sel is not None and not (sel[0] in self.shown and sel[1] in self.shown):
            self.refresh()
        else:
            self._highlight()

    def _highlight(self) -> None:
        pos = {c: p for p, c in enumerate(self.shown)}
        cells = []
        focus = self.state.focus_class
        ev = self.session.evaluation
        if focus is not None and focus in pos and ev.positive_class is None:
            f = pos[focus]
            cells += [[f, j] for j in range(len(self.shown))] + [[i, f] for i in range(len(self.shown))]
        sel = self.state.selected_cell
        if sel is not None and sel[0] in pos and sel[1] in pos:
            cells.append([pos[sel[0]], pos[sel[1]]])
        self.heatmap.selected = np.array(cells) if cells else None
        if sel is not None:
            n = len(self.state.selected_indices) if self.state.selected_indices is not None else 0
            self.caption.value = (
                f"<b>selected</b>: true <b>{ev.classes[sel[0]]}</b> → predicted "
                f"<b>{ev.classes[sel[1]]}</b>, {n} sample(s)"
            )
        else:
            self.caption.value = "Click a cell to see its samples."

    # -------------------------------------------------------------- view -> state
    @guarded
    def _on_cell_click(self, data: dict):
        """A click on a cell, as the browser sends it: ``{'rowNum': r, 'columnNum': c, ...}``."""
        r, c = int(data["rowNum"]), int(data["columnNum"])
        self.state.selected_cell = (int(self.shown[r]), int(self.shown[c]))

    def click_cell(self, true: int, pred: int) -> None:
        """Act as if the user clicked the cell of classes ``(true, pred)`` in the browser."""
        pos = {c: p for p, c in enumerate(self.shown)}
        self.click(self.heatmap, rowNum=pos[true], columnNum=pos[pred])
