"""Samples view: the selected samples, most confident first, as thumbnails, table rows or text."""

from __future__ import annotations

import functools
import html
import io

import bqplot as bq
import ipywidgets as W
import numpy as np

from ..core.queries import samples_frame, sort_keys
from ..state import EvalState
from ._base import View, guarded
from ._draw import axes, figure

#: Shown in the "sort by" box for the order the selection came in.
AS_LISTED = "as listed"
#: Width in pixels of a table column, and of the index column's buttons.
TABLE_COLUMN_PX = 110
INDEX_PX = 88


#: Side in pixels of a gallery thumbnail, and of the picture shown in "details".
THUMBNAIL_PX = 72
DETAIL_PX = 320
#: Thumbnails of array images kept per dataset (encoded once, reused when a page is shown again).
THUMBNAIL_CACHE = 512


def image_png(x: np.ndarray, *, size: int = THUMBNAIL_PX) -> bytes:
    """PNG bytes of one image sample fitted to ``size`` pixels: small images (8x8 digits) scaled
    up with nearest-neighbour so they stay crisp, large ones shrunk (bilinear), so the browser
    gets a thumbnail, not the full picture."""
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
    return _fitted_png(Image.fromarray(((a - lo) * scale).astype(np.uint8)), size)


def _fitted_png(img, size: int) -> bytes:
    """PNG bytes of a Pillow image fitted to ``size`` pixels: shrunk (bilinear) when larger,
    else scaled up by a whole factor with nearest-neighbour so small images stay crisp."""
    from PIL import Image

    if max(img.size) > size:
        img.thumbnail((size, size), Image.BILINEAR)
    else:
        factor = max(1, size // max(img.size))
        img = img.resize((img.size[0] * factor, img.size[1] * factor), Image.NEAREST)
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


@functools.lru_cache(maxsize=256)
def file_thumbnail_png(path: str, size: int = THUMBNAIL_PX) -> bytes:
    """PNG bytes of an image file shrunk to fit ``size`` pixels (the original picture, not
    what the model was fed); small images are scaled up crisply."""
    from PIL import Image

    with Image.open(path) as im:
        mode = "RGBA" if im.mode in ("RGBA", "LA", "P") else ("L" if im.mode in ("L", "1", "I;16") else "RGB")
        return _fitted_png(im.convert(mode), size)


def _short(v) -> str:
    """A feature value for a table cell: numbers to 4 digits, text cut at 40 characters."""
    if isinstance(v, list):
        v = v[0] if len(v) == 1 else v
    if isinstance(v, (int, float, np.number)) and not isinstance(v, bool):
        return f"{v:.4g}"
    return html.escape(str(v)[:40])


class SamplesView(View):
    """A page of the samples in ``state.selected_indices`` with true and predicted labels.

    Images and text are cards: the label, the prediction, its confidence, the top-3
    probabilities and the sample's tags; "details" draws one sample's full probability
    distribution. Tabular samples are a table, one row per sample (index, true, predicted,
    confidence, top classes, tags, then the feature columns by name), sortable by any of those
    columns; a click on a row's index shows its details and highlights the row.

    Parameters
    ----------
    state : EvalState
    page_size : int, default=12
    """

    redraw_on = ("selected_indices", "sort_by", "sort_descending")
    update_on = {"selected_sample": "_on_sample", "tags_changed": "_render"}

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
        self.sort_by = W.Dropdown(options=[AS_LISTED], value=AS_LISTED, description="sort by",
                                  layout=W.Layout(width="230px"))
        self.descending = W.ToggleButton(value=False, description="descending", icon="sort-amount-desc",
                                         layout=W.Layout(width="120px"))
        self.sort_by.observe(self._on_sort_by, names="value")
        W.link((self.descending, "value"), (self.state, "sort_descending"))
        self.table_controls = W.HBox([self.sort_by, self.descending], layout=W.Layout(display="none"))
        self.table = W.VBox(layout=W.Layout(overflow_x="auto", max_width="100%"))
        # the arrow keys step through the samples while the pointer is over them (ipyevents
        # sends the browser's key events of this box; the page does not scroll meanwhile)
        self.browse = W.VBox([self.gallery, self.table])
        from ipyevents import Event

        self.key_events = Event(source=self.browse, watched_events=["keydown"], prevent_default_action=True)
        self.key_events.on_dom_event(self._on_key)
        self.dist_scale_x = bq.OrdinalScale()
        self.dist_scale_y = bq.LinearScale(min=0.0, max=1.0)
        self.dist_bars = bq.Bars(x=[], y=[], scales={"x": self.dist_scale_x, "y": self.dist_scale_y},
                                 colors=["#6baed6"])
        self.dist = figure([self.dist_bars], axes(self.dist_scale_x, self.dist_scale_y, y_format=".0%"),
                           width=420, height=220, margin={"top": 30, "bottom": 30, "left": 45})
        self.detail_image = W.Image(format="png", layout=W.Layout(display="none", margin="0 8px 0 0"))
        # holds only what is shown: a bqplot figure in a hidden element logs console errors
        self.details = W.HBox([], layout=W.Layout(align_items="center"))
        self._thumbs: dict[tuple, bytes] = {}
        self.dist.layout.display = "none"
        return [self.title, W.HBox([self.prev_btn, self.page_label, self.next_btn]), self.table_controls,
                self.browse, self.details]

    @property
    def as_table(self) -> bool:
        """Tabular samples are drawn as a table, others as cards."""
        data = self.session.dataset
        return data is not None and data.kind == "tabular"

    def refresh(self) -> None:
        self.page = 0
        ev, data = self.session.evaluation, self.session.dataset
        keys = [AS_LISTED, *sort_keys(ev, data)] if self.as_table else [AS_LISTED]
        if self.state.sort_by is not None and self.state.sort_by not in keys:
            self.state.sort_by = None  # another dataset without that column (redraws again)
            return
        self._syncing = True  # the box follows the state here; only the user's choice writes back
        try:
            if list(self.sort_by.options) != keys:
                self.sort_by.options = keys
            self.sort_by.value = AS_LISTED if self.state.sort_by is None else self.state.sort_by
        finally:
            self._syncing = False
        self._render()

    @guarded
    def _turn(self, step: int):
        n = 0 if self.state.selected_indices is None else len(self.state.selected_indices)
        pages = max(1, -(-n // self.page_size))
        self.page = min(max(self.page + step, 0), pages - 1)
        self._render()

    def _render(self) -> None:
        st, ev = self.state, self.session.evaluation
        idx = st.ordered_indices  # the selection in the order shown (sorted by sort_by)
        table = self.as_table
        self.table_controls.layout.display = None if table else "none"
        if ev is None or idx is None:
            self.title.value = "<i>No samples selected.</i>"
            self.gallery.children = []
            self.table.children = []
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
        if table:
            self.cards = []
            self.gallery.children = []
            self.table.children = self._table_rows()
        else:
            self.table.children = []
            rows = self._page_frame(features=False).to_dict("records") if st.decisions is not None else None
            self.cards = [self._card(int(i), None if rows is None else rows[n])
                          for n, i in enumerate(self.shown_indices)]
            self.gallery.children = self.cards

    # -------------------------------------------------------------- tabular samples: a table
    def _page_frame(self, *, features: bool = True):
        """The shown page as a DataFrame (see :func:`~h5eval_widgets.core.queries.samples_frame`):
        the table's rows, and the cards' labels, prediction, confidence and top classes."""
        dec = self.state.decisions
        return samples_frame(self.session.evaluation, self.session.dataset, self.shown_indices,
                             y_pred=None if dec is None else dec.y_pred, tags=self.session.tags(),
                             features=features)

    def _table_rows(self) -> list[W.Widget]:
        """A header and one row per shown sample: the index as a button (details), then cells."""
        df = self._page_frame()
        columns = [c for c in df.columns if c not in ("index", "correct")]
        width = f"width:{TABLE_COLUMN_PX}px;min-width:{TABLE_COLUMN_PX}px"

        def cells(values, style=""):
            return "".join(f"<span style='display:inline-block;{width};overflow:hidden;"
                           f"text-overflow:ellipsis;white-space:nowrap;{style}'>{v}</span>" for v in values)

        header = W.HTML(f"<div class='h5eval-table-header' style='font-size:12px;font-weight:bold;"
                        f"white-space:nowrap;margin-left:{INDEX_PX + 4}px'>{cells(html.escape(str(c)) for c in columns)}</div>")
        rows = [header]
        chosen = self.state.selected_sample
        for rec in df.to_dict("records"):
            i = int(rec["index"])
            mark = "✔" if rec.get("correct", True) else "✘"
            btn = W.Button(description=f"#{i} {mark}" if "correct" in rec else f"#{i}",
                           tooltip="details of this sample",
                           layout=W.Layout(width=f"{INDEX_PX}px", min_width=f"{INDEX_PX}px", flex="0 0 auto",
                                           height="24px", padding="0 2px"))
            btn.on_click(lambda b, i=i: self._choose(i))
            shown = [_short(rec[c]) if not isinstance(rec[c], str) else html.escape(rec[c][:60]) for c in columns]
            if "confidence" in rec:
                shown[columns.index("confidence")] = f"{rec['confidence']:.1%}"
            # translucent: readable under light and dark themes alike
            bg = "background:rgba(255, 127, 14, 0.22);" if i == chosen else ""
            row = W.HTML(f"<div class='h5eval-table-row' data-index='{i}' style='font-size:12px;"
                         f"white-space:nowrap;line-height:24px;{bg}'>{cells(shown)}</div>")
            rows.append(W.HBox([btn, row], layout=W.Layout(align_items="center")))
        return rows

    def _card(self, i: int, row: dict | None) -> W.Widget:
        """One sample's card; ``row`` is its :meth:`_page_frame` row (single-label classification)."""
        ev = self.session.evaluation
        data = self.session.dataset
        path = data.file_path(i) if data is not None else None
        x = data.sample(i) if data is not None and path is None else None
        parts: list[W.Widget] = []
        if row is not None:
            ok = "✔" if row["correct"] else "✘"
            caption = (
                f"<div style='font-size:12px;line-height:1.3'>#{i} {ok}<br>true <b>{html.escape(row['true'])}</b>"
                f"<br>pred <b>{html.escape(row['predicted'])}</b> ({row['confidence']:.1%})<br>"
                f"<span style='color:var(--jp-ui-font-color2, #666)'>{html.escape(row['top_classes'])}</span></div>"
            )
        else:
            t = ev.y_true[i]
            p = ev.y_pred[i]
            caption = (f"<div style='font-size:12px'>#{i}<br>true {np.round(t, 4)}<br>"
                       f"pred {np.round(p, 4)}</div>")
        if path is not None:
            parts.append(W.Image(value=file_thumbnail_png(str(path)), format="png",
                                 layout=W.Layout(max_width="72px", max_height="72px")))
            parts.append(W.HTML(f"<div style='font-size:11px;color:var(--jp-ui-font-color2, #666);overflow-wrap:anywhere'>"
                                f"{html.escape(path.name)}</div>"))
        elif x is not None and data.kind == "image":
            parts.append(W.Image(value=self._thumbnail(data, i, x), format="png",
                                 layout=W.Layout(max_width=f"{THUMBNAIL_PX}px", max_height=f"{THUMBNAIL_PX}px")))
        elif x is not None:
            parts.append(W.HTML(f"<pre style='font-size:11px'>{html.escape(str(x))[:200]}</pre>"))
        parts.append(W.HTML(caption))
        tags = self.session.tags().tags(i)
        if tags:
            parts.append(W.HTML("<div class='h5eval-tags' style='font-size:11px;color:var(--jp-warn-color0, #a15c00)'>🏷 "
                                f"{html.escape('; '.join(tags))}</div>"))
        btn = W.Button(description="details", layout=W.Layout(width="80px"))
        btn.on_click(lambda b, i=i: self._choose(i))
        parts.append(btn)
        return W.VBox(parts, layout=W.Layout(border="1px solid #ddd", margin="3px", padding="3px",
                                             width="150px"))

    def _thumbnail(self, data, i: int, x: np.ndarray) -> bytes:
        """The thumbnail of an array image, encoded once per (dataset, sample)."""
        key = (data, i)  # the dataset by identity
        if key not in self._thumbs:
            if len(self._thumbs) >= THUMBNAIL_CACHE:
                self._thumbs.pop(next(iter(self._thumbs)))
            self._thumbs[key] = image_png(x)
        return self._thumbs[key]

    #: What each arrow key does: steps through the samples in the order shown.
    ARROW_STEPS = {"ArrowRight": 1, "ArrowDown": 1, "ArrowLeft": -1, "ArrowUp": -1}

    @guarded
    def _on_key(self, event: dict):
        """A key pressed over the samples, as the browser sends it (``{'key': 'ArrowRight', ...}``)."""
        step = self.ARROW_STEPS.get(event.get("key"))
        if step is not None:
            self.state.step_sample(step)

    def press(self, key: str) -> None:
        """Act as if ``key`` (``'ArrowRight'``...) was pressed over the samples in the browser."""
        self._on_key({"type": "keydown", "key": key})

    @guarded
    def _on_sort_by(self, change):
        if getattr(self, "_syncing", False):
            return
        self.state.sort_by = None if change["new"] in (AS_LISTED, None) else change["new"]

    @guarded
    def _choose(self, i: int):
        self.state.selected_sample = i

    def _on_sample(self) -> None:
        """A chosen sample: its page is shown (stepping past a page turns it), its table row
        highlighted, its distribution drawn."""
        i, order = self.state.selected_sample, self.state.ordered_indices
        if i is not None and order is not None and self.state.selected_indices is not None:
            pos = np.flatnonzero(order == i)
            if len(pos) and int(pos[0]) // self.page_size != self.page:
                self.page = int(pos[0]) // self.page_size
                self._render()
            elif self.as_table:
                self._render()
        self._show_distribution()

    def _show_picture(self, i: int | None) -> None:
        """The chosen image larger in "details" (the gallery only has thumbnails)."""
        data = self.session.dataset
        if i is None or data is None or data.kind != "image":
            self.detail_image.layout.display = "none"
            return
        path = data.file_path(i)
        self.detail_image.value = (file_thumbnail_png(str(path), DETAIL_PX) if path is not None
                                   else image_png(data.sample(i), size=DETAIL_PX))
        self.detail_image.layout.display = None

    def _show_distribution(self) -> None:
        self._draw_distribution()
        self.details.children = [w for w in (self.detail_image, self.dist) if w.layout.display is None]

    def _draw_distribution(self) -> None:
        i, ev = self.state.selected_sample, self.session.evaluation
        self._show_picture(i)
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
