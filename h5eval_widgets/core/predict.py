"""One inference pass per (model, dataset): chunks sized for the model through a compiled
forward pass, the next chunk read while the current one runs, outputs cached."""

from __future__ import annotations

import logging
import os

import numpy as np

from .batching import DEFAULT_CHUNK_BYTES, rows_per_call
from .cache import PredictionCache, cache_key
from .datasets import Dataset
from .errors import LabelError
from .feed import adapt_inputs, prepare
from .models import LoadedModel

__all__ = ["predict", "run_feed", "adapt_inputs", "DEFAULT_CHUNK_BYTES"]


class _OwnRetracingFilter(logging.Filter):
    """Drops TensorFlow's retracing warning about our forward pass, and only that one.

    Each model gets its own compiled forward pass by design, but TensorFlow counts traces by
    the Python function's code, so a sixth model in one session warns of "excessive
    retracing" that is not happening.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        return not ("retracing" in message and "_forward_fn" in message)


_RETRACING_FILTER = _OwnRetracingFilter()


def _forward_fn(loaded: LoadedModel, signature):
    """The model's compiled forward pass for inputs of ``signature``: ``(row_shape, dtype)``
    or a dict of them by input name."""
    named = isinstance(signature, dict)
    pairs = signature.items() if named else [("", signature)]
    key = tuple((n, tuple(s), np.dtype(d).str) for n, (s, d) in pairs)
    if key in loaded.forward_passes:
        return loaded.forward_passes[key]
    import tensorflow as tf

    tf_logger = logging.getLogger("tensorflow")
    if _RETRACING_FILTER not in tf_logger.filters:
        tf_logger.addFilter(_RETRACING_FILTER)
    model = loaded.model

    def spec(shape, dtype):
        return tf.TensorSpec((None, *shape), tf.string if np.dtype(dtype).kind == "U" else dtype)

    specs = {n: spec(s, d) for n, (s, d) in signature.items()} if named else spec(*signature)

    @tf.function(input_signature=[specs])
    def forward(x):
        out = model(x, training=False) if hasattr(model, "layers") else model(x)
        if isinstance(out, dict):
            out = list(out.values())[0]
        if isinstance(out, (list, tuple)):
            out = out[0]
        return out

    loaded.forward_passes[key] = forward
    return forward


def run_feed(loaded: LoadedModel, feed, *, batch_size: int | None = None,
             on_chunk=None) -> tuple[np.ndarray, list[np.ndarray]]:
    """Run the model over a prepared feed, in batches sized for the model (no cache).

    This is the pass itself, shared by :func:`predict` and the workers of a Dask cluster
    (:mod:`~h5eval_widgets.core.distributed`), so that both size and run batches alike.

    Parameters
    ----------
    loaded : LoadedModel
    feed : Feed
        From :func:`~h5eval_widgets.core.feed.prepare`.
    batch_size : int, default=None
        Rows per forward call (None: sized by :func:`~h5eval_widgets.core.batching.rows_per_call`).
    on_chunk : callable, default=None
        Called with the number of rows after each forward call (a progress bar's ``update``).

    Returns
    -------
    outputs : ndarray of shape (n_rows, n_outputs)
    labels : list of ndarray
        Labels met on the way (a ``tf.data`` stream's), one array per chunk.
    """
    step = rows_per_call(feed.row_bytes, loaded.info.activation_bytes, batch_size, feed.max_rows)
    forward = _forward_fn(loaded, feed.signature)
    parts, labels = [], []
    for chunk, y in feed.chunks(step):
        out = np.asarray(forward(chunk))
        parts.append(out[:, None] if out.ndim == 1 else out.reshape(len(out), -1))
        if y is not None:
            labels.append(y)
        if on_chunk is not None:
            on_chunk(len(out))
    return (np.concatenate(parts) if len(parts) != 1 else parts[0]), labels


def predict(
    loaded: LoadedModel,
    data: Dataset,
    *,
    batch_size: int | None = None,
    cache: bool | str | os.PathLike | PredictionCache = True,
    progress: bool = True,
) -> tuple[np.ndarray, list[str]]:
    """Run the model once over the dataset's inputs (or read the outputs from the cache).

    The dataset is matched to the model first (see :func:`~h5eval_widgets.core.feed.prepare`):
    image files are resized and converted to the model's input, table columns go to named
    inputs, and the preprocessing is chosen. Rows per forward call come from a memory budget
    and the model's largest activation, so a CNN runs CNN-sized batches and a small MLP large
    chunks. For a streamed ``tf.data.Dataset`` the labels met on the way are stored in
    ``data.y``.

    Parameters
    ----------
    loaded : LoadedModel
    data : Dataset
    batch_size : int, default=None
        Rows per forward call; by default sized for the model (see
        :func:`~h5eval_widgets.core.batching.rows_per_call`).
    cache : bool, str, path or PredictionCache, default=True
        False turns the cache off; a path or cache object chooses where it lives.
    progress : bool, default=True
        Show a ``tqdm.auto`` progress bar (a widget in notebooks).

    Returns
    -------
    outputs : ndarray of shape (n_samples, n_outputs)
    notes : list of str
    """
    feed = prepare(loaded.info, data)
    notes: list[str] = list(feed.notes)
    store = None
    if cache is not False and cache is not None and feed.key is not None:
        store = cache if isinstance(cache, PredictionCache) else PredictionCache(
            None if cache is True else cache
        )
        key = cache_key(loaded.fingerprint, feed.key())
        hit = store.get(key)
        if hit is not None:
            notes.append("Outputs read from the prediction cache (no inference).")
            return hit, notes

    from tqdm.auto import tqdm

    with tqdm(total=feed.n, desc=f"Predicting {data.name}", unit="samples", disable=not progress,
              leave=False) as bar:
        outputs, labels = run_feed(loaded, feed, batch_size=batch_size, on_chunk=bar.update)
    done = len(outputs)
    notes += feed.late_notes()
    if data.streamed:
        data.X._n = done
        if data.y is None:
            if not labels:
                raise LabelError(f"{data.name}: the tf.data.Dataset gives inputs only; pass y=...")
            data.y = np.concatenate(labels)
    if store is not None:
        try:
            store.put(key, outputs)
        except OSError as exc:  # a read-only or full disk must not stop the evaluation
            notes.append(f"Prediction cache not written ({exc}).")
    return outputs, notes
