"""The data notes: what the engine noticed or did while reading the data (images resized or
converted, boxes past their image, a likely format mistake...), as a disclosure beside the
status line, its count in its summary."""

from __future__ import annotations

import html

import ipywidgets as W

from ..core.results.html_assets import data_notes
from ._base import View


class DataNotesView(View):
    """A "data notes (n)" disclosure listing the current evaluation's notes (the backend's is in
    the status line); hidden when there is none. It is an HTML ``<details>`` element: opened
    with a click, or with Enter or Space on its summary, and read by screen readers as a
    disclosure. Redrawn only when the evaluation changes, so it stays open while the status
    line changes."""

    def build(self) -> list[W.Widget]:
        self.html = W.HTML()
        return [self.html]

    def refresh(self) -> None:
        notes = data_notes(self.session.evaluation.notes)
        self.set_visible(bool(notes))
        if not notes:
            self.html.value = ""
            return
        items = "".join(f"<li>{html.escape(n)}</li>" for n in notes)
        self.html.value = (
            "<details class='h5eval-notes' style='color:var(--jp-ui-font-color1, #333);padding:2px 4px'>"
            f"<summary style='cursor:pointer'>data notes ({len(notes)})</summary>"
            f"<ul style='margin:2px 0 4px 18px;padding:0'>{items}</ul></details>"
        )
