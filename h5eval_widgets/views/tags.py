"""Tags view: tag the chosen sample, step through the selection, show the tagged samples, export."""

from __future__ import annotations

import html
import re
from pathlib import Path

import ipywidgets as W

from ..state import EvalState
from ._base import View, guarded

#: Offered in the tag box before the user has tags of their own.
SUGGESTED_TAGS = ("label wrong", "ambiguous", "blurry", "out of distribution", "duplicate")


class TagView(View):
    """Free-text tags for the sample chosen with "details", kept per (model, dataset) on disk.

    "◀ sample" / "sample ▶" step through the selected samples; "show tagged" selects every
    tagged sample; "export CSV" writes the selected (or the tagged) samples as the rows of
    :meth:`EvalState.selection` to ``export_dir``.

    Parameters
    ----------
    state : EvalState
    export_dir : path-like, default="."
    """

    update_on = {"selected_sample": "_show", "tags_changed": "_show"}

    def __init__(self, state: EvalState, *, export_dir=".", **kwargs):
        self.export_dir = Path(export_dir)
        super().__init__(state, **kwargs)

    def build(self) -> list[W.Widget]:
        self.heading = W.HTML()
        self.prev_btn = W.Button(description="◀ sample", layout=W.Layout(width="90px"))
        self.next_btn = W.Button(description="sample ▶", layout=W.Layout(width="90px"))
        self.prev_btn.on_click(lambda b: self._step(-1))
        self.next_btn.on_click(lambda b: self._step(+1))
        self.text = W.Combobox(
            placeholder="tag, e.g. label wrong",
            options=list(SUGGESTED_TAGS),
            tooltip="a tag for the chosen sample",  # its name (a placeholder is not a label)
            layout=W.Layout(width="200px"),
        )
        self.add_btn = W.Button(description="add tag", layout=W.Layout(width="80px"))
        self.clear_btn = W.Button(description="clear tags", layout=W.Layout(width="90px"))
        self.add_btn.on_click(lambda b: self._add())
        self.clear_btn.on_click(lambda b: self._clear())
        self.show_btn = W.Button(description="show tagged", layout=W.Layout(width="120px"))
        self.show_btn.on_click(lambda b: self._show_tagged())
        self.which = W.ToggleButtons(
            options=[("selection", False), ("tagged", True)], value=False, style={"button_width": "80px"}
        )
        self.export_btn = W.Button(description="export CSV", icon="download", layout=W.Layout(width="110px"))
        self.export_btn.on_click(lambda b: self._export())
        self.saved = W.HTML()
        row = W.Layout(flex_flow="row wrap", align_items="center")
        return [
            self.heading,
            W.HBox([self.prev_btn, self.next_btn, self.text, self.add_btn, self.clear_btn], layout=row),
            W.HBox([self.show_btn, self.which, self.export_btn, self.saved], layout=row),
        ]

    def refresh(self) -> None:
        self.saved.value = ""
        self._show()

    def _show(self) -> None:
        i, store = self.state.selected_sample, self.session.tags()
        self.text.options = list(dict.fromkeys([*store.names(), *SUGGESTED_TAGS]))
        self.show_btn.description = f"show tagged ({len(store)})"
        for w in (self.add_btn, self.clear_btn, self.text):
            w.disabled = i is None
        if i is None:
            self.heading.value = "<b>Tags</b> · choose a sample (<i>details</i>) to tag it"
            return
        tags = store.tags(i)
        shown = html.escape("; ".join(tags)) if tags else "<i>none</i>"
        self.heading.value = f"<b>Tags</b> · sample #{i}: <span class='h5eval-tags'>{shown}</span>"

    # -------------------------------------------------------------- view -> state
    @guarded
    def _step(self, step: int):
        self.state.step_sample(step)

    @guarded
    def _add(self):
        i = self.state.selected_sample
        if i is not None and self.text.value.strip():
            self.session.tag(i, self.text.value)
            self.text.value = ""

    @guarded
    def _clear(self):
        if self.state.selected_sample is not None:
            self.session.untag(self.state.selected_sample)

    @guarded
    def _show_tagged(self):
        idx = self.session.tags().tagged()
        self.state.show_samples(idx, f"Tagged samples ({len(idx)})")

    @guarded
    def _export(self) -> Path:
        """Write the selected (or tagged) samples to a CSV file; returns its path."""
        tagged = bool(self.which.value)
        model, data = self.session.pair or ("model", "data")
        stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", f"{model}_{data}_{'tagged' if tagged else 'selection'}")
        self.export_dir.mkdir(parents=True, exist_ok=True)
        path = self.export_dir / f"{stem}.csv"
        frame = self.state.selection(tagged=tagged)
        frame.to_csv(path, index=False)
        n = len(frame)
        self.saved.value = f"{n} rows written to <code>{html.escape(str(path))}</code>"
        self.last_export = path
        return path
