"""Questions the dashboard asks of an evaluation: plain functions over its public attributes.

Each function takes an :class:`~h5eval_widgets.core.Evaluation` (or numbers taken from one)
and returns arrays or DataFrames; the views only draw what these return.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import pandas as pd

__all__ = [
    "MAX_PICK_POINTS",
    "MAX_SCATTER_POINTS",
    "brush_indices",
    "classes_to_draw",
    "confidence_histograms",
    "errors_covered",
    "lowest_classes",
    "pick_points",
    "regression_targets",
    "residual_histogram",
    "samples_frame",
    "scatter_subset",
    "sort_keys",
    "sort_samples",
]

#: Most points drawn as click targets along one curve (a curve may have one per sample).
MAX_PICK_POINTS = 150
#: Above this many points a scatter draws a fixed random subset (a brush still selects all).
MAX_SCATTER_POINTS = 5000


# ---------------------------------------------------------------------- regression
def regression_targets(ev) -> tuple[np.ndarray, np.ndarray]:
    """Actual and predicted values as float64, the first output when there are several.

    Parameters
    ----------
    ev : Evaluation
        A regression evaluation.

    Returns
    -------
    y_true, y_pred : ndarray of shape (n_samples,)
    """
    t = np.asarray(ev.y_true, dtype=np.float64)
    p = np.asarray(ev.y_pred, dtype=np.float64)
    if t.ndim > 1:  # several outputs: the first one is shown
        t, p = t[:, 0], p[:, 0]
    return t, p


def brush_indices(ev, x_range: tuple[float, float], y_range: tuple[float, float]) -> np.ndarray:
    """Samples whose actual value lies in ``x_range`` and prediction in ``y_range``.

    Bounds are inclusive and may come in either order (a brush dragged right to left).

    Parameters
    ----------
    ev : Evaluation
        A regression evaluation.
    x_range : (float, float)
        Range of actual values.
    y_range : (float, float)
        Range of predicted values.

    Returns
    -------
    ndarray of shape (n_selected,)
        Sample indices, largest absolute error first (ties in index order), like the most
        confident mistakes of a classifier.
    """
    t, p = regression_targets(ev)
    (x0, x1), (y0, y1) = sorted(x_range), sorted(y_range)
    idx = np.flatnonzero((t >= x0) & (t <= x1) & (p >= y0) & (p <= y1))
    return idx[np.argsort(-np.abs(p[idx] - t[idx]), kind="stable")]


def residual_histogram(ev, bins: int = 30) -> tuple[np.ndarray, np.ndarray]:
    """Histogram of the residuals ``predicted - actual`` (first output).

    Parameters
    ----------
    ev : Evaluation
        A regression evaluation.
    bins : int, default=30

    Returns
    -------
    centers : ndarray of shape (bins,)
        Middle of each bin.
    counts : ndarray of shape (bins,)
        Samples per bin, as float64.
    """
    t, p = regression_targets(ev)
    counts, edges = np.histogram(p - t, bins=bins)
    return (edges[:-1] + edges[1:]) / 2, counts.astype(np.float64)


def scatter_subset(n_samples: int, most: int = MAX_SCATTER_POINTS, *, seed: int = 0) -> np.ndarray:
    """Indices of the points to draw: all of them, or a fixed random ``most`` in index order.

    Parameters
    ----------
    n_samples : int
    most : int, default=MAX_SCATTER_POINTS
    seed : int, default=0
        The subset is the same on every redraw.

    Returns
    -------
    ndarray of shape (min(n_samples, most),)
    """
    if n_samples <= most:
        return np.arange(n_samples)
    return np.sort(np.random.default_rng(seed).choice(n_samples, most, replace=False))


# ---------------------------------------------------------------------- calibration
def confidence_histograms(ev, n_bins: int = 10) -> pd.DataFrame:
    """How many right and wrong predictions fall in each confidence bin.

    Parameters
    ----------
    ev : Evaluation
        A binary or multi-class evaluation.
    n_bins : int, default=10
        Equal-width bins over [0, 1] (the last one includes 1).

    Returns
    -------
    DataFrame of shape (n_bins, 2)
        Columns ``right`` and ``wrong`` (counts), indexed by the bin's lower edge ``bin_start``.
    """
    edges = np.linspace(0, 1, n_bins + 1)
    conf, ok = ev.confidence, ev.correct
    right = np.histogram(conf[ok], bins=edges)[0]
    wrong = np.histogram(conf[~ok], bins=edges)[0]
    return pd.DataFrame({"right": right, "wrong": wrong}, index=pd.Index(edges[:-1], name="bin_start"))


# ---------------------------------------------------------------------- which classes to draw
def classes_to_draw(confusion: np.ndarray, most: int, focus: int | None = None, keep: Sequence[int] = ()) -> np.ndarray:
    """The ``most`` classes to draw so that the drawn cells hold the largest confusions.

    Classes are taken pair by pair from the most confused (true, predicted) pairs, both
    classes of a pair at once, so the drawn sub-matrix holds the largest off-diagonal cells
    (classes picked one by one are confused with classes that are not drawn). The focus class
    and the classes in ``keep`` (a selected cell, a searched class) are always drawn. A pair
    that no longer fits is skipped for smaller ones that do; when the confused pairs run out,
    the classes involved in the most confusions fill the rest. Ties go to the lower index.

    Parameters
    ----------
    confusion : array-like of shape (n_classes, n_classes)
        The matrix as shown (rows = true, cols = predicted), e.g. ``ev.confusion_matrix()``.
    most : int
    focus : int, default=None
    keep : sequence of int, default=()

    Returns
    -------
    ndarray of shape (min(n_classes, most),)
        Class indices, ascending (more than ``most`` only when the focus class and ``keep``
        are more).
    """
    k = len(confusion)
    if k <= most:
        return np.arange(k)
    off = np.asarray(confusion, dtype=np.float64).copy()
    np.fill_diagonal(off, 0)
    chosen = dict.fromkeys(int(c) for c in [*(() if focus is None else (focus,)), *keep])
    rows, cols = np.nonzero(off)
    order = np.argsort(-off[rows, cols], kind="stable")  # np.nonzero is in flat order: ties by index
    for r, c in zip(rows[order].tolist(), cols[order].tolist()):
        if len(chosen) >= most:
            break
        new = [x for x in (r, c) if x not in chosen]
        if len(chosen) + len(new) <= most:
            chosen.update(dict.fromkeys(new))
    if len(chosen) < most:
        involvement = off.sum(axis=0) + off.sum(axis=1)
        for c in np.argsort(-involvement, kind="stable").tolist():
            if len(chosen) >= most:
                break
            chosen.setdefault(c)
    return np.sort(np.fromiter(chosen, dtype=np.int64))


def errors_covered(confusion: np.ndarray, classes: np.ndarray) -> tuple[int, int]:
    """``(errors in the drawn cells, all errors)``: the off-diagonal counts of the sub-matrix
    of ``classes`` and of the whole matrix."""
    cm = np.asarray(confusion)
    total = float(cm.sum() - np.trace(cm))
    sub = cm[np.ix_(classes, classes)]
    return float(sub.sum() - np.trace(sub)), total


def lowest_classes(values, most: int) -> np.ndarray:
    """The ``most`` classes with the lowest value (NaN counts as lowest), in class order.

    Parameters
    ----------
    values : array-like of shape (n_classes,)
        A per-class metric, e.g. ``ev.per_class()["f1"]``.
    most : int

    Returns
    -------
    ndarray of shape (min(n_classes, most),)
    """
    v = np.nan_to_num(np.asarray(values, dtype=np.float64), nan=-1.0)
    return np.sort(np.argsort(v, kind="stable")[:most])


# ---------------------------------------------------------------------- curves
def pick_points(
    x: np.ndarray, y: np.ndarray, thresholds: np.ndarray, most: int = MAX_PICK_POINTS
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Up to ``most`` curve points with a finite threshold, spread evenly along the curve.

    Parameters
    ----------
    x, y : ndarray of shape (n_points,)
        The curve (e.g. recall and precision).
    thresholds : ndarray of shape (n_points,)
        The threshold of each point (infinite or NaN for points no threshold reaches).
    most : int, default=MAX_PICK_POINTS

    Returns
    -------
    x, y, thresholds : ndarray of shape (n_picked,)
    """
    ok = np.flatnonzero(np.isfinite(thresholds))
    if len(ok) > most:
        ok = ok[np.unique(np.linspace(0, len(ok) - 1, most).round().astype(int))]
    return x[ok], y[ok], thresholds[ok]


# ---------------------------------------------------------------------- samples as rows
def _feature_block(data, idx: np.ndarray) -> dict[str, list]:
    """The input columns of some samples by name: a fast gather for arrays, else per sample."""
    X = getattr(data, "X", None)
    if isinstance(X, np.ndarray) and X.ndim == 2 and X.dtype.kind in "iufb":
        names = data.feature_names or tuple(f"x{j}" for j in range(X.shape[1]))
        block = X[idx]
        return {str(n): block[:, j].tolist() for j, n in enumerate(names)}
    cols: dict[str, list] = {}
    for i in idx.tolist():
        for name, value in data.features(i):
            if isinstance(value, list) and len(value) == 1:
                value = value[0]
            cols.setdefault(str(name), []).append(value)
    return cols


def samples_frame(
    ev, data=None, indices=None, *, y_pred: np.ndarray | None = None, tags=None, features: bool = True, top: int = 3
) -> pd.DataFrame:
    """The samples as table rows: index, id (when the evaluation has ``sample_ids``), file,
    true, predicted, confidence, top classes, tags, then the input columns with their names
    (tabular data) or the text.

    Parameters
    ----------
    ev : Evaluation
    data : Dataset, default=None
        The inputs behind ``ev`` (adds file names, features or text); None: labels only.
    indices : array-like of int, default=None
        The samples, in the order of the rows (default: all).
    y_pred : ndarray of shape (n_samples,), default=None
        The decisions shown (binary: at the dashboard's threshold); default ``ev.y_pred``.
    tags : TagStore, default=None
        Adds a ``tags`` column.
    features : bool, default=True
        Add the input columns (tabular) or the text (text data).
    top : int, default=3
        Most probable classes listed in ``top_classes`` (classification).

    Returns
    -------
    DataFrame
        One row per sample, indexed by nothing in particular (``index`` is a column; for a
        slice, ``dataset_row`` is the sample's row in the whole dataset).
    """
    idx = np.arange(ev.n_samples) if indices is None else np.asarray(indices, dtype=np.int64)
    out: dict[str, Any] = {"index": idx}
    if getattr(ev, "source_rows", None) is not None:  # a slice: where its samples are in the data
        out["dataset_row"] = ev.dataset_rows(idx)
    if getattr(ev, "sample_ids", None) is not None:  # ids of predictions made elsewhere
        out["id"] = ev.sample_ids[idx]
    if data is not None and data.file_path(0) is not None:
        out["file"] = [data.file_path(int(i)).name for i in idx]
    out.update(ev.sample_columns(idx, y_pred=y_pred, top=top))
    meta = getattr(ev, "metadata", None)
    if meta is not None and "learned_epoch" in meta:  # a training recorder's epoch evaluation
        out["learned_epoch"] = meta["learned_epoch"].to_numpy()[idx]
    if tags is not None:
        out["tags"] = tags.column(idx)
    if features and data is not None and len(idx):
        if data.kind == "tabular":
            for name, values in _feature_block(data, idx).items():
                out[name if name not in out else f"feature {name}"] = values
        elif data.kind == "text":
            out["text"] = [str(data.sample(int(i)).ravel()[0]) for i in idx]
    return pd.DataFrame(out)


def _has_confidence(ev) -> bool:
    """Single-label classification: each sample has the probability of its predicted class."""
    return getattr(ev, "confidence", None) is not None


def sort_keys(ev, data) -> list[str]:
    """What :func:`sort_samples` can order samples by for this evaluation and dataset: the
    label columns, then the features of tabular data held in memory."""
    keys = ["index", *(["confidence"] if _has_confidence(ev) else []), "true", "predicted"]
    X = getattr(data, "X", None)
    if isinstance(X, np.ndarray) and X.ndim == 2 and X.dtype.kind in "iufb" and data.kind == "tabular":
        keys += [str(n) for n in (data.feature_names or (f"x{j}" for j in range(X.shape[1])))]
    return keys


def sort_samples(
    ev, data, indices, by: str, *, descending: bool = False, y_pred: np.ndarray | None = None
) -> np.ndarray:
    """``indices`` ordered by one of :func:`sort_keys` (stable: ties keep their order).

    Only the key column is read (no table of every selected sample is built).
    """
    idx = np.asarray(indices, dtype=np.int64)
    pred = ev.y_pred if y_pred is None else np.asarray(y_pred)
    keys = sort_keys(ev, data)
    if by not in keys:
        raise ValueError(f"Samples cannot be sorted by {by!r}; choose one of {keys}.")
    if by == "index":
        key = idx
    elif by == "confidence":
        key = np.asarray(ev.y_proba)[idx, pred[idx]]
    elif by in ("true", "predicted"):
        values = (ev.y_true if by == "true" else pred)[idx]
        key = values if values.ndim == 1 else values.sum(axis=1)  # multi-label: how many labels
    else:
        first = keys.index("predicted") + 1
        key = data.X[idx, keys.index(by) - first]
    key = np.asarray(key, dtype=np.float64)
    return idx[np.argsort(-key if descending else key, kind="stable")]
