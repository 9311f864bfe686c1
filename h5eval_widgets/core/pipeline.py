"""From files to results: load the model, read the data, predict once, build the evaluation.

The results classes hold no loading code; :meth:`Evaluation.from_model` is a thin call into
:func:`evaluate_model`.
"""

from __future__ import annotations

import dataclasses
from typing import Sequence

from .datasets import Dataset, load_dataset
from .errors import LabelError
from .evaluation import Evaluation
from .models import LoadedModel, load_model
from .predict import predict_with_embedding

__all__ = ["evaluate_model"]


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
    **dataset_options,
) -> Evaluation:
    """Load (or take) a model and a dataset, predict once through the cache, and evaluate.

    Parameters are those of :meth:`Evaluation.from_model`.

    Returns
    -------
    Evaluation
    """
    loaded = model if isinstance(model, LoadedModel) else load_model(
        model, trust_code=trust_code, output=output, cache=cache
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
    ev = Evaluation.from_predictions(
        data.y,
        raw,
        classes=classes or data.class_names or info.class_names,
        task=task or info.task_hint(data.y),
        threshold=threshold,
        sample_weight=sample_weight,
        notes=tuple(loaded.notes) + tuple(pred_notes),
        activation=info.output_activation,
        model_info=info,
        model_name=loaded.name,
        dataset_name=dataset_name or data.name,
    )
    return ev if embedding is None else dataclasses.replace(ev, embeddings=embedding)
