"""The "details" of a chosen sample in the samples view: its picture large, its saliency maps
for the predicted and the true class side by side, and its probability for each class."""

from __future__ import annotations

import html

import ipywidgets as W
import numpy as np

from ._a11y import NamedImage, sample_alt
from ._neighbours import NearestTraining
from ._pictures import DETAIL_PX, file_thumbnail_png, image_png, overlay_png, picture, sound_png


class SampleDetails:
    """Drawing of "details", mixed into :class:`~h5eval_widgets.views.samples.SamplesView`
    (which makes ``detail_image``, ``dist``, ``dist_bars`` and ``details`` in its ``build``)."""

    def _show_picture(self, i: int | None) -> None:
        """The chosen image larger in "details" (the gallery only has thumbnails)."""
        data = self.session.dataset
        if i is None or data is None or data.kind not in ("image", "audio"):
            self.detail_image.layout.display = "none"
            return
        path = data.file_path(i)
        if data.kind == "audio":  # the spectrogram, large
            self.detail_image.value = sound_png(data, i, size=DETAIL_PX)
        elif path is not None:
            self.detail_image.value = file_thumbnail_png(str(path), DETAIL_PX)
        else:
            self.detail_image.value = image_png(data.sample(i), size=DETAIL_PX)
        self.detail_image.tooltip = sample_alt(
            self.session.evaluation, i, getattr(self.state.decisions, "y_pred", None)
        )
        self.detail_image.layout.display = None

    def _saliency_pair(self, i: int | None) -> W.Widget | None:
        """The chosen image's maps for the predicted and for the true class, side by side."""
        if i is None or not self.saliency_on:
            return None
        ev, data = self.session.evaluation, self.session.dataset
        pred, true = int(self.state.decisions.y_pred[i]), int(ev.y_true[i])
        with self.session.report_errors():
            maps = self._saliency([i, i], [pred, true])
            img = picture(data, i)
            side = DETAIL_PX * 2 // 3
            box = self._saliency_box()
            for part, m, what, c in zip(box.children, maps, ("predicted", "true"), (pred, true)):
                image, label = part.children
                image.value = overlay_png(img, m, size=side)
                image.tooltip = f"saliency map of sample {i} for the {what} class, {ev.classes[c]}"
                label.value = f"<div style='font-size:12px'>{what} <b>{html.escape(ev.classes[c])}</b></div>"
            return box
        return None

    def _saliency_box(self) -> W.HBox:
        """The two maps of "details" side by side (made once, filled sample after sample)."""
        if self._pair_box is None:
            self._pair_box = W.HBox(
                [
                    W.VBox(
                        [NamedImage(format="png", layout=W.Layout(max_width="100%", height="auto")), W.HTML()],
                        layout=W.Layout(margin="0 8px 0 0", max_width="100%"),
                    ).add_class("h5eval-saliency-detail")
                    for _ in range(2)
                ],
                layout=W.Layout(flex_flow="row wrap", max_width="100%"),
            )
        return self._pair_box

    @property
    def nearest_training(self) -> NearestTraining:
        """The "nearest training samples" part (made when details is first opened)."""
        if getattr(self, "_nearest", None) is None:
            self._nearest = NearestTraining(self.state)
        return self._nearest

    def _show_distribution(self) -> None:
        self._draw_distribution()
        pair = self._saliency_pair(self.state.selected_sample)
        shown = [w for w in (self.detail_image, pair, self.dist) if w is not None and w.layout.display is None]
        if self.dist in shown:  # the bars' numbers, for a screen reader
            shown.append(self.dist_numbers.html)
        if shown:  # its nearest training samples, when a training set is among the datasets
            near = self.nearest_training.show(self.state.selected_sample)
            shown += [near] if near is not None else []
        # a button to close them (Escape does too), reached with Tab after the cards
        self.details.children = [self.close_btn, *shown] if shown else []

    def _draw_distribution(self) -> None:
        i, ev = self.state.selected_sample, self.session.evaluation
        self._show_picture(i)
        if i is None or not ev.single_label:
            self.dist.layout.display = "none"
            return
        p = ev.y_proba[i]
        order = np.argsort(-p, kind="stable")[:20] if len(p) > 20 else np.arange(len(p))
        with self.dist_bars.hold_sync():
            self.dist_bars.x = [ev.classes[j] for j in order]
            self.dist_bars.y = p[order].astype(np.float64)
        self.dist.title = f"Sample #{i}: probability of each class (true {ev.classes[int(ev.y_true[i])]})"
        self.dist.layout.display = None
