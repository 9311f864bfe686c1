"""Every epoch's evaluation from a Keras callback, and each sample's training dynamics.

:class:`TrainingRecorder` predicts the validation data after each epoch (or every n-th) with the
same compiled, memory-sized forward pass the engine uses for one evaluation, keeps the outputs
(in memory up to a bound, then as ``.npy`` files read back memory-mapped) and builds an epoch's
:class:`~h5eval_widgets.core.Evaluation` only when it is asked for. Importing this module imports
Keras; ``h5eval_widgets.core`` exports the class lazily.
"""

from __future__ import annotations

import dataclasses
from collections import OrderedDict
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Callable, Iterator

import keras
import numpy as np

from ._lazy import pd
from .data.datasets import Dataset, load_dataset
from .errors import EmbeddingError, H5EvalError, LabelError
from .inference.feed import prepare
from .inference.batching import rows_per_call
from .inference.embeddings import Embedding, embedding_source, plan_for
from .inference.kept_outputs import DEFAULT_MEMORY_LIMIT, KeptOutputs
from .inference.predict import run_feed
from .metrics.cartography import cartography, first_learned
from .models.loading import load_model
from .pipeline import _metadata
from .results.evaluation import Evaluation

__all__ = ["TrainingRecorder"]


class _Evaluations(Mapping):
    """``epoch -> Evaluation`` over the recorded epochs, built on access."""

    def __init__(self, recorder: "TrainingRecorder"):
        self._rec = recorder

    def __getitem__(self, epoch: int) -> Evaluation:
        if epoch not in self._rec.epochs:
            raise KeyError(epoch)
        return self._rec.evaluation(epoch)

    def __iter__(self) -> Iterator[int]:
        return iter(self._rec.epochs)

    def __len__(self) -> int:
        return len(self._rec.epochs)


class TrainingRecorder(keras.callbacks.Callback):
    """A Keras callback that evaluates the validation data after every epoch (or every n-th).

    Pass it to ``model.fit(..., callbacks=[rec])``. After each recorded epoch it runs one
    prediction pass over ``X_val`` (batched and sized as :meth:`Evaluation.from_model
    <h5eval_widgets.core.Evaluation.from_model>` sizes it) and keeps the outputs; nothing else is
    computed during training. An epoch's evaluation, the metric history and the samples' training
    dynamics are computed from the kept outputs when asked for.

    Parameters
    ----------
    X_val : array, path, DataFrame, tf.data.Dataset or Dataset
        The validation data, in any form ``Evaluation.from_model`` takes.
    y_val : array-like, default=None
        Its labels (not needed when ``X_val`` holds them).
    every : int, default=1
        Record every ``every``-th epoch (and always the last one ``fit`` runs).
    classes : sequence of str, default=None
        Class names in output order.
    task : str, default=None
        As in ``from_predictions`` (inferred when None).
    threshold : float, default=0.5
        The binary / multi-label decision threshold.
    batch_size : int, default=None
        Rows per forward call (None: sized for the model, as for an evaluation).
    memory_limit : int, default=256 MiB
        Bytes of outputs kept in memory; older epochs' outputs go to ``.npy`` files under
        ``directory`` and are read back memory-mapped when asked for.
    directory : path-like, default=None
        Where those files go (default: a new folder under ``training/`` in the cache folder);
        :meth:`close` deletes them.
    keep_evaluations : int, default=4
        Epoch evaluations kept built in memory (the most recently asked).
    embeddings : bool or str, default=True
        Keep each epoch's embedding of the samples from the same pass, for the embedding map
        (as in :meth:`Evaluation.from_model <h5eval_widgets.core.Evaluation.from_model>`: the
        penultimate layer's activations, at most 64 values a sample; a tabular model's input
        features once). False: none.
    name : str, default=None
        The model's name in titles (default: the Keras model's name).
    **dataset_options
        Passed to :func:`~h5eval_widgets.core.load_dataset` (``image_size``, ``preprocess``...).

    Attributes
    ----------
    epochs : list of int
        The recorded epochs, counted from 1 as Keras prints them.
    logs : dict of int to dict
        Keras's own logs (loss, metrics, ``val_*``) at each recorded epoch.
    evaluations : Mapping of int to Evaluation
        Every recorded epoch's evaluation, built on access.

    Examples
    --------
    >>> rec = TrainingRecorder(x_val, y_val)                         # doctest: +SKIP
    >>> model.fit(x_train, y_train, epochs=10, callbacks=[rec])     # doctest: +SKIP
    >>> rec.evaluation(3).confusion_matrix()                         # doctest: +SKIP
    >>> rec.cartography().query("region == 'hard'")                 # doctest: +SKIP
    """

    def __init__(
        self,
        X_val,
        y_val=None,
        *,
        every: int = 1,
        classes=None,
        task: str | None = None,
        threshold: float = 0.5,
        batch_size: int | None = None,
        memory_limit: int = DEFAULT_MEMORY_LIMIT,
        directory=None,
        keep_evaluations: int = 4,
        embeddings: bool | str = True,
        name: str | None = None,
        **dataset_options,
    ):
        super().__init__()
        if int(every) < 1:
            raise ValueError(f"every must be a positive number of epochs; got {every}.")
        self.every = int(every)
        self.classes = classes
        self.task = task
        self.threshold = float(threshold)
        self.batch_size = batch_size
        self.name = name
        self.keep_evaluations = max(int(keep_evaluations), 1)
        self.embeddings = embeddings
        #: What the recorder could not do (no embedding for this model...).
        self.notes: list[str] = []
        self._plan = self._input_embedding = None
        self.data: Dataset = (
            X_val if isinstance(X_val, Dataset) else load_dataset(X_val, y_val, class_names=classes, **dataset_options)
        )
        self.epochs: list[int] = []
        self.logs: dict[int, dict[str, float]] = {}
        self.evaluations = _Evaluations(self)
        self._outputs = KeptOutputs(memory_limit, None if directory is None else Path(directory))
        self._built: OrderedDict[int, Evaluation] = OrderedDict()
        self._listeners: list[Callable[[int], None]] = []
        self._loaded = self._feed = None
        self._y = self.data.y
        self._params_epochs: int | None = None
        self._true_p: dict[int, np.ndarray] = {}
        self._correct: dict[int, np.ndarray] = {}

    # ------------------------------------------------------------------ Keras hooks
    def on_train_begin(self, logs=None) -> None:
        """Match the validation data to the model now, so data that does not fit fails here
        with the usual error, not after the first epoch's training."""
        self._params_epochs = (self.params or {}).get("epochs")
        if self._loaded is not None and self._loaded.model is self.model:
            return
        loaded = load_model(self.model, name=self.name or self.model.name)
        feed = prepare(loaded.info, self.data)
        if self._y is not None and not self.data.streamed:
            width = loaded.info.n_outputs
            # the labels checked against the outputs' width as an evaluation would check them
            uniform = np.full((len(self._y), width), 1.0 / max(width, 2), np.float32)
            Evaluation.from_predictions(self._y, uniform, **self._build_options(loaded))
        self._loaded, self._feed = loaded, feed
        self._plan_embedding()

    def _plan_embedding(self) -> None:
        """How each epoch's embedding is kept: read in the pass (a layer), or once (inputs)."""
        source = embedding_source(self._loaded.info, self.embeddings)
        if source is None:
            return
        try:
            plan = plan_for(self._loaded, source)
        except EmbeddingError as exc:
            if isinstance(self.embeddings, str) and self.embeddings != "auto":
                raise
            self.notes.append(f"No embedding kept: {exc}")
            return
        if plan.source != "input":
            self._plan = plan
        elif not self.data.streamed:  # the input features do not change while training
            step = rows_per_call(self._feed.row_bytes, None, self.batch_size, self._feed.max_rows)
            vectors = np.concatenate([plan.reduce_numpy(c) for c, _ in self._feed.chunks(step)])
            self._input_embedding = Embedding(vectors, source, plan.layer, int(plan.width or vectors.shape[1]))

    def on_epoch_end(self, epoch: int, logs=None) -> None:
        e = int(epoch) + 1
        last = self._params_epochs is not None and e == self._params_epochs
        if e % self.every and not last:
            return
        self.record(e, logs)

    def record(self, epoch: int, logs: Mapping | None = None) -> np.ndarray:
        """Predict the validation data with the model's weights as they are now and keep the
        outputs as ``epoch``'s (what :meth:`on_epoch_end` does). Returns the outputs."""
        if self._loaded is None:
            self.on_train_begin()
        _sync_training_state(self.model)
        kept: list[np.ndarray] = []
        outputs, labels = run_feed(self._loaded, self._feed, batch_size=self.batch_size, plan=self._plan, kept=kept)
        if self._y is None:
            if not labels:
                raise LabelError("No labels were given: pass y_val=..., or a dataset that holds labels.")
            self._y = np.concatenate(labels)
        self._outputs.put(epoch, outputs)
        if kept:
            self._outputs.put((epoch, "embedding"), np.concatenate(kept) if len(kept) > 1 else kept[0])
        if epoch not in self.epochs:
            self.epochs.append(epoch)
            self.epochs.sort()
        self._built.pop(epoch, None)
        ev = Evaluation.from_predictions(self._y, outputs, **self._build_options(self._loaded))
        if ev.single_label:  # what cartography follows, kept per epoch (5 bytes a sample)
            self._true_p[epoch] = ev.y_proba[np.arange(ev.n_samples), ev.y_true].astype(np.float32)
            self._correct[epoch] = ev.y_pred == ev.y_true
        self.logs[epoch] = {k: float(v) for k, v in (logs or {}).items() if np.ndim(v) == 0}
        for listener in list(self._listeners):
            listener(epoch)
        return outputs

    # ------------------------------------------------------------------ results
    def _build_options(self, loaded) -> dict[str, Any]:
        info = loaded.info
        return dict(
            classes=self.classes or self.data.class_names or info.class_names,
            task=self.task or info.task_hint(self._y),
            threshold=self.threshold,
            activation=info.output_activation,
            model_info=info,
            model_name=loaded.name,
            dataset_name=self.data.name,
            metadata=None if self.data.streamed else _metadata(self.data, info),
        )

    def _check_epoch(self, epoch: int) -> int:
        if not self.epochs:
            raise H5EvalError(
                "No epoch has been recorded yet: pass the recorder to model.fit(..., "
                "callbacks=[recorder]) and let an epoch end."
            )
        if epoch not in self.epochs:
            raise H5EvalError(
                f"Epoch {epoch} was not recorded; the recorded epochs are "
                f"{_epoch_list(self.epochs)} (epochs count from 1, as Keras prints them)."
            )
        return int(epoch)

    def outputs(self, epoch: int) -> np.ndarray:
        """The model's raw outputs on the validation data after ``epoch`` (read-only)."""
        return self._outputs.get(self._check_epoch(epoch))

    def evaluation(self, epoch: int | None = None) -> Evaluation:
        """The evaluation of the model as it was after ``epoch`` (default: the last recorded).

        Built from the kept outputs on first access (no prediction), with every metric, the
        matrix and the cells; the most recently asked ones are kept built.
        """
        e = self._check_epoch(self.epochs[-1] if epoch is None and self.epochs else epoch)
        if e in self._built:
            self._built.move_to_end(e)
            return self._built[e]
        return self._build(e)

    def _build(self, e: int) -> Evaluation:
        ev = Evaluation.from_predictions(
            self._y, np.asarray(self._outputs.get(e)), notes=(f"epoch {e}",), **self._build_options(self._loaded)
        )
        upto = [k for k in self.epochs if k <= e and k in self._correct]
        if e in self._correct:  # each sample's epoch learned (as of this epoch), shown on its card
            learned = pd.DataFrame({"learned_epoch": first_learned(np.stack([self._correct[k] for k in upto]), upto)})
            meta = learned if ev.metadata is None else pd.concat([ev.metadata, learned], axis=1)
            ev = dataclasses.replace(ev, metadata=meta)
        embedding = self._embedding(e)
        if embedding is not None:
            ev = dataclasses.replace(ev, embeddings=embedding)
        self._built[e] = ev
        while len(self._built) > self.keep_evaluations:
            self._built.popitem(last=False)
        return ev

    def _embedding(self, e: int) -> Embedding | None:
        if self._input_embedding is not None:
            return self._input_embedding
        if self._plan is None or (e, "embedding") not in self._outputs:
            return None
        vectors = np.asarray(self._outputs.get((e, "embedding")))
        return Embedding(vectors, self._plan.source, self._plan.layer, int(self._plan.width or vectors.shape[1]))

    def history(self):
        """Every metric at every recorded epoch, beside Keras's own logs.

        Returns
        -------
        DataFrame
            Indexed by ``epoch``: the evaluation's scores on the validation data (``accuracy``,
            ``f1_macro``, ...) followed by Keras's logs: ``val_*`` as Keras names them, and its
            training-data logs as ``train_loss``, ``train_accuracy``...
        """
        rows = []
        for e in self.epochs:
            row = dict(self.evaluation(e).scores)
            # Keras's logs: ``val_*`` as Keras names them, the others (on the training data) as ``train_*``
            row.update({k if k.startswith("val_") else f"train_{k}": v for k, v in self.logs.get(e, {}).items()})
            rows.append(row)
        return pd.DataFrame(rows, index=pd.Index(self.epochs, name="epoch"))

    def cartography(self, *, ambiguous_quantile: float = 2 / 3, easy_confidence: float = 0.5):
        """Each validation sample's training dynamics over the recorded epochs.

        See :func:`~h5eval_widgets.core.metrics.cartography.cartography` for the columns
        (``confidence``, ``variability``, ``correctness``, ``forgetting_events``,
        ``first_learned``, ``region``) and how the regions are cut: *ambiguous* are the samples
        in the top third by variability (``ambiguous_quantile``), *easy* the others whose mean
        true-class probability is at least ``easy_confidence``, *hard* (hard to learn) the rest.
        Single-label classifiers only.
        """
        self._check_epoch(self.epochs[-1] if self.epochs else -1)
        true_p, correct = self.dynamics()
        return cartography(
            true_p, correct, self.epochs, ambiguous_quantile=ambiguous_quantile, easy_confidence=easy_confidence
        )

    def dynamics(self) -> tuple[np.ndarray, np.ndarray]:
        """The true class's probability and whether the prediction was right, per recorded epoch
        and sample: two arrays of shape ``(n_epochs, n_samples)``, kept as each epoch was recorded."""
        if not self._correct:
            ev = self.evaluation(self.epochs[-1])
            raise H5EvalError(
                f"Cartography follows one true class per sample; a {ev.task} model "
                "has none (use history() for its metrics per epoch)."
            )
        return (np.stack([self._true_p[e] for e in self.epochs]), np.stack([self._correct[e] for e in self.epochs]))

    # ------------------------------------------------------------------ watching and cleaning up
    def add_listener(self, fn: Callable[[int], None]) -> None:
        """Call ``fn(epoch)`` after each epoch is recorded (a dashboard follows training so)."""
        self._listeners.append(fn)

    def remove_listener(self, fn: Callable[[int], None]) -> None:
        if fn in self._listeners:
            self._listeners.remove(fn)

    @property
    def memory_bytes(self) -> int:
        """Bytes of outputs held in memory (at most ``memory_limit`` plus the newest epoch's)."""
        return self._outputs.in_memory

    @property
    def files(self) -> list[int]:
        """The epochs whose outputs were written to disk."""
        return self._outputs.on_disk

    def close(self) -> None:
        """Remove the files written past the memory bound (their epochs are then gone)."""
        for e in self._outputs.on_disk:
            self.epochs.remove(e)
            for kept in (self._built, self._true_p, self._correct):
                kept.pop(e, None)
        self._outputs.remove_files()

    def __repr__(self) -> str:
        what = _epoch_list(self.epochs) if self.epochs else "none yet"
        return f"TrainingRecorder({self.data.name!r}, {len(self.data)} samples, epochs recorded: {what})"


def _sync_training_state(model) -> None:
    """Put the weights of the step just run back into ``model``'s variables, when its trainer
    holds them elsewhere.

    Keras's JAX trainer keeps the training state apart from the variables during ``fit`` and
    empties the variables while an epoch runs; it writes the state back before
    ``on_epoch_end`` and offers ``jax_state_sync()`` for a callback that reads the weights
    earlier (``on_train_batch_end``), after which the next step reads the state from the
    variables again. The TensorFlow and PyTorch trainers update the variables in place and have
    no such method: nothing to do.
    """
    sync = getattr(model, "jax_state_sync", None)
    if callable(sync):
        sync()


def _epoch_list(epochs: list[int]) -> str:
    return ", ".join(map(str, epochs)) if len(epochs) <= 8 else f"{epochs[0]}..{epochs[-1]} ({len(epochs)})"
