"""Regression view: predicted against actual, and the residuals; brushing selects samples."""

from __future__ import annotations

import bqplot as bq
import ipywidgets as W
import numpy as np

from ..state import EvalState
from ._base import View, guarded

#: Above this many points the scatter draws a fixed random subset (the brush still selects all).
MAX_POINTS = 5000


class RegressionView(View):
    """Scatter of predicted against actual with a brush; points under the brush become the selection."""

    def __init__(self, state: EvalState, **kwargs):
        super().__init__(state, **kwargs)
        self.xs, self.ys = bq.LinearScale(), bq.LinearScale()
        self.ideal = bq.Lines(x=[0, 1], y=[0, 1], scales={"x": self.xs, "y": self.ys}, colors=["#aaa"],
                              line_style="dashed")
        self.points = bq.Scatter(x=[0.0], y=[0.0], scales={"x": self.xs, "y": self.ys},
                                 colors=["#1f77b4"], default_size=16, default_opacities=[0.6])
        self.brush = bq.interacts.BrushSelector(x_scale=self.xs, y_scale=self.ys, color="orange")
        self.brush.observe(self._on_brush, names=["selected_x", "selected_y", "brushing"])
        self.scatter = bq.Figure(
            marks=[self.ideal, self.points], interaction=self.brush,
            axes=[bq.Axis(scale=self.xs, label="actual"),
                  bq.Axis(scale=self.ys, label="predicted", orientation="vertical")],
            title="Predicted vs actual (drag to select)", layout=W.Layout(width="380px", height="360px"),
            fig_margin={"top": 40, "bottom": 45, "left": 55, "right": 10},
        )
        hx, hy = bq.LinearScale(), bq.LinearScale(min=0.0)
        self.hist = bq.Bars(x=[0.0], y=[0.0], scales={"x": hx, "y": hy}, colors=["#6baed6"])
        self.residuals = bq.Figure(
            marks=[self.hist],
            axes=[bq.Axis(scale=hx, label="residual (predicted - actual)"),
                  bq.Axis(scale=hy, orientation="vertical")],
            title="Residuals", layout=W.Layout(width="360px", height="360px"),
            fig_margin={"top": 40, "bottom": 45, "left": 50, "right": 10},
        )
        self.children = [W.HBox([self.scatter, self.residuals])]
        if state.evaluation is not None:
            self.refresh()

    def _targets(self):
        ev = self.state.evaluation
        t = np.asarray(ev.y_true, dtype=np.float64)
        p = np.asarray(ev.y_pred, dtype=np.float64)
        if t.ndim > 1:  # several outputs: show the first
            t, p = t[:, 0], p[:, 0]
        return t, p

    def refresh(self) -> None:
        ev = self.shown_for("regression")
        if ev is None:
            return
        t, p = self._targets()
        shown = np.arange(len(t))
        if len(t) > MAX_POINTS:
            shown = np.sort(np.random.default_rng(0).choice(len(t), MAX_POINTS, replace=False))
        lo, hi = float(min(t.min(), p.min())), float(max(t.max(), p.max()))
        with self.points.hold_sync():
            self.points.x, self.points.y = t[shown], p[shown]
        self.ideal.x, self.ideal.y = [lo, hi], [lo, hi]
        counts, edges = np.histogram(p - t, bins=30)
        with self.hist.hold_sync():
            self.hist.x, self.hist.y = (edges[:-1] + edges[1:]) / 2, counts.astype(np.float64)
        self.scatter.title = f"Predicted vs actual · R² {ev.scores['r2']:.3f} (drag to select)"

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
        t, p = self._targets()
        (x0, x1), (y0, y1) = sorted((x0, x1)), sorted((y0, y1))
        idx = np.flatnonzero((t >= x0) & (t <= x1) & (p >= y0) & (p <= y1))
        # largest errors first, like the most confident mistakes of a classifier
        idx = idx[np.argsort(-np.abs(p[idx] - t[idx]), kind="stable")]
        self.state.selection_label = (
            f"actual {x0:.3g}…{x1:.3g}, predicted {y0:.3g}…{y1:.3g} ({len(idx)})"
        )
        self.state.selected_indices = idx
