"""Samples view: the selected samples, most confident first, as thumbnails, table rows or text."""

from __future__ import annotations

import functools
import html
import io

import bqplot as bq
import ipywidgets as W
import numpy as np

from ..state import EvalState
from ._base import View, guarded
from ._draw import axes, figure, html_table


def image_png(x: np.ndarray, *, size: int = 72) -> bytes:
    """PNG bytes of one image sample, scaled up with nearest-neighbour so small images stay crisp."""
    from PIL import Image

    a = np.asarray(x, dtype=np.float64)
    a = np.squeeze(a)
    if a.ndim == 1:
        side = int(round(np.sqrt(a.size)))
        if side * side != a.size:
            raise ValueError(f"A sample of shape {x.shape} is not an image.")
        a = a.reshape(side, side)
    lo, hi = float(np.nanmin(a)), float(np.nanmax(a))
    scale = 255.0 / (hi - lo) if hi > lo else 0.0
    img = Image.fromarray(((a - lo) * scale).astype(np.uint8))
    factor = max(1, size // max(img.size))
    img = img.resize((img.size[0] * factor, img.size[1] * factor), Image.NEAREST)
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


@functools.lru_cache(maxsize=256)
def file_thumbnail_png(path: str, size: int = 72) -> bytes:
    """PNG bytes of an image file shrunk to fit ``size`` pixels (the original picture, not
    what the model was fed); small images are scaled up crisply."""
    from PIL import Image

    with Image.open(path) as im:
        im = im.convert("RGBA" if im.mode in ("RGBA", "LA", "P") else ("L" if im.mode in ("L", "1", "I;16") else "RGB"))
        if max(im.size) > size:
            im.thumbnail((size, size), Image.BILINEAR)
        else:
            factor = max(1, size // max(im.size))
            im = im.resize((im.size[0] * factor, im.size[1] * factor), Image.NEAREST)
        buf = io.BytesIO()
        im.save(buf, format="PNG")
    return buf.getvalue()


def top_k(proba_row: np.ndarray, classes, k: int = 3) -> list[tuple[str, float]]:
    order = np.argsort(-proba_row, kind="stable")[:k]
    return [(classes[i], float(proba_row[i])) for i in order]


def _short(v) -> str:
    """A feature value for a table cell: numbers to 4 digits, text cut at 40 characters."""
    if isinstance(v, list):
        v = v[0] if len(v) == 1 else v
    if isinstance(v, (int, float, np.number)) and not isinstance(v, bool):
        return f"{v:.4g}"
    return html.escape(str(v)[:40])


class SamplesView(View):
    """A page of the samples in ``state.selected_indices`` with true and predicted labels.

    Each card shows the label, the prediction, its confidence and the top-3 probabilities;
    "details" draws one sample's full probability distribution.

    Parameters
    ----------
    state : EvalState
    page_size : int, default=12
    """

    redraw_on = ("selected_indices",)
    update_on = {"selected_sample": "_show_distribution"}

    def __init__(self, state: EvalState, *, page_size: int = 12, **kwargs):
        self.page_size = page_size
        self.page = 0
        self.cards: list[W.Widget] = []
        self.shown_indices: np.ndarray = np.zeros(0, dtype=np.int64)
        super().__init__(state, **kwargs)

    def build(self) -> list[W.Widget]:
        self.title = W.HTML()
        self.prev_btn = W.Button(description="◀ previous", layout=W.Layout(width="110px"))
        self.next_btn = W.Button(description="next ▶", layout=W.Layout(width="110px"))
        self.page_label = W.Label()
        self.prev_btn.on_click(lambda b: self._turn(-1))
        self.next_btn.on_click(lambda b: self._turn(+1))
        self.gallery = W.Box(layout=W.Layout(display="flex", flex_flow="row wrap"))
        self.dist_scale_x = bq.OrdinalScale()
        self.dist_scale_y = bq.LinearScale(min=0.0, max=1.0)
        self.dist_bars = bq.Bars(x=[], y=[], scales={"x": self.dist_scale_x, "y": self.dist_scale_y},
                                 colors=["#6baed6"])
        self.dist = figure([self.dist_bars], axes(self.dist_scale_x, self.dist_scale_y, y_format=".0%"),
                           width=420, height=220, margin={"top": 30, "bottom": 30, "left": 45})
        self.dist.layout.display = "none"
        return [self.title, W.HBox([self.prev_btn, self.page_label, self.next_btn]), self.gallery, self.dist]

    def refresh(self) -> None:
        self.page = 0
        self._render()

    @guarded
    def _turn(self, step: int):
        n = 0 if self.state.selected_indices is None else len(self.state.selected_indices)
        pages = max(1, -(-n // self.page_size))
        self.page = min(max(self.page + step, 0), pages - 1)
        self._render()

    def _render(self) -> None:
        st, ev = self.state, self.session.evaluation
        idx = st.selected_indices
        if ev is None or idx is None:
            self.title.value = "<i>No samples selected.</i>"
            self.gallery.children = []
            self.shown_indices = np.zeros(0, dtype=np.int64)
            self.page_label.value = ""
            return
        n = len(idx)
        pages = max(1, -(-n // self.page_size))
        self.shown_indices = np.asarray(idx[self.page * self.page_size:(self.page + 1) * self.page_size])
        self.title.value = f"<b>Samples</b> · {html.escape(st.selection_label)}"
        self.page_label.value = f"page {self.page + 1} of {pages}"
        self.prev_btn.disabled = self.page == 0
        self.next_btn.disabled = self.page >= pages - 1
        self.cards = [self._card(int(i)) for i in self.shown_indices]
        self.gallery.children = self.cards

    def _card(self, i: int) -> W.Widget:
        st, ev = self.state, self.session.evaluation
        data = self.session.dataset
        path = data.file_path(i) if data is not None else None
        x = data.sample(i) if data is not None and path is None else None
        parts: list[W.Widget] = []
        dec = st.decisions
        if dec is not None:
            pred = int(dec.y_pred[i])
            true = int(ev.y_true[i])
            conf = float(ev.y_proba[i, pred])
            ok = "✔" if pred == true else "✘"
            tops = ", ".join(f"{html.escape(c)} {p:.0%}" for c, p in top_k(ev.y_proba[i], ev.classes))
            caption = (
                f"<div style='font-size:12px;line-height:1.3'>#{i} {ok}<br>true <b>{html.escape(ev.classes[true])}</b>"
                f"<br>pred <b>{html.escape(ev.classes[pred])}</b> ({conf:.1%})<br>"
                f"<span style='color:#666'>{tops}</span></div>"
            )
        else:
            t = ev.y_true[i]
            p = ev.y_pred[i]
            caption = (f"<div style='font-size:12px'>#{i}<br>true {np.round(t, 4)}<br>"
                       f"pred {np.round(p, 4)}</div>")
        if path is not None:
            parts.append(W.Image(value=file_thumbnail_png(str(path)), format="png",
                                 layout=W.Layout(max_width="72px", max_height="72px")))
            parts.append(W.HTML(f"<div style='font-size:11px;color:#666;overflow-wrap:anywhere'>"
                                f"{html.escape(path.name)}</div>"))
        elif x is not None and data.kind == "image":
            parts.append(W.Image(value=image_png(x), format="png", layout=W.Layout(width="72px", height="72px")))
        elif x is not None and data.kind == "tabular":
            pairs = data.features(i)
            rows = [[(html.escape(str(n)), "style='color:#666'"), _short(v)] for n, v in pairs[:8]]
            if len(pairs) > 8:
                rows.append([(f"… {len(pairs) - 8} more", "colspan=2")])
            parts.append(W.HTML(html_table(None, rows, style="font-size:11px")))
        elif x is not None:
            parts.append(W.HTML(f"<pre style='font-size:11px'>{html.escape(str(x))[:200]}</pre>"))
        parts.append(W.HTML(caption))
        btn = W.Button(description="details", layout=W.Layout(width="80px"))
        btn.on_click(lambda b, i=i: self._choose(i))
        parts.append(btn)
        return W.VBox(parts, layout=W.Layout(border="1px solid #ddd", margin="3px", padding="3px",
                                             width="150px"))

    @guarded
    def _choose(self, i: int):
        self.state.selected_sample = i

    def _show_distribution(self) -> None:
        i, ev = self.state.selected_sample, self.session.evaluation
        if i is None or not ev.is_classification or ev.task == "multilabel":
            self.dist.layout.display = "none"
            return
        p = ev.y_proba[i]
        order = np.argsort(-p, kind="stable")[:20] if len(p) > 20 else np.arange(len(p))
        with self.dist_bars.hold_sync():
            self.dist_bars.x = [ev.classes[j] for j in order]
            self.dist_bars.y = p[order].astype(np.float64)
        self.dist.title = f"Sample #{i}: probability of each class (true {ev.classes[int(ev.y_true[i])]})"
        self.dist.layout.display = None
