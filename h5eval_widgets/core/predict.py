"""One inference pass per (model, dataset): large chunks through a compiled forward pass, cached."""

from __future__ import annotations

import logging
import os

import numpy as np

from .cache import PredictionCache, cache_key
from .datasets import Dataset
from .errors import DatasetError, ShapeMismatchError
from .models import LoadedModel

__all__ = ["predict", "adapt_inputs", "DEFAULT_CHUNK_BYTES", "INFERENCE_COUNTER"]

#: Target size of one input chunk; large chunks amortize per-call overhead (see benchmarks/).
DEFAULT_CHUNK_BYTES = 16 << 20

#: How many forward passes this process ran, by model fingerprint (lets tests see cache hits).
INFERENCE_COUNTER: dict[str, int] = {}


def _chunk_rows(X, batch_size: int | None) -> int:
    if batch_size:
        return int(batch_size)
    row_bytes = max(1, int(np.prod(X.shape[1:])) * 4)
    return int(min(max(1024, DEFAULT_CHUNK_BYTES // row_bytes), 1 << 18))


def adapt_inputs(shape: tuple, expected: tuple, name: str) -> tuple[tuple | None, str | None]:
    """How to reshape rows of ``shape[1:]`` to the model's ``expected[1:]``.

    Returns ``(new_row_shape or None, note or None)``; raises when sizes cannot match.
    """
    got, want = tuple(shape[1:]), tuple(expected[1:])
    if not want or got == want:
        return None, None
    if len(got) == len(want) and all(w is None or g == w for g, w in zip(got, want)):
        return None, None
    if None in want:
        raise ShapeMismatchError(
            f"{name}: inputs have rows of shape {got} but the model expects {want}; "
            "reshape the inputs to the model's input shape."
        )
    if int(np.prod(got)) == int(np.prod(want)):
        return want, f"Input rows reshaped from {got} to the model's {want}."
    raise ShapeMismatchError(
        f"{name}: inputs have rows of shape {got} ({int(np.prod(got))} values) but the model "
        f"expects {want} ({int(np.prod(want))} values). Check that this dataset belongs to this "
        "model and was preprocessed the same way as in training."
    )


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


def _forward_fn(loaded: LoadedModel, row_shape: tuple, dtype):
    key = (tuple(row_shape), np.dtype(dtype).str)
    if key in loaded.forward_passes:
        return loaded.forward_passes[key]
    import tensorflow as tf

    tf_logger = logging.getLogger("tensorflow")
    if _RETRACING_FILTER not in tf_logger.filters:
        tf_logger.addFilter(_RETRACING_FILTER)
    model = loaded.model
    spec = tf.TensorSpec((None, *row_shape), dtype)

    @tf.function(input_signature=[spec])
    def forward(x):
        out = model(x, training=False) if hasattr(model, "layers") else model(x)
        if isinstance(out, dict):
            out = list(out.values())[0]
        if isinstance(out, (list, tuple)):
            out = out[0]
        return out

    loaded.forward_passes[key] = forward
    return forward


def predict(
    loaded: LoadedModel,
    data: Dataset,
    *,
    batch_size: int | None = None,
    cache: bool | str | os.PathLike | PredictionCache = True,
    progress: bool = True,
) -> tuple[np.ndarray, list[str]]:
    """Run the model once over the dataset's inputs (or read the outputs from the cache).

    Parameters
    ----------
    loaded : LoadedModel
    data : Dataset
    batch_size : int, default=None
        Rows per forward pass; by default chunks of about 16 MiB of input.
    cache : bool, str, path or PredictionCache, default=True
        False turns the cache off; a path or cache object chooses where it lives.
    progress : bool, default=True
        Show a ``tqdm.auto`` progress bar (a widget in notebooks).

    Returns
    -------
    outputs : ndarray of shape (n_samples, n_outputs)
    notes : list of str
    """
    notes: list[str] = []
    X = data.X
    row_shape, note = adapt_inputs(tuple(X.shape), loaded.info.input_shape, data.name)
    if note:
        notes.append(note)
    store = None
    if cache is not False and cache is not None:
        store = cache if isinstance(cache, PredictionCache) else PredictionCache(
            None if cache is True else cache
        )
        key = cache_key(loaded.fingerprint, data.fingerprint, str(row_shape))
        hit = store.get(key)
        if hit is not None:
            notes.append("Outputs read from the prediction cache (no inference).")
            return hit, notes

    from tqdm.auto import tqdm

    n = len(X)
    step = _chunk_rows(X, batch_size)
    in_dtype = np.float32 if np.dtype(X.dtype).kind in "iubf" else X.dtype
    forward = _forward_fn(loaded, row_shape or tuple(X.shape[1:]), in_dtype)
    outputs = None
    with tqdm(total=n, desc=f"Predicting {data.name}", unit="samples", disable=not progress,
              leave=False) as bar:
        for start in range(0, n, step):
            chunk = np.asarray(X[start : start + step])
            if chunk.dtype != in_dtype:
                chunk = chunk.astype(in_dtype)
            if chunk.dtype.kind == "f" and not np.isfinite(chunk).all():
                bad = np.flatnonzero(~np.isfinite(chunk.reshape(len(chunk), -1)).all(axis=1))
                raise DatasetError(
                    f"{data.name}: inputs contain NaN or infinite values ({len(bad)} sample(s) in "
                    f"rows {start}-{start + len(chunk) - 1}, first at row {start + int(bad[0])}); "
                    "impute or drop them, as in training."
                )
            if row_shape is not None:
                chunk = chunk.reshape((len(chunk), *row_shape))
            out = np.asarray(forward(chunk))
            if out.ndim == 1:
                out = out[:, None]
            if outputs is None:
                outputs = np.empty((n, *out.shape[1:]), dtype=out.dtype)
            outputs[start : start + len(out)] = out
            bar.update(len(chunk))
    INFERENCE_COUNTER[loaded.fingerprint] = INFERENCE_COUNTER.get(loaded.fingerprint, 0) + 1
    if outputs.ndim > 2:
        outputs = outputs.reshape(n, -1)
    if store is not None:
        try:
            store.put(key, outputs)
        except OSError as exc:  # a read-only or full disk must not stop the evaluation
            notes.append(f"Prediction cache not written ({exc}).")
    return outputs, notes
