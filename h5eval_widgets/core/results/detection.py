"""Object-detection results: COCO's 12 numbers, per-class AP and PR curves (computed by
faster-coco-eval or pycocotools), and a confusion matrix with a background row and column whose
cells give their boxes, for any confidence threshold."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Sequence

import numpy as np

from .._lazy import pd
from ..metrics.box_matching import BoxMatches, match_boxes
from ..metrics.coco import AREA_NAMES, AREA_RANGES, CocoNumbers, coco_backend, coco_by_group, coco_numbers
from .evaluation import Evaluation, _readonly

__all__ = ["DetectionEvaluation", "BACKGROUND"]

#: the name of the confusion matrix's last row (false boxes) and column (missed objects)
BACKGROUND = "(background)"


@dataclass(frozen=True, eq=False, repr=False)
class DetectionEvaluation(Evaluation, task="detection"):
    """A detector's boxes against the true boxes of a set of images.

    Build it with :meth:`Evaluation.from_detections` (annotations and a detector's boxes) or
    :meth:`Evaluation.from_model` with ``annotations=`` (a Keras detector run on an image
    folder). A sample is an image; ``y_true`` holds each true box's class index, ``y_pred`` and
    ``y_proba`` each detection's class index and confidence.

    Attributes
    ----------
    images : DataFrame
        ``image_id``, ``file_name``, ``width``, ``height``.
    true_boxes : DataFrame
        ``image_id``, ``category_id``, ``x``, ``y``, ``w``, ``h`` (pixels), ``area``, ``iscrowd``.
    detections : DataFrame
        ``image_id``, ``category_id``, ``x``, ``y``, ``w``, ``h``, ``score``.
    category_ids : tuple of int
        The COCO category id of each class, in the order of :attr:`classes`.
    image_dir : str or None
        The folder holding the images (for drawing), when known.
    threshold : float
        The confidence under which detections are dropped by default from the confusion matrix.
    """

    images: Any = None
    true_boxes: Any = None
    detections: Any = None
    category_ids: tuple[int, ...] = ()
    image_dir: str | None = None
    backend: str | None = None
    _matches: dict = field(default_factory=dict)

    is_classification = False
    #: the dashboard's detection view draws it
    is_detection = True
    HEADLINE_METRICS = ("map", "map_50", "map_75", "mar_100")
    IOU_CHOICES = (0.5, 0.75)

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_detections(
        cls,
        ground_truth,
        detections,
        *,
        images=None,
        classes: Sequence[str] | None = None,
        image_dir=None,
        confidence: float = 0.0,
        box_format: str | None = None,
        detection_format: str | None = None,
        notes: Sequence[str] = (),
        model_name: str | None = None,
        dataset_name: str | None = None,
        backend: str | None = None,
    ) -> "DetectionEvaluation":
        """Evaluate a detector's boxes against annotations.

        Parameters
        ----------
        ground_truth : path, dict or DataFrame
            A COCO ``instances_*.json``, a folder of Pascal VOC ``.xml`` or YOLO ``.txt`` files,
            or a DataFrame of boxes (see :func:`~h5eval_widgets.core.data.boxes.read_ground_truth`).
        detections : path, list of dict or DataFrame
            A COCO results ``.json``, a ``.parquet``/``.csv`` file or a DataFrame of boxes with
            their image, class and score (see :func:`~h5eval_widgets.core.data.boxes.read_detections`).
        images : path, dict or DataFrame, default=None
            Image sizes where the annotations lack them (YOLO, a DataFrame); a folder is also
            where the images are drawn from.
        classes : sequence of str, default=None
            Class names (YOLO's class numbers index them).
        image_dir : path, default=None
            The images' folder, for drawing (default: ``images`` when it is a folder).
        confidence : float, default=0.0
            The default confidence threshold of :meth:`confusion_matrix`.
        box_format, detection_format : str, default=None
            The format of the true boxes' and the detections' numbers, in KerasHub's names
            (``xyxy``, ``yxyx``, ``center_xywh``, ``rel_xyxy``...); None: as the source says.
        backend : {'faster_coco_eval', 'pycocotools'}, default=None
            Which library computes COCO's numbers (the first installed when None).

        Returns
        -------
        DetectionEvaluation
            Boxes past their image are evaluated as given (as pycocotools does) and counted in
            ``notes``; a likely format mistake gives a ``DataWarning`` and a note.

        Raises
        ------
        MissingDependencyError
            When neither faster-coco-eval nor pycocotools is installed (``[detection]`` extra).
        DatasetError
            For an annotation of a missing image, a box with a NaN coordinate or a negative
            size, an unknown category, or detections whose image ids match no annotated image.
        """
        from ..pipeline import read_boxes

        coco_backend(backend)  # a missing extra is said before any file is read
        formats = {"box_format": box_format, "detection_format": detection_format}
        gt, dt, read_notes = read_boxes(ground_truth, detections, images=images, classes=classes, **formats)
        if image_dir is None and images is not None and not isinstance(images, (dict, pd.DataFrame)):
            image_dir = images
        return cls.from_boxes(
            gt.images,
            gt.boxes,
            dt,
            gt.categories,
            image_dir=image_dir,
            confidence=confidence,
            notes=(*read_notes, *notes),
            model_name=model_name,
            dataset_name=dataset_name or gt.source,
            backend=backend,
        )

    @classmethod
    def from_boxes(
        cls,
        images,
        true_boxes,
        detections,
        categories: dict[int, str],
        *,
        image_dir=None,
        confidence: float = 0.0,
        notes: Sequence[str] = (),
        model_name=None,
        dataset_name=None,
        backend=None,
    ) -> "DetectionEvaluation":
        """Build the result from frames already read and checked (see :meth:`from_detections`)."""
        cat_ids = tuple(int(c) for c in categories)
        index = {c: k for k, c in enumerate(cat_ids)}
        to_k = np.vectorize(index.__getitem__, otypes=[np.int64])
        y_true = to_k(true_boxes["category_id"].to_numpy()) if len(true_boxes) else np.zeros(0, np.int64)
        y_pred = to_k(detections["category_id"].to_numpy()) if len(detections) else np.zeros(0, np.int64)
        return cls(
            task="detection",
            y_true=_readonly(y_true),
            y_pred=_readonly(y_pred),
            y_proba=_readonly(detections["score"].to_numpy(np.float64)),
            classes=tuple(categories[c] for c in cat_ids),
            threshold=float(confidence),
            notes=tuple(notes),
            model_name=model_name,
            dataset_name=dataset_name,
            images=images.reset_index(drop=True),
            true_boxes=true_boxes.reset_index(drop=True),
            detections=detections.reset_index(drop=True),
            category_ids=cat_ids,
            image_dir=None if image_dir is None else str(image_dir),
            backend=backend,
        )

    @classmethod
    def from_model(cls, model, X, y=None, **options) -> "DetectionEvaluation":
        """Run a Keras detector on an image folder ``X`` and evaluate its boxes against
        ``annotations=`` (see :func:`~h5eval_widgets.core.pipeline.detect_folder` for the
        options: ``bounding_box_format``, ``batch_size``, ``decode``...)."""
        from ..pipeline import detect_folder

        annotations = options.pop("annotations")
        classes = options.pop("classes", None)
        backend = options.pop("backend", None)
        confidence = options.pop("confidence", 0.0)
        coco_backend(backend)
        gt, dt, notes, name = detect_folder(model, X, annotations, classes=classes, **options)
        return cls.from_boxes(
            gt.images,
            gt.boxes,
            dt,
            gt.categories,
            image_dir=X,
            confidence=confidence,
            notes=notes,
            model_name=name,
            dataset_name=str(X),
            backend=backend,
        )

    # ------------------------------------------------------------------ basics
    @property
    def n_samples(self) -> int:
        """The number of images."""
        return len(self.images)

    @cached_property
    def coco(self) -> CocoNumbers:
        """COCO's evaluation of these boxes (faster-coco-eval, else pycocotools)."""
        return coco_numbers(
            self.images,
            self.true_boxes,
            self.detections,
            dict(zip(self.category_ids, self.classes)),
            backend=self.backend,
        )

    @cached_property
    def scores(self) -> dict[str, float]:
        """COCO's 12 numbers (``map``, ``map_50``, ... ``mar_large``; -1 where COCO has no boxes
        to score, as ``COCOeval.stats`` gives them)."""
        return dict(self.coco.stats)

    def per_class_ap(self) -> pd.DataFrame:
        """Each class's AP@[.50:.95], AP50 and AP75 with its true boxes and detections, indexed
        by class name (nan for a class without true boxes)."""
        ap = self.coco.per_class_ap()
        df = pd.DataFrame([ap[c] for c in self.category_ids], index=pd.Index(self.classes, name="class"))
        df["n_true"] = np.bincount(self.y_true, minlength=self.n_classes)
        df["n_detections"] = np.bincount(self.y_pred, minlength=self.n_classes)
        return df

    def by_box_size(self) -> pd.DataFrame:
        """The evaluation sliced by box size, as COCO cuts it (areas under 32² pixels, up to 96²,
        above): per size the true boxes counted (crowd boxes left out), ``map`` and ``mar_100``
        (COCO's ``map_small``... and ``mar_small``...), and each class's AP@[.50:.95] over its
        boxes of that size (nan where it has none), indexed by size."""
        g = self.true_boxes
        area, crowd = g["area"].to_numpy(np.float64), g["iscrowd"].to_numpy() != 0
        by_class = self.coco.ap_by_area()
        rows = []
        for name, (lo, hi) in zip(AREA_NAMES, AREA_RANGES):
            row = {
                "n_true": int(((area >= lo) & (area <= hi) & ~crowd).sum()),
                "map": self.scores[f"map_{name}"],
                "mar_100": self.scores[f"mar_{name}"],
            }
            row.update({f"ap_{c}": by_class[cid][name] for c, cid in zip(self.classes, self.category_ids)})
            rows.append(row)
        return pd.DataFrame(rows, index=pd.Index(AREA_NAMES, name="box size"))

    def by_image_group(self, groups, *, bins: int = 4) -> pd.DataFrame:
        """The evaluation sliced by image metadata: COCO's numbers over each group's images.

        Parameters
        ----------
        groups : array-like, Series or dict
            One value per image, in the order of :attr:`images`; or keyed by ``image_id`` or
            ``file_name`` (images without a value belong to no group). A numeric key with more
            than ``bins`` values is cut into ``bins`` quantile bins.
        bins : int, default=4

        Returns
        -------
        DataFrame
            Per group ``n_images``, ``n_true``, ``n_detections``, ``map``, ``map_50``,
            ``map_75`` and ``mar_100``, the lowest ``map`` first.
        """
        if isinstance(groups, (dict, pd.Series)):
            groups = pd.Series(groups)
            key = "file_name" if groups.index.isin(self.images["file_name"]).any() else "image_id"
            groups = self.images[key].map(groups)
        values = pd.Series(np.asarray(groups, dtype=object))
        numeric = pd.to_numeric(values, errors="coerce")
        if numeric.notna().all() and numeric.nunique() > bins:
            values = pd.qcut(numeric, bins, duplicates="drop").astype(str)
        cats = dict(zip(self.category_ids, self.classes))
        return coco_by_group(self.images, self.true_boxes, self.detections, cats, values, backend=self.backend)

    def pr_curve(self, cls_: int | str, *, iou: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
        """``(recall, precision)`` of one class at IoU 0.5 or 0.75 (COCO's interpolated precision
        at its 101 recall points)."""
        return self.coco.pr_curve(self.category_ids[self.class_index(cls_)], iou)

    # ------------------------------------------------------------------ the matrix
    def matches(self, iou: float = 0.5) -> BoxMatches:
        """Detections matched to true boxes across classes at ``iou`` (computed once per IoU)."""
        iou = float(iou)
        if not 0.0 < iou <= 1.0:
            raise ValueError(f"iou={iou} must be in (0, 1].")
        if iou not in self._matches:
            g, d = self.true_boxes, self.detections
            self._matches[iou] = match_boxes(
                g["image_id"].to_numpy(),
                g[["x", "y", "w", "h"]].to_numpy(),
                self.y_true,
                g["iscrowd"].to_numpy() != 0,
                d["image_id"].to_numpy(),
                d[["x", "y", "w", "h"]].to_numpy(),
                self.y_pred,
                self.y_proba,
                n_classes=self.n_classes,
                iou=iou,
            )
        return self._matches[iou]

    @property
    def matrix_labels(self) -> tuple[str, ...]:
        """The confusion matrix's row and column names: the classes, then the background."""
        return (*self.classes, BACKGROUND)

    def confusion_matrix(self, iou: float = 0.5, confidence: float | None = None) -> np.ndarray:
        """(k+1) x (k+1) counts, rows = true, columns = predicted, last row and column the
        background: a detection matched (across classes, as FiftyOne's ``classwise=False``) to a
        true box counts in that box's row, an unmatched one in the background row; an unmatched
        true box in the background column.

        Parameters
        ----------
        iou : float, default=0.5
        confidence : float, default=None
            Only detections with at least this confidence (:attr:`threshold` when None);
            answered from a sorted index, without matching again.
        """
        c = self.threshold if confidence is None else float(confidence)
        return self.matches(iou).confusion_matrix(c)

    def confusion_frame(self, iou: float = 0.5, confidence: float | None = None) -> pd.DataFrame:
        """:meth:`confusion_matrix` with named rows (true) and columns (predicted)."""
        names = list(self.matrix_labels)
        return pd.DataFrame(self.confusion_matrix(iou, confidence), index=names, columns=names)

    def _matrix_index(self, name) -> int:
        if isinstance(name, str) and name in (BACKGROUND, "background"):
            return self.n_classes
        if isinstance(name, (int, np.integer)) and int(name) == self.n_classes:
            return self.n_classes
        return self.class_index(name)

    def cell_indices(self, true, predicted, *, iou: float = 0.5, confidence: float | None = None) -> pd.DataFrame:
        """The boxes of one cell of :meth:`confusion_matrix`, one row per count.

        ``true`` and ``predicted`` are class names or indices, or ``'background'`` (index k).
        Columns: ``image_id``, ``file_name``, ``detection`` (row of :attr:`detections`, -1 for a
        missed object), ``true_box`` (row of :attr:`true_boxes`, -1 for a false box), ``score``
        and ``iou`` (nan where there is no pair).
        """
        t, p = self._matrix_index(true), self._matrix_index(predicted)
        if t == p == self.n_classes:
            raise ValueError(
                "The background/background cell is empty by definition: pick a class on at least one side."
            )
        c = self.threshold if confidence is None else float(confidence)
        m = self.matches(iou)
        d, g = m.cell(t, p, c)
        has_d = d >= 0
        img = np.where(
            has_d,
            self.detections["image_id"].to_numpy()[np.maximum(d, 0)] if len(d) else 0,
            self.true_boxes["image_id"].to_numpy()[np.maximum(g, 0)] if len(g) and len(self.true_boxes) else 0,
        )
        names = self.images.set_index("image_id")["file_name"]
        return pd.DataFrame(
            {
                "image_id": img.astype(np.int64),
                "file_name": names.reindex(img).to_numpy() if len(img) else np.array([], dtype=object),
                "detection": d,
                "true_box": g,
                "score": np.where(has_d, np.asarray(self.y_proba)[np.maximum(d, 0)] if len(d) else 0.0, np.nan),
                "iou": np.where(has_d, m.dt_iou[np.maximum(d, 0)] if len(d) else 0.0, np.nan),
            }
        )

    def image_boxes(self, image_id: int) -> tuple[pd.DataFrame, pd.DataFrame]:
        """``(true boxes, detections)`` of one image, with a ``label`` column (for drawing)."""
        out = []
        for frame, codes in ((self.true_boxes, self.y_true), (self.detections, self.y_pred)):
            rows = np.flatnonzero(frame["image_id"].to_numpy() == int(image_id))
            part = frame.iloc[rows].copy()
            part["label"] = np.asarray(self.classes, dtype=object)[np.asarray(codes)[rows]]
            out.append(part)
        return out[0], out[1]

    # ------------------------------------------------------------------ reports
    def report_parts(self, *, pairs: int = 15) -> list:
        """The per-class AP table and the detection confusion matrix at IoU 0.5."""
        return [
            ("table", "Per-class AP", self.per_class_ap()),
            ("confusion", "Detection confusion matrix (IoU 0.5)", self.confusion_frame()),
        ]

    def to_dict(self) -> dict:
        """Plain-Python summary: COCO's numbers, per-class AP, the matrix at IoU 0.5."""
        out = super().to_dict()
        ap = self.per_class_ap()
        out.update(
            classes=list(self.classes),
            n_true_boxes=len(self.true_boxes),
            n_detections=len(self.detections),
            threshold=self.threshold,
            per_class_ap={
                k: {c: (None if v != v else float(v)) for c, v in row.items()}
                for k, row in ap.to_dict(orient="index").items()
            },
            confusion_matrix=self.confusion_matrix().tolist(),
        )
        return out

    def __repr__(self) -> str:
        head = ", ".join(f"{k}={self.scores[k]:.4g}" for k in self.HEADLINE_METRICS[:3])
        return (
            f"<DetectionEvaluation model={self.model_name!r} images={self.n_samples} "
            f"boxes={len(self.true_boxes)} detections={len(self.detections)} "
            f"classes={self.n_classes} {head}>"
        )
