"""Load Keras models from ``.h5``, ``.keras`` and SavedModel, safely, and report their facts.

TensorFlow and Keras are imported inside the functions that need them, so importing this
module stays cheap.
"""

from __future__ import annotations

import hashlib
import json
import os
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np

from .errors import ModelLoadError, UnsafeModelError, WeightsOnlyError
from .labels import infer_task

__all__ = ["ModelInfo", "LoadedModel", "load_model", "file_digest", "CODE_LAYERS"]

#: Layer classes whose saved config carries Python code that deserializing would run.
CODE_LAYERS = frozenset({"Lambda", "TFOpLambda", "SlicingOpLambda"})

#: Bumped when ModelInfo gains facts, so older records are not read.
FACTS_VERSION = "2"

_HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"


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


def file_digest(path: str | os.PathLike) -> str:
    """SHA-256 of a file's bytes, or of every file under a directory (names included)."""
    h = hashlib.sha256()
    p = Path(path)
    files = sorted(f for f in p.rglob("*") if f.is_file()) if p.is_dir() else [p]
    for f in files:
        if p.is_dir():
            h.update(str(f.relative_to(p)).encode())
        with open(f, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
    return h.hexdigest()


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
            input_shape=tuple(d["input_shape"]), output_shape=tuple(d["output_shape"]),
            output_activation=d["output_activation"], format=d["format"],
            keras_version=d["keras_version"], n_params=d["n_params"],
            class_names=tuple(d["class_names"]) if d["class_names"] else None,
            input_names=tuple(d["input_names"]),
            input_shapes=tuple(tuple(s) for s in d["input_shapes"]),
            input_dtypes=tuple(d["input_dtypes"]), rescales_inputs=bool(d["rescales_inputs"]),
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


@dataclass(eq=False)
class LoadedModel:
    """A model ready for prediction, with its facts and the fingerprint used by the cache.

    When the facts of a file come from the cache (see :func:`load_model`), Keras is not run
    until :attr:`model` is first used, which a cached prediction never does.

    Attributes
    ----------
    model : keras.Model or keras.layers.Layer
        Callable on a batch of inputs (loaded on first use when ``loader`` is set).
    info : ModelInfo
    name : str
    fingerprint : str
        SHA-256 of the file's content (or of the weights, for an in-memory model).
    path : Path or None
    notes : list of str
    """

    _model: Any
    info: ModelInfo
    name: str
    fingerprint: str
    path: Path | None = None
    notes: list[str] = field(default_factory=list)
    output_index: int | None = None
    #: compiled forward passes by (row shape, dtype), so another dataset reuses the trace
    forward_passes: dict = field(default_factory=dict, repr=False)
    #: loads the Keras model when it is first needed (facts read from the cache)
    loader: Callable[[], Any] | None = field(default=None, repr=False)

    @property
    def model(self) -> Any:
        if self._model is None and self.loader is not None:
            self._model = self.loader()
        return self._model

    @property
    def is_loaded(self) -> bool:
        """False while the Keras model has not been needed yet."""
        return self._model is not None

    def _repr_html_(self) -> str:
        rows = "".join(f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in self.info.to_dict().items())
        return f"<b>{self.name}</b><table>{rows}</table>"


def _walk(config: Any) -> Iterator[dict]:
    if isinstance(config, dict):
        if "class_name" in config:
            yield config
        for v in config.values():
            yield from _walk(v)
    elif isinstance(config, list):
        for v in config:
            yield from _walk(v)


def _layer_classes(config: Any) -> list[str]:
    return [c["class_name"] for c in _walk(config) if isinstance(c.get("class_name"), str)]


def _refuse_code(config: Any, path: Path, trust_code: bool) -> None:
    found = sorted({c for c in _layer_classes(config) if c in CODE_LAYERS})
    if found and not trust_code:
        raise UnsafeModelError(
            f"{path.name} contains {', '.join(found)} layer(s), which store Python code that "
            "runs when the model is loaded. A model file from someone else can run anything on "
            "this machine this way, so it was not loaded. If you trust where the file comes "
            "from, pass trust_code=True (on the command line: --trust-code)."
        )


def _read_h5_config(path: Path) -> tuple[dict, str | None]:
    import h5py

    with open(path, "rb") as fh:
        head = fh.read(8)
    if head != _HDF5_SIGNATURE:
        raise ModelLoadError(
            f"{path} is not an HDF5 file (its first bytes are not the HDF5 signature); it may be "
            "a different format renamed to .h5, or a download that did not finish. "
            "Re-export the model with model.save('model.h5') or model.save('model.keras')."
        )
    try:
        with h5py.File(path, "r") as f:
            attrs = dict(f.attrs)
            keys = list(f.keys())
    except OSError as exc:
        raise ModelLoadError(
            f"{path} could not be read as HDF5 ({exc}); the file is probably truncated or "
            "corrupt. Copy or export it again."
        ) from None
    raw = attrs.get("model_config")
    version = attrs.get("keras_version")
    if isinstance(version, bytes):
        version = version.decode()
    if raw is None:
        # Keras 2 save_weights writes a 'layer_names' attribute; Keras 3 writes 'layers'/'vars'
        if "layer_names" in attrs or "model_weights" in keys or {"layers", "vars"} <= set(keys):
            raise WeightsOnlyError(
                f"{path} holds weights only (written by save_weights), not a model: there is no "
                "architecture to rebuild it from. Build the same architecture in code, call "
                "model.load_weights(path), then pass that model (or save it with "
                "model.save('model.keras'))."
            )
        held = f" It holds {keys[:10]}: is it a data file?" if keys else " It is empty."
        raise ModelLoadError(
            f"{path} is an HDF5 file but holds no Keras model (no 'model_config' attribute)."
            f"{held} Pass the model file as the model and data files as the dataset."
        )
    if isinstance(raw, bytes):
        raw = raw.decode()
    try:
        return json.loads(raw), version
    except json.JSONDecodeError as exc:
        raise ModelLoadError(f"{path}: the stored model config is not valid JSON ({exc}).") from None


def _read_keras_config(path: Path) -> tuple[dict, str | None]:
    if not zipfile.is_zipfile(path):
        raise ModelLoadError(
            f"{path} is not a valid .keras archive (not a zip file); it may be truncated or "
            "another format. Save it again with model.save('model.keras')."
        )
    try:
        with zipfile.ZipFile(path) as zf:
            config = json.loads(zf.read("config.json"))
            meta = json.loads(zf.read("metadata.json")) if "metadata.json" in zf.namelist() else {}
    except KeyError:
        raise ModelLoadError(
            f"{path} is a zip file without config.json, so not a Keras model archive."
        ) from None
    except (json.JSONDecodeError, UnicodeDecodeError, zipfile.BadZipFile) as exc:
        raise ModelLoadError(
            f"{path}: the model's config.json is broken ({exc}); save the model again."
        ) from None
    return config, meta.get("keras_version")


def _unknown_layer_error(path: Path, exc: Exception, config: Any) -> ModelLoadError:
    import keras

    known = set(dir(keras.layers)) | set(dir(keras.models))
    unknown = sorted({c for c in _layer_classes(config) if c not in known} - {"Functional"})
    names = ", ".join(unknown) if unknown else str(exc).splitlines()[0]
    return ModelLoadError(
        f"{path.name} uses layer or object classes this Keras does not know: {names}. "
        "Pass their Python classes with custom_objects={'Name': Class, ...} (and "
        "trust_code=True only if that code is yours). Original error: "
        f"{str(exc).splitlines()[0][:300]}"
    )


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


def _info_from_keras(model, fmt: str, version: str | None) -> ModelInfo:
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


def _pick_output(model, output: int | str | None, name: str):
    """For a multi-output model, a model of the chosen output only."""
    import keras

    outputs = model.outputs if hasattr(model, "outputs") else None
    if not outputs or len(outputs) == 1:
        return model, None
    names = list(getattr(model, "output_names", None) or [t.name for t in outputs])
    if output is None:
        raise ModelLoadError(
            f"{name} has {len(outputs)} outputs ({', '.join(map(str, names))}); say which one "
            "to evaluate with output=<index or name> (on the command line: --output)."
        )
    if isinstance(output, str):
        if output not in names:
            raise ModelLoadError(f"{name} has no output {output!r}; its outputs are {names}.")
        output = names.index(output)
    sub = keras.Model(model.inputs, outputs[int(output)])
    return sub, int(output)


def _load_savedmodel(path: Path):
    _quiet_tf()
    import keras

    errors = []
    for endpoint in ("serve", "serving_default"):
        try:
            layer = keras.layers.TFSMLayer(str(path), call_endpoint=endpoint)
            return layer, endpoint
        except Exception as exc:  # noqa: BLE001 - try the next endpoint
            errors.append(f"{endpoint}: {str(exc).splitlines()[0][:200]}")
    raise ModelLoadError(
        f"{path} is a SavedModel directory but neither the 'serve' nor the 'serving_default' "
        f"endpoint could be loaded ({'; '.join(errors)}). Export it with model.export(path)."
    )


def _savedmodel_info(layer, endpoint: str) -> ModelInfo:
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
        input_shape=in_shape, output_shape=out_shape, output_activation=None, format="savedmodel",
        input_shapes=(in_shape,) if in_shape else (), input_dtypes=in_dtypes,
        input_names=("input",) if in_shape else (),
    )


def _digest_keras_model(model) -> str:
    h = hashlib.sha256()
    try:
        h.update(json.dumps(model.get_config(), sort_keys=True, default=str).encode())
    except Exception:  # noqa: BLE001 - a subclassed model may have no config
        h.update(type(model).__qualname__.encode())
    for w in model.weights:
        h.update(memoryview(w.numpy()).cast("B"))
    return h.hexdigest()


def load_model(
    source,
    *,
    trust_code: bool = False,
    custom_objects: dict | None = None,
    output: int | str | None = None,
    name: str | None = None,
    cache: bool | str | os.PathLike | Any = True,
) -> LoadedModel:
    """Load a model for evaluation, refusing embedded code unless trusted.

    A file's facts (shapes, activation, fingerprint) are remembered in the cache folder;
    loading the same file again then returns at once and Keras rebuilds the model only when
    it is run, which a prediction read from the cache never does. The check for embedded
    code is made every time.

    Parameters
    ----------
    source : str, path-like, keras.Model or LoadedModel
        A legacy ``.h5``/``.hdf5`` file (Keras 2 or 3), a ``.keras`` archive, a TensorFlow
        SavedModel directory, or a model already in memory.
    trust_code : bool, default=False
        Allow layers that carry Python code (``Lambda``). Off by default: such a file is
        refused before Keras reads it, so its code never runs.
    custom_objects : dict, default=None
        Custom layer classes by name, for models that use them.
    output : int or str, default=None
        Which output of a multi-output model to evaluate.
    name : str, default=None
        Display name (defaults to the file name).
    cache : bool, path or PredictionCache, default=True
        Remember and reuse the facts of .h5/.keras files (not with ``custom_objects``), in the
        prediction cache's folder (a path or a PredictionCache names another one).

    Returns
    -------
    LoadedModel

    Raises
    ------
    ModelLoadError
        Missing or unreadable file, unknown format, unknown custom layers.
    UnsafeModelError
        The model carries code and ``trust_code`` is False.
    WeightsOnlyError
        The file holds weights without an architecture.
    """
    if isinstance(source, LoadedModel):
        return source
    if not isinstance(source, (str, os.PathLike)):
        _quiet_tf()
        import keras

        if not isinstance(source, keras.Model):
            raise ModelLoadError(
                f"Expected a model path or a keras.Model; got {type(source).__name__}."
            )
        model, out_idx = _pick_output(source, output, name or source.name)
        return LoadedModel(
            _model=model,
            info=_info_from_keras(model, "memory", None),
            name=name or source.name,
            fingerprint=_digest_keras_model(source) + (f":out{out_idx}" if out_idx is not None else ""),
            output_index=out_idx,
        )

    path = Path(source).expanduser()
    if not path.exists():
        raise ModelLoadError(f"Model path {str(path)!r} does not exist; check the path and spelling.")
    display = name or path.name
    if path.is_dir():
        if not (path / "saved_model.pb").exists():
            raise ModelLoadError(
                f"{path} is a directory but not a TensorFlow SavedModel (no saved_model.pb); "
                "pass a .h5 or .keras file, or a SavedModel directory."
            )
        layer, endpoint = _load_savedmodel(path)
        return LoadedModel(
            _model=layer, info=_savedmodel_info(layer, endpoint), name=display,
            fingerprint=file_digest(path), path=path,
            notes=[f"Loaded SavedModel endpoint '{endpoint}'; output activation is inferred from the outputs."],
        )
    if path.stat().st_size == 0:
        raise ModelLoadError(f"{path} is empty (0 bytes); the copy or download did not finish.")

    suffix = path.suffix.lower()
    if suffix in (".h5", ".hdf5"):
        config, version = _read_h5_config(path)
        fmt = "h5"
    elif suffix == ".keras":
        config, version = _read_keras_config(path)
        fmt = "keras"
    else:
        raise ModelLoadError(
            f"{path.name}: unknown model format {suffix or '(no extension)'!r}; expected .h5, "
            ".hdf5, .keras or a SavedModel directory."
        )
    _refuse_code(config, path, trust_code)
    digest = file_digest(path)
    facts_file = None
    if cache is not False and cache is not None and custom_objects is None:
        facts_file = _facts_path(cache, _facts_key(digest, trust_code, output))
        known = _read_facts(facts_file)
        if known is not None:  # seen before: Keras waits until the model is actually run
            return LoadedModel(
                _model=None, info=known["info"], name=display, fingerprint=known["fingerprint"],
                path=path, notes=known["notes"], output_index=known["output_index"],
                loader=lambda: _keras_load(path, None, trust_code, config, output, display)[0],
            )
    model, out_idx = _keras_load(path, custom_objects, trust_code, config, output, display)
    notes = []
    if version and str(version).startswith("2."):
        notes.append(f"Written by Keras {version}; loaded with Keras 3 (compile=False).")
    loaded = LoadedModel(
        _model=model, info=_info_from_keras(model, fmt, version), name=display,
        fingerprint=digest + (f":out{out_idx}" if out_idx is not None else ""), path=path,
        notes=notes, output_index=out_idx,
    )
    if facts_file is not None:
        _write_facts(facts_file, loaded)
    return loaded


def _keras_load(path: Path, custom_objects, trust_code: bool, config, output, display: str):
    """Rebuild a .h5/.keras model with Keras; returns ``(model, output index)``."""
    _quiet_tf()
    import keras

    try:
        model = keras.saving.load_model(
            str(path), custom_objects=custom_objects, compile=False, safe_mode=not trust_code
        )
    except (TypeError, ValueError) as exc:
        msg = str(exc)
        if "Could not locate" in msg or "Unknown layer" in msg or "Unrecognized" in msg:
            raise _unknown_layer_error(path, exc, config) from None
        raise ModelLoadError(
            f"Keras could not rebuild the model in {path.name}: {msg.splitlines()[0][:400]}"
        ) from None
    except Exception as exc:  # noqa: BLE001 - anything else from deep in Keras, made readable
        raise ModelLoadError(
            f"Keras could not load {path.name} ({type(exc).__name__}: "
            f"{str(exc).splitlines()[0][:400] if str(exc) else ''}). The file may be corrupt "
            "or from an incompatible Keras version; re-save it with model.save('model.keras')."
        ) from None
    return _pick_output(model, output, display)


def _facts_key(digest: str, trust_code: bool, output) -> str:
    from importlib.metadata import version

    from .cache import cache_key

    return cache_key("model-facts", FACTS_VERSION, digest, str(trust_code), repr(output),
                     version("keras"))


def _facts_path(cache, key: str) -> Path:
    """Where a file's facts live: ``models/`` in the prediction cache's folder."""
    from .cache import PredictionCache, default_cache_dir

    if isinstance(cache, PredictionCache):
        folder = cache.directory
    elif isinstance(cache, (str, os.PathLike)):
        folder = Path(cache)
    else:
        folder = default_cache_dir()
    return folder / "models" / f"{key}.json"


def _read_facts(target: Path) -> dict | None:
    """A model file's facts as stored by :func:`_write_facts`, or None."""
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


def _write_facts(target: Path, loaded: LoadedModel) -> None:
    """Remember a loaded file's facts next to the prediction cache (atomically; best effort)."""
    import tempfile
    from dataclasses import asdict

    record = {"info": asdict(loaded.info), "fingerprint": loaded.fingerprint,
              "notes": loaded.notes, "output_index": loaded.output_index}
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
