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
    X : ndarray or H5Array
        Inputs, first axis = samples. An :class:`H5Array` is read in slices.
    y : ndarray or None
        Labels as given (indices, one-hot, strings or numbers); encoded during evaluation.
    class_names : tuple of str or None
    name : str
    kind : {'image', 'tabular', 'text', 'array'}
        How the samples view shows a sample.
    feature_names : tuple of str or None
        Column names for tabular data.
    """

    X: Any
    y: np.ndarray | None
    class_names: tuple[str, ...] | None = None
    name: str = "data"
    kind: str = "array"
    feature_names: tuple[str, ...] | None = None
    source: Path | None = None
    notes: list[str] = field(default_factory=list)
    _fingerprint: str | None = None

    def __post_init__(self):
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
    def fingerprint(self) -> str:
        """SHA-256 of the inputs' content (what predictions depend on), computed once."""
        if self._fingerprint is None:
            self._fingerprint = _digest_rows(self.X)
        return self._fingerprint

    def sample(self, i: int):
        """One input row as a numpy array."""
        return np.asarray(self.X[int(i)])

    def __repr__(self) -> str:
        return (
            f"Dataset({self.name!r}, kind={self.kind!r}, X shape={tuple(self.X.shape)}, "
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
    import pandas as pd

    cols = [str(c) for c in df.columns]
    if label_column is None:
        for cand in ("label", "labels", "target", "y", "class"):
            if cand in cols:
                label_column = cand
                break
    if label_column is not None and label_column not in df.columns:
        raise DatasetError(
            f"{name} has no column {label_column!r}; its columns are {cols[:30]}. "
            "Pass the label column's name with label_column=... (--label-column)."
        )
    if feature_columns is None:
        feature_columns = [c for c in df.columns if c != label_column]
    else:
        missing = [c for c in feature_columns if c not in df.columns]
        if missing:
            raise DatasetError(f"{name} has no column(s) {missing}; its columns are {cols[:30]}.")
    feats = df[list(feature_columns)]
    non_numeric = [str(c) for c in feats.columns
                   if not (pd.api.types.is_numeric_dtype(feats[c]) or pd.api.types.is_bool_dtype(feats[c]))]
    if non_numeric:
        raise DatasetError(
            f"{name}: feature column(s) {non_numeric[:10]} are not numeric; encode them as the "
            "model's training pipeline did, or choose feature_columns=..."
        )
    X = feats.to_numpy(dtype=np.float32)
    y = df[label_column].to_numpy() if label_column is not None else None
    if y is not None and (y.dtype == object or not isinstance(y.dtype, np.dtype)):
        y = np.asarray(y, dtype=object).astype(str)
    return X, y, tuple(str(c) for c in feature_columns)


def _load_image_folder(path: Path, image_size, rescale) -> tuple[np.ndarray, np.ndarray, tuple]:
    try:
        from PIL import Image
    except ImportError:  # pragma: no cover - pillow is in the test extra
        raise DatasetError("Reading a folder of images needs Pillow: pip install pillow.") from None
    classes = sorted(d.name for d in path.iterdir() if d.is_dir())
    if not classes:
        raise DatasetError(
            f"{path} has no sub-folders; an image dataset needs one sub-folder per class."
        )
    files, labels = [], []
    for i, c in enumerate(classes):
        for f in sorted((path / c).iterdir()):
            if f.suffix.lower() in IMAGE_SUFFIXES:
                files.append(f)
                labels.append(i)
    if not files:
        raise DatasetError(
            f"{path} has class folders {classes[:10]} but no images in them "
            f"(looked for {', '.join(IMAGE_SUFFIXES)})."
        )
    images, mode = [], None
    for f in files:
        try:
            with Image.open(f) as im:
                if mode is None:
                    mode = "L" if im.mode in ("L", "1", "I;16") else "RGB"
                    image_size = image_size or im.size
                im = im.convert(mode)
                if im.size != tuple(image_size):
                    im = im.resize(tuple(image_size))
                images.append(np.asarray(im))
        except (OSError, ValueError) as exc:
            raise DatasetError(f"Image {f} could not be read ({exc}); remove or replace it.") from None
    X = np.stack(images).astype(np.float32)
    if rescale:
        X *= rescale
    return X, np.asarray(labels), tuple(classes)


def _looks_like_tf_dataset(obj) -> bool:
    return type(obj).__module__.startswith("tensorflow") and hasattr(obj, "as_numpy_iterator")


def _from_tf_dataset(ds) -> tuple[np.ndarray, np.ndarray | None]:
    xs, ys = [], []
    spec = ds.element_spec
    batched = (spec[0] if isinstance(spec, tuple) else spec).shape.rank not in (None, 0) and (
        (spec[0] if isinstance(spec, tuple) else spec).shape[0] is None
    )
    for item in ds.as_numpy_iterator():
        if isinstance(item, tuple):
            xs.append(item[0])
            ys.append(item[1])
        else:
            xs.append(item)
    stack = np.concatenate if batched else np.stack
    X = stack(xs)
    y = stack(ys) if ys else None
    return X, y


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
    rescale: float | None = 1 / 255,
    name: str | None = None,
) -> Dataset:
    """Read a test set, read-only and without unpickling.

    Parameters
    ----------
    source : path-like, ndarray, DataFrame, tf.data.Dataset, tuple or Dataset
        - ``.npz``: arrays named ``x``/``X``/``x_test``… and ``y``/``labels``/``y_test``…
          (or ``x_key``/``y_key``); optional ``class_names`` array.
        - ``.npy``: the inputs; ``y`` then names the labels' ``.npy`` (or is an array).
        - ``.csv``/``.tsv``/``.parquet``: one row per sample, ``label_column`` holds labels.
        - ``.h5``/``.hdf5``: datasets named by ``x_key``/``y_key`` (or the common names);
          the inputs are read in slices, never whole.
        - a folder with one sub-folder of images per class.
        - an array (with ``y``), a DataFrame, a ``tf.data.Dataset`` of ``(x, y)``, or
          a tuple ``(X, y)``.
    y : array-like or path-like, default=None
        Labels, when ``source`` holds inputs only.
    class_names : sequence of str or path-like, default=None
        Class names in the model's output order, or a text file (one per line) or JSON list.
    image_size : (width, height), default=None
        Resize images of an image folder (default: the first image's size).
    rescale : float, default=1/255
        Factor applied to image-folder pixels.
    name : str, default=None
        Display name (defaults to the file name).

    Returns
    -------
    Dataset
    """
    if isinstance(source, Dataset):
        return source
    names = _read_class_names(class_names)
    kind = "array"
    feats = None
    src_path = None
    notes: list[str] = []

    if isinstance(source, tuple) and len(source) == 2 and y is None:
        source, y = source

    if isinstance(source, (str, os.PathLike)):
        path = Path(source).expanduser()
        src_path = path
        name = name or path.name
        if not path.exists():
            raise DatasetError(f"Dataset path {str(path)!r} does not exist; check the path.")
        if path.is_dir():
            X, y_arr, folder_names = _load_image_folder(path, image_size, rescale)
            kind = "image"
            names = names or folder_names
            if rescale:
                notes.append(f"Image pixels multiplied by {rescale:g}.")
        else:
            if path.stat().st_size == 0:
                raise DatasetError(f"{path} is empty (0 bytes).")
            suffix = path.suffix.lower()
            if suffix == ".npz":
                X, y_arr, npz_names = _load_npz(path, x_key, y_key)
                names = names or npz_names
            elif suffix == ".npy":
                X = _load_npy(path)
                y_arr = None
            elif suffix in (".csv", ".tsv", ".txt", ".parquet", ".pq"):
                import pandas as pd

                try:
                    if suffix in (".parquet", ".pq"):
                        df = pd.read_parquet(path)
                    else:
                        df = pd.read_csv(path, sep="\t" if suffix == ".tsv" else ",")
                except Exception as exc:  # noqa: BLE001 - pandas raises many kinds
                    raise DatasetError(f"{path.name} could not be read as a table ({exc}).") from None
                if y is not None:
                    label_column = None
                X, y_arr, feats = _split_frame(df, label_column, feature_columns, path.name)
                kind = "tabular"
            elif suffix in (".h5", ".hdf5"):
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
                X = H5Array(path, kx)
                y_arr = np.asarray(H5Array(path, ky)) if ky is not None else None
                if y_arr is not None and y_arr.dtype.kind == "S":
                    y_arr = y_arr.astype(str)
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
        X, y_arr = _from_tf_dataset(source)
        if y is not None:
            y_arr = np.asarray(y)
        name = name or "tf.data.Dataset"
    elif type(source).__name__ == "DataFrame":
        if y is not None:
            X, _, feats = _split_frame(source, None, feature_columns, name or "DataFrame")
            y_arr = np.asarray(y)
        else:
            X, y_arr, feats = _split_frame(source, label_column, feature_columns, name or "DataFrame")
        kind = "tabular"
        name = name or "DataFrame"
    else:
        X = np.asarray(source)
        if X.dtype == object and all(isinstance(v, str) for v in X.ravel()[:1000]):
            X = X.astype(str)
        if X.dtype == object:
            raise DatasetError(
                "The inputs are an object array (mixed or ragged rows); pass a numeric array of "
                "one shape."
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
        feature_names=feats, source=src_path, notes=notes,
    )
