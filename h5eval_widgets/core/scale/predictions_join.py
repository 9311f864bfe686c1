"""The test set behind predictions made elsewhere, put in the predictions' order by id.

The dashboard's gallery shows sample ``i`` of the dataset beside prediction ``i``; when the
predictions come from a file, :func:`align_dataset` reorders the test set to match them, by an
id column of a table, or by ids given for the rows of any dataset (default: row numbers).
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from .._lazy import pd
from ..data.datasets import Dataset, load_dataset
from ..errors import DatasetError
from ..data.images import ImageFiles
from ..data.sources import NamedInputs

__all__ = ["align_dataset"]

_TABLES = (".csv", ".tsv", ".parquet", ".pq")


class RowsInOrder:
    """The rows of an input source (HDF5, Parquet rows, ...) in another order, read on demand."""

    def __init__(self, X, order: np.ndarray):
        self.X, self.order = X, np.asarray(order, dtype=np.int64)
        self.shape = (len(self.order),) + tuple(getattr(X, "shape", (len(X),))[1:])
        self.ndim = len(self.shape)
        self.dtype = getattr(X, "dtype", np.dtype(np.float32))
        self.files = [X.files[i] for i in self.order] if getattr(X, "files", None) else None

    def __len__(self) -> int:
        return len(self.order)

    def __getitem__(self, item):
        if isinstance(item, (int, np.integer)):
            return self.X[int(self.order[int(item)])]
        rows = [self.X[int(i)] for i in self.order[item]]
        if rows and isinstance(rows[0], dict):
            return {k: np.asarray([r[k] for r in rows]) for k in rows[0]}
        return np.stack([np.asarray(r) for r in rows])

    def __array__(self, dtype=None, copy=None):
        return np.asarray(self[np.arange(len(self))], dtype=dtype)

    def __repr__(self) -> str:
        return f"RowsInOrder({self.X!r}, {len(self.order)} rows)"


def _positions(keys, ids: np.ndarray, what: str) -> np.ndarray:
    """Where each prediction id is among the test set's ids."""
    index = pd.Index(np.asarray(keys))
    if not index.is_unique:
        dup = index[index.duplicated()].unique().tolist()[:5]
        raise DatasetError(
            f"The test set's ids ({what}) are duplicated, for example {dup}; each "
            "sample must appear once to be matched to its prediction."
        )
    pos = index.get_indexer(pd.Index(ids))
    if (pos < 0).any():
        lost = ids[pos < 0]
        raise DatasetError(
            f"{len(lost)} prediction id(s) are not in the test set's ids ({what}), for example "
            f"{lost[:5].tolist()} (test set ids look like {index[:3].tolist()}); pass the test set "
            "the predictions were made on, and the column holding the same ids (data_id_column=...)."
        )
    return pos


def _reordered_inputs(X, order: np.ndarray):
    if isinstance(X, np.ndarray):
        return X[order]
    if isinstance(X, ImageFiles):
        return ImageFiles([X.files[i] for i in order], X.size, X.mode)
    if isinstance(X, NamedInputs):
        return NamedInputs({k: np.asarray(v)[order] for k, v in X.columns.items()})
    return RowsInOrder(X, order)


def _table(data) -> Any:
    """A DataFrame for a table given as a DataFrame or a CSV/Parquet path, else None."""
    if type(data).__name__ == "DataFrame":
        return data
    if isinstance(data, (str, os.PathLike)) and Path(data).suffix.lower() in _TABLES:
        path = Path(data).expanduser()
        if not path.is_file():
            raise DatasetError(f"Test set {str(path)!r} does not exist; check the path.")
        if path.suffix.lower() in (".parquet", ".pq"):
            return pd.read_parquet(path)
        return pd.read_csv(path, sep="\t" if path.suffix.lower() == ".tsv" else ",")
    return None


def align_dataset(
    data,
    ids: np.ndarray | None,
    *,
    labels: np.ndarray | None = None,
    id_column: str | None = None,
    data_ids: Sequence | None = None,
    drop: Sequence[str] = (),
    name: str | None = None,
    options: dict | None = None,
) -> Dataset:
    """The test set in the order of the predictions, for the dashboard's samples.

    Parameters
    ----------
    data : Dataset, DataFrame or path-like
        The test set the predictions were made on. A table (DataFrame, ``.csv``, ``.parquet``)
        is matched by its ``id_column``; any other dataset (an image folder, ``.npz``, ...) by
        ``data_ids`` (default: its row numbers 0, 1, ...).
    ids : ndarray or None
        The predictions' ids in their order (None: the test set is in the predictions' order
        already and must have as many rows).
    labels : ndarray, default=None
        The predictions' labels, given to a table's rows (its label column is dropped).
    id_column : str, default=None
        The table's id column (dropped from the features).
    data_ids : sequence, default=None
        Ids of the dataset's rows, in its order (for example ``[p.name for p in ds.X.files]``).
    drop : sequence of str, default=()
        Other columns of a table that are not inputs (the label column).
    name : str, default=None
        The dataset's name (the evaluation's ``dataset_name``).
    options : dict, default=None
        Passed to :func:`~h5eval_widgets.core.load_dataset` (``feature_columns``, ...).

    Returns
    -------
    Dataset
        Row ``i`` is the sample of prediction ``i``. The files given are only read.
    """
    options = dict(options or {})
    frame = _table(data)
    if frame is not None:
        cols = [str(c) for c in frame.columns]
        if ids is not None:
            if id_column is None or id_column not in cols:
                raise DatasetError(
                    f"The test set has no id column {id_column!r}; its columns are {cols[:40]}. "
                    "Pass the column holding the predictions' ids with data_id_column=... "
                    "(--data-id-column)."
                )
            frame = frame.iloc[_positions(frame[id_column].to_numpy(), ids, f"column {id_column!r}")]
        elif len(frame) != len(labels if labels is not None else frame):
            raise DatasetError(
                f"The test set has {len(frame)} rows and the predictions "
                f"{len(labels)}; without id_column they must be the same rows in order."
            )
        frame = frame.drop(columns=[c for c in (id_column, *drop) if c is not None and c in cols])
        default = Path(data).stem if isinstance(data, (str, os.PathLike)) else "DataFrame"
        return load_dataset(frame.reset_index(drop=True), y=labels, name=name or default, **options)

    ds = load_dataset(data, name=name, **options) if not isinstance(data, Dataset) else data
    if ids is None:
        if labels is not None and len(ds) != len(labels):
            raise DatasetError(
                f"The test set has {len(ds)} samples and the predictions "
                f"{len(labels)}; without id_column they must be the same samples in order."
            )
        return dataclasses.replace(ds, name=name or ds.name)
    keys = np.arange(len(ds)) if data_ids is None else np.asarray(data_ids)
    if len(keys) != len(ds):
        raise DatasetError(
            f"data_ids has {len(keys)} ids but the test set has {len(ds)} samples; "
            "give one id per sample, in the dataset's order."
        )
    order = _positions(keys, ids, "row numbers" if data_ids is None else "data_ids")
    y = None if ds.y is None else np.asarray(ds.y)[order]
    return dataclasses.replace(
        ds, X=_reordered_inputs(ds.X, order), y=y, name=name or ds.name, notes=list(ds.notes), _fingerprint=None
    )
