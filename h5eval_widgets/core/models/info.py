"""What a model takes and gives (:class:`ModelInfo`), read from its layers, and remembered
for files already seen (the facts kept in the cache folder)."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from ..metrics.labels import infer_task

__all__ = ["ModelInfo", "info_from_keras", "savedmodel_info", "facts_key", "facts_path", "read_facts", "write_facts"]

#: Bumped when ModelInfo gains facts, so older records are not read.
FACTS_VERSION = "2"


@dataclass(frozen=True)
class ModelInfo:
    """Facts about a model, read from its config and its output layer.

    Attributes
    ----------
    input_shape : tuple
        Expected input shape, batch dimension as None.
    output_shape : tuple
        Output shape, batch dimension as None.
    output_activation : str or None
        Activation of the last layer (``'softmax'``, ``'sigmoid'``, ``'linear'``, ...).
    task : str or None
        Task inferred from the model alone (None when the labels are needed to tell).
    format : str
        ``'h5'``, ``'keras'``, ``'savedmodel'`` or ``'memory'``.
    keras_version : str or None
        Keras version recorded in the file (old Keras 2 files say ``'2.x'``).
    """

    input_shape: tuple
    output_shape: tuple
    output_activation: str | None
    format: str
    keras_version: str | None = None
    n_params: int | None = None
    class_names: tuple[str, ...] | None = None
    #: every input's name, shape (batch as None) and dtype, in the model's order
    input_names: tuple[str, ...] = ()
    input_shapes: tuple[tuple, ...] = ()
    input_dtypes: tuple[str, ...] = ()
    #: the model begins with a Rescaling or Normalization layer (it scales raw pixels itself)
    rescales_inputs: bool = False
    #: bytes of the largest layer output for one sample (sizes the batches)
    activation_bytes: int | None = None

    @property
    def n_outputs(self) -> int:
        return int(self.output_shape[-1]) if self.output_shape and self.output_shape[-1] else 1

    @property
    def task(self) -> str | None:
        if self.output_activation in ("softmax", "sigmoid"):
            return infer_task(self.n_outputs, activation=self.output_activation)
        return None

    def task_hint(self, y) -> str:
        """The task given the labels (settles linear outputs: logits or regression)."""
        return infer_task(self.n_outputs, activation=self.output_activation, y=y)

    @classmethod
    def from_dict(cls, d: dict) -> "ModelInfo":
        """The inverse of ``dataclasses.asdict`` after a JSON round trip."""
        return cls(
            input_shape=tuple(d["input_shape"]),
            output_shape=tuple(d["output_shape"]),
            output_activation=d["output_activation"],
            format=d["format"],
            keras_version=d["keras_version"],
            n_params=d["n_params"],
            class_names=tuple(d["class_names"]) if d["class_names"] else None,
            input_names=tuple(d["input_names"]),
            input_shapes=tuple(tuple(s) for s in d["input_shapes"]),
            input_dtypes=tuple(d["input_dtypes"]),
            rescales_inputs=bool(d["rescales_inputs"]),
            activation_bytes=d["activation_bytes"],
        )

    def to_dict(self) -> dict:
        return {
            "input_shape": list(self.input_shape),
            "output_shape": list(self.output_shape),
            "output_activation": self.output_activation,
            "task": self.task,
            "format": self.format,
            "keras_version": self.keras_version,
            "n_params": self.n_params,
            "inputs": {n: list(s) for n, s in zip(self.input_names, self.input_shapes)},
        }


def _activation_of(model) -> str | None:
    import keras

    layers = getattr(model, "layers", None)
    if not layers:
        return None
    last = layers[-1]
    act = getattr(last, "activation", None)
    if isinstance(last, keras.layers.Softmax):
        return "softmax"
    if act is None:
        return None
    name = getattr(act, "__name__", None) or str(act)
    return {"softmax_v2": "softmax"}.get(name, name)


def _shape(s) -> tuple:
    if isinstance(s, list):
        s = s[0]
    return tuple(None if d is None else int(d) for d in s)


def _sublayers(model) -> Iterator[Any]:
    """Every layer, nested models' layers included (transfer-learning bases)."""
    for layer in getattr(model, "layers", ()) or ():
        yield layer
        if getattr(layer, "layers", None):
            yield from _sublayers(layer)


#: Layers that leave inputs unchanged at inference, skipped when looking for a leading
#: Rescaling/Normalization.
_PASS_THROUGH = ("InputLayer", "Resizing", "CenterCrop", "Dropout", "GaussianNoise")


def _rescales_inputs(model) -> bool:
    """True if the first layer that changes values is a Rescaling or Normalization."""
    import keras

    for layer in getattr(model, "layers", ()) or ():
        name = type(layer).__name__
        if name in _PASS_THROUGH or name.startswith("Random"):
            continue
        if isinstance(layer, (keras.layers.Rescaling, keras.layers.Normalization)):
            return True
        if getattr(layer, "layers", None):
            return _rescales_inputs(layer)
        return False
    return False


def _activation_bytes(model) -> int | None:
    """Bytes of the largest single layer output for one sample (float32), or None."""
    largest = 0
    for layer in _sublayers(model):
        try:
            outs = layer.output
        except (AttributeError, ValueError):  # a layer called in several places, or unbuilt
            continue
        for t in outs if isinstance(outs, (list, tuple)) else [outs]:
            dims = [d for d in tuple(getattr(t, "shape", ()))[1:] if d is not None]
            largest = max(largest, int(np.prod(dims)) if dims else 1)
    return largest * 4 or None


def _inputs_of(model) -> tuple[tuple, tuple, tuple]:
    tensors = list(getattr(model, "inputs", None) or [])
    names = tuple(str(getattr(t, "name", f"input_{i}")) for i, t in enumerate(tensors))
    shapes = tuple(_shape(t.shape) for t in tensors)
    dtypes = tuple(str(getattr(t, "dtype", "float32")) for t in tensors)
    return names, shapes, dtypes


def info_from_keras(model, fmt: str, version: str | None) -> ModelInfo:
    try:
        n_params = int(model.count_params())
    except Exception:  # an unbuilt model has no count
        n_params = None
    names, shapes, dtypes = _inputs_of(model)
    return ModelInfo(
        input_shape=shapes[0] if shapes else _shape(model.input_shape),
        output_shape=_shape(model.output_shape),
        output_activation=_activation_of(model),
        format=fmt,
        keras_version=version,
        n_params=n_params,
        input_names=names,
        input_shapes=shapes,
        input_dtypes=dtypes,
        rescales_inputs=_rescales_inputs(model),
        activation_bytes=_activation_bytes(model),
    )


def savedmodel_info(layer, endpoint: str) -> ModelInfo:
    import tensorflow as tf

    fn = getattr(layer, "call_endpoint_fn", None)
    in_shape, out_shape, in_dtypes = (), (), ()
    concrete = None
    if fn is not None:
        if hasattr(fn, "structured_input_signature"):
            concrete = fn
        elif getattr(fn, "input_signature", None):
            concrete = fn.get_concrete_function(*fn.input_signature)
    if concrete is not None:
        args, kwargs = concrete.structured_input_signature
        specs = [s for s in tf.nest.flatten((args, kwargs)) if isinstance(s, tf.TensorSpec)]
        if specs:
            in_shape = tuple(specs[0].shape.as_list())
            in_dtypes = (specs[0].dtype.name,)
        outs = [s for s in tf.nest.flatten(concrete.structured_outputs) if hasattr(s, "shape")]
        if outs:
            out_shape = tuple(outs[0].shape.as_list())
    return ModelInfo(
        input_shape=in_shape,
        output_shape=out_shape,
        output_activation=None,
        format="savedmodel",
        input_shapes=(in_shape,) if in_shape else (),
        input_dtypes=in_dtypes,
        input_names=("input",) if in_shape else (),
    )


def facts_key(digest: str, trust_code: bool, output) -> str:
    from importlib.metadata import version

    from ..cache import cache_key

    return cache_key("model-facts", FACTS_VERSION, digest, str(trust_code), repr(output), version("keras"))


def facts_path(cache, key: str) -> Path:
    """Where a file's facts live: ``models/`` in the prediction cache's folder."""
    from ..cache import PredictionCache, default_cache_dir

    if isinstance(cache, PredictionCache):
        folder = cache.directory
    elif isinstance(cache, (str, os.PathLike)):
        folder = Path(cache)
    else:
        folder = default_cache_dir()
    return folder / "models" / f"{key}.json"


def read_facts(target: Path) -> dict | None:
    """A model file's facts as stored by :func:`write_facts`, or None."""
    try:
        raw = json.loads(target.read_text())
        return {
            "info": ModelInfo.from_dict(raw["info"]),
            "fingerprint": str(raw["fingerprint"]),
            "notes": [str(n) for n in raw["notes"]],
            "output_index": raw["output_index"],
        }
    except (OSError, ValueError, KeyError, TypeError):  # absent or unreadable: load as usual
        return None


def write_facts(target: Path, loaded: Any) -> None:
    """Remember a loaded file's facts next to the prediction cache (atomically; best effort)."""
    import tempfile
    from dataclasses import asdict

    record = {
        "info": asdict(loaded.info),
        "fingerprint": loaded.fingerprint,
        "notes": loaded.notes,
        "output_index": loaded.output_index,
    }
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".partial", dir=target.parent)
    except OSError:  # a read-only cache folder only costs the shortcut
        return
    try:
        with os.fdopen(fd, "w") as fh:
            json.dump(record, fh)
        os.replace(tmp, target)
    except (OSError, TypeError, ValueError):  # full disk, or a fact JSON cannot hold
        Path(tmp).unlink(missing_ok=True)
