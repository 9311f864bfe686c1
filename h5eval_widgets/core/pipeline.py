"""From files to results: find the model and data files in a folder, load the model, read the
data, predict once (in this process or on a Dask cluster), and hand the outputs to the results'
constructor.

The results classes hold no loading code: :meth:`Evaluation.from_model
<h5eval_widgets.core.Evaluation.from_model>` calls :func:`evaluate_model` with its own
``from_predictions`` as ``build``, so nothing here imports the results (they import this).
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from .data.audio import AUDIO_SUFFIXES
from .data.datasets import IMAGE_SUFFIXES, Dataset, load_dataset
from .errors import LabelError
from .insight.explain import Explainer
from .models.loading import LoadedModel, load_model
from .inference.predict import predict_with_embedding
from .data.sources import NamedInputs

__all__ = ["evaluate_model", "scan_folder", "MODEL_SUFFIXES", "DATA_SUFFIXES"]

MODEL_SUFFIXES = (".h5", ".hdf5", ".keras")
DATA_SUFFIXES = (".npz", ".npy", ".csv", ".tsv", ".parquet")


def evaluate_model(
    model,
    X,
    y=None,
    *,
    classes: Sequence[str] | None = None,
    task: str | None = None,
    threshold: float = 0.5,
    sample_weight=None,
    batch_size: int | None = None,
    cache: bool | str = True,
    progress: bool = True,
    trust_code: bool = False,
    output: int | str | None = None,
    dataset_name: str | None = None,
    embeddings: bool | str = True,
    client=None,
    build: Callable[..., Any],
    **dataset_options,
):
    """Load (or take) a model and a dataset, predict once through the cache, and evaluate.

    Parameters are those of :meth:`Evaluation.from_model
    <h5eval_widgets.core.Evaluation.from_model>`, and ``build``: the function that makes the
    result from labels and outputs (``Evaluation.from_predictions``).

    With ``client=`` (a ``dask.distributed.Client``), or a dask array or dataframe as ``X``,
    inference runs on the cluster's workers (:mod:`h5eval_widgets.core.scale.distributed`); what
    follows is the same.

    Returns
    -------
    Evaluation
    """
    from .scale.distributed import is_dask_collection

    if client is not None or is_dask_collection(X):
        from .scale.distributed import predict_on_cluster

        run = predict_on_cluster(
            model,
            X,
            y,
            client=client,
            batch_size=batch_size,
            cache=cache,
            progress=progress,
            trust_code=trust_code,
            output=output,
            **dataset_options,
        )
        return build(
            run.y,
            run.outputs,
            classes=classes or run.class_names or run.info.class_names,
            task=task or run.info.task_hint(run.y),
            threshold=threshold,
            sample_weight=sample_weight,
            notes=run.notes,
            activation=run.info.output_activation,
            model_info=run.info,
            model_name=run.model_name,
            dataset_name=dataset_name or run.dataset_name,
        )
    loaded = (
        model
        if isinstance(model, LoadedModel)
        else load_model(model, trust_code=trust_code, output=output, cache=cache)
    )
    seg = {k: dataset_options.pop(k) for k in ("masks", "palette", "ignore_index") if k in dataset_options}
    if seg or len(tuple(loaded.info.output_shape)) == 4:  # per-pixel outputs: segmentation
        return _evaluate_segmentation(
            loaded,
            X,
            y,
            seg,
            dataset_options,
            build=build,
            classes=classes,
            threshold=threshold,
            batch_size=batch_size,
            progress=progress,
            dataset_name=dataset_name,
        )
    if isinstance(X, Dataset):
        if dataset_options:
            raise TypeError(
                f"{sorted(dataset_options)} apply when reading a dataset; pass them to "
                "load_dataset(...) for a Dataset that is already loaded."
            )
        data = X
    else:
        data = load_dataset(X, y, class_names=classes, **dataset_options)
    if data.y is None and not data.streamed:
        raise LabelError("No labels were given: pass y=..., or a dataset file that holds labels.")
    raw, embedding, pred_notes = predict_with_embedding(
        loaded, data, embeddings=embeddings, batch_size=batch_size, cache=cache, progress=progress
    )
    info = loaded.info
    ev = build(
        data.y,
        raw,
        classes=classes or data.class_names or info.class_names,
        task=task or info.task_hint(data.y),
        threshold=threshold,
        sample_weight=sample_weight,
        notes=tuple(loaded.notes) + tuple(pred_notes) + tuple(data.notes),
        activation=info.output_activation,
        model_info=info,
        model_name=loaded.name,
        dataset_name=dataset_name or data.name,
        metadata=_metadata(data, info),
    )
    if embedding is not None:
        ev = dataclasses.replace(ev, embeddings=embedding)
    if ev.explainable and not data.streamed:
        ev.attach_explainer(Explainer(loaded, data))
    return ev


def _evaluate_segmentation(
    loaded: LoadedModel,
    X,
    y,
    seg: dict,
    options: dict,
    *,
    build,
    classes,
    threshold: float,
    batch_size,
    progress: bool,
    dataset_name,
):
    """A segmentation model on images and masks (arrays, or two folders of files): one pass
    leaving per-image pixel counts (:mod:`h5eval_widgets.core.inference.segment`)."""
    from .data.masks import open_segmentation
    from .inference.segment import count_pixels

    masks = seg.get("masks", y)
    if isinstance(X, Dataset) and masks is None and isinstance(X.X, np.ndarray):
        X, masks = X.X, X.y  # arrays (X, masks) already read by load_dataset (the dashboard's)
    if masks is None:
        raise LabelError(
            f"{loaded.name} gives per-pixel outputs {tuple(loaded.info.output_shape)}: pass the "
            "masks, as y=... (n, H, W) for arrays or masks='folder/' for a folder of images."
        )
    preprocess = options.pop("preprocess", "auto")
    image_size = options.pop("image_size", None)
    if options:
        raise TypeError(
            f"{sorted(options)} do not apply to segmentation; it takes masks=, "
            "palette=, ignore_index=, classes=, preprocess= and image_size=."
        )
    data = open_segmentation(
        X, masks, palette=seg.get("palette"), ignore_index=seg.get("ignore_index", 255), name=dataset_name
    )
    counts = count_pixels(
        loaded,
        data,
        threshold=threshold,
        preprocess=preprocess,
        image_size=image_size,
        batch_size=batch_size,
        progress=progress,
    )
    return build(
        None,
        counts,
        classes=classes,
        task="segmentation",
        threshold=threshold,
        notes=tuple(loaded.notes),
        model_info=loaded.info,
        model_name=loaded.name,
        dataset_name=dataset_name or data.name,
    )


def _metadata(data: Dataset, info):
    """The dataset's metadata, with the table columns a multi-input model did not take.

    A model with several named inputs gets the columns named like its inputs and nothing else
    (see :mod:`h5eval_widgets.core.inference.feed`), so the other columns of the table are not model inputs: they join
    the metadata. A single-input model gets every feature column, so nothing is added.
    """
    meta = data.metadata
    names = tuple(getattr(info, "input_names", ()) or ())
    X = data.X
    if len(names) < 2 or data.positional:
        return meta
    if isinstance(X, NamedInputs):
        columns = {c: X.columns[c] for c in X.columns if c not in names and np.ndim(X.columns[c]) == 1}
    elif isinstance(X, np.ndarray) and X.ndim == 2 and data.feature_names:
        columns = {c: X[:, j] for j, c in enumerate(data.feature_names) if c not in names}
    else:
        return meta
    if not columns:
        return meta
    import pandas as pd

    extra = pd.DataFrame({c: np.asarray(v) for c, v in columns.items()})
    return extra if meta is None else pd.concat([meta, extra.drop(columns=list(meta.columns), errors="ignore")], axis=1)


def scan_folder(folder: str | os.PathLike) -> tuple[dict[str, Path], dict[str, Path]]:
    """Model files (.h5/.keras, SavedModel folders) and data files (or image or audio folders) in
    a folder.

    Parameters
    ----------
    folder : path-like

    Returns
    -------
    models, datasets : dict of str to Path
        By the name shown in the dropdowns (file stem, or folder name), in file name order.
    """
    models, datasets = {}, {}
    for p in sorted(Path(folder).iterdir()):
        if p.is_dir() and (p / "saved_model.pb").exists():
            models[p.name] = p
        elif p.is_dir() and any(
            f.suffix.lower() in IMAGE_SUFFIXES + AUDIO_SUFFIXES for d in p.iterdir() if d.is_dir() for f in d.iterdir()
        ):
            datasets[p.name] = p
        elif p.suffix.lower() in MODEL_SUFFIXES and _holds_model(p):
            models[p.stem] = p
        elif p.suffix.lower() in DATA_SUFFIXES + (".h5", ".hdf5"):
            datasets[p.stem] = p
    return models, datasets


def _holds_model(path: Path) -> bool:
    """True for .keras archives and for .h5 files with a model config (not data files)."""
    if path.suffix.lower() == ".keras":
        return True
    try:
        import h5py

        with h5py.File(path, "r") as f:
            return "model_config" in f.attrs or "layer_names" in f.attrs
    except OSError:
        return True  # let loading report what is wrong with it


# ---------------------------------------------------------------------------- object detection
def read_boxes(ground_truth, detections, *, images=None, classes=None, box_format=None, detection_format=None):
    """Read and check true boxes and a detector's boxes (see
    :func:`~h5eval_widgets.core.data.boxes.read_ground_truth` and
    :func:`~h5eval_widgets.core.data.boxes.read_detections`); ``(GroundTruth, detections,
    notes)``, the notes being what both readers noticed."""
    from .data.boxes import read_detections_noted, read_ground_truth

    gt = read_ground_truth(ground_truth, images=images, classes=classes, box_format=box_format)
    dt, notes = read_detections_noted(detections, gt, box_format=detection_format)
    return gt, dt, [*gt.notes, *notes]


def detect_folder(model, folder, annotations, *, classes=None, **options):
    """Run a Keras detector on the annotated images of ``folder``; ``(GroundTruth, detections,
    notes, model name)`` (see :func:`~h5eval_widgets.core.inference.detector.run_detector`)."""
    from .data.boxes import read_ground_truth
    from .inference.detector import load_detector, run_detector

    gt = read_ground_truth(annotations, images=folder, classes=classes)
    trust = options.pop("trust_code", False)
    if isinstance(model, LoadedModel):
        keras_model, name = model.model, model.name
    elif isinstance(model, (str, os.PathLike)):
        keras_model, name = load_detector(model, trust_code=trust), Path(model).stem
    else:
        keras_model, name = model, getattr(model, "name", None)
    dt, notes = run_detector(keras_model, folder, gt, **options)
    return gt, dt, [*gt.notes, *notes], name
