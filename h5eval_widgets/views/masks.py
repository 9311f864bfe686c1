"""Segmentation views: the pixel confusion matrix, per-class IoU bars, and the images of a cell
with their true and predicted masks overlaid (class colours, a legend, that cell's pixels marked).

The views draw only for a per-pixel evaluation (``ev.per_pixel``). Masks are not kept for the
whole set: each page of images is predicted again through ``ev.masks(indices)``.
"""

from __future__ import annotations

import html
import io

import bqplot as bq
import ipywidgets as W
import numpy as np

from ..core.results.palette import SERIES
from ._a11y import NamedImage, described
from ._base import View, guarded
from ._draw import figure
from ._matrix import MatrixPlot

__all__ = [
    "PixelMatrixView",
    "IoUBarsView",
    "MaskGalleryView",
    "class_colors",
    "overlay",
    "mask_image",
    "confusion_image",
]

#: Class colours (tab10, then tab20's lighter ones); class k gets COLORS[k % 20].
_HEX = [
    "1f77b4",
    "ff7f0e",
    "2ca02c",
    "d62728",
    "9467bd",
    "8c564b",
    "e377c2",
    "7f7f7f",
    "bcbd22",
    "17becf",
    "aec7e8",
    "ffbb78",
    "98df8a",
    "ff9896",
    "c5b0d5",
    "c49c94",
    "f7b6d2",
    "c7c7c7",
    "dbdb8d",
    "9edae5",
]
COLORS = np.array([[int(h[i : i + 2], 16) for i in (0, 2, 4)] for h in _HEX], np.uint8)
#: The pixels of the selected (true, predicted) cell, drawn opaque over everything.
MARK = np.array([255, 0, 255], np.uint8)
IGNORED = np.array([255, 255, 255], np.uint8)


def class_colors(k: int) -> np.ndarray:
    """RGB colours (k, 3) uint8 of classes 0..k-1."""
    return COLORS[np.arange(k) % len(COLORS)]


def _valid(mask: np.ndarray, k: int) -> np.ndarray:
    return (mask >= 0) & (mask < k)


def mask_image(mask: np.ndarray, k: int) -> np.ndarray:
    """A class-index mask in class colours (ignored and unknown values white)."""
    out = np.broadcast_to(IGNORED, (*mask.shape, 3)).copy()
    ok = _valid(mask, k)
    out[ok] = class_colors(k)[mask[ok]]
    return out


def overlay(
    picture: np.ndarray | None, mask: np.ndarray, k: int, *, alpha: float = 0.45, mark: np.ndarray | None = None
) -> np.ndarray:
    """``mask``'s class colours blended over ``picture`` (gray when None); ``mark`` pixels in
    magenta."""
    base = np.full((*mask.shape, 3), 128, np.uint8) if picture is None else picture[..., :3]
    out = base.astype(np.float32)
    ok = _valid(mask, k)
    out[ok] = (1 - alpha) * out[ok] + alpha * class_colors(k)[mask[ok]]
    out = out.round().astype(np.uint8)
    if mark is not None:
        out[mark] = MARK
    return out


def confusion_image(true: np.ndarray, pred: np.ndarray, k: int, mark: np.ndarray | None = None) -> np.ndarray:
    """Right pixels dark gray, wrong ones red, ignored ones white, ``mark`` pixels magenta."""
    out = np.broadcast_to(IGNORED, (*true.shape, 3)).copy()
    ok = _valid(true, k)
    out[ok & (true == pred)] = (60, 60, 60)
    out[ok & (true != pred)] = (214, 39, 40)
    if mark is not None:
        out[mark] = MARK
    return out


def png(a: np.ndarray, size: int) -> bytes:
    """RGB uint8 as PNG, scaled (nearest, so pixels stay sharp) to ``size`` on its long side."""
    from PIL import Image

    im = Image.fromarray(np.ascontiguousarray(a))
    scale = size / max(im.size)
    im = im.resize((max(1, round(im.size[0] * scale)), max(1, round(im.size[1] * scale))), Image.NEAREST)
    buf = io.BytesIO()
    im.save(buf, format="PNG")
    return buf.getvalue()


def legend_html(classes) -> str:
    """Class colour swatches, and the magenta of the selected cell's pixels."""
    sw = "display:inline-block;width:10px;height:10px;margin:0 3px 0 8px;border:1px solid #999"
    items = [
        f"<span style='{sw};background:rgb{tuple(int(v) for v in c)}'></span>{html.escape(n)}"
        for n, c in zip(classes, class_colors(len(classes)))
    ]
    items.append(f"<span style='{sw};background:rgb{tuple(int(v) for v in MARK)}'></span>the cell's pixels")
    return f"<div class='h5eval-mask-legend' style='font-size:11px'>{''.join(items)}</div>"


class _PixelView(View):
    """A view that draws only per-pixel (segmentation) results."""

    def shown(self):
        ev = self.shown_for("per_pixel")
        if ev is not None and ev.positive_class is not None:
            ev = ev.with_threshold(self.state.threshold)  # one sigmoid output: as the slider says
        return ev


_CELL = "true {true}, predicted {pred}: {value} "
#: How a screen reader names a cell of the pixel matrix, by normalisation (and when it holds 1).
PIXEL_NAMES = {
    None: (_CELL + "pixels", _CELL + "pixel"),
    "true": (_CELL + "of the true {true} pixels",) * 2,
    "pred": (_CELL + "of the pixels predicted {pred}",) * 2,
}


class PixelMatrixView(_PixelView):
    """The pixel confusion matrix (counts or normalized); a click selects the cell's images."""

    redraw_on = ("normalize", "threshold")
    update_on = {"selected_cell": "_highlight", "explained_metric": "_highlight", "focus_class": "_highlight"}

    def build(self) -> list[W.Widget]:
        self.plot = MatrixPlot("Pixel confusion matrix")
        self.heatmap, self.figure = self.plot.heatmap, self.plot.figure
        self.on_click(self.heatmap, self._on_cell_click)
        self.plot.keys.on_open(self._on_cell_click)  # Enter on the keyboard's cursor: a click there
        self.mode = W.ToggleButtons(
            options=[("pixels", None), ("by true", "true"), ("by predicted", "pred")],
            value=self.state.normalize,
            style={"button_width": "100px"},
        )
        W.link((self.state, "normalize"), (self.mode, "value"))
        self.slider = W.FloatSlider(
            min=0, max=1, step=0.001, readout_format=".3f", description="threshold", layout=W.Layout(display="none")
        )
        # the state first: linking copies the source's value into the target
        W.link((self.state, "threshold"), (self.slider, "value"))
        self.caption = W.HTML()
        return [W.HBox([self.mode, self.slider]), self.plot.box, self.plot.legend, self.caption]

    def refresh(self) -> None:
        ev = self.shown()
        if ev is None:
            return
        self.slider.layout.display = None if ev.positive_class is not None else "none"
        self.plot.draw(
            ev.confusion_matrix(self.state.normalize),
            ev.classes,
            display_format=".0f" if self.state.normalize is None else ".3f",
            cell_name=PIXEL_NAMES[self.state.normalize],
        )
        self.figure.title = self.sliced(f"Pixel confusion matrix · {int(ev.confusion_matrix().sum()):,} pixels")
        self._highlight()

    def _highlight(self) -> None:
        ev, sel = self.session.evaluation, self.state.selected_cell
        if ev is None or not ev.per_pixel:
            return
        self.plot.select(sel)
        self.plot.set_used(self.state.explained_cells())  # the cells an explained metric counts
        if sel is None:
            self.caption.value = "Click a cell to see the images with the most such pixels."
        else:
            n = int(self.shown().confusion_matrix()[sel])
            self.caption.value = (
                f"<b>selected</b>: true <b>{html.escape(ev.classes[sel[0]])}</b> → "
                f"predicted <b>{html.escape(ev.classes[sel[1]])}</b>, {n:,} pixels"
            )

    @guarded
    def _on_cell_click(self, data: dict):
        """A click on a cell, as the browser sends it: ``{'rowNum': r, 'columnNum': c}``."""
        self.state.selected_cell = (int(data["rowNum"]), int(data["columnNum"]))

    def click_cell(self, true: int, pred: int) -> None:
        """Act as if the user clicked cell ``(true, pred)`` in the browser."""
        self.click(self.heatmap, rowNum=int(true), columnNum=int(pred))


class IoUBarsView(_PixelView):
    """Each class's IoU (over all pixels) as a bar; a class with no pixels anywhere has none."""

    redraw_on = ("threshold",)

    def build(self) -> list[W.Widget]:
        self.x_scale, self.y_scale = bq.OrdinalScale(), bq.LinearScale(min=0, max=1)
        self.bars = bq.Bars(
            x=["0"],
            y=[0.0],
            scales={"x": self.x_scale, "y": self.y_scale},
            colors=[SERIES[0]],
            tooltip=bq.Tooltip(fields=["x", "y"], formats=["", ".3f"]),
        )
        axes = [
            bq.Axis(scale=self.x_scale, label="class"),
            bq.Axis(scale=self.y_scale, side="left", label="IoU", tick_format=".1f"),
        ]
        self.figure = figure([self.bars], axes, title="IoU per class", width=440, height=260)
        return [described(self.figure)]

    def refresh(self) -> None:
        ev = self.shown()
        if ev is None:
            return
        iou = ev.per_class()["iou"].to_numpy()
        with self.bars.hold_sync():
            self.bars.x = list(ev.classes)
            self.bars.y = np.nan_to_num(iou, nan=0.0)
            self.bars.colors = ["#%02x%02x%02x" % tuple(int(v) for v in c) for c in class_colors(ev.n_classes)]
        absent = [c for c, v in zip(ev.classes, iou) if np.isnan(v)]
        more = f" · no pixels of {', '.join(absent)}" if absent else ""
        self.figure.title = self.sliced(f"IoU per class · mean {ev.scores['mean_iou']:.3f}{more}")


class MaskGalleryView(_PixelView):
    """The selected images (a cell's, the most such pixels first; else the worst mean IoU), each
    with its true and predicted masks over the picture and the cell's pixels marked, a page at a
    time ("previous" / "next"); "details" shows the picture, true mask, predicted mask and
    confusion side by side, large (a row that wraps in a narrow column, each panel shrunk to fit).

    The cards are built once (a pool of ``page_size``) and only their values change.
    """

    redraw_on = ("threshold",)
    update_on = {"selected_indices": "refresh", "selected_sample": "_render_details"}
    page_size = 6
    thumb_px = 128
    detail_px = 256

    def build(self) -> list[W.Widget]:
        self.add_class("h5eval-mask-gallery")
        self.title = W.HTML()
        self.legend = W.HTML()
        self.cards, self.card_images, self.card_captions = [], [], []
        for n in range(self.page_size):
            cap = W.HTML()
            imgs = [NamedImage(format="png", layout=W.Layout(width=f"{self.thumb_px}px")) for _ in range(2)]
            btn = W.Button(description="details", layout=W.Layout(width="80px", height="24px"))
            btn.on_click(lambda b, n=n: self._choose(n))
            card = W.VBox([cap, W.HBox(imgs), btn], layout=W.Layout(margin="4px", display="none"))
            self.cards.append(card.add_class("h5eval-mask-card"))
            self.card_images.append(imgs)
            self.card_captions.append(cap)
        self.gallery = W.Box(self.cards, layout=W.Layout(flex_flow="row wrap"))
        self.prev_btn = W.Button(description="◀ previous", layout=W.Layout(width="110px"))
        self.next_btn = W.Button(description="next ▶", layout=W.Layout(width="110px"))
        self.page_label = W.Label()
        self.prev_btn.on_click(lambda b: self._turn(-1))
        self.next_btn.on_click(lambda b: self._turn(+1))
        self.pager = W.HBox([self.prev_btn, self.page_label, self.next_btn])
        self.page = 0
        self.detail_title = W.HTML()
        # drawn at detail_px (nearest: crisp), shrunk to fit a narrow column, wrapped to a new
        # line rather than cut at the column's edge
        self.detail_images = [
            NamedImage(
                format="png",
                layout=W.Layout(width=f"{self.detail_px}px", max_width="100%", height="auto", margin="0 4px 4px 0"),
            ).add_class("h5eval-mask-detail")
            for _ in range(4)
        ]
        self.details = W.VBox(
            [self.detail_title, W.Box(self.detail_images, layout=W.Layout(flex_flow="row wrap", max_width="100%"))],
            layout=W.Layout(display="none", max_width="100%"),
        )
        self.shown_indices = np.zeros(0, np.int64)
        return [self.title, self.legend, self.pager, self.gallery, self.details]

    def _indices(self, ev) -> tuple[np.ndarray, str]:
        idx = self.state.selected_indices
        if idx is None:
            worst = ev.per_image().index.to_numpy()
            return worst, f"Worst mean IoU first ({len(worst)} images)"
        return np.asarray(idx, np.int64), self.state.selection_label

    def refresh(self) -> None:
        self.page = 0
        self._render()

    @guarded
    def _turn(self, step: int) -> None:
        self.page += step
        self._render()

    def _render(self) -> None:
        """Draw the page of the selected images, and the pager ("page 2 of 3")."""
        ev = self.shown()
        if ev is None:
            return
        idx, label = self._indices(ev)
        pages = max(1, -(-len(idx) // self.page_size))
        self.page = min(max(self.page, 0), pages - 1)
        self.shown_indices = idx[self.page * self.page_size : (self.page + 1) * self.page_size]
        self.page_label.value = f"page {self.page + 1} of {pages}"
        self.prev_btn.disabled = self.page == 0
        self.next_btn.disabled = self.page >= pages - 1
        self.pager.layout.display = None if pages > 1 else "none"
        self.title.value = self.sliced(f"<b>Images</b> · {html.escape(label)}")
        self.legend.value = legend_html(ev.classes)
        cell = self.state.selected_cell
        masks = ev.masks(self.shown_indices) if len(self.shown_indices) else []
        counts = ev.counts
        for n, card in enumerate(self.cards):
            if n >= len(masks):
                card.layout.display = "none"
                continue
            i = int(self.shown_indices[n])
            picture, true, pred = masks[n]
            mark = None if cell is None else (true == cell[0]) & (pred == cell[1])
            k = ev.n_classes
            self.card_images[n][0].value = png(overlay(picture, true, k), self.thumb_px)
            self.card_images[n][1].value = png(overlay(picture, pred, k, mark=mark), self.thumb_px)
            name = ev.pixel_counts.names[i] if ev.pixel_counts.names else str(i)
            for img, which in zip(self.card_images[n], ("true", "predicted")):
                img.tooltip = f"image {i} ({name}) with its {which} mask, IoU {ev.image_iou[i]:.3f}"
            extra = "" if cell is None else f" · {int(counts[i, cell[0], cell[1]]):,} px of the cell"
            self.card_captions[n].value = (
                f"<div style='font-size:11px' data-index='{i}'>#{i} {html.escape(name)} · "
                f"IoU {ev.image_iou[i]:.3f}{extra}<br>true · predicted</div>"
            )
            card.layout.display = None
        self._render_details()

    @guarded
    def _choose(self, n: int):
        if n < len(self.shown_indices):
            self.state.selected_sample = int(self.shown_indices[n])

    def _render_details(self) -> None:
        ev, i = self.shown(), self.state.selected_sample
        if ev is None or i is None:
            self.details.layout.display = "none"
            return
        ((picture, true, pred),) = ev.masks([i])
        cell = self.state.selected_cell
        mark = None if cell is None else (true == cell[0]) & (pred == cell[1])
        k = ev.n_classes
        shown = [
            picture if picture is not None else overlay(None, true, k, alpha=0.0),
            mask_image(true, k),
            mask_image(pred, k),
            confusion_image(true, pred, k, mark),
        ]
        name = ev.pixel_counts.names[i] if ev.pixel_counts.names else str(i)
        whats = ("image", "true mask of image", "predicted mask of image", "wrong pixels of image")
        for widget, a, what in zip(self.detail_images, shown, whats):
            widget.value = png(a, self.detail_px)
            widget.tooltip = f"{what} {i} ({name})"
        self.detail_title.value = (
            f"<b>#{i} {html.escape(name)}</b> · IoU {ev.image_iou[i]:.3f} · "
            "image · true mask · predicted mask · confusion (red: wrong)"
        )
        self.details.layout.display = None
