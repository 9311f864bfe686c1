"""COCO's detection numbers, computed by faster-coco-eval (C++) or, where it is missing, by
pycocotools: the 12 summary numbers, per-class AP and precision-recall curves.

COCO's matching (crowd boxes, area ranges, 100 detections per image) is theirs, not rewritten
here; this module only builds their inputs from frames of boxes and reads their arrays.
"""

from __future__ import annotations

import contextlib
import io
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._lazy import pd
from ..errors import MissingDependencyError

__all__ = ["COCO_METRICS", "CocoNumbers", "coco_numbers", "coco_backend", "coco_dicts"]

#: the 12 numbers of ``COCOeval.stats``, in order, named as torchmetrics names them
#: COCO's area ranges after "all", in the precision array's order, and their bounds in pixels².
AREA_NAMES = ("small", "medium", "large")
AREA_RANGES = ((0.0, 32.0**2), (32.0**2, 96.0**2), (96.0**2, 1e10))

COCO_METRICS = (
    "map",
    "map_50",
    "map_75",
    "map_small",
    "map_medium",
    "map_large",
    "mar_1",
    "mar_10",
    "mar_100",
    "mar_small",
    "mar_medium",
    "mar_large",
)
#: IoU thresholds of COCO's sweep (0.50:0.05:0.95) and its 101 recall points
IOU_THRESHOLDS = np.linspace(0.5, 0.95, 10)
RECALL_POINTS = np.linspace(0.0, 1.0, 101)


def coco_backend(prefer: str | None = None) -> tuple[str, Any, Any]:
    """``(name, COCO, COCOeval)`` of the first installed of faster-coco-eval and pycocotools.

    Raises
    ------
    MissingDependencyError
        When neither is installed (the message names the ``[detection]`` extra).
    """
    order = ("faster_coco_eval", "pycocotools") if prefer is None else (prefer,)
    for name in order:
        try:
            if name == "faster_coco_eval":
                from faster_coco_eval import COCO, COCOeval_faster

                return name, COCO, COCOeval_faster
            from pycocotools.coco import COCO
            from pycocotools.cocoeval import COCOeval

            return name, COCO, COCOeval
        except ImportError:
            continue
    raise MissingDependencyError(
        "Object-detection metrics need faster-coco-eval (or pycocotools): pip install 'h5eval-widgets[detection]'."
    )


def coco_dicts(images, gt, dt, categories: dict[int, str]) -> tuple[dict, list[dict]]:
    """The COCO ground-truth dict and results list of frames of images, true and detected boxes
    (annotation ids start at 1: pycocotools reads id 0 as 'unmatched')."""
    gt_d = {
        "images": [
            {"id": int(i), "file_name": str(f), "width": float(w), "height": float(h)}
            for i, f, w, h in zip(images["image_id"], images["file_name"], images["width"], images["height"])
        ],
        "annotations": [
            {
                "id": k,
                "image_id": int(i),
                "category_id": int(c),
                "bbox": [x, y, w, h],
                "area": float(a),
                "iscrowd": int(z),
            }
            for k, (i, c, x, y, w, h, a, z) in enumerate(
                zip(
                    gt["image_id"].tolist(),
                    gt["category_id"].tolist(),
                    gt["x"].tolist(),
                    gt["y"].tolist(),
                    gt["w"].tolist(),
                    gt["h"].tolist(),
                    gt["area"].tolist(),
                    gt["iscrowd"].tolist(),
                ),
                start=1,
            )
        ],
        "categories": [{"id": int(k), "name": str(v)} for k, v in categories.items()],
    }
    dt_l = [
        {"image_id": i, "category_id": c, "bbox": [x, y, w, h], "score": s}
        for i, c, x, y, w, h, s in zip(
            dt["image_id"].tolist(),
            dt["category_id"].tolist(),
            dt["x"].tolist(),
            dt["y"].tolist(),
            dt["w"].tolist(),
            dt["h"].tolist(),
            dt["score"].tolist(),
        )
    ]
    return gt_d, dt_l


@dataclass(frozen=True)
class CocoNumbers:
    """What one COCO evaluation gives.

    ``stats``: the 12 numbers by name (:data:`COCO_METRICS`); ``precision``: COCO's array of
    shape (10 IoUs, 101 recalls, K classes, 4 areas, 3 max-detections), -1 where undefined;
    ``category_ids``: the K classes' ids, in that order; ``backend``: which library computed it;
    ``recall``: COCO's array of shape (10 IoUs, K classes, 4 areas, 3 max-detections), the share
    of each class's true boxes a detection matched, -1 where the class has none.
    """

    stats: dict[str, float]
    precision: np.ndarray
    category_ids: tuple[int, ...]
    backend: str
    recall: np.ndarray | None = None

    def per_class_ap(self) -> dict[int, dict[str, float]]:
        """Each class's AP@[.50:.95], AP50 and AP75 (all areas, 100 detections); nan for a
        class with no true boxes."""
        out = {}
        for k, cid in enumerate(self.category_ids):
            p = self.precision[:, :, k, 0, -1]
            row = {}
            for name, sel in (("ap", slice(None)), ("ap_50", [0]), ("ap_75", [5])):
                v = p[sel]
                v = v[v > -1]
                row[name] = float(v.mean()) if v.size else float("nan")
            out[cid] = row
        return out

    def ap_by_area(self) -> dict[int, dict[str, float]]:
        """Each class's AP@[.50:.95] over the true boxes of each COCO area range (``small``,
        ``medium``, ``large``: areas under 32², up to 96², above), 100 detections; nan where
        a class has no true box of that size."""
        out = {}
        for k, cid in enumerate(self.category_ids):
            row = {}
            for a, name in enumerate(AREA_NAMES, start=1):
                v = self.precision[:, :, k, a, -1]
                v = v[v > -1]
                row[name] = float(v.mean()) if v.size else float("nan")
            out[cid] = row
        return out

    def pr_curve(self, category_id: int, iou: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
        """``(recall, precision)`` of one class at IoU 0.5 or 0.75 (COCO's interpolated
        precision at its 101 recall points, all areas, 100 detections; cut where undefined)."""
        t = int(np.argmin(np.abs(IOU_THRESHOLDS - iou)))
        if not np.isclose(IOU_THRESHOLDS[t], iou):
            raise ValueError(f"iou={iou} is not one of COCO's thresholds 0.50:0.05:0.95.")
        k = self.category_ids.index(int(category_id))
        p = self.precision[t, :, k, 0, -1]
        keep = p > -1
        return RECALL_POINTS[keep], p[keep]


def coco_numbers(images, gt, dt, categories: dict[int, str], *, backend: str | None = None) -> CocoNumbers:
    """Run COCO's bbox evaluation on frames of images, true boxes and detections.

    Parameters
    ----------
    images, gt, dt : DataFrame
        As :class:`~h5eval_widgets.core.data.boxes.GroundTruth` and
        :func:`~h5eval_widgets.core.data.boxes.read_detections` give them.
    categories : dict of int to str
    backend : {'faster_coco_eval', 'pycocotools'}, default=None
        The first installed when None.

    Returns
    -------
    CocoNumbers
    """
    name, COCO, COCOeval = coco_backend(backend)
    gt_d, dt_l = coco_dicts(images, gt, dt, categories)
    quiet = io.StringIO()
    with contextlib.redirect_stdout(quiet):
        if name == "pycocotools":
            coco_gt = COCO()
            coco_gt.dataset = gt_d
            coco_gt.createIndex()
        else:
            coco_gt = COCO(gt_d)
        coco_dt = coco_gt.loadRes(dt_l) if dt_l else _empty_results(coco_gt, COCO, name)
        ev = COCOeval(coco_gt, coco_dt, "bbox")
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    stats = [float(s) for s in list(ev.stats)[:12]]
    precision = np.asarray(ev.eval["precision"], dtype=np.float64)
    recall = np.asarray(ev.eval["recall"], dtype=np.float64)
    cats = tuple(int(c) for c in ev.params.catIds)
    return CocoNumbers(dict(zip(COCO_METRICS, stats)), precision, cats, name, recall)


def _empty_results(coco_gt, COCO, name: str):
    """A results set with no detections (``loadRes`` refuses an empty list)."""
    d = {
        "images": list(coco_gt.dataset["images"]),
        "annotations": [],
        "categories": list(coco_gt.dataset["categories"]),
    }
    if name == "pycocotools":
        c = COCO()
        c.dataset = d
        c.createIndex()
        return c
    return COCO(d)


def coco_by_group(images, gt, dt, categories: dict[int, str], groups, *, backend: str | None = None) -> pd.DataFrame:
    """COCO's numbers on each group of images: one COCO evaluation per group, over that group's
    images, their true boxes and their detections.

    Parameters
    ----------
    images, gt, dt : DataFrame
        As for :func:`coco_numbers`.
    categories : dict of int to str
    groups : array-like of shape (len(images),)
        Each image's group; missing values (None, NaN) belong to no group.
    backend : {'faster_coco_eval', 'pycocotools'}, default=None

    Returns
    -------
    DataFrame
        Indexed by group: ``n_images``, ``n_true`` (crowd boxes left out), ``n_detections``,
        ``map``, ``map_50``, ``map_75``, ``mar_100``; the lowest ``map`` first.
    """
    groups = pd.Series(np.asarray(groups, dtype=object), index=images["image_id"].to_numpy())
    if len(groups) != len(images):
        raise ValueError(f"{len(groups)} groups for {len(images)} images: give one group per image.")
    rows = {}
    for value, ids in groups.dropna().groupby(groups.dropna(), sort=True).groups.items():
        ids = np.asarray(ids)
        g, d = gt[gt["image_id"].isin(ids)], dt[dt["image_id"].isin(ids)]
        stats = coco_numbers(images[images["image_id"].isin(ids)], g, d, categories, backend=backend).stats
        rows[value] = {
            "n_images": len(ids),
            "n_true": int((g["iscrowd"].to_numpy() == 0).sum()),
            "n_detections": len(d),
            **{k: stats[k] for k in ("map", "map_50", "map_75", "mar_100")},
        }
    out = pd.DataFrame.from_dict(rows, orient="index")
    out.index.name = "group"
    return out.sort_values("map", kind="stable")
