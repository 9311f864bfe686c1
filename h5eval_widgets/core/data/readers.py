"""Readers of data files: ``.npz``, ``.npy``, CSV/TSV and Parquet tables, HDF5, image and audio
folders.

Every reader is read-only and never unpickles; large files come back as sources read on
demand (:class:`~.sources.H5Array`, :class:`~.sources.ParquetRows`, :class:`~.images.ImageFiles`).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Sequence

import numpy as np

from ..errors import DatasetError
from .audio import AUDIO_SUFFIXES, AudioFiles, audio_files_in
from .images import ImageFiles
from .sources import H5Array, NamedInputs, ParquetRows

__all__ = ["read_file", "read_labels", "split_frame", "X_KEYS", "Y_KEYS", "IMAGE_SUFFIXES"]

X_KEYS = ("x_test", "X_test", "x", "X", "features", "inputs", "data", "images")
Y_KEYS = ("y_test", "Y_test", "y", "Y", "labels", "label", "targets", "target")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp")


def read_file(
    path: Path,
    *,
    labels_given: bool,
    x_key,
    y_key,
    label_column,
    feature_columns,
    image_size,
    color_mode,
    sequence_length: int | None = None,
):
    """The inputs of a data file or image folder.

    Returns
    -------
    X, y, class_names, feature_names, kind, metadata
        ``y`` and ``class_names`` are None when the file does not hold them; ``kind`` is
        ``'image'``, ``'tabular'`` or ``'array'`` (settled later from the array's shape);
        ``metadata`` is a DataFrame of the columns that are not model inputs (see
        :func:`split_frame`) or of an image folder's sub-folders (see
        :func:`folder_metadata`), else None. A folder's hidden files are left out (see
        :func:`hidden_note`).
    """
    if path.is_dir():
        audio = _load_audio_folder(path, sequence_length)
        if audio is not None:  # .wav files in the class folders, no images
            return (*audio, None, "audio", folder_metadata(path, audio[2], audio[0].files))
        X, y, names = _load_image_folder(path, image_size, color_mode)
        return X, y, names, None, "image", folder_metadata(path, names, X.files)
    if path.stat().st_size == 0:
        raise DatasetError(f"{path} is empty (0 bytes).")
    suffix = path.suffix.lower()
    if labels_given:
        label_column = None
    if suffix == ".npz":
        X, y, names, feats, meta = _load_npz(path, x_key, y_key)
        return X, y, names, feats, "array", meta
    if suffix == ".npy":
        return _load_npy(path), None, None, None, "array", None
    if suffix in (".parquet", ".pq"):
        X, y, feats, meta = _load_parquet(path, label_column, feature_columns)
        return X, y, None, feats, "tabular", meta
    if suffix in (".csv", ".tsv", ".txt"):
        import pandas as pd

        try:
            df = pd.read_csv(path, sep="\t" if suffix == ".tsv" else ",")
        except Exception as exc:  # noqa: BLE001 - pandas raises many kinds
            raise DatasetError(f"{path.name} could not be read as a table ({exc}).") from None
        X, y, feats, meta = split_frame(df, label_column, feature_columns, path.name)
        return X, y, None, feats, "tabular", meta
    if suffix in (".h5", ".hdf5"):
        X, y = _load_hdf5(path, x_key, y_key)
        return X, y, None, None, "array", None
    raise DatasetError(
        f"{path.name}: unknown data format {suffix or '(no extension)'!r}; expected "
        ".npz, .npy, .csv, .tsv, .parquet, .h5/.hdf5 or a folder of images."
    )


def read_labels(y) -> np.ndarray:
    """Labels given beside the inputs: an array, or a ``.npy``/text file of them."""
    if not isinstance(y, (str, os.PathLike)):
        return np.asarray(y)
    yp = Path(y).expanduser()
    if not yp.exists():
        raise DatasetError(f"Label file {str(yp)!r} does not exist.")
    return _load_npy(yp) if yp.suffix.lower() == ".npy" else np.loadtxt(yp, dtype=str)


def _pick_key(
    keys: Sequence[str], wanted: str | None, candidates: Sequence[str], what: str, path: Path, arg: str
) -> str | None:
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


#: Arrays of an ``.npz`` named so are metadata columns (``meta_writer`` -> column ``writer``).
NPZ_META_PREFIX = "meta_"


def _load_npz(path: Path, x_key, y_key):
    """Inputs, labels, class names, feature names (one per column of 2-D inputs) and metadata
    (the 1-D arrays named ``meta_<column>``, one value per sample; else None) of an .npz."""
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
            feats = None
            if "feature_names" in keys and X.ndim == 2 and z["feature_names"].size == X.shape[1]:
                feats = tuple(str(s) for s in z["feature_names"].tolist())
            columns = {
                k[len(NPZ_META_PREFIX) :]: z[k]
                for k in keys
                if k.startswith(NPZ_META_PREFIX) and z[k].ndim == 1 and len(z[k]) == len(X)
            }
            meta = None
            if columns:
                import pandas as pd

                meta = pd.DataFrame(columns)
            return X, y, names, feats, meta
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


def split_frame(df, label_column, feature_columns, name: str):
    """Features, labels and metadata of a table.

    The features are a float32 matrix when every one is numeric, else :class:`NamedInputs`
    (one text column alone: an array of strings).

    Which columns the model gets is unchanged by metadata: without ``feature_columns`` every
    column but the label is a feature (as before) and there is no metadata; with
    ``feature_columns`` the columns that are neither features nor the label become the
    metadata (a DataFrame, rows in the table's order, index 0..n-1), which the evaluation
    keeps for :meth:`~h5eval_widgets.core.Evaluation.slices`.

    Returns
    -------
    X, y, feature_names, metadata
    """
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
    numeric = [pd.api.types.is_numeric_dtype(feats[c]) or pd.api.types.is_bool_dtype(feats[c]) for c in feats.columns]
    if all(numeric):
        X = feats.to_numpy(dtype=np.float32)
    elif len(feats.columns) == 1:
        X = feats.iloc[:, 0].astype(str).to_numpy().astype(str)
    else:
        X = NamedInputs({str(c): feats[c] for c in feats.columns})
    y = _labels_of(df[label_column]) if label_column is not None else None
    used = set(feature_columns) | {label_column}
    rest = [c for c in df.columns if c not in used]
    meta = df[rest].reset_index(drop=True) if rest else None
    return X, y, tuple(str(c) for c in feature_columns), meta


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
        return split_frame(pf.read().to_pandas(), label_column, feature_columns, path.name)
    cols = [str(c) for c in pf.schema_arrow.names]
    label_column = _label_column(cols, label_column, path.name)
    feats = list(feature_columns) if feature_columns is not None else [c for c in cols if c != label_column]
    missing = [c for c in feats if c not in cols]
    if missing:
        raise DatasetError(f"{path.name} has no column(s) {missing}; its columns are {cols[:30]}.")
    y = _labels_of(pf.read(columns=[label_column]).to_pandas()[label_column]) if label_column else None
    rest = [c for c in cols if c not in set(feats) | {label_column}]
    # only the metadata columns are read whole (the features are read row group by row group)
    meta = pf.read(columns=rest).to_pandas().reset_index(drop=True) if rest else None
    return ParquetRows(path, feats), y, tuple(feats), meta


def is_hidden(f: Path, root: Path) -> bool:
    """Whether ``f`` or a folder between ``root`` and it is hidden (its name starts with '.', as
    macOS's ``._photo.jpg`` copies and Jupyter's ``.ipynb_checkpoints`` folders do)."""
    return any(part.startswith(".") for part in f.relative_to(root).parts)


def class_folders(path: Path) -> list[str]:
    """The class folders of ``path``: its sub-folders, hidden ones left out, in name order."""
    return sorted(d.name for d in path.iterdir() if d.is_dir() and not d.name.startswith("."))


def hidden_note(path: Path) -> list[str]:
    """A note naming the hidden folders and sample files of a folder of class folders that are
    skipped ([] when there is none)."""
    folders = sorted(d.name for d in path.iterdir() if d.is_dir() and d.name.startswith("."))
    files = [
        f
        for c in class_folders(path)
        for f in sorted((path / c).rglob("*"))
        if f.suffix.lower() in (*IMAGE_SUFFIXES, *AUDIO_SUFFIXES) and is_hidden(f, path)
    ]
    if not folders and not files:
        return []
    parts = []
    if folders:
        parts.append(f"{len(folders)} hidden folder(s) not read as classes ({', '.join(folders[:3])})")
    if files:
        parts.append(f"{len(files)} hidden file(s) in the class folders (e.g. {files[0].relative_to(path)})")
    return [f"{path.name}: skipped {' and '.join(parts)}; names starting with '.' are left out."]


def _load_image_folder(path: Path, image_size, color_mode) -> tuple[ImageFiles, np.ndarray, tuple]:
    """The image files of a folder with one sub-folder per class (read on demand)."""
    try:
        import PIL  # noqa: F401 - only to say what is missing
    except ImportError:  # pragma: no cover - pillow is a dependency
        raise DatasetError("Reading a folder of images needs Pillow: pip install pillow.") from None
    classes = class_folders(path)
    if not classes:
        raise DatasetError(f"{path} has no sub-folders; an image dataset needs one sub-folder per class.")
    files, labels = [], []
    for i, c in enumerate(classes):
        for f in sorted((path / c).rglob("*")):
            if f.suffix.lower() in IMAGE_SUFFIXES and f.is_file() and not is_hidden(f, path):
                files.append(f)
                labels.append(i)
    if not files:
        raise DatasetError(
            f"{path} has class folders {classes[:10]} but no images in them (looked for {', '.join(IMAGE_SUFFIXES)})."
        )
    X = ImageFiles(files, image_size, color_mode)
    return X, np.asarray(labels), tuple(classes)


def _load_audio_folder(path: Path, length: int | None):
    """``(AudioFiles, labels, class names)`` of a folder of class folders of .wav files (and no
    images), else None."""
    classes = class_folders(path)
    files, labels = audio_files_in(path, classes)
    if not files or any(f.suffix.lower() in IMAGE_SUFFIXES for c in classes for f in (path / c).rglob("*")):
        return None
    return AudioFiles(files, length), np.asarray(labels), tuple(classes)


def folder_metadata(root: Path, classes: Sequence[str], files: Sequence[Path]):
    """The sub-folders of an image folder below the class level, as metadata columns.

    ``root/cat/indoor/x.jpg`` gives ``folder = 'indoor'``; deeper levels add ``folder_2``,
    ``folder_3``, ... (``root/cat/indoor/day/x.jpg``: ``folder = 'indoor'``,
    ``folder_2 = 'day'``). A file with fewer levels has a missing value (NaN) in the levels it
    lacks, e.g. a file directly in its class folder. None when no file is in a sub-folder.
    """
    import pandas as pd

    levels = [Path(f).relative_to(root).parts[1:-1] for f in files]
    depth = max((len(p) for p in levels), default=0)
    if depth == 0:
        return None
    names = ["folder"] + [f"folder_{i}" for i in range(2, depth + 1)]
    return pd.DataFrame(
        {name: pd.Series([p[i] if len(p) > i else None for p in levels], dtype=object) for i, name in enumerate(names)}
    )


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
