"""What every result with class probabilities shares: one class against the rest.

Sorted-score indexes per class (thresholds, curves), the per-class ranking statistics (ROC AUC
and average precision of each class against the rest) and the per-class table.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from .._lazy import class_index, pd
from .evaluation import Evaluation
from ..metrics.ranking import average_precision_binary, roc_auc_binary, sort_descending, sorted_curve
from ..metrics.threshold import ThresholdIndex, ThresholdResult

__all__ = ["ClassEvaluation", "RankStats", "averaged_scores"]


def averaged_scores(scores: dict) -> dict[str, float]:
    """The macro, micro and weighted precision, recall and F1 out of a per-class score dict."""
    return {
        f"{name}_{avg}": scores[f"{name}_{avg}"]
        for name in ("precision", "recall", "f1")
        for avg in ("macro", "micro", "weighted")
    }


@dataclass(frozen=True)
class RankStats:
    """Each class's scores sorted once: ROC AUC and AP against the rest, and for multi-class
    without weights the one-vs-one pair sums (``pair_sums[a, b]``: over samples of class a,
    the rank sum of their class-b score against class b's samples)."""

    roc_auc: np.ndarray
    average_precision: np.ndarray
    pair_sums: np.ndarray | None = None


@dataclass(frozen=True, eq=False, repr=False)
class ClassEvaluation(Evaluation):
    """Base of the binary, multi-class and multi-label results (not built directly)."""

    # ------------------------------------------------------------------ one class vs the rest
    def _truth_of(self, pos: int) -> np.ndarray:
        """True where a sample belongs to class ``pos``."""
        return self.y_true == pos

    @cached_property
    def _threshold_indexes(self) -> dict[int, ThresholdIndex]:
        return {}

    def _threshold_index_for(self, pos: int) -> ThresholdIndex:
        built = self._threshold_indexes
        if pos not in built:
            built[pos] = ThresholdIndex(self._truth_of(pos), self.y_proba[:, pos], sample_weight=self.sample_weight)
        return built[pos]

    def _positive(self, pos_class: int | str | None) -> int:
        if pos_class is None:
            raise ValueError(
                "pos_class is needed for a multi-class or multi-label evaluation: name the class "
                f"to take against the rest, one of {list(self.classes)[:20]}."
            )
        return self.class_index(pos_class)

    def threshold_index(self, pos_class: int | str | None = None) -> ThresholdIndex:
        """The sorted-score index of one class against the rest (built once, then kept)."""
        return self._threshold_index_for(self._positive(pos_class))

    def at_threshold(self, threshold: float, pos_class: int | str | None = None) -> ThresholdResult:
        """2x2 confusion matrix and metrics of ``pos_class`` against the rest at a threshold.

        Answered by a binary search in the class's sorted-score index; nothing is recomputed.
        """
        return self.threshold_index(pos_class).at(threshold)

    def cells_at_threshold(self, threshold: float, pos_class: int | str | None = None) -> dict:
        """Samples of each 2x2 cell ``(true, predicted)`` at a threshold, most confident first."""
        return self.threshold_index(pos_class).cells(threshold)

    def best_threshold(self, by: str = "f1", pos_class: int | str | None = None) -> float:
        """Threshold with the best F1 (``by='f1'``) or Youden's J (``by='youden'``)."""
        return self.threshold_index(pos_class).best_threshold(by)

    def roc_auc_of(self, pos_class: int | str | None = None) -> float:
        """ROC AUC of one class against the rest, from its sorted-score index (one sort of
        that class's column, not of every class's)."""
        return roc_auc_binary(self.threshold_index(pos_class).curve)

    def roc_curve(self, pos_class: int | str | None = None) -> pd.DataFrame:
        """ROC curve points (``fpr``, ``tpr``, ``threshold``) as scikit-learn's ``roc_curve``."""
        fpr, tpr, thr = self.threshold_index(pos_class).curve.roc()
        return pd.DataFrame({"fpr": fpr, "tpr": tpr, "threshold": thr})

    def pr_curve(self, pos_class: int | str | None = None) -> pd.DataFrame:
        """Precision-recall points as ``precision_recall_curve`` (threshold NaN at the end point)."""
        p, r, thr = self.threshold_index(pos_class).curve.precision_recall()
        return pd.DataFrame({"precision": p, "recall": r, "threshold": np.r_[thr, np.nan]})

    # ------------------------------------------------------------------ per-class ranking
    def _prevalence(self) -> np.ndarray:
        """(Weighted) number of samples of each class."""
        return np.bincount(self.y_true, weights=self.sample_weight, minlength=self.n_classes).astype(np.float64)

    def _class_stats(self, c: int) -> tuple[float, float]:
        """ROC AUC and AP of class ``c`` against the rest, from its sorted-score index when one
        was built, else from one sort of its column."""
        if c in self._threshold_indexes:
            curve = self._threshold_indexes[c].curve
        else:
            order, s_sorted = sort_descending(self.y_proba[:, c])
            w = None if self.sample_weight is None else self.sample_weight[order]
            curve = sorted_curve(self._truth_of(c)[order], s_sorted, w)
        return roc_auc_binary(curve), average_precision_binary(curve)

    @cached_property
    def rank_stats(self) -> RankStats:
        """Every class's ROC AUC and AP against the rest, computed once, on first use.

        numpy's sorts release the GIL, so with many samples the classes are sorted on all
        cores at once; below ~500k samples the threads cost more than they save (measured:
        100k samples, 10 classes, 80 ms threaded against 41 ms in turn; 1M samples, 563 ms
        against 686 ms).
        """
        k = self.n_classes
        workers = min(k, os.cpu_count() or 1)
        if workers > 1 and self.n_samples >= 500_000:
            from concurrent.futures import ThreadPoolExecutor

            with ThreadPoolExecutor(workers) as pool:
                results = list(pool.map(self._class_stats, range(k)))
        else:
            results = [self._class_stats(c) for c in range(k)]
        return RankStats(np.array([r[0] for r in results]), np.array([r[1] for r in results]))

    @property
    def ranking_ready(self) -> bool:
        """True once :attr:`rank_stats` is computed (then every metric is a lookup)."""
        return "rank_stats" in self.__dict__

    # ------------------------------------------------------------------ tables
    @cached_property
    def _label_scores(self) -> dict:
        """Metrics of the class decisions (no probabilities): per-class arrays and averages."""
        raise NotImplementedError

    @cached_property
    def matrix_scores(self) -> dict[str, float]:
        """The headline metrics of the decisions alone (no score column sorted): what a first
        view shows before the ranking metrics (ROC AUC, AP) are computed."""
        raise NotImplementedError

    def report_parts(self, *, pairs: int = 15) -> list:
        """The per-class table (see :meth:`Evaluation.report_parts`)."""
        return [("table", "Per class", self.per_class())]

    def report_views(self, per_cell: int = 48) -> dict:
        """The interactive report's ROC and PR curves (see :meth:`Evaluation.report_views`)."""
        from .report_data import class_curves

        return {"curves": class_curves(self)}

    # ------------------------------------------------------------------ slices
    SLICE_METRICS = ("accuracy", "error_rate", "balanced_accuracy", "f1_macro", "cohen_kappa", "mcc", "roc_auc")
    DEFAULT_SLICE_METRICS = ("accuracy", "f1_macro", "roc_auc", "error_rate")

    def slice_auc_columns(self, rows: np.ndarray) -> list[tuple[int, np.ndarray]]:
        """The score columns a slice's ROC AUC averages, each with its truth over ``rows``: every
        class against the rest."""
        yt = self.y_true[rows]
        return [(c, yt == c) for c in range(self.n_classes)]

    def per_class(self, ranking: bool = True) -> pd.DataFrame:
        """Precision, recall, F1, support (and ROC AUC, AP against the rest) for every class.

        Parameters
        ----------
        ranking : bool, default=True
            False leaves out ``roc_auc`` and ``average_precision``, which sort every class's
            score column (the rest is read from the confusion matrix).
        """
        s = self._label_scores
        names = ("precision", "recall", "f1", "support", "predicted")
        # built from one block with labels held as Python strings: a dict of columns gives
        # pandas 3's Arrow-backed labels, whose first use costs 4.5 MB of memory (measured)
        df = pd.DataFrame(
            np.column_stack([np.asarray(s[n], dtype=np.float64) for n in names]),
            index=class_index(self.classes, "class"),
            columns=pd.Index(names, dtype=object),
        )
        if self.sample_weight is None:
            df["support"] = df["support"].astype(np.int64)
            df["predicted"] = df["predicted"].astype(np.int64)
        if not ranking:
            return df
        stats = self.rank_stats
        df["roc_auc"] = stats.roc_auc
        df["average_precision"] = stats.average_precision
        return df

    def to_dict(self) -> dict:
        out = super().to_dict()
        pc = self.per_class()
        out["per_class"] = {
            c: {k: (None if np.isnan(v) else float(v)) for k, v in row.items()} for c, row in pc.iterrows()
        }
        out["confusion_matrix"] = np.asarray(self.confusion_matrix()).tolist()
        return out
