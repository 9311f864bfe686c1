"""The explanations of object detection's 12 COCO numbers (``ev.scores`` of a detection
evaluation), read from the arrays COCO's own evaluation gives (faster-coco-eval or pycocotools):

- ``map``, ``map_50``, ``map_75``: the interpolated precision at COCO's 101 recall points, per
  class and IoU; AP is its mean, mAP the mean over classes (and IoUs);
- ``map_small``, ``map_medium``, ``map_large``: the same over the true boxes of one area range
  (COCO's ``area``: under 32² = 1,024 px², up to 96² = 9,216 px², above; crowd boxes left out)
  and the detections that match them or are of that size;
- ``mar_1``, ``mar_10``, ``mar_100``, ``mar_small``...: the recall (true boxes matched by one
  of each image's N most confident detections of the class, over the true boxes), per class
  and IoU; mAR is their mean.

Every detection counts here, whatever its confidence (COCO ranks them), not only those above
the evaluation's threshold, which only the confusion matrix uses.
"""

from __future__ import annotations

import re

import numpy as np

from .._lazy import pd
from ..metrics.coco import AREA_NAMES, AREA_RANGES, IOU_THRESHOLDS, RECALL_POINTS
from .explanation_base import Explanation, _listed
from .explanation_math import frac, join, lead, listed, mi, mn, mo, mtext, row, sub
from .names import fmt

__all__ = ["detection_key", "explain_ap", "explain_ar"]

#: COCO's max-detections settings, in the order of its arrays' last axis
MAX_DETS = (1, 10, 100)
_IOUS = tuple(round(float(t), 2) for t in IOU_THRESHOLDS)


def detection_key(metric: str) -> tuple[list[int], int, int]:
    """The IoU indices, area index (0: all) and max-detections index a COCO number averages."""
    m = re.fullmatch(r"ma([pr])(?:_(50|75|1|10|100|small|medium|large))?", metric)
    part = m[2] or ""
    ious = [0] if part == "50" else [5] if part == "75" else list(range(len(_IOUS)))
    area = AREA_NAMES.index(part) + 1 if part in AREA_NAMES else 0
    dets = MAX_DETS.index(int(part)) if m[1] == "r" and part.isdigit() else len(MAX_DETS) - 1
    return ious, area, dets


def _true_boxes(ev, area: int) -> pd.Series:
    """Each class's true boxes COCO counts in area range ``area`` (crowd boxes left out)."""
    g = ev.true_boxes
    lo, hi = (0.0, 1e10) if area == 0 else AREA_RANGES[area - 1]
    a = g["area"].to_numpy(np.float64)
    keep = (g["iscrowd"].to_numpy() == 0) & (a >= lo) & (a <= hi)
    ids = g["category_id"].to_numpy()[keep]
    return pd.Series([int((ids == c).sum()) for c in ev.category_ids], index=list(ev.classes))


def _coco_index(ev, c: str) -> int:
    """Class ``c``'s place on the class axis of COCO's arrays (ordered by category id)."""
    return ev.coco.category_ids.index(ev.category_ids[ev.class_index(c)])


def _which(ev, metric: str, area: int, dets: int) -> str:
    """The words saying which boxes and detections a number counts."""
    ious, _, _ = detection_key(metric)
    how = f"IoU {_IOUS[ious[0]]:.2f}" if len(ious) == 1 else "IoU 0.50:0.05:0.95"
    size = ""
    if area:
        lo, hi = AREA_RANGES[area - 1]
        span = f"over {lo:,.0f} px²" if hi >= 1e10 else f"{lo:,.0f} to {hi:,.0f} px²"
        size = (
            f"; {AREA_NAMES[area - 1]} true boxes only: COCO area {span}, crowd boxes left out, "
            "a detection of another size counted only when it matches one of them"
        )
    n = MAX_DETS[dets]
    top = f"each image's {n} most confident detection{'s' if n > 1 else ''} of the class"
    return f"{how}{size}; every detection ranked by confidence, not only those ≥ {ev.threshold:g}; {top}"


def _undefined(metric: str, value: float, df, words: str, sk: str, cls) -> Explanation | None:
    if np.isfinite(value) and value >= 0:
        return None
    if cls is not None:  # as per_class_ap: nan
        formula = f"{metric} of class {cls} ({words}) is undefined: the class has no true box to score here"
        return Explanation(metric, float("nan"), df, formula, sk, cls)
    formula = f"{metric} ({words}) = -1: COCO writes -1 where there is no true box to score"
    return Explanation(metric, -1.0, df, formula, sk, cls)


def explain_ap(ev, metric: str, cls: str | None) -> Explanation:
    """COCO's AP: the mean of the interpolated precision at its 101 recall points, per class and
    IoU, then over classes (and IoUs); one area range and 100 detections per image."""
    ious, area, dets = detection_key(metric)
    prec, n_true = ev.coco.precision, _true_boxes(ev, area)
    classes = [cls] if cls else list(ev.classes)
    cols = {}
    for c in classes:
        k = _coco_index(ev, c)
        for t in ious:
            p = prec[t, :, k, area, dets]
            if (p > -1).any():
                cols[(c, _IOUS[t])] = pd.Series(p[p > -1], index=np.round(RECALL_POINTS[p > -1], 2))
    one = len(ious) == 1
    df = pd.DataFrame({k[0] if one else k: s for k, s in cols.items()}).rename_axis("recall")
    ap = {c: float(np.mean([s.mean() for (c2, _), s in cols.items() if c2 == c])) for c, _ in cols}
    v = float(np.mean([s.mean() for s in cols.values()])) if cols else -1.0
    words = _which(ev, metric, area, dets)
    stat = ["map", "map_50", "map_75", "map_small", "map_medium", "map_large"].index(metric)
    sk = f"no scikit-learn function: pycocotools COCOeval(gt, dt, 'bbox').stats[{stat}]"
    if (out := _undefined(metric, v, df, words, sk, cls)) is not None:
        return out
    boxes = lambda c: f" ({n_true[c]} boxes)" if area else ""  # noqa: E731
    parts = [
        f"{c}{boxes(c)}: " + (f"{fmt(cols[(c, _IOUS[ious[0]])].sum())} / 101 = " if one else "") + fmt(a)
        for c, a in ap.items()
    ]
    formula = f"{metric} ({words}) = mean over the classes with true boxes of AP = Σ precision at COCO's 101 recall points 0, 0.01, …, 1 / 101{'' if one else ', averaged over the 10 IoUs'}: {_listed(parts, ', ')} = {fmt(v)}"
    k = mn(len(ap))
    each = frac(row(mo("Σ"), sub(mi("p"), mi("r"))), mn(101))
    chain = [frac(row(mo("Σ"), sub(mi("AP"), mi("c"))), k)]
    if one:
        chain += [frac(listed(frac(mn(cols[(c, _IOUS[ious[0]])].sum()), mn(101)) for c in ap), k)]
    chain += [frac(listed(mn(a) for a in ap.values()), k), mn(v)]
    per = "each class c's AP = Σ precision at the 101 recall points r / 101" + (
        "" if one else ", averaged over the IoUs"
    )
    math = (
        (row(lead("each class c:"), sub(mi("AP"), mi("c")), mo("="), each), per),
        (join([mtext(metric), *chain], "="), formula),
    )
    return Explanation(metric, v, df, formula, sk, cls, math=math)


def explain_ar(ev, metric: str, cls: str | None) -> Explanation:
    """COCO's AR: the share of each class's true boxes matched at each IoU by one of each
    image's N most confident detections of the class; mAR is its mean over classes and IoUs."""
    ious, area, dets = detection_key(metric)
    rec, n_true = ev.coco.recall, _true_boxes(ev, area)
    classes = [cls] if cls else list(ev.classes)
    rows = {}
    for c in classes:
        r = rec[ious, _coco_index(ev, c), area, dets]
        valid = r > -1
        n = int(n_true[c])
        rows[c] = {
            "n_true": n,
            **{f"{_IOUS[t]:.2f}": (int(round(x * n)) if ok else 0) for t, x, ok in zip(ious, r, valid)},
        }
        rows[c]["recall"] = float(r[valid].mean()) if valid.any() else float("nan")
    df = pd.DataFrame.from_dict(rows, orient="index").rename_axis("class")
    ok = df[df["recall"].notna()]
    v = float(ok["recall"].mean()) if len(ok) else -1.0
    words = _which(ev, metric, area, dets)
    stat = 6 + ["mar_1", "mar_10", "mar_100", "mar_small", "mar_medium", "mar_large"].index(metric)
    sk = f"no scikit-learn function: pycocotools COCOeval(gt, dt, 'bbox').stats[{stat}]"
    if (out := _undefined(metric, v, df, words, sk, cls)) is not None:
        return out
    iou_cols = [f"{_IOUS[t]:.2f}" for t in ious]
    parts = [
        f"{c}: ({_listed((fmt(int(r[i])) for i in iou_cols))}) / ({len(iou_cols)}·{fmt(int(r['n_true']))}) = {fmt(r['recall'])}"
        for c, r in ok.iterrows()
    ]
    formula = (
        f"{metric} ({words}) = mean over the classes with true boxes and the {len(iou_cols)} IoUs of recall = true boxes matched / "
        f"true boxes (the counts matched at IoU 0.50, 0.55, …, 0.95): {_listed(parts, ', ')} = {fmt(v)}"
    )
    k = mn(len(ok))
    chain = [frac(row(mo("Σ"), sub(mi("R"), mi("c"))), k)]
    chain += [
        frac(
            listed(
                frac(listed(mn(int(r[i])) for i in iou_cols), row(mn(len(iou_cols)), mo("·"), mn(int(r["n_true"]))))
                for _, r in ok.iterrows()
            ),
            k,
        )
    ]
    chain += [frac(listed(mn(x) for x in ok["recall"]), k), mn(v)]
    per = (
        "each class c's recall R_c = Σ over the IoUs t of the true boxes matched at t / (10 · n_c), n_c its true boxes"
    )
    each = frac(row(mo("Σ"), sub(mi("matched"), mi("t"))), row(mn(len(iou_cols)), mo("·"), sub(mi("n"), mi("c"))))
    math = (
        (row(lead("each class c:"), sub(mi("R"), mi("c")), mo("="), each), per),
        (join([mtext(metric), *chain], "="), formula),
    )
    return Explanation(metric, v, df, formula, sk, cls, math=math)
