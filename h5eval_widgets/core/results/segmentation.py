"""Segmentation results: a class per pixel, summed up as per-image pixel confusion counts.

Every metric equals scikit-learn's on the flattened pixels (``confusion_matrix``,
``jaccard_score``, ``f1_score``...) and ``keras.metrics.MeanIoU``; see
:mod:`h5eval_widgets.core.metrics.segmentation`. Means come two ways, both named: over all
pixels of the set (``mean_iou``, as Keras and mmsegmentation report it) and over images
(``mean_iou_per_image``: each image's mean IoU, averaged). A class absent from both the truth
and the prediction (of the set, or of an image) is NaN and left out of the means.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from functools import cached_property
from typing import Any, ClassVar, Sequence

import numpy as np

from .._lazy import class_index, pd
from ..errors import LabelError
from ..metrics import functions as M
from ..metrics.segmentation import SCORE_BINS, PixelCounts, class_scores, image_counts, matrix_summary
from ..metrics.resampling import percentile_interval
from .evaluation import Evaluation, _readonly
from .subsets import as_metadata, as_rows

__all__ = ["SegmentationEvaluation"]

#: Images per chunk when per-pixel scores are given as one array (counts are made chunk by chunk).
_CHUNK = 64


class _KeptMasks:
    """True and predicted masks kept as uint8/int arrays (outputs given as arrays, no model)."""

    def __init__(self, y_true: np.ndarray, y_pred: np.ndarray):
        self.y_true, self.y_pred = y_true, y_pred

    def predicted_masks(self, indices, threshold: float | None = None) -> list[np.ndarray]:
        return [self.y_pred[int(i)].astype(np.int64) for i in np.asarray(indices).reshape(-1)]

    def true_mask(self, i: int) -> np.ndarray:
        return self.y_true[int(i)].astype(np.int64)

    def picture(self, i: int) -> np.ndarray | None:
        return None


@dataclass(frozen=True, eq=False, repr=False)
class SegmentationEvaluation(Evaluation, task="segmentation"):
    """A segmentation model on images with masks: the pixel confusion matrix and what it gives.

    ``y_true`` and ``y_pred`` hold each image's pixels per true and per predicted class
    (n_images, k); :attr:`counts` each image's (true, predicted) pixel counts (int64).
    Per-pixel scores are not kept; :meth:`masks` predicts the masks of the images asked for.

    Metrics over all pixels: ``pixel_accuracy``, ``mean_class_accuracy``, ``mean_iou``,
    ``frequency_weighted_iou``, ``mean_dice``; over images: the same names ending in
    ``_per_image``. A class absent from both truth and prediction has NaN IoU, Dice, precision
    and recall and is left out of every mean (so is an image's absent class from its own means).
    """

    pixel_counts: PixelCounts | None = None
    predictor: Any = None

    single_label: ClassVar[bool] = False
    per_pixel: ClassVar[bool] = True
    is_classification: ClassVar[bool] = True
    HEADLINE_METRICS = (
        "mean_iou",
        "pixel_accuracy",
        "mean_class_accuracy",
        "frequency_weighted_iou",
        "mean_dice",
        "mean_iou_per_image",
    )
    SLICE_METRICS = ("mean_iou", "pixel_accuracy", "mean_dice")
    DEFAULT_SLICE_METRICS = ("mean_iou", "pixel_accuracy")

    # ------------------------------------------------------------------ construction
    @classmethod
    def _claims(cls, y_proba, task) -> bool:
        """Per-pixel outputs (n, H, W, k), pixel counts, or ``task='segmentation'``."""
        return task == "segmentation" or isinstance(y_proba, PixelCounts) or np.ndim(y_proba) == 4

    @classmethod
    def _from_own(
        cls,
        y_true,
        y_proba,
        *,
        classes=None,
        threshold: float = 0.5,
        ignore_index: int | None = 255,
        notes: Sequence[str] = (),
        model_info=None,
        model_name=None,
        dataset_name=None,
        metadata=None,
        sample_weight=None,
        sample_ids=None,
        **_,
    ) -> "SegmentationEvaluation":
        """From pixel counts, or from masks (n, H, W) and per-pixel scores (n, H, W, k)."""
        if sample_weight is not None:
            raise LabelError(
                "sample_weight is not supported for segmentation (weigh pixels by leaving them out with ignore_index)."
            )
        pc = (
            y_proba if isinstance(y_proba, PixelCounts) else cls._count_arrays(y_true, y_proba, threshold, ignore_index)
        )
        k = pc.n_classes
        names = (
            tuple(str(c) for c in classes)
            if classes is not None
            else (("background", "foreground") if pc.histograms is not None else tuple(map(str, range(k))))
        )
        if len(names) != k:
            raise LabelError(f"classes= names {len(names)} classes but the model gives {k}: {list(names)[:10]}.")
        if metadata is None and pc.names:
            metadata = {"file": np.asarray(pc.names)}
        return cls(
            task="segmentation",
            y_true=_readonly(pc.counts.sum(axis=2)),
            y_pred=_readonly(pc.counts.sum(axis=1)),
            y_proba=None,
            classes=names,
            threshold=float(pc.threshold),
            notes=tuple(notes) + tuple(pc.notes),
            model_info=model_info,
            model_name=model_name,
            dataset_name=dataset_name,
            sample_ids=None if sample_ids is None else _readonly(np.asarray(sample_ids)),
            metadata=as_metadata(metadata, len(pc)),
            pixel_counts=pc,
            predictor=pc.source,
        )

    @staticmethod
    def _count_arrays(y_true, y_proba, threshold: float, ignore_index):
        t = np.asarray(y_true)
        p = np.asarray(y_proba)
        if t.ndim == 4 and t.shape[-1] == 1:
            t = t[..., 0]
        if p.ndim != 4 or t.ndim != 3 or len(t) != len(p) or t.shape[1:] != p.shape[1:3]:
            raise LabelError(
                f"Segmentation needs masks (n, H, W) and scores (n, H, W, k) of the same images "
                f"and size; got {t.shape} and {p.shape} (for outputs of another size, use "
                "Evaluation.from_model, which resizes them)."
            )
        sigmoid = p.shape[-1] == 1
        k = 2 if sigmoid else p.shape[-1]
        bad = (t < 0) | (t >= k)
        if ignore_index is not None:
            bad &= t != ignore_index
        if bad.any():
            raise LabelError(
                f"Masks hold values {np.unique(t[bad])[:10].tolist()} that are "
                f"neither a class (0..{k - 1}) nor ignore_index={ignore_index}."
            )
        counts = np.zeros((len(t), k, k), np.int64)
        preds = np.empty(t.shape, np.uint8 if k < 256 else np.int32)
        hist = np.zeros((len(t), 2, SCORE_BINS), np.int64) if sigmoid else None
        for s in range(0, len(t), _CHUNK):
            sc = p[s : s + _CHUNK]
            preds[s : s + _CHUNK] = (sc[..., 0] >= threshold) if sigmoid else np.argmax(sc, axis=-1)
            counts[s : s + _CHUNK] = image_counts(t[s : s + _CHUNK], preds[s : s + _CHUNK], k, ignore_index)
            if sigmoid:
                b = np.minimum((sc[..., 0] * SCORE_BINS).astype(np.int64), SCORE_BINS - 1)
                for j in range(len(sc)):
                    for c in (0, 1):
                        hist[s + j, c] = np.bincount(b[j][t[s + j] == c], minlength=SCORE_BINS)
        return PixelCounts(
            counts,
            k,
            ignore_index,
            hist,
            float(threshold),
            tuple(str(i) for i in range(len(t))),
            source=_KeptMasks(t, preds),
        )

    # ------------------------------------------------------------------ counts
    @property
    def counts(self) -> np.ndarray:
        """Per-image pixel counts, shape (n_images, k, k), rows = true, cols = predicted."""
        return self.pixel_counts.counts

    @property
    def ignore_index(self) -> int | None:
        return self.pixel_counts.ignore_index

    @cached_property
    def _cm(self) -> np.ndarray:
        cm = self.counts.sum(axis=0)
        cm.flags.writeable = False
        return cm

    def confusion_matrix(self, normalize: str | None = None) -> np.ndarray:
        """Pixel confusion matrix (int64 counts), rows = true, cols = predicted.

        Parameters
        ----------
        normalize : {'true', 'pred', 'all'}, default=None
            As in :func:`sklearn.metrics.confusion_matrix`.
        """
        return M.normalize_confusion(self._cm, normalize)

    def confusion_frame(self, normalize: str | None = None) -> pd.DataFrame:
        """The pixel confusion matrix as a DataFrame labelled with class names."""
        return pd.DataFrame(
            self.confusion_matrix(normalize),
            index=class_index(self.classes, "true"),
            columns=class_index(self.classes, "predicted"),
        )

    def cell_indices(self, true: int | str, pred: int | str, *, with_counts: bool = False):
        """Images with pixels in cell ``(true, pred)``, the most such pixels first.

        Returns
        -------
        ndarray of int64, or (indices, counts) with ``with_counts=True``
        """
        t, p = self.class_index(true), self.class_index(pred)
        cell = self.counts[:, t, p]
        idx = np.flatnonzero(cell)
        idx = idx[np.argsort(-cell[idx], kind="stable")]
        return (idx, cell[idx]) if with_counts else idx

    def cell_frame(self, true: int | str, pred: int | str) -> pd.DataFrame:
        """:meth:`cell_indices` as a table: image, file and pixel count."""
        idx, n = self.cell_indices(true, pred, with_counts=True)
        names = self.pixel_counts.names
        return pd.DataFrame({"image": idx, "file": [names[i] if names else str(i) for i in idx], "pixels": n})

    # ------------------------------------------------------------------ metrics
    @cached_property
    def scores(self) -> dict[str, float]:
        """Headline metrics over all pixels, then the same over images (``*_per_image``)."""
        out = {k: float(v) for k, v in matrix_summary(self._cm).items()}
        per_image = matrix_summary(self.counts)
        for k, v in per_image.items():
            v = v[~np.isnan(v)]
            out[f"{k}_per_image"] = float(v.mean()) if len(v) else float("nan")
        return out

    @cached_property
    def undefined(self) -> dict[str, str]:
        absent = [c for c, s in zip(self.classes, class_scores(self._cm)["iou"]) if np.isnan(s)]
        return {f"iou[{c}]": "absent from both truth and prediction; left out of the means" for c in absent}

    def per_class(self, ranking: bool = True) -> pd.DataFrame:
        """Per-class IoU, Dice, precision, recall and pixel support (NaN where undefined), the
        predicted pixels, and ``f1`` (equal to Dice on pixels)."""
        s = class_scores(self._cm)
        df = pd.DataFrame(
            {k: s[k] for k in ("iou", "dice", "precision", "recall", "support")},
            index=pd.Index(self.classes, name="class"),
        )
        df["predicted_pixels"] = self._cm.sum(axis=0)
        df["f1"] = df["dice"]  # on pixels, F1 is the Dice coefficient (for the per-class view)
        return df

    @cached_property
    def image_iou(self) -> np.ndarray:
        """Each image's mean IoU (over the classes in its truth or prediction), shape (n,)."""
        return np.asarray(matrix_summary(self.counts)["mean_iou"], np.float64)

    def per_image(self) -> pd.DataFrame:
        """One row per image, the worst mean IoU first: file, mean IoU, pixel accuracy, pixels."""
        summ = matrix_summary(self.counts)
        names = self.pixel_counts.names
        df = pd.DataFrame(
            {
                "file": list(names) if names else [str(i) for i in range(self.n_samples)],
                "mean_iou": summ["mean_iou"],
                "pixel_accuracy": summ["pixel_accuracy"],
                "mean_dice": summ["mean_dice"],
                "pixels": self.counts.sum(axis=(1, 2)),
            }
        )
        df.index.name = "image"
        return df.sort_values("mean_iou", kind="stable", na_position="last")

    # ------------------------------------------------------------------ threshold (one sigmoid)
    @property
    def positive_class(self) -> int | None:  # type: ignore[override]
        return 1 if self.pixel_counts.histograms is not None else None

    def with_threshold(self, threshold: float) -> "SegmentationEvaluation":
        """The same evaluation at another threshold (one sigmoid output), from the per-image
        score histograms: resolution ``1 / SCORE_BINS`` (the threshold is rounded to a bin edge)."""
        h = self.pixel_counts.histograms
        if h is None:
            raise ValueError(
                "with_threshold needs one sigmoid output; this model gives "
                f"{self.n_classes} class scores (arg-max decides)."
            )
        j = int(np.clip(round(float(threshold) * SCORE_BINS), 0, SCORE_BINS))
        above = h[:, :, j:].sum(axis=2)
        below = h[:, :, :j].sum(axis=2)
        counts = np.stack([np.stack([below[:, 0], above[:, 0]], 1), np.stack([below[:, 1], above[:, 1]], 1)], 1).astype(
            np.int64
        )
        pc = dataclasses.replace(self.pixel_counts, counts=counts, threshold=j / SCORE_BINS)
        return dataclasses.replace(
            self,
            pixel_counts=pc,
            threshold=j / SCORE_BINS,
            y_true=_readonly(counts.sum(2)),
            y_pred=_readonly(counts.sum(1)),
        )

    def subset(self, rows, name: str | None = None) -> "SegmentationEvaluation":
        """Some of the images (see :meth:`Evaluation.subset`), with their pixel counts, score
        histograms and file names; their masks are still predicted by dataset row."""
        sub = super().subset(rows, name)
        idx = as_rows(rows, self.n_samples)
        pc = self.pixel_counts

        def take(t: tuple) -> tuple:
            return tuple(t[i] for i in idx) if t else t

        pc = dataclasses.replace(
            pc,
            counts=pc.counts[idx],
            names=take(pc.names),
            paths=take(pc.paths),
            mask_paths=take(pc.mask_paths),
            histograms=None if pc.histograms is None else pc.histograms[idx],
        )
        return dataclasses.replace(sub, pixel_counts=pc)

    # ------------------------------------------------------------------ masks on demand
    def masks(self, indices, *, threshold: float | None = None) -> list[tuple]:
        """``(picture or None, true mask, predicted mask)`` of images ``indices``, predicted again
        (or read from the masks kept for outputs given as arrays)."""
        if self.predictor is None:
            raise ValueError(
                "No model or masks are attached to this evaluation; build it with "
                "Evaluation.from_model to see its masks."
            )
        idx = self.dataset_rows(np.asarray(indices, np.int64).reshape(-1))  # a subset's rows
        preds = self.predictor.predicted_masks(idx, threshold if threshold is not None else self.threshold)
        return [(self.predictor.picture(i), self.predictor.true_mask(i), p) for i, p in zip(idx, preds)]

    # ------------------------------------------------------------------ bootstrap, slices, reports
    def _replicates(self, n_boot: int, seed: int) -> dict[str, np.ndarray]:
        """Images resampled with replacement; each replicate's matrix is the sum of its images'."""
        rng = np.random.default_rng(seed)
        n, k = self.n_samples, self.n_classes
        flat = self.counts.reshape(n, k * k).astype(np.float64)
        out: dict[str, list] = {}
        for s in range(0, n_boot, 256):
            w = rng.multinomial(n, np.full(n, 1 / n), size=min(256, n_boot - s)).astype(np.float64)
            summ = matrix_summary((w @ flat).reshape(-1, k, k))
            for name in ("mean_iou", "pixel_accuracy", "mean_class_accuracy", "frequency_weighted_iou", "mean_dice"):
                out.setdefault(name, []).append(summ[name])
        return {k_: np.concatenate(v) for k_, v in out.items()}

    def slice_scores(self, codes, rows_of, *, n_boot: int, seed: int, confidence: float):
        """Each slice's pixel metrics from its images' counts, with bootstrap intervals from its
        images resampled (see :mod:`h5eval_widgets.core.insight.slices`)."""
        point: dict[str, list] = {}
        bounds: dict[str, list] = {}
        k = self.n_classes
        for s, rows in enumerate(rows_of):
            flat = self.counts[rows].reshape(len(rows), k * k).astype(np.float64)
            summ = matrix_summary(flat.sum(axis=0).reshape(k, k))
            for m in self.SLICE_METRICS:
                point.setdefault(m, []).append(float(summ[m]))
            if n_boot:
                rng = np.random.default_rng(seed + s)
                w = rng.multinomial(len(rows), np.full(len(rows), 1 / len(rows)), size=n_boot)
                reps = matrix_summary((w @ flat).reshape(-1, k, k))
                for m in self.SLICE_METRICS:
                    bounds.setdefault(m, []).append(percentile_interval(reps[m], confidence))
        return {m: np.array(v) for m, v in point.items()}, bounds

    def sample_errors(self) -> np.ndarray:
        """True where an image's mean IoU is below the set's median (what weak slices learn)."""
        iou = np.nan_to_num(self.image_iou, nan=1.0)
        return iou < np.median(iou)

    def sample_columns(self, indices, *, y_pred: np.ndarray | None = None, top: int = 3) -> dict:
        idx = np.asarray(indices, np.int64)
        summ = matrix_summary(self.counts[idx])
        names = self.pixel_counts.names
        return {
            "file": [names[i] for i in idx] if names else [str(i) for i in idx],
            "mean_iou": summ["mean_iou"],
            "pixel_accuracy": summ["pixel_accuracy"],
        }

    def report_parts(self, *, pairs: int = 15) -> list:
        """The per-class table and the pixel confusion matrix."""
        return [
            ("table", "Per class", self.per_class().reset_index()),
            ("confusion", "Pixel confusion matrix", self.confusion_frame()),
        ]

    def report_lines(self) -> list[str]:
        return [
            f"Pixels counted: {int(self._cm.sum()):,}"
            + ("" if self.ignore_index is None else f" (value {self.ignore_index} ignored)")
        ]

    def to_dict(self) -> dict:
        d = super().to_dict()
        d["per_class"] = {
            k: [None if isinstance(v, float) and np.isnan(v) else v for v in col]
            for k, col in self.per_class().astype(object).to_dict("list").items()
        }
        d["confusion_matrix"] = self._cm.tolist()
        return d
