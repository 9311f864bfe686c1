"""The status area: the last message or error; the views above it keep their last good state."""

from __future__ import annotations

import html

import ipywidgets as W

from ..state import EvalState
from ._base import unobserve


class StatusView(W.HTML):
    """One line showing the session's ``status``, red for errors, with a busy marker while predicting."""

    def __init__(self, state: EvalState, **kwargs):
        super().__init__(**kwargs)
        self.state = state
        self.session = state.session
        self.session.observe(self._render, names=self.WATCHED)
        self._render()

    WATCHED = ["status", "status_level", "busy", "activity"]

    def close(self) -> None:
        """Stop following the session, and close the line (and its layout and style)."""
        if self.comm is None:
            return
        unobserve(self.session, self._render, self.WATCHED)
        self.layout.close()
        self.style.close()
        super().close()

    def _render(self, change=None):
        s = self.session
        # the theme's colours (dark themes too), with the light theme's as fallbacks
        color = "var(--jp-error-color1, #b00020)" if s.status_level == "error" else "var(--jp-ui-font-color1, #333)"
        busy = f"⏳ {html.escape(s.activity)}… " if s.busy else ""
        icon = "⚠ " if s.status_level == "error" else ""
        self.value = (
            f"<div class='h5eval-status' data-level='{s.status_level}' "
            f"style='color:{color};padding:2px 4px'>{busy}{icon}{html.escape(s.status)}</div>"
        )
