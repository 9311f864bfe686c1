"""One inference pass per (model, dataset): chunks sized for the model through a compiled
forward pass, the next chunk read while the current one runs, outputs cached."""

from __future__ import annotations

import os

import numpy as np

from . import backend
from .batching import DEFAULT_CHUNK_BYTES, rows_per_call
from ..cache import PredictionCache, cache_key
from ..data.datasets import Dataset
from .embeddings import Embedding, EmbeddingPlan, embedding_source, plan_for
from .embeddings import _read as _read_embedding, _write as _write_embedding
from ..errors import EmbeddingError, LabelError
from .feed import adapt_inputs, prepare
from ..models.loading import LoadedModel

__all__ = ["predict", "predict_with_embedding", "run_feed", "adapt_inputs", "DEFAULT_CHUNK_BYTES"]


def _forward_fn(loaded: LoadedModel, signature, plan: EmbeddingPlan | None = None):
    """The model's compiled forward pass for inputs of ``signature``: ``(row_shape, dtype)``
    or a dict of them by input name, compiled by the backend seam (:mod:`.backend`) and
    giving NumPy arrays. With a ``plan`` it returns ``(outputs, embedding)`` (see
    :class:`~h5eval_widgets.core.inference.embeddings.EmbeddingPlan`), from the same pass."""
    named = isinstance(signature, dict)
    pairs = signature.items() if named else [("", signature)]
    key = tuple((n, tuple(s), np.dtype(d).str) for n, (s, d) in pairs)
    if plan is not None:
        key += (("embedding", plan.key),)
    if key in loaded.forward_passes:
        return loaded.forward_passes[key]
    model = loaded.model  # a model this backend cannot run was refused when it was loaded

    def first(out):
        if isinstance(out, dict):
            out = list(out.values())[0]
        if isinstance(out, (list, tuple)):
            out = out[0]
        return out

    if plan is None:

        def forward(x):
            return first(model(x, training=False) if hasattr(model, "layers") else model(x))
    else:

        def forward(x):
            out, kept = plan.run(x)
            return first(out), plan.reduce(kept)

    loaded.forward_passes[key] = compiled = backend.compiled(forward, model, signature)
    return compiled


def run_feed(
    loaded: LoadedModel, feed, *, batch_size: int | None = None, on_chunk=None, plan=None, kept=None
) -> tuple[np.ndarray, list[np.ndarray]]:
    """Run the model over a prepared feed, in batches sized for the model (no cache).

    This is the pass itself, shared by :func:`predict` and the workers of a Dask cluster
    (:mod:`~h5eval_widgets.core.scale.distributed`), so that both size and run batches alike.

    Parameters
    ----------
    loaded : LoadedModel
    feed : Feed
        From :func:`~h5eval_widgets.core.inference.feed.prepare`.
    batch_size : int, default=None
        Rows per forward call (None: sized by :func:`~h5eval_widgets.core.inference.batching.rows_per_call`).
    on_chunk : callable, default=None
        Called with the number of rows after each forward call (a progress bar's ``update``).
    plan : EmbeddingPlan, default=None
        Also keep each row's embedding from the same pass (a plan that reads the model), one
        array per chunk appended to the list ``kept``.
    kept : list, default=None
        Where the embeddings go (with ``plan``).

    Returns
    -------
    outputs : ndarray of shape (n_rows, n_outputs)
    labels : list of ndarray
        Labels met on the way (a ``tf.data`` stream's), one array per chunk.
    """
    step = rows_per_call(feed.row_bytes, loaded.info.activation_bytes, batch_size, feed.max_rows)
    forward = _forward_fn(loaded, feed.signature, plan)
    parts, labels = [], []
    for chunk, y in feed.chunks(step):
        out = forward(chunk)
        if plan is not None:
            out, emb = out
            kept.append(np.asarray(emb))
        out = np.asarray(out)
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

    The dataset is matched to the model first (see :func:`~h5eval_widgets.core.inference.feed.prepare`):
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
        :func:`~h5eval_widgets.core.inference.batching.rows_per_call`).
    cache : bool, str, path or PredictionCache, default=True
        False turns the cache off; a path or cache object chooses where it lives.
    progress : bool, default=True
        Show a ``tqdm.auto`` progress bar (a widget in notebooks).

    Returns
    -------
    outputs : ndarray of shape (n_samples, n_outputs)
    notes : list of str
    """
    outputs, _, notes = predict_with_embedding(
        loaded, data, embeddings=False, batch_size=batch_size, cache=cache, progress=progress
    )
    return outputs, notes


def predict_with_embedding(
    loaded: LoadedModel,
    data: Dataset,
    *,
    embeddings: bool | str = True,
    batch_size: int | None = None,
    cache: bool | str | os.PathLike | PredictionCache = True,
    progress: bool = True,
) -> tuple[np.ndarray, Embedding | None, list[str]]:
    """:func:`predict`, keeping each sample's embedding from the same pass.

    Outputs and embedding are cached separately (see :mod:`~h5eval_widgets.core.inference.embeddings`):
    when both are cached no inference runs; input features (tabular models) are read from
    the data again without the model. A streamed ``tf.data.Dataset`` gets its embedding from
    the pass too, uncached like its outputs.

    Parameters
    ----------
    embeddings : bool or str, default=True
        True or ``'auto'``: input features for a tabular model, else the penultimate layer's
        activations (a model with no Keras layers, such as a SavedModel endpoint, then gets
        none, with a note). ``'input'``, ``'penultimate'`` or a top-level layer's name: that
        (an error when it cannot be had). False: none.
    batch_size, cache, progress
        As in :func:`predict`.

    Returns
    -------
    outputs : ndarray of shape (n_samples, n_outputs)
    embedding : Embedding or None
    notes : list of str

    Raises
    ------
    EmbeddingError
        A named layer (or ``'penultimate'``) that this model does not have.
    """
    strict = isinstance(embeddings, str) and embeddings != "auto"
    source = embedding_source(loaded.info, embeddings)
    feed = prepare(loaded.info, data)
    notes: list[str] = [backend.note(), *feed.notes]
    store = key = emb_key = outputs = embedding = None
    if cache is not False and cache is not None and feed.key is not None:
        store = cache if isinstance(cache, PredictionCache) else PredictionCache(None if cache is True else cache)
        data_key = feed.key()
        key = cache_key(backend.run_key(loaded.fingerprint), data_key)
        outputs = store.get(key)
        if source is not None:
            emb_key = cache_key(backend.run_key(loaded.fingerprint), data_key, "embedding", source)
            hit = (
                _read_embedding(store, emb_key, None if outputs is None else len(outputs))
                if source != "input"
                else None
            )
            if hit is not None:
                embedding = Embedding(hit[0], source, hit[1]["layer"], hit[1]["width"], emb_key, store)
    plan = None
    if source is not None and embedding is None:
        try:
            plan = plan_for(loaded, source)
        except EmbeddingError as exc:
            if strict:
                raise
            notes.append(f"No embedding kept: {exc}")
    if outputs is not None and plan is None:
        notes.append(
            "Outputs read from the prediction cache (no inference)."
            if embedding is None
            else "Outputs and embedding read from the prediction cache (no inference)."
        )
        return outputs, embedding, notes

    model_plan = plan if plan is not None and plan.source != "input" else None
    step = rows_per_call(feed.row_bytes, loaded.info.activation_bytes, batch_size, feed.max_rows)
    from tqdm.auto import tqdm

    cached_outputs = outputs is not None
    # the input features of a tabular model need no model when the outputs are cached
    run_model = not cached_outputs or model_plan is not None
    forward = _forward_fn(loaded, feed.signature, model_plan) if run_model else None
    parts, kept, labels, done = [], [], [], 0
    what = "Predicting" if forward is not None else "Reading the input features of"
    with tqdm(total=feed.n, desc=f"{what} {data.name}", unit="samples", disable=not progress, leave=False) as bar:
        for chunk, y in feed.chunks(step):
            if forward is not None:
                out = forward(chunk)
                if model_plan is not None:
                    out, emb = out
                    kept.append(np.asarray(emb))
                out = np.asarray(out)
                parts.append(out[:, None] if out.ndim == 1 else out.reshape(len(out), -1))
            if plan is not None and model_plan is None:
                kept.append(plan.reduce_numpy(chunk))
            if y is not None:
                labels.append(y)
            rows = len(parts[-1]) if forward is not None else len(kept[-1])
            done += rows
            bar.update(rows)
    notes += feed.late_notes()
    if cached_outputs:
        notes.append(
            "Outputs read from the prediction cache; "
            + (
                "the input features read again (no inference)."
                if model_plan is None
                else "one inference pass for the embedding."
            )
        )
    else:
        outputs = np.concatenate(parts) if len(parts) != 1 else parts[0]
    if data.streamed:
        data.X._n = done
        if data.y is None:
            if not labels:
                raise LabelError(f"{data.name}: the tf.data.Dataset gives inputs only; pass y=...")
            data.y = np.concatenate(labels)
    if plan is not None and kept:
        vectors = np.concatenate(kept) if len(kept) != 1 else kept[0]
        embedding = Embedding(vectors, source, plan.layer, int(plan.width or vectors.shape[1]), emb_key, store)
        notes.append(embedding.description)
    if store is not None:
        try:
            if not cached_outputs:
                store.put(key, outputs)
            if model_plan is not None and embedding is not None:
                _write_embedding(
                    store, emb_key, embedding.vectors, {"layer": plan.layer, "width": embedding.width, "source": source}
                )
        except OSError as exc:  # a read-only or full disk must not stop the evaluation
            notes.append(f"Prediction cache not written ({exc}).")
    return outputs, embedding, notes
