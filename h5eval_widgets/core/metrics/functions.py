"""Vectorized metric functions: every number from a confusion matrix or from sorted scores.

The sorted-score half (curves, areas, the per-class sort) lives in :mod:`.ranking` and is
re-exported here.

These are plain functions over numpy arrays with scikit-learn's conventions (and its numbers: the
tests compare each one against scikit-learn). Undefined values are ``nan``, as scikit-learn gives
with ``zero_division=np.nan``; averages ignore them, as scikit-learn's do.
"""

from __future__ import annotations

import numpy as np

from . import ranking as _ranking
from .ranking import *  # noqa: F403 - the sorted-score metrics are part of this module's API
from .ranking import _divide

__all__ = [
    "confusion_matrix",
    "normalize_confusion",
    "per_label_scores",
    "scores_from_confusion",
    "scores_from_cell_draws",
    "log_loss",
    "brier_score",
    "top_k_accuracy",
    "true_class_rank",
    "calibration_curve",
    "expected_calibration_error",
    "regression_metrics",
] + _ranking.__all__


def confusion_matrix(y_true, y_pred, n_classes: int, *, sample_weight=None) -> np.ndarray:
    """Confusion matrix of integer-coded labels, by one ``bincount``.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,)
        Class indices in ``[0, n_classes)``.
    n_classes : int
        Number of classes (size of the matrix).
    sample_weight : array-like of shape (n_samples,), default=None
        Weights; the matrix is then float.

    Returns
    -------
    ndarray of shape (n_classes, n_classes)
        Rows are true classes, columns predicted classes.
    """
    y_true = np.asarray(y_true, dtype=np.int64)
    y_pred = np.asarray(y_pred, dtype=np.int64)
    flat = y_true * n_classes + y_pred
    cm = np.bincount(flat, weights=sample_weight, minlength=n_classes * n_classes)
    cm = cm.reshape(n_classes, n_classes)
    return cm if sample_weight is not None else cm.astype(np.int64)


def normalize_confusion(cm: np.ndarray, normalize: str | None) -> np.ndarray:
    """Normalize a confusion matrix like scikit-learn's ``normalize=`` option.

    Parameters
    ----------
    cm : ndarray of shape (n_classes, n_classes)
    normalize : {'true', 'pred', 'all'} or None
        Over rows (true), columns (predicted) or the whole matrix; ``None`` returns counts.
        Empty rows or columns give zeros, as in scikit-learn.
    """
    if normalize is None:
        return cm
    cm = np.asarray(cm, dtype=np.float64)
    with np.errstate(all="ignore"):
        if normalize == "true":
            out = cm / cm.sum(axis=1, keepdims=True)
        elif normalize == "pred":
            out = cm / cm.sum(axis=0, keepdims=True)
        elif normalize == "all":
            out = cm / cm.sum()
        else:
            raise ValueError(f"normalize={normalize!r} is not one of 'true', 'pred', 'all' or None.")
    return np.nan_to_num(out)


def _nanaverage(values: np.ndarray, weights: np.ndarray | None = None) -> float:
    mask = ~np.isnan(values)
    if not mask.any():
        return float("nan")
    if weights is None:
        return float(values[mask].mean())
    w = weights[mask]
    if w.sum() == 0:  # all weights zero: ignore them, as scikit-learn does
        return float(values[mask].mean())
    return float(np.average(values[mask], weights=w))


def per_label_scores(tp: np.ndarray, fp: np.ndarray, fn: np.ndarray) -> dict:
    """Precision, recall and F1 of each class (or label) from its true positives, false
    positives and false negatives, with their macro, micro and weighted averages.

    Returns
    -------
    dict
        Per-class arrays ``precision``, ``recall``, ``f1``, ``support`` (tp + fn) and
        ``predicted`` (tp + fp); floats ``{precision,recall,f1}_{macro,micro,weighted}``.
        A zero denominator gives nan, left out of the averages.
    """
    tp, fp, fn = (np.asarray(a, dtype=np.float64) for a in (tp, fp, fn))
    support, predicted = tp + fn, tp + fp
    out = {
        "precision": _divide(tp, predicted),
        "recall": _divide(tp, support),
        "f1": _divide(2 * tp, support + predicted),
        "support": support,
        "predicted": predicted,
    }
    for name in ("precision", "recall", "f1"):
        out[f"{name}_macro"] = _nanaverage(out[name])
        out[f"{name}_weighted"] = _nanaverage(out[name], support)
    T, P, S = tp.sum(), predicted.sum(), support.sum()
    out["precision_micro"] = float(_divide(T, P))
    out["recall_micro"] = float(_divide(T, S))
    out["f1_micro"] = float(_divide(2 * T, P + S))
    return out


def scores_from_confusion(cm: np.ndarray) -> dict:
    """Every confusion-matrix metric at once.

    Parameters
    ----------
    cm : ndarray of shape (n_classes, n_classes)
        Counts (or weighted counts); rows = true, cols = predicted.

    Returns
    -------
    dict
        ``accuracy``, ``balanced_accuracy``, ``cohen_kappa``, ``mcc``; per-class arrays
        ``precision``, ``recall``, ``f1``, ``support``, ``predicted``; and
        ``{precision,recall,f1}_{macro,micro,weighted}``.
    """
    cm = np.asarray(cm, dtype=np.float64)
    total = cm.sum()
    tp = np.diag(cm)
    support = cm.sum(axis=1)
    predicted = cm.sum(axis=0)
    out = per_label_scores(tp, predicted - tp, support - tp)
    out["accuracy"] = float(tp.sum() / total) if total else float("nan")
    out["balanced_accuracy"] = _nanaverage(out["recall"])

    # Cohen's kappa with scikit-learn's formula: 1 - observed / expected disagreement.
    if total == 0:
        out["cohen_kappa"] = float("nan")
    else:
        expected = np.outer(predicted, support) / total
        off_diag_expected = expected.sum() - np.trace(expected)
        observed = total - tp.sum()
        out["cohen_kappa"] = float(1 - observed / off_diag_expected) if off_diag_expected else float("nan")
    # Matthews correlation, multi-class form (Gorodkin); scikit-learn returns 0 when undefined.
    # (the same order of operations as scikit-learn, so rounding agrees in degenerate cases)
    n = predicted.sum()
    cov_tp = np.trace(cm) * n - np.dot(support, predicted)
    cov_pp = n**2 - np.dot(predicted, predicted)
    cov_tt = n**2 - np.dot(support, support)
    with np.errstate(invalid="ignore"):
        out["mcc"] = float(cov_tp / np.sqrt(cov_pp * cov_tt)) if cov_pp * cov_tt != 0 else 0.0
    return out


def scores_from_cell_draws(draws: np.ndarray, rows: np.ndarray, cols: np.ndarray, n_classes: int) -> dict:
    """Confusion-matrix metrics for many matrices at once, given only their non-empty cells.

    Parameters
    ----------
    draws : ndarray of shape (n_matrices, n_cells)
        (Weighted) counts of each listed cell in each matrix.
    rows, cols : ndarray of shape (n_cells,)
        True and predicted class of each listed cell.
    n_classes : int

    Returns
    -------
    dict of ndarray of shape (n_matrices,)
        ``accuracy``, ``balanced_accuracy``, ``f1_macro``, ``cohen_kappa``, ``mcc`` and the
        per-class arrays ``precision``, ``recall``, ``f1`` of shape (n_matrices, n_classes),
        each as :func:`scores_from_confusion` computes it.
    """
    draws = np.asarray(draws, dtype=np.float64)
    on_rows = np.zeros((len(rows), n_classes))
    on_rows[np.arange(len(rows)), rows] = 1.0
    on_cols = np.zeros((len(cols), n_classes))
    on_cols[np.arange(len(cols)), cols] = 1.0
    support = draws @ on_rows
    predicted = draws @ on_cols
    # a class may have several listed diagonal cells (paired draws list joint cells): sum them
    diag = rows == cols
    tp = draws[:, diag] @ on_rows[diag]
    total = draws.sum(axis=1)
    with np.errstate(all="ignore"):
        precision = np.where(predicted == 0, np.nan, tp / predicted)
        recall = np.where(support == 0, np.nan, tp / support)
        f1 = np.where(support + predicted == 0, np.nan, 2 * tp / (support + predicted))
        trace = tp.sum(axis=1)
        sup_pred = np.einsum("ij,ij->i", support, predicted)
        expected_off = (total**2 - sup_pred) / total
        kappa = np.where(expected_off == 0, np.nan, 1 - (total - trace) / expected_off)
        cov_tp = trace * total - sup_pred
        cov_pp = total**2 - np.einsum("ij,ij->i", predicted, predicted)
        cov_tt = total**2 - np.einsum("ij,ij->i", support, support)
        denom = cov_pp * cov_tt
        mcc = np.where(denom == 0, 0.0, cov_tp / np.sqrt(np.where(denom == 0, 1, denom)))
        return {
            "accuracy": trace / total,
            "balanced_accuracy": np.nanmean(recall, axis=1),
            "f1_macro": np.nanmean(f1, axis=1),
            "cohen_kappa": kappa,
            "mcc": mcc,
            "precision": precision,
            "recall": recall,
            "f1": f1,
        }


def _true_class_proba(y_true_idx, y_proba) -> np.ndarray:
    return np.asarray(y_proba)[np.arange(len(y_true_idx)), y_true_idx]


def log_loss(y_true_idx, y_proba, *, sample_weight=None) -> float:
    """Cross-entropy of integer labels under probabilities ``(n_samples, n_classes)``.

    Clips like scikit-learn, with the epsilon of the probabilities' own float type.
    """
    y_proba = np.asarray(y_proba)
    eps = np.finfo(y_proba.dtype).eps if np.issubdtype(y_proba.dtype, np.floating) else 1e-15
    p = np.clip(_true_class_proba(y_true_idx, y_proba), eps, 1 - eps).astype(np.float64)
    return float(np.average(-np.log(p), weights=sample_weight))


def brier_score(y_true_idx, y_proba, *, sample_weight=None, chunk: int = 8192) -> float:
    """Brier score as scikit-learn: mean squared error of the probability vector.

    For two classes it is halved (the familiar binary Brier score of the positive class).
    Computed in chunks that stay in cache, squares summed in float64 without a float64 copy.
    """
    y_proba = np.asarray(y_proba)
    n, k = y_proba.shape
    per_sample = np.empty(n, dtype=np.float64)
    for start in range(0, n, chunk):
        block = y_proba[start : start + chunk]
        idx = np.asarray(y_true_idx[start : start + chunk])
        sq = np.einsum("ij,ij->i", block, block, dtype=np.float64)
        p_true = block[np.arange(len(idx)), idx].astype(np.float64)
        per_sample[start : start + chunk] = sq - 2 * p_true + 1
    score = float(np.average(per_sample, weights=sample_weight))
    return score * 0.5 if k < 3 else score


def true_class_rank(y_true_idx, y_proba, *, chunk: int = 8192) -> np.ndarray:
    """How many classes rank above the true class, per sample (0 = top-1 hit).

    Ties broken as scikit-learn's ``top_k_accuracy_score``: among equal scores the higher
    class index ranks first (worked out only for the rows that have a tie).
    """
    y_proba = np.asarray(y_proba)
    n, n_classes = y_proba.shape
    ahead = np.empty(n, dtype=np.int64)
    cls = np.arange(n_classes)
    for start in range(0, n, chunk):
        block = y_proba[start : start + chunk]
        idx = np.asarray(y_true_idx[start : start + chunk])
        s_true = block[np.arange(len(idx)), idx][:, None]
        above = np.count_nonzero(block > s_true, axis=1)
        tied = np.flatnonzero(np.count_nonzero(block == s_true, axis=1) > 1)
        if len(tied):
            above[tied] += np.count_nonzero((block[tied] == s_true[tied]) & (cls[None, :] > idx[tied, None]), axis=1)
        ahead[start : start + chunk] = above
    return ahead


def top_k_accuracy(y_true_idx, y_proba, k: int, *, sample_weight=None, rank=None) -> float:
    """Fraction of samples whose true class is among the ``k`` highest scores.

    ``rank`` (from :func:`true_class_rank`) can be passed to answer several k from one pass.
    """
    if rank is None:
        rank = true_class_rank(y_true_idx, y_proba)
    return float(np.average(rank < k, weights=sample_weight))


def calibration_curve(y_correct, confidence, *, n_bins: int = 10) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Reliability diagram over uniform bins of ``[0, 1]``.

    Parameters
    ----------
    y_correct : array-like of shape (n_samples,)
        1 where the event happened (the positive class, or "the prediction was right").
    confidence : array-like of shape (n_samples,)
        Predicted probability of that event.
    n_bins : int, default=10

    Returns
    -------
    prob_true, prob_pred, counts : ndarray of shape (n_nonempty_bins,)
        Observed frequency and mean confidence in each non-empty bin, as
        ``sklearn.calibration.calibration_curve(strategy='uniform')``, plus the bin sizes.
    """
    confidence = np.asarray(confidence, dtype=np.float64)
    y_correct = np.asarray(y_correct, dtype=np.float64)
    bins = np.linspace(0.0, 1.0, n_bins + 1)
    ids = np.searchsorted(bins[1:-1], confidence)
    sums = np.bincount(ids, weights=confidence, minlength=n_bins)
    trues = np.bincount(ids, weights=y_correct, minlength=n_bins)
    counts = np.bincount(ids, minlength=n_bins)
    nz = counts != 0
    return trues[nz] / counts[nz], sums[nz] / counts[nz], counts[nz]


def expected_calibration_error(y_correct, confidence, *, n_bins: int = 10) -> float:
    """Expected calibration error: bin-size weighted mean gap between confidence and accuracy."""
    prob_true, prob_pred, counts = calibration_curve(y_correct, confidence, n_bins=n_bins)
    if counts.sum() == 0:
        return float("nan")
    return float(np.sum(counts * np.abs(prob_true - prob_pred)) / counts.sum())


def regression_metrics(y_true, y_pred, *, sample_weight=None) -> dict:
    """MSE, RMSE, MAE, R² and MAPE with scikit-learn's definitions (uniform over outputs)."""
    y_true = np.asarray(y_true, dtype=np.float64)
    y_pred = np.asarray(y_pred, dtype=np.float64)
    if y_true.ndim == 1:
        y_true = y_true[:, None]
    if y_pred.ndim == 1:
        y_pred = y_pred[:, None]
    err = y_pred - y_true
    w = sample_weight
    mse = np.average(err**2, axis=0, weights=w)
    mae = np.average(np.abs(err), axis=0, weights=w)
    eps = np.finfo(np.float64).eps
    mape = np.average(np.abs(err) / np.maximum(np.abs(y_true), eps), axis=0, weights=w)
    mean = np.average(y_true, axis=0, weights=w)
    ss_res = np.average(err**2, axis=0, weights=w)
    ss_tot = np.average((y_true - mean) ** 2, axis=0, weights=w)
    with np.errstate(all="ignore"):
        r2 = np.where(ss_tot == 0, np.where(ss_res == 0, 1.0, 0.0), 1 - ss_res / ss_tot)
    return {
        "mse": float(mse.mean()),
        "rmse": float(np.sqrt(mse).mean()),
        "mae": float(mae.mean()),
        "r2": float(r2.mean()),
        "mape": float(mape.mean()),
    }
