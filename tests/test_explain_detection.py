"""``ev.explain`` for every key of ``ev.scores`` of every task (issue 34, item 1), COCO's 12
numbers checked against pycocotools' COCOeval run here on the same files (mAR's matched boxes
counted from its per-image matches, the size ranges' true boxes from the annotation file), and
the formula typeset as MathML: well-formed, holding the counts and the value."""

from __future__ import annotations

import contextlib
import copy
import io
import json
import xml.etree.ElementTree as ET

import numpy as np
import pytest

from h5eval_widgets.core import Evaluation
from h5eval_widgets.core.results.names import fmt
from tests.detection_data import make_coco, write_json
from tests.helpers import require


def _evaluations() -> dict:
    """A small evaluation of every task (as the demo's, generated)."""
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 300)
    out = {"binary": Evaluation.from_predictions(y, np.clip(0.3 * y + 0.7 * rng.random(300), 0, 1), threshold=0.4)}
    y = rng.integers(0, 4, 400)
    p = rng.dirichlet(np.ones(4), 400)
    p[np.arange(400), y] += 0.5
    out["multiclass"] = Evaluation.from_predictions(y, p / p.sum(1, keepdims=True), classes=list("abcd"))
    Y = rng.random((250, 3)) > 0.5
    out["multilabel"] = Evaluation.from_predictions(Y, np.clip(Y * 0.35 + rng.random((250, 3)) * 0.65, 0, 1))
    t = rng.normal(3, 2, (150, 2))
    out["regression"] = Evaluation.from_predictions(t, t + rng.normal(0, 0.5, t.shape), task="regression")
    m = rng.integers(0, 3, (6, 16, 16))
    s = rng.random((6, 16, 16, 3)).astype(np.float32) + np.eye(3, dtype=np.float32)[m] * 0.5
    out["segmentation"] = Evaluation.from_predictions(m, s, classes=["bg", "road", "car"])
    out["detection"] = Evaluation.from_detections(*make_coco(40, seed=3), confidence=0.3)
    return out


@pytest.fixture(scope="module")
def evaluations():
    return _evaluations()


@pytest.mark.parametrize("task", ["binary", "multiclass", "multilabel", "regression", "segmentation", "detection"])
def test_every_key_of_every_task_is_explained(evaluations, task):
    """Check that ``explain`` takes every key of ``ev.scores`` (none left out), its value is the
    score, its formula holds the value, and its HTML is well-formed XML without script."""
    ev = evaluations[task]
    for metric, score in ev.scores.items():
        ex = ev.explain(metric)
        assert ex.metric == metric
        np.testing.assert_allclose(ex.value, score, rtol=1e-6, err_msg=metric)
        assert fmt(ex.value) in ex.formula or (ex.value == -1 and "= -1" in ex.formula), metric
        page = ex._repr_html_()
        ET.fromstring(page)  # well-formed
        assert "<script" not in page and "http" not in page and len(ex.terms) > 0, metric


# ------------------------------------------------------------------------------ detection
@pytest.fixture(scope="module")
def coco_files(tmp_path_factory):
    """A COCO annotation file and a results file, with crowd boxes and every size."""
    folder = tmp_path_factory.mktemp("coco")
    gt, dets = make_coco(60, seed=5)
    return write_json(folder / "instances.json", gt), write_json(folder / "results.json", dets)


def _cocoeval(gt_path, dt_path):
    """pycocotools' COCOeval on the two files, run here."""
    require("pycocotools")
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO(str(gt_path))
        e = COCOeval(gt, gt.loadRes(str(dt_path)), "bbox")
        e.evaluate()
        e.accumulate()
        e.summarize()
    return e


AREAS = {"": (0, 1e10), "small": (0, 32**2), "medium": (32**2, 96**2), "large": (96**2, 1e10)}


@pytest.mark.parametrize("backend", ["faster_coco_eval", "pycocotools"])
def test_cocos_twelve_numbers_are_explained_as_cocoeval_gives_them(coco_files, backend):
    """Check all 12 numbers against COCOeval's ``stats``; mAR's terms: each class's true boxes
    counted from the annotation file (crowd left out, area in range) and its boxes matched at
    each IoU counted from COCOeval's per-image matches (100 detections); each class's AP per
    size against COCOeval's precision array; the size and the detections counted named."""
    require(backend)
    e = _cocoeval(*coco_files)
    ev = Evaluation.from_detections(*coco_files, confidence=0.25, backend=backend)
    raw = json.loads(coco_files[0].read_text())
    names = {c["id"]: c["name"] for c in raw["categories"]}
    cat_ids = list(e.params.catIds)
    for i, metric in enumerate(ev.scores):
        ex = ev.explain(metric)
        assert ex.value == pytest.approx(e.stats[i], abs=1e-9), metric
        assert "not only those ≥ 0.25" in ex.formula and fmt(ex.value) in ex.formula
        size = metric.split("_")[1] if metric.endswith(("small", "medium", "large")) else ""
        if size:
            assert f"{size} true boxes only" in ex.formula and "crowd boxes left out" in ex.formula
        lo, hi = AREAS[size]
        a = list(AREAS).index(size)
        n_true = {
            names[c]: sum(
                1 for g in raw["annotations"] if g["category_id"] == c and not g["iscrowd"] and lo <= g["area"] <= hi
            )
            for c in cat_ids
        }
        if metric.startswith("mar"):
            n = int(metric.split("_")[1]) if not size else 100
            assert f"{n} most confident detection" in ex.formula
            assert ex.terms["n_true"].to_dict() == n_true, metric
            if n == 100:
                for k, c in enumerate(cat_ids):
                    imgs = [x for x in e.evalImgs if x and x["category_id"] == c and x["aRng"] == [lo, hi]]
                    for t, iou in enumerate(e.params.iouThrs):
                        found = sum(int(((x["gtMatches"][t] > 0) & ~x["gtIgnore"].astype(bool)).sum()) for x in imgs)
                        assert ex.terms.loc[names[c], f"{iou:.2f}"] == found, (metric, c, iou)
                    r = e.eval["recall"][:, k, a, 2]
                    assert ev.explain(metric, cls=names[c]).value == pytest.approx(r.mean())
                    want = f"{names[c]}: ({fmt(ex.terms.loc[names[c], '0.50'])} + "
                    assert want in ex.formula and f"(10·{n_true[names[c]]})" in ex.formula
        else:
            for k, c in enumerate(cat_ids):
                p = e.eval["precision"][:, :, k, a, 2]
                if metric == "map_50":
                    p = p[:1]
                elif metric == "map_75":
                    p = p[5:6]
                one = ev.explain(metric, cls=names[c]).value
                assert one == pytest.approx(p[p > -1].mean() if (p > -1).any() else np.nan, nan_ok=True)
                if size:
                    assert f"{names[c]} ({n_true[names[c]]} boxes): " in ex.formula


def test_a_size_without_true_boxes_is_minus_one_as_coco_writes_it():
    """Check that with no large true box, ``map_large`` and ``mar_large`` are COCO's -1 and the
    formula says why; with one class without large boxes, that class is nan (as
    ``per_class_ap``), left out of the mean, its counts written as whole zeros."""
    gt, dets = make_coco(30, seed=2)
    small = copy.deepcopy(gt)
    small["annotations"] = [a for a in gt["annotations"] if a["area"] <= 96**2]
    ev = Evaluation.from_detections(small, dets)
    for metric in ("map_large", "mar_large"):
        assert ev.scores[metric] == -1
        ex = ev.explain(metric)
        assert ex.value == -1 and "no true box" in ex.formula
    dog = next(c["id"] for c in gt["categories"] if c["name"] == "dog")
    gt["annotations"] = [a for a in gt["annotations"] if a["category_id"] != dog or a["area"] <= 96**2]
    ev = Evaluation.from_detections(gt, dets)
    for metric in ("map_large", "mar_large"):
        ex = ev.explain(metric)
        assert ex.value == pytest.approx(ev.scores[metric]) and "dog" not in ex.formula.split(": ", 1)[1]
        one = ev.explain(metric, cls="dog")
        assert np.isnan(one.value) and "undefined" in one.formula
    terms = ev.explain("mar_large").terms
    assert terms.loc["dog", "n_true"] == 0 and all(terms[c].dtype.kind == "i" for c in terms.columns[:-1])


# ------------------------------------------------------------------------------ MathML
def _math(page: str) -> list[ET.Element]:
    return [el for el in ET.fromstring(page).iter() if el.tag == "math"]


def _numbers(el: ET.Element) -> list[str]:
    return [n.text for n in el.iter("mn")]


TYPESET = {
    "multiclass": [
        "precision_macro",
        "f1_macro",
        "recall_weighted",
        "precision_micro",
        "accuracy",
        "cohen_kappa",
        "mcc",
    ],
    "binary": ["precision", "recall", "f1", "accuracy", "balanced_accuracy"],
    "segmentation": ["mean_iou", "mean_dice", "frequency_weighted_iou", "pixel_accuracy"],
    "regression": ["mse", "rmse", "mae", "r2", "mape"],
    "detection": ["map", "map_50", "mar_100", "mar_small"],
}


@pytest.mark.parametrize("task", list(TYPESET))
def test_the_formula_is_typeset_as_mathml_with_its_numbers(evaluations, task):
    """Check the typeset metrics: ``<math>`` elements (no script, no link) whose ``<mn>`` numbers
    hold the value and, for the per-class ratios, each class's TP and FP or FN; fractions; the
    text formula kept as the first ``alttext`` and in the page."""
    ev = evaluations[task]
    for metric in TYPESET[task]:
        ex = ev.explain(metric)
        page = ex._repr_html_()
        maths = _math(page)
        assert maths and all(m.get("alttext") for m in maths), metric
        assert any(m.get("alttext") == ex.formula for m in maths), metric
        numbers = [n for m in maths for n in _numbers(m)]
        assert fmt(ex.value) in numbers, metric
        assert any(el.tag == "mfrac" for m in maths for el in m.iter()), metric
        assert ex.formula in "".join(ET.fromstring(page).itertext()), metric
        if "tp" in ex.terms:
            counted = "fn" if "recall" in metric or "accuracy" in metric else "fp"
            for _, row in ex.terms.loc[[ex.cls] if ex.cls else ex.terms.index].iterrows():
                assert fmt(int(row["tp"])) in numbers and fmt(int(row[counted])) in numbers, (metric, row)


def test_kappa_and_mcc_typeset_their_terms(evaluations):
    """Check kappa's observed and expected agreement and MCC's covariances among the typeset numbers."""
    ev = evaluations["multiclass"]
    cm = ev.confusion_matrix()
    n, t, p = cm.sum(), cm.sum(1), cm.sum(0)
    lines = {m.get("alttext").split(" = ")[0]: _numbers(m) for m in _math(ev.explain("cohen_kappa")._repr_html_())}
    observed, expected = lines["observed agreement p_o"], lines["expected agreement p_e"]
    assert observed[-3:] == [fmt(int(np.trace(cm))), fmt(int(n)), fmt(np.trace(cm) / n)]
    assert expected[-1] == fmt((t * p).sum() / n**2)
    assert expected[1 : 1 + 2 * len(t)] == [fmt(int(x)) for pair in zip(t, p) for x in pair]
    mcc = [x for m in _math(ev.explain("mcc")._repr_html_()) for x in _numbers(m)]
    assert {fmt(int(np.trace(cm) * n - t @ p)), fmt(int(n**2 - p @ p)), fmt(int(n**2 - t @ t))} <= set(mcc)


def test_the_others_keep_the_text_formula(evaluations):
    """Check that a metric without MathML (ROC AUC, log loss) shows its text formula, no ``<math>``."""
    ev = evaluations["multiclass"]
    for metric in ("roc_auc_ovr_macro", "log_loss", "ece"):
        ex = ev.explain(metric)
        page = ex._repr_html_()
        assert "<math" not in page and ex.formula in "".join(ET.fromstring(page).itertext())
