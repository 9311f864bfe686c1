"""One class against the rest at any threshold, answered from a sorted-score index built once."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .ranking import BinaryCurve, sort_descending, sorted_curve

__all__ = ["ThresholdIndex", "ThresholdResult"]


@dataclass(frozen=True)
class ThresholdResult:
    """The 2x2 outcome of predicting positive when ``score >= threshold``.

    ``confusion`` is ``[[tn, fp], [fn, tp]]`` (rows = true, cols = predicted), as scikit-learn's
    ``confusion_matrix(y_true, y_pred)`` with labels ``[negative, positive]``.
    """

    threshold: float
    confusion: np.ndarray
    precision: float
    recall: float
    f1: float
    accuracy: float
    specificity: float
    youden_j: float

    def to_dict(self) -> dict:
        out = {k: getattr(self, k) for k in self.__dataclass_fields__ if k != "confusion"}
        out["confusion"] = self.confusion.tolist()
        return out


def _ratio(a: float, b: float) -> float:
    return float(a / b) if b else float("nan")


class ThresholdIndex:
    """Scores of one class sorted once, so that any threshold costs one binary search.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True where the sample belongs to the positive class.
    y_score : array-like of shape (n_samples,)
        The positive class's probability.
    sample_weight : array-like of shape (n_samples,), default=None
    order : ndarray, default=None
        A permutation sorting ``y_score`` descending, when one is already at hand.
    """

    def __init__(self, y_true, y_score, *, sample_weight=None, order=None):
        y_true = np.asarray(y_true, dtype=bool)
        score = np.asarray(y_score)
        if order is None:
            self.order, s_sorted = sort_descending(score)
        else:
            self.order, s_sorted = order, score[order]
        t_sorted = y_true[self.order]
        #: labels in the index's (descending score) order
        self.truth_sorted = t_sorted
        self._neg_desc_scores = -s_sorted  # ascending, for searchsorted
        w = None if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)[self.order]
        if w is None:
            self._cum_tp = np.r_[0.0, np.cumsum(t_sorted, dtype=np.float64)]
            self._cum_fp = np.arange(len(t_sorted) + 1, dtype=np.float64) - self._cum_tp
        else:
            self._cum_tp = np.r_[0.0, np.cumsum(w * t_sorted)]
            self._cum_fp = np.r_[0.0, np.cumsum(w * ~t_sorted)]
        # sample indices of positives and of negatives, in descending score order
        self.pos_order = self.order[t_sorted]
        self.neg_order = self.order[~t_sorted]
        self._pos_rank = np.r_[0, np.cumsum(t_sorted)]
        self.curve: BinaryCurve = sorted_curve(t_sorted, s_sorted, w)

    @property
    def n_pos(self) -> float:
        return float(self._cum_tp[-1])

    @property
    def scores_sorted(self) -> np.ndarray:
        """Scores in the index's (descending) order, recovered from the negated copy it keeps."""
        return -self._neg_desc_scores

    @property
    def n_neg(self) -> float:
        return float(self._cum_fp[-1])

    def _n_at(self, threshold: float) -> int:
        # number of samples with score >= threshold
        return int(np.searchsorted(self._neg_desc_scores, -threshold, side="right"))

    def at(self, threshold: float) -> ThresholdResult:
        """Confusion matrix and metrics when ``score >= threshold`` predicts positive."""
        n = self._n_at(threshold)
        tp, fp = self._cum_tp[n], self._cum_fp[n]
        fn, tn = self.n_pos - tp, self.n_neg - fp
        precision = _ratio(tp, tp + fp)
        recall = _ratio(tp, self.n_pos)
        specificity = _ratio(tn, self.n_neg)
        cm = np.array([[tn, fp], [fn, tp]])
        if np.all(cm == np.round(cm)):
            cm = cm.astype(np.int64)
        return ThresholdResult(
            threshold=float(threshold),
            confusion=cm,
            precision=precision,
            recall=recall,
            f1=_ratio(2 * tp, 2 * tp + fp + fn),
            accuracy=_ratio(tp + tn, self.n_pos + self.n_neg),
            specificity=specificity,
            youden_j=recall + specificity - 1,
        )

    def cells(self, threshold: float) -> dict[tuple[int, int], np.ndarray]:
        """Sample indices of each cell ``(true, predicted)`` at a threshold, most confident first.

        For predicted-positive cells the most confident sample has the highest score; for
        predicted-negative cells, the lowest. Each cell is a slice of arrays built once.
        """
        n = self._n_at(threshold)
        n_pos_pred = int(self._pos_rank[n])  # positives among the first n
        n_neg_pred = n - n_pos_pred
        return {
            (1, 1): self.pos_order[:n_pos_pred],
            (1, 0): self.pos_order[n_pos_pred:][::-1],
            (0, 1): self.neg_order[:n_neg_pred],
            (0, 0): self.neg_order[n_neg_pred:][::-1],
        }

    def _sweep(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        c = self.curve
        fn = c.n_pos - c.tps
        with np.errstate(all="ignore"):
            f1 = 2 * c.tps / (2 * c.tps + c.fps + fn)
            tpr = c.tps / c.n_pos if c.n_pos else np.full_like(c.tps, np.nan)
            fpr = c.fps / c.n_neg if c.n_neg else np.full_like(c.fps, np.nan)
        return c.thresholds, f1, tpr - fpr

    def best_threshold(self, by: str = "f1") -> float:
        """Threshold maximizing F1 (``by='f1'``) or Youden's J = TPR - FPR (``by='youden'``).

        Ties go to the highest threshold. Returns nan when the criterion is undefined
        (for example only one class present).
        """
        thresholds, f1, j = self._sweep()
        if by == "f1":
            values = f1
        elif by == "youden":
            values = j
        else:
            raise ValueError(f"by={by!r} is not one of 'f1' or 'youden'.")
        if len(values) == 0 or np.all(np.isnan(values)):
            return float("nan")
        return float(thresholds[int(np.nanargmax(values))])
