"""Which files hold the predictions: a file, a glob, a folder of a batch job's part files, or a
list of them, checked to be Parquet or CSV of one format (what :mod:`.predictions_file` reads)."""

from __future__ import annotations

import glob
import os
from pathlib import Path
from typing import Sequence

from ..errors import DatasetError

__all__ = ["prediction_files"]

_FORMATS = {".parquet": "parquet", ".pq": "parquet", ".csv": "csv", ".tsv": "tsv", ".csv.gz": "csv", ".tsv.gz": "tsv"}


def _format_of(path: Path) -> str | None:
    name = path.name.lower()
    for suffix in sorted(_FORMATS, key=len, reverse=True):
        if name.endswith(suffix):
            return _FORMATS[suffix]
    return None


def _folder_files(folder: Path) -> list[Path]:
    """Data files under a folder, skipping what Spark and Arrow skip (``_SUCCESS``, ``.crc``,
    names starting with ``_`` or ``.``)."""
    return sorted(
        f
        for f in folder.rglob("*")
        if f.is_file()
        and _format_of(f)
        and not any(part.startswith(("_", ".")) for part in f.relative_to(folder).parts)
    )


def prediction_files(source: str | os.PathLike | Sequence[str | os.PathLike]) -> list[Path]:
    """The prediction files named by a path, a glob, a folder, or a list of them, sorted.

    Raises
    ------
    DatasetError
        Nothing matches, a folder holds no Parquet or CSV file, or the formats are mixed.
    """
    sources = [source] if isinstance(source, (str, os.PathLike)) else list(source)
    if not sources:
        raise DatasetError("No prediction file was given; pass a file, a glob or a folder.")
    files: set[Path] = set()
    for src in sources:
        text = os.path.expanduser(os.fspath(src))
        if any(ch in text for ch in "*?[") and not Path(text).exists():
            # a glob: its directories are searched; other files not of a job's output skipped
            matches = [Path(m) for m in sorted(glob.glob(text, recursive=True))]
            found = [
                f
                for m in matches
                for f in (_folder_files(m) if m.is_dir() else [m])
                if _format_of(f) and not f.name.startswith(("_", "."))
            ]
            if not found:
                raise DatasetError(
                    f"No .parquet or .csv file matches {text!r} (matched: "
                    f"{[m.name for m in matches[:10]]}); check the pattern and the folder."
                )
            files.update(found)
            continue
        p = Path(text)
        if p.is_dir():
            found = _folder_files(p)
            if not found:
                have = sorted(f.name for f in p.iterdir())[:20]
                raise DatasetError(
                    f"The folder {str(p)!r} holds no .parquet or .csv file (it has {have}); "
                    "pass the folder the batch job wrote its part files to."
                )
            files.update(found)
        elif p.is_file():
            if _format_of(p) is None:
                raise DatasetError(
                    f"{p.name}: predictions must be .parquet/.pq or .csv/.tsv (optionally .gz) "
                    "files; convert it, or pass the folder of part files."
                )
            files.add(p)
        else:
            raise DatasetError(f"Predictions path {text!r} does not exist; check the path.")
    out = sorted(files)
    kinds = {_format_of(f) for f in out}
    if len(kinds) > 1:
        raise DatasetError(
            f"The predictions mix file formats ({sorted(kinds)}: {[f.name for f in out[:6]]}); "
            "pass the files of one job only, for example a glob such as 'out/*.parquet'."
        )
    return out
