"""Confusion matrix view: a bqplot GridHeatMap whose cell clicks select samples."""

from __future__ import annotations

import ipywidgets as W
import numpy as np

from ..core.metrics.functions import confusion_matrix, normalize_confusion
from ..core.metrics.queries import classes_to_draw, errors_covered
from ..state import EvalState
from ._base import View, guarded
from ._matrix import MatrixPlot


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
    update_on = {"selected_cell": "_on_selected_cell", "explained_metric": "_highlight"}

    def __init__(self, state: EvalState, *, max_classes: int = 30, **kwargs):
        self.max_classes = max_classes
        self.shown = np.arange(0)
        super().__init__(state, **kwargs)

    def build(self) -> list[W.Widget]:
        self.plot = MatrixPlot("Confusion matrix", focus_name="focus class")
        self.heatmap, self.figure = self.plot.heatmap, self.plot.figure
        self.on_click(self.heatmap, self._on_cell_click)
        self.plot.keys.on_open(self._on_cell_click)  # Enter on the keyboard's cursor: a click there
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
        return [W.HBox([self.mode, self.issues_toggle, self.top_n]), self.plot.box, self.plot.legend, self.caption]

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
        self.plot.draw(
            values,
            names,
            display_format=".0f" if self.state.normalize is None or issues else ".2f",
            cell_name=self._cell_name(issues),
        )
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

    def _cell_name(self, issues: bool) -> tuple[str, str]:
        """How a screen reader names a cell (see :class:`~._grid_keys.GridKeys`), as the numbers read."""
        cell = "true {true}, predicted {pred}: {value} "
        if issues:
            return cell + "likely label errors", cell + "likely label error"
        if self.state.normalize == "true":
            return (cell + "of the true {true} samples",) * 2
        if self.state.normalize == "pred":
            return (cell + "of the samples predicted {pred}",) * 2
        return cell + "samples", cell + "sample"

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
        focus = self.state.focus_class
        ev = self.session.evaluation
        shown = focus is not None and focus in pos and ev.positive_class is None
        self.plot.focus_name = f"focus class {ev.classes[focus]}" if shown else "focus class"
        self.plot.set_focus(pos[focus] if shown else None)
        self.plot.set_used(self.state.explained_cells(), pos.get)
        sel = self.state.selected_cell
        self.plot.select((pos[sel[0]], pos[sel[1]]) if sel is not None and sel[0] in pos and sel[1] in pos else None)
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
