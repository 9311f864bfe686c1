"""What runs on a Dask cluster's workers: the model shipped as bytes and loaded once per worker
process with the safe loader, and one partition predicted as one machine would.

The client's Keras backend travels with the model (:attr:`ShippedModel.environment`): a worker
sets it before anything there imports Keras, so a worker started without ``KERAS_BACKEND`` runs
the client's backend, and one already running Keras on another backend says so (RuntimeError).

Nothing here imports Dask or Keras at module level; :func:`predict_partition` is the task, and
:func:`worker_stats` (``client.run(worker_stats)``) counts what each worker did.
"""

from __future__ import annotations

import ctypes
import hashlib
import io
import os
import tarfile
import tempfile
import threading
from collections import Counter, OrderedDict
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .cluster_inputs import Part, open_part
from ..inference import backend
from ..models.files import _refuse_code, read_config

__all__ = [
    "ShippedModel",
    "package_model",
    "predict_partition",
    "adopt_client_environment",
    "worker_stats",
    "KEEP_MODELS",
]

#: Models kept loaded per worker process (least recently used dropped first).
KEEP_MODELS = 2

# ---------------------------------------------------------------------------- on the workers
_LOADED: "OrderedDict[tuple, Any]" = OrderedDict()
_STATS: Counter = Counter()
_LOCK = threading.Lock()  # a worker with several threads loads a model once


def worker_stats() -> dict[str, int]:
    """This process's counts (``models_loaded``, ``partitions``); ``client.run(worker_stats)``
    gives every worker's."""
    return dict(_STATS)


@dataclass(frozen=True)
class ShippedModel:
    """What each task knows of the model besides its scattered bytes."""

    digest: str
    file_name: str  # 'model.h5', 'model.keras', or a SavedModel directory's name
    savedmodel: bool
    trust_code: bool
    output: int | str | None
    name: str
    #: What the worker sets before importing Keras (the client's backend), as ``(name, value)``
    #: pairs: :func:`~h5eval_widgets.core.inference.backend.worker_environment` on the client.
    environment: tuple[tuple[str, str], ...] = ()


def adopt_client_environment(environment) -> None:
    """On a worker: run Keras on the client's backend (``environment`` as shipped), before
    anything here imports Keras. Raises RuntimeError when this worker already runs Keras on
    another backend."""
    backend.adopt_environment(dict(environment))


def _model_on_worker(ship: ShippedModel, payload: bytes):
    """The model loaded in this worker process, from its bytes, once per (model, options)."""
    key = (ship.digest, ship.trust_code, repr(ship.output))
    with _LOCK:
        if key in _LOADED:
            _LOADED.move_to_end(key)
            return _LOADED[key]
        loaded = _load_shipped(ship, payload)
        _LOADED[key] = loaded
        while len(_LOADED) > KEEP_MODELS:
            _LOADED.popitem(last=False)
        _STATS["models_loaded"] += 1
        return loaded


def _load_shipped(ship: ShippedModel, payload: bytes):
    """Write the bytes to the worker's disk and load them with the safe loader."""
    from ..models.loading import load_model

    try:
        from distributed import get_worker

        base = get_worker().local_directory
    except (ImportError, ValueError):
        base = None
    folder = Path(tempfile.mkdtemp(prefix="h5eval-model-", dir=base))
    path = folder / ship.file_name
    if ship.savedmodel:
        with tarfile.open(fileobj=io.BytesIO(payload)) as tar:
            tar.extractall(folder, filter="data")
    else:
        path.write_bytes(payload)
    loaded = load_model(path, trust_code=ship.trust_code, output=ship.output, name=ship.name, cache=False)
    if not ship.savedmodel:
        _ = loaded.model  # read now, so the temporary copy can go
        path.unlink(missing_ok=True)
    return loaded


@contextmanager
def _heap_for_inference():
    """Dask starts workers with ``MALLOC_TRIM_THRESHOLD_=65536``, which also turns off glibc's
    dynamic mmap threshold: every buffer over 128 kB (image batches, activations) is then mapped
    and unmapped afresh. Measured on a 3,000-image partition: 15,300 page faults against 300-1,100
    in-process, and about 15% more CPU time. While a partition runs, large buffers come from the
    heap and stay there; afterwards the worker's settings are put back and the heap is trimmed,
    as Dask intends (with several threads per worker, the first partition to finish puts them
    back; only speed is affected). Nothing changes without glibc or without that variable."""
    trim = os.environ.get("MALLOC_TRIM_THRESHOLD_")
    libc = None
    if trim is not None and trim.isdigit():
        try:
            libc = ctypes.CDLL("libc.so.6")
        except OSError:
            libc = None
    if libc is None:
        yield
        return
    libc.mallopt(-1, 1 << 30)  # M_TRIM_THRESHOLD
    libc.mallopt(-3, 32 << 20)  # M_MMAP_THRESHOLD (its largest value)
    try:
        yield
    finally:
        libc.mallopt(-3, 128 << 10)  # glibc's default
        libc.mallopt(-1, int(trim))
        libc.malloc_trim(0)


def predict_partition(
    ship: ShippedModel, payload: bytes, part: Part, block: Any = None, batch_size: int | None = None
) -> dict:
    """Predict one partition on a worker: outputs, labels read there (or None), notes."""
    adopt_client_environment(ship.environment)  # before the model or the data import Keras
    from ..inference.feed import prepare
    from ..inference.predict import run_feed

    loaded = _model_on_worker(ship, payload)
    with _heap_for_inference(), open_part(part, block) as data:
        feed = prepare(loaded.info, data)
        outputs, _ = run_feed(loaded, feed, batch_size=batch_size)
        resized = getattr(feed.source, "resized", None)
    _STATS["partitions"] += 1
    return {
        "outputs": outputs,
        "y": data.y,
        "notes": list(feed.notes),
        "resized": resized,
        "info": loaded.info,
        "model_notes": list(loaded.notes),
        "fingerprint": loaded.fingerprint,
        "output_index": loaded.output_index,
    }


def package_model(model, trust_code: bool, output) -> tuple[ShippedModel, bytes, str]:
    """On the client: the model's bytes, what tasks need to know of it, and its cache identity
    (a file is checked for embedded code first, as the loader does)."""
    from ..models.loading import LoadedModel

    env = tuple(sorted(backend.worker_environment().items()))

    if isinstance(model, LoadedModel):
        output = model.output_index if output is None else output
        model = model.path if model.path is not None else model.model
    if isinstance(model, (str, os.PathLike)):
        path = Path(model).expanduser()
        if path.is_dir():
            from ..cache import file_digest

            buf = io.BytesIO()
            with tarfile.open(fileobj=buf, mode="w") as tar:
                tar.add(path, arcname=path.name)
            return (
                ShippedModel(file_digest(path), path.name, True, trust_code, output, path.name, env),
                buf.getvalue(),
                file_digest(path),
            )
        if not path.is_file():
            from ..models.loading import load_model

            load_model(path)  # raises the loader's own message (missing, empty, ...)
        config, _, _ = read_config(path)
        _refuse_code(config, path, trust_code)  # at once, before any byte is sent
        payload = path.read_bytes()
        digest = hashlib.sha256(payload).hexdigest()
        return (
            ShippedModel(digest, f"model{path.suffix.lower()}", False, trust_code, output, path.name, env),
            payload,
            digest,
        )
    from ..models.loading import _digest_keras_model

    with tempfile.TemporaryDirectory() as tmp:  # an in-memory model travels as a .keras archive
        target = Path(tmp) / f"{model.name}.keras"
        model.save(target)
        payload = target.read_bytes()
    digest = _digest_keras_model(model)
    ship = ShippedModel(digest, f"{model.name}.keras", False, trust_code, output, model.name, env)
    return ship, payload, digest
