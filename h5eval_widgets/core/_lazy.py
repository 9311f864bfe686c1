"""Heavy imports on first use: pandas (about a quarter of a second, a large part of a
command-line run's start-up, and a cached evaluation may never build a DataFrame) and TensorFlow
(imported quietly, once)."""

from __future__ import annotations

import importlib
import os
from typing import Any

__all__ = ["pd", "class_index", "_quiet_tf"]


class _Lazy:
    def __init__(self, name: str):
        self._name = name

    def __getattr__(self, attr: str) -> Any:
        module = importlib.import_module(self._name)
        return getattr(module, attr)


pd: Any = _Lazy("pandas")


def class_index(names, name: str):
    """A pandas Index of class names held as Python strings (object dtype).

    pandas 3 would store them as an Arrow string array, and the first Arrow array of a process
    starts Arrow's memory pool: 3.5-4.7 MB of peak memory measured for a 5-class table, more
    than an evaluation of 2,000 photos otherwise adds over ``model.predict``.
    """
    return pd.Index(list(names), dtype=object, name=name)


def _quiet_tf() -> None:
    """Import TensorFlow once with its C++ start-up chatter kept off the user's stderr.

    TensorFlow writes several lines to file descriptor 2 on import (oneDNN, CUDA probing),
    which notebooks show as red error output; they say nothing about the evaluation.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import sys

    if "tensorflow" in sys.modules:
        return
    try:
        saved = os.dup(2)
    except OSError:  # no real stderr (some embedded interpreters): import as is
        import tensorflow  # noqa: F401

        return
    try:
        with open(os.devnull, "wb") as devnull:
            os.dup2(devnull.fileno(), 2)
            import tensorflow  # noqa: F401
    finally:
        os.dup2(saved, 2)
        os.close(saved)
