"""Samples view: the selected samples, most confident first, as thumbnails, table rows or text."""

from __future__ import annotations

import html

import bqplot as bq
import ipywidgets as W
import numpy as np

from ..core.metrics.queries import samples_frame, sort_keys
from ..state import EvalState
from ..core.results.palette import SERIES
from ._base import View, guarded
from ._cards import INDEX_PX, Card, Row, learned_line
from ._details import SampleDetails
from ._draw import axes, figure
from ._grid_keys import KeyRelay
from ._a11y import ChartNumbers, NamedImage, sample_alt
from ._pictures import THUMBNAIL_CACHE, file_thumbnail_png, image_png, overlay_png, picture, sound_png

#: Shown in the "sort by" box for the order the selection came in.
AS_LISTED = "as listed"
#: Width in pixels of a table column, and of the index column's buttons.
TABLE_COLUMN_PX = 110


def _short(v) -> str:
    """A feature value for a table cell: numbers to 4 digits, text cut at 40 characters."""
    if isinstance(v, list):
        v = v[0] if len(v) == 1 else v
    if isinstance(v, (int, float, np.number)) and not isinstance(v, bool):
        return f"{v:.4g}"
    return html.escape(str(v)[:40])


class SamplesView(SampleDetails, View):
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
    update_on = {
        "selected_sample": "_on_sample",
        "tags_changed": "_render",
        "show_saliency": "_on_saliency",
        "saliency_method": "_on_saliency",
        "training_dataset": "_show_distribution",
        **dict.fromkeys(("calibration", "alpha"), "_render"),  # the cards' line: each sample's set
    }

    def __init__(self, state: EvalState, *, page_size: int = 12, **kwargs):
        self.page_size = page_size
        self.page = 0
        self.cards: list[W.Widget] = []
        #: The cards and table rows made so far (a page's worth), reused page after page.
        self._card_pool: list[Card] = []
        self._row_pool: list[Row] = []
        self._pair_box: W.HBox | None = None
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
        self.sort_by = W.Dropdown(
            options=[AS_LISTED], value=AS_LISTED, description="sort by", layout=W.Layout(width="230px")
        )
        self.descending = W.ToggleButton(
            value=False, description="descending", icon="sort-amount-desc", layout=W.Layout(width="120px")
        )
        self.sort_by.observe(self._on_sort_by, names="value")
        self.link((self.descending, "value"), (self.state, "sort_descending"))
        self.table_controls = W.HBox([self.sort_by, self.descending], layout=W.Layout(display="none"))
        self.saliency_toggle = W.ToggleButton(
            description="show saliency",
            icon="eye",
            layout=W.Layout(width="140px"),
            tooltip="draw what the model looked at for its prediction",
        )
        self.saliency_method = W.Dropdown(  # named by its label (a select without one has no name)
            options=[("Grad-CAM", "gradcam"), ("integrated gradients", "integrated_gradients")],
            description="method",
            style={"description_width": "initial"},
            layout=W.Layout(width="245px"),
        )
        # the state follows the buttons, and the buttons the state in _on_saliency (not a
        # W.link: turning the toggle off after an error happens inside the toggle's own change)
        self.saliency_toggle.observe(lambda c: setattr(self.state, "show_saliency", c["new"]), names="value")
        self.saliency_method.observe(lambda c: setattr(self.state, "saliency_method", c["new"]), names="value")
        self.saliency_controls = W.HBox([self.saliency_toggle, self.saliency_method], layout=W.Layout(display="none"))
        self.page_saliency: dict[int, np.ndarray] = {}
        self.table = W.VBox(layout=W.Layout(overflow="auto", max_width="100%"))
        self.table_header = W.HTML()
        self.browse = W.VBox([self.gallery, self.table])
        # the arrow keys step through the samples, from a card's button or with the pointer over
        # the view, and Escape closes "details"; Tab is left alone (no keyboard trap)
        self.key_relay = KeyRelay(self._on_key, relayed=[*self.ARROW_STEPS, "Escape"])
        self.close_btn = W.Button(description="close details", icon="times", layout=W.Layout(width="130px"))
        self.close_btn.on_click(lambda b: self._choose(None))
        self.dist_scale_x = bq.OrdinalScale()
        self.dist_scale_y = bq.LinearScale(min=0.0, max=1.0)
        self.dist_bars = bq.Bars(
            x=[], y=[], scales={"x": self.dist_scale_x, "y": self.dist_scale_y}, colors=[SERIES[0]]
        )
        self.dist = figure(
            [self.dist_bars],
            axes(self.dist_scale_x, self.dist_scale_y, y_format=".0%"),
            width=420,
            height=220,
            margin={"top": 30, "bottom": 30, "left": 45},
        )
        self.detail_image = NamedImage(  # shrunk to fit a narrow column, never stretched
            format="png", layout=W.Layout(display="none", margin="0 8px 0 0", max_width="100%", height="auto")
        )
        # holds only what is shown: a bqplot figure in a hidden element logs console errors
        self.details = W.HBox([], layout=W.Layout(align_items="center", flex_flow="row wrap"))
        self._thumbs: dict[tuple, bytes] = {}
        self.dist.layout.display = "none"
        self.dist_numbers = ChartNumbers(self.dist, marks=[self.dist_bars], columns=("class", "probability"))
        return [
            self.title,
            W.HBox([self.prev_btn, self.page_label, self.next_btn, self.saliency_controls]),
            self.table_controls,
            self.browse,
            self.details,
            self.key_relay,
        ]

    @property
    def as_table(self) -> bool:
        """Tabular samples are drawn as a table, others as cards."""
        data = self.session.dataset
        return data is not None and data.kind == "tabular"

    @property
    def can_explain(self) -> bool:
        """Image samples of an evaluation that has its model (see ``Evaluation.explainer``)."""
        data, ev = self.session.dataset, self.session.evaluation
        return data is not None and data.kind == "image" and hasattr(ev, "saliency") and ev.explainer is not None

    @property
    def saliency_on(self) -> bool:
        return self.state.show_saliency and self.can_explain

    def _on_saliency(self) -> None:
        """The toggle or the method changed: the page and the details are drawn again."""
        self.saliency_toggle.value = self.state.show_saliency
        self.saliency_method.value = self.state.saliency_method
        self._render()
        self._show_distribution()

    def _saliency(self, indices, target) -> list[np.ndarray | None]:
        """Maps of ``indices`` for ``target`` (see :meth:`Session.saliency`); an error shows in
        the status and turns the toggle off, and the samples are drawn without maps."""
        try:
            return list(self.session.saliency(indices, target, method=self.state.saliency_method))
        except Exception:
            self.state.show_saliency = False
            raise

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
        self.saliency_controls.layout.display = None if self.can_explain else "none"
        if ev is None or idx is None:
            self.title.value = "<i>No samples selected.</i>"
            self.cards = []
            for card in self._card_pool:
                card.hide()
            self.table.children = []
            self.shown_indices = np.zeros(0, dtype=np.int64)
            self.page_label.value = ""
            return
        n = len(idx)
        pages = max(1, -(-n // self.page_size))
        self.shown_indices = np.asarray(idx[self.page * self.page_size : (self.page + 1) * self.page_size])
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
            heat = [None] * len(self.shown_indices)
            if self.saliency_on and len(self.shown_indices):
                with self.session.report_errors():  # the samples are drawn all the same
                    heat = self._saliency(self.shown_indices, st.decisions.y_pred[self.shown_indices])
            self.cards = [
                self._card(self._slot(self._card_pool, Card, n), int(i), None if rows is None else rows[n], heat[n])
                for n, i in enumerate(self.shown_indices)
            ]
            for card in self._card_pool[len(self.cards) :]:
                card.hide()
            self._mark_chosen()
            # every card made stays in the gallery (the unused ones hidden): the page draws a
            # card once, not on every selection of another size
            boxes = tuple(card.box for card in self._card_pool)
            if tuple(self.gallery.children) != boxes:
                self.gallery.children = boxes
        # last: the cards are reused, so a page (or a test) that sees the new title has been sent
        # every card's new values before it
        self.title.value = self.sliced(f"<b>Samples</b> · {html.escape(st.selection_label)}")

    def _slot(self, pool: list, kind, n: int):
        """The ``n``-th card (or row) of a pool, made the first time a page holds that many."""
        while len(pool) <= n:
            pool.append(kind(self._choose))
        return pool[n]

    # -------------------------------------------------------------- tabular samples: a table
    def _page_frame(self, *, features: bool = True):
        """The shown page as a DataFrame (see :func:`~h5eval_widgets.core.metrics.queries.samples_frame`):
        the table's rows, and the cards' labels, prediction, confidence and top classes."""
        dec = self.state.decisions
        return samples_frame(
            self.session.evaluation,
            self.session.dataset,
            self.shown_indices,
            y_pred=None if dec is None else dec.y_pred,
            tags=self.session.tags(),
            features=features,
        )

    def _table_rows(self) -> list[W.Widget]:
        """A header and one row per shown sample: the index as a button (details), then cells."""
        df = self._page_frame()
        columns = [c for c in df.columns if c not in ("index", "correct")]
        width = f"width:{TABLE_COLUMN_PX}px;min-width:{TABLE_COLUMN_PX}px"

        def cells(values, style=""):
            return "".join(
                f"<span style='display:inline-block;{width};overflow:hidden;"
                f"text-overflow:ellipsis;white-space:nowrap;{style}'>{v}</span>"
                for v in values
            )

        self.table_header.value = (
            f"<div class='h5eval-table-header' style='font-size:12px;font-weight:bold;"
            f"white-space:nowrap;margin-left:{INDEX_PX + 4}px'>{cells(html.escape(str(c)) for c in columns)}</div>"
        )
        rows = [self.table_header]
        chosen = self.state.selected_sample
        for n, rec in enumerate(df.to_dict("records")):
            i = int(rec["index"])
            mark = "✔" if rec.get("correct", True) else "✘"
            slot = self._slot(self._row_pool, Row, n)
            slot.index = i
            slot.button.description = f"#{i} {mark}" if "correct" in rec else f"#{i}"
            shown = [_short(rec[c]) if not isinstance(rec[c], str) else html.escape(rec[c][:60]) for c in columns]
            if "confidence" in rec:
                shown[columns.index("confidence")] = f"{rec['confidence']:.1%}"
            # translucent: readable under light and dark themes alike
            bg = "background:rgba(255, 127, 14, 0.22);" if i == chosen else ""
            slot.cells.value = (
                f"<div class='h5eval-table-row' data-index='{i}' style='font-size:12px;"
                f"white-space:nowrap;line-height:24px;{bg}'>{cells(shown)}</div>"
            )
            rows.append(slot.box)
        return rows

    def _card(self, card: Card, i: int, row: dict | None, heat: np.ndarray | None = None) -> W.Widget:
        """Fill ``card`` with sample ``i``; ``row`` is its :meth:`_page_frame` row (single-label
        classification), ``heat`` its saliency map for the predicted class (drawn over it)."""
        ev = self.session.evaluation
        data = self.session.dataset
        path = data.file_path(i) if data is not None else None
        x = data.sample(i) if data is not None and path is None else None
        card.index = i
        parts: list[W.Widget] = []
        if row is not None:
            ok = "✔" if row["correct"] else "✘"
            caption = (
                f"<div style='font-size:12px;line-height:1.3'>#{i} {ok}<br>true <b>{html.escape(row['true'])}</b>"
                f"<br>pred <b>{html.escape(row['predicted'])}</b> ({row['confidence']:.1%})<br>"
                f"<span style='color:var(--jp-ui-font-color2, #666)'>{html.escape(row['top_classes'])}</span>"
                f"{learned_line(row.get('learned_epoch'))}</div>"
            )
        else:
            t = ev.y_true[i]
            p = ev.y_pred[i]
            caption = f"<div style='font-size:12px'>#{i}<br>true {np.round(t, 4)}<br>pred {np.round(p, 4)}</div>"

        alt = sample_alt(ev, i, None if self.state.decisions is None else self.state.decisions.y_pred, row)

        def put(name: str, value) -> None:
            w = card.part(name)
            w.value = value
            if name in ("thumb", "saliency"):  # the picture's text alternative
                w.tooltip = alt if name == "thumb" else f"saliency map over {alt}"
            parts.append(w)

        if heat is not None:
            put("saliency", overlay_png(picture(data, i), heat))
        if path is not None:
            if data.kind == "audio":  # a player and a small spectrogram instead of a picture
                put("audio", path.read_bytes())
                put("thumb", sound_png(data, i))
            elif heat is None:
                put("thumb", file_thumbnail_png(str(path)))
            put(
                "name",
                f"<div style='font-size:11px;color:var(--jp-ui-font-color2, #666);overflow-wrap:anywhere'>"
                f"{html.escape(path.name)}</div>",
            )
        elif x is not None and data.kind == "image" and heat is None:
            put("thumb", self._thumbnail(data, i, x))
        elif x is not None and data.kind != "image":
            put("text", f"<pre style='font-size:11px'>{html.escape(str(x))[:200]}</pre>")
        line = self.state.card_line(i)  # the sample's conformal set, when the Trust tab has one
        card.caption.value = caption + (f"<div style='font-size:12px'>{html.escape(line)}</div>" if line else "")
        parts.append(card.caption)
        tags = self.session.tags().tags(i)
        if tags:
            put(
                "tags",
                "<div class='h5eval-tags' style='font-size:11px;color:var(--jp-warn-color0, #a15c00)'>🏷 "
                f"{html.escape('; '.join(tags))}</div>",
            )
        parts.append(card.button)
        return card.show(parts)

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
        if event.get("key") == "Escape":
            self.state.selected_sample = None
        elif step is not None:
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
    def _choose(self, i: int | None):
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
        self._mark_chosen()
        self._show_distribution()

    def _mark_chosen(self) -> None:
        """Frame the card of the chosen sample (the one "details" shows), and only it."""
        for n, card in enumerate(self._card_pool):
            card.mark(n < len(self.cards) and card.index == self.state.selected_sample)
