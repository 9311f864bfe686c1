"""Object-detection view: the confusion matrix with a background row and column, moved live by a
confidence slider and an IoU choice; a cell click shows its images with the boxes drawn; per-class
AP bars."""

from __future__ import annotations

import html
from pathlib import Path

import bqplot as bq
import ipywidgets as W
import numpy as np

from ._base import View, guarded
from ._boxes import draw_boxes
from ._draw import axes, figure

__all__ = ["DetectionView"]

CELL_COLORS = ["#f7fbff", "#6baed6", "#08306b"]


class DetectionView(View):
    """Shown for a detection result (one whose class says ``is_detection``).

    The matrix is answered from the result's sorted index (``ev.confusion_matrix(iou,
    confidence)``), so a slider move redraws counts without matching again. A click on a cell
    (``rowNum`` = true, ``columnNum`` = predicted) sets :attr:`selected_cell` and shows up to
    :attr:`max_images` images of the cell: true boxes solid, predicted boxes dashed with class and
    score, the cell's own boxes thick and orange.
    """

    max_images = 6

    def build(self) -> list[W.Widget]:
        self.selected_cell: tuple[int, int] | None = None
        self.row_scale, self.col_scale = bq.OrdinalScale(reverse=True), bq.OrdinalScale()
        self.heatmap = bq.GridHeatMap(
            color=np.zeros((2, 2)),
            scales={"row": self.row_scale, "column": self.col_scale, "color": bq.ColorScale(colors=CELL_COLORS)},
            display_format=".0f",
            font_style={"fill": "#111", "font-size": "12px"},
            selected_style={"stroke": "#ff7f0e", "stroke-width": "3"},
            stroke="white",
        )
        self.on_click(self.heatmap, self._on_cell_click)
        self.matrix = figure(
            [self.heatmap],
            [
                bq.Axis(scale=self.col_scale, label="predicted"),
                bq.Axis(scale=self.row_scale, orientation="vertical", label="true"),
            ],
            title="Detection confusion matrix",
            width=460,
            height=440,
            margin={"bottom": 60, "left": 95},
            padding_y=0.0,
        )
        self.iou = W.ToggleButtons(
            options=[("IoU 0.5", 0.5), ("IoU 0.75", 0.75)], value=0.5, style={"button_width": "80px"}
        )
        self.confidence = W.FloatSlider(
            value=0.0,
            min=0.0,
            max=1.0,
            step=0.01,
            description="confidence",
            continuous_update=True,
            readout_format=".2f",
        )
        self.iou.observe(lambda c: self._draw(self.update_matrix), names="value")
        self.confidence.observe(lambda c: self._draw(self.update_matrix), names="value")
        xs, ys = bq.OrdinalScale(), bq.LinearScale(min=0.0, max=1.0)
        self.ap_bars = bq.Bars(x=["-"], y=[0.0], scales={"x": xs, "y": ys}, colors=["#6baed6"])
        self.ap_figure = figure(
            [self.ap_bars], axes(xs, ys, "class", "AP@[.50:.95]"), title="Per-class AP", width=380, height=300
        )
        self.cell_title = W.HTML()
        self.pictures = [W.Image(format="png", layout=W.Layout(margin="2px")) for _ in range(self.max_images)]
        self.gallery = W.HBox([], layout=W.Layout(flex_flow="row wrap"))
        return [
            W.HBox([W.VBox([W.HBox([self.iou]), self.confidence, self.matrix]), W.VBox([self.ap_figure])]),
            self.cell_title,
            self.gallery,
        ]

    def _shown(self):
        ev = self.session.evaluation
        visible = ev is not None and bool(getattr(type(ev), "is_detection", False))
        self.set_visible(visible)
        return ev if visible else None

    def refresh(self) -> None:
        ev = self._shown()
        if ev is None:
            return
        labels = list(ev.matrix_labels)
        self.row_scale.domain, self.col_scale.domain = labels, labels
        cm = ev.confusion_matrix(iou=self.iou.value, confidence=self.confidence.value)
        with self.heatmap.hold_sync():
            self.heatmap.row, self.heatmap.column = None, None  # the size may change
            self.heatmap.color = cm.astype(float)
            self.heatmap.row, self.heatmap.column = labels, labels
        ap = ev.per_class_ap()
        with self.ap_bars.hold_sync():
            self.ap_bars.x = list(ap.index)
            self.ap_bars.y = np.nan_to_num(ap["ap"].to_numpy(), nan=0.0)
        self.ap_figure.title = self.sliced(f"Per-class AP · mAP {ev.scores['map']:.3f}")
        self.selected_cell = None
        self.update_matrix()

    def update_matrix(self) -> None:
        """Redraw the counts for the current IoU and confidence (a lookup), and the open cell."""
        ev = self._shown()
        if ev is None:
            return
        cm = ev.confusion_matrix(iou=self.iou.value, confidence=self.confidence.value)
        self.heatmap.color = cm.astype(float)
        self.matrix.title = f"Detection matrix · IoU {self.iou.value:g} · confidence ≥ {self.confidence.value:.2f}"
        if self.selected_cell is not None:
            self.show_cell(*self.selected_cell)

    @guarded
    def _on_cell_click(self, data: dict) -> None:
        self.show_cell(int(data["rowNum"]), int(data["columnNum"]))

    def show_cell(self, true: int, predicted: int) -> None:
        """Select cell (``true``, ``predicted``) and draw its images with their boxes."""
        ev = self.session.evaluation
        k = ev.n_classes
        if true == predicted == k:
            return
        self.selected_cell = (true, predicted)
        self.heatmap.selected = [[true, predicted]]
        cell = ev.cell_indices(true, predicted, iou=self.iou.value, confidence=self.confidence.value)
        images = list(dict.fromkeys(cell["image_id"].tolist()))
        names = ev.matrix_labels
        kind = (
            "missed objects"
            if predicted == k
            else "false boxes"
            if true == k
            else "hits"
            if true == predicted
            else "wrong class"
        )
        self.cell_title.value = (
            f"<b>{html.escape(names[true])} → {html.escape(names[predicted])}</b>: "
            f"{len(cell)} {kind} on {len(images)} image(s)"
            + (f", the first {self.max_images} drawn" if len(images) > self.max_images else "")
        )
        sizes = ev.images.set_index("image_id")
        shown = []
        for pic, image_id in zip(self.pictures, images[: self.max_images]):
            t, d = ev.image_boxes(image_id)
            d = d[d["score"] >= self.confidence.value]
            mine = cell[cell["image_id"] == image_id]
            row = sizes.loc[image_id]
            path = Path(ev.image_dir) / row["file_name"] if ev.image_dir else None
            pic.value = draw_boxes(
                path,
                (row["width"], row["height"]),
                t,
                d,
                highlight_true=mine["true_box"][mine["true_box"] >= 0],
                highlight_pred=mine["detection"][mine["detection"] >= 0],
            )
            shown.append(pic)
        self.gallery.children = tuple(shown)
