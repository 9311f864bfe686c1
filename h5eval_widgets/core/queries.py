"""Questions the dashboard asks of an evaluation: plain functions over its public attributes.

Each function takes an :class:`~h5eval_widgets.core.Evaluation` (or numbers taken from one)
and returns arrays or DataFrames; the views only draw what these return.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = [
    "MAX_PICK_POINTS",
    "MAX_SCATTER_POINTS",
    "brush_indices",
    "classes_to_draw",
    "confidence_histograms",
    "lowest_classes",
    "pick_points",
    "regression_targets",
    "residual_histogram",
    "scatter_subset",
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
    return pd.DataFrame({"right": right, "wrong": wrong},
                        index=pd.Index(edges[:-1], name="bin_start"))


# ---------------------------------------------------------------------- which classes to draw
def classes_to_draw(confusion: np.ndarray, most: int, focus: int | None = None) -> np.ndarray:
    """The ``most`` classes involved in the most confusions, in class order.

    Involvement is a class's off-diagonal count as a true class plus as a predicted class;
    ties go to the lower class index. The focus class replaces the last one chosen when it
    is not among them.

    Parameters
    ----------
    confusion : array-like of shape (n_classes, n_classes)
        The matrix as shown (rows = true, cols = predicted), e.g. ``ev.confusion_matrix()``.
    most : int
    focus : int, default=None

    Returns
    -------
    ndarray of shape (min(n_classes, most),)
        Class indices, ascending.
    """
    k = len(confusion)
    if k <= most:
        return np.arange(k)
    off = np.asarray(confusion, dtype=np.float64).copy()
    np.fill_diagonal(off, 0)
    involvement = off.sum(axis=0) + off.sum(axis=1)
    top = np.argsort(-involvement, kind="stable")[:most]
    if focus is not None and focus not in top:
        top[-1] = focus
    return np.sort(top)


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
def pick_points(x: np.ndarray, y: np.ndarray, thresholds: np.ndarray,
                most: int = MAX_PICK_POINTS) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
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
