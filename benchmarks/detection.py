"""Object-detection benchmark (run by hand): 5,000 COCO-like images, our numbers and time against
pycocotools and faster-coco-eval side by side, and the confusion matrix's time per slider move.

    PYTHONPATH=. python benchmarks/detection.py [--images 5000]
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import io
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.detection_data import make_coco  # noqa: E402
from h5eval_widgets.core import Evaluation  # noqa: E402


def _cocoeval(COCO, COCOeval, gt, dets, from_dict: bool):
    with contextlib.redirect_stdout(io.StringIO()):
        if from_dict:
            c = COCO(copy.deepcopy(gt))
        else:
            c = COCO()
            c.dataset = copy.deepcopy(gt)
            c.createIndex()
        e = COCOeval(c, c.loadRes(copy.deepcopy(dets)), "bbox")
        e.evaluate()
        e.accumulate()
        e.summarize()
    return np.asarray(e.stats[:12], dtype=np.float64)


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--images", type=int, default=5000)
    p.add_argument("--classes", type=int, default=20)
    args = p.parse_args(argv)
    classes = tuple(f"class_{i}" for i in range(args.classes))
    gt, dets = make_coco(args.images, seed=0, classes=classes)
    print(f"{args.images} images, {len(gt['annotations'])} true boxes, {len(dets)} detections, {args.classes} classes")
    rows = []
    from pycocotools.coco import COCO as PC
    from pycocotools.cocoeval import COCOeval as PE

    t = time.perf_counter()
    ref = _cocoeval(PC, PE, gt, dets, False)
    rows.append(("pycocotools", time.perf_counter() - t, ref))
    from faster_coco_eval import COCO as FC, COCOeval_faster as FE

    t = time.perf_counter()
    fast = _cocoeval(FC, FE, gt, dets, True)
    rows.append(("faster-coco-eval", time.perf_counter() - t, fast))
    t = time.perf_counter()
    ev = Evaluation.from_detections(gt, dets)
    ours = np.array(list(ev.scores.values()))
    rows.append(("h5eval (read + check + faster-coco-eval)", time.perf_counter() - t, ours))
    print(f"\n{'':42s} {'seconds':>8s} {'x pycocotools':>14s}  max |diff| to pycocotools")
    for name, sec, stats in rows:
        print(f"{name:42s} {sec:8.2f} {rows[0][1] / sec:13.1f}x  {np.abs(stats - ref).max():.2e}")
    print("\n" + "  ".join(f"{k}={v:.4f}" for k, v in ev.scores.items()))
    for iou in (0.5, 0.75):
        t = time.perf_counter()
        ev.confusion_matrix(iou=iou)
        first = time.perf_counter() - t
        moves = np.random.default_rng(0).uniform(0, 1, 500)
        t = time.perf_counter()
        for c in moves:
            ev.confusion_matrix(iou=iou, confidence=c)
        per = (time.perf_counter() - t) / len(moves)
        t = time.perf_counter()
        ev.cell_indices(0, ev.n_classes, iou=iou, confidence=0.5)
        cell = time.perf_counter() - t
        print(
            f"IoU {iou}: matching once {first:.2f} s; a slider move {per * 1e3:.3f} ms; "
            f"a cell's boxes {cell * 1e3:.2f} ms"
        )


if __name__ == "__main__":
    main()
