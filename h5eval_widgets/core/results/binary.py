"""Binary results: a positive class, a threshold that can move, DeLong's AUC interval."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from ..metrics import functions as M
from ..errors import LabelError
from .classes import RankStats
from .decisions import DecisionResult
from .single import SingleLabelEvaluation

__all__ = ["BinaryEvaluation"]


@dataclass(frozen=True, eq=False, repr=False)
class BinaryEvaluation(SingleLabelEvaluation, task="binary"):
    """Two classes; class 1 is positive when its probability is ``>= threshold``."""

    _positive_class_metrics = ("precision", "recall", "f1")
    positive_class = 1
    HEADLINE_METRICS = ("accuracy", "precision", "recall", "f1", "cohen_kappa", "mcc", "roc_auc", "average_precision")
    SLICE_METRICS = (
        "accuracy",
        "error_rate",
        "balanced_accuracy",
        "f1_macro",
        "cohen_kappa",
        "mcc",
        "precision",
        "recall",
        "f1",
        "roc_auc",
    )
    SLICE_AUC_INTERVAL = "DeLong"

    @classmethod
    def _check_outputs(cls, raw: np.ndarray, y: np.ndarray) -> None:
        if raw.shape[1] not in (1, 2):
            raise LabelError(f"A binary task needs 1 or 2 outputs; the model has {raw.shape[1]}.")

    @classmethod
    def _decide(cls, proba: np.ndarray, threshold: float):
        return (proba[:, 1] >= threshold).astype(np.int64), proba

    def _positive(self, pos_class: int | str | None) -> int:
        return 1 if pos_class is None else self.class_index(pos_class)

    # ------------------------------------------------------------------ at another threshold
    def decisions(self, threshold: float | None = None) -> DecisionResult:
        """Matrix, metrics, cells and mistakes at ``threshold`` (default: the evaluation's own),
        answered from the positive class's sorted-score index."""
        if threshold is None or threshold == self.threshold:
            return super().decisions()
        t = float(threshold)
        last = self.__dict__.get("_last_decisions")
        if last is not None and last.threshold == t:  # a redraw of every view asks again
            return last
        index = self._threshold_index_for(1)
        cells = index.cells(t)
        p1 = self.y_proba[:, 1]

        def mistakes():
            # the two mistake cells are sorted by confidence already: a stable sort merges
            # the two runs in linear time
            fp, fn = cells[(0, 1)], cells[(1, 0)]
            wrong = np.concatenate([fp, fn])
            conf = np.concatenate([p1[fp], self.y_proba[fn, 0]])
            return wrong[np.argsort(-conf, kind="stable")]

        dec = DecisionResult(
            self, t, index.at(t).confusion, lambda i, j: cells[(i, j)], lambda: (p1 >= t).astype(np.int64), mistakes
        )
        self.__dict__["_last_decisions"] = dec
        return dec

    def with_threshold(self, threshold: float) -> "BinaryEvaluation":
        """A new evaluation whose class predictions use another threshold.

        The probabilities are the same, so the sorted-score indexes and ranking statistics
        already computed are shared, not rebuilt.
        """
        t = float(threshold)
        new = dataclasses.replace(self, threshold=t, y_pred=_frozen(self.decisions(t).y_pred))
        for name in ("_threshold_indexes", "rank_stats"):
            if name in self.__dict__:
                new.__dict__[name] = self.__dict__[name]
        return new

    # ------------------------------------------------------------------ scores
    @cached_property
    def rank_stats(self) -> RankStats:
        """ROC AUC and AP of both classes. Column 0 usually falls as column 1 rises
        (``1 - p``): the positive class's order, reversed, then sorts it too (checked, not
        assumed; otherwise column 0 is sorted as usual)."""
        index = self._threshold_index_for(1)
        curve1 = index.curve
        p = self.y_proba
        curve0 = None
        order = index.order[::-1]
        if np.array_equal(p[:, 0], 1 - p[:, 1]):  # the [1 - p, p] of one sigmoid unit
            s0 = 1 - index.scores_sorted[::-1]  # the same values, without a gather
        else:
            s0 = p[order, 0]
        if len(s0) < 2 or np.all(s0[1:] <= s0[:-1]):
            w = None if self.sample_weight is None else self.sample_weight[order]
            curve0 = M.sorted_curve(~index.truth_sorted[::-1], s0, w)
        auc0, ap0 = (
            (M.roc_auc_binary(curve0), M.average_precision_binary(curve0))
            if curve0 is not None
            else self._class_stats(0)
        )
        return RankStats(
            np.array([auc0, M.roc_auc_binary(curve1)]), np.array([ap0, M.average_precision_binary(curve1)])
        )

    def _ranking_scores(self) -> dict[str, float]:
        stats = self.rank_stats
        return {"roc_auc": float(stats.roc_auc[1]), "average_precision": float(stats.average_precision[1])}

    def _calib_event(self) -> np.ndarray:
        return self.y_true == 1

    def _calib_conf(self) -> np.ndarray:
        return self.y_proba[:, 1]

    def _exact_intervals(self, confidence: float) -> dict[str, tuple[float, float]]:
        if self.sample_weight is not None:
            return {}
        # a score-resampling bootstrap costs O(n) per replicate; DeLong's interval is exact in
        # its variance and costs one pass over the curve
        return {"roc_auc": M.roc_auc_delong_interval(self._threshold_index_for(1).curve, confidence)}

    def slice_auc_columns(self, rows: np.ndarray) -> list[tuple[int, np.ndarray]]:
        """The positive class's scores, with its truth over ``rows`` (a slice's ROC AUC)."""
        return [(1, self.y_true[rows] == 1)]

    def report_lines(self) -> list[str]:
        """The threshold, and where F1 and Youden's J are best (see :meth:`Evaluation.report_lines`)."""
        f1, youden = self.best_threshold("f1"), self.best_threshold("youden")
        return [f"threshold: {self.threshold:g} (best F1 at {f1:.4f}, best Youden's J at {youden:.4f})"]

    def report_views(self, per_cell: int = 48) -> dict:
        """Also the matrix at every threshold of a fine grid, for the report's slider (see
        :meth:`Evaluation.report_views`)."""
        from .report_data import threshold_view

        return {**super().report_views(per_cell), "threshold": threshold_view(self, per_cell)}

    def to_dict(self) -> dict:
        out = super().to_dict()
        out["threshold"] = self.threshold
        clean = [None if np.isnan(v) else v for v in (self.best_threshold("f1"), self.best_threshold("youden"))]
        out["best_threshold"] = {"f1": clean[0], "youden": clean[1]}
        return out


def _frozen(a: np.ndarray) -> np.ndarray:
    a = np.array(a)
    a.flags.writeable = False
    return a
