"""Per confusion-matrix cell, the indices of its samples, ordered by confidence, found by lookup."""

from __future__ import annotations

import numpy as np

__all__ = ["CellIndex"]


class CellIndex:
    """All samples grouped by ``(true, predicted)`` cell, most confident first within each cell.

    Built once with two stable sorts (confidence, then cell id); a cell is then a slice.

    Parameters
    ----------
    y_true, y_pred : ndarray of shape (n_samples,)
        Class indices.
    confidence : ndarray of shape (n_samples,)
        Probability of the predicted class.
    n_classes : int
    """

    def __init__(self, y_true, y_pred, confidence, n_classes: int):
        self.n_classes = n_classes
        cell = np.asarray(y_true, dtype=np.int64) * n_classes + np.asarray(y_pred, dtype=np.int64)
        by_conf = np.argsort(np.asarray(confidence))[::-1]
        # a small integer key lets numpy's stable sort use radix sort
        key_dtype = np.uint16 if n_classes * n_classes <= np.iinfo(np.uint16).max else np.int64
        keys = cell[by_conf].astype(key_dtype)
        self.order = by_conf[np.argsort(keys, kind="stable")]
        counts = np.bincount(cell, minlength=n_classes * n_classes)
        self.starts = np.r_[0, np.cumsum(counts)]
        self.order.flags.writeable = False

    def __call__(self, true: int, pred: int) -> np.ndarray:
        """Indices of the samples with true class ``true`` predicted as ``pred``."""
        c = int(true) * self.n_classes + int(pred)
        return self.order[self.starts[c] : self.starts[c + 1]]

    def counts(self) -> np.ndarray:
        """Unweighted count of each cell, shape (n_classes, n_classes)."""
        return np.diff(self.starts).reshape(self.n_classes, self.n_classes)
