"""Generated object-detection data for the tests and the benchmark: COCO-like ground truth (crowd
boxes, every area range) and detections with hits, duplicates, misses, wrong classes and false
boxes, written as COCO JSON, Pascal VOC XML or YOLO text files."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

CLASSES = ("cat", "dog", "car", "person")


def make_coco(
    n_images: int = 60,
    *,
    seed: int = 0,
    crowd: bool = True,
    classes=CLASSES,
    boxes_per_image: float = 4.0,
    fp_per_image: float = 1.5,
) -> tuple[dict, list[dict]]:
    """A COCO ground-truth dict and a COCO results list over ``n_images`` images."""
    rng = np.random.default_rng(seed)
    images, anns, dets = [], [], []
    cats = [{"id": 10 + 3 * k, "name": c} for k, c in enumerate(classes)]  # ids not 0..k-1
    cat_ids = [c["id"] for c in cats]
    for i in range(1, n_images + 1):
        W, H = int(rng.integers(160, 640)), int(rng.integers(160, 640))
        images.append({"id": i, "file_name": f"img_{i:05d}.jpg", "width": W, "height": H})
        for _ in range(rng.poisson(boxes_per_image)):
            side = float(np.exp(rng.uniform(np.log(6), np.log(min(W, H) * 0.9))))  # small..large
            w, h = side * rng.uniform(0.6, 1.0), side * rng.uniform(0.6, 1.0)
            x, y = rng.uniform(0, W - w), rng.uniform(0, H - h)
            box = [round(x, 2), round(y, 2), round(w, 2), round(h, 2)]
            cid = int(rng.choice(cat_ids))
            is_crowd = int(crowd and rng.random() < 0.06)
            anns.append(
                {
                    "id": len(anns) + 1,
                    "image_id": i,
                    "category_id": cid,
                    "bbox": box,
                    "area": box[2] * box[3],
                    "iscrowd": is_crowd,
                }
            )
            for _copy in range(int(rng.random() < 0.8) + int(rng.random() < 0.2)):  # miss / duplicate
                j = rng.normal(0, 0.12, 4) * [w, h, w, h]
                dx, dy = max(0.0, box[0] + j[0]), max(0.0, box[1] + j[1])
                dw, dh = min(max(1.0, box[2] + j[2]), W - dx), min(max(1.0, box[3] + j[3]), H - dy)
                dc = cid if rng.random() < 0.8 else int(rng.choice(cat_ids))  # wrong classes
                dets.append(
                    {"image_id": i, "category_id": dc, "bbox": [dx, dy, dw, dh], "score": float(rng.uniform(0.05, 1.0))}
                )
        for _ in range(rng.poisson(fp_per_image)):  # false boxes
            w, h = rng.uniform(5, W / 2), rng.uniform(5, H / 2)
            dets.append(
                {
                    "image_id": i,
                    "category_id": int(rng.choice(cat_ids)),
                    "bbox": [float(rng.uniform(0, W - w)), float(rng.uniform(0, H - h)), w, h],
                    "score": float(rng.uniform(0.01, 0.7)),
                }
            )
    return {"images": images, "annotations": anns, "categories": cats}, dets


def write_json(path: Path, data) -> Path:
    path.write_text(json.dumps(data))
    return path


def write_voc(folder: Path, gt: dict) -> Path:
    """One Pascal VOC XML file per image (corner coordinates, class names)."""
    folder.mkdir(parents=True, exist_ok=True)
    names = {c["id"]: c["name"] for c in gt["categories"]}
    by_image = {im["id"]: [] for im in gt["images"]}
    for a in gt["annotations"]:
        by_image[a["image_id"]].append(a)
    for im in gt["images"]:
        objs = "".join(
            f"<object><name>{names[a['category_id']]}</name><difficult>0</difficult><bndbox>"
            f"<xmin>{a['bbox'][0]!r}</xmin><ymin>{a['bbox'][1]!r}</ymin>"
            f"<xmax>{a['bbox'][0] + a['bbox'][2]!r}</xmax><ymax>{a['bbox'][1] + a['bbox'][3]!r}</ymax>"
            "</bndbox></object>"
            for a in by_image[im["id"]]
        )
        (folder / (Path(im["file_name"]).stem + ".xml")).write_text(
            f"<annotation><filename>{im['file_name']}</filename><size><width>{im['width']}</width>"
            f"<height>{im['height']}</height><depth>3</depth></size>{objs}</annotation>"
        )
    return folder


def write_yolo(folder: Path, gt: dict) -> tuple[Path, dict]:
    """One YOLO text file per image (class number, relative centre and size) and a classes.txt;
    returns the folder and ``{file_name: (width, height)}``."""
    folder.mkdir(parents=True, exist_ok=True)
    order = [c["id"] for c in gt["categories"]]
    (folder / "classes.txt").write_text("\n".join(c["name"] for c in gt["categories"]) + "\n")
    by_image = {im["id"]: [] for im in gt["images"]}
    for a in gt["annotations"]:
        by_image[a["image_id"]].append(a)
    for im in gt["images"]:
        W, H = im["width"], im["height"]
        lines = [
            f"{order.index(a['category_id'])} {(a['bbox'][0] + a['bbox'][2] / 2) / W!r} "
            f"{(a['bbox'][1] + a['bbox'][3] / 2) / H!r} {a['bbox'][2] / W!r} {a['bbox'][3] / H!r}"
            for a in by_image[im["id"]]
        ]
        (folder / (Path(im["file_name"]).stem + ".txt")).write_text("\n".join(lines) + "\n")
    return folder, {im["file_name"]: (im["width"], im["height"]) for im in gt["images"]}


def pycocotools_stats(gt: dict, dets: list[dict]) -> np.ndarray:
    """``COCOeval.stats`` of pycocotools itself (the reference)."""
    import contextlib
    import copy
    import io

    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    with contextlib.redirect_stdout(io.StringIO()):
        c = COCO()
        c.dataset = copy.deepcopy(gt)
        c.createIndex()
        d = c.loadRes(copy.deepcopy(dets))
        e = COCOeval(c, d, "bbox")
        e.evaluate()
        e.accumulate()
        e.summarize()
    return np.asarray(e.stats, dtype=np.float64), e
