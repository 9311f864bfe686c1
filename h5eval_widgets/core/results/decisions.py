"""Everything about one set of class decisions: the matrix, its metrics, cells and mistakes.

A single-label evaluation decides at its own threshold; :meth:`decisions` answers the same
questions at any other threshold from the sorted-score index, without re-evaluating. The
dashboard's state, its views and ``with_threshold`` all go through this one object.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Callable

import numpy as np

from ..metrics import functions as M
from .._lazy import pd

if TYPE_CHECKING:
    from .single import SingleLabelEvaluation

__all__ = ["DecisionResult"]


@dataclass(frozen=True, eq=False)
class DecisionResult:
    """The class decisions of a single-label evaluation at one threshold.

    Attributes
    ----------
    evaluation : BinaryEvaluation or MulticlassEvaluation
    threshold : float or None
        The positive class's threshold (binary); None for arg-max decisions (multi-class).
    confusion : ndarray of shape (n_classes, n_classes)
        Rows = true, cols = predicted.
    """

    evaluation: "SingleLabelEvaluation"
    threshold: float | None
    confusion: np.ndarray
    _cell: Callable[[int, int], np.ndarray]
    _predict: Callable[[], np.ndarray]
    _mistakes: Callable[[], np.ndarray]

    @property
    def is_own(self) -> bool:
        """True when these are the evaluation's own decisions (its threshold, or arg-max)."""
        return self.threshold is None or self.threshold == self.evaluation.threshold

    @cached_property
    def y_pred(self) -> np.ndarray:
        """Predicted class of each sample."""
        return self.evaluation.y_pred if self.is_own else self._predict()

    def cell(self, true: int | str, pred: int | str) -> np.ndarray:
        """Samples of cell ``(true, pred)``, most confident first (a lookup in an index)."""
        ev = self.evaluation
        return self._cell(ev.class_index(true), ev.class_index(pred))

    def mistakes(self) -> np.ndarray:
        """Every wrong prediction, most confident first."""
        return self._mistakes()

    @cached_property
    def _matrix_scores(self) -> dict:
        return self.evaluation._label_scores if self.is_own else M.scores_from_confusion(self.confusion)

    @cached_property
    def scores(self) -> dict[str, float]:
        """The headline metrics with the decision-dependent ones at this threshold."""
        return self._at_threshold(self.evaluation.scores)

    @cached_property
    def matrix_scores(self) -> dict[str, float]:
        """The metrics of this confusion matrix alone (no score column sorted)."""
        return self._at_threshold(self.evaluation.matrix_scores)

    def _at_threshold(self, scores: dict[str, float]) -> dict[str, float]:
        if self.is_own:
            return scores
        out = dict(scores)
        sc = self._matrix_scores
        for k in out:
            if k in sc and np.ndim(sc[k]) == 0:
                out[k] = float(sc[k])
        for k in ("precision", "recall", "f1"):
            if k in out:
                out[k] = float(sc[k][1])
        return out

    def per_class(self, ranking: bool = True) -> pd.DataFrame:
        """The per-class table with precision, recall, F1 and predicted counts at this threshold
        (``ranking=False``: without the ROC AUC and AP columns, which sort the scores)."""
        df = self.evaluation.per_class(ranking)
        if self.is_own:
            return df
        sc = self._matrix_scores
        df = df.copy()
        for col in ("precision", "recall", "f1"):
            df[col] = sc[col]
        df["predicted"] = sc["predicted"].astype(df["predicted"].dtype)
        return df
