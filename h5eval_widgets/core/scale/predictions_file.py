"""Predictions made elsewhere: Parquet or CSV files written by a batch job, read in chunks.

A batch job (Spark, Ray Data, Beam, a warehouse export, ``pyarrow.dataset.write_dataset``)
writes one row per sample: the label, one probability column per class (or one column of
predicted values for regression) and often an id. :func:`read_predictions` reads one file, a
glob or a folder of such files chunk by chunk (``ParquetFile.iter_batches`` or
``pandas.read_csv(chunksize=...)``), only the columns needed, and
:func:`~.predictions_eval.evaluation_from_file` turns them into the same results as
:meth:`~h5eval_widgets.core.Evaluation.from_predictions`. Files are only read.
"""

from __future__ import annotations

import difflib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Sequence

import numpy as np

from .._lazy import pd
from ..errors import DatasetError, LabelError
from .prediction_sources import _format_of, prediction_files

__all__ = ["PredictionsTable", "read_predictions", "prediction_files", "check_columns", "DEFAULT_PREFIX", "CHUNK_ROWS"]

#: Probability columns are the columns starting with this, when neither is given.
DEFAULT_PREFIX = "p_"
#: Rows per chunk read.
CHUNK_ROWS = 65_536
_FIX = (
    "pass label_column=... (--label-column), proba_columns=[...] (--proba-columns) or "
    "proba_prefix=... (--proba-prefix), and id_column=... (--id-column)"
)


@dataclass(frozen=True)
class PredictionsTable:
    """What was read from the prediction files, rows in the evaluation's order.

    Attributes
    ----------
    labels : ndarray
        The label column as written (indices, strings, numbers).
    outputs : ndarray of shape (n_samples, n_outputs)
        The probability columns (or the predicted values), in ``output_columns`` order.
    ids : ndarray or None
        The id column, sorted (rows are in this order), or None without ``id_column``.
    output_columns : tuple of str
    files : tuple of Path
        The files read, in the order they were read.
    n_chunks : int
        How many chunks the files were read in.
    """

    labels: np.ndarray
    outputs: np.ndarray
    ids: np.ndarray | None
    output_columns: tuple[str, ...]
    files: tuple[Path, ...]
    n_chunks: int


def _columns_of(path: Path, fmt: str) -> list[str]:
    try:
        if fmt == "parquet":
            import pyarrow.parquet as pq

            return [str(c) for c in pq.read_schema(path).names]
        return [str(c) for c in pd.read_csv(path, sep="\t" if fmt == "tsv" else ",", nrows=0).columns]
    except ImportError:
        raise DatasetError(f"Reading {path.name} needs pyarrow: pip install 'h5eval-widgets[parquet]'.") from None
    except Exception as exc:  # noqa: BLE001 - pyarrow and pandas raise many kinds
        raise DatasetError(f"{path.name} could not be read as a {fmt} table ({exc}).") from None


# ------------------------------------------------------------------ columns
def _no_column(column: str, what: str, cols: Sequence[str], path: Path, fix: str) -> DatasetError:
    close = difflib.get_close_matches(column, cols, n=3, cutoff=0.6)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    return DatasetError(f"{path.name} has no {what} column {column!r}.{hint} Its columns are {list(cols)[:40]}; {fix}.")


def _output_columns(
    cols: list[str], path: Path, *, label_column: str, proba_columns, proba_prefix, pred_column, id_column
) -> list[str]:
    """The probability (or predicted value) columns, checked against the first file's columns."""
    if label_column not in cols:
        raise _no_column(
            label_column, "label", cols, path, "pass the label column's name with label_column=... (--label-column)"
        )
    if id_column is not None and id_column not in cols:
        raise _no_column(
            id_column,
            "id",
            cols,
            path,
            "pass the id column's name with id_column=... (--id-column), or leave it out to keep the files' order",
        )
    if pred_column is not None:
        if proba_columns is not None:
            raise ValueError("Pass proba_columns (classification) or pred_column (regression), not both.")
        if pred_column not in cols:
            raise _no_column(
                pred_column,
                "prediction",
                cols,
                path,
                "pass the predicted values' column with pred_column=... (--pred-column)",
            )
        return [pred_column]
    if proba_columns is not None:
        wanted = [str(c) for c in proba_columns]
        if not wanted:
            raise ValueError("proba_columns is empty; name one probability column per class.")
        for c in wanted:
            if c not in cols:
                raise _no_column(c, "probability", cols, path, "fix the name in proba_columns=[...] (--proba-columns)")
        return wanted
    prefix = DEFAULT_PREFIX if proba_prefix is None else proba_prefix
    found = [c for c in cols if c.startswith(prefix) and c not in (label_column, id_column)]
    if not found:
        raise DatasetError(
            f"{path.name} has no probability column: no column name starts with {prefix!r}. Its "
            f"columns are {cols[:40]}; pass the prefix they share with proba_prefix=... "
            "(--proba-prefix), or name them with proba_columns=[...] (--proba-columns)."
        )
    return found


def _check_same_columns(
    cols: list[str], path: Path, first: Path, needed: list[str], first_outputs: list[str], prefix: str | None
) -> None:
    """Every file holds the columns the first one gave (and, by prefix, no other ones)."""
    missing = [c for c in needed if c not in cols]
    extra = [] if prefix is None else [c for c in cols if c.startswith(prefix) and c not in needed]
    if missing or extra:
        raise DatasetError(
            f"{path.name} does not have the columns of {first.name}: missing {missing}, extra "
            f"{extra}; its columns are {cols[:40]}. Every file of the predictions must have the "
            "same columns: are the outputs of two different jobs (or models) in one folder? Pass "
            f"the files of one job only. (Probability columns of {first.name}: {first_outputs}.)"
        )


def check_columns(
    source,
    *,
    label_column: str,
    proba_columns: Sequence[str] | None = None,
    proba_prefix: str | None = None,
    pred_column: str | None = None,
    id_column: str | None = None,
) -> tuple[list[Path], list[str]]:
    """The prediction files and their output columns, checked from the files' schemas (or
    header lines) only: no row is read. Parameters as in :func:`read_predictions`.

    Returns
    -------
    files : list of Path
    output_columns : list of str
    """
    files = prediction_files(source)
    fmt = _format_of(files[0])
    outputs = _output_columns(
        _columns_of(files[0], fmt),
        files[0],
        label_column=label_column,
        proba_columns=proba_columns,
        proba_prefix=proba_prefix,
        pred_column=pred_column,
        id_column=id_column,
    )
    needed = list(dict.fromkeys([label_column, *outputs] + ([id_column] if id_column else [])))
    prefix = (
        None
        if proba_columns is not None or pred_column is not None
        else DEFAULT_PREFIX
        if proba_prefix is None
        else proba_prefix
    )
    for f in files[1:]:
        _check_same_columns(_columns_of(f, fmt), f, files[0], needed, outputs, prefix)
    return files, outputs


# ------------------------------------------------------------------ chunks
def _arrow_numpy(arr) -> np.ndarray:
    import pyarrow as pa

    if pa.types.is_dictionary(arr.type):
        arr = arr.dictionary_decode()
    return arr.to_numpy(zero_copy_only=False)


def _chunks(path: Path, fmt: str, columns: list[str], chunk_rows: int) -> Iterator[dict[str, np.ndarray]]:
    """The columns of a file, ``chunk_rows`` rows at a time, as numpy arrays."""
    try:
        if fmt == "parquet":
            import pyarrow.parquet as pq

            with pq.ParquetFile(path) as pf:
                for batch in pf.iter_batches(batch_size=chunk_rows, columns=columns):
                    yield {c: _arrow_numpy(batch.column(c)) for c in columns}
        else:
            # pandas >= 3 reads the floats a job wrote back exactly (tested); "round_trip",
            # which older pandas needed for that, is deprecated there
            exact = {} if int(pd.__version__.split(".")[0]) >= 3 else {"float_precision": "round_trip"}
            reader = pd.read_csv(
                path, sep="\t" if fmt == "tsv" else ",", usecols=columns, chunksize=chunk_rows, **exact
            )
            with reader:
                for df in reader:
                    yield {c: df[c].to_numpy() for c in columns}
    except (DatasetError, LabelError):
        raise
    except Exception as exc:  # noqa: BLE001
        raise DatasetError(f"{path.name} could not be read ({exc}).") from None


def _outputs_block(chunk: dict, outputs: list[str], path: Path) -> np.ndarray:
    for c in outputs:
        if chunk[c].dtype.kind not in "fiub":
            sample = next((v for v in chunk[c] if v is not None), None)
            raise DatasetError(
                f"Column {c!r} of {path.name} holds non-numeric values (for example {sample!r}); "
                "probability and prediction columns must be numbers."
            )
    return np.column_stack([chunk[c] for c in outputs])


def read_predictions(
    source: str | os.PathLike | Sequence[str | os.PathLike],
    *,
    label_column: str,
    proba_columns: Sequence[str] | None = None,
    proba_prefix: str | None = None,
    pred_column: str | None = None,
    id_column: str | None = None,
    chunk_rows: int = CHUNK_ROWS,
) -> PredictionsTable:
    """Read the label, output and id columns of prediction files, chunk by chunk.

    Parameters
    ----------
    source : path-like, glob, folder, or a sequence of them
        Parquet (``.parquet``/``.pq``) or CSV/TSV files; a folder is searched recursively
        (Spark's ``part-*.parquet``, a pyarrow dataset), skipping ``_SUCCESS`` and hidden files.
        Files are read in sorted path order.
    label_column : str
    proba_columns : sequence of str, default=None
        The probability columns in class order. Default: the columns starting with
        ``proba_prefix``, in the files' order.
    proba_prefix : str, default=None
        Prefix of the probability columns (``'p_'`` when neither this nor ``proba_columns``
        is given). With a prefix, every file must have the same probability columns.
    pred_column : str, default=None
        The predicted values of a regression (instead of probabilities).
    id_column : str, default=None
        Sample ids: rows are sorted by id (a deterministic order whatever order the files were
        written in) and ids must be unique.
    chunk_rows : int, default=65536
        Rows per chunk read.

    Returns
    -------
    PredictionsTable

    Raises
    ------
    DatasetError
        A missing or misnamed column (the message lists the available ones), files with
        different columns, non-numeric or missing probabilities, missing labels or ids,
        duplicated ids.
    """
    files, outputs = check_columns(
        source,
        label_column=label_column,
        proba_columns=proba_columns,
        proba_prefix=proba_prefix,
        pred_column=pred_column,
        id_column=id_column,
    )
    fmt = _format_of(files[0])
    needed = list(dict.fromkeys([label_column, *outputs] + ([id_column] if id_column else [])))
    labels, blocks, ids, file_of, n_chunks = [], [], [], [], 0
    for k, f in enumerate(files):
        bad, missing_labels, row = np.zeros(len(outputs), np.int64), 0, 0
        for chunk in _chunks(f, fmt, needed, max(1, int(chunk_rows))):
            n_chunks += 1
            block = _outputs_block(chunk, outputs, f)
            bad += (~np.isfinite(block)).sum(axis=0)
            missing_labels += int(pd.isna(chunk[label_column]).sum())
            labels.append(chunk[label_column])
            blocks.append(block)
            if id_column:
                if pd.isna(chunk[id_column]).any():
                    raise DatasetError(
                        f"The id column {id_column!r} of {f.name} has missing values (near row "
                        f"{row + int(np.flatnonzero(pd.isna(chunk[id_column]))[0])}); every row "
                        "needs an id: fix the job's output, or leave id_column out."
                    )
                ids.append(chunk[id_column])
                file_of.append(np.full(len(block), k, np.int32))
            row += len(block)
        if bad.any():
            cols = {c: int(n) for c, n in zip(outputs, bad) if n}
            raise DatasetError(
                f"{f.name} has NaN, missing or infinite values in its "
                f"{'prediction' if pred_column else 'probability'} column(s) {cols} (count per "
                "column); every sample needs all its outputs: drop those rows or re-run the job "
                "on them."
            )
        if missing_labels:
            raise LabelError(
                f"The label column {label_column!r} of {f.name} has {missing_labels} missing "
                "value(s); drop those rows, or fix the label column."
            )
    label_arr = _concat(labels)
    out = np.concatenate(blocks) if blocks else np.empty((0, len(outputs)))
    id_arr = None
    if id_column:
        id_arr = _concat(ids)
        order = _id_order(id_arr, np.concatenate(file_of), files, id_column)
        label_arr, out, id_arr = label_arr[order], out[order], id_arr[order]
    if len(out) == 0:
        raise DatasetError(f"The prediction files ({[f.name for f in files[:6]]}) hold no rows.")
    return PredictionsTable(
        labels=label_arr, outputs=out, ids=id_arr, output_columns=tuple(outputs), files=tuple(files), n_chunks=n_chunks
    )


def _concat(parts: list[np.ndarray]) -> np.ndarray:
    if any(p.dtype == object for p in parts) or len({p.dtype.kind for p in parts}) > 1:
        parts = [p.astype(object) for p in parts]
    return np.concatenate(parts)


def _id_order(ids: np.ndarray, file_of: np.ndarray, files: Sequence[Path], id_column: str) -> np.ndarray:
    """Row order sorted by id; refuses duplicated ids, naming them and their files."""
    s = pd.Series(ids)
    dup = s.duplicated(keep=False).to_numpy()
    if dup.any():
        shown = list(dict.fromkeys(s[dup].tolist()))[:5]
        where = sorted({files[i].name for i in np.unique(file_of[dup])})[:6]
        raise DatasetError(
            f"The id column {id_column!r} has {int(s[dup].nunique())} duplicated id(s), for "
            f"example {shown}, in {where}; each sample must appear once. Remove the duplicated "
            "rows (a job run twice into one folder?) or pass the files of one run only."
        )
    try:
        return np.argsort(ids, kind="stable")
    except TypeError:
        raise DatasetError(
            f"The id column {id_column!r} mixes types (for example {ids[:3].tolist()}); write "
            "ids of one type (all numbers or all strings)."
        ) from None
