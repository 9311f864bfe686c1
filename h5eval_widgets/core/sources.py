"""Inputs read on demand: image files, Parquet row groups, named input columns, tf.data streams.

Each source has a length, a ``shape`` and ``dtype`` describing one row as it is handed to the
model, and ``__getitem__`` for a slice or an index array, so that inference reads one chunk at
a time and the samples view reads only the samples it shows. None of them holds the whole
input in memory.
"""

from __future__ import annotations

import hashlib
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Iterator, Mapping, Sequence

import numpy as np

from .errors import DatasetError

__all__ = ["ImageFiles", "NamedInputs", "ParquetRows", "TFDataStream", "MODE_CHANNELS"]

#: Pillow colour modes by the channel count a model asks for.
MODE_CHANNELS = {"L": 1, "RGB": 3, "RGBA": 4}
COLOR_MODES = {"grayscale": "L", "rgb": "RGB", "rgba": "RGBA"}


def _threads() -> int:
    return max(1, min(8, os.cpu_count() or 1))


def color_mode_of(value: str | None) -> str | None:
    """Pillow's mode for ``'grayscale'``/``'rgb'``/``'rgba'`` (or ``'L'``/``'RGB'``/``'RGBA'``)."""
    if value is None:
        return None
    mode = COLOR_MODES.get(str(value).lower(), str(value).upper())
    if mode not in MODE_CHANNELS:
        raise DatasetError(
            f"color_mode={value!r} is not known; use 'grayscale', 'rgb' or 'rgba'."
        )
    return mode


#: Suffixes TensorFlow decodes (as ``keras.utils.image_dataset_from_directory`` does); other
#: images (TIFF, WebP) are read with Pillow.
TF_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".gif")


class ImageFiles:
    """Image files decoded on demand at one size and colour mode.

    Pixels are read exactly as ``keras.utils.image_dataset_from_directory`` reads them:
    TensorFlow's decoder with the channel count of the colour mode, then a bilinear
    ``tf.image.resize`` to the size, giving float32 values in 0-255 (so a model trained on such
    a pipeline sees the same numbers). Only the rows asked for are decoded; nothing is kept.
    TIFF and WebP files, which TensorFlow does not decode, go through Pillow.

    Parameters
    ----------
    files : sequence of path-like
    size : (width, height) or None
        None keeps each image's own size (then they must all agree).
    mode : {'L', 'RGB', 'RGBA'} or None
        None: grayscale when the first image is grayscale, else RGB.
    headers : list of ((width, height), mode), default=None
        Already read headers. Otherwise only the first file's is read here, and the others only
        if something needs every image's size (a model that takes any size).

    Attributes
    ----------
    resized : int or None
        How many images the last full pass resized (None before one).
    """

    dtype = np.dtype(np.float32)

    def __init__(self, files: Sequence[str | os.PathLike], size: tuple[int, int] | None = None,
                 mode: str | None = None, *, headers: list | None = None):
        self.files = [Path(f) for f in files]
        self._headers = headers
        first_size, first_mode = headers[0] if headers else _read_header(self.files[0])
        self.native_size = tuple(first_size)
        self.mode = mode or ("L" if first_mode in ("L", "1", "I", "I;16", "LA") else "RGB")
        self.size = tuple(int(s) for s in size) if size is not None else None
        w, h = self.size or self.native_size
        channels = MODE_CHANNELS[self.mode]
        self.shape = (len(self.files), int(h), int(w), channels)
        self.ndim = 4
        self._digest: str | None = None
        self.resized: int | None = None

    def __len__(self) -> int:
        return len(self.files)

    @property
    def headers(self) -> list[tuple[tuple[int, int], str]]:
        """Every file's ((width, height), mode), read from the headers once, in threads."""
        if self._headers is None:
            self._headers = _read_headers(self.files)
        return self._headers

    @property
    def sizes_agree(self) -> bool:
        return all(tuple(s) == self.native_size for s, _ in self.headers)

    def conformed(self, size: tuple[int, int] | None, mode: str | None) -> "ImageFiles":
        """The same files at another size and colour mode (nothing is decoded)."""
        return ImageFiles(self.files, size, mode or self.mode, headers=self._headers)

    def _check_sizes(self) -> None:
        if self.size is None and len(self) > 1 and not self.sizes_agree:
            odd = next(f for f, (s, _) in zip(self.files, self.headers) if tuple(s) != self.native_size)
            raise DatasetError(
                f"Image {odd} is not the size of {self.files[0].name} "
                f"({self.native_size[0]}x{self.native_size[1]}) and no size was given; give one "
                "with image_size=(width, height) (--image-size W H)."
            )

    @property
    def _tf_readable(self) -> bool:
        return all(f.suffix.lower() in TF_SUFFIXES for f in self.files)

    def _tf_dataset(self, idx: np.ndarray, batch: int):
        from .models import _quiet_tf

        _quiet_tf()
        import tensorflow as tf

        _, h, w, c = self.shape

        def load(path):
            img = tf.image.decode_image(tf.io.read_file(path), channels=c, expand_animations=False)
            resized = tf.reduce_any(tf.shape(img)[:2] != (h, w))
            img = tf.image.resize(img, (h, w), method="bilinear")
            img.set_shape((h, w, c))
            return img, resized

        paths = tf.constant([str(self.files[i]) for i in idx])
        return (tf.data.Dataset.from_tensor_slices(paths)
                .map(load, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
                .batch(batch).prefetch(1))

    def batches(self, step: int) -> Iterator[Any]:
        """Every image in order, ``step`` at a time, decoding ahead of the caller (as
        ``tf.Tensor`` batches when TensorFlow decodes them, else arrays)."""
        self._check_sizes()
        if not self._tf_readable:
            for start in range(0, len(self), step):
                yield self[start:start + step]
            return
        resized = 0
        for batch, was_resized in self._tf_batches(np.arange(len(self)), step):
            resized += int(was_resized.sum())
            yield batch
        self.resized = resized

    def _tf_batches(self, idx: np.ndarray, step: int) -> Iterator[tuple[Any, np.ndarray]]:
        """``(batch as a tf.Tensor, which rows were resized)``; the batch is not copied to numpy."""
        import tensorflow as tf

        it = iter(self._tf_dataset(idx, step))
        start = 0
        while True:
            try:
                batch, resized = next(it)
            except StopIteration:
                return
            except tf.errors.OpError as exc:
                raise self._decode_error(idx[start:start + step], exc) from None
            yield batch, resized.numpy()
            start += len(batch)

    def _decode_error(self, idx: np.ndarray, exc: Exception) -> DatasetError:
        """Which of these files TensorFlow could not decode, found by decoding each alone."""
        import tensorflow as tf

        for i in idx:
            try:
                next(iter(self._tf_dataset(np.array([i]), 1)))
            except tf.errors.OpError as one:
                return DatasetError(
                    f"Image {self.files[i]} could not be decoded ({one.message.splitlines()[0][:200]}); "
                    "remove or replace it."
                )
        return DatasetError(f"Images could not be decoded ({str(exc).splitlines()[0][:200]}).")

    def _decode_pil(self, i: int) -> np.ndarray:
        from PIL import Image

        f = self.files[i]
        try:
            with Image.open(f) as im:
                im = im.convert(self.mode)
                if self.size is not None and im.size != self.size:
                    im = im.resize(self.size, Image.BILINEAR)
                a = np.asarray(im, dtype=np.float32)
        except (OSError, ValueError, SyntaxError) as exc:
            raise DatasetError(f"Image {f} could not be decoded ({exc}); remove or replace it.") from None
        return a[..., None] if a.ndim == 2 else a

    def __getitem__(self, item) -> np.ndarray:
        self._check_sizes()
        if isinstance(item, (int, np.integer)):
            return self[np.array([int(item)])][0]
        idx = np.arange(len(self))[item] if isinstance(item, slice) else np.asarray(item, dtype=np.int64)
        if len(idx) == 0:
            return np.empty((0, *self.shape[1:]), np.float32)
        if self._tf_readable:
            return np.concatenate([b for b, _ in self._tf_batches(idx, len(idx))])
        out = np.empty((len(idx), *self.shape[1:]), dtype=np.float32)
        with ThreadPoolExecutor(_threads()) as pool:
            for j, a in enumerate(pool.map(self._decode_pil, (int(i) for i in idx))):
                out[j] = a
        return out

    def __array__(self, dtype=None, copy=None):
        a = self[:]
        return a.astype(dtype) if dtype is not None else a

    @property
    def digest(self) -> str:
        """SHA-256 of the files' bytes with the size and mode they are read at."""
        if self._digest is None:
            h = hashlib.sha256(f"images|{self.size}|{self.mode}|{len(self.files)}".encode())
            for f in self.files:
                h.update(f.name.encode())
                with open(f, "rb") as fh:
                    h.update(hashlib.sha256(fh.read()).digest())
            self._digest = h.hexdigest()
        return self._digest

    def __repr__(self) -> str:
        return f"ImageFiles({len(self)} files, size={self.size or self.native_size}, mode={self.mode!r})"


def _read_header(f: Path) -> tuple[tuple[int, int], str]:
    from PIL import Image

    try:
        with Image.open(f) as im:
            return tuple(im.size), im.mode
    except (OSError, ValueError, SyntaxError) as exc:
        raise DatasetError(f"Image {f} could not be read ({exc}); remove or replace it.") from None


def _read_headers(files: Sequence[Path]) -> list[tuple[tuple[int, int], str]]:
    """Each file's (size, mode) from its header (no pixels are decoded)."""
    if len(files) < 64:
        return [_read_header(f) for f in files]
    with ThreadPoolExecutor(_threads()) as pool:
        return list(pool.map(_read_header, files))


class NamedInputs:
    """Several inputs by name (a dict of equal-length arrays), for multi-input models.

    Parameters
    ----------
    columns : mapping of str to array-like
    """

    def __init__(self, columns: Mapping[str, Any]):
        self.columns = {str(k): v if isinstance(v, NamedInputs) else _as_column(k, v)
                        for k, v in columns.items()}
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
        from .datasets import _digest_rows

        h = hashlib.sha256(b"named")
        for k, v in self.columns.items():
            h.update(k.encode() + b"\0" + _digest_rows(v).encode())
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
            pa.types.is_integer(schema.field(c).type) or pa.types.is_floating(schema.field(c).type)
            or pa.types.is_boolean(schema.field(c).type) for c in self.columns
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
            from .models import file_digest

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
