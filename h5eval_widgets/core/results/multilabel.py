"""Multi-label results: each label decided on its own at a shared threshold."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from ..metrics import functions as M
from ..insight.slices import multilabel_scores
from .classes import ClassEvaluation, averaged_scores
from .trust import LabelTrust

__all__ = ["MultilabelEvaluation"]


@dataclass(frozen=True, eq=False, repr=False)
class MultilabelEvaluation(ClassEvaluation, LabelTrust, task="multilabel"):
    """Any number of labels per sample; label j is on when its probability is ``>= threshold``."""

    @classmethod
    def _decide(cls, proba: np.ndarray, threshold: float):
        return proba >= threshold, proba

    def sample_columns(self, indices, *, y_pred: np.ndarray | None = None, top: int = 3) -> dict:
        """Table columns of some samples: the true and the predicted labels, each joined by ', '."""
        idx = np.asarray(indices, dtype=np.int64)
        pred = (self.y_pred if y_pred is None else np.asarray(y_pred))[idx]

        def joined(rows):
            return [", ".join(n for n, on in zip(self.classes, row) if on) for row in rows]

        return {"true": joined(self.y_true[idx]), "predicted": joined(pred)}

    def _truth_of(self, pos: int) -> np.ndarray:
        return self.y_true[:, pos]

    def _prevalence(self) -> np.ndarray:
        w = np.ones(self.n_samples) if self.sample_weight is None else self.sample_weight
        return (self.y_true * w[:, None]).sum(0)

    @cached_property
    def _cm(self) -> np.ndarray:
        t, p = self.y_true, self.y_pred
        w = np.ones(self.n_samples) if self.sample_weight is None else self.sample_weight
        tp = (w[:, None] * (t & p)).sum(0)
        fp = (w[:, None] * (~t & p)).sum(0)
        fn = (w[:, None] * (t & ~p)).sum(0)
        tn = (w[:, None] * (~t & ~p)).sum(0)
        cm = np.stack([np.stack([tn, fp], -1), np.stack([fn, tp], -1)], 1)
        return cm.astype(np.int64) if self.sample_weight is None else cm

    def confusion_matrix(self, normalize: str | None = None) -> np.ndarray:
        """One 2x2 matrix per label, shape (n_labels, 2, 2), as ``multilabel_confusion_matrix``."""
        return self._cm

    @cached_property
    def _label_scores(self) -> dict:
        cm = self._cm
        fp, fn, tp = cm[:, 0, 1], cm[:, 1, 0], cm[:, 1, 1]
        out = M.per_label_scores(tp, fp, fn)
        exact = np.all(self.y_true == self.y_pred, axis=1)
        out["subset_accuracy"] = float(np.average(exact, weights=self.sample_weight))
        mism = np.mean(self.y_true != self.y_pred, axis=1)
        out["hamming_loss"] = float(np.average(mism, weights=self.sample_weight))
        return out

    @cached_property
    def matrix_scores(self) -> dict[str, float]:
        s = self._label_scores
        out = {k: s[k] for k in ("subset_accuracy", "hamming_loss")}
        out.update(averaged_scores(s))
        return out

    @cached_property
    def scores(self) -> dict[str, float]:
        out = dict(self.matrix_scores)
        stats = self.rank_stats
        auc, ap, prev = stats.roc_auc, stats.average_precision, self._prevalence()
        defined = not np.isnan(auc).any()
        out["roc_auc_macro"] = float(np.mean(auc)) if defined else float("nan")
        out["roc_auc_weighted"] = float(np.average(auc, weights=prev)) if defined else float("nan")
        out["average_precision_macro"] = float(np.mean(ap)) if not np.isnan(ap).any() else float("nan")
        return out

    def with_threshold(self, threshold: float) -> "MultilabelEvaluation":
        """A new evaluation whose labels are decided at another threshold (indexes shared)."""
        t = float(threshold)
        y_pred = self.y_proba >= t
        y_pred.flags.writeable = False
        new = dataclasses.replace(self, threshold=t, y_pred=y_pred)
        for name in ("_threshold_indexes", "rank_stats"):
            if name in self.__dict__:
                new.__dict__[name] = self.__dict__[name]
        return new

    def to_dict(self) -> dict:
        out = super().to_dict()
        out["threshold"] = self.threshold
        return out

    def report_views(self, per_cell: int = 48) -> dict:
        """A 2x2 matrix per label with its cells' samples, and the curves (see
        :meth:`Evaluation.report_views`)."""
        from .report_data import label_matrices

        return {**super().report_views(per_cell), "matrices": label_matrices(self, per_cell)}

    # ------------------------------------------------------------------ slices
    SLICE_METRICS = ("accuracy", "error_rate", "f1_macro", "hamming_loss", "roc_auc")
    HEADLINE_METRICS = ("subset_accuracy", "hamming_loss", "f1_macro", "f1_micro", "roc_auc_macro")

    def slice_scores(self, codes, rows_of, *, n_boot: int, seed: int, confidence: float):
        """Every slice's subset accuracy, hamming loss and macro F1 with bootstrap intervals (see
        :func:`~h5eval_widgets.core.insight.slices.multilabel_scores`)."""
        return multilabel_scores(self, codes, rows_of, n_boot, seed, confidence)

    def slice_auc_columns(self, rows: np.ndarray) -> list[tuple[int, np.ndarray]]:
        """Every label's scores, with its truth over ``rows`` (a slice's ROC AUC)."""
        return [(c, self.y_true[rows, c]) for c in range(self.n_classes)]

    def sample_errors(self) -> np.ndarray:
        """True where any label of a sample is wrong (what :meth:`weak_slices` learns)."""
        return ~np.all(self.y_true == self.y_pred, axis=1)
