"""What a Dask cluster's workers read: partitions of files listed on the client, or of a Dask
collection, turned back into a :class:`~h5eval_widgets.core.data.datasets.Dataset` on the worker.

The client only lists files (with fsspec, so ``s3://``, ``gs://`` and the like work when their
filesystem package is installed) and reads their metadata (size, ETag or modification time),
which also keys the prediction cache; the workers open the files. Nothing here imports
TensorFlow or Dask.
"""

from __future__ import annotations

import hashlib
import posixpath
import shutil
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, Iterator

import numpy as np

from ..data.datasets import Dataset, load_dataset
from ..errors import DatasetError, H5EvalError
from ..data.images import ImageFiles, color_mode_of
from ..data.readers import IMAGE_SUFFIXES, split_frame

__all__ = [
    "Part",
    "FileListing",
    "list_files",
    "open_part",
    "TABLE_SUFFIXES",
    "LOCAL_PROTOCOLS",
    "workers_read",
    "read_here",
    "arrays_to_send",
]

TABLE_SUFFIXES = (".parquet", ".pq", ".csv", ".tsv")
LOCAL_PROTOCOLS = ("file", "local")
#: Metadata that changes when a file's content does, best first (S3/GCS/Azure/local).
_VERSION_FIELDS = (
    "ETag",
    "etag",
    "md5Hash",
    "content_md5",
    "mtime",
    "LastModified",
    "last_modified",
    "updated",
    "created",
)


@dataclass(frozen=True)
class Part:
    """One partition, as a worker gets it: small and picklable.

    Attributes
    ----------
    kind : {'array', 'frame', 'table', 'image'}
        A block of a dask array, a partition of a dask dataframe (both handed to the task), or
        files read on the worker.
    index : int
        Position of the partition; outputs are put back in this order.
    files : tuple of str
        Paths (local) or URLs of the files of a 'table' or 'image' partition.
    labels_given : bool
        Labels come from the client (image folders, ``y=``): none are read from the partition.
    options : dict
        ``label_column``, ``feature_columns``, ``image_size``, ``color_mode``, ``preprocess``,
        ``storage_options``.
    """

    kind: str
    index: int
    name: str
    files: tuple[str, ...] = ()
    labels_given: bool = False
    local: bool = True
    options: dict = field(default_factory=dict)


@dataclass
class FileListing:
    """Files found on the client, in the order outputs come back.

    Attributes
    ----------
    kind : {'table', 'image'}
    files : list of str
    key : str
        SHA-256 of each file's relative name, size and version (ETag or modification time).
    labels, class_names : ndarray, tuple of str or None
        Of an image folder (from the sub-folders' names); None for tables.
    """

    kind: str
    files: list[str]
    key: str
    name: str
    local: bool
    labels: np.ndarray | None = None
    class_names: tuple[str, ...] | None = None


def _protocol(fs) -> str:
    return fs.protocol if isinstance(fs.protocol, str) else fs.protocol[0]


def _version(info: dict) -> str:
    for k in _VERSION_FIELDS:
        if info.get(k) is not None:
            return f"{k}={info[k]}"
    return "unversioned"


def list_files(source, storage_options: dict | None = None) -> FileListing:
    """List a folder, a glob or a file of Parquet/CSV tables, or an image folder (one sub-folder
    per class), without reading any file's content.

    Parameters
    ----------
    source : str or path-like
        A local path or an fsspec URL (``s3://bucket/test/*.parquet``, ``gs://b/photos/``).
    storage_options : dict, default=None
        Passed to fsspec (credentials, endpoint, ...).

    Returns
    -------
    FileListing
    """
    try:
        from fsspec.core import url_to_fs
    except ImportError:  # pragma: no cover - fsspec comes with dask
        raise DatasetError("Listing files for a cluster needs fsspec: pip install fsspec.") from None
    text = str(Path(source).expanduser()) if not isinstance(source, str) or "://" not in source else source
    try:
        fs, root = url_to_fs(text, **(storage_options or {}))
    except (ImportError, ValueError) as exc:
        raise DatasetError(
            f"{text}: no filesystem for this URL ({exc}); install its fsspec package "
            "(s3fs for s3://, gcsfs for gs://, adlfs for az://)."
        ) from None
    local = _protocol(fs) in LOCAL_PROTOCOLS
    magic = any(c in root for c in "*?[")
    if magic:
        infos = {p: i for p, i in fs.glob(root, detail=True).items() if i.get("type") != "directory"}
        base = root[: min(root.index(c) for c in "*?[" if c in root)].rsplit("/", 1)[0]
    elif fs.isdir(root):
        infos, base = fs.find(root, detail=True), root.rstrip("/")
    elif fs.exists(root):
        infos, base = {root: fs.info(root)}, root.rsplit("/", 1)[0]
    else:
        raise DatasetError(f"Dataset path {text!r} does not exist; check the path.")
    name = posixpath.basename(root.rstrip("/")) or text
    # plain string operations: 3,000 PurePosixPath objects took half of the listing's time
    rel = {p: tuple(p[len(base) :].lstrip("/").split("/")) for p in infos}
    suffix = {p: posixpath.splitext(p)[1].lower() for p in infos}
    tables = [p for p in infos if suffix[p] in TABLE_SUFFIXES]
    if tables:
        kinds = {suffix[p].replace(".pq", ".parquet") for p in tables}
        if len(kinds) > 1:
            raise DatasetError(
                f"{text} holds tables of several formats ({sorted(kinds)}); "
                "give a glob that picks one, e.g. '*.parquet'."
            )
        files = sorted(tables, key=rel.__getitem__)
        return FileListing("table", _urls(fs, files, local), _key(files, infos, rel), name, local)
    images = [p for p in infos if suffix[p] in IMAGE_SUFFIXES and len(rel[p]) >= 2]
    if magic or not images:
        raise DatasetError(
            f"{text} holds no {'/'.join(s.lstrip('.') for s in TABLE_SUFFIXES)} tables and is not "
            f"an image folder with one sub-folder of images per class; give such a folder or a "
            "glob of table files (on a cluster, .npz/.h5 files are read by a single process: "
            "leave out client=)."
        )
    classes = sorted(
        posixpath.basename(d["name"].rstrip("/")) for d in fs.ls(root, detail=True) if d.get("type") == "directory"
    )
    number = {c: i for i, c in enumerate(classes)}
    images = [p for p in images if rel[p][0] in number]
    files = sorted(images, key=lambda p: (number[rel[p][0]], rel[p]))
    labels = np.asarray([number[rel[p][0]] for p in files])
    return FileListing(
        "image",
        _urls(fs, files, local),
        _key(files, infos, rel),
        name,
        local,
        labels=labels,
        class_names=tuple(classes),
    )


def _urls(fs, files: list[str], local: bool) -> list[str]:
    return list(files) if local else [fs.unstrip_protocol(p) for p in files]


def _key(files, infos, rel) -> str:
    h = hashlib.sha256(b"files")
    for p in files:
        info = infos[p]
        h.update(f"\0{'/'.join(rel[p])}|{info.get('size')}|{_version(info)}".encode())
    return h.hexdigest()


def file_parts(listing: FileListing, files_per_partition: int, options: dict) -> list[Part]:
    """The listing cut into partitions of ``files_per_partition`` files, in order."""
    step = max(1, int(files_per_partition))
    return [
        Part(
            listing.kind,
            i,
            f"{listing.name}[{i}]",
            tuple(listing.files[a : a + step]),
            labels_given=listing.kind == "image",
            local=listing.local,
            options=options,
        )
        for i, a in enumerate(range(0, len(listing.files), step))
    ]


# ---------------------------------------------------------------------------- on the worker
def _read_table(url: str, local: bool, storage_options: dict | None):
    import pandas as pd

    extra = {} if local else {"storage_options": storage_options or None}
    suffix = PurePosixPath(url).suffix.lower()
    try:
        if suffix in (".parquet", ".pq"):
            return pd.read_parquet(url, **extra)
        return pd.read_csv(url, sep="\t" if suffix == ".tsv" else ",", **extra)
    except Exception as exc:  # noqa: BLE001 - pandas and pyarrow raise many kinds
        raise DatasetError(f"{url} could not be read as a table ({exc}).") from None


def _table(part: Part, df) -> Dataset:
    opts = part.options
    label = None if part.labels_given else opts.get("label_column")
    X, y, feats, _ = split_frame(df, label, opts.get("feature_columns"), part.name)  # metadata: not sent back
    if part.labels_given:
        y = None
    kind = "text" if isinstance(X, np.ndarray) and X.dtype.kind in "US" else "tabular"
    return Dataset(X=X, y=y, name=part.name, kind=kind, feature_names=feats, preprocess=opts.get("preprocess"))


@contextmanager
def open_part(part: Part, block: Any = None) -> Iterator[Dataset]:
    """The partition as a Dataset, read on the worker (downloaded copies of remote images are
    deleted on exit)."""
    opts = part.options
    if part.kind == "array":
        yield load_dataset(np.asarray(block), None, preprocess=opts.get("preprocess"), name=part.name)
    elif part.kind == "frame":
        yield _table(part, block)
    elif part.kind == "table":
        import pandas as pd

        frames = [_read_table(u, part.local, opts.get("storage_options")) for u in part.files]
        yield _table(part, frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True))
    elif part.kind == "image":
        folder = None
        files = list(part.files)
        try:
            if not part.local:
                import fsspec

                folder = Path(tempfile.mkdtemp(prefix="h5eval-images-"))
                local = [folder / f"{i:07d}{PurePosixPath(u).suffix}" for i, u in enumerate(files)]
                for u, dst in zip(files, local):
                    with fsspec.open(u, "rb", **(opts.get("storage_options") or {})) as src, open(dst, "wb") as out:
                        shutil.copyfileobj(src, out)
                files = local
            mode = color_mode_of(opts.get("color_mode"))
            X = ImageFiles(files, opts.get("image_size"), mode)
            yield Dataset(X=X, y=None, name=part.name, kind="image", preprocess=opts.get("preprocess"), color_mode=mode)
        finally:
            if folder is not None:
                shutil.rmtree(folder, ignore_errors=True)
    else:  # pragma: no cover - parts are made in this package
        raise ValueError(f"unknown partition kind {part.kind!r}")


# ---------------------------------------------------------------------------- the notebook's side
def workers_read(src, storage_options: dict | None = None) -> bool:
    """Whether a cluster's workers read ``src`` (a path or fsspec URL) themselves: tables
    (Parquet/CSV files, folders, globs) and image folders. Other data is read where the client
    runs and sent in partitions (:func:`arrays_to_send`)."""
    try:
        list_files(src, storage_options)
    except H5EvalError:
        return False
    return True


def read_here(src, name: str, options: dict):
    """The data the workers read, read where the client runs to show its samples, in the same
    order: tables file by file (through fsspec for URLs), image folders from this machine's
    disk. None for images behind a remote URL (they are not shown).

    ``options`` are the dashboard's dataset options (``storage_options`` among them)."""
    from .._lazy import pd

    so = options.get("storage_options")
    listing = list_files(src, so)
    options = {k: v for k, v in options.items() if k not in ("storage_options", "files_per_partition", "name")}
    if listing.kind == "table":
        extra = {} if listing.local else {"storage_options": so or None}
        frames = [
            pd.read_parquet(u, **extra)
            if u.lower().endswith((".parquet", ".pq"))
            else pd.read_csv(u, sep="\t" if u.lower().endswith(".tsv") else ",", **extra)
            for u in listing.files
        ]
        frame = frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)
        return load_dataset(frame, name=name, **options)
    if listing.local:
        local = str(src).split("://", 1)[1] if "://" in str(src) else src
        return load_dataset(local, name=name, **options)
    return None


def arrays_to_send(data, name: str):
    """``(X, y)`` of a dataset read here, to send to the cluster in partitions."""
    if data is None or not hasattr(data.X, "shape") or data.y is None:
        raise DatasetError(
            f"{name} cannot be sent to the Dask cluster: give it as Parquet/CSV files "
            "or an image folder (a path or URL), or as arrays."
        )
    return np.asarray(data.X), np.asarray(data.y)
