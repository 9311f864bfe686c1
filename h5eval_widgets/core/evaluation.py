"""The ``Evaluation`` result: predictions made once, every metric derived from them."""

from __future__ import annotations

import json
import math
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Sequence

import numpy as np

from ._lazy import pd
from . import metrics as M
from .cells import CellIndex
from .errors import LabelError
from .labels import TASKS, encode_labels, infer_task, to_probabilities
from .threshold import ThresholdIndex, ThresholdResult

__all__ = ["Evaluation"]


def _readonly(a: np.ndarray | None) -> np.ndarray | None:
    if a is not None:
        a = np.asarray(a)
        if a.flags.writeable and a.flags.owndata:
            a.flags.writeable = False
        elif a.flags.writeable:
            a = a.copy()
            a.flags.writeable = False
    return a


@dataclass(frozen=True, eq=False, repr=False)
class Evaluation:
    """Everything about one model on one dataset, computed from a single prediction pass.

    Build it with :meth:`from_model` (predicts once, through the cache) or
    :meth:`from_predictions`. The object is immutable; costly parts (curves, per-class AUC,
    bootstrap intervals) are computed on first use and kept.

    Attributes
    ----------
    task : {'binary', 'multiclass', 'multilabel', 'regression'}
    y_true : ndarray
        Class indices (n_samples,), a boolean matrix for multi-label, floats for regression.
    y_pred : ndarray
        Predicted class indices (or booleans, or predicted values for regression).
    y_proba : ndarray of shape (n_samples, n_classes) or None
        Probabilities (None for regression).
    classes : tuple of str
        Class names in the model's output order.
    threshold : float
        Decision threshold of the positive class (binary) or of every label (multi-label).
    notes : tuple of str
        What was inferred or changed on the way (logits turned into probabilities, ...).
    """

    task: str
    y_true: np.ndarray
    y_pred: np.ndarray
    y_proba: np.ndarray | None
    classes: tuple[str, ...]
    threshold: float = 0.5
    sample_weight: np.ndarray | None = None
    notes: tuple[str, ...] = ()
    model_info: Any = None
    dataset_name: str | None = None
    model_name: str | None = None
    _extra: dict = field(default_factory=dict)

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_predictions(
        cls,
        y_true,
        y_proba,
        *,
        classes: Sequence[str] | None = None,
        task: str | None = None,
        threshold: float = 0.5,
        sample_weight=None,
        notes: Sequence[str] = (),
        activation: str | None = None,
        model_info: Any = None,
        model_name: str | None = None,
        dataset_name: str | None = None,
    ) -> "Evaluation":
        """Build an evaluation from labels and the model's outputs.

        Parameters
        ----------
        y_true : array-like of shape (n_samples,) or (n_samples, n_classes)
            Integer class indices, one-hot rows, strings, or numeric targets (regression).
        y_proba : array-like of shape (n_samples,) or (n_samples, n_outputs)
            The model's outputs: probabilities, logits (detected and converted, with a note)
            or predicted values (regression). One column for a single sigmoid unit.
        classes : sequence of str, default=None
            Class names in output order; inferred from string labels or numbered ``'0'..``.
        task : {'binary', 'multiclass', 'multilabel', 'regression'}, default=None
            Inferred from the output width, ``activation`` and the labels when None.
        threshold : float, default=0.5
            A sample is predicted positive when its positive-class probability is
            ``>= threshold`` (binary and multi-label).
        sample_weight : array-like of shape (n_samples,), default=None
        notes : sequence of str, default=()
            Notes to carry (from loading or prediction).
        activation : str, default=None
            The output activation, when known, to settle the task.

        Returns
        -------
        Evaluation
        """
        raw = np.asarray(y_proba)
        if raw.ndim == 1:
            raw = raw[:, None]
        if raw.ndim != 2:
            raise LabelError(
                f"y_proba must have shape (n_samples,) or (n_samples, n_outputs); got {raw.shape}."
            )
        y_arr = np.asarray(y_true)
        if len(y_arr) != len(raw):
            raise LabelError(
                f"y_true has {len(y_arr)} samples but y_proba has {len(raw)}; they must "
                "describe the same samples in the same order."
            )
        if len(raw) == 0:
            raise LabelError("The dataset is empty: there is nothing to evaluate.")
        if task is None:
            task = infer_task(raw.shape[1], activation=activation, y=y_arr)
        if task not in TASKS:
            raise ValueError(f"task={task!r} is not one of {TASKS}.")
        if task == "regression" and y_arr.dtype.kind not in "OUS" and raw.shape[1] > 1:
            n_targets = 1 if y_arr.ndim == 1 else y_arr.shape[1]
            if n_targets != raw.shape[1]:
                raise LabelError(
                    f"The model has {raw.shape[1]} outputs but the targets have {n_targets} "
                    "column(s); for a classifier pass task='multiclass', for a multi-output "
                    "regressor pass targets with one column per output."
                )
        all_notes = list(notes)
        proba, prob_notes = to_probabilities(raw, task)
        all_notes += prob_notes
        n_classes = proba.shape[1]
        if task == "binary" and n_classes != 2:
            raise LabelError(f"A binary task needs 1 or 2 outputs; the model has {raw.shape[1]}.")
        y_enc, names = encode_labels(y_arr, task=task, n_classes=n_classes, classes=classes)
        if sample_weight is not None:
            sample_weight = np.asarray(sample_weight, dtype=np.float64)
            if sample_weight.shape != (len(y_enc),):
                raise LabelError(
                    f"sample_weight must have shape ({len(y_enc)},); got {sample_weight.shape}."
                )

        if task == "regression":
            pred = proba[:, 0] if proba.shape[1] == 1 else proba
            return cls(
                task=task, y_true=_readonly(y_enc), y_pred=_readonly(pred), y_proba=None,
                classes=names, threshold=threshold, sample_weight=_readonly(sample_weight),
                notes=tuple(all_notes), model_info=model_info, model_name=model_name,
                dataset_name=dataset_name,
            )
        if task == "binary":
            y_pred = (proba[:, 1] >= threshold).astype(np.int64)
        elif task == "multilabel":
            y_pred = proba >= threshold
        else:
            y_pred = np.argmax(proba, axis=1).astype(np.int64)
        return cls(
            task=task, y_true=_readonly(y_enc), y_pred=_readonly(y_pred), y_proba=_readonly(proba),
            classes=names, threshold=float(threshold), sample_weight=_readonly(sample_weight),
            notes=tuple(all_notes), model_info=model_info, model_name=model_name,
            dataset_name=dataset_name,
        )

    @classmethod
    def from_model(
        cls,
        model,
        X,
        y=None,
        *,
        classes: Sequence[str] | None = None,
        task: str | None = None,
        threshold: float = 0.5,
        sample_weight=None,
        batch_size: int | None = None,
        cache: bool | str = True,
        progress: bool = True,
        trust_code: bool = False,
        output: int | str | None = None,
        dataset_name: str | None = None,
        **dataset_options,
    ) -> "Evaluation":
        """Predict once (through the on-disk cache) and hand off to :meth:`from_predictions`
        (see :func:`~h5eval_widgets.core.pipeline.evaluate_model`).

        Parameters
        ----------
        model : str, path, keras.Model or LoadedModel
            A model file or directory (see :func:`~h5eval_widgets.core.load_model`) or a
            loaded model.
        X : array-like, Dataset, path, DataFrame or tf.data.Dataset
            The inputs, or a dataset holding inputs and labels (then ``y`` may be None).
        y : array-like, default=None
            Labels, when ``X`` holds inputs only.
        batch_size : int, default=None
            Samples per forward pass; None picks a large chunk.
        cache : bool or str, default=True
            Use the prediction cache (a str names its folder).
        progress : bool, default=True
            Show a progress bar during inference.
        trust_code : bool, default=False
            Allow a model that carries code (Lambda layers) to load.
        output : int or str, default=None
            Which output of a multi-output model to evaluate.
        **dataset_options
            Passed to :func:`~h5eval_widgets.core.load_dataset` when ``X`` is not a Dataset:
            ``label_column``, ``feature_columns``, ``x_key``, ``y_key``, ``image_size``,
            ``color_mode``, ``preprocess``, ...

        Other parameters are as in :meth:`from_predictions`.
        """
        from .pipeline import evaluate_model

        return evaluate_model(
            model, X, y, classes=classes, task=task, threshold=threshold,
            sample_weight=sample_weight, batch_size=batch_size, cache=cache, progress=progress,
            trust_code=trust_code, output=output, dataset_name=dataset_name, **dataset_options,
        )

    # ------------------------------------------------------------------ basics
    @property
    def n_samples(self) -> int:
        return len(self.y_true)

    @property
    def n_classes(self) -> int:
        return len(self.classes)

    @property
    def is_classification(self) -> bool:
        return self.task != "regression"

    def _need(self, *tasks: str, what: str) -> None:
        if self.task not in tasks:
            raise ValueError(f"{what} is defined for {' and '.join(tasks)} tasks; this is {self.task}.")

    def class_index(self, cls_: int | str) -> int:
        """Index of a class given by name or index."""
        if isinstance(cls_, (int, np.integer)) and not isinstance(cls_, bool):
            if not 0 <= int(cls_) < self.n_classes:
                raise ValueError(f"Class index {cls_} is outside [0, {self.n_classes - 1}].")
            return int(cls_)
        try:
            return self.classes.index(str(cls_))
        except ValueError:
            raise ValueError(
                f"{cls_!r} is not a class of this evaluation; classes: {list(self.classes)[:20]}."
            ) from None

    @cached_property
    def confidence(self) -> np.ndarray:
        """Probability of the predicted class, shape (n_samples,)."""
        self._need("binary", "multiclass", what="confidence")
        return self.y_proba[np.arange(self.n_samples), self.y_pred]

    @cached_property
    def correct(self) -> np.ndarray:
        """True where the prediction equals the label."""
        self._need("binary", "multiclass", what="correct")
        return self.y_true == self.y_pred

    # ------------------------------------------------------------------ confusion matrix
    @cached_property
    def _cm(self) -> np.ndarray:
        if self.task == "multilabel":
            t, p = self.y_true, self.y_pred
            w = np.ones(self.n_samples) if self.sample_weight is None else self.sample_weight
            tp = (w[:, None] * (t & p)).sum(0)
            fp = (w[:, None] * (~t & p)).sum(0)
            fn = (w[:, None] * (t & ~p)).sum(0)
            tn = (w[:, None] * (~t & ~p)).sum(0)
            cm = np.stack([np.stack([tn, fp], -1), np.stack([fn, tp], -1)], 1)
            return cm.astype(np.int64) if self.sample_weight is None else cm
        self._need("binary", "multiclass", what="A confusion matrix")
        cm = M.confusion_matrix(
            self.y_true, self.y_pred, self.n_classes, sample_weight=self.sample_weight
        )
        cm.flags.writeable = False
        return cm

    def confusion_matrix(self, normalize: str | None = None) -> np.ndarray:
        """Confusion matrix, rows = true, cols = predicted.

        Parameters
        ----------
        normalize : {'true', 'pred', 'all'}, default=None
            As in :func:`sklearn.metrics.confusion_matrix`. For multi-label, one 2x2 matrix
            per label, shape (n_labels, 2, 2), as ``multilabel_confusion_matrix``.
        """
        if self.task == "multilabel":
            return self._cm
        return M.normalize_confusion(self._cm, normalize)

    def confusion_frame(self, normalize: str | None = None) -> pd.DataFrame:
        """The confusion matrix as a DataFrame labelled with class names."""
        self._need("binary", "multiclass", what="confusion_frame")
        idx = pd.Index(self.classes, name="true")
        cols = pd.Index(self.classes, name="predicted")
        return pd.DataFrame(self.confusion_matrix(normalize), index=idx, columns=cols)

    @cached_property
    def _cells(self) -> CellIndex:
        self._need("binary", "multiclass", what="Cell lookup")
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

    # ------------------------------------------------------------------ scores
    @cached_property
    def _scores(self) -> dict:
        if self.task == "multilabel":
            return self._multilabel_scores()
        return M.scores_from_confusion(self._cm)

    def _multilabel_scores(self) -> dict:
        cm = self._cm.astype(np.float64)
        fp, fn, tp = cm[:, 0, 1], cm[:, 1, 0], cm[:, 1, 1]
        support = tp + fn
        out: dict[str, Any] = {}
        with np.errstate(all="ignore"):
            prec = np.where(tp + fp == 0, np.nan, tp / np.where(tp + fp == 0, 1, tp + fp))
            rec = np.where(support == 0, np.nan, tp / np.where(support == 0, 1, support))
            f1 = np.where(2 * tp + fp + fn == 0, np.nan, 2 * tp / np.maximum(2 * tp + fp + fn, 1e-300))
        out.update(precision=prec, recall=rec, f1=f1, support=support, predicted=tp + fp)
        for name, v in (("precision", prec), ("recall", rec), ("f1", f1)):
            out[f"{name}_macro"] = M._nanaverage(v)
            out[f"{name}_weighted"] = M._nanaverage(v, support)
        T, P, F = tp.sum(), fp.sum(), fn.sum()
        out["precision_micro"] = float(T / (T + P)) if T + P else float("nan")
        out["recall_micro"] = float(T / (T + F)) if T + F else float("nan")
        out["f1_micro"] = float(2 * T / (2 * T + P + F)) if 2 * T + P + F else float("nan")
        exact = np.all(self.y_true == self.y_pred, axis=1)
        out["subset_accuracy"] = float(np.average(exact, weights=self.sample_weight))
        mism = np.mean(self.y_true != self.y_pred, axis=1)
        out["hamming_loss"] = float(np.average(mism, weights=self.sample_weight))
        return out

    def _threshold_index_for(self, pos: int) -> ThresholdIndex:
        cache = self._extra.setdefault("threshold_index", {})
        if pos not in cache:
            if self.task == "multilabel":
                truth = self.y_true[:, pos]
            else:
                truth = self.y_true == pos
            cache[pos] = ThresholdIndex(
                truth, self.y_proba[:, pos], sample_weight=self.sample_weight
            )
        return cache[pos]

    def _positive(self, pos_class: int | str | None) -> int:
        if pos_class is None:
            if self.task == "binary":
                return 1
            raise ValueError(
                "pos_class is needed for a multi-class or multi-label evaluation: name the class "
                f"to take against the rest, one of {list(self.classes)[:20]}."
            )
        return self.class_index(pos_class)

    def threshold_index(self, pos_class: int | str | None = None) -> ThresholdIndex:
        """The sorted-score index of one class against the rest (built once, then kept)."""
        self._need("binary", "multiclass", "multilabel", what="A threshold index")
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

    def with_threshold(self, threshold: float) -> "Evaluation":
        """A new evaluation whose class predictions use another threshold (binary, multi-label)."""
        self._need("binary", "multilabel", what="with_threshold")
        return Evaluation.from_predictions(
            self.y_true,
            self.y_proba if self.task == "multilabel" else self.y_proba[:, 1],
            classes=self.classes, task=self.task, threshold=threshold,
            sample_weight=self.sample_weight, notes=self.notes, model_info=self.model_info,
            model_name=self.model_name, dataset_name=self.dataset_name,
        )

    def roc_curve(self, pos_class: int | str | None = None) -> pd.DataFrame:
        """ROC curve points (``fpr``, ``tpr``, ``threshold``) as scikit-learn's ``roc_curve``."""
        fpr, tpr, thr = self.threshold_index(pos_class).curve.roc()
        return pd.DataFrame({"fpr": fpr, "tpr": tpr, "threshold": thr})

    def pr_curve(self, pos_class: int | str | None = None) -> pd.DataFrame:
        """Precision-recall points as ``precision_recall_curve`` (threshold NaN at the end point)."""
        p, r, thr = self.threshold_index(pos_class).curve.precision_recall()
        return pd.DataFrame({"precision": p, "recall": r, "threshold": np.r_[thr, np.nan]})

    # ------------------------------------------------------------------ probability-based scores
    def _class_pass(self, c: int) -> tuple[float, float, np.ndarray | None]:
        """One sort of class c's score column: its ROC AUC, AP and one-vs-one pair sums."""
        built = self._extra.get("threshold_index", {})
        if c in built:
            # the sorted-score index of this class already holds its curve
            curve = self._threshold_index_for(c).curve
            return M.roc_auc_binary(curve), M.average_precision_binary(curve), None
        if self.task == "binary" and c == 0 and 1 in built:
            # column 0 usually falls as column 1 rises (1 - p): the positive class's order,
            # reversed, then sorts it too. Checked, not assumed; otherwise sort as usual.
            index = built[1]
            order = index.order[::-1]
            p = self.y_proba
            if np.array_equal(p[:, 0], 1 - p[:, 1]):  # the [1 - p, p] of one sigmoid unit
                s0 = 1 - index.scores_sorted[::-1]  # the same values, without a gather
            else:
                s0 = p[order, 0]
            if len(s0) < 2 or np.all(s0[1:] <= s0[:-1]):
                w = None if self.sample_weight is None else self.sample_weight[order]
                curve = M.sorted_curve(~index.truth_sorted[::-1], s0, w)
                return M.roc_auc_binary(curve), M.average_precision_binary(curve), None
        score = self.y_proba[:, c]
        labels = self.y_true[:, c].astype(np.int64) if self.task == "multilabel" else self.y_true
        cls = 1 if self.task == "multilabel" else c
        curve, pair_sums = M.class_column_stats(
            labels, score, cls, self.n_classes, sample_weight=self.sample_weight,
            pairwise=self.task == "multiclass" and self.sample_weight is None,
        )
        return M.roc_auc_binary(curve), M.average_precision_binary(curve), pair_sums

    @cached_property
    def _per_class_auc(self) -> tuple[np.ndarray, np.ndarray]:
        k = self.n_classes
        if (self.task == "multiclass" and self.sample_weight is None
                and self.y_proba.dtype == np.float32):
            # every column sorted once with the true class packed in its keys; threads pay
            # off from about 10M probabilities (measured: 100k x 100, 141 ms against 199 ms
            # in turn; 100k x 10, 37 ms against 28 ms)
            big = self.n_samples * k >= 4_000_000
            auc, ap, sums = M.multiclass_rank_stats(
                self.y_true, self.y_proba, workers=(os.cpu_count() or 1) if big else 1
            )
            self._extra["pair_sums"] = sums
            return auc, ap
        # numpy's sorts release the GIL, so large classes are sorted on all cores at once;
        # below ~500k samples the threads cost more than they save (measured: 100k samples,
        # 10 classes, 80 ms threaded against 41 ms in turn; 1M samples, 563 ms against 686 ms)
        workers = min(k, os.cpu_count() or 1)
        if workers > 1 and self.n_samples >= 500_000 and self.task != "binary":
            with ThreadPoolExecutor(workers) as pool:
                results = list(pool.map(self._class_pass, range(k)))
        else:
            results = [self._class_pass(c) for c in range(k)]
        auc = np.array([r[0] for r in results])
        ap = np.array([r[1] for r in results])
        if results and results[0][2] is not None:
            self._extra["pair_sums"] = np.stack([r[2] for r in results])
        return auc, ap

    def _prevalence(self) -> np.ndarray:
        if self.task == "multilabel":
            w = np.ones(self.n_samples) if self.sample_weight is None else self.sample_weight
            return (self.y_true * w[:, None]).sum(0)
        return np.bincount(
            self.y_true, weights=self.sample_weight, minlength=self.n_classes
        ).astype(np.float64)

    def roc_auc_ovo(self, average: str = "macro") -> float:
        """One-vs-one ROC AUC (Hand & Till), as ``roc_auc_score(multi_class='ovo')``.

        Computed from the same one sort per class as the one-vs-rest AUC: no sort per pair.
        Pairs are formed from the classes present in ``y_true``, as scikit-learn does; nan
        with sample weights (scikit-learn does not define it) or fewer than two classes.
        """
        self._need("multiclass", what="One-vs-one ROC AUC")
        prev = self._prevalence()
        if self.sample_weight is not None or np.count_nonzero(prev) < 2:
            return float("nan")
        self._per_class_auc  # noqa: B018 - fills the pair sums
        sums = self._extra["pair_sums"]
        # pairs of the classes present in y_true, as scikit-learn forms them
        present = np.flatnonzero(prev > 0)
        a, b = (present[i] for i in np.triu_indices(len(present), k=1))
        pair_n = prev[a] * prev[b]
        scores = (sums[a, b] + sums[b, a]) / (2 * pair_n)
        weights = (prev[a] + prev[b]) if average == "weighted" else None
        return float(np.average(scores, weights=weights))

    @cached_property
    def undefined(self) -> dict[str, str]:
        """Metrics that are undefined here (value nan), each with the reason."""
        out: dict[str, str] = {}
        if not self.is_classification:
            return out
        present = self._prevalence() > 0
        if self.task in ("binary", "multiclass"):
            absent = [self.classes[i] for i in np.flatnonzero(~present)]
            never = [self.classes[i] for i in np.flatnonzero(self._scores["predicted"] == 0)]
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

    def _probability_scores(self) -> dict:
        out: dict[str, float] = {}
        yt, p, w = self.y_true, self.y_proba, self.sample_weight
        if self.task == "multilabel":
            auc, ap = self._per_class_auc
            prev = self._prevalence()
            out["roc_auc_macro"] = float(np.mean(auc)) if not np.isnan(auc).any() else float("nan")
            out["roc_auc_weighted"] = (
                float(np.average(auc, weights=prev)) if not np.isnan(auc).any() else float("nan")
            )
            out["average_precision_macro"] = (
                float(np.mean(ap)) if not np.isnan(ap).any() else float("nan")
            )
            return out
        out["log_loss"] = M.log_loss(yt, p, sample_weight=w)
        out["brier_score"] = M.brier_score(yt, p, sample_weight=w)
        if self.task == "binary":
            idx = self._threshold_index_for(1)
            out["roc_auc"] = M.roc_auc_binary(idx.curve)
            out["average_precision"] = M.average_precision_binary(idx.curve)
        else:
            auc, ap = self._per_class_auc
            prev = self._prevalence()
            all_present = bool(np.all(prev > 0))
            out["roc_auc_ovr_macro"] = float(np.mean(auc)) if all_present else float("nan")
            out["roc_auc_ovr_weighted"] = (
                float(np.average(auc, weights=prev)) if all_present else float("nan")
            )
            out["roc_auc_ovo_macro"] = self.roc_auc_ovo("macro")
            out["average_precision_macro"] = float(np.nanmean(ap)) if all_present else float("nan")
            rank = M.true_class_rank(yt, p)
            for k in sorted({2, 3, 5} & set(range(2, self.n_classes))):
                out[f"top_{k}_accuracy"] = M.top_k_accuracy(yt, p, k, sample_weight=w, rank=rank)
        out["ece"] = M.expected_calibration_error(self._calib_event(), self._calib_conf())
        return out

    def _calib_event(self) -> np.ndarray:
        return self.y_true == 1 if self.task == "binary" else self.correct

    def _calib_conf(self) -> np.ndarray:
        return self.y_proba[:, 1] if self.task == "binary" else self.confidence

    def calibration(self, n_bins: int = 10) -> pd.DataFrame:
        """Reliability diagram: observed frequency against mean predicted probability per bin.

        Binary: the positive class's probability against its frequency, as
        ``sklearn.calibration.calibration_curve``. Multi-class: the confidence of the
        predicted class against how often it is right.
        """
        self._need("binary", "multiclass", what="calibration")
        prob_true, prob_pred, counts = M.calibration_curve(
            self._calib_event(), self._calib_conf(), n_bins=n_bins
        )
        return pd.DataFrame({"prob_pred": prob_pred, "prob_true": prob_true, "count": counts})

    @cached_property
    def scores(self) -> dict[str, float]:
        """Headline scalar metrics, by name (nan where undefined; see :attr:`undefined`)."""
        if self.task == "regression":
            return M.regression_metrics(self.y_true, self.y_pred, sample_weight=self.sample_weight)
        s = self._scores
        keys = ["accuracy", "balanced_accuracy"] if self.task != "multilabel" else [
            "subset_accuracy", "hamming_loss"]
        out = {k: s[k] for k in keys}
        for name in ("precision", "recall", "f1"):
            for avg in ("macro", "micro", "weighted"):
                out[f"{name}_{avg}"] = s[f"{name}_{avg}"]
        if self.task == "binary":
            for name in ("precision", "recall", "f1"):
                out[name] = float(s[name][1])
        if self.task != "multilabel":
            out["cohen_kappa"] = s["cohen_kappa"]
            out["mcc"] = s["mcc"]
        out.update(self._probability_scores())
        return out

    @property
    def residuals(self) -> np.ndarray:
        """``y_pred - y_true`` (regression)."""
        self._need("regression", what="Residuals")
        return np.asarray(self.y_pred, dtype=np.float64) - self.y_true

    # ------------------------------------------------------------------ tables
    def metrics(self) -> pd.DataFrame:
        """Headline metrics as a DataFrame with a ``value`` column indexed by metric name."""
        df = pd.DataFrame({"value": pd.Series(self.scores, dtype="float64")})
        df.index.name = "metric"
        return df

    def per_class(self) -> pd.DataFrame:
        """Precision, recall, F1, support (and ROC AUC, AP against the rest) for every class."""
        self._need("binary", "multiclass", "multilabel", what="per_class")
        s = self._scores
        df = pd.DataFrame(
            {
                "precision": s["precision"],
                "recall": s["recall"],
                "f1": s["f1"],
                "support": s["support"],
                "predicted": s["predicted"],
            },
            index=pd.Index(self.classes, name="class"),
        )
        if self.sample_weight is None:
            df["support"] = df["support"].astype(np.int64)
            df["predicted"] = df["predicted"].astype(np.int64)
        auc, ap = self._per_class_auc
        df["roc_auc"] = auc
        df["average_precision"] = ap
        return df

    # ------------------------------------------------------------------ bootstrap
    def bootstrap(
        self, n_boot: int = 1000, *, confidence: float = 0.95, seed: int = 0
    ) -> pd.DataFrame:
        """Bootstrap percentile intervals of the headline metrics (seeded, reproducible).

        Metrics of the confusion matrix are resampled exactly and fast: resampling n samples
        with replacement gives cell counts that are multinomial over the non-empty cells, so
        every replicate is drawn and scored at once. Binary ROC AUC gets DeLong's interval.

        Returns
        -------
        DataFrame
            Indexed by metric, with ``value``, ``low``, ``high`` and ``method``.
        """
        key = ("bootstrap", n_boot, confidence, seed)
        if key in self._extra:
            return self._extra[key]
        rng = np.random.default_rng(seed)
        alpha = (1 - confidence) / 2
        rows: dict[str, np.ndarray] = {}
        if self.task == "regression":
            n = self.n_samples
            err = np.asarray(self.y_pred, np.float64) - self.y_true
            if err.ndim > 1:
                err = err.mean(axis=1)
            counts = rng.multinomial(n, np.full(n, 1 / n), size=n_boot) if n <= 20000 else None
            if counts is None:
                idx = rng.integers(0, n, size=(n_boot, n))
                mse = (err[idx] ** 2).mean(1)
                mae = np.abs(err[idx]).mean(1)
            else:
                mse = counts @ err**2 / n
                mae = counts @ np.abs(err) / n
            rows = {"rmse": np.sqrt(mse), "mae": mae}
        elif self.task in ("binary", "multiclass"):
            cm = np.asarray(self._cm, dtype=np.float64)
            r, c = np.nonzero(cm)
            if self.sample_weight is None:
                # resampling n samples with replacement = multinomial counts over the cells
                total = int(cm.sum())
                draws = rng.multinomial(total, cm[r, c] / total, size=n_boot)
            else:
                cell_pos = {(i, j): p for p, (i, j) in enumerate(zip(r, c))}
                pos = np.array([cell_pos.get((i, j), -1) for i, j in zip(self.y_true, self.y_pred)])
                keep = pos >= 0  # zero-weight samples sit in no listed cell
                draws = np.empty((n_boot, len(r)))
                for b in range(n_boot):
                    idx = rng.integers(0, self.n_samples, size=self.n_samples)
                    idx = idx[keep[idx]]
                    draws[b] = np.bincount(pos[idx], weights=self.sample_weight[idx], minlength=len(r))
            sc = M.scores_from_cell_draws(draws, r, c, self.n_classes)
            for name in ("accuracy", "balanced_accuracy", "f1_macro", "cohen_kappa", "mcc"):
                rows[name] = sc[name]
            if self.task == "binary":
                for name in ("precision", "recall", "f1"):
                    rows[name] = sc[name][:, 1]

        else:
            return pd.DataFrame(columns=["value", "low", "high"])
        methods = {k: "bootstrap" for k in rows}
        if self.task == "binary" and self.sample_weight is None:
            # a score-resampling bootstrap costs O(n) per replicate; DeLong's interval is
            # exact in its variance and costs one pass over the curve
            lo, hi = M.roc_auc_delong_interval(self._threshold_index_for(1).curve, confidence)
            rows["roc_auc"] = np.array([lo, hi])
            methods["roc_auc"] = "DeLong"
        bounds = {
            k: (float(v[0]), float(v[1])) if methods[k] == "DeLong"
            else (np.nan, np.nan) if np.all(np.isnan(v))
            else (float(np.nanquantile(v, alpha)), float(np.nanquantile(v, 1 - alpha)))
            for k, v in rows.items()
        }
        out = pd.DataFrame(
            {
                "value": [self.scores[k] for k in rows],
                "low": [bounds[k][0] for k in rows],
                "high": [bounds[k][1] for k in rows],
            },
            index=pd.Index(list(rows), name="metric"),
        )
        out["method"] = [methods[k] for k in rows]
        self._extra[key] = out
        return out

    # ------------------------------------------------------------------ export
    def to_dict(self) -> dict:
        """Plain-Python summary: task, classes, notes, metrics, per-class table, confusion matrix."""
        def clean(v):
            if isinstance(v, float) and math.isnan(v):
                return None
            return v

        out: dict[str, Any] = {
            "model": self.model_name,
            "dataset": self.dataset_name,
            "task": self.task,
            "n_samples": self.n_samples,
            "classes": list(self.classes) if self.is_classification else None,
            "threshold": self.threshold if self.task in ("binary", "multilabel") else None,
            "metrics": {k: clean(float(v)) for k, v in self.scores.items()},
            "undefined": dict(self.undefined),
            "notes": list(self.notes),
        }
        if self.is_classification:
            pc = self.per_class()
            out["per_class"] = {
                c: {k: clean(float(v)) for k, v in row.items()} for c, row in pc.iterrows()
            }
            out["confusion_matrix"] = np.asarray(self.confusion_matrix()).tolist()
        if self.task == "binary":
            out["best_threshold"] = {
                "f1": clean(self.best_threshold("f1")),
                "youden": clean(self.best_threshold("youden")),
            }
        return out

    def to_json(self, **kwargs) -> str:
        """:meth:`to_dict` as JSON (nan written as null)."""
        kwargs.setdefault("indent", 2)
        return json.dumps(self.to_dict(), **kwargs)

    def to_text(self) -> str:
        """A plain-text report for terminals and logs."""
        from .report import text_report

        return text_report(self)

    def to_html(self, *, bootstrap: bool = True) -> str:
        """A self-contained static HTML report (works where widgets do not render)."""
        from .report import html_report

        return html_report(self, bootstrap=bootstrap)

    def _repr_html_(self) -> str:
        from .report import html_summary

        return html_summary(self)

    def __repr__(self) -> str:
        head = ", ".join(f"{k}={v:.4g}" for k, v in list(self.scores.items())[:3])
        return (
            f"<Evaluation {self.task} model={self.model_name!r} dataset={self.dataset_name!r} "
            f"n={self.n_samples} classes={self.n_classes} {head}>"
        )
