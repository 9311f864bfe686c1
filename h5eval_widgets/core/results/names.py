"""What people call the metrics, and the one way numbers are written in the views and reports.

The keys of ``ev.scores`` stay as they are (``balanced_accuracy``, ``roc_auc_ovr_macro``); the
dashboard and the reports show :func:`metric_name` ("Balanced accuracy", "ROC AUC (one-vs-rest,
macro)") with the key in a tooltip. Numbers are written by :func:`fmt`: three decimals below 10
(so a metric in [0, 1] always reads ``0.976``, ``1.000``), three significant digits below 0.1,
four significant digits up to 1,000 and whole numbers with thousands separators above; an
interval follows its value as ``0.976 [0.964, 0.986]`` (:func:`fmt_interval`).
"""

from __future__ import annotations

import math
import numbers
import re
from typing import Any

__all__ = ["METRIC_NAMES", "metric_name", "fmt", "fmt_interval"]

#: the name of each metric key that no pattern below gives
METRIC_NAMES = {
    "accuracy": "Accuracy",
    "balanced_accuracy": "Balanced accuracy",
    "precision": "Precision",
    "recall": "Recall",
    "f1": "F1",
    "cohen_kappa": "Cohen's kappa",
    "mcc": "Matthews correlation (MCC)",
    "log_loss": "Log loss",
    "brier_score": "Brier score",
    "roc_auc": "ROC AUC",
    "average_precision": "Average precision",
    "ece": "Expected calibration error",
    "subset_accuracy": "Subset accuracy (exact match)",
    "hamming_loss": "Hamming loss",
    "mse": "Mean squared error",
    "rmse": "Root mean squared error",
    "mae": "Mean absolute error",
    "r2": "R²",
    "mape": "Mean absolute percentage error",
    "mean_iou": "Mean IoU",
    "pixel_accuracy": "Pixel accuracy",
    "mean_class_accuracy": "Mean class accuracy",
    "frequency_weighted_iou": "Frequency-weighted IoU",
    "mean_dice": "Mean Dice",
    "mean_iou_per_image": "Mean IoU per image",
    "map": "mAP (IoU 0.50:0.95)",
    "map_50": "mAP at IoU 0.50",
    "map_75": "mAP at IoU 0.75",
    "map_small": "mAP, small boxes",
    "map_medium": "mAP, medium boxes",
    "map_large": "mAP, large boxes",
    "mar_small": "mAR, small boxes",
    "mar_medium": "mAR, medium boxes",
    "mar_large": "mAR, large boxes",
}
_AVERAGES = {"macro": "macro", "micro": "micro", "weighted": "weighted", "samples": "per sample"}
_SCHEMES = {"ovr": "one-vs-rest", "ovo": "one-vs-one"}


def metric_name(key: str) -> str:
    """The name people use for a metric key: ``'roc_auc_ovr_macro'`` -> ``'ROC AUC (one-vs-rest,
    macro)'``, ``'top_2_accuracy'`` -> ``'Top-2 accuracy'``, ``'mar_100'`` -> ``'mAR, 100
    detections'``; an unknown key is returned as it is."""
    if key in METRIC_NAMES:
        return METRIC_NAMES[key]
    if m := re.fullmatch(r"top_(\d+)_accuracy", key):
        return f"Top-{m[1]} accuracy"
    if m := re.fullmatch(r"mar_(\d+)", key):
        return f"mAR, {m[1]} detection{'s' if m[1] != '1' else ''}"
    if m := re.fullmatch(r"(.+?)(?:_(ovr|ovo))?_(macro|micro|weighted|samples)", key):
        base = METRIC_NAMES.get(m[1])
        if base is not None:
            how = ", ".join(w for w in (_SCHEMES.get(m[2] or ""), _AVERAGES[m[3]]) if w)
            return f"{base} ({how})"
    return key


def fmt(value: Any, *, missing: str = "—") -> str:
    """A number as the views and reports write it (see the module's docstring).

    Parameters
    ----------
    value : int, float, None or str
        Integers (counts) are written whole; a string is returned as it is.
    missing : str, default="—"
        What None and NaN are written as.
    """
    if value is None or isinstance(value, str):
        return missing if value is None else value
    if isinstance(value, numbers.Integral):  # Python and NumPy integers (and bools)
        return f"{int(value):,}"
    v = float(value)
    if math.isnan(v):
        return missing
    if math.isinf(v):
        return "∞" if v > 0 else "-∞"
    a = abs(v)
    if a == 0:
        return "0"
    if a < 0.001:
        return f"{v:.2e}"
    if a < 0.1:
        return f"{v:.3g}"
    if a < 10:
        return f"{v:.3f}"
    if a < 1000:
        return f"{v:.4g}"
    return f"{v:,.0f}"


def fmt_interval(value: Any, low: Any, high: Any, *, missing: str = "—") -> str:
    """``'0.976 [0.964, 0.986]'``; the value alone when the interval is missing."""
    if low is None or high is None or (isinstance(low, float) and math.isnan(low)):
        return fmt(value, missing=missing)
    return f"{fmt(value, missing=missing)} [{fmt(low)}, {fmt(high)}]"
