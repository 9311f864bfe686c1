"""Embeddings kept from the one inference pass: which activations, how they are reduced, where
they are cached.

The embedding of a sample is, by default (``embeddings=True``):

- for a *tabular* model (one input of at most :data:`MAX_INPUT_FEATURES` values per row), the
  input features themselves, as the model is fed them (after the chosen preprocessing); they
  are read from the data again, never stored in the cache, and cost no inference;
- otherwise the *penultimate* activations: the input of the model's last ``Dense`` layer (for a
  model without one, the input of its last layer that is not an activation or dropout).

A layer named by the user (``embeddings="layer_name"``, a top-level layer) gives that layer's
output instead. Activations with spatial axes (feature maps, sequences) are averaged over them
(global average pooling); the result is float32. Rows wider than :data:`MAX_DIMS` values are
reduced to :data:`MAX_DIMS` by a fixed Gaussian random projection seeded by the model's
fingerprint (Johnson-Lindenstrauss: distances, and so the neighbourhoods UMAP sees and the
variance PCA finds, are kept up to a few per cent), inside the compiled forward pass, so the
wide activations never leave it. The same model always gets the same projection.

Computed embeddings are stored in the prediction cache under
``cache_key(model fingerprint, data key, "embedding", source)`` next to the outputs, with a small
record of the layer's name and width; projections to 2-D are stored under the embedding's key
plus the method (see :meth:`Embedding.projection`).
"""

from __future__ import annotations

import hashlib
import json
import threading
import weakref
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..cache import PredictionCache, cache_key
from ..errors import EmbeddingError

__all__ = ["Embedding", "embedding_source", "MAX_DIMS", "MAX_INPUT_FEATURES"]

#: Widest embedding kept per row (wider ones are randomly projected down to this).
MAX_DIMS = 256
#: A single 1-D input of at most this many values is "tabular": its features are the embedding.
MAX_INPUT_FEATURES = 256
#: Trailing layers skipped when looking for the penultimate activations of a model with no Dense.
_SKIPPED = (
    "Activation",
    "Softmax",
    "ReLU",
    "LeakyReLU",
    "ELU",
    "PReLU",
    "Dropout",
    "SpatialDropout1D",
    "SpatialDropout2D",
    "GaussianDropout",
    "GaussianNoise",
    "AlphaDropout",
)


def embedding_source(info, embeddings: bool | str | None) -> str | None:
    """What ``embeddings=`` asks for, decided from the model's facts alone (no Keras).

    Parameters
    ----------
    info : ModelInfo
    embeddings : bool, str or None
        False/None: none. True or ``'auto'``: ``'input'`` for a tabular model (one 1-D numeric
        input of at most :data:`MAX_INPUT_FEATURES` values), else ``'penultimate'``.
        ``'input'`` or ``'penultimate'``: that. Any other string: a layer's name.

    Returns
    -------
    str or None
        ``'input'``, ``'penultimate'``, ``'layer:<name>'`` or None.
    """
    if embeddings is None or embeddings is False:
        return None
    if embeddings is True or embeddings == "auto":
        shapes = tuple(info.input_shapes) or (tuple(info.input_shape),)
        dtypes = tuple(info.input_dtypes) or ("float32",)
        shape = tuple(shapes[0])
        if (
            len(shapes) == 1
            and len(shape) == 2
            and shape[1] is not None
            and int(shape[1]) <= MAX_INPUT_FEATURES
            and dtypes[0] != "string"
        ):
            return "input"
        return "penultimate"
    if not isinstance(embeddings, str) or not embeddings:
        raise EmbeddingError(
            f"embeddings must be True, False, 'auto', 'input', 'penultimate' or a layer's name; got {embeddings!r}."
        )
    if embeddings in ("input", "penultimate"):
        return embeddings
    return f"layer:{embeddings}"


def projection_matrix(fingerprint: str, width: int, dims: int = MAX_DIMS) -> np.ndarray:
    """The fixed ``(width, dims)`` Gaussian random projection of a model (entries of variance
    ``1/dims``, so squared distances are kept on average), seeded by its fingerprint."""
    seed = int(hashlib.sha256(f"{fingerprint}|{width}|{dims}".encode()).hexdigest()[:16], 16)
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((width, dims)) / np.sqrt(dims)).astype(np.float32)


# ---------------------------------------------------------------------------- in the pass
@dataclass(eq=False)
class EmbeddingPlan:
    """Which activations one compiled forward pass also returns (built from the Keras model).

    Attributes
    ----------
    source : str
        As :func:`embedding_source` gives it.
    layer : str
        The layer whose input (``capture='input'``) or output (``'output'``) is kept, or
        ``'input'`` for the input features.
    width : int or None
        Values per row before any random projection (known once the pass is traced).
    """

    source: str
    layer: str
    capture: str = "input"
    target: Any = None
    fingerprint: str = ""
    width: int | None = None
    #: ``x -> (outputs, activations)``, built by :func:`plan_for` (see :meth:`runner`)
    run: Any = field(default=None, repr=False)

    @property
    def key(self) -> str:
        """Part of the compiled pass's key (a pass with another plan is another pass)."""
        return f"{self.source}|{self.layer}|{self.capture}"

    def reduce(self, act):
        """Pooled, flattened, float32, at most :data:`MAX_DIMS` wide (inside the compiled pass,
        in backend-neutral Keras ops)."""
        from keras import ops

        act = ops.cast(act, "float32")
        rank = len(act.shape)
        if rank > 2:
            act = ops.mean(act, axis=tuple(range(1, rank - 1)))
        elif rank == 1:
            act = ops.expand_dims(act, 1)
        self.width = int(act.shape[-1])
        if self.width > MAX_DIMS:
            act = ops.matmul(act, ops.convert_to_tensor(projection_matrix(self.fingerprint, self.width)))
        return act

    def reduce_numpy(self, chunk) -> np.ndarray:
        """The input features of a chunk (flattened, float32, projected when too wide)."""
        x = np.asarray(chunk, dtype=np.float32).reshape(len(chunk), -1)
        self.width = x.shape[1]
        if self.width > MAX_DIMS:
            x = x @ projection_matrix(self.fingerprint, self.width)
        return x

    def runner(self, keras, model):
        """A function ``x -> (outputs, activations)`` running the model once."""
        if isinstance(model, keras.Sequential):
            # layer by layer: a Sequential model read from a Keras 2 .h5 has layer outputs that
            # are not connected to its outputs, so a sub-model built from them would be wrong
            def run(x):
                kept = None
                for lay in model.layers:
                    if lay is self.target and self.capture == "input":
                        kept = x
                    x = lay(x, training=False)
                    if lay is self.target and self.capture == "output":
                        kept = x
                return x, kept

            return run
        tensor = self.target.input if self.capture == "input" else self.target.output
        if isinstance(tensor, (list, tuple)):
            raise EmbeddingError(
                f"Layer {self.layer!r} has several inputs; name another layer with embeddings='layer_name'."
            )
        sub = keras.Model(model.inputs, [model.outputs[0], tensor])

        def run(x):
            out, kept = sub(x, training=False)
            return out, kept

        return run


def plan_for(loaded, source: str) -> EmbeddingPlan:
    """The plan of ``source`` on the loaded Keras model (made once per model and source, and
    kept as long as the model).

    Raises
    ------
    EmbeddingError
        The model has no Keras layers (a SavedModel endpoint) or no such layer.
    """
    plans = _PLANS.setdefault(loaded, {})
    if source not in plans:
        plans[source] = _new_plan(loaded, source)
    return plans[source]


#: the plans of each loaded model, by source; they go with the model
_PLANS: "weakref.WeakKeyDictionary[Any, dict[str, EmbeddingPlan]]" = weakref.WeakKeyDictionary()


def _new_plan(loaded, source: str) -> EmbeddingPlan:
    if source == "input":
        return EmbeddingPlan(source, "input", fingerprint=loaded.fingerprint)
    import keras

    model = loaded.model
    layers = list(getattr(model, "layers", None) or [])
    if not layers:
        raise EmbeddingError(
            f"{loaded.name} has no Keras layers to read activations from (a SavedModel endpoint); "
            "load the .keras or .h5 file instead, or use embeddings='input' for a tabular model."
        )
    if source.startswith("layer:"):
        name = source[len("layer:") :]
        names = [lay.name for lay in layers]
        if name not in names:
            raise EmbeddingError(
                f"{loaded.name} has no top-level layer {name!r}; its layers are {names[-12:]} "
                "(last 12). Name one of them with embeddings='layer_name'."
            )
        plan = EmbeddingPlan(source, name, "output", layers[names.index(name)], loaded.fingerprint)
    else:
        dense = [lay for lay in layers if isinstance(lay, keras.layers.Dense)]
        target = (
            dense[-1]
            if dense
            else next((lay for lay in reversed(layers) if type(lay).__name__ not in _SKIPPED), layers[-1])
        )
        plan = EmbeddingPlan(source, target.name, "input", target, loaded.fingerprint)
    try:
        plan.run = plan.runner(keras, model)
    except EmbeddingError:
        raise
    except Exception as exc:  # noqa: BLE001 - Keras could not wire the layer to the outputs
        raise EmbeddingError(
            f"The activations of layer {plan.layer!r} of {loaded.name} cannot be read with its "
            f"outputs ({type(exc).__name__}: {str(exc).splitlines()[0][:200] if str(exc) else ''}); "
            "name another top-level layer with embeddings='layer_name'."
        ) from None
    return plan


# ---------------------------------------------------------------------------- the result
def _meta_key(key: str) -> str:
    return cache_key(key, "meta")


def _read(store: PredictionCache | None, key: str | None, n: int | None = None) -> tuple[np.ndarray, dict] | None:
    """A cached embedding of ``n`` rows and its record, or None."""
    if store is None or key is None:
        return None
    raw_meta = store.get(_meta_key(key))
    vectors = store.get(key) if raw_meta is not None else None
    if vectors is None or vectors.ndim != 2 or (n is not None and len(vectors) != n):
        return None
    try:
        meta = json.loads(raw_meta.tobytes().decode())
        return vectors, {"layer": str(meta["layer"]), "width": int(meta["width"])}
    except (ValueError, UnicodeDecodeError, KeyError, TypeError):
        return None


def _write(store: PredictionCache, key: str, vectors: np.ndarray, meta: dict) -> None:
    store.put(key, vectors)
    store.put(_meta_key(key), np.frombuffer(json.dumps(meta).encode(), np.uint8))


@dataclass(eq=False)
class Embedding:
    """The embedding of every sample, from the inference pass, and its 2-D projections.

    Attributes
    ----------
    vectors : ndarray of shape (n_samples, d), float32, read-only
        ``d <= MAX_DIMS``.
    source : str
        ``'input'``, ``'penultimate'`` or ``'layer:<name>'`` (see :func:`embedding_source`).
    layer : str
        The layer read (its input for ``'penultimate'``, its output for a named layer), or
        ``'input'``.
    width : int
        Values per row before the random projection (equal to ``d`` when none was needed).
    key : str or None
        The cache key (None when not cached: a streamed dataset or ``cache=False``).
    store : PredictionCache or None
        Where the projections are cached.
    """

    vectors: np.ndarray = field(repr=False)
    source: str
    layer: str
    width: int
    key: str | None = field(default=None, repr=False)
    store: PredictionCache | None = field(default=None, repr=False)
    _projections: dict = field(default_factory=dict, repr=False)
    _locks: dict = field(default_factory=dict, repr=False)
    _lock: Any = field(default_factory=threading.Lock, repr=False)
    #: for a subset (see :meth:`take`): the whole embedding and the rows taken from it
    parent: "Embedding | None" = field(default=None, repr=False)
    indices: np.ndarray | None = field(default=None, repr=False)

    def __post_init__(self):
        self.vectors = np.asarray(self.vectors, dtype=np.float32)
        self.vectors.flags.writeable = False

    def take(self, indices) -> "Embedding":
        """The embedding of some samples (a slice of the dataset): its rows, and projections
        that are the rows of the whole embedding's (the map keeps its layout; nothing is
        projected again, and the whole embedding's cache serves them).

        Parameters
        ----------
        indices : array-like of int or bool mask

        Returns
        -------
        Embedding
        """
        rows = np.arange(len(self.vectors))[np.asarray(indices)]
        root = self.parent if self.parent is not None else self
        if self.parent is not None:
            rows = self.indices[rows]
        return Embedding(root.vectors[rows], root.source, root.layer, root.width, parent=root, indices=rows)

    @property
    def randomly_projected(self) -> bool:
        """True when the layer was wider than :data:`MAX_DIMS` and was projected down."""
        return self.width > self.vectors.shape[1]

    @property
    def description(self) -> str:
        """One line for titles and notes (which activations, how wide)."""
        what = (
            "input features"
            if self.source == "input"
            else f"input of layer {self.layer!r}"
            if self.source == "penultimate"
            else f"output of layer {self.layer!r}"
        )
        dims = (
            f"{self.width} values, randomly projected to {self.vectors.shape[1]}"
            if self.randomly_projected
            else f"{self.width} values"
        )
        return f"Embedding: {what} ({dims})."

    def projection_key(self, method: str, seed: int, options: dict) -> str | None:
        if self.key is None:
            return None
        return cache_key(self.key, "projection", method, str(seed), repr(sorted(options.items())))

    def projection(self, method: str = "pca", *, seed: int = 0, progress: bool = False, **options) -> np.ndarray:
        """The embedding projected to 2-D, computed once: kept in memory and in the cache.

        Input features are standardized first (columns on different scales); activations are
        projected as they are.

        Parameters
        ----------
        method : {'pca', 'umap'}, default='pca'
        seed : int, default=0
        progress : bool, default=False
            Show UMAP's progress bar.
        **options
            Passed to :func:`~h5eval_widgets.core.inference.projection.project` (UMAP's ``n_neighbors``,
            ``min_dist``, ``n_epochs``); part of the cache key.

        Returns
        -------
        ndarray of shape (n_samples, 2), float32, read-only
        """
        from . import projection as _projection

        if self.parent is not None:
            xy = self.parent.projection(method, seed=seed, progress=progress, **options)[self.indices]
            xy.flags.writeable = False
            return xy
        mem = (method, seed, tuple(sorted(options.items())))
        with self._lock:  # one lock per projection: PCA is not kept waiting by a UMAP running
            lock = self._locks.setdefault(mem, threading.Lock())
        with lock:
            if mem in self._projections:
                return self._projections[mem]
            key = self.projection_key(method, seed, options)
            xy = self.store.get(key) if self.store is not None and key is not None else None
            if xy is None or xy.shape != (len(self.vectors), 2):
                xy = _projection.project(
                    self.vectors, method, seed=seed, progress=progress, standardize=self.source == "input", **options
                )
                if self.store is not None and key is not None:
                    try:
                        self.store.put(key, xy)
                    except OSError:  # a read-only or full disk only costs the next computation
                        pass
            xy = np.asarray(xy, dtype=np.float32)
            xy.flags.writeable = False
            self._projections[mem] = xy
            return xy
