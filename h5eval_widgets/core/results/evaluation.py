"""The ``Evaluation`` result: predictions made once, every metric derived from them.

``Evaluation`` is the small base every result shares (labels, outputs, names, notes, export);
:meth:`Evaluation.from_predictions` returns the result class of the task, one per module of
:mod:`h5eval_widgets.core.results`: ``BinaryEvaluation``, ``MulticlassEvaluation``,
``MultilabelEvaluation`` and ``RegressionEvaluation``. Nothing here loads models or data:
:meth:`Evaluation.from_model` is a thin call into :mod:`h5eval_widgets.core.pipeline`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any, ClassVar, Literal, Sequence

import numpy as np

from .._lazy import pd
from ..errors import LabelError
from ..metrics.labels import TASKS, encode_labels, infer_task, to_probabilities
from .linked import Linked
from ..metrics.resampling import percentile_interval
from .report import Reportable
from .subsets import Sliceable, as_metadata

__all__ = ["Evaluation", "Task"]

Task = Literal["binary", "multiclass", "multilabel", "regression", "detection", "segmentation"]


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
class Evaluation(Sliceable, Linked, Reportable):
    """Everything about one model on one dataset, computed from a single prediction pass.

    Build it with :meth:`from_model` (predicts once, through the cache) or
    :meth:`from_predictions`; both return the class of the task (``BinaryEvaluation``,
    ``MulticlassEvaluation``, ``MultilabelEvaluation``, ``RegressionEvaluation``). The object
    is immutable; costly parts (curves, per-class AUC, bootstrap intervals) are computed on
    first use and kept.

    Attributes
    ----------
    task : {'binary', 'multiclass', 'multilabel', 'regression', 'segmentation'}
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
    sample_ids : ndarray or None
        The samples' ids, in the samples' order, when they came with the predictions
        (:meth:`from_predictions_file` with ``id_column``); None otherwise.
    metadata : DataFrame or None
        Per-sample columns that are not model inputs (a table's non-feature columns, an image
        folder's sub-folders), one row per sample in order, index 0..n-1; what
        :meth:`slices` and :meth:`weak_slices` group by.
    slice_name : str or None
        The name of the slice this evaluation covers (set by :meth:`subset`); None for a
        whole dataset.
    source_rows : ndarray of int64 or None
        For a subset, the row of the full dataset each sample is (``source_rows[i]`` is the
        dataset row of sample ``i``); None for a whole dataset. See :meth:`dataset_rows`.
    """

    task: Task
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
    sample_ids: np.ndarray | None = None
    metadata: Any = None
    slice_name: str | None = None
    source_rows: np.ndarray | None = None
    #: each sample's embedding from the same pass, and its 2-D maps (see :mod:`h5eval_widgets.core.inference.embeddings`)
    embeddings: Any = None

    #: the result class of each task, filled as the task modules are imported
    _by_task: ClassVar[dict[str, type["Evaluation"]]] = {}
    #: the task this class holds (set by each subclass)
    task_name: ClassVar[str | None] = None
    is_classification: ClassVar[bool] = True
    is_regression: ClassVar[bool] = False
    #: whether saliency maps explain this task's predictions (an evaluation built from a model
    #: then keeps an :class:`~h5eval_widgets.core.insight.explain.Explainer`)
    explainable: ClassVar[bool] = False
    #: one label per sample and one confusion matrix (binary and multi-class)
    single_label: ClassVar[bool] = False
    per_pixel: ClassVar[bool] = False  # a class per pixel (segmentation): pixel matrix, masks
    #: the class whose threshold moves (binary: 1), else None
    positive_class: ClassVar[int | None] = None
    #: the metrics a summary shows first
    HEADLINE_METRICS: ClassVar[tuple[str, ...]] = ()
    #: what :meth:`slices` can report for this task (the first orders the slices), what it
    #: reports by default, whether a higher first metric is worse, and how its AUC interval is
    #: computed (see :mod:`h5eval_widgets.core.insight.slices`)
    SLICE_METRICS: ClassVar[tuple[str, ...]] = ()
    DEFAULT_SLICE_METRICS: ClassVar[tuple[str, ...]] = ()
    SLICE_WORST_IS_HIGH: ClassVar[bool] = False
    SLICE_AUC_INTERVAL: ClassVar[str] = "mean of the classes' DeLong intervals"

    def __init_subclass__(cls, task: str | None = None, **kwargs):
        super().__init_subclass__(**kwargs)
        if task is not None:
            cls.task_name = task
            Evaluation._by_task[task] = cls

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_predictions(
        cls,
        y_true,
        y_proba,
        *,
        classes: Sequence[str] | None = None,
        task: Task | None = None,
        threshold: float = 0.5,
        sample_weight=None,
        notes: Sequence[str] = (),
        activation: str | None = None,
        model_info: Any = None,
        model_name: str | None = None,
        dataset_name: str | None = None,
        sample_ids=None,
        metadata=None,
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
        task : {'binary', 'multiclass', 'multilabel', 'regression', 'segmentation'}, default=None
            Inferred from the output width, ``activation`` and the labels when None.
        threshold : float, default=0.5
            A sample is predicted positive when its positive-class probability is
            ``>= threshold`` (binary and multi-label).
        sample_weight : array-like of shape (n_samples,), default=None
        notes : sequence of str, default=()
            Notes to carry (from loading or prediction).
        activation : str, default=None
            The output activation, when known, to settle the task.
        sample_ids : array-like of shape (n_samples,), default=None
            The samples' ids, kept as :attr:`sample_ids`.
        metadata : DataFrame, dict of arrays or Series, default=None
            Per-sample columns that are not model inputs (groups, ids, ...), one row per
            sample in order; kept as :attr:`metadata` (index reset to 0..n-1) for
            :meth:`slices` and :meth:`weak_slices`.

        Returns
        -------
        Evaluation
            A ``BinaryEvaluation``, ``MulticlassEvaluation``, ``MultilabelEvaluation`` or
            ``RegressionEvaluation`` (masks and per-pixel scores: ``SegmentationEvaluation``).
        """
        if own := [c for c in Evaluation._by_task.values() if c._claims(y_proba, task)]:
            kw = {k: v for k, v in locals().items() if k not in ("cls", "y_true", "y_proba", "own")}
            return own[0]._from_own(y_true, y_proba, **kw)  # outputs of a shape of their own
        raw = np.asarray(y_proba)
        if raw.ndim == 1:
            raw = raw[:, None]
        if raw.ndim != 2:
            raise LabelError(f"y_proba must have shape (n_samples,) or (n_samples, n_outputs); got {raw.shape}.")
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
        result_cls = Evaluation._by_task[task]
        result_cls._check_outputs(raw, y_arr)
        proba, prob_notes = to_probabilities(raw, task)
        y_enc, names = encode_labels(y_arr, task=task, n_classes=proba.shape[1], classes=classes)
        if sample_weight is not None:
            sample_weight = np.asarray(sample_weight, dtype=np.float64)
            if sample_weight.shape != (len(y_enc),):
                raise LabelError(f"sample_weight must have shape ({len(y_enc)},); got {sample_weight.shape}.")
        if sample_ids is not None:
            sample_ids = np.asarray(sample_ids)
            if sample_ids.shape != (len(y_enc),):
                raise LabelError(f"sample_ids must have shape ({len(y_enc)},); got {sample_ids.shape}.")
        y_pred, kept = result_cls._decide(proba, float(threshold))
        metadata = as_metadata(metadata, len(y_enc))
        return result_cls(
            task=task,
            y_true=_readonly(y_enc),
            y_pred=_readonly(y_pred),
            y_proba=_readonly(kept),
            classes=names,
            threshold=float(threshold),
            sample_weight=_readonly(sample_weight),
            notes=tuple(notes) + tuple(prob_notes),
            model_info=model_info,
            model_name=model_name,
            dataset_name=dataset_name,
            sample_ids=_readonly(sample_ids),
            metadata=metadata,
        )

    @classmethod
    def _claims(cls, y_proba, task) -> bool:
        """True for outputs only this task reads (built by its ``_from_own``)."""
        return False

    @classmethod
    def _check_outputs(cls, raw: np.ndarray, y: np.ndarray) -> None:
        """Refuse outputs this task cannot read (before any conversion)."""

    @classmethod
    def _decide(cls, proba: np.ndarray, threshold: float) -> tuple[np.ndarray, np.ndarray | None]:
        """``(y_pred, y_proba to keep)`` from the converted outputs."""
        raise NotImplementedError

    def sample_columns(self, indices, *, y_pred: np.ndarray | None = None, top: int = 3) -> dict:
        """Table columns (by name) describing the samples ``indices``: true, predicted and what
        else the task has (confidence, top classes, residual); see
        :func:`~h5eval_widgets.core.metrics.queries.samples_frame`."""
        raise NotImplementedError

    @classmethod
    def from_detections(cls, ground_truth, detections, **options) -> "Evaluation":
        """Object detection: see :meth:`DetectionEvaluation.from_detections
        <h5eval_widgets.core.results.detection.DetectionEvaluation.from_detections>`."""
        return Evaluation._by_task["detection"].from_detections(ground_truth, detections, **options)

    @classmethod
    def from_model(cls, model, X, y=None, **options) -> "Evaluation":
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
            Samples per forward pass; None sizes it for the model.
        cache : bool or str, default=True
            Use the prediction cache (a str names its folder).
        progress : bool, default=True
            Show a progress bar during inference.
        trust_code : bool, default=False
            Allow a model that carries code (Lambda layers) to load.
        output : int or str, default=None
            Which output of a multi-output model to evaluate.
        embeddings : bool or str, default=True
            Also keep each sample's embedding from the same pass (:attr:`embedding`,
            :meth:`projection`): True for the input features of a tabular model, else the
            penultimate layer's activations; or ``'input'``, ``'penultimate'``, a layer's name;
            False for none (see :mod:`~h5eval_widgets.core.inference.embeddings`).
        client : dask.distributed.Client, default=None
            Run inference on this Dask cluster's workers (also the current client's for a dask
            array or dataframe as ``X``); see :mod:`h5eval_widgets.core.scale.distributed`.
        classes, task, threshold, sample_weight, dataset_name
            As in :meth:`from_predictions`.
        **dataset_options
            Passed to :func:`~h5eval_widgets.core.load_dataset` when ``X`` is not a Dataset:
            ``label_column``, ``feature_columns``, ``x_key``, ``y_key``, ``image_size``,
            ``color_mode``, ``preprocess``, ...
        """
        from ..pipeline import evaluate_model

        if "annotations" in options:  # a detector on an image folder (DetectionEvaluation)
            return Evaluation._by_task["detection"].from_model(model, X, y, **options)
        return evaluate_model(model, X, y, build=Evaluation.from_predictions, **options)

    # ------------------------------------------------------------------ basics
    @property
    def n_samples(self) -> int:
        return len(self.y_true)

    def in_words(self) -> str:
        """What the evaluation is about, as a user says it: ``'719 samples, 10 classes'``."""
        if self.is_regression:
            return f"{self.n_samples:,} samples, regression"
        unit = "images" if self.per_pixel or not self.is_classification else "samples"
        return f"{self.n_samples:,} {unit}, {self.n_classes} {'classes' if self.single_label or unit == 'images' else 'labels'}"

    @property
    def n_classes(self) -> int:
        return len(self.classes)

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

    def __getattr__(self, name: str):
        # reached only for names this class lacks: say which tasks have it
        if not name.startswith("_"):
            owners = [t for t, c in Evaluation._by_task.items() if hasattr(c, name)]
            if owners:
                raise AttributeError(
                    f"{name} is defined for {' and '.join(owners)} evaluations; this one is {self.task}."
                )
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    @cached_property
    def undefined(self) -> dict[str, str]:
        """Metrics that are undefined here (value nan), each with the reason."""
        return {}

    @cached_property
    def scores(self) -> dict[str, float]:
        """Headline scalar metrics, by name (nan where undefined; see :attr:`undefined`)."""
        raise NotImplementedError

    def explain(self, metric: str, cls: int | str | None = None):
        """How ``scores[metric]`` (or class ``cls``'s own value) is made from this evaluation's
        counts: an :class:`~h5eval_widgets.core.results.explanation.Explanation`."""
        from .explanation import explain

        return explain(self, metric, cls)

    # ------------------------------------------------------------------ tables
    def metrics(self) -> pd.DataFrame:
        """Headline metrics as a DataFrame with a ``value`` column indexed by metric name."""
        df = pd.DataFrame({"value": pd.Series(self.scores, dtype="float64")})
        df.index.name = "metric"
        return df

    # ------------------------------------------------------------------ bootstrap
    @cached_property
    def _bootstraps(self) -> dict:
        return {}

    def bootstrap(self, n_boot: int = 1000, *, confidence: float = 0.95, seed: int = 0) -> pd.DataFrame:
        """Bootstrap percentile intervals of the headline metrics (seeded, reproducible).

        Replicates come from :mod:`h5eval_widgets.core.metrics.resampling`: metrics of the confusion
        matrix resample its cells' counts (multinomial, exact and fast); regression errors
        resample samples. Binary ROC AUC gets DeLong's interval instead.

        Returns
        -------
        DataFrame
            Indexed by metric, with ``value``, ``low``, ``high`` and ``method``.
        """
        key = (n_boot, confidence, seed)
        if key not in self._bootstraps:
            rows = self._replicates(n_boot, seed)
            exact = self._exact_intervals(confidence)
            bounds = {k: percentile_interval(v, confidence) for k, v in rows.items()}
            bounds.update(exact)
            names = list(bounds)
            # values of the matrix's metrics without sorting any score column (first views)
            point = getattr(self, "matrix_scores", {})
            out = pd.DataFrame(
                {
                    "value": [point[k] if k in point else self.scores[k] for k in names],
                    "low": [bounds[k][0] for k in names],
                    "high": [bounds[k][1] for k in names],
                },
                index=pd.Index(names, name="metric"),
            )
            out["method"] = ["DeLong" if k in exact else "bootstrap" for k in names]
            self._bootstraps[key] = out
        return self._bootstraps[key]

    def _replicates(self, n_boot: int, seed: int) -> dict[str, np.ndarray]:
        """Bootstrap replicates of the metrics that get a percentile interval."""
        return {}

    def _exact_intervals(self, confidence: float) -> dict[str, tuple[float, float]]:
        """Intervals computed without resampling (DeLong's for binary ROC AUC)."""
        return {}

    # ------------------------------------------------------------------ export
    def __repr__(self) -> str:
        head = ", ".join(f"{k}={v:.4g}" for k, v in list(self.scores.items())[:3])
        part = "" if self.slice_name is None else f"slice={self.slice_name!r} "
        return (
            f"<{type(self).__name__} {self.task} {part}model={self.model_name!r} "
            f"dataset={self.dataset_name!r} n={self.n_samples} classes={self.n_classes} {head}>"
        )
