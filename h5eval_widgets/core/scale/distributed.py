"""Inference on a Dask cluster: partitions predicted on the workers, outputs back in order.

:func:`predict_on_cluster` is what ``Evaluation.from_model(model, data, client=...)`` runs (also
for a ``dask.array``/``dask.dataframe`` as ``data``, on the current client). The model file's
bytes are scattered once to every worker (``client.scatter(..., broadcast=True)``), written to
the worker's own disk and loaded there once per worker process with the same safe loader as on
one machine (:func:`~.models.load_model`: a ``Lambda`` layer is refused without ``trust_code``).
Each task reads its partition on the worker (:mod:`.cluster_inputs`), matches it to the model
with :func:`~h5eval_widgets.core.inference.feed.prepare` and runs it with :func:`~h5eval_widgets.core.inference.predict.run_feed`, in batches sized as on
one machine (:mod:`.cluster_worker`). Tasks are pure (the same partition gives the same outputs), so when a worker dies
Dask runs its partitions again elsewhere and the result does not change. Outputs go into the
same :class:`~h5eval_widgets.core.cache.PredictionCache` as in-process ones, keyed by the model's bytes and the
data's identity (files: name, size and ETag or modification time; dask collections: Dask's
deterministic token of the collection).
"""

from __future__ import annotations

import math
import os
import uuid
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import numpy as np

from ..cache import PredictionCache, cache_key
from .cluster_inputs import FileListing, Part, file_parts, list_files
from .cluster_worker import ShippedModel, adopt_client_environment, package_model, predict_partition, worker_stats
from ..errors import ClusterError, LabelError
from ..inference.backend import note, run_key
from ..models.info import ModelInfo, facts_key, facts_path, read_facts, write_facts
from ..data.preprocessing import _code_id

__all__ = [
    "predict_on_cluster",
    "ClusterRun",
    "is_dask_collection",
    "worker_stats",
    "predict_partition",
    "ShippedModel",
    "Part",
    "CLUSTER_OPTIONS",
    "IMAGES_PER_PARTITION",
]

#: Dataset options understood on a cluster (others need the data read by one process).
CLUSTER_OPTIONS = (
    "label_column",
    "feature_columns",
    "image_size",
    "color_mode",
    "preprocess",
    "rescale",
    "storage_options",
    "files_per_partition",
    "name",
)
#: Images per partition of an image folder at most, by default: 100 batches of ``FILE_ROWS``
#: (24), so a partition's batches are those one process would run, and a lost worker costs a
#: few thousand images at most.
IMAGES_PER_PARTITION = 2400
#: Partitions per worker at least (when there are enough images): each partition builds its
#: own tf.data pipeline (30-60 ms here), so more would cost a small folder more than Dask's
#: load balancing gains.
MIN_PARTITIONS_PER_WORKER = 2


# ---------------------------------------------------------------------------- on the client
def is_dask_collection(obj) -> bool:
    """A dask array or dataframe (checked without importing Dask)."""
    return type(obj).__module__.split(".")[0] in ("dask", "dask_expr") and hasattr(obj, "__dask_graph__")


@dataclass
class ClusterRun:
    """What the cluster gave: outputs in order, labels, and what the evaluation needs."""

    outputs: np.ndarray
    y: np.ndarray
    class_names: tuple[str, ...] | None
    info: ModelInfo
    notes: list[str]
    dataset_name: str
    model_name: str
    from_cache: bool = False


def _client(client):
    try:
        from distributed import get_client
    except ImportError:
        raise ClusterError("Inference on a cluster needs Dask: pip install 'h5eval-widgets[dask]'.") from None
    if client is not None:
        return client
    try:
        return get_client()
    except ValueError:
        raise ClusterError(
            "The data is a Dask collection but there is no Dask client: start one first "
            "(from dask.distributed import Client; client = Client() for a LocalCluster, or "
            "Client('tcp://scheduler:8786')) or pass client=..."
        ) from None


def _options_id(options: dict) -> str:
    pre = options.get("preprocess")
    pre_id = _code_id(pre) if callable(pre) else repr(pre)
    rest = {k: options.get(k) for k in ("label_column", "feature_columns", "image_size", "color_mode")}
    return f"{pre_id}|{sorted((k, repr(v)) for k, v in rest.items())}"


def _n_workers(client) -> int:
    return max(1, len(client.scheduler_info().get("workers", {})))


def _images_per_partition(n: int, client) -> int:
    """At most ``IMAGES_PER_PARTITION``, and ``MIN_PARTITIONS_PER_WORKER`` per worker when there
    are enough images, in whole batches of ``FILE_ROWS``."""
    from ..inference.batching import FILE_ROWS

    per = math.ceil(math.ceil(n / (MIN_PARTITIONS_PER_WORKER * _n_workers(client))) / FILE_ROWS) * FILE_ROWS
    return int(min(IMAGES_PER_PARTITION, max(FILE_ROWS, per)))


def _plan(X, y, client, options: dict) -> SimpleNamespace:
    """Partitions, the data's cache identity, and the labels when the client knows them."""
    files_per = options.pop("files_per_partition", None)
    name = options.pop("name", None)
    if options.get("preprocess") is None and options.get("rescale") is not None:
        options["preprocess"] = options["rescale"]
    options.pop("rescale", None)
    labels = None if y is None else (y if is_dask_collection(y) else np.asarray(y))
    if isinstance(X, (str, os.PathLike)):
        listing: FileListing = list_files(X, options.get("storage_options"))
        if listing.kind == "image" and options.get("preprocess") is None:
            options["preprocess"] = "auto"
        if files_per is None and listing.kind == "image":
            files_per = _images_per_partition(len(listing.files), client)
        parts = file_parts(listing, files_per or 1, options)
        if listing.kind == "image" and y is None:
            labels = listing.labels
        elif y is not None:
            parts = [Part(p.kind, p.index, p.name, p.files, True, p.local, p.options) for p in parts]
        return SimpleNamespace(
            parts=parts,
            blocks=None,
            key=listing.key,
            labels=labels,
            class_names=listing.class_names,
            name=name or listing.name,
            what=f"{len(listing.files)} {listing.kind} files",
        )
    import dask.array as da
    from dask.base import tokenize

    if not is_dask_collection(X):  # an in-memory array: cut into a few partitions per worker
        from ..data.sources import digest_rows

        X = np.asarray(X)
        rows = max(1, math.ceil(len(X) / (4 * _n_workers(client))))
        key = digest_rows(X)
        X = da.from_array(X, chunks=(rows, *X.shape[1:]))
    else:
        key = tokenize(X)
    frame = not hasattr(X, "chunks")
    if not frame and X.ndim > 1 and any(len(c) > 1 for c in X.chunks[1:]):
        X = X.rechunk({i: -1 for i in range(1, X.ndim)})
    blocks = list(X.to_delayed()) if frame else list(X.to_delayed().ravel())
    kind = "frame" if frame else "array"
    if is_dask_collection(labels):
        labels = client.compute(labels).result()
    if labels is None and not frame:
        raise LabelError("No labels were given: pass y=..., or a dask dataframe with a label column.")
    parts = [
        Part(kind, i, f"{name or kind}[{i}]", labels_given=labels is not None, options=options)
        for i in range(len(blocks))
    ]
    return SimpleNamespace(
        parts=parts,
        blocks=blocks,
        key=key,
        labels=labels,
        class_names=None,
        name=name or f"dask {'dataframe' if frame else 'array'}",
        what=f"{len(blocks)} {kind} partitions",
    )


def _labels_store(store, key: str, labels: np.ndarray | None) -> None:
    if labels is not None and np.asarray(labels).dtype != object:
        store.put(cache_key(key, "labels"), np.asarray(labels))


def predict_on_cluster(
    model,
    X,
    y=None,
    *,
    client=None,
    batch_size: int | None = None,
    cache: bool | str | os.PathLike | PredictionCache = True,
    progress: bool = True,
    trust_code: bool = False,
    output: int | str | None = None,
    **options,
) -> ClusterRun:
    """Predict on the workers of a Dask cluster, partition by partition, outputs back in order.

    Parameters
    ----------
    model : str, path, keras.Model or LoadedModel
    X : dask array, dask dataframe, array, or str/path
        A path or fsspec URL of a folder or glob of Parquet/CSV files (one partition per file)
        or of an image folder (``files_per_partition`` images per partition; by default at
        most 2,400, and few enough for 2 partitions per worker);
        the files are listed on the client and read on the workers.
    y : array-like, default=None
        Labels (image folders: from the sub-folders; tables: ``label_column``).
    client : distributed.Client, default=None
        None: the current client (``distributed.get_client()``).
    batch_size, cache, progress, trust_code, output
        As in :meth:`~h5eval_widgets.core.results.evaluation.Evaluation.from_model`.
    **options
        ``label_column``, ``feature_columns``, ``image_size``, ``color_mode``, ``preprocess``
        (``rescale``), ``storage_options`` (for fsspec), ``files_per_partition``, ``name``.

    Returns
    -------
    ClusterRun

    Raises
    ------
    ClusterError
        No client, Dask missing, or a partition lost with every worker that ran it.
    UnsafeModelError
        The model carries code and ``trust_code`` is False (checked on the client and again by
        the loader on every worker).
    """
    unknown = sorted(set(options) - set(CLUSTER_OPTIONS))
    if unknown:
        raise TypeError(
            f"{unknown} cannot be used with a Dask cluster; the options there are {', '.join(CLUSTER_OPTIONS)}."
        )
    client = _client(client)
    ship, payload, model_key = package_model(model, trust_code, output)
    plan = _plan(X, y, client, dict(options))
    key = cache_key("dask", run_key(model_key), repr(output), plan.key, _options_id(plan.parts[0].options))
    store = None
    fkey = facts_path(cache, facts_key(model_key, trust_code, output))
    if cache is not False and cache is not None:
        store = cache if isinstance(cache, PredictionCache) else PredictionCache(None if cache is True else cache)
        hit, facts = store.get(key), read_facts(fkey)
        labels = plan.labels if plan.labels is not None else store.get(cache_key(key, "labels"))
        if hit is not None and facts is not None and labels is not None:
            return ClusterRun(
                hit,
                np.asarray(labels),
                plan.class_names,
                facts["info"],
                [note()] + facts["notes"] + ["Outputs read from the prediction cache (no inference)."],
                plan.name,
                ship.name,
                from_cache=True,
            )
    results = _run(client, ship, payload, plan, batch_size, progress)
    first = results[0]
    outputs = np.concatenate([r["outputs"] for r in results]) if len(results) > 1 else first["outputs"]
    labels = plan.labels
    if labels is None:
        if any(r["y"] is None for r in results):
            raise LabelError(f"{plan.name}: no label column was found; name it with label_column=... or pass y=...")
        labels = np.concatenate([r["y"] for r in results])
    labels = np.asarray(labels)
    if len(labels) != len(outputs):
        raise LabelError(
            f"{plan.name}: the inputs have {len(outputs)} samples but the labels have "
            f"{len(labels)}; they must be the same samples in the same order."
        )
    n_workers = len(client.scheduler_info().get("workers", {}))
    notes = [note()] + list(first["model_notes"]) + list(first["notes"])
    notes.append(
        f"Predicted on a Dask cluster ({plan.what}, {len(results)} tasks, {n_workers} "
        f"worker(s) at {client.scheduler.address})."
    )
    resized = [r["resized"] for r in results if r["resized"] is not None]
    if resized:
        notes.append(f"{sum(resized)} of {len(outputs)} images had another size and were resized.")
    if store is not None:
        try:
            store.put(key, outputs)
            if plan.labels is None:
                _labels_store(store, key, labels)
            write_facts(
                fkey,
                SimpleNamespace(
                    info=first["info"],
                    fingerprint=first["fingerprint"],
                    notes=first["model_notes"],
                    output_index=first["output_index"],
                ),
            )
        except OSError as exc:  # a read-only or full disk must not stop the evaluation
            notes.append(f"Prediction cache not written ({exc}).")
    return ClusterRun(outputs, labels, plan.class_names, first["info"], notes, plan.name, ship.name)


def _run(client, ship: ShippedModel, payload: bytes, plan, batch_size, progress: bool) -> list[dict]:
    """Submit one task per partition; gather results in order, with a bar per partition."""
    from distributed import KilledWorker, as_completed
    from tqdm.auto import tqdm

    run = uuid.uuid4().hex[:8]
    # every worker takes the client's Keras backend now, before it unpickles any task: a task's
    # arguments (a Keras preprocessing function...) may import Keras; each task sets it again
    # (a worker that joins later). A worker already running Keras on another backend raises
    # its RuntimeError here, naming both backends.
    client.run(adopt_client_environment, ship.environment)
    # a key of its own per run (hash=False): with content-hashed keys, a run started while the
    # previous run's release of the same bytes was under way lost them ("lost dependencies");
    # the workers keep the loaded model by its digest, so they do not load it again
    model_future = client.scatter(payload, broadcast=True, hash=False)
    blocks = client.compute(plan.blocks) if plan.blocks is not None else [None] * len(plan.parts)
    futures = [
        client.submit(
            predict_partition,
            ship,
            model_future,
            part,
            block,
            batch_size,
            key=f"h5eval-predict-{ship.digest[:10]}-{run}-{part.index}",
            pure=False,
        )
        for part, block in zip(plan.parts, blocks)
    ]
    del blocks  # the tasks hold them; lost ones are recomputed from the graph
    index = {f.key: i for i, f in enumerate(futures)}
    results: list[Any] = [None] * len(futures)
    try:
        with tqdm(
            total=len(futures),
            desc=f"Predicting {plan.name} on the cluster",
            unit="partition",
            disable=not progress,
            leave=False,
        ) as bar:
            for fut in as_completed(futures):
                try:
                    results[index[fut.key]] = fut.result()
                except KilledWorker as exc:
                    raise ClusterError(
                        f"Partition {index[fut.key]} of {plan.name} was lost with every worker that "
                        f"ran it ({exc}); the workers may need more memory (a larger memory_limit) "
                        "or the partitions fewer rows."
                    ) from None
                fut.release()
                bar.update(1)
    finally:
        client.cancel([f for f in futures if not f.done()])
        del model_future
    return results
