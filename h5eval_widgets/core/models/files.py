"""A saved model's file read without running Keras: its config, the check for embedded code,
its digest.

Nothing here imports TensorFlow or Keras (except to name unknown layers in an error), so the
check for code runs before Keras ever reads the file.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any, Iterator

from ..cache import file_digest
from ..errors import ModelLoadError, UnsafeModelError, WeightsOnlyError

__all__ = ["CODE_LAYERS", "file_digest", "read_config"]

#: Layer classes whose saved config carries Python code that deserializing would run.
CODE_LAYERS = frozenset({"Lambda", "TFOpLambda", "SlicingOpLambda"})

_HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"


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
        raise ModelLoadError(f"{path} is a zip file without config.json, so not a Keras model archive.") from None
    except (json.JSONDecodeError, UnicodeDecodeError, zipfile.BadZipFile) as exc:
        raise ModelLoadError(f"{path}: the model's config.json is broken ({exc}); save the model again.") from None
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


def read_config(path: Path) -> tuple[dict, str | None, str]:
    """``(config, keras version, format)`` of a ``.h5``/``.hdf5`` or ``.keras`` file."""
    suffix = path.suffix.lower()
    if suffix in (".h5", ".hdf5"):
        return (*_read_h5_config(path), "h5")
    if suffix == ".keras":
        return (*_read_keras_config(path), "keras")
    raise ModelLoadError(
        f"{path.name}: unknown model format {suffix or '(no extension)'!r}; expected .h5, "
        ".hdf5, .keras or a SavedModel directory."
    )
