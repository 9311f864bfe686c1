"""Inputs read on demand: HDF5 datasets, Parquet row groups, named input columns, tf.data
streams (image files are in :mod:`.images`).

Each source has a length, a ``shape`` and ``dtype`` describing one row as it is handed to the
model, and ``__getitem__`` for a slice or an index array, so that inference reads one chunk at
a time and the samples view reads only the samples it shows. None of them holds the whole
input in memory.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any, Iterator, Mapping, Sequence

import numpy as np

from ..errors import DatasetError

__all__ = ["H5Array", "NamedInputs", "ParquetRows", "TFDataStream", "digest_rows"]


class H5Array:
    """A read-only view of an HDF5 dataset that reads rows in slices, never the whole array.

    Parameters
    ----------
    path : path-like
        The HDF5 file (opened read-only).
    key : str
        The dataset's name inside the file.
    """

    def __init__(self, path: str | os.PathLike, key: str):
        import h5py

        self.path = Path(path)
        self.key = key
        self._file = h5py.File(self.path, "r")
        self._ds = self._file[key]
        self.shape = tuple(self._ds.shape)
        self.dtype = self._ds.dtype
        self.ndim = len(self.shape)
        self.nbytes = int(np.prod(self.shape)) * self.dtype.itemsize

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, item):
        if isinstance(item, np.ndarray) and item.dtype.kind in "iu":
            # h5py needs increasing indices: read sorted, then restore the order
            order = np.argsort(item)
            rows = self._ds[item[order]]
            out = np.empty_like(rows)
            out[order] = rows
            return out
        return self._ds[item]

    def __array__(self, dtype=None, copy=None):
        arr = self._ds[()]
        return arr.astype(dtype) if dtype is not None else arr

    def __repr__(self) -> str:
        return f"H5Array({str(self.path)!r}, {self.key!r}, shape={self.shape}, dtype={self.dtype})"


def digest_rows(X, chunk_rows: int | None = None) -> str:
    h = hashlib.sha256()
    h.update(f"{tuple(X.shape)}|{np.dtype(X.dtype).str}".encode())
    if isinstance(X, np.ndarray):
        h.update(memoryview(np.ascontiguousarray(X)).cast("B"))
        return h.hexdigest()
    row_bytes = max(1, int(np.prod(X.shape[1:])) * np.dtype(X.dtype).itemsize)
    step = chunk_rows or max(1, (64 << 20) // row_bytes)
    for start in range(0, len(X), step):
        h.update(memoryview(np.ascontiguousarray(X[start : start + step])).cast("B"))
    return h.hexdigest()


class NamedInputs:
    """Several inputs by name (a dict of equal-length arrays), for multi-input models.

    Parameters
    ----------
    columns : mapping of str to array-like
    """

    def __init__(self, columns: Mapping[str, Any]):
        self.columns = {str(k): v if isinstance(v, NamedInputs) else _as_column(k, v) for k, v in columns.items()}
        lengths = {k: len(v) for k, v in self.columns.items()}
        if len(set(lengths.values())) > 1:
            raise DatasetError(f"The named inputs have different numbers of samples: {lengths}.")
        if not lengths:
            raise DatasetError("No inputs were given (an empty dict).")
        self.n = next(iter(lengths.values()))
        self.shape = (self.n, len(self.columns))
        self.ndim = 2
        self.dtype = np.dtype(object)

    def __len__(self) -> int:
        return self.n

    def keys(self) -> list[str]:
        return list(self.columns)

    def __getitem__(self, item):
        if isinstance(item, str):
            return self.columns[item]
        if isinstance(item, (int, np.integer)):
            return {k: np.asarray(v[int(item)]) for k, v in self.columns.items()}
        return {k: np.asarray(v[item]) for k, v in self.columns.items()}

    def row_values(self, i: int) -> list[tuple[str, Any]]:
        """``(name, value)`` pairs of one sample, for display."""
        return [(k, np.asarray(v[int(i)]).ravel().tolist()) for k, v in self.columns.items()]

    @property
    def digest(self) -> str:
        h = hashlib.sha256(b"named")
        for k, v in self.columns.items():
            h.update(k.encode() + b"\0" + digest_rows(v).encode())
        return h.hexdigest()

    def __repr__(self) -> str:
        cols = ", ".join(f"{k}: {tuple(getattr(v, 'shape', ()))}" for k, v in self.columns.items())
        return f"NamedInputs({cols})"


def _as_column(name, v):
    if hasattr(v, "to_numpy"):
        v = v.to_numpy()
    a = np.asarray(v)
    if a.dtype == object:
        if all(isinstance(s, str) for s in a.ravel()[:1000]):
            return a.astype(str)
        raise DatasetError(f"Input {name!r} is an object array; pass numbers or strings.")
    return a


class ParquetRows:
    """Rows of a Parquet file read one row group at a time (the file is never read whole).

    ``__getitem__`` gives a float32 matrix of the feature columns when all are numeric, else a
    dict of columns (for models with named or string inputs).
    """

    def __init__(self, path: Path, columns: Sequence[str]):
        import pyarrow.parquet as pq

        self.path = Path(path)
        self._file = pq.ParquetFile(self.path)
        meta = self._file.metadata
        self.columns = [str(c) for c in columns]
        self._starts = np.cumsum([0] + [meta.row_group(i).num_rows for i in range(meta.num_row_groups)])
        schema = self._file.schema_arrow
        import pyarrow as pa

        self.numeric = all(
            pa.types.is_integer(schema.field(c).type)
            or pa.types.is_floating(schema.field(c).type)
            or pa.types.is_boolean(schema.field(c).type)
            for c in self.columns
        )
        self.shape = (int(meta.num_rows), len(self.columns))
        self.ndim = 2
        self.dtype = np.dtype(np.float32) if self.numeric else np.dtype(object)
        self._digest: str | None = None

    def __len__(self) -> int:
        return self.shape[0]

    def _frame(self, start: int, stop: int):
        first = int(np.searchsorted(self._starts, start, side="right") - 1)
        last = int(np.searchsorted(self._starts, stop, side="left"))
        groups = list(range(first, max(first + 1, last)))
        table = self._file.read_row_groups(groups, columns=self.columns)
        offset = int(self._starts[first])
        return table.slice(start - offset, stop - start).to_pandas()

    def _rows(self, df):
        if self.numeric:
            return df.to_numpy(dtype=np.float32)
        return {c: _as_column(c, df[c]) for c in self.columns}

    def __getitem__(self, item):
        if isinstance(item, slice):
            start, stop, _ = item.indices(len(self))
            return self._rows(self._frame(start, max(start, stop)))
        if isinstance(item, (int, np.integer)):
            rows = self._rows(self._frame(int(item), int(item) + 1))
            return rows[0] if self.numeric else {k: v[0] for k, v in rows.items()}
        idx = np.asarray(item, dtype=np.int64)
        parts = [self[int(i)] for i in idx]
        if self.numeric:
            return np.stack(parts) if parts else np.empty((0, self.shape[1]), np.float32)
        return {c: np.asarray([p[c] for p in parts]) for c in self.columns}

    @property
    def digest(self) -> str:
        if self._digest is None:
            from ..cache import file_digest

            self._digest = hashlib.sha256(
                f"parquet|{','.join(self.columns)}|{file_digest(self.path)}".encode()
            ).hexdigest()
        return self._digest

    def __repr__(self) -> str:
        return f"ParquetRows({self.path.name!r}, {self.shape[0]} rows, columns={self.columns[:8]})"


class TFDataStream:
    """A ``tf.data.Dataset`` read once, batch by batch, never stacked in memory.

    Labels are collected as the batches pass (they are small). Samples for display are read
    from the dataset's ``file_paths`` when it has them (``image_dataset_from_directory``),
    else by skipping to the sample.
    """

    def __init__(self, ds):
        spec = ds.element_spec
        self.has_labels = isinstance(spec, tuple) and len(spec) >= 2
        x_spec = spec[0] if isinstance(spec, tuple) else spec
        self.batched = x_spec.shape.rank not in (None, 0) and x_spec.shape[0] is None
        self.ds = ds
        self.x_spec = x_spec
        self.file_paths = [Path(p) for p in getattr(ds, "file_paths", None) or []] or None
        self.class_names = tuple(getattr(ds, "class_names", None) or ()) or None
        card = int(ds.cardinality()) if hasattr(ds, "cardinality") else -1
        n = len(self.file_paths) if self.file_paths else None
        if n is None and card >= 0 and not self.batched:
            n = card
        self._n = n
        shape = tuple(x_spec.shape.as_list()[1:] if self.batched else x_spec.shape.as_list())
        self.row_shape = shape
        self.dtype = np.dtype(x_spec.dtype.as_numpy_dtype)
        self.ndim = 1 + len(shape)

    @property
    def shape(self) -> tuple:
        return (self._n if self._n is not None else -1, *self.row_shape)

    def __len__(self) -> int:
        if self._n is None:
            self._n = sum(len(x) for x, _ in self.batches())
        return self._n

    def batches(self) -> Iterator[tuple[np.ndarray, np.ndarray | None]]:
        """``(inputs, labels or None)`` batch by batch, as numpy arrays."""
        ds = self.ds if self.batched else self.ds.batch(256)
        for item in ds.as_numpy_iterator():
            if isinstance(item, tuple):
                yield item[0], item[1]
            else:
                yield item, None

    def __getitem__(self, item):
        if isinstance(item, (int, np.integer)):
            ds = self.ds.unbatch() if self.batched else self.ds
            for el in ds.skip(int(item)).take(1).as_numpy_iterator():
                return el[0] if isinstance(el, tuple) else el
            raise IndexError(item)
        raise TypeError("A tf.data stream is read in order; only single samples can be looked up.")

    def __array__(self, dtype=None, copy=None):
        a = np.concatenate([x for x, _ in self.batches()])
        return a.astype(dtype) if dtype is not None else a

    def __repr__(self) -> str:
        return f"TFDataStream({self.shape}, {self.dtype})"
