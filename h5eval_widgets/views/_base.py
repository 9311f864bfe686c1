"""What every view shares: a widget box bound to the state, drawn once, redrawn on what it
declares, and closed with every widget it made."""

from __future__ import annotations

import functools
from typing import Callable, Iterable, Mapping, Sequence

import ipywidgets as W
import traitlets as T

from ..state import EvalState


def owned_widgets(*roots) -> list[W.Widget]:
    """Every widget reachable from ``roots``: a widget's synced traits (children, layout, style,
    a figure's marks, axes and scales, an event's source...), lists, tuples and dicts of them,
    and the attributes of this package's own objects (views, the dashboard, pools of cards),
    which also hold the widgets they show only at times. The state and the session are not
    entered (they hold no widgets)."""
    seen: dict[int, W.Widget] = {}
    visited: set[int] = set()
    stack = list(roots)
    while stack:
        obj = stack.pop()
        if isinstance(obj, (str, bytes)) or id(obj) in visited:
            continue
        if isinstance(obj, W.Widget):
            visited.add(id(obj))
            seen[id(obj)] = obj
            stack.extend(getattr(obj, name, None) for name in obj.keys)
            if type(obj).__module__.startswith("h5eval_widgets."):
                stack.extend(vars(obj).values())
        elif isinstance(obj, (list, tuple, set, frozenset)):
            visited.add(id(obj))
            stack.extend(obj)
        elif isinstance(obj, dict):
            visited.add(id(obj))
            stack.extend(obj.values())
        elif (
            type(obj).__module__.startswith("h5eval_widgets.")
            and hasattr(obj, "__dict__")
            and not isinstance(obj, T.HasTraits)
        ):
            visited.add(id(obj))
            stack.extend(vars(obj).values())
    return list(seen.values())


def unobserve(owner: T.HasTraits, handler: Callable, names) -> None:
    """``owner.unobserve(handler, names)``, and nothing when it is no longer observing (the
    session closed first removes every observer)."""
    try:
        owner.unobserve(handler, names=names)
    except ValueError:
        pass


def close_widgets(widgets: Iterable[W.Widget]) -> None:
    """Close each widget (its comm, and its entry among the live widgets); closing twice is harmless."""
    for w in widgets:
        w.close()


def guarded(method):
    """Wrap a view callback so an error goes to the state's status area, not the console."""

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        with self.session.report_errors():
            return method(self, *args, **kwargs)

    return wrapper


class View(W.VBox):
    """A box bound to an :class:`EvalState` and its session.

    A subclass sets its options, calls ``super().__init__(state)``, and implements
    :meth:`build` (create the widgets, return the children) and :meth:`refresh` (draw). This
    class builds the view, draws it once, and redraws it when the evaluation or a trait named
    in :attr:`redraw_on` changes, or calls a lighter method for a trait in :attr:`update_on`.
    Trait names are looked up on the state, then on its session (``comparison``,
    ``model_names``...). Errors in these calls go to the status area.
    """

    #: Traits whose change redraws the view (besides the session's ``evaluation``).
    redraw_on: Sequence[str] = ()
    #: Traits whose change calls another method instead of :meth:`refresh`, by method name.
    update_on: Mapping[str, str] = {}
    #: Whether drawing needs an evaluation (else :meth:`refresh` also runs without one).
    needs_evaluation: bool = True
    #: Whether the view draws only once :meth:`activate` is called (a view whose drawing costs
    #: work, such as a projection or bootstrap intervals, in a tab that may never be opened).
    lazy: bool = False
    #: Whether the view draws (a lazy one once activated), and whether it missed a change meanwhile.
    active: bool = True
    _stale: bool = False

    def __init__(self, state: EvalState, **kwargs):
        super().__init__(**kwargs)
        self.state = state
        self.session = state.session
        self._click_handlers: dict[int, Callable] = {}
        #: (owner, handler, trait) of each observer on the state or the session, and each link
        #: between a widget and the state: taken off when the view closes.
        self._observers: list[tuple[T.HasTraits, Callable, str]] = []
        self._links: list[W.link] = []
        self.active = not self.lazy
        self._stale = False
        self._content = list(self.build())
        self.children = self._content
        for name in ("evaluation", *self.redraw_on):
            self._watch(name, self.refresh)
        for name, method in self.update_on.items():
            self._watch(name, getattr(self, method))
        self._draw(self.refresh)

    def build(self) -> Sequence[W.Widget]:  # pragma: no cover - every view overrides it
        """Create the view's widgets; return the children of the box."""
        raise NotImplementedError

    def refresh(self) -> None:  # pragma: no cover - every view overrides it
        """Draw the view from the state and the session."""
        raise NotImplementedError

    def _watch(self, name: str, method: Callable[[], None]) -> None:
        owner = self.state if self.state.has_trait(name) else self.session
        if not owner.has_trait(name):
            raise AttributeError(
                f"{type(self).__name__} redraws on {name!r}, which is a trait of neither the state nor the session."
            )
        handler = lambda change: self._draw(method)  # noqa: E731
        owner.observe(handler, names=name)
        self._observers.append((owner, handler, name))

    def link(self, widget_trait: tuple[W.Widget, str], state_trait: tuple[T.HasTraits, str]) -> W.link:
        """``W.link`` between a widget's trait and the state's, undone when the view closes."""
        ln = W.link(widget_trait, state_trait)
        self._links.append(ln)
        return ln

    def close(self) -> None:
        """Stop observing the state and the session, undo the links, and close every widget the
        view made (those shown now, and those it keeps for later: hidden figures, pools of cards).
        Closing again does nothing."""
        if self.comm is None:
            return
        for owner, handler, name in self._observers:
            unobserve(owner, handler, name)
        self._observers.clear()
        for ln in self._links:
            ln.unlink()
        self._links.clear()
        self.active = False  # a late callback (a background result) draws nothing
        close_widgets(w for w in owned_widgets(self) if w is not self)
        super().close()

    @guarded
    def _draw(self, method: Callable[[], None]) -> None:
        if self.comm is None:  # closed
            return
        if not self.active:  # a lazy view not activated yet: drawn in full when it is
            self._stale = True
            if method == self.refresh:
                self.prepare()
            return
        if self.session.evaluation is not None or not self.needs_evaluation:
            method()

    def prepare(self) -> None:
        """What a :attr:`lazy` view not activated yet may do ahead (in the session's background
        work) so that opening its tab only draws; called where it would otherwise redraw. By
        default nothing."""

    def activate(self) -> None:
        """Let a :attr:`lazy` view draw (the dashboard calls it when the view's tab is first
        opened); it draws now if something changed while it waited. (Not ``open``: that is
        the widget's own method, which opens its comm.)"""
        if not self.active:
            self.active = True
            if self._stale:
                self._draw(self.refresh)

    def sliced(self, title: str) -> str:
        """``title``, naming the slice when the results are filtered to one (every view's
        titles say which samples they show)."""
        name = getattr(self.session.evaluation, "slice_name", None)
        return f"{title} · slice: {name}" if name else title

    def on_click(self, mark, handler: Callable[[dict], None]) -> None:
        """Call ``handler(data)`` when an element of ``mark`` is clicked in the browser, where
        ``data`` is what bqplot sends (``{'index': i}``, ``{'rowNum': r, 'columnNum': c}``)."""
        self._click_handlers[id(mark)] = handler
        mark.on_element_click(lambda _mark, content: handler(content.get("data") or {}))

    def click(self, mark, **data) -> None:
        """Deliver a click on ``mark`` with the data a browser click sends (tests use this)."""
        self._click_handlers[id(mark)](data)

    def set_visible(self, visible: bool) -> None:
        """Show or hide the view. A hidden view also leaves the page (no children): a bqplot
        figure drawn inside a hidden element measures no size, draws negative rectangles and
        logs console errors."""
        set_visible(self, visible, self._content)

    def shown_for(self, kind: str):
        """The current evaluation when it is of the ``kind`` this view draws (the result's
        boolean attribute: ``'single_label'``, ``'is_classification'``, ``'is_regression'``;
        the view is then shown), else None (the view is hidden)."""
        ev = self.session.evaluation
        visible = ev is not None and bool(getattr(ev, kind))
        self.set_visible(visible)
        return ev if visible else None


def set_visible(box: W.Box, visible: bool, children: Sequence[W.Widget]) -> None:
    """Show ``box`` with ``children``, or hide it with none (see :meth:`View.set_visible`)."""
    box.layout.display = None if visible else "none"
    wanted = tuple(children) if visible else ()
    if tuple(box.children) != wanted:
        box.children = wanted
