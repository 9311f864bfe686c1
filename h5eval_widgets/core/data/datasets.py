"""Read test sets from files and in-memory objects, read-only, never unpickling.

:func:`load_dataset` turns what the user has (a path, arrays, a DataFrame, a dict of inputs, a
``tf.data.Dataset``) into a :class:`Dataset`; the file formats are read by :mod:`.readers`.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from ..errors import DatasetError
from .images import color_mode_of
from .readers import IMAGE_SUFFIXES, X_KEYS, Y_KEYS, hidden_note, read_file, read_labels, split_frame
from .sources import H5Array, NamedInputs, TFDataStream, digest_rows

__all__ = ["Dataset", "H5Array", "load_dataset", "X_KEYS", "Y_KEYS", "IMAGE_SUFFIXES"]


@dataclass(eq=False)
class Dataset:
    """Inputs, labels and what is known about them.

    Attributes
    ----------
    X : ndarray, H5Array, ImageFiles, ParquetRows, NamedInputs or TFDataStream
        Inputs, first axis = samples. Everything but an ndarray is read chunk by chunk.
    y : ndarray or None
        Labels as given (indices, one-hot, strings or numbers); encoded during evaluation.
        For a streamed ``tf.data.Dataset`` they are collected while predicting.
    class_names : tuple of str or None
    name : str
    kind : {'image', 'audio', 'tabular', 'text', 'array'}
        How the samples view shows a sample.
    feature_names : tuple of str or None
        Column names for tabular data.
    preprocess : str, float, callable or None
        How inputs are scaled before the model (see :func:`load_dataset`).
    color_mode : str or None
        Colour mode asked for image files (None: follow the model).
    positional : bool
        The named inputs were given as a list, in the model's input order.
    metadata : DataFrame or None
        Per-sample columns that are not model inputs, one row per sample in order (index
        0..n-1): a table's columns other than the label and ``feature_columns`` (only when
        ``feature_columns`` is given), or an image folder's sub-folders below the class level
        (``folder``, ``folder_2``, ...). The evaluation keeps them to slice its metrics
        (:meth:`~h5eval_widgets.core.Evaluation.slices`, ``weak_slices``).
    notes : list of str
        What reading noticed or left out (a folder's hidden files and folders); an
        evaluation of the dataset carries them in its ``notes``.
    """

    X: Any
    y: np.ndarray | None
    class_names: tuple[str, ...] | None = None
    name: str = "data"
    kind: str = "array"
    feature_names: tuple[str, ...] | None = None
    source: Path | None = None
    notes: list[str] = field(default_factory=list)
    preprocess: Any = None
    color_mode: str | None = None
    positional: bool = False
    _fingerprint: str | None = None
    metadata: Any = None

    def __post_init__(self):
        if isinstance(self.X, TFDataStream):
            return  # length and labels are known once streamed
        if self.y is not None and len(self.y) != len(self.X):
            raise DatasetError(
                f"{self.name}: the inputs have {len(self.X)} samples but the labels have "
                f"{len(self.y)}; they must be the same samples in the same order."
            )
        if len(self.X) == 0:
            raise DatasetError(f"{self.name} is empty (0 samples); there is nothing to evaluate.")
        if self.metadata is not None and len(self.metadata) != len(self.X):
            raise DatasetError(
                f"{self.name}: the metadata has {len(self.metadata)} rows but the inputs have "
                f"{len(self.X)} samples; give one metadata row per sample, in order."
            )

    def __len__(self) -> int:
        return len(self.X)

    @property
    def streamed(self) -> bool:
        """True for a ``tf.data.Dataset`` read once in order (labels come with the pass)."""
        return isinstance(self.X, TFDataStream)

    @property
    def fingerprint(self) -> str:
        """SHA-256 of the inputs' content (what predictions depend on), computed once."""
        if self._fingerprint is None:
            self._fingerprint = self.X.digest if hasattr(self.X, "digest") else digest_rows(self.X)
        return self._fingerprint

    def take(self, rows) -> "Dataset":
        """The dataset of rows ``rows`` (indices), numbered from 0 (a slice's samples, in the
        order of :attr:`~h5eval_widgets.core.Evaluation.source_rows`); arrays are indexed, files
        and other sources read through :class:`~.rows.RowsOf` when a row is asked for."""
        import dataclasses

        from .rows import RowsOf

        rows = np.asarray(rows, dtype=np.int64)
        if isinstance(self.X, np.ndarray):
            X = self.X[rows]
        elif isinstance(self.X, NamedInputs):
            X = NamedInputs({k: np.asarray(v)[rows] for k, v in self.X.columns.items()})
        else:
            X = RowsOf(self.X, rows)
        meta = None if self.metadata is None else self.metadata.iloc[rows].reset_index(drop=True)
        return dataclasses.replace(
            self,
            X=X,
            y=None if self.y is None else np.asarray(self.y)[rows],
            metadata=meta,
            _fingerprint=None,
            notes=list(self.notes),
        )

    def sample(self, i: int):
        """One input row as a numpy array (a dict of them for named inputs)."""
        return self.X[int(i)] if isinstance(self.X, NamedInputs) else np.asarray(self.X[int(i)])

    def file_path(self, i: int) -> Path | None:
        """The file sample ``i`` was read from (image folders, image datasets), else None."""
        files = getattr(self.X, "files", None) or getattr(self.X, "file_paths", None)
        return Path(files[int(i)]) if files else None

    def features(self, i: int) -> list[tuple[str, Any]]:
        """``(name, value)`` pairs of a tabular sample, for display."""
        if isinstance(self.X, NamedInputs):
            return self.X.row_values(i)
        x = np.ravel(np.asarray(self.X[int(i)]))
        names = self.feature_names or tuple(f"x{j}" for j in range(x.size))
        return list(zip(names, x.tolist()))

    def __repr__(self) -> str:
        shape = tuple(self.X.shape) if hasattr(self.X, "shape") else "?"
        return (
            f"Dataset({self.name!r}, kind={self.kind!r}, X shape={shape}, "
            f"classes={None if self.class_names is None else len(self.class_names)})"
        )


def _read_class_names(class_names) -> tuple[str, ...] | None:
    if class_names is None:
        return None
    if isinstance(class_names, (str, os.PathLike)) and Path(class_names).is_file():
        text = Path(class_names).read_text(encoding="utf-8")
        if str(class_names).endswith(".json"):
            data = json.loads(text)
            names = data if isinstance(data, list) else data.get("class_names") or data.get("classes")
        else:
            names = [line.strip() for line in text.splitlines() if line.strip()]
        return tuple(str(n) for n in names)
    if isinstance(class_names, str):
        raise DatasetError(
            f"class_names={class_names!r} is a string but not an existing file; pass a list of "
            "names or the path of a text file with one name per line."
        )
    return tuple(str(n) for n in class_names)


def _looks_like_tf_dataset(obj) -> bool:
    return type(obj).__module__.startswith("tensorflow") and hasattr(obj, "as_numpy_iterator")


def load_dataset(
    source,
    y=None,
    *,
    x_key: str | None = None,
    y_key: str | None = None,
    label_column: str | None = None,
    feature_columns: Sequence[str] | None = None,
    class_names=None,
    image_size: tuple[int, int] | None = None,
    color_mode: str | None = None,
    preprocess=None,
    rescale: float | None = None,
    name: str | None = None,
    sequence_length: int | None = None,
) -> Dataset:
    """Read a test set, read-only and without unpickling.

    Nothing large is read here: image folders, HDF5 files, big Parquet files and
    ``tf.data.Dataset`` objects are read chunk by chunk while predicting.

    Parameters
    ----------
    source : path-like, ndarray, DataFrame, dict, list, tf.data.Dataset, tuple or Dataset
        - ``.npz``: arrays named ``x``/``X``/``x_test``… and ``y``/``labels``/``y_test``…
          (or ``x_key``/``y_key``); optional ``class_names`` array.
        - ``.npy``: the inputs; ``y`` then names the labels' ``.npy`` (or is an array).
        - ``.csv``/``.tsv``/``.parquet``: one row per sample, ``label_column`` holds labels;
          text columns go to models with string inputs, and columns are matched to a
          multi-input model's input names.
        - ``.h5``/``.hdf5``: datasets named by ``x_key``/``y_key`` (or the common names).
        - a folder with one sub-folder of images per class (images are decoded on demand,
          resized and converted to what the model takes), or of ``.wav`` files per class
          (decoded as ``keras.utils.audio_dataset_from_directory`` does, padded or cut).
        - an array (with ``y``), a DataFrame, a dict of arrays by input name, a list of
          arrays in the model's input order, a ``tf.data.Dataset`` of ``(x, y)`` (streamed;
          ``keras.utils.image_dataset_from_directory`` keeps its file paths), or a tuple
          ``(X, y)``.
    y : array-like or path-like, default=None
        Labels, when ``source`` holds inputs only.
    label_column : str, default=None
        The label column of a table (default: the first of ``label``, ``labels``, ``target``,
        ``y``, ``class``).
    feature_columns : sequence of str, default=None
        The table columns the model takes. Without it every column but the label goes to the
        model (and there is no metadata); with it the remaining columns (ids, groups, dates,
        ...) become :attr:`Dataset.metadata`, by which the evaluation can be sliced.
    class_names : sequence of str or path-like, default=None
        Class names in the model's output order, or a text file (one per line) or JSON list.
    image_size : (width, height), default=None
        Size images are resized to (default: the model's input size; without a model, the
        first image's size).
    color_mode : {'grayscale', 'rgb', 'rgba'}, default=None
        Colour mode images are converted to (default: the model's channel count).
    preprocess : 'auto', float, str, callable or None, default=None
        How inputs are scaled for the model. ``'auto'`` (the default for image folders):
        pixels in [0, 1], or raw 0-255 when the model begins with a ``Rescaling`` or
        ``Normalization`` layer. A number multiplies; a ``keras.applications`` family name
        (``'mobilenet_v2'``, ``'resnet50'``, ``'efficientnet'``, ...) uses its
        ``preprocess_input``; a function gets each float32 batch. None leaves arrays as given.
    rescale : float, default=None
        Same as a number given as ``preprocess`` (kept for older code).
    name : str, default=None
        Display name (defaults to the file name).
    sequence_length : int, default=None
        Samples each ``.wav`` file of an audio folder is padded or cut to (default: the
        model's input length; with a ``preprocess`` function, the longest file's).

    Returns
    -------
    Dataset
    """
    if isinstance(source, Dataset):
        return source
    names = _read_class_names(class_names)
    mode = color_mode_of(color_mode)
    if preprocess is None and rescale is not None:
        preprocess = rescale
    kind = "array"
    feats = None
    src_path = None
    positional = False
    meta = None
    read_notes: list[str] = []

    if isinstance(source, tuple) and len(source) == 2 and y is None:
        source, y = source

    if isinstance(source, (str, os.PathLike)):
        path = Path(source).expanduser()
        src_path = path
        name = name or path.name
        if not path.exists():
            raise DatasetError(f"Dataset path {str(path)!r} does not exist; check the path.")
        read_notes = hidden_note(path) if path.is_dir() else []
        X, y_arr, file_names, feats, kind, meta = read_file(
            path,
            labels_given=y is not None,
            x_key=x_key,
            y_key=y_key,
            label_column=label_column,
            feature_columns=feature_columns,
            image_size=image_size,
            color_mode=mode,
            sequence_length=sequence_length,
        )
        names = names or file_names
        if y is not None:
            y_arr = read_labels(y)
    elif _looks_like_tf_dataset(source):
        X = TFDataStream(source)
        y_arr = None if y is None else np.asarray(y)
        names = names or X.class_names
        name = name or "tf.data.Dataset"
        if len(X.row_shape) in (2, 3):
            kind = "image"
    elif type(source).__name__ == "DataFrame":
        if y is not None:
            X, _, feats, meta = split_frame(source, None, feature_columns, name or "DataFrame")
            y_arr = np.asarray(y)
        else:
            X, y_arr, feats, meta = split_frame(source, label_column, feature_columns, name or "DataFrame")
        kind = "tabular"
        name = name or "DataFrame"
    elif isinstance(source, dict) or _is_input_list(source, y):
        positional = isinstance(source, list)
        X = NamedInputs(source if isinstance(source, dict) else {f"input_{i}": a for i, a in enumerate(source)})
        feats = tuple(X.keys())
        y_arr = None if y is None else np.asarray(y)
        kind = "tabular"
        name = name or "arrays"
    else:
        X = np.asarray(source)
        if X.dtype == object and all(isinstance(v, str) for v in X.ravel()[:1000]):
            X = X.astype(str)
        if X.dtype == object:
            raise DatasetError(
                "The inputs are an object array (mixed or ragged rows); pass a numeric array of "
                "one shape, a dict of arrays by input name, or a list of arrays in the model's "
                "input order."
            )
        y_arr = None if y is None else np.asarray(y)
        name = name or "arrays"

    if isinstance(X, np.ndarray) and X.dtype.kind in "US":
        kind = "text"  # raw strings, for models that vectorize text themselves
    elif isinstance(X, np.ndarray):
        if X.ndim == 1:
            X = X[:, None]
        if X.ndim in (3, 4) and kind == "array" and (X.ndim == 3 or X.shape[-1] in (1, 3, 4)):
            kind = "image"
        elif X.ndim == 2 and kind == "array":
            kind = "tabular"
    elif isinstance(X, H5Array) and X.ndim in (3, 4):
        kind = "image"
    return Dataset(
        X=X,
        y=y_arr,
        class_names=names,
        name=name or "data",
        kind=kind,
        feature_names=feats,
        source=src_path,
        preprocess=preprocess,
        color_mode=mode,
        positional=positional,
        metadata=meta,
        notes=list(read_notes),
    )


def _is_input_list(source, y) -> bool:
    """A list of arrays, one per model input (not a list of rows)."""
    return (
        isinstance(source, list)
        and 1 < len(source) < 64
        and y is not None
        and all(isinstance(a, np.ndarray) and a.ndim >= 1 for a in source)
        and all(len(a) == len(y) for a in source)
        and len(source) != len(y)
    )
