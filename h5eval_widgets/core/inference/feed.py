"""What the model is fed: inputs matched to the model, prepared chunk by chunk, in batches sized
for the model's memory.

:func:`prepare` matches a dataset to a model's inputs (image files resized and converted to the
model's size and channels, table columns to named inputs, text columns to string inputs) and
chooses the preprocessing (:mod:`h5eval_widgets.core.data.preprocessing`); :func:`~.batching.rows_per_call` sizes the
batches from a memory budget and the model's activations; :meth:`Feed.chunks` reads, prepares and hands over one chunk while the
previous one is being predicted.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

import numpy as np

from ..errors import DatasetError, ShapeMismatchError
from ..data.audio import AudioFiles, conform_audio
from ..data.images import ImageFiles
from .batching import DEFAULT_CHUNK_BYTES, FILE_ROWS, MAX_ROWS, memory_budget, rows_per_call
from ..data.preprocessing import APPLICATION_FAMILIES, resolve_preprocess
from ..data.sources import NamedInputs, TFDataStream, digest_rows

__all__ = [
    "Feed",
    "prepare",
    "adapt_inputs",
    # re-exported: sizing and preprocessing, chosen here for each feed
    "rows_per_call",
    "memory_budget",
    "resolve_preprocess",
    "APPLICATION_FAMILIES",
    "DEFAULT_CHUNK_BYTES",
    "MAX_ROWS",
]


# ---------------------------------------------------------------------------- shapes
def adapt_inputs(shape: tuple, expected: tuple, name: str) -> tuple[tuple | None, str | None]:
    """How to reshape rows of ``shape[1:]`` to the model's ``expected[1:]``.

    Returns ``(new_row_shape or None, note or None)``; raises when sizes cannot match.
    """
    got, want = tuple(shape[1:]), tuple(expected[1:])
    if not want or got == want:
        return None, None
    if len(got) == len(want) and all(w is None or g == w for g, w in zip(got, want)):
        return None, None
    if None in want:
        raise ShapeMismatchError(
            f"{name}: inputs have rows of shape {got} but the model expects {want}; "
            "reshape the inputs to the model's input shape."
        )
    if int(np.prod(got)) == int(np.prod(want)):
        return want, (f"Input rows reshaped from {got} to the model's {want}." if int(np.prod(want)) > 1 else None)
    raise ShapeMismatchError(
        f"{name}: inputs have rows of shape {got} ({int(np.prod(got))} values) but the model "
        f"expects {want} ({int(np.prod(want))} values). Check that this dataset belongs to this "
        "model and was preprocessed the same way as in training."
    )


# ---------------------------------------------------------------------------- batch size
# ---------------------------------------------------------------------------- the feed
@dataclass
class Feed:
    """A dataset matched to a model: what each forward call gets.

    Attributes
    ----------
    n : int or None
        Number of samples (None for a stream of unknown length).
    signature : tuple or dict
        ``(row_shape, dtype)`` of the one input, or such a pair per input name.
    key : callable or None
        Gives what is fed, for the prediction cache (None: not cacheable); called only when
        the cache is used, since it reads the inputs' content.
    notes : list of str
    row_bytes : int
        Bytes of one prepared row (all inputs).
    """

    n: int | None
    signature: Any
    key: Callable[[], str] | None
    notes: list[str]
    row_bytes: int
    max_rows: int = MAX_ROWS
    read: Callable[[int, int], Any] | None = None
    batches: Callable[[int], Iterator[Any]] | None = None
    source: Any = None
    stream: TFDataStream | None = None
    prepare_chunk: Callable[[Any, int], Any] = field(default=lambda c, start: c)

    def late_notes(self) -> list[str]:
        """What only the pass itself could tell (how many images were resized)."""
        resized = getattr(self.source, "resized", None)
        if resized is None:
            return []
        return [f"{resized} of {len(self.source)} images had another size and were resized."]

    def chunks(self, step: int) -> Iterator[tuple[Any, np.ndarray | None]]:
        """``(prepared chunk, labels or None)``; the next chunk is read and prepared in a
        background thread while the caller predicts the current one."""
        if self.stream is not None:
            yield from self._stream_chunks(step)
            return
        if self.batches is not None:  # a source that reads ahead by itself
            start = 0
            for raw in self.batches(step):
                yield self.prepare_chunk(raw, start), None
                start += len(raw)
            return
        starts = range(0, self.n, step)

        def load(start):
            return self.prepare_chunk(self.read(start, min(start + step, self.n)), start)

        with ThreadPoolExecutor(1) as pool:
            pending = pool.submit(load, 0) if self.n else None
            for start in starts:
                chunk = pending.result()
                nxt = start + step
                pending = pool.submit(load, nxt) if nxt < self.n else None
                yield chunk, None

    def _stream_chunks(self, step: int):
        buf_x, buf_y, rows, start = [], [], 0, 0

        def flush():
            x = np.concatenate(buf_x) if len(buf_x) > 1 else buf_x[0]
            y = None if buf_y[0] is None else (np.concatenate(buf_y) if len(buf_y) > 1 else buf_y[0])
            return self.prepare_chunk(x, start), y

        for x, y in self.stream.batches():
            buf_x.append(x)
            buf_y.append(y)
            rows += len(x)
            if rows >= step:
                yield flush()
                start += rows
                buf_x, buf_y, rows = [], [], 0
        if buf_x:
            yield flush()


def _feed_dtype(arr_dtype, model_dtype: str | None):
    kind = np.dtype(arr_dtype).kind
    if kind in "USO":
        return np.dtype(str)
    if model_dtype and model_dtype not in ("string",) and np.dtype(model_dtype).kind in "iuf":
        return np.dtype(model_dtype)
    return np.dtype(np.float32)


def _check_finite(chunk: np.ndarray, start: int, name: str) -> None:
    if chunk.dtype.kind == "f" and not np.isfinite(chunk).all():
        bad = np.flatnonzero(~np.isfinite(chunk.reshape(len(chunk), -1)).all(axis=1))
        raise DatasetError(
            f"{name}: inputs contain NaN or infinite values ({len(bad)} sample(s) in "
            f"rows {start}-{start + len(chunk) - 1}, first at row {start + int(bad[0])}); "
            "impute or drop them, as in training."
        )


def _one_input(row_shape, dtype, pre, name, *, owned: bool):
    """A function turning raw rows into what the model takes for one input.

    ``owned``: the source hands out fresh arrays (decoded files), so scaling may happen in
    place; otherwise rows may be views of the caller's array and are copied first.
    """

    def run(chunk, start):
        if owned and pre is None and row_shape is None and hasattr(chunk, "numpy") and chunk.dtype == dtype:
            # decoded by tf.data at the model's size, nothing left to do: handed to the model
            # as the tensor it is (a copy into numpy and back cost 2.5 MB of peak memory)
            return chunk
        chunk = chunk.numpy() if hasattr(chunk, "numpy") else np.asarray(chunk)
        if dtype.kind == "U":
            chunk = chunk.astype(str)
        else:
            if chunk.dtype != dtype or (pre is not None and not owned):
                chunk = chunk.astype(dtype, copy=True)
            _check_finite(chunk, start, name)
            if pre is not None:
                chunk = np.asarray(pre(chunk), dtype=dtype)
        if row_shape is not None:
            chunk = chunk.reshape((len(chunk), *row_shape))
        return chunk

    return run


def _conform_images(X: ImageFiles, want: tuple, name: str, explicit_mode: bool) -> tuple[ImageFiles, list[str]]:
    """The image files at the model's height, width and channels (unless given)."""
    notes = []
    size, mode = X.size, X.mode
    if len(want) in (2, 3):
        h, w = want[0], want[1]
        c = want[2] if len(want) == 3 else 1
        if not explicit_mode and c in (1, 3, 4):
            mode = {1: "L", 3: "RGB", 4: "RGBA"}[c]
        if size is None:
            if h is not None and w is not None:
                size = (int(w), int(h))
            elif not X.sizes_agree:
                sizes = sorted({tuple(s) for s, _ in X.headers})
                raise ShapeMismatchError(
                    f"{name}: the model takes images of any size (input {want}) and the images "
                    f"have {len(sizes)} different sizes (e.g. {sizes[:3]}); give one with "
                    "image_size=(width, height) (--image-size W H)."
                )
    out = X.conformed(size, mode)
    w, h = out.size or out.native_size
    notes.append(
        f"Images read as {w}x{h} {_MODE_NAMES[out.mode]}, decoded and resized (bilinear) as "
        "keras.utils.image_dataset_from_directory does."
    )
    return out, notes


_MODE_NAMES = {"L": "grayscale", "RGB": "RGB", "RGBA": "RGBA"}


def prepare(info, data) -> Feed:
    """Match a dataset to a model's inputs.

    Parameters
    ----------
    info : ModelInfo
    data : Dataset

    Returns
    -------
    Feed
    """
    names = tuple(info.input_names) or ("input",)
    shapes = tuple(info.input_shapes) or (tuple(info.input_shape),)
    dtypes = tuple(info.input_dtypes) or (None,)
    if len(names) > 1:
        return _prepare_named(info, data, names, shapes, dtypes)
    X = data.X
    want = tuple(shapes[0])
    notes: list[str] = []
    images = data.kind == "image"
    if isinstance(X, NamedInputs):
        X = _single_column(X, dtypes[0], data)
    if isinstance(X, ImageFiles):
        X, notes = _conform_images(X, want[1:], data.name, data.color_mode is not None)
    if isinstance(X, AudioFiles):  # a preprocess function makes the model's input of waveforms
        X, notes = conform_audio(X, want[1:], data.name, preprocessed=callable(data.preprocess))
    if isinstance(X, TFDataStream):
        pre_spec = data.preprocess
    else:
        pre_spec = data.preprocess if data.preprocess is not None else ("auto" if isinstance(X, ImageFiles) else None)
    pre, pre_note, pre_id = resolve_preprocess(pre_spec, images=images, model_rescales=bool(info.rescales_inputs))
    fed = X.shape[1:] if not (isinstance(X, AudioFiles) and pre is not None) else np.shape(pre(X[:1]))[1:]
    try:
        row_shape, note = adapt_inputs((-1, *fed), want, data.name)
    except ShapeMismatchError as exc:
        if not isinstance(X, ImageFiles):
            raise
        w, h = X.size or X.native_size
        raise ShapeMismatchError(
            f"{exc} The images were read at {w}x{h} {X.mode} (from the "
            f"{'given' if X.size else 'first image'}'s size); give image_size=(width, height) and "
            "color_mode= to match the model's input."
        ) from None
    notes += [n for n in (note, pre_note) if n]
    dtype = _feed_dtype(X.dtype, dtypes[0])
    shape = tuple(row_shape or fed)
    run = _one_input(row_shape, dtype, pre, data.name, owned=not isinstance(X, np.ndarray))
    row_bytes = int(np.prod(shape)) * (dtype.itemsize if dtype.kind != "U" else 64)
    if isinstance(X, TFDataStream):
        notes.append("Streamed from the tf.data.Dataset; outputs not cached (a pipeline has no content fingerprint).")
        return Feed(
            n=None,
            signature=(shape, dtype),
            key=None,
            notes=notes,
            row_bytes=row_bytes,
            max_rows=FILE_ROWS,
            stream=X,
            prepare_chunk=run,
        )

    def key():
        return "|".join([_fingerprint(X), str(shape), dtype.str, pre_id])

    return Feed(
        n=len(X),
        signature=(shape, dtype),
        key=key,
        notes=notes,
        row_bytes=row_bytes,
        max_rows=MAX_ROWS if isinstance(X, np.ndarray) else FILE_ROWS,
        read=lambda a, b: X[a:b],
        batches=getattr(X, "batches", None),
        source=X,
        prepare_chunk=run,
    )


def _fingerprint(X) -> str:
    return X.digest if hasattr(X, "digest") else digest_rows(X)


def _single_column(X: NamedInputs, dtype: str | None, data):
    """A table with text (or mixed) columns, for a model with one input."""
    strings = [k for k, v in X.columns.items() if np.asarray(v).dtype.kind in "USO"]
    if dtype == "string":
        if len(strings) == 1:
            return X.columns[strings[0]]
        raise DatasetError(
            f"{data.name}: the model takes one text input but the data has "
            f"{len(strings)} text columns {strings[:10]}; choose one with feature_columns=[...]."
        )
    raise DatasetError(
        f"{data.name}: feature column(s) {strings[:10]} are not numeric; encode them as the "
        "model's training pipeline did, or choose feature_columns=... (the other columns then "
        "become metadata, by which the evaluation can be sliced)."
    )


def _prepare_named(info, data, names, shapes, dtypes) -> Feed:
    """Inputs by the model's input names: from named arrays, a list in order, or table columns."""
    X = data.X
    if isinstance(X, NamedInputs) and getattr(data, "positional", False):
        if len(X.columns) != len(names):
            raise DatasetError(
                f"{data.name}: {len(X.columns)} input arrays were given but the model has "
                f"{len(names)} inputs ({', '.join(names)})."
            )
        cols = dict(zip(names, X.columns.values()))
    elif isinstance(X, NamedInputs):
        cols = X.columns
    elif data.feature_names and getattr(X, "ndim", 0) == 2:
        cols = {n: _ColumnOf(X, j) for j, n in enumerate(data.feature_names)}
    else:
        raise DatasetError(
            f"{data.name}: the model has {len(names)} inputs ({', '.join(names)}); give a dict "
            "of arrays by input name, a list in the model's input order, or a table whose "
            "columns are named like the inputs."
        )
    missing = [n for n in names if n not in cols]
    if missing:
        raise DatasetError(
            f"{data.name}: no column for the model's input(s) {missing}; the columns found are "
            f"{list(cols)[:30]}. Rename them to the model's input names ({', '.join(names)})."
        )
    runs, sig, row_bytes, notes, keys = {}, {}, 0, [], []  # keys: (input, cache id) pairs
    for name, shape, dt in zip(names, shapes, dtypes):
        col = cols[name]
        n = len(col)
        row_shape, note = adapt_inputs((n, *np.shape(col[:1])[1:]), tuple(shape), f"{data.name}[{name}]")
        if note:
            notes.append(f"{name}: {note}")
        dtype = _feed_dtype(np.asarray(col[:1]).dtype, dt)
        pre = None
        if data.preprocess is not None and dtype.kind != "U":
            pre, pre_note, pre_id = resolve_preprocess(data.preprocess, images=False, model_rescales=False)
            keys.append((None, pre_id))
            if pre_note:
                notes.append(f"{name}: {pre_note}")
        runs[name] = _one_input(row_shape, dtype, pre, f"{data.name}[{name}]", owned=False)
        shp = tuple(row_shape or np.shape(col[:1])[1:])
        sig[name] = (shp, dtype)
        row_bytes += int(np.prod(shp)) * (dtype.itemsize if dtype.kind != "U" else 64)
        keys.append((col, f"{name}:{shp}:{dtype.str}"))
    n = len(data.X)

    def read(a, b):
        return {name: cols[name][a:b] for name in names}

    def run(chunk, start):
        return {name: runs[name](chunk[name], start) for name in names}

    def key():
        return "|".join(("" if col is None else _fingerprint(col)) + ":" + k for col, k in keys)

    return Feed(n=n, signature=sig, key=key, notes=notes, row_bytes=row_bytes, read=read, prepare_chunk=run)


class _ColumnOf:
    """Column ``j`` of a 2-D table source, sliced lazily."""

    def __init__(self, X, j: int):
        self.X, self.j = X, j
        self.shape = (len(X),)
        self.dtype = np.dtype(np.float32)

    def __len__(self):
        return len(self.X)

    def __getitem__(self, item):
        return (
            np.asarray(self.X[item])[:, self.j]
            if not isinstance(item, (int, np.integer))
            else np.asarray(self.X[item])[self.j]
        )

    @property
    def digest(self) -> str:
        return f"{_fingerprint(self.X)}[:, {self.j}]"
