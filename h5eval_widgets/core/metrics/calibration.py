"""Temperature scaling and the calibration errors it is judged by.

A temperature ``T`` turns probabilities ``p`` into ``softmax(log p / T)`` (one sigmoid label:
``sigmoid(logit p / T)``), which keeps every sample's ranking of the classes, so the predicted
class and the accuracy do not change. ``T`` is the one minimising the calibration set's log
loss, found by :func:`scipy.optimize.minimize_scalar` on a bounded interval.
"""

from __future__ import annotations

import numpy as np

from .functions import calibration_curve

__all__ = [
    "TEMPERATURE_BOUNDS",
    "fit_temperature",
    "fit_label_temperatures",
    "apply_temperature",
    "apply_label_temperatures",
    "calibration_errors",
    "binary_log_loss",
]

#: the interval searched for ``T`` (below 1 sharpens, above 1 softens the probabilities)
TEMPERATURE_BOUNDS = (0.05, 20.0)


def _logs(proba: np.ndarray) -> np.ndarray:
    p = np.asarray(proba, dtype=np.float64)
    return np.log(np.clip(p, np.finfo(np.float64).tiny, None))


def _softmax_loss(logp: np.ndarray, y: np.ndarray, weights, t: float) -> float:
    z = logp / t
    top = z.max(axis=1, keepdims=True)
    lse = np.log(np.exp(z - top).sum(axis=1)) + top[:, 0]
    return float(np.average(lse - z[np.arange(len(y)), y], weights=weights))


def _minimise(loss, bounds) -> float:
    from scipy.optimize import minimize_scalar

    res = minimize_scalar(loss, bounds=bounds, method="bounded", options={"xatol": 1e-6})
    return float(res.x)


def fit_temperature(proba, y, *, sample_weight=None, bounds=TEMPERATURE_BOUNDS) -> float:
    """The temperature minimising the log loss of ``softmax(log proba / T)`` on labels ``y``.

    Parameters
    ----------
    proba : array-like of shape (n_samples, n_classes)
        Calibration probabilities (two columns for a binary task).
    y : array-like of shape (n_samples,)
        True class indices.
    sample_weight : array-like of shape (n_samples,), default=None
    bounds : tuple of float, default=TEMPERATURE_BOUNDS

    Returns
    -------
    float
    """
    logp, y = _logs(proba), np.asarray(y, dtype=np.int64)
    return _minimise(lambda t: _softmax_loss(logp, y, sample_weight, t), bounds)


def apply_temperature(proba, temperature: float) -> np.ndarray:
    """``softmax(log proba / T)`` row by row, in ``proba``'s float dtype."""
    proba = np.asarray(proba)
    z = _logs(proba) / temperature
    z -= z.max(axis=1, keepdims=True)
    np.exp(z, out=z)
    z /= z.sum(axis=1, keepdims=True)
    return z.astype(proba.dtype if np.issubdtype(proba.dtype, np.floating) else np.float64, copy=False)


def _logits(p: np.ndarray) -> np.ndarray:
    p = np.clip(np.asarray(p, dtype=np.float64), 1e-12, 1 - 1e-12)
    return np.log(p) - np.log1p(-p)


def binary_log_loss(event, p, *, sample_weight=None) -> float:
    """Mean log loss of probabilities ``p`` of a yes/no ``event`` (clipped at 1e-12)."""
    p = np.clip(np.asarray(p, dtype=np.float64), 1e-12, 1 - 1e-12)
    e = np.asarray(event, dtype=bool)
    return float(np.average(-np.where(e, np.log(p), np.log1p(-p)), weights=sample_weight))


def fit_label_temperatures(proba, y, *, sample_weight=None, bounds=TEMPERATURE_BOUNDS) -> np.ndarray:
    """One temperature per label of a multi-label task: label j's ``sigmoid(logit p_j / T_j)``
    minimises that label's log loss. Shape (n_labels,)."""
    proba, y = np.asarray(proba), np.asarray(y, dtype=bool)

    def fit(j: int) -> float:
        z, e = _logits(proba[:, j]), y[:, j]
        return _minimise(lambda t: binary_log_loss(e, 1 / (1 + np.exp(-z / t)), sample_weight=sample_weight), bounds)

    return np.array([fit(j) for j in range(proba.shape[1])])


def apply_label_temperatures(proba, temperatures) -> np.ndarray:
    """``sigmoid(logit p_j / T_j)`` for every label j, in ``proba``'s float dtype."""
    proba = np.asarray(proba)
    out = 1 / (1 + np.exp(-_logits(proba) / np.asarray(temperatures, dtype=np.float64)[None, :]))
    return out.astype(proba.dtype if np.issubdtype(proba.dtype, np.floating) else np.float64, copy=False)


def calibration_errors(event, confidence, *, n_bins: int = 10) -> tuple[float, float]:
    """Expected and maximum calibration error (ECE, MCE) over ``n_bins`` equal-width bins: the
    bin-size weighted mean and the largest gap between mean confidence and frequency."""
    prob_true, prob_pred, counts = calibration_curve(event, confidence, n_bins=n_bins)
    if counts.sum() == 0:
        return float("nan"), float("nan")
    gaps = np.abs(prob_true - prob_pred)
    return float(np.sum(counts * gaps) / counts.sum()), float(gaps.max())
