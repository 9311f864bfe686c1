"""The nearest training samples of the sample "details" shows: pictures for images and sounds,
rows for tables and texts, each with its label, the model's prediction and its distance in the
model's embedding (see :mod:`h5eval_widgets.training_sets`)."""

from __future__ import annotations

import html

import ipywidgets as W
import numpy as np

from ..training_sets import K_NEIGHBOURS, training_results
from ._a11y import NamedImage, alt_text
from ._draw import html_table
from ._pictures import THUMBNAIL_PX, file_thumbnail_png, image_png, sound_png


def neighbour_alt(j: int, label, prediction, distance: float) -> str:
    """A training picture's text alternative: ``"training sample 265: true 0, predicted 0, distance 2.19"``."""
    return f"training {alt_text(int(j), str(label), str(prediction))}, distance {distance:.3g}"


def _short(v) -> str:
    a = np.asarray(v)
    text = str(v) if a.ndim == 0 else ", ".join(f"{x:.3g}" if isinstance(x, float) else str(x) for x in a.ravel()[:6])
    return html.escape(text[:80] + ("…" if len(text) > 80 or (a.ndim and a.size > 6) else ""))


class NearestTraining:
    """The "nearest training samples" part of "details", made once and filled sample after sample.

    Parameters
    ----------
    state : EvalState
    """

    def __init__(self, state):
        self.state = state
        self.session = state.session
        self.heading = W.HTML()
        self.pictures = [
            W.VBox(
                [NamedImage(format="png", layout=W.Layout(max_width=f"{THUMBNAIL_PX}px")), W.HTML()],
                layout=W.Layout(margin="0 6px 0 0", width=f"{THUMBNAIL_PX + 10}px"),
            ).add_class("h5eval-neighbour")
            for _ in range(K_NEIGHBOURS)
        ]
        self.strip = W.HBox(self.pictures, layout=W.Layout(flex_flow="row wrap"))
        self.rows = W.HTML()
        self.box = W.VBox([self.heading], layout=W.Layout(width="100%", margin="6px 0 0 0"))
        self.box.add_class("h5eval-nearest-training")
        #: The neighbours shown (``ev.nearest_training``), or None.
        self.shown = None

    def show(self, i: int | None) -> W.Widget | None:
        """The box for sample ``i``, or None when there is no training set (or no sample)."""
        self.shown = None
        results = training_results(self.session)
        name = results.training_name(self.state.training_dataset)
        if i is None or name is None:
            return None
        try:
            table = results.nearest(int(i), name)
            data = self.session.get_dataset(name)
        except Exception as exc:  # noqa: BLE001 - said in the box: opening details is no error of the user's
            self.heading.value = (
                f"<b>Nearest training samples</b> in {html.escape(name)}: not available. {html.escape(str(exc))}"
            )
            self.box.children = [self.heading]
            return self.box
        self.shown = table
        self._fill(table, data, name, int(i))
        return self.box

    def _fill(self, table, data, name: str, i: int) -> None:
        self.heading.value = (
            f"<b>Nearest training samples</b> of sample {i} in {html.escape(name)} "
            "<span style='color:var(--jp-ui-font-color2, #666)'>(distance in the model's embedding)</span>"
        )
        rows = list(table.itertuples(index=False))
        if data is not None and data.kind in ("image", "audio"):
            for part, r in zip(self.pictures, rows):
                image, caption = part.children
                j = int(r.train_index)
                path = data.file_path(j)
                if data.kind == "audio":
                    image.value = sound_png(data, j)
                elif path is not None:
                    image.value = file_thumbnail_png(str(path))
                else:
                    image.value = image_png(data.sample(j))
                image.tooltip = neighbour_alt(j, r.train_label, r.train_prediction, r.distance)
                caption.value = (
                    f"<div style='font-size:11px;line-height:1.3'>#{j} · true <b>{html.escape(str(r.train_label))}</b>"
                    f"<br>predicted {html.escape(str(r.train_prediction))}<br>distance {r.distance:.3g}</div>"
                )
            self.box.children = [self.heading, self.strip]
            return
        cells = [
            [
                str(int(r.rank)),
                str(int(r.train_index)),
                html.escape(str(r.train_label)),
                html.escape(str(r.train_prediction)),
                f"{r.distance:.3g}",
                _short(data.X[int(r.train_index)]) if data is not None else "",
            ]
            for r in rows
        ]
        self.rows.value = html_table(
            ["rank", "training sample", "true", "predicted", "distance", "values"], cells, style="font-size:12px"
        )
        self.box.children = [self.heading, self.rows]
