"""Multi-class results: arg-max decisions, one-vs-rest and one-vs-one AUC, top-k accuracy."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from ..metrics import functions as M
from .classes import RankStats
from .single import SingleLabelEvaluation

__all__ = ["MulticlassEvaluation"]

#: Probabilities (samples x classes) from which the column sorts run on every core
#: (measured: 100k x 100, 141 ms threaded against 199 ms in turn; 100k x 10, 37 ms against 28 ms).
THREADED_SORT_SIZE = 4_000_000


@dataclass(frozen=True, eq=False, repr=False)
class MulticlassEvaluation(SingleLabelEvaluation, task="multiclass"):
    """One of k classes per sample: the class with the highest probability."""

    HEADLINE_METRICS = (
        "accuracy",
        "balanced_accuracy",
        "f1_macro",
        "cohen_kappa",
        "mcc",
        "roc_auc_ovr_macro",
        "log_loss",
        "top_2_accuracy",
    )

    @classmethod
    def _decide(cls, proba: np.ndarray, threshold: float):
        return np.argmax(proba, axis=1).astype(np.int64), proba

    @cached_property
    def rank_stats(self) -> RankStats:
        """Every class's ROC AUC and AP against the rest, and the one-vs-one pair sums, from
        one sort of each score column (unweighted)."""
        if self.sample_weight is not None:
            return super().rank_stats
        if self.y_proba.dtype == np.float32:
            # every column sorted once with the true class packed in its keys
            big = self.n_samples * self.n_classes >= THREADED_SORT_SIZE
            auc, ap, sums = M.multiclass_rank_stats(
                self.y_true, self.y_proba, workers=(os.cpu_count() or 1) if big else 1
            )
            return RankStats(auc, ap, sums)
        k = self.n_classes
        results = [M.class_column_stats(self.y_true, self.y_proba[:, c], c, k) for c in range(k)]
        return RankStats(
            np.array([M.roc_auc_binary(curve) for curve, _ in results]),
            np.array([M.average_precision_binary(curve) for curve, _ in results]),
            np.stack([sums for _, sums in results]),
        )

    def roc_auc_ovo(self, average: str = "macro") -> float:
        """One-vs-one ROC AUC (Hand & Till), as ``roc_auc_score(multi_class='ovo')``.

        Computed from the same one sort per class as the one-vs-rest AUC: no sort per pair.
        Pairs are formed from the classes present in ``y_true``, as scikit-learn does; nan
        with sample weights (scikit-learn does not define it) or fewer than two classes.
        """
        prev = self._prevalence()
        if self.sample_weight is not None or np.count_nonzero(prev) < 2:
            return float("nan")
        sums = self.rank_stats.pair_sums
        present = np.flatnonzero(prev > 0)
        a, b = (present[i] for i in np.triu_indices(len(present), k=1))
        pair_n = prev[a] * prev[b]
        scores = (sums[a, b] + sums[b, a]) / (2 * pair_n)
        weights = (prev[a] + prev[b]) if average == "weighted" else None
        return float(np.average(scores, weights=weights))

    def _ranking_scores(self) -> dict[str, float]:
        stats = self.rank_stats
        auc, ap = stats.roc_auc, stats.average_precision
        prev = self._prevalence()
        all_present = bool(np.all(prev > 0))
        out = {
            "roc_auc_ovr_macro": float(np.mean(auc)) if all_present else float("nan"),
            "roc_auc_ovr_weighted": float(np.average(auc, weights=prev)) if all_present else float("nan"),
            "roc_auc_ovo_macro": self.roc_auc_ovo("macro"),
            "average_precision_macro": float(np.nanmean(ap)) if all_present else float("nan"),
        }
        yt, p, w = self.y_true, self.y_proba, self.sample_weight
        rank = M.true_class_rank(yt, p)
        for k in sorted({2, 3, 5} & set(range(2, self.n_classes))):
            out[f"top_{k}_accuracy"] = M.top_k_accuracy(yt, p, k, sample_weight=w, rank=rank)
        return out
