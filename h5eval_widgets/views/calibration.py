"""Calibration view: reliability diagram and confidence of right versus wrong predictions."""

from __future__ import annotations

import bqplot as bq
import ipywidgets as W
import numpy as np

from ..state import EvalState
from ._base import View


class CalibrationView(View):
    """Observed frequency against predicted probability, and where right and wrong answers sit."""

    def __init__(self, state: EvalState, *, n_bins: int = 10, **kwargs):
        super().__init__(state, **kwargs)
        self.n_bins = n_bins
        xs, ys = bq.LinearScale(min=0.0, max=1.0), bq.LinearScale(min=0.0, max=1.0)
        self.diagonal = bq.Lines(x=[0, 1], y=[0, 1], scales={"x": xs, "y": ys}, colors=["#aaa"],
                                 line_style="dashed")
        self.curve = bq.Lines(x=[0.0], y=[0.0], scales={"x": xs, "y": ys}, marker="circle", colors=["#1f77b4"])
        self.reliability = bq.Figure(
            marks=[self.diagonal, self.curve],
            axes=[bq.Axis(scale=xs, label="mean predicted probability", tick_format=".1f"),
                  bq.Axis(scale=ys, label="observed frequency", orientation="vertical", tick_format=".1f")],
            title="Reliability", layout=W.Layout(width="330px", height="320px"),
            fig_margin={"top": 40, "bottom": 45, "left": 50, "right": 10},
        )
        hx, hy = bq.OrdinalScale(), bq.LinearScale(min=0.0)
        self.hist = bq.Bars(x=[], y=[], type="grouped", scales={"x": hx, "y": hy},
                            colors=["#74c476", "#d62728"], labels=["right", "wrong"], display_legend=True)
        self.histogram = bq.Figure(
            marks=[self.hist],
            axes=[bq.Axis(scale=hx, label="confidence"), bq.Axis(scale=hy, orientation="vertical")],
            title="Confidence: right vs wrong", legend_location="top-left",
            layout=W.Layout(width="380px", height="320px"),
            fig_margin={"top": 40, "bottom": 45, "left": 50, "right": 10},
        )
        self.children = [W.HBox([self.reliability, self.histogram])]
        if state.evaluation is not None:
            self.refresh()

    def refresh(self) -> None:
        ev = self.shown_for("binary", "multiclass")
        if ev is None:
            return
        cal = ev.calibration(self.n_bins)
        with self.curve.hold_sync():
            self.curve.x, self.curve.y = cal["prob_pred"].to_numpy(), cal["prob_true"].to_numpy()
        self.reliability.title = f"Reliability · ECE {ev.scores['ece']:.3f}"
        edges = np.linspace(0, 1, self.n_bins + 1)
        conf, ok = ev.confidence, ev.correct
        right = np.histogram(conf[ok], bins=edges)[0]
        wrong = np.histogram(conf[~ok], bins=edges)[0]
        with self.hist.hold_sync():
            self.hist.x = [f"{a:.1f}" for a in edges[:-1]]
            self.hist.y = np.vstack([right, wrong]).astype(np.float64)
