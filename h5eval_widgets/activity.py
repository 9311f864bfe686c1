"""What the dashboard is doing: the status line, busy work, and work in background threads
that closing waits for.

:class:`Activity` is the base of :class:`~h5eval_widgets.session.Session`: the traits the status
view shows (``status``, ``status_level``, ``busy``, ``activity``), errors caught into the status
line so that the last good views stay, and :meth:`Activity.run_in_background` /
:meth:`Activity.close`, so that a closed dashboard leaves no thread running.
"""

from __future__ import annotations

import contextlib
import threading
import traceback
from concurrent.futures import Future
from typing import Iterator

import traitlets as T

from .core import H5EvalError

__all__ = ["Activity"]


class Activity(T.HasTraits):
    """The status line and the background work of a session (see the module's docstring)."""

    status = T.Unicode("", help="Last message for the status area.")
    status_level = T.Enum(["info", "error"], default_value="info", help="'error' shows in red.")
    busy = T.Bool(False, help="True while predicting (or computing saliency).")
    activity = T.Unicode("predicting", help="What is being done while busy, for the status line.")

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        #: The background work running (see :meth:`run_in_background`), by its future.
        self._background: dict[Future, threading.Thread] = {}
        self._background_lock = threading.Lock()
        #: Set by :meth:`close`: long background work may check it and stop early.
        self.closing = threading.Event()

    # ------------------------------------------------------------------ status
    @contextlib.contextmanager
    def working(self, activity: str) -> Iterator[None]:
        """``busy`` (with ``activity`` shown in the status line) while the block runs."""
        self.activity = activity
        self.busy = True
        try:
            yield
        finally:
            self.busy = False

    @contextlib.contextmanager
    def report_errors(self) -> Iterator[None]:
        """Catch an error, show it in ``status`` and keep the last good results."""
        try:
            yield
        except H5EvalError as exc:
            self.set_status(str(exc), "error")
        except Exception as exc:  # noqa: BLE001 - a bug must not take the dashboard down
            tb = traceback.format_exception_only(type(exc), exc)[-1].strip()
            self.set_status(f"Unexpected error: {tb}", "error")

    def set_status(self, message: str, level: str = "info") -> None:
        """Show ``message`` in the status area (``level`` 'info' or 'error')."""
        self.status_level = level
        self.status = message

    # ------------------------------------------------------------------ background work, closing
    def run_in_background(self, fn, *args, name: str = "h5eval-background", **kwargs) -> Future:
        """Run ``fn(*args, **kwargs)`` in a daemon thread that :meth:`close` waits for; returns
        its future (its result, or the exception it raised). Work that runs long should check
        :attr:`closing` and return early once it is set; a callback that publishes its result
        should not publish after it.

        Raises
        ------
        H5EvalError
            When the session is closed.
        """
        if self.closing.is_set():
            raise H5EvalError("This session is closed; open a new dashboard.")
        future: Future = Future()

        def work():
            try:
                if not future.set_running_or_notify_cancel():  # cancelled by close() before it ran
                    return
                try:
                    result = fn(*args, **kwargs)
                except BaseException as exc:  # noqa: BLE001 - handed to the future, never lost in a thread
                    future.set_exception(exc)
                else:
                    future.set_result(result)
            finally:
                with self._background_lock:
                    self._background.pop(future, None)

        thread = threading.Thread(target=work, name=name, daemon=True)
        with self._background_lock:
            self._background[future] = thread
        thread.start()
        return future

    @property
    def background(self) -> list[Future]:
        """The futures of the background work still running."""
        with self._background_lock:
            return list(self._background)

    def close(self, timeout: float | None = 60.0) -> None:
        """Stop the session's work: set :attr:`closing`, cancel background work not started,
        wait (at most ``timeout`` seconds for each) for the work running to finish, and remove
        every observer of the session's traits. The loaded models and results stay readable.
        Closing again does nothing more."""
        self.closing.set()
        with self._background_lock:
            running = list(self._background.items())
        for future, thread in running:
            future.cancel()
            if thread is not threading.current_thread():
                thread.join(timeout)
        self.unobserve_all()
