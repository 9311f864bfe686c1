"""Read test sets from files and in-memory objects, read-only, never unpickling."""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from .errors import DatasetError
from .sources import ImageFiles, NamedInputs, ParquetRows, TFDataStream, color_mode_of

__all__ = ["Dataset", "H5Array", "load_dataset", "X_KEYS", "Y_KEYS", "IMAGE_SUFFIXES"]

X_KEYS = ("x_test", "X_test", "x", "X", "features", "inputs", "data", "images")
Y_KEYS = ("y_test", "Y_test", "y", "Y", "labels", "label", "targets", "target")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp")


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


def _digest_rows(X, chunk_rows: int | None = None) -> str:
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
    kind : {'image', 'tabular', 'text', 'array'}
        How the samples view shows a sample.
    feature_names : tuple of str or None
        Column names for tabular data.
    preprocess : str, float, callable or None
        How inputs are scaled before the model (see :func:`load_dataset`).
    color_mode : str or None
        Colour mode asked for image files (None: follow the model).
    positional : bool
        The named inputs were given as a list, in the model's input order.
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
            self._fingerprint = self.X.digest if hasattr(self.X, "digest") else _digest_rows(self.X)
        return self._fingerprint

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


def _pick_key(keys: Sequence[str], wanted: str | None, candidates: Sequence[str], what: str,
              path: Path, arg: str) -> str | None:
    if wanted is not None:
        if wanted not in keys:
            raise DatasetError(
                f"{path.name} has no array {wanted!r} for the {what}; it holds {list(keys)}. "
                f"Pass one of those as {arg}=..."
            )
        return wanted
    for k in candidates:
        if k in keys:
            return k
    return None


def _pick_xy(keys: Sequence[str], x_key, y_key, path: Path) -> tuple[str, str | None]:
    """Names of the inputs and labels arrays in an .npz or HDF5 file (labels may be absent)."""
    kx = _pick_key(keys, x_key, X_KEYS, "inputs", path, "x_key")
    ky = _pick_key(keys, y_key, Y_KEYS, "labels", path, "y_key")
    if kx is None:
        raise DatasetError(
            f"{path.name} has no array with a known name for the inputs; it holds {list(keys)}. "
            f"Name them with x_key=... and y_key=... (known names: {', '.join(X_KEYS)} / "
            f"{', '.join(Y_KEYS)})."
        )
    return kx, ky


def _load_npz(path: Path, x_key, y_key) -> tuple[np.ndarray, np.ndarray | None, tuple | None]:
    try:
        with np.load(path, allow_pickle=False) as z:
            keys = list(z.files)
            kx, ky = _pick_xy(keys, x_key, y_key, path)
            X = z[kx]
            y = z[ky] if ky is not None else None
            names = None
            for k in ("class_names", "classes", "label_names"):
                if k in keys:
                    names = tuple(str(s) for s in z[k].tolist())
            return X, y, names
    except ValueError as exc:
        if "pickle" in str(exc).lower():
            raise DatasetError(
                f"{path.name} holds Python objects that can only be read by unpickling, which can "
                "run code, so it was not read. Save plain numeric or string arrays instead "
                "(np.savez with arrays of numbers or fixed-width strings)."
            ) from None
        raise DatasetError(f"{path.name} could not be read as .npz: {exc}") from None
    except (OSError, EOFError) as exc:
        raise DatasetError(f"{path.name} could not be read as .npz ({exc}); it may be truncated.") from None


def _load_npy(path: Path) -> np.ndarray:
    try:
        return np.load(path, allow_pickle=False)
    except ValueError as exc:
        if "pickle" in str(exc).lower():
            raise DatasetError(
                f"{path.name} is a pickled (object) array; reading it would unpickle, which can "
                "run code, so it was not read. Save it as a numeric or fixed-width string array."
            ) from None
        raise DatasetError(f"{path.name} could not be read as .npy: {exc}") from None
    except (OSError, EOFError) as exc:
        raise DatasetError(f"{path.name} could not be read as .npy ({exc}).") from None


def _split_frame(df, label_column, feature_columns, name: str):
    """Features and labels of a table: a float32 matrix when every feature is numeric, else
    :class:`NamedInputs` (one text column alone: an array of strings)."""
    import pandas as pd

    cols = [str(c) for c in df.columns]
    label_column = _label_column(cols, label_column, name)
    if feature_columns is None:
        feature_columns = [c for c in df.columns if c != label_column]
    else:
        missing = [c for c in feature_columns if c not in df.columns]
        if missing:
            raise DatasetError(f"{name} has no column(s) {missing}; its columns are {cols[:30]}.")
    feats = df[list(feature_columns)]
    numeric = [pd.api.types.is_numeric_dtype(feats[c]) or pd.api.types.is_bool_dtype(feats[c])
               for c in feats.columns]
    if all(numeric):
        X = feats.to_numpy(dtype=np.float32)
    elif len(feats.columns) == 1:
        X = feats.iloc[:, 0].astype(str).to_numpy().astype(str)
    else:
        X = NamedInputs({str(c): feats[c] for c in feats.columns})
    y = _labels_of(df[label_column]) if label_column is not None else None
    return X, y, tuple(str(c) for c in feature_columns)


def _label_column(cols: list[str], label_column, name: str) -> str | None:
    if label_column is None:
        for cand in ("label", "labels", "target", "y", "class"):
            if cand in cols:
                return cand
        return None
    if label_column not in cols:
        raise DatasetError(
            f"{name} has no column {label_column!r}; its columns are {cols[:30]}. "
            "Pass the label column's name with label_column=... (--label-column)."
        )
    return label_column


def _labels_of(series) -> np.ndarray:
    y = series.to_numpy()
    if y.dtype == object or not isinstance(y.dtype, np.dtype):
        y = np.asarray(y, dtype=object).astype(str)
    return y


#: Parquet files whose columns take more than this are read row group by row group.
PARQUET_IN_MEMORY_BYTES = 256 << 20


def _load_parquet(path: Path, label_column, feature_columns):
    import pyarrow.parquet as pq

    try:
        pf = pq.ParquetFile(path)
    except Exception as exc:  # noqa: BLE001 - pyarrow raises many kinds
        raise DatasetError(f"{path.name} could not be read as Parquet ({exc}).") from None
    size = sum(pf.metadata.row_group(i).total_byte_size for i in range(pf.metadata.num_row_groups))
    if size <= PARQUET_IN_MEMORY_BYTES:
        return _split_frame(pf.read().to_pandas(), label_column, feature_columns, path.name)
    cols = [str(c) for c in pf.schema_arrow.names]
    label_column = _label_column(cols, label_column, path.name)
    feats = list(feature_columns) if feature_columns is not None else [c for c in cols if c != label_column]
    missing = [c for c in feats if c not in cols]
    if missing:
        raise DatasetError(f"{path.name} has no column(s) {missing}; its columns are {cols[:30]}.")
    y = _labels_of(pf.read(columns=[label_column]).to_pandas()[label_column]) if label_column else None
    return ParquetRows(path, feats), y, tuple(feats)


def _load_image_folder(path: Path, image_size, color_mode) -> tuple[ImageFiles, np.ndarray, tuple]:
    """The image files of a folder with one sub-folder per class (read on demand)."""
    try:
        import PIL  # noqa: F401
    except ImportError:  # pragma: no cover - pillow is a dependency
        raise DatasetError("Reading a folder of images needs Pillow: pip install pillow.") from None
    classes = sorted(d.name for d in path.iterdir() if d.is_dir())
    if not classes:
        raise DatasetError(
            f"{path} has no sub-folders; an image dataset needs one sub-folder per class."
        )
    files, labels = [], []
    for i, c in enumerate(classes):
        for f in sorted((path / c).rglob("*")):
            if f.suffix.lower() in IMAGE_SUFFIXES and f.is_file():
                files.append(f)
                labels.append(i)
    if not files:
        raise DatasetError(
            f"{path} has class folders {classes[:10]} but no images in them "
            f"(looked for {', '.join(IMAGE_SUFFIXES)})."
        )
    X = ImageFiles(files, image_size, color_mode)
    return X, np.asarray(labels), tuple(classes)


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
          resized and converted to what the model takes).
        - an array (with ``y``), a DataFrame, a dict of arrays by input name, a list of
          arrays in the model's input order, a ``tf.data.Dataset`` of ``(x, y)`` (streamed;
          ``keras.utils.image_dataset_from_directory`` keeps its file paths), or a tuple
          ``(X, y)``.
    y : array-like or path-like, default=None
        Labels, when ``source`` holds inputs only.
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

    if isinstance(source, tuple) and len(source) == 2 and y is None:
        source, y = source

    if isinstance(source, (str, os.PathLike)):
        path = Path(source).expanduser()
        src_path = path
        name = name or path.name
        if not path.exists():
            raise DatasetError(f"Dataset path {str(path)!r} does not exist; check the path.")
        if path.is_dir():
            X, y_arr, folder_names = _load_image_folder(path, image_size, mode)
            kind = "image"
            names = names or folder_names
        else:
            if path.stat().st_size == 0:
                raise DatasetError(f"{path} is empty (0 bytes).")
            suffix = path.suffix.lower()
            if y is not None:
                label_column = None
            if suffix == ".npz":
                X, y_arr, npz_names = _load_npz(path, x_key, y_key)
                names = names or npz_names
            elif suffix == ".npy":
                X = _load_npy(path)
                y_arr = None
            elif suffix in (".parquet", ".pq"):
                X, y_arr, feats = _load_parquet(path, label_column, feature_columns)
                kind = "tabular"
            elif suffix in (".csv", ".tsv", ".txt"):
                import pandas as pd

                try:
                    df = pd.read_csv(path, sep="\t" if suffix == ".tsv" else ",")
                except Exception as exc:  # noqa: BLE001 - pandas raises many kinds
                    raise DatasetError(f"{path.name} could not be read as a table ({exc}).") from None
                X, y_arr, feats = _split_frame(df, label_column, feature_columns, path.name)
                kind = "tabular"
            elif suffix in (".h5", ".hdf5"):
                X, y_arr = _load_hdf5(path, x_key, y_key)
            else:
                raise DatasetError(
                    f"{path.name}: unknown data format {suffix or '(no extension)'!r}; expected "
                    ".npz, .npy, .csv, .tsv, .parquet, .h5/.hdf5 or a folder of images."
                )
        if y is not None:
            if isinstance(y, (str, os.PathLike)):
                yp = Path(y).expanduser()
                if not yp.exists():
                    raise DatasetError(f"Label file {str(yp)!r} does not exist.")
                y_arr = _load_npy(yp) if yp.suffix.lower() == ".npy" else np.loadtxt(yp, dtype=str)
            else:
                y_arr = np.asarray(y)
    elif _looks_like_tf_dataset(source):
        X = TFDataStream(source)
        y_arr = None if y is None else np.asarray(y)
        names = names or X.class_names
        name = name or "tf.data.Dataset"
        if len(X.row_shape) in (2, 3):
            kind = "image"
    elif type(source).__name__ == "DataFrame":
        if y is not None:
            X, _, feats = _split_frame(source, None, feature_columns, name or "DataFrame")
            y_arr = np.asarray(y)
        else:
            X, y_arr, feats = _split_frame(source, label_column, feature_columns, name or "DataFrame")
        kind = "tabular"
        name = name or "DataFrame"
    elif isinstance(source, dict) or _is_input_list(source, y):
        positional = isinstance(source, list)
        X = NamedInputs(source if isinstance(source, dict)
                        else {f"input_{i}": a for i, a in enumerate(source)})
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
        X=X, y=y_arr, class_names=names, name=name or "data", kind=kind,
        feature_names=feats, source=src_path, preprocess=preprocess, color_mode=mode,
        positional=positional,
    )


def _is_input_list(source, y) -> bool:
    """A list of arrays, one per model input (not a list of rows)."""
    return (isinstance(source, list) and 1 < len(source) < 64 and y is not None
            and all(isinstance(a, np.ndarray) and a.ndim >= 1 for a in source)
            and all(len(a) == len(y) for a in source) and len(source) != len(y))


def _load_hdf5(path: Path, x_key, y_key) -> tuple[H5Array, np.ndarray | None]:
    import h5py

    try:
        with h5py.File(path, "r") as f:
            keys = [k for k in f.keys() if isinstance(f[k], h5py.Dataset)]
            if "model_config" in f.attrs:
                raise DatasetError(
                    f"{path.name} is a Keras model file, not a dataset; pass it as "
                    "the model and a data file as the dataset."
                )
    except OSError as exc:
        raise DatasetError(f"{path.name} could not be read as HDF5 ({exc}).") from None
    kx, ky = _pick_xy(keys, x_key, y_key, path)
    y_arr = np.asarray(H5Array(path, ky)) if ky is not None else None
    if y_arr is not None and y_arr.dtype.kind == "S":
        y_arr = y_arr.astype(str)
    return H5Array(path, kx), y_arr
