"""Object-detection view: the confusion matrix with a background row and column, moved live by a
confidence slider and an IoU choice; a cell click shows its images with the boxes drawn, a page at
a time (and one of them large in "details"); per-class AP bars and a class's precision-recall curve.

The view is in three parts the dashboard places where every task has them: :attr:`matrix_panel`
(the controls and the matrix) where the classifier's matrix is, :attr:`samples_panel` (the cell's
pictures) where the classifier's samples are, and the view itself (AP, box sizes, slices, the
precision-recall curve) under them."""

from __future__ import annotations

import html
from pathlib import Path

import bqplot as bq
import ipywidgets as W
import numpy as np

from ..core.results.palette import SERIES
from ._a11y import NamedImage, described
from ._base import View, guarded, set_visible
from ._boxes import draw_boxes
from ._draw import axes, figure
from ._matrix import MatrixPlot

__all__ = ["DetectionView"]

#: Longest side in pixels of the image drawn in "details" (the gallery's are at most 240).
DETAIL_SIDE = 640


class DetectionView(View):
    """Shown for a detection result (one whose class says ``is_detection``).

    The matrix is answered from the result's sorted index (``ev.confusion_matrix(iou,
    confidence)``), so a slider move redraws counts without matching again. A click on a cell
    (``rowNum`` = true, ``columnNum`` = predicted) sets :attr:`selected_cell` and shows the cell's
    images, :attr:`max_images` a page ("previous" / "next" turn the pages): true boxes solid,
    predicted boxes dashed with class and score, the cell's own boxes thick and orange. "details"
    lists every image of the cell and draws the chosen one at most :data:`DETAIL_SIDE` pixels on
    its longer side (never enlarged; the page shrinks it to fit its column, never stretches it). The precision-recall chart is
    COCO's interpolated precision at its 101 recall points (``ev.pr_curve``) of the class chosen in
    "PR of" at the IoU chosen; a cell click chooses the cell's class.
    """

    #: Images drawn a page.
    max_images = 6

    def build(self) -> list[W.Widget]:
        self.selected_cell: tuple[int, int] | None = None
        #: The open cell's images (ids, in the cell's order) and the page of them shown.
        self.cell_images: list = []
        self.page = 0
        self.plot = MatrixPlot("Detection confusion matrix", width=460)
        self.heatmap, self.matrix = self.plot.heatmap, self.plot.figure
        self.on_click(self.heatmap, self._on_cell_click)
        self.plot.keys.on_open(self._on_cell_click)  # Enter on the keyboard's cursor: a click there
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
        self.ap_bars = bq.Bars(x=["-"], y=[0.0], scales={"x": xs, "y": ys}, colors=[SERIES[0]])
        self.ap_figure = figure(
            [self.ap_bars], axes(xs, ys, "class", "AP@[.50:.95]"), title="Per-class AP", width=380, height=300
        )
        rs, ps = bq.LinearScale(min=0.0, max=1.0), bq.LinearScale(min=0.0, max=1.0)
        self.pr_line = bq.Lines(x=[0.0], y=[0.0], scales={"x": rs, "y": ps}, colors=[SERIES[0]])
        self.pr_figure = figure(
            [self.pr_line], axes(rs, ps, "recall", "precision"), title="Precision-recall", width=380, height=300
        )
        self.pr_class = W.Dropdown(options=["-"], description="PR of", layout=W.Layout(width="260px"))
        self.pr_class.observe(lambda c: self._draw(self.update_pr), names="value")
        self.detail_choice = W.Dropdown(options=[], description="details", layout=W.Layout(width="320px"))
        self.detail_choice.observe(lambda c: self._draw(self.show_detail), names="value")
        # drawn at its own size (never enlarged) and shrunk to fit its column: not stretched to
        # the column's width as a flex item would be
        self.detail_image = NamedImage(
            format="png",
            layout=W.Layout(display="none", margin="4px 0", max_width="100%", height="auto", align_self="flex-start"),
        ).add_class("h5eval-detection-detail")
        self._drawn_images: list = []
        self._cell = None
        self.sizes = W.HTML()  # the evaluation by box size (small / medium / large)
        self.group_by = W.Dropdown(options=[], description="slice by", layout=W.Layout(width="260px"))
        self.group_by.observe(lambda c: self._draw(self.show_groups), names="value")
        self.groups = W.HTML()  # the evaluation by a column of the images (metadata)
        self.cell_title = W.HTML()
        self.pictures = [
            NamedImage(format="png", layout=W.Layout(margin="2px", max_width="100%", height="auto"))
            for _ in range(self.max_images)
        ]
        self.gallery = W.HBox([], layout=W.Layout(flex_flow="row wrap", align_items="flex-start")).add_class(
            "h5eval-detection-gallery"
        )
        self.picture_names = W.HTML()  # the page's files, in the pictures' order
        self.prev_btn = W.Button(description="◀ previous", layout=W.Layout(width="110px"))
        self.next_btn = W.Button(description="next ▶", layout=W.Layout(width="110px"))
        self.page_label = W.Label()
        self.prev_btn.on_click(lambda b: self._turn(-1))
        self.next_btn.on_click(lambda b: self._turn(+1))
        self.pager = W.HBox([self.prev_btn, self.page_label, self.next_btn], layout=W.Layout(display="none"))
        # the matrix where the classifier's is, the cell's pictures where its samples are
        self._matrix_parts = [W.HBox([self.iou]), self.confidence, self.plot.box, self.plot.legend]
        self._samples_parts = [
            self.cell_title,
            self.pager,
            self.picture_names,
            self.gallery,
            self.detail_choice,
            self.detail_image,
        ]
        self.matrix_panel = W.VBox(layout=W.Layout(display="none")).add_class("h5eval-detection-matrix")
        self.samples_panel = W.VBox(layout=W.Layout(display="none", max_width="100%")).add_class(
            "h5eval-detection-samples"
        )
        return [
            W.HBox(
                [
                    described(self.ap_figure),
                    W.VBox([self.sizes, self.group_by, self.groups], layout=W.Layout(margin="0 12px")),
                    W.VBox([self.pr_class, described(self.pr_figure)]),
                ],
                layout=W.Layout(flex_flow="row wrap"),
            )
        ]

    def set_visible(self, visible: bool) -> None:
        """Show or hide the view with its matrix and samples panels (placed elsewhere)."""
        super().set_visible(visible)
        set_visible(self.matrix_panel, visible, self._matrix_parts)
        set_visible(self.samples_panel, visible, self._samples_parts)

    def _shown(self):
        ev = self.session.evaluation
        visible = ev is not None and bool(getattr(type(ev), "is_detection", False))
        self.set_visible(visible)
        return ev if visible else None

    def refresh(self) -> None:
        ev = self._shown()
        if ev is None:
            return
        ap = ev.per_class_ap()
        with self.ap_bars.hold_sync():
            self.ap_bars.x = list(ap.index)
            self.ap_bars.y = np.nan_to_num(ap["ap"].to_numpy(), nan=0.0)
        self.ap_figure.title = self.sliced(f"Per-class AP · mAP {ev.scores['map']:.3f}")
        self.sizes.value = _size_table(ev.by_box_size())
        columns = [c for c in ev.images.columns if c not in ("image_id", "file_name")]
        keep = self.group_by.value if self.group_by.value in columns else None
        self.group_by.options = [("(none)", None)] + [(c, c) for c in columns]
        self.group_by.value = keep
        self.show_groups()
        self.selected_cell = None
        self.plot.select(None)
        keep = self.pr_class.value if self.pr_class.value in ev.classes else ev.classes[0]
        self.pr_class.options = list(ev.classes)
        self.pr_class.value = keep
        self._drawn_images = []
        self.cell_images = []
        self.page = 0
        self.gallery.children = ()
        self.picture_names.value = ""
        self.pager.layout.display = "none"
        self.cell_title.value = "<i>Click a cell of the matrix to see its images.</i>"
        self.detail_choice.options = []
        self.detail_image.layout.display = "none"
        self.update_matrix()

    def show_groups(self) -> None:
        """COCO's numbers per group of images of the column chosen in "slice by" (worst first)."""
        ev = self._shown()
        column = self.group_by.value
        if ev is None or column is None or column not in ev.images.columns:
            self.groups.value = ""
            return
        table = ev.by_image_group(ev.images[column].to_numpy())
        rows = "".join(
            f"<tr><td>{html.escape(str(g))}</td><td>{int(r['n_images']):,}</td><td>{int(r['n_true']):,}</td>"
            f"<td>{r['map']:.3f}</td><td>{r['mar_100']:.3f}</td></tr>"
            for g, r in table.iterrows()
        )
        self.groups.value = (
            "<table class='h5eval-image-groups' style='font-size:12px;border-collapse:collapse'>"
            f"<tr><th>{html.escape(column)}</th><th>images</th><th>true boxes</th><th>mAP</th><th>mAR@100</th></tr>"
            f"{rows}</table>"
        )

    def update_pr(self) -> None:
        """Draw the chosen class's precision-recall curve at the chosen IoU."""
        ev = self._shown()
        if ev is None or self.pr_class.value not in ev.classes:
            return
        recall, precision = ev.pr_curve(self.pr_class.value, iou=self.iou.value)
        keep = precision >= 0  # COCO marks recall levels never reached with -1
        with self.pr_line.hold_sync():
            self.pr_line.x = recall[keep].astype(float) if keep.any() else [0.0]
            self.pr_line.y = precision[keep].astype(float) if keep.any() else [0.0]
        self.pr_figure.title = f"Precision-recall of {self.pr_class.value} · IoU {self.iou.value:g}"

    def update_matrix(self) -> None:
        """Redraw the counts for the current IoU and confidence (a lookup), and the open cell."""
        ev = self._shown()
        if ev is None:
            return
        cm = ev.confusion_matrix(iou=self.iou.value, confidence=self.confidence.value)
        cell = "true {true}, predicted {pred}: {value} "
        self.plot.draw(cm, ev.matrix_labels, n_right=ev.n_classes, cell_name=(cell + "boxes", cell + "box"))
        self.matrix.title = f"Detection matrix · IoU {self.iou.value:g} · confidence ≥ {self.confidence.value:.2f}"
        self.update_pr()
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
        self.plot.select((true, predicted))
        if min(true, predicted) < k:  # the cell's class: its true class, else the predicted one
            self.pr_class.value = ev.classes[true if true < k else predicted]
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
        )
        self._cell = cell
        if images != self.cell_images:  # another cell (a slider move may keep the same images)
            self.page = 0
        self.cell_images = images
        names = ev.images.set_index("image_id")["file_name"]
        chosen = self.detail_choice.value
        self.detail_choice.options = [(str(names.loc[i]), i) for i in images]
        self.detail_choice.value = chosen if chosen in images else None
        self._draw_page()
        self.show_detail()

    @property
    def pages(self) -> int:
        """The number of pages of the open cell's images."""
        return max(1, -(-len(self.cell_images) // self.max_images))

    @guarded
    def _turn(self, step: int) -> None:
        self.page = min(max(self.page + step, 0), self.pages - 1)
        self._draw_page()

    def _draw_page(self) -> None:
        """Draw the page of the open cell's images, and the pager ("page 2 of 3")."""
        self.page = min(self.page, self.pages - 1)
        start = self.page * self.max_images
        self._drawn_images = self.cell_images[start : start + self.max_images]
        files = self.session.evaluation.images.set_index("image_id")["file_name"]
        for pic, image_id in zip(self.pictures, self._drawn_images):
            pic.value = self._picture(image_id)
            pic.tooltip = f"image {files.loc[image_id]} with its true and predicted boxes"
        self.gallery.children = tuple(self.pictures[: len(self._drawn_images)])
        names = " · ".join(
            f"<span data-image-id='{html.escape(str(i))}'>{html.escape(str(files.loc[i]))}</span>"
            for i in self._drawn_images
        )
        self.picture_names.value = (
            f"<div class='h5eval-detection-names' style='font-size:11px;color:var(--jp-ui-font-color2, #666);"
            f"overflow-wrap:anywhere'>left to right: {names}</div>"
            if names
            else ""
        )
        self.page_label.value = f"page {self.page + 1} of {self.pages}"
        self.prev_btn.disabled = self.page == 0
        self.next_btn.disabled = self.page >= self.pages - 1
        self.pager.layout.display = None if self.pages > 1 else "none"

    def _picture(self, image_id, max_side: int = 240) -> bytes:
        """The image with every true and predicted box drawn, the open cell's boxes highlighted."""
        ev, cell = self.session.evaluation, self._cell
        t, d = ev.image_boxes(image_id)
        d = d[d["score"] >= self.confidence.value]
        mine = cell[cell["image_id"] == image_id]
        row = ev.images.set_index("image_id").loc[image_id]
        path = Path(ev.image_dir) / row["file_name"] if ev.image_dir else None
        return draw_boxes(
            path,
            (row["width"], row["height"]),
            t,
            d,
            highlight_true=mine["true_box"][mine["true_box"] >= 0],
            highlight_pred=mine["detection"][mine["detection"] >= 0],
            max_side=max_side,
        )

    def show_detail(self) -> None:
        """Draw the image chosen in "details" (any image of the open cell) large; hidden when
        none is chosen."""
        image_id = self.detail_choice.value
        if image_id is None or image_id not in self.cell_images:
            self.detail_image.layout.display = "none"
            return
        self.detail_image.value = self._picture(image_id, max_side=DETAIL_SIDE)
        self.detail_image.tooltip = f"image {image_id} with its true and predicted boxes, large"
        self.detail_image.layout.display = None


def _size_table(df) -> str:
    """The by-box-size slices as a small HTML table: true boxes, mAP and mAR@100 per size."""
    rows = "".join(
        f"<tr><td>{html.escape(str(size))}</td><td>{int(r['n_true']):,}</td>"
        f"<td>{r['map']:.3f}</td><td>{r['mar_100']:.3f}</td></tr>"
        for size, r in df.iterrows()
    )
    return (
        "<table class='h5eval-box-sizes' style='font-size:12px;border-collapse:collapse'>"
        "<tr><th>box size</th><th>true boxes</th><th>mAP</th><th>mAR@100</th></tr>"
        f"{rows}</table>"
        "<div style='font-size:11px;color:var(--jp-ui-font-color2, #666)'>COCO's areas: small &lt; 32², "
        "medium to 96², large above (pixels²); -1: no box of that size</div>"
    )
