"""What binary and multi-class results share: one label per sample, one confusion matrix."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import ClassVar

import numpy as np

from ..metrics import functions as M
from .._lazy import class_index, pd
from ..metrics.cells import CellIndex
from ..metrics.resampling import resample_groups
from ..insight.slices import single_label_scores
from .classes import ClassEvaluation, averaged_scores
from .decisions import DecisionResult
from .trust import ClassTrust

__all__ = ["SingleLabelEvaluation"]


@dataclass(frozen=True, eq=False, repr=False)
class SingleLabelEvaluation(ClassEvaluation, ClassTrust):
    """Base of :class:`BinaryEvaluation` and :class:`MulticlassEvaluation` (not built directly)."""

    #: per-class metrics also reported for the positive class alone (binary)
    _positive_class_metrics: ClassVar[tuple[str, ...]] = ()

    @cached_property
    def confidence(self) -> np.ndarray:
        """Probability of the predicted class, shape (n_samples,)."""
        return self.y_proba[np.arange(self.n_samples), self.y_pred]

    @cached_property
    def correct(self) -> np.ndarray:
        """True where the prediction equals the label."""
        return self.y_true == self.y_pred

    # ------------------------------------------------------------------ confusion matrix
    @cached_property
    def _cm(self) -> np.ndarray:
        cm = M.confusion_matrix(self.y_true, self.y_pred, self.n_classes, sample_weight=self.sample_weight)
        cm.flags.writeable = False
        return cm

    def confusion_matrix(self, normalize: str | None = None) -> np.ndarray:
        """Confusion matrix, rows = true, cols = predicted.

        Parameters
        ----------
        normalize : {'true', 'pred', 'all'}, default=None
            As in :func:`sklearn.metrics.confusion_matrix`.
        """
        return M.normalize_confusion(self._cm, normalize)

    def confusion_frame(self, normalize: str | None = None) -> pd.DataFrame:
        """The confusion matrix as a DataFrame labelled with class names."""
        idx = class_index(self.classes, "true")
        cols = class_index(self.classes, "predicted")
        return pd.DataFrame(self.confusion_matrix(normalize), index=idx, columns=cols)

    @cached_property
    def _cells(self) -> CellIndex:
        return CellIndex(self.y_true, self.y_pred, self.confidence, self.n_classes)

    def cell_indices(self, true: int | str, pred: int | str) -> np.ndarray:
        """Indices of the samples in cell ``(true, pred)``, most confident first.

        A lookup in an index built once: no scan of all samples.
        """
        return self._cells(self.class_index(true), self.class_index(pred))

    def most_confident_mistakes(self, n: int | None = 20) -> np.ndarray:
        """Indices of the ``n`` wrong predictions with the highest confidence (all when None)."""
        wrong = np.flatnonzero(~self.correct)
        return wrong[np.argsort(-self.confidence[wrong], kind="stable")[:n]]

    def most_confused_pairs(self, n: int = 10) -> pd.DataFrame:
        """Off-diagonal cells with the most samples, as a DataFrame."""
        cm = np.array(self._cm, dtype=np.float64)
        np.fill_diagonal(cm, 0)
        flat = np.argsort(-cm, axis=None, kind="stable")[:n]
        rows, cols = np.unravel_index(flat, cm.shape)
        keep = cm[rows, cols] > 0
        return pd.DataFrame(
            {
                "true": [self.classes[i] for i in rows[keep]],
                "predicted": [self.classes[j] for j in cols[keep]],
                "count": cm[rows, cols][keep],
            }
        )

    explainable = True
    single_label = True

    #: the most classes a report draws as a matrix; more get the most confused pairs
    REPORT_MATRIX_CLASSES: ClassVar[int] = 30

    def report_parts(self, *, pairs: int = 15) -> list:
        """The per-class table, then the confusion matrix (up to :attr:`REPORT_MATRIX_CLASSES`
        classes) or the ``pairs`` most confused pairs (see :meth:`Evaluation.report_parts`)."""
        parts = super().report_parts(pairs=pairs)
        if self.n_classes <= self.REPORT_MATRIX_CLASSES:
            return parts + [("confusion", "Confusion matrix", self.confusion_frame())]
        return parts + [("pairs", "Most confused pairs", self.most_confused_pairs(pairs))]

    def report_views(self, per_cell: int = 48) -> dict:
        """The confusion matrix with each cell's most confident samples, the curves and the
        reliability diagram (see :meth:`Evaluation.report_views`)."""
        from .report_data import matrix_view, reliability_curve

        views = super().report_views(per_cell)
        return {
            **views,
            "matrices": [matrix_view(self, per_cell)],
            "curves": views["curves"] + [reliability_curve(self)],
        }

    def slice_scores(self, codes, rows_of, *, n_boot: int, seed: int, confidence: float):
        """Every slice's matrix metrics (and the positive class's precision, recall and F1 for a
        binary task) with bootstrap intervals, from per-slice confusion cells (see
        :func:`~h5eval_widgets.core.insight.slices.single_label_scores`)."""
        return single_label_scores(
            self, codes, rows_of, n_boot, seed, confidence, positive=1 if self._positive_class_metrics else None
        )

    def sample_errors(self) -> np.ndarray:
        """True where a sample is wrong (what :meth:`weak_slices` learns)."""
        return np.asarray(self.y_true != self.y_pred)

    def sample_columns(self, indices, *, y_pred: np.ndarray | None = None, top: int = 3) -> dict:
        """Table columns of some samples: true and predicted class, confidence, whether right,
        and the ``top`` most probable classes (see :func:`~h5eval_widgets.core.metrics.queries.samples_frame`).

        ``y_pred`` gives other decisions (binary: at another threshold)."""
        idx = np.asarray(indices, dtype=np.int64)
        names = np.asarray(self.classes, dtype=object)
        proba = np.asarray(self.y_proba)[idx]
        pred = (self.y_pred if y_pred is None else np.asarray(y_pred))[idx]
        order = np.argsort(-proba, axis=1, kind="stable")[:, :top]
        return {
            "true": names[self.y_true[idx]],
            "predicted": names[pred],
            "confidence": proba[np.arange(len(idx)), pred].astype(np.float64),
            "correct": self.y_true[idx] == pred,
            "top_classes": [", ".join(f"{names[j]} {row[j]:.0%}" for j in o) for o, row in zip(order, proba)],
        }

    def label_issues(self, *, filter_by: str = "prune_by_noise_rate") -> pd.DataFrame:
        """Samples whose given label is probably wrong, most likely first (cleanlab's confident
        learning on ``y_proba``; see :func:`~h5eval_widgets.core.insight.label_issues.find_label_issues`).

        Only trustworthy on held-out data the model was not trained on. Computed once per
        ``filter_by``.
        """
        from ..insight.label_issues import find_label_issues

        cache = self.__dict__.setdefault("_label_issues", {})  # a frozen dataclass: its dict
        if filter_by not in cache:
            cache[filter_by] = find_label_issues(self.y_true, self.y_proba, self.classes, filter_by=filter_by)
        return cache[filter_by].copy()

    def label_issue_counts(self, y_pred=None, *, filter_by: str = "prune_by_noise_rate") -> np.ndarray:
        """How many of each confusion-matrix cell's samples are likely label errors.

        Parameters
        ----------
        y_pred : array-like of int, default=None
            The decisions the matrix shows (binary: at another threshold); default ``y_pred``.
        filter_by : str, default='prune_by_noise_rate'
            As in :meth:`label_issues`.

        Returns
        -------
        ndarray of int64, shape (n_classes, n_classes)
            Rows are true classes, columns predicted ones, as in :meth:`confusion_matrix`.
        """
        idx = self.label_issues(filter_by=filter_by)["index"].to_numpy()
        pred = (self.y_pred if y_pred is None else np.asarray(y_pred))[idx]
        return M.confusion_matrix(self.y_true[idx], pred, self.n_classes)

    def saliency(
        self,
        indices,
        *,
        method: str = "gradcam",
        target: str | int = "predicted",
        layer: str | None = None,
        progress: bool = True,
    ) -> np.ndarray:
        """What the model looked at in image samples: one map per sample, scaled to a maximum of 1.

        Computed in batches with the Keras backend's gradients and kept per (sample, class,
        method), so showing them again costs nothing.

        Parameters
        ----------
        indices : int or array-like of int
            Sample indices; one index gives one map.
        method : {'gradcam', 'integrated_gradients'}, default='gradcam'
            Grad-CAM on the last convolutional layer (or ``layer``), or integrated gradients
            (any differentiable model; absolute attributions summed over the channels).
        target : {'predicted', 'true'}, int or array-like of int, default='predicted'
            The class explained: each sample's predicted class, its true class, one class for
            all, or one class per sample (such as the predictions at another threshold).
        layer : str, default=None
            Grad-CAM's convolutional layer.
        progress : bool, default=True

        Returns
        -------
        ndarray of shape (height, width) or (n, height, width)
            At the model's input size.

        Raises
        ------
        H5EvalError
            When the evaluation was built without its model (:meth:`from_predictions`), or the
            model is not a differentiable image model.
        """
        from ..errors import H5EvalError

        explainer = self.explainer
        if explainer is None:
            raise H5EvalError(
                "This evaluation was built from predictions, without its model, so "
                "there is nothing to compute saliency with; build it with "
                "Evaluation.from_model(model, data)."
            )
        one = np.ndim(indices) == 0
        idx = np.atleast_1d(np.asarray(indices, dtype=np.int64))
        if len(idx) and (idx.min() < 0 or idx.max() >= self.n_samples):
            raise IndexError(f"Sample indices must lie in [0, {self.n_samples - 1}]; got {idx.min()}..{idx.max()}.")
        if isinstance(target, str) and target == "predicted":
            classes = self.y_pred[idx]
        elif isinstance(target, str) and target == "true":
            classes = self.y_true[idx]
        elif np.ndim(target) == 0 and isinstance(target, (int, np.integer)) and 0 <= target < self.n_classes:
            classes = np.full(len(idx), int(target))
        elif (
            np.ndim(target) == 1
            and len(target) == len(idx)
            and np.all((np.asarray(target) >= 0) & (np.asarray(target) < self.n_classes))
        ):
            classes = np.asarray(target, dtype=np.int64)
        else:
            raise ValueError(
                f"target must be 'predicted', 'true', a class index in [0, "
                f"{self.n_classes - 1}] or one per sample; got {target!r}."
            )
        maps = explainer.saliency(self.dataset_rows(idx), classes, method=method, layer=layer, progress=progress)
        return maps[0] if one else maps

    def decisions(self, threshold: float | None = None) -> DecisionResult:
        """The matrix, metrics, cells and mistakes of the evaluation's own decisions."""
        return DecisionResult(
            self, None, self._cm, self._cells, lambda: self.y_pred, lambda: self.most_confident_mistakes(None)
        )

    # ------------------------------------------------------------------ scores
    @cached_property
    def _label_scores(self) -> dict:
        return M.scores_from_confusion(self._cm)

    @cached_property
    def undefined(self) -> dict[str, str]:
        out: dict[str, str] = {}
        present = self._prevalence() > 0
        absent = [self.classes[i] for i in np.flatnonzero(~present)]
        never = [self.classes[i] for i in np.flatnonzero(self._label_scores["predicted"] == 0)]
        if absent:
            out["roc_auc"] = (
                f"class(es) {absent[:10]} never occur in the labels, so a curve of that class "
                "against the rest has no positives; evaluate on data that has every class."
            )
            out["recall"] = f"recall of {absent[:10]} divides by zero true samples."
        if never:
            out["precision"] = f"precision of {never[:10]} divides by zero predictions."
        if present.sum() < 2:
            out["cohen_kappa"] = "only one class occurs in the labels."
        return out

    @cached_property
    def matrix_scores(self) -> dict[str, float]:
        s = self._label_scores
        out = {k: s[k] for k in ("accuracy", "balanced_accuracy")}
        out.update(averaged_scores(s))
        for name in self._positive_class_metrics:
            out[name] = float(s[name][1])
        out["cohen_kappa"] = s["cohen_kappa"]
        out["mcc"] = s["mcc"]
        return out

    @cached_property
    def scores(self) -> dict[str, float]:
        out = dict(self.matrix_scores)
        out["log_loss"] = M.log_loss(self.y_true, self.y_proba, sample_weight=self.sample_weight)
        out["brier_score"] = M.brier_score(self.y_true, self.y_proba, sample_weight=self.sample_weight)
        out.update(self._ranking_scores())
        out["ece"] = self.ece
        return out

    @cached_property
    def ece(self) -> float:
        """Expected calibration error (10 equal-width bins) of :meth:`calibration`'s curve."""
        return M.expected_calibration_error(self._calib_event(), self._calib_conf())

    def _ranking_scores(self) -> dict[str, float]:
        """The metrics of the sorted scores (ROC AUC, AP, ...)."""
        raise NotImplementedError

    # ------------------------------------------------------------------ calibration
    def _calib_event(self) -> np.ndarray:
        """What the calibration curve checks happens: the prediction is right."""
        return self.correct

    def _calib_conf(self) -> np.ndarray:
        return self.confidence

    def calibration(self, n_bins: int = 10) -> pd.DataFrame:
        """Reliability diagram: observed frequency against mean predicted probability per bin.

        Binary: the positive class's probability against its frequency, as
        ``sklearn.calibration.calibration_curve``. Multi-class: the confidence of the
        predicted class against how often it is right.
        """
        prob_true, prob_pred, counts = M.calibration_curve(self._calib_event(), self._calib_conf(), n_bins=n_bins)
        return pd.DataFrame({"prob_pred": prob_pred, "prob_true": prob_true, "count": counts})

    # ------------------------------------------------------------------ bootstrap
    def _replicates(self, n_boot: int, seed: int) -> dict[str, np.ndarray]:
        k = self.n_classes

        def score(groups, counts):
            t, p = np.divmod(groups, k)
            sc = M.scores_from_cell_draws(counts, t, p, k)
            out = {name: sc[name] for name in ("accuracy", "balanced_accuracy", "f1_macro", "cohen_kappa", "mcc")}
            out.update({name: sc[name][:, 1] for name in self._positive_class_metrics})
            return out

        return resample_groups(
            self.y_true * k + self.y_pred, n_boot, score, seed=seed, sample_weight=self.sample_weight
        )
