"""Curves view: ROC and precision-recall of the focus class, with a live threshold."""

from __future__ import annotations

import bqplot as bq
import ipywidgets as W
import numpy as np

from ..core.metrics.queries import MAX_PICK_POINTS, pick_points
from ..core.results.names import fmt
from ..core.results.palette import SELECTION, SERIES
from ._a11y import described
from ._base import View, guarded
from ._draw import axes, figure

__all__ = ["CurvesView", "MAX_PICK_POINTS", "pick_points"]


def _line_figure(title: str, xlabel: str, ylabel: str):
    xs, ys = bq.LinearScale(min=0.0, max=1.0), bq.LinearScale(min=0.0, max=1.0)
    line = bq.Lines(x=[0.0, 1.0], y=[0.0, 1.0], scales={"x": xs, "y": ys}, colors=[SERIES[0]], labels=["curve"])
    # faint dots along the curve: clicking one moves the threshold there
    pick = bq.Scatter(x=[], y=[], scales={"x": xs, "y": ys}, colors=[SERIES[0]], default_size=30, opacities=[0.3])
    point = bq.Scatter(
        x=[0.0], y=[0.0], scales={"x": xs, "y": ys}, colors=[SELECTION], default_size=80, labels=["operating point"]
    )
    fig = figure([line, pick, point], axes(xs, ys, xlabel, ylabel, x_format=".1f", y_format=".1f"), title=title)
    return fig, line, pick, point


class CurvesView(View):
    """ROC and PR curves of the focus class against the rest, the operating point marked.

    The slider writes ``state.threshold``; for a binary task the confusion matrix, metrics and
    samples follow it, all answered from the engine's sorted-score index.
    """

    redraw_on = ("focus_class",)
    update_on = {"threshold": "_operating_point"}

    def build(self) -> list[W.Widget]:
        self.roc_fig, self.roc_line, self.roc_pick, self.roc_point = _line_figure(
            "ROC", "false positive rate", "true positive rate"
        )
        self.pr_fig, self.pr_line, self.pr_pick, self.pr_point = _line_figure("Precision-recall", "recall", "precision")
        self.pick_thresholds = {"roc": np.zeros(0), "pr": np.zeros(0)}
        self.on_click(self.roc_pick, lambda data: self._on_pick("roc", data))
        self.on_click(self.pr_pick, lambda data: self._on_pick("pr", data))
        self.slider = W.FloatSlider(
            value=self.state.threshold,
            min=0.0,
            max=1.0,
            step=0.001,
            description="threshold",
            readout_format=".3f",
            continuous_update=True,
            layout=W.Layout(width="420px"),
        )
        self.link((self.slider, "value"), (self.state, "threshold"))
        self.best_f1 = W.Button(description="best F1")
        self.best_j = W.Button(description="best Youden's J")
        self.best_f1.on_click(lambda b: self._jump("f1"))
        self.best_j.on_click(lambda b: self._jump("youden"))
        self.readout = W.HTML()
        hint = W.HTML("<small>Click a dot on a curve to move the threshold there.</small>")
        return [
            W.HBox(
                [
                    described(self.roc_fig, marks=[self.roc_line, self.roc_point]),
                    described(self.pr_fig, marks=[self.pr_line, self.pr_point]),
                ]
            ),
            hint,
            W.HBox([self.slider, self.best_f1, self.best_j]),
            self.readout,
        ]

    def _pos(self) -> int | None:
        ev = self.session.evaluation
        return self.state.focus_class if ev.positive_class is None else ev.positive_class

    def refresh(self) -> None:
        ev = self.session.evaluation
        if ev is None or not ev.is_classification or ev.per_pixel or self._pos() is None:
            self.set_visible(False)
            return
        self.set_visible(True)
        pos = self._pos()
        roc, pr = ev.roc_curve(pos), ev.pr_curve(pos)
        name = ev.classes[pos]
        for kind, line, pick, x, y, thr in (
            ("roc", self.roc_line, self.roc_pick, roc["fpr"], roc["tpr"], roc["threshold"]),
            ("pr", self.pr_line, self.pr_pick, pr["recall"], pr["precision"], pr["threshold"]),
        ):
            x, y = x.to_numpy(), y.to_numpy()
            with line.hold_sync():
                line.x, line.y = x, y
            px, py, self.pick_thresholds[kind] = pick_points(x, y, thr.to_numpy())
            with pick.hold_sync():
                pick.x, pick.y = px, py
        auc = ev.roc_auc_of(pos)
        self.roc_fig.title = (
            f"ROC · {name} vs rest · AUC {fmt(auc)}" if ev.positive_class is None else f"ROC · AUC {fmt(auc)}"
        )
        self.pr_fig.title = self.sliced(f"Precision-recall · {name}")
        self.roc_fig.title = self.sliced(self.roc_fig.title)
        self._operating_point()

    def _operating_point(self) -> None:
        ev = self.session.evaluation
        if ev.per_pixel:  # no score columns to draw curves of (the pixel matrix has its slider)
            return
        res = ev.at_threshold(self.state.threshold, self._pos())
        fpr = 1 - res.specificity if not np.isnan(res.specificity) else 0.0
        with self.roc_point.hold_sync():
            self.roc_point.x, self.roc_point.y = [fpr], [np.nan_to_num(res.recall)]
        with self.pr_point.hold_sync():
            self.pr_point.x, self.pr_point.y = [np.nan_to_num(res.recall)], [np.nan_to_num(res.precision, nan=1.0)]
        (tn, fp), (fn, tp) = res.confusion.tolist()
        self.readout.value = (
            f"<span class='h5eval-threshold-readout'>at {fmt(res.threshold)}: precision {fmt(res.precision)} · "
            f"recall {fmt(res.recall)} · F1 {fmt(res.f1)} · accuracy {fmt(res.accuracy)} · "
            f"TP {tp} FP {fp} FN {fn} TN {tn}</span>"
        )

    @guarded
    def _on_pick(self, kind: str, data: dict):
        """A click on a dot of a curve, as the browser sends it: ``{'index': i, ...}``."""
        self.state.threshold = float(self.pick_thresholds[kind][int(data["index"])])

    def click_curve_point(self, kind: str, index: int) -> None:
        """Act as if the user clicked dot ``index`` of the ``'roc'`` or ``'pr'`` curve."""
        self.click(self.roc_pick if kind == "roc" else self.pr_pick, index=index)

    @guarded
    def _jump(self, by: str):
        t = self.session.evaluation.best_threshold(by, self._pos())
        if not np.isnan(t):
            self.state.threshold = t
