"""Calibration view: reliability diagram and confidence of right versus wrong predictions."""

from __future__ import annotations

import bqplot as bq
import ipywidgets as W
import numpy as np

from ..core.metrics.queries import confidence_histograms
from ..state import EvalState
from ..core.results.palette import CORRECT, ERROR
from ._a11y import described
from ._base import View
from ._draw import axes, figure
from ._reliability import draw_reliability, reliability_figure


class CalibrationView(View):
    """Observed frequency against predicted probability, and where right and wrong answers sit."""

    def __init__(self, state: EvalState, *, n_bins: int = 10, **kwargs):
        self.n_bins = n_bins
        super().__init__(state, **kwargs)

    def build(self) -> list[W.Widget]:
        self.reliability, self.curve = reliability_figure("Reliability")  # drawn as the Trust tab's
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
        draw_reliability(self.reliability, self.curve, ev, self.n_bins, "Reliability")
        self.reliability.title = self.sliced(self.reliability.title)
        hist = confidence_histograms(ev, self.n_bins)
        with self.hist.hold_sync():
            self.hist.x = [f"{a:.1f}" for a in hist.index]
            self.hist.y = hist[["right", "wrong"]].to_numpy().T.astype(np.float64)
