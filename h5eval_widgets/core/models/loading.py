"""Load Keras models from ``.h5``, ``.keras`` and SavedModel, safely, and report their facts.

TensorFlow and Keras are imported inside the functions that need them, so importing this
module stays cheap.
"""

from __future__ import annotations

import hashlib
import json
import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from .._lazy import _quiet_keras, _quiet_tf
from ..cache import file_digest
from ..errors import ModelLoadError
from .files import CODE_LAYERS, _refuse_code, _unknown_layer_error, _walk, read_config
from .info import ModelInfo, facts_key, facts_path, info_from_keras, read_facts, savedmodel_info, write_facts

__all__ = ["ModelInfo", "LoadedModel", "load_model", "file_digest", "CODE_LAYERS"]


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


class SavedModelEndpoint:
    """A SavedModel's endpoint loaded with ``tf.saved_model.load``, run by TensorFlow whatever the
    Keras backend (Keras 3's ``TFSMLayer`` is for the TensorFlow backend only, keras#19240).

    Called on one batch (a single input), it gives the endpoint's output (the first one of a
    dict of outputs, as a Keras 2 ``serving_default`` signature returns them). The backend seam
    compiles it with ``tf.function`` (``runs_on_tensorflow``).

    Attributes
    ----------
    call_endpoint_fn : tf function
        The endpoint, as ``TFSMLayer.call_endpoint_fn`` (read by
        :func:`~h5eval_widgets.core.models.info.savedmodel_info`).
    call_endpoint : str
    filepath : str
    """

    runs_on_tensorflow = True

    def __init__(self, reloaded, fn, path: Path, endpoint: str):
        self._reloaded_obj = reloaded  # holds the variables the endpoint reads
        self.call_endpoint_fn = fn
        self.call_endpoint = endpoint
        self.filepath = str(path)
        self.name = path.name

    def __call__(self, x):
        out = self.call_endpoint_fn(x)
        if isinstance(out, dict):
            out = next(iter(out.values()))
        return out

    def __repr__(self) -> str:
        return f"SavedModelEndpoint({self.filepath!r}, {self.call_endpoint!r})"


def _endpoint(reloaded, endpoint: str):
    """The endpoint as ``TFSMLayer`` finds it: an attribute, else a signature."""
    if hasattr(reloaded, endpoint):
        return getattr(reloaded, endpoint)
    signatures = getattr(reloaded, "signatures", None) or {}
    if endpoint in signatures:
        return signatures[endpoint]
    raise ValueError(f"no endpoint {endpoint!r} (signatures: {list(signatures)})")


def _load_savedmodel(path: Path):
    """``(callable, endpoint)``: a ``TFSMLayer`` on the TensorFlow backend, else a
    :class:`SavedModelEndpoint` (TensorFlow runs it either way)."""
    _quiet_tf()
    from ..inference.backend import backend_name

    on_tf = backend_name() == "tensorflow"
    errors = []
    reloaded = None
    for endpoint in ("serve", "serving_default"):
        try:
            if on_tf:
                import keras

                return keras.layers.TFSMLayer(str(path), call_endpoint=endpoint), endpoint
            import tensorflow as tf

            if reloaded is None:
                reloaded = tf.saved_model.load(str(path))
            return SavedModelEndpoint(reloaded, _endpoint(reloaded, endpoint), path, endpoint), endpoint
        except Exception as exc:  # noqa: BLE001 - try the next endpoint
            errors.append(f"{endpoint}: {str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__}")
    raise ModelLoadError(
        f"{path} is a SavedModel directory but neither the 'serve' nor the 'serving_default' "
        f"endpoint could be loaded ({'; '.join(errors)}). Export it with model.export(path)."
    )


def _refuse_tf_only_layers(config: Any, display: str) -> None:
    """Refuse, before Keras reads the file, a model whose saved config has a layer that only
    TensorFlow runs when the Keras backend is another (the same error as
    :func:`~h5eval_widgets.core.inference.backend.check_runs_here` gives for a built model): such
    a file may not even load on that backend, and facts cached by a TensorFlow run must not let
    it through."""
    from ..inference.backend import TF_ONLY_LAYERS, refuse_tf_only

    named = []
    for c in _walk(config):
        cls = c.get("class_name")
        if cls in TF_ONLY_LAYERS:
            inner = c.get("config")
            named.append((str(inner.get("name", cls)) if isinstance(inner, dict) else cls, cls))
    refuse_tf_only(named, display)


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
        _quiet_keras()
        import keras

        if not isinstance(source, keras.Model):
            raise ModelLoadError(f"Expected a model path or a keras.Model; got {type(source).__name__}.")
        from ..inference.backend import check_runs_here

        check_runs_here(source, name or source.name)
        model, out_idx = _pick_output(source, output, name or source.name)
        return LoadedModel(
            _model=model,
            info=info_from_keras(model, "memory", None),
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
        notes = [f"Loaded SavedModel endpoint '{endpoint}'; output activation is inferred from the outputs."]
        if isinstance(layer, SavedModelEndpoint):
            from ..inference.backend import backend_name

            notes.append(f"SavedModel run by TensorFlow (the Keras backend here is {backend_name()}).")
        return LoadedModel(
            _model=layer,
            info=savedmodel_info(layer, endpoint),
            name=display,
            fingerprint=file_digest(path),
            path=path,
            notes=notes,
        )
    if path.stat().st_size == 0:
        raise ModelLoadError(f"{path} is empty (0 bytes); the copy or download did not finish.")

    config, version, fmt = read_config(path)
    _refuse_code(config, path, trust_code)
    _refuse_tf_only_layers(config, display)
    digest = file_digest(path)
    facts_file = None
    if cache is not False and cache is not None and custom_objects is None:
        facts_file = facts_path(cache, facts_key(digest, trust_code, output))
        known = read_facts(facts_file)
        if known is not None:  # seen before: Keras waits until the model is actually run
            return LoadedModel(
                _model=None,
                info=known["info"],
                name=display,
                fingerprint=known["fingerprint"],
                path=path,
                notes=known["notes"],
                output_index=known["output_index"],
                loader=lambda: _keras_load(path, None, trust_code, config, output, display)[0],
            )
    model, out_idx = _keras_load(path, custom_objects, trust_code, config, output, display)
    notes = []
    if version and str(version).startswith("2."):
        notes.append(f"Written by Keras {version}; loaded with Keras 3 (compile=False).")
    loaded = LoadedModel(
        _model=model,
        info=info_from_keras(model, fmt, version),
        name=display,
        fingerprint=digest + (f":out{out_idx}" if out_idx is not None else ""),
        path=path,
        notes=notes,
        output_index=out_idx,
    )
    if facts_file is not None:
        write_facts(facts_file, loaded)
    return loaded


def _keras_load(path: Path, custom_objects, trust_code: bool, config, output, display: str):
    """Rebuild a .h5/.keras model with Keras; returns ``(model, output index)``."""
    if path.suffix.lower() in (".h5", ".hdf5"):
        _quiet_tf()  # Keras's legacy HDF5 reader imports TensorFlow on every backend
    else:
        _quiet_keras()
    import keras

    try:
        with warnings.catch_warnings():
            # Keras 3 rebuilds a Keras 2 file's first layer with the input_shape its config
            # holds, then warns the reader not to pass input_shape: advice on writing model code,
            # given on every load of such a file, that the user of the file cannot follow.
            warnings.filterwarnings("ignore", message="Do not pass an `input_shape`", category=UserWarning)
            model = keras.saving.load_model(
                str(path), custom_objects=custom_objects, compile=False, safe_mode=not trust_code
            )
    except (TypeError, ValueError) as exc:
        msg = str(exc)
        if "Could not locate" in msg or "Unknown layer" in msg or "Unrecognized" in msg:
            raise _unknown_layer_error(path, exc, config) from None
        raise ModelLoadError(f"Keras could not rebuild the model in {path.name}: {msg.splitlines()[0][:400]}") from None
    except Exception as exc:  # noqa: BLE001 - anything else from deep in Keras, made readable
        raise ModelLoadError(
            f"Keras could not load {path.name} ({type(exc).__name__}: "
            f"{str(exc).splitlines()[0][:400] if str(exc) else ''}). The file may be corrupt "
            "or from an incompatible Keras version; re-save it with model.save('model.keras')."
        ) from None
    from ..inference.backend import check_runs_here

    check_runs_here(model, display)  # a layer this backend cannot run: one clear error, now
    return _pick_output(model, output, display)
