"""Predictions made elsewhere as an :class:`~h5eval_widgets.core.Evaluation`.

:func:`evaluation_from_file` reads the files with :func:`~.predictions_file.read_predictions`,
names the classes from the probability columns, maps the labels to them and hands off to
``build`` (:meth:`~h5eval_widgets.core.Evaluation.from_predictions`, handed in by the results,
which import this module); with a test set it also returns the test set in the predictions'
order (:func:`~.predictions_join.align_dataset`).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from ..errors import LabelError
from .predictions_file import CHUNK_ROWS, DEFAULT_PREFIX, read_predictions

__all__ = ["evaluation_from_file"]


def _strip(columns: Sequence[str], prefix: str | None) -> tuple[str, ...]:
    """Class names: the columns without their shared prefix (``'p_'`` by default)."""
    prefix = DEFAULT_PREFIX if prefix is None else prefix
    if prefix and all(c.startswith(prefix) and len(c) > len(prefix) for c in columns):
        return tuple(c[len(prefix) :] for c in columns)
    return tuple(columns)


def _binary_classes(labels: np.ndarray, positive: str, column: str) -> tuple[str, ...] | None:
    """Names of a single probability column's two classes (negative, positive), or None for
    0/1 labels (numbered classes)."""
    if labels.dtype.kind not in "OUS":
        return None
    uniq = sorted(set(np.asarray(labels).astype(str).tolist()))
    others = [u for u in uniq if u != positive]
    if positive in uniq and len(others) == 1:
        return (others[0], positive)
    raise LabelError(
        f"The single probability column {column!r} means a binary task, but its class "
        f"{positive!r} and the labels {uniq[:10]} do not name the two classes; pass "
        "classes=[negative, positive] (--class-names NEG POS)."
    )


def _labels_by_name(labels: np.ndarray, names: tuple[str, ...]) -> np.ndarray:
    """Integer labels given as class numbers when every class name is a number (``p_0``..):
    matched by name, so that columns in any order read right."""
    if (
        labels.dtype.kind in "iu"
        and all(n.lstrip("-").isdigit() for n in names)
        and tuple(names) != tuple(str(i) for i in range(len(names)))
    ):
        return labels.astype(np.int64).astype(str)
    return labels


def evaluation_from_file(
    source,
    *,
    label_column: str,
    proba_columns: Sequence[str] | None = None,
    proba_prefix: str | None = None,
    pred_column: str | None = None,
    id_column: str | None = None,
    classes: Sequence[str] | None = None,
    task: str | None = None,
    threshold: float = 0.5,
    chunk_rows: int = CHUNK_ROWS,
    model_name: str | None = None,
    dataset_name: str | None = None,
    data: Any = None,
    data_id_column: str | None = None,
    data_ids=None,
    dataset_options: dict | None = None,
    build: Callable[..., Any],
):
    """Evaluate predictions written by a batch job (:meth:`Evaluation.from_predictions_file
    <h5eval_widgets.core.Evaluation.from_predictions_file>`).

    Parameters
    ----------
    source : path-like, glob, folder, or a sequence of them
        Parquet (``.parquet``/``.pq``) or CSV/TSV files; a folder of part files (Spark, a
        pyarrow dataset), skipping ``_SUCCESS`` and hidden files. Read in sorted path order,
        chunk by chunk, only the columns needed; never written.
    label_column : str
        The true labels: class indices, class names, 0/1, or targets (regression).
    proba_columns : sequence of str, default=None
        One probability column per class, in class order. A single column means a binary
        task (the positive class's probability).
    proba_prefix : str, default=None
        Take the columns starting with this instead (``'p_'`` when neither is given).
    pred_column : str, default=None
        The predicted values of a regression, instead of probability columns.
    id_column : str, default=None
        Sample ids: rows are sorted by id (the same order whatever order the files were
        written in), ids must be unique and are kept as ``sample_ids``.
    classes : sequence of str, default=None
        Class names in column order. Default: the column names without the prefix (``'p_'``
        or ``proba_prefix``); string labels are matched to them, integer labels are class
        indices (matched by name when every class name is a number, ``p_0``, ``p_1``, ...).
    task : {'binary', 'multiclass', 'regression'}, default=None
        Default: binary for one or two probability columns, multiclass for more, regression
        with ``pred_column``.
    threshold : float, default=0.5
    chunk_rows : int, default=65536
        Rows per chunk read.
    model_name, dataset_name : str, default=None
        Default: the file's or folder's name, and the test set's name.
    data : Dataset, DataFrame or path-like, default=None
        The test set the predictions were made on, returned in the predictions' order (for
        showing samples; see :func:`~.predictions_join.align_dataset`).
    data_id_column : str, default=None
        The id column of a table ``data`` (default: ``id_column``).
    data_ids : sequence, default=None
        Ids of the rows of a non-table ``data`` (default: row numbers 0, 1, ...).
    dataset_options : dict, default=None
        Passed to :func:`~h5eval_widgets.core.load_dataset` when ``data`` is read.
    build : callable
        Makes the result from labels and outputs (``Evaluation.from_predictions``).

    Returns
    -------
    Evaluation, or (Evaluation, Dataset) when ``data`` is given

    Raises
    ------
    DatasetError
        A missing or misnamed column (the message lists the file's columns and the fix),
        files with different columns, NaN probabilities, missing labels or ids, duplicated ids.
    """
    table = read_predictions(
        source,
        label_column=label_column,
        proba_columns=proba_columns,
        proba_prefix=proba_prefix,
        pred_column=pred_column,
        id_column=id_column,
        chunk_rows=chunk_rows,
    )
    labels, n_out = table.labels, len(table.output_columns)
    if pred_column is not None:
        task, names = task or "regression", classes
    else:
        if task in ("multilabel", "regression"):
            raise ValueError(
                f"task={task!r} cannot be read from probability columns here; give "
                "pred_column=... for a regression (multi-label files are not supported yet)."
            )
        task = task or ("binary" if n_out <= 2 else "multiclass")
        names = tuple(str(c) for c in classes) if classes is not None else _strip(table.output_columns, proba_prefix)
        if n_out == 1 and classes is None:
            names = _binary_classes(labels, names[0], table.output_columns[0])
        elif names is not None:
            labels = _labels_by_name(labels, names)
    where = table.files[0].name if len(table.files) == 1 else f"{len(table.files)} files"
    notes = [
        f"Predictions read from {where} ({len(labels)} rows, {table.n_chunks} chunk(s))"
        + (f", sorted by {id_column!r}." if id_column else ".")
    ]
    dataset = None
    if data is not None:
        from .predictions_join import align_dataset

        dataset = align_dataset(
            data,
            table.ids,
            labels=table.labels,
            id_column=data_id_column or id_column,
            data_ids=data_ids,
            drop=(label_column,),
            name=dataset_name,
            options=dataset_options,
        )
        dataset_name = dataset.name
    try:
        ev = build(
            labels,
            table.outputs,
            classes=names,
            task=task,
            threshold=threshold,
            notes=notes,
            model_name=model_name or _name_of(source, table.files),
            dataset_name=dataset_name,
            sample_ids=table.ids,
        )
    except LabelError as exc:
        if pred_column is not None or classes is not None or names is None:
            raise
        raise LabelError(
            f"{exc} Here the class names come from the probability columns "
            f"{list(table.output_columns)[:20]} without their prefix; pass classes=[...] "
            "(--class-names) to name them, in column order."
        ) from None
    return ev if dataset is None else (ev, dataset)


def _name_of(source, files: Sequence[Path]) -> str:
    """A name for the predictions: the file's stem, or the folder holding the files."""
    if len(files) == 1:
        return files[0].name.split(".")[0]
    if isinstance(source, (str, os.PathLike)) and Path(source).is_dir():
        return Path(source).resolve().name
    return Path(os.path.commonpath([f.resolve() for f in files])).name or "predictions"
