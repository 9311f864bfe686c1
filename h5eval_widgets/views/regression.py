"""Regression view: predicted against actual, and the residuals; brushing selects samples."""

from __future__ import annotations

import bqplot as bq
import ipywidgets as W

from ..core.metrics.queries import brush_indices, regression_targets, residual_histogram, scatter_subset
from ..core.results.names import fmt
from ..core.results.palette import NEUTRAL, SERIES
from ._a11y import described
from ._base import View, guarded
from ._draw import axes, figure


class RegressionView(View):
    """Scatter of predicted against actual with a brush; points under the brush become the selection."""

    def build(self) -> list[W.Widget]:
        self.xs, self.ys = bq.LinearScale(), bq.LinearScale()
        self.ideal = bq.Lines(
            x=[0, 1], y=[0, 1], scales={"x": self.xs, "y": self.ys}, colors=[NEUTRAL], line_style="dashed"
        )
        self.points = bq.Scatter(
            x=[0.0],
            y=[0.0],
            scales={"x": self.xs, "y": self.ys},
            colors=[SERIES[0]],
            default_size=16,
            opacities=[0.6],
        )
        self.brush = bq.interacts.BrushSelector(x_scale=self.xs, y_scale=self.ys, color="orange")
        self.brush.observe(self._on_brush, names=["selected_x", "selected_y", "brushing"])
        self.scatter = figure(
            [self.ideal, self.points],
            axes(self.xs, self.ys, "actual", "predicted"),
            title="Predicted vs actual (drag to select)",
            interaction=self.brush,
            width=380,
            height=360,
            margin={"left": 55},
        )
        hx, hy = bq.LinearScale(), bq.LinearScale(min=0.0)
        self.hist = bq.Bars(x=[0.0], y=[0.0], scales={"x": hx, "y": hy}, colors=[SERIES[0]])
        self.residuals = figure(
            [self.hist], axes(hx, hy, "residual (predicted - actual)"), title="Residuals", width=360, height=360
        )
        return [
            W.HBox(
                [
                    described(self.scatter, marks=[self.points]),
                    described(self.residuals, columns=("residual", "samples")),
                ]
            )
        ]

    def refresh(self) -> None:
        ev = self.shown_for("is_regression")
        if ev is None:
            return
        t, p = regression_targets(ev)
        shown = scatter_subset(len(t))
        lo, hi = float(min(t.min(), p.min())), float(max(t.max(), p.max()))
        with self.points.hold_sync():
            self.points.x, self.points.y = t[shown], p[shown]
        self.ideal.x, self.ideal.y = [lo, hi], [lo, hi]
        with self.hist.hold_sync():
            self.hist.x, self.hist.y = residual_histogram(ev, bins=30)
        self.scatter.title = self.sliced(f"Predicted vs actual · R² {fmt(ev.scores['r2'])} (drag to select)")

    @guarded
    def _on_brush(self, change):
        if self.brush.brushing:
            return
        sx, sy = self.brush.selected_x, self.brush.selected_y
        if sx is None or sy is None or len(sx) != 2:
            return
        self.select_box(float(sx[0]), float(sx[1]), float(sy[0]), float(sy[1]))

    def select_box(self, x0: float, x1: float, y0: float, y1: float) -> None:
        """Select every sample with actual in [x0, x1] and predicted in [y0, y1] (all samples)."""
        idx = brush_indices(self.session.evaluation, (x0, x1), (y0, y1))
        (x0, x1), (y0, y1) = sorted((x0, x1)), sorted((y0, y1))
        self.state.show_samples(idx, f"actual {x0:.3g}…{x1:.3g}, predicted {y0:.3g}…{y1:.3g} ({len(idx)})")
