"""Dataset cartography of a training dashboard: each validation sample's mean true-class
probability over the recorded epochs against its spread, linked both ways with the other views."""

from __future__ import annotations

import bqplot as bq
import ipywidgets as W
import numpy as np

from ..core.metrics.cartography import REGIONS
from ._base import View, guarded
from ._draw import axes, figure

#: Region colours (easy, ambiguous, hard to learn): Okabe and Ito's blue, orange and reddish
#: purple, told apart with every common colour-vision deficiency (red and green were not)
REGION_COLORS = ("#0072B2", "#E69F00", "#CC79A7")
#: Samples listed by the "hard to learn" and "most forgotten" buttons, at most.
LISTED = 200


class CartographyView(View):
    """Confidence against variability over the epochs recorded so far (Swayamdipta et al. 2020).

    A lasso on the map shows the samples inside in the samples view and counts them in the
    matrix (as the embedding map's selection does); the samples shown elsewhere (a clicked cell)
    are marked on it. Two buttons list the hard-to-learn samples (least confident first) and the
    most forgotten ones (most forgetting events first)."""

    redraw_on = ("epochs",)
    update_on = {"selected_indices": "_mark"}
    lazy = True

    def build(self) -> list[W.Widget]:
        self._quiet = False
        self.frame = None
        xs, ys = bq.LinearScale(min=0.0), bq.LinearScale(min=0.0, max=1.0)
        self.scatter = bq.Scatter(
            x=np.zeros(1),
            y=np.zeros(1),
            color=np.zeros(1),
            default_size=14,
            scales={"x": xs, "y": ys, "color": bq.OrdinalColorScale(colors=list(REGION_COLORS), domain=[0, 1, 2])},
            selected_style={"opacity": 1.0, "stroke": "black"},
            unselected_style={"opacity": 0.35},
        )
        self.scatter.observe(self._on_lasso, names="selected")
        self.lasso = bq.interacts.LassoSelector(marks=[self.scatter], color="#ff7f0e")
        self.fig = figure(
            [self.scatter],
            axes(xs, ys, "variability", "confidence"),
            width=460,
            height=400,
            margin={"left": 55},
            interaction=self.lasso,
        )
        self.hard = W.Button(description="hard to learn")
        self.forgotten = W.Button(description="most forgotten")
        self.hard.on_click(lambda _b: self.show("hard"))
        self.forgotten.on_click(lambda _b: self.show("forgotten"))
        self.counts = W.HTML()
        return [self.counts, self.fig, W.HBox([self.hard, self.forgotten])]

    def refresh(self) -> None:
        frame = self.session.cartography()
        self.set_visible(frame is not None)
        if frame is None:
            return
        self.frame = frame
        codes = frame["region"].map({r: i for i, r in enumerate(REGIONS)}).to_numpy()
        self._quiet = True
        try:
            with self.scatter.hold_sync():
                self.scatter.x = frame["variability"].to_numpy(dtype=float)
                self.scatter.y = frame["confidence"].to_numpy(dtype=float)
                self.scatter.color = codes
                self.scatter.selected = None
        finally:
            self._quiet = False
        n = frame["region"].value_counts()
        epochs = len(self.session.epochs)
        dot = "display:inline-block;width:10px;height:10px;border-radius:50%;margin:0 3px 0 8px;background:"
        legend = "".join(
            f"<span style='{dot}{c}'></span>{r} {int(n.get(r, 0))}" for r, c in zip(REGIONS, REGION_COLORS)
        )
        ring = dot.replace("background:", "border:2px solid #000;width:8px;height:8px;background:")
        self.counts.value = (
            f"<b>Cartography</b> over {epochs} epochs ·{legend}"
            f"<span style='{ring}transparent'></span>shown in the samples view"
        )
        self.hard.description = f"hard to learn ({int(n.get('hard', 0))})"
        self.forgotten.description = f"most forgotten ({int((frame['forgetting_events'] > 0).sum())})"
        self._mark()

    def _mark(self) -> None:
        """Mark the samples shown in the samples view (a clicked cell's, a slice's...)."""
        if self.frame is None or self.state.brushed is not None:
            return
        idx = self.state.selected_indices
        self._quiet = True
        try:
            self.scatter.selected = None if idx is None else np.asarray(idx, dtype=np.int64)
        finally:
            self._quiet = False

    @guarded
    def _on_lasso(self, change) -> None:
        if self._quiet or change["new"] is None or self.frame is None:
            return
        idx = np.unique(np.asarray(change["new"], dtype=np.int64))
        self.state.brush_samples(idx, f"Cartography lasso ({len(idx)})")

    def listed(self, which: str) -> np.ndarray:
        """The samples a button lists: ``'hard'`` (hard to learn, least confident first) or
        ``'forgotten'`` (forgotten at least once, most forgetting events first)."""
        f = self.frame
        if which == "hard":
            rows = f[f["region"] == "hard"].sort_values("confidence", kind="stable")
        else:
            rows = f[f["forgetting_events"] > 0].sort_values("forgetting_events", ascending=False, kind="stable")
        return rows.index.to_numpy(dtype=np.int64)[:LISTED]

    @guarded
    def show(self, which: str) -> None:
        idx = self.listed(which)
        label = "Hard to learn" if which == "hard" else "Most forgotten"
        self.state.show_samples(idx, f"{label} ({len(idx)})")
