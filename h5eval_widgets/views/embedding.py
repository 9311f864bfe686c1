"""Embedding map: the samples' embeddings in 2-D (PCA at once, UMAP when asked, in the
background), coloured by class or by right/wrong; linked both ways to the matrix and the samples.

bqplot-gl's ``ScatterGL`` (0.1.1, the only release) does not draw under bqplot 0.13's front end
(its model has no ``getScales``), so the map is SVG: at most :data:`MAX_DRAWN` points are drawn
(a seeded sample of larger maps), the highlighted samples on top of them, while a brush selects
among every point.
"""

from __future__ import annotations

import html

import bqplot as bq
import ipywidgets as W
import numpy as np

from ..core.inference.projection import points_in_box, project_in_background
from ._base import View, guarded
from ._draw import axes, figure

#: Colours of the classes (cycled), and of right / wrong.
CLASS_COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
                "#7f7f7f", "#bcbd22", "#17becf"]
RIGHT_WRONG = ["#9ecae1", "#d62728"]
#: Points drawn at most (SVG), and highlighted at most.
MAX_DRAWN = 5000
COLOR_BY = {"true class": "true", "predicted class": "predicted", "right / wrong": "correct"}


class EmbeddingView(View):
    """The samples as points of their embedding's 2-D map (``Evaluation.projection``).

    The samples shown in the samples view (a clicked cell, a focus class's errors...) are
    marked on top; dragging a box on the map selects the samples inside it: they are shown in the
    samples view and counted in the matrix (``state.brushed``). "UMAP" computes that map in a
    background thread and swaps it in when ready (PCA is there at once).
    """

    lazy = True  # a projection / bootstrap intervals: only once its tab is opened
    redraw_on = ("threshold",)
    update_on = {"selected_indices": "_highlight", "brushed": "_on_brushed"}

    def build(self) -> list[W.Widget]:
        self.x_scale, self.y_scale = bq.LinearScale(), bq.LinearScale()
        self.color_scale = bq.OrdinalColorScale(colors=CLASS_COLORS)
        self.scatter = bq.Scatter(x=np.zeros(1), y=np.zeros(1), color=np.zeros(1, int), default_size=10,
                                  scales={"x": self.x_scale, "y": self.y_scale, "color": self.color_scale},
                                  default_opacities=[0.55], stroke_width=0)
        self.marked = bq.Scatter(x=[], y=[], default_size=28, colors=["#ff7f0e"], stroke="#222",
                                 stroke_width=1, scales={"x": self.x_scale, "y": self.y_scale})
        self.brush = bq.interacts.BrushSelector(x_scale=self.x_scale, y_scale=self.y_scale, color="#ff7f0e")
        # a new box ends with brushing off; a box dragged elsewhere only moves selected_x/y
        self.brush.observe(self._on_brush, names=["brushing", "selected_x", "selected_y"])
        self._box: tuple | None = None
        self.figure = figure([self.scatter, self.marked], axes(self.x_scale, self.y_scale), title="Embedding map",
                             width=520, height=460, interaction=self.brush)
        self.color_by = W.Dropdown(options=list(COLOR_BY), value="right / wrong", description="colour",
                                   layout=W.Layout(width="240px"))
        self.color_by.observe(lambda c: self._draw(self._colour), names="value")
        self.method = W.ToggleButtons(options=[("PCA", "pca"), ("UMAP", "umap")], value="pca",
                                      style={"button_width": "70px"})
        self.method.observe(lambda c: self._draw(self.refresh), names="value")
        self.note = W.HTML()
        self.about = W.HTML()
        self.key = W.HTML()  # the colours' legend
        return [W.HBox([self.method, self.color_by]), self.note, self.figure, self.key, self.about]

    def refresh(self) -> None:
        ev = self.session.evaluation
        if ev.embeddings is None or not hasattr(ev, "correct"):
            self.set_visible(False)
            return
        self.set_visible(True)
        if self.method.value == "umap" and not self._umap_ready(ev):
            self.note.value = ("<i>UMAP is computed in the background (about 10 s per thousand "
                               "points, more the first time); the PCA map is shown meanwhile.</i>")
            self._start_umap(ev)
            self._plot(ev, "pca")
            return
        self.note.value = ""
        self._plot(ev, self.method.value)

    def _umap_ready(self, ev) -> bool:
        return getattr(self, "_umap_done", None) is ev

    def _start_umap(self, ev) -> None:
        if getattr(self, "_umap_for", None) is ev:
            return  # already running for this evaluation
        self._umap_for = ev

        def done(xy):
            self._umap_done = ev
            if self.session.evaluation is ev and self.method.value == "umap":
                self._draw(self.refresh)

        project_in_background(ev, done, method="umap",
                              on_error=lambda exc: self.session.set_status(f"UMAP failed: {exc}", "error"))

    def _plot(self, ev, method: str) -> None:
        xy = ev.projection(method)
        self.xy = xy
        n = len(xy)
        self.drawn = (np.arange(n) if n <= MAX_DRAWN else
                      np.sort(np.random.default_rng(0).choice(n, MAX_DRAWN, replace=False)))
        with self.scatter.hold_sync():
            self.scatter.x = xy[self.drawn, 0].astype(np.float64)
            self.scatter.y = xy[self.drawn, 1].astype(np.float64)
            self._colour()
        self._clear_box()
        drawn = "" if n <= MAX_DRAWN else f" ({MAX_DRAWN:,} drawn)"
        self.figure.title = self.sliced(f"Embedding map · {method.upper()} · {n:,} points{drawn}")
        self.about.value = (f"<small style='color:var(--jp-ui-font-color2, #666)'>"
                            f"{ev.embeddings.description} Drag a box to choose samples (among all "
                            f"{n:,}); the samples shown are marked in orange.</small>")
        self._highlight()

    def _colour(self) -> None:
        ev, dec = self.session.evaluation, self.state.decisions
        what = COLOR_BY[self.color_by.value]
        if what == "correct":
            values, colors, names = (ev.y_true != dec.y_pred).astype(int), RIGHT_WRONG, ["right", "wrong"]
        else:
            values = np.asarray(ev.y_true if what == "true" else dec.y_pred)
            colors, names = CLASS_COLORS, list(ev.classes)
        self.color_scale.colors = colors
        self.color_scale.domain = list(range(len(names)))
        self.scatter.color = values[self.drawn].astype(np.int64)
        self.key.value = "<div class='h5eval-map-legend' style='font-size:12px'>" + " ".join(
            f"<span style='white-space:nowrap;margin-right:8px'><span style='display:inline-block;"
            f"width:10px;height:10px;background:{colors[i % len(colors)]};margin-right:3px'></span>"
            f"{html.escape(str(name))}</span>" for i, name in enumerate(names)) + "</div>"

    def _highlight(self) -> None:
        """The samples shown in the samples view, marked on top (at most :data:`MAX_DRAWN`)."""
        xy, ev = getattr(self, "xy", None), self.session.evaluation
        if xy is None or ev is None or len(xy) != ev.n_samples:
            return  # no map drawn yet, or the new evaluation's map is drawn next (refresh)
        idx = self.state.selected_indices
        idx = np.zeros(0, np.int64) if idx is None else np.asarray(idx, dtype=np.int64)[:MAX_DRAWN]
        self.marked_indices = idx
        with self.marked.hold_sync():
            self.marked.x = self.xy[idx, 0].astype(np.float64)
            self.marked.y = self.xy[idx, 1].astype(np.float64)

    @guarded
    def _on_brush(self, change):
        if self.brush.brushing:  # still dragging: select on release
            return
        sel_x, sel_y = self.brush.selected_x, self.brush.selected_y
        if sel_x is None or sel_y is None or len(sel_x) < 2 or len(sel_y) < 2:
            return
        box = (float(sel_x[0]), float(sel_x[1]), float(sel_y[0]), float(sel_y[1]))
        if box != self._box:  # the release sends the box and brushing: select once
            self.select_box(*box)

    def _on_brushed(self) -> None:
        """Another selection replaced the map's: its box is taken off the map."""
        if self.state.brushed is None and self.brush.selected_x is not None:
            self._clear_box()

    def _clear_box(self) -> None:
        self._box = None
        self.brush.selected_x = None
        self.brush.selected_y = None

    def select_box(self, x0: float, x1: float, y0: float, y1: float) -> np.ndarray:
        """Select the points in a box of the map, as a brush drawn in the browser does: they are
        shown in the samples view and counted in the matrix. Returns their indices."""
        self._box = (x0, x1, y0, y1)
        idx = points_in_box(self.xy, x0, x1, y0, y1)
        self.state.brush_samples(idx, f"Chosen on the map ({len(idx)})")
        return idx
