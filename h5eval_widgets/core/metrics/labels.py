"""Tasks, label encoding and turning raw model outputs into probabilities."""

from __future__ import annotations

from typing import Sequence

import numpy as np

from ..errors import LabelError

__all__ = ["TASKS", "infer_task", "to_probabilities", "encode_labels", "default_class_names"]

TASKS = ("binary", "multiclass", "multilabel", "regression", "segmentation")


def default_class_names(n: int) -> tuple[str, ...]:
    return tuple(str(i) for i in range(n))


def _is_integral(y: np.ndarray) -> bool:
    if y.dtype.kind in "iub":
        return True
    if y.dtype.kind == "f":
        finite = np.isfinite(y)
        return bool(finite.all() and np.all(y == np.round(y)))
    return False


def infer_task(n_outputs: int, *, activation: str | None = None, y=None) -> str:
    """Guess the task from the model's output width, its activation and the labels.

    Parameters
    ----------
    n_outputs : int
        Width of the model's output (1 for a single sigmoid or a scalar regression).
    activation : str, default=None
        The output layer's activation when known (``'sigmoid'``, ``'softmax'``, ``'linear'``).
    y : array-like, default=None
        The labels, used when the activation does not settle it.

    Returns
    -------
    {'binary', 'multiclass', 'multilabel', 'regression'}
    """
    y_arr = None if y is None else np.asarray(y)
    labels_look_categorical = y_arr is not None and (y_arr.dtype.kind in "OUSb" or _is_integral(y_arr))
    if activation == "softmax":
        return "binary" if n_outputs == 2 else "multiclass"
    if activation == "sigmoid":
        if n_outputs == 1:
            return "binary"
        if y_arr is not None and y_arr.ndim == 2 and y_arr.shape[1] == n_outputs:
            # one-hot rows mean single-label classification, several 1s per row mean multi-label
            if _is_integral(y_arr) and np.all(y_arr.sum(axis=1) == 1):
                return "binary" if n_outputs == 2 else "multiclass"
        return "multilabel"
    # linear / unknown activation: the labels decide
    if labels_look_categorical:
        if n_outputs == 1:
            uniq = np.unique(y_arr)
            if len(uniq) <= 2 or y_arr.dtype.kind in "OUSb":
                return "binary"
            return "regression"
        return "binary" if n_outputs == 2 else "multiclass"
    return "regression"


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    np.exp(z, out=z)
    z /= z.sum(axis=1, keepdims=True)
    return z


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def to_probabilities(raw: np.ndarray, task: str) -> tuple[np.ndarray, list[str]]:
    """Turn raw outputs into probabilities of shape ``(n_samples, n_classes)``.

    Logits (values outside ``[0, 1]``) are passed through softmax or sigmoid and a note says
    so. A single sigmoid column becomes two columns ``[1 - p, p]``.

    Returns
    -------
    proba : ndarray
        float32 unless the input was float64.
    notes : list of str
    """
    raw = np.asarray(raw)
    if raw.ndim == 1:
        raw = raw[:, None]
    if not np.issubdtype(raw.dtype, np.floating):
        raw = raw.astype(np.float32)
    return _OUTPUTS[task](raw)


def _finite_outputs(raw: np.ndarray) -> bool:
    """Refuse NaN/inf outputs; True when they are logits (outside [0, 1])."""
    if not np.all(np.isfinite(raw)):
        bad = int((~np.isfinite(raw)).any(axis=1).sum())
        raise LabelError(
            f"The model's outputs contain NaN or infinite values for {bad} sample(s); "
            "check the inputs for NaN/inf and the model's weights, then evaluate again."
        )
    lo, hi = float(raw.min(initial=0.0)), float(raw.max(initial=0.0))
    return lo < 0.0 or hi > 1.0


def _softmax_outputs(raw: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """One row of class scores per sample (softmax or its logits)."""
    if _finite_outputs(raw):
        return (
            _softmax(raw.astype(raw.dtype, copy=True)),
            ["The model outputs logits (values outside [0, 1]); applied softmax."],
        )
    sums = raw.sum(axis=1)
    if not np.allclose(sums, 1.0, atol=1e-3):
        return (
            raw / np.where(sums == 0, 1, sums)[:, None],
            ["Output rows did not sum to 1; renormalized them to probabilities."],
        )
    return raw, []


def _sigmoid_outputs(raw: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """Independent sigmoid columns (or their logits)."""
    if _finite_outputs(raw):
        return _sigmoid(raw), ["The model outputs logits (values outside [0, 1]); applied sigmoid."]
    return raw, []


def _binary_outputs(raw: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """Two softmax columns, or one sigmoid column made ``[1 - p, p]``."""
    if raw.shape[1] == 2:
        return _softmax_outputs(raw)
    p, notes = _sigmoid_outputs(raw)
    p = p[:, 0]
    return np.stack([1 - p, p], axis=1), notes


#: How each task reads the model's raw outputs.
_OUTPUTS = {
    "binary": _binary_outputs,
    "multiclass": _softmax_outputs,
    "multilabel": _sigmoid_outputs,
    "regression": lambda raw: (raw, []),
}


def encode_labels(
    y, *, task: str, n_classes: int, classes: Sequence[str] | None = None
) -> tuple[np.ndarray, tuple[str, ...]]:
    """Encode labels as class indices (or a boolean matrix for multi-label).

    Parameters
    ----------
    y : array-like
        Integer indices, one-hot rows, strings or booleans; floats for regression.
    task : str
        One of :data:`TASKS`.
    n_classes : int
        Number of classes the model predicts (outputs for multi-label and regression).
    classes : sequence of str, default=None
        Class names in the model's output order. String labels must be among them.

    Returns
    -------
    y_encoded : ndarray
        int64 indices of shape (n_samples,), bool of shape (n_samples, n_labels) for
        multi-label, float64 for regression.
    classes : tuple of str
    """
    y = np.asarray(y)
    if y.size == 0:
        raise LabelError("The labels are empty; pass a dataset with at least one sample.")
    return _ENCODERS[task](y, n_classes, classes)


def _checked_names(classes, n_classes: int) -> tuple[str, ...] | None:
    names = tuple(str(c) for c in classes) if classes is not None else None
    if names is not None and len(names) != n_classes:
        raise LabelError(
            f"{len(names)} class names were given but the model has {n_classes} classes; "
            "pass one name per model output, in the model's output order."
        )
    return names


def _encode_targets(y: np.ndarray, n_classes: int, classes) -> tuple[np.ndarray, tuple[str, ...]]:
    """Regression targets as float64."""
    if y.dtype.kind in "OUS":
        raise LabelError(
            "This is a regression model (numeric output) but the labels are strings "
            f"(for example {y.flat[0]!r}); pass numeric targets, or task='multiclass' "
            "if the model is a classifier."
        )
    y = y.astype(np.float64)
    if not np.all(np.isfinite(y)):
        raise LabelError(
            f"The targets contain {int((~np.isfinite(y)).sum())} NaN or infinite value(s); "
            "drop or impute those rows before evaluating."
        )
    names = tuple(classes) if classes is not None else default_class_names(n_classes)
    return (y[:, 0] if y.ndim == 2 and y.shape[1] == 1 else y), names


def _encode_multilabel(y: np.ndarray, n_classes: int, classes) -> tuple[np.ndarray, tuple[str, ...]]:
    """Multi-label targets as a boolean matrix."""
    names = _checked_names(classes, n_classes)
    if y.ndim != 2 or y.shape[1] != n_classes:
        raise LabelError(f"Multi-label targets must have shape (n_samples, {n_classes}); got {y.shape}.")
    if not np.all(np.isin(y, (0, 1))):
        raise LabelError("Multi-label targets must be 0/1 (or booleans) in every column.")
    return y.astype(bool), names or default_class_names(n_classes)


def _encode_single_label(y: np.ndarray, n_classes: int, classes) -> tuple[np.ndarray, tuple[str, ...]]:
    """Single-label targets (indices, one-hot rows, strings) as int64 class indices."""
    names = _checked_names(classes, n_classes)
    if y.dtype.kind == "f" and not np.all(np.isfinite(y)):
        raise LabelError(
            f"The labels contain {int((~np.isfinite(y)).sum())} NaN or infinite value(s); "
            "drop those rows or fix the label column."
        )
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim == 2:
        # one-hot (or probability) rows
        if y.shape[1] != n_classes:
            raise LabelError(
                f"The labels are one-hot with {y.shape[1]} columns but the model has "
                f"{n_classes} classes; one-hot labels need one column per class."
            )
        return np.argmax(y, axis=1).astype(np.int64), names or default_class_names(n_classes)
    if y.ndim != 1:
        raise LabelError(f"Labels must be 1-D or one-hot 2-D; got shape {y.shape}.")

    if y.dtype.kind in "OUS" or (y.dtype.kind == "b" and names is not None and n_classes != 2):
        y_str = y.astype(str)
        if names is None:
            uniq = np.unique(y_str)
            if len(uniq) > n_classes:
                raise LabelError(
                    f"The labels have {len(uniq)} distinct values but the model has {n_classes} "
                    f"classes: {list(uniq[:10])}; pass class_names in the model's output order."
                )
            if len(uniq) < n_classes:
                raise LabelError(
                    f"The labels are strings ({list(uniq[:10])}) and only {len(uniq)} of the "
                    f"model's {n_classes} classes appear, so their order cannot be inferred; "
                    "pass class_names in the model's output order."
                )
            names = tuple(uniq.tolist())
        lookup = {name: i for i, name in enumerate(names)}
        unknown = sorted(set(np.unique(y_str).tolist()) - lookup.keys())
        if unknown:
            raise LabelError(
                f"Labels {unknown[:10]} are not among the class names {list(names)[:20]}; "
                "fix the labels or pass the right class_names."
            )
        # vectorized mapping through the sorted names
        sorter = np.argsort(np.array(names))
        pos = np.searchsorted(np.array(names), y_str, sorter=sorter)
        return sorter[pos].astype(np.int64), names

    if not _is_integral(y):
        raise LabelError(
            "Classification labels must be integers, one-hot rows or strings; got "
            f"non-integer values such as {y[~np.isclose(y, np.round(y))][:3].tolist()}. "
            "If this is a regression target, pass task='regression'."
        )
    y_int = y.astype(np.int64)
    lo, hi = int(y_int.min()), int(y_int.max())
    if lo < 0 or hi >= n_classes:
        raise LabelError(
            f"Labels must be class indices in [0, {n_classes - 1}] for this {n_classes}-class "
            f"model; found values from {lo} to {hi}. Map the labels to indices, or check "
            "that this dataset belongs to this model."
        )
    return y_int, names or default_class_names(n_classes)


#: How each task encodes its labels.
_ENCODERS = {
    "binary": _encode_single_label,
    "multiclass": _encode_single_label,
    "multilabel": _encode_multilabel,
    "regression": _encode_targets,
}
