"""Calibration view: reliability diagram and confidence of right versus wrong predictions."""

from __future__ import annotations

import bqplot as bq
import ipywidgets as W
import numpy as np

from ..core.metrics.queries import confidence_histograms
from ..state import EvalState
from ..core.results.names import fmt
from ..core.results.palette import CORRECT, ERROR, NEUTRAL, SERIES
from ._a11y import described
from ._base import View
from ._draw import axes, figure


class CalibrationView(View):
    """Observed frequency against predicted probability, and where right and wrong answers sit."""

    def __init__(self, state: EvalState, *, n_bins: int = 10, **kwargs):
        self.n_bins = n_bins
        super().__init__(state, **kwargs)

    def build(self) -> list[W.Widget]:
        xs, ys = bq.LinearScale(min=0.0, max=1.0), bq.LinearScale(min=0.0, max=1.0)
        self.diagonal = bq.Lines(x=[0, 1], y=[0, 1], scales={"x": xs, "y": ys}, colors=[NEUTRAL], line_style="dashed")
        self.curve = bq.Lines(
            x=[0.0], y=[0.0], scales={"x": xs, "y": ys}, marker="circle", colors=[SERIES[0]], labels=["reliability"]
        )
        self.reliability = figure(
            [self.diagonal, self.curve],
            axes(xs, ys, "mean predicted probability", "observed frequency", x_format=".1f", y_format=".1f"),
            title="Reliability",
        )
        hx, hy = bq.OrdinalScale(), bq.LinearScale(min=0.0)
        self.hist = bq.Bars(
            x=[],
            y=[],
            type="grouped",
            scales={"x": hx, "y": hy},
            colors=[CORRECT, ERROR],
            labels=["right", "wrong"],
            display_legend=True,
        )
        self.histogram = figure(
            [self.hist],
            axes(hx, hy, "confidence"),
            title="Confidence: right vs wrong",
            legend_location="top-left",
            width=380,
        )
        return [
            W.HBox(
                [
                    described(self.reliability, marks=[self.curve]),
                    described(self.histogram, columns=("confidence", "samples")),
                ]
            )
        ]

    def refresh(self) -> None:
        ev = self.shown_for("single_label")
        if ev is None:
            return
        cal = ev.calibration(self.n_bins)
        with self.curve.hold_sync():
            self.curve.x, self.curve.y = cal["prob_pred"].to_numpy(), cal["prob_true"].to_numpy()
        self.reliability.title = self.sliced(f"Reliability · ECE {fmt(ev.ece)}")
        hist = confidence_histograms(ev, self.n_bins)
        with self.hist.hold_sync():
            self.hist.x = [f"{a:.1f}" for a in hist.index]
            self.hist.y = hist[["right", "wrong"]].to_numpy().T.astype(np.float64)
