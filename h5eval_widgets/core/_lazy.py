"""Heavy imports on first use: pandas (about a quarter of a second, a large part of a
command-line run's start-up, and a cached evaluation may never build a DataFrame) and TensorFlow
(imported quietly, once)."""

from __future__ import annotations

import importlib
import os
from typing import Any

__all__ = ["pd", "class_index", "_quiet_tf", "_quiet_keras", "keras_backend"]


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


#: how the note naming the Keras backend starts (every model evaluation's first note; the
#: dashboard shows it in the status line, apart from the notes on the data)
BACKEND_NOTE = "Keras backend:"


def keras_backend() -> str:
    """The Keras backend of this process: ``'tensorflow'``, ``'jax'`` or ``'torch'``.

    Read from Keras once it is imported; before that, the Keras way (``KERAS_BACKEND``, else
    ``backend`` in ``$KERAS_HOME/keras.json`` or ``~/.keras/keras.json``, else TensorFlow),
    without importing it: a prediction read from the cache never imports Keras.
    """
    import sys

    keras = sys.modules.get("keras")
    if keras is not None and hasattr(keras, "backend"):
        return keras.backend.backend()
    if os.environ.get("KERAS_BACKEND"):
        return os.environ["KERAS_BACKEND"]
    home = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    try:
        import json

        with open(os.path.join(home, "keras.json")) as f:
            return str(json.load(f).get("backend") or "tensorflow")
    except (OSError, ValueError, AttributeError):
        return "tensorflow"


def _quiet_keras() -> None:
    """Before Keras is imported: on the TensorFlow backend, import TensorFlow quietly (Keras
    imports it); on JAX or PyTorch nothing, so TensorFlow is imported only if the data needs it."""
    if keras_backend() == "tensorflow":
        _quiet_tf()


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
            import tensorflow

            # CUDA's first probe, made here rather than at the first operation: on a machine with
            # no GPU, a CUDA build of TensorFlow logs "failed call to cuInit" (an E line) then
            tensorflow.config.list_physical_devices("GPU")
    finally:
        os.dup2(saved, 2)
        os.close(saved)
