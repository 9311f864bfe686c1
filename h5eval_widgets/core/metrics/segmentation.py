"""Pixel counts of segmentation models: per-image confusion counts and the metrics made of them.

A segmentation test set is summed up, batch by batch, into one ``(k, k)`` int64 confusion matrix
per image (rows = true class, cols = predicted class; pixels equal to ``ignore_index`` count
nowhere), so the per-pixel scores of the whole set never stay in memory. Every metric here is a
function of such matrices, equal to scikit-learn's on the flattened pixels and to
``keras.metrics.MeanIoU``.

A class absent from both the truth and the prediction has no IoU, Dice, precision or recall:
it is NaN and left out of every mean (``keras.metrics.MeanIoU`` leaves it out the same way).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["PixelCounts", "image_counts", "class_scores", "matrix_summary", "per_image_iou", "SCORE_BINS"]

#: Bins of the per-image score histograms kept for one sigmoid output (threshold resolution
#: 1 / SCORE_BINS = 0.001).
SCORE_BINS = 1000


@dataclass(frozen=True)
class PixelCounts:
    """What a segmentation pass leaves: per-image confusion counts, never per-pixel scores.

    Attributes
    ----------
    counts : ndarray of int64, shape (n_images, k, k)
        Pixels of each image by (true class, predicted class); ignored pixels are not counted.
    n_classes : int
    ignore_index : int or None
        The mask value that counts nowhere.
    histograms : ndarray of int64, shape (n_images, 2, SCORE_BINS) or None
        For one sigmoid output: each image's scores of true-background (row 0) and
        true-foreground (row 1) pixels in ``SCORE_BINS`` equal bins of [0, 1], for moving the
        threshold (resolution ``1 / SCORE_BINS``).
    threshold : float
        The threshold the ``counts`` were made at (one sigmoid output).
    names : tuple of str
        Each image's file name, or ``'0'``, ``'1'``... for arrays.
    paths, mask_paths : tuple of str
        The image and mask files (empty for arrays).
    notes : tuple of str
        What was done on the way (outputs resized to the masks, ...).
    source : object or None
        Where the images' masks can be had again (a predictor with ``predicted_masks``,
        ``true_mask`` and ``picture``), for the few images a view shows.
    """

    counts: np.ndarray
    n_classes: int
    ignore_index: int | None = 255
    histograms: np.ndarray | None = None
    threshold: float = 0.5
    names: tuple[str, ...] = ()
    paths: tuple[str, ...] = ()
    mask_paths: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    source: Any = field(default=None, compare=False)

    def __len__(self) -> int:
        return len(self.counts)


def image_counts(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int, ignore_index: int | None = 255) -> np.ndarray:
    """Per-image confusion counts of class-index masks.

    Parameters
    ----------
    y_true, y_pred : array-like of int, shape (n_images, H, W)
        True and predicted class of every pixel.
    n_classes : int
    ignore_index : int or None, default=255
        Pixels whose true value is this count nowhere.

    Returns
    -------
    ndarray of int64, shape (n_images, n_classes, n_classes)
        Rows = true class, cols = predicted class.
    """
    t = np.asarray(y_true).reshape(len(y_true), -1).astype(np.int64)
    p = np.asarray(y_pred).reshape(len(y_pred), -1).astype(np.int64)
    k = n_classes
    keep = np.ones(t.shape, bool) if ignore_index is None else t != ignore_index
    image = np.broadcast_to(np.arange(len(t))[:, None], t.shape)
    codes = (image * k + t) * k + p
    out = np.bincount(codes[keep], minlength=len(t) * k * k)
    return out.reshape(len(t), k, k).astype(np.int64)


def _div(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(b > 0, a / np.where(b > 0, b, 1), np.nan)


def class_scores(cm: np.ndarray) -> dict[str, np.ndarray]:
    """Per-class IoU, Dice, precision, recall and pixel support of one confusion matrix
    (or of many: ``cm`` of shape (..., k, k)).

    IoU, Dice, precision and recall are NaN for a class absent from both truth and prediction;
    precision is also NaN for a class never predicted and recall for a class never true (0/0).
    """
    cm = np.asarray(cm)
    tp = np.diagonal(cm, axis1=-2, axis2=-1).astype(np.float64)
    support = cm.sum(axis=-1)
    predicted = cm.sum(axis=-2)
    seen = (support + predicted) > 0
    iou = np.where(seen, _div(tp, support + predicted - tp), np.nan)
    dice = np.where(seen, _div(2 * tp, support + predicted), np.nan)
    return {
        "iou": iou,
        "dice": dice,
        "precision": _div(tp, predicted),
        "recall": _div(tp, support),
        "support": support.astype(np.int64),
    }


def _nanmean(a: np.ndarray, axis=-1) -> np.ndarray:
    a = np.asarray(a, np.float64)
    n = np.sum(~np.isnan(a), axis=axis)
    s = np.nansum(a, axis=axis)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n > 0, s / np.where(n > 0, n, 1), np.nan)


def matrix_summary(cm: np.ndarray) -> dict[str, np.ndarray]:
    """The headline metrics of one confusion matrix (or of each of many, shape (..., k, k)).

    Returns
    -------
    dict of str to float or ndarray
        ``pixel_accuracy`` (correct pixels / counted pixels), ``mean_class_accuracy`` (mean
        recall over the classes with true pixels), ``mean_iou`` and ``mean_dice`` (means over
        the classes present in truth or prediction, as ``keras.metrics.MeanIoU``),
        ``frequency_weighted_iou`` (IoU weighted by each class's share of the true pixels).
    """
    cm = np.asarray(cm)
    s = class_scores(cm)
    total = cm.sum(axis=(-2, -1)).astype(np.float64)
    tp = np.diagonal(cm, axis1=-2, axis2=-1).sum(axis=-1)
    freq = _div(s["support"], total[..., None])
    fw = np.nansum(np.where(s["support"] > 0, freq * np.nan_to_num(s["iou"]), 0.0), axis=-1)
    return {
        "pixel_accuracy": _div(tp, total),
        "mean_class_accuracy": _nanmean(s["recall"]),
        "mean_iou": _nanmean(s["iou"]),
        "frequency_weighted_iou": np.where(total > 0, fw, np.nan),
        "mean_dice": _nanmean(s["dice"]),
    }


def per_image_iou(counts: np.ndarray) -> np.ndarray:
    """Each image's mean IoU over the classes present in its truth or prediction."""
    return np.asarray(matrix_summary(counts)["mean_iou"], np.float64)
