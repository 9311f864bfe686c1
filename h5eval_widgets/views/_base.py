"""What every view shares: a widget box bound to the state, with errors sent to the status."""

from __future__ import annotations

import functools
from typing import Callable

import ipywidgets as W

from ..state import EvalState


def guarded(method):
    """Wrap a view callback so an error goes to the state's status area, not the console."""

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        with self.state.report_errors():
            return method(self, *args, **kwargs)

    return wrapper


class View(W.VBox):
    """A box bound to an :class:`EvalState`; subclasses draw in ``refresh``."""

    def __init__(self, state: EvalState, **kwargs):
        super().__init__(**kwargs)
        self.state = state
        self._click_handlers: dict[int, Callable] = {}
        state.observe(self._on_evaluation, names="evaluation")

    def on_click(self, mark, handler: Callable[[dict], None]) -> None:
        """Call ``handler(data)`` when an element of ``mark`` is clicked in the browser, where
        ``data`` is what bqplot sends (``{'index': i}``, ``{'rowNum': r, 'columnNum': c}``)."""
        self._click_handlers[id(mark)] = handler
        mark.on_element_click(lambda _mark, content: handler(content.get("data") or {}))

    def click(self, mark, **data) -> None:
        """Deliver a click on ``mark`` with the data a browser click sends (tests use this)."""
        self._click_handlers[id(mark)](data)

    @guarded
    def _on_evaluation(self, change):
        if change["new"] is not None:
            self.refresh()

    def refresh(self) -> None:  # pragma: no cover - every view overrides it
        raise NotImplementedError

    def shown_for(self, *tasks: str):
        """The current evaluation when its task is one of ``tasks`` (the view is then shown),
        else None (the view is hidden)."""
        ev = self.state.evaluation
        visible = ev is not None and ev.task in tasks
        self.layout.display = None if visible else "none"
        return ev if visible else None
