"""Object detection: COCO's 12 numbers equal pycocotools' from COCO JSON, VOC XML and YOLO files;
the cross-class confusion matrix equals a direct count of FiftyOne-style matches at any confidence;
cells give exactly their boxes; bad input is refused with a clear error and no file changed."""

from __future__ import annotations

import copy
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.helpers import record_calls, require

from tests.detection_data import make_coco, pycocotools_stats, write_json, write_voc, write_yolo
from h5eval_widgets.core import DetectionEvaluation, Evaluation
from h5eval_widgets.core.errors import DatasetError

require("pycocotools")


@pytest.fixture(scope="module")
def data():
    return make_coco(120, seed=3)


@pytest.fixture(scope="module")
def ev(data):
    return Evaluation.from_detections(*copy.deepcopy(data))


def _stats(ev) -> np.ndarray:
    return np.array(list(ev.scores.values()))


def _by_name(gt, dets):
    """Detections as a DataFrame naming images by file and classes by name (for VOC and YOLO)."""
    files = {im["id"]: im["file_name"] for im in gt["images"]}
    names = {c["id"]: c["name"] for c in gt["categories"]}
    return pd.DataFrame(
        {
            "file_name": [files[d["image_id"]] for d in dets],
            "label": [names[d["category_id"]] for d in dets],
            "bbox": [d["bbox"] for d in dets],
            "score": [d["score"] for d in dets],
        }
    )


def test_generated_data_has_crowds_every_area_range_duplicates_and_wrong_classes(data, ev):
    """Check that the test data holds what COCO's rules treat specially, so the equalities below test them."""
    gt, dets = data
    areas = np.array([a["area"] for a in gt["annotations"]])
    assert sum(a["iscrowd"] for a in gt["annotations"]) >= 5
    assert (areas < 32**2).sum() > 20 and ((areas >= 32**2) & (areas < 96**2)).sum() > 20
    assert (areas >= 96**2).sum() > 20
    cm = ev.confusion_matrix(0.5, 0.0)
    k = ev.n_classes
    assert cm[:k, :k][~np.eye(k, dtype=bool)].sum() > 10  # wrong classes
    assert cm[k, :k].sum() > 50 and cm[:k, k].sum() > 20  # false boxes (duplicates among them), misses
    assert len(dets) > len(gt["annotations"])


@pytest.mark.parametrize("backend", ["faster_coco_eval", "pycocotools"])
def test_twelve_numbers_equal_pycocotools_from_coco_json_files(tmp_path, data, backend):
    """Check that the 12 numbers from instances/results JSON files equal COCOeval.stats to 1e-6."""
    require(backend)
    gt, dets = data
    ref, _ = pycocotools_stats(gt, dets)
    ev = Evaluation.from_detections(
        write_json(tmp_path / "instances_val.json", gt), write_json(tmp_path / "results.json", dets), backend=backend
    )
    assert isinstance(ev, DetectionEvaluation) and ev.coco.backend == backend
    assert list(ev.scores) == [
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
    ]
    np.testing.assert_allclose(_stats(ev), ref, atol=1e-6, rtol=0)
    assert 0.05 < ev.scores["map"] < 0.9


def test_twelve_numbers_equal_pycocotools_from_voc_xml_files(tmp_path):
    """Check that VOC XML ground truth (no crowds: VOC has none) with named detections gives COCOeval.stats."""
    gt, dets = make_coco(80, seed=5, crowd=False)
    ref, _ = pycocotools_stats(gt, dets)
    ev = Evaluation.from_detections(write_voc(tmp_path / "voc", gt), _by_name(gt, dets))
    assert ev.classes == tuple(sorted(c["name"] for c in gt["categories"]))
    np.testing.assert_allclose(_stats(ev), ref, atol=1e-6, rtol=0)


def test_twelve_numbers_equal_pycocotools_from_yolo_txt_files(tmp_path):
    """Check that YOLO text labels (relative centre boxes, classes.txt, sizes given) give COCOeval.stats."""
    gt, dets = make_coco(80, seed=6, crowd=False)
    ref, _ = pycocotools_stats(gt, dets)
    folder, sizes = write_yolo(tmp_path / "labels", gt)
    path = tmp_path / "dets.parquet"
    _by_name(gt, dets).to_parquet(path)
    ev = Evaluation.from_detections(folder, path, images=sizes)
    assert ev.classes == tuple(c["name"] for c in gt["categories"])
    np.testing.assert_allclose(_stats(ev), ref, atol=1e-6, rtol=0)


def test_per_class_ap_and_pr_curves_are_pycocotools_precision(data, ev):
    """Check per-class AP/AP50/AP75 and the PR curves at IoU 0.5 and 0.75 against COCOeval.eval['precision']."""
    _, e = pycocotools_stats(*data)
    p = e.eval["precision"]
    table = ev.per_class_ap()
    for k, name in enumerate(ev.classes):
        for col, sel in (("ap", slice(None)), ("ap_50", [0]), ("ap_75", [5])):
            v = p[sel, :, k, 0, -1]
            assert abs(table.loc[name, col] - v[v > -1].mean()) < 1e-9
        for iou, t in ((0.5, 0), (0.75, 5)):
            rec, prec = ev.pr_curve(name, iou=iou)
            ref = p[t, :, k, 0, -1]
            np.testing.assert_allclose(prec, ref[ref > -1])
            np.testing.assert_allclose(rec, np.linspace(0, 1, 101)[ref > -1])
    assert table["n_true"].sum() == len(data[0]["annotations"])


# ------------------------------------------------------------------ the matrix, counted directly
def _iou(d, a):
    dx, dy, dw, dh = d["bbox"]
    ax, ay, aw, ah = a["bbox"]
    iw = max(0.0, min(dx + dw, ax + aw) - max(dx, ax))
    ih = max(0.0, min(dy + dh, ay + ah) - max(dy, ay))
    inter = iw * ih
    union = dw * dh if a["iscrowd"] else dw * dh + aw * ah - inter
    return inter / union if union > 0 else 0.0


def direct_matches(gt, dets, iou, confidence):
    """FiftyOne's classwise=False matching, written out loop by loop on the detections kept at
    ``confidence`` (matched afresh for each threshold): ``[(gt row, detection row)]``, -1 = none."""
    rows = {a["id"]: r for r, a in enumerate(gt["annotations"])}
    out = []
    for im in gt["images"]:
        g = sorted([a for a in gt["annotations"] if a["image_id"] == im["id"]], key=lambda a: a["iscrowd"])
        d = sorted(
            [(r, x) for r, x in enumerate(dets) if x["image_id"] == im["id"] and x["score"] >= confidence],
            key=lambda t: -t[1]["score"],
        )
        taken = set()
        for r, p in d:
            best, best_iou = None, min(iou, 1 - 1e-10)
            for a in g:
                v = _iou(p, a)
                if v <= 0 or (a["id"] in taken and not a["iscrowd"]):
                    continue
                if a["iscrowd"] and a["category_id"] != p["category_id"]:
                    continue
                if best is not None and not best["iscrowd"] and a["iscrowd"]:
                    break
                if v < best_iou:
                    continue
                best, best_iou = a, v
            if best is None:
                out.append((-1, r))
            else:
                taken.add(best["id"])
                out.append((rows[best["id"]], r))
        out += [(rows[a["id"]], -1) for a in g if a["id"] not in taken]
    return out


@pytest.mark.parametrize("iou", [0.5, 0.75])
def test_confusion_matrix_equals_a_direct_count_of_the_matches(data, ev, iou):
    """Check the (k+1)x(k+1) matrix at several confidences against matching done afresh, loop by loop."""
    gt, dets = data
    cls_of = {c["id"]: k for k, c in enumerate(gt["categories"])}
    k = len(gt["categories"])
    for conf in (0.0, 0.3, 0.62, 0.97):
        want = np.zeros((k + 1, k + 1), dtype=np.int64)
        for g, d in direct_matches(gt, dets, iou, conf):
            t = cls_of[gt["annotations"][g]["category_id"]] if g >= 0 else k
            p = cls_of[dets[d]["category_id"]] if d >= 0 else k
            want[t, p] += 1
        np.testing.assert_array_equal(ev.confusion_matrix(iou=iou, confidence=conf), want)


def test_cell_indices_give_exactly_the_boxes_of_each_cell(data, ev):
    """Check every cell's rows: as many as its count, the classes of the cell, and the same pairs as a direct match."""
    gt, dets = data
    conf, k = 0.4, ev.n_classes
    cls_of = {c["id"]: j for j, c in enumerate(gt["categories"])}
    direct = direct_matches(gt, dets, 0.5, conf)
    cm = ev.confusion_matrix(0.5, conf)
    names = [*ev.classes, "background"]
    for t in range(k + 1):
        for p in range(k + 1):
            if t == p == k:
                with pytest.raises(ValueError, match="background/background"):
                    ev.cell_indices(names[t], names[p], confidence=conf)
                continue
            cell = ev.cell_indices(names[t], names[p], confidence=conf)
            assert len(cell) == cm[t, p]
            want = {
                (g, d)
                for g, d in direct
                if (cls_of[gt["annotations"][g]["category_id"]] if g >= 0 else k) == t
                and (cls_of[dets[d]["category_id"]] if d >= 0 else k) == p
            }
            assert set(zip(cell["true_box"], cell["detection"])) == want
            imgs = [
                gt["annotations"][g]["image_id"] if g >= 0 else dets[d]["image_id"]
                for g, d in zip(cell["true_box"], cell["detection"])
            ]
            assert cell["image_id"].tolist() == imgs
            assert (cell["score"].dropna() >= conf).all()


def test_a_slider_move_is_a_lookup_without_matching_again(ev, monkeypatch):
    """Check that a new confidence reuses the one matching per IoU: 200 slider moves match no box
    again (how fast a move is answered is measured in benchmarks/detection.py)."""
    from h5eval_widgets.core.results import detection as detection_module

    ev.confusion_matrix(0.75, 0.1)
    m = ev.matches(0.75)
    matched = record_calls(monkeypatch, detection_module, "match_boxes")
    for c in np.linspace(0, 1, 200):
        ev.confusion_matrix(0.75, c)
    assert ev.matches(0.75) is m and matched == []
    ev.confusion_matrix(0.6, 0.5)
    assert len(matched) == 1  # another IoU does match again, so the recorder sees matching
    assert ev.confusion_matrix(0.75, 1.01)[:, -1].sum() == len(ev.true_boxes)  # all missed


def test_report_and_dict_carry_the_numbers_and_the_matrix(data, ev):
    """Check the text report and to_dict against references computed here: the 12 numbers and
    each class's AP of pycocotools' COCOeval, the boxes counted from the files, and the
    background matrix at IoU 0.5 counted by the direct matching above."""
    gt, dets = data
    ref, e = pycocotools_stats(gt, dets)
    p = e.eval["precision"]
    names = {c["id"]: c["name"] for c in gt["categories"]}
    k = len(gt["categories"])
    cls_of = {c["id"]: n for n, c in enumerate(gt["categories"])}
    want = np.zeros((k + 1, k + 1), dtype=np.int64)
    for g, d in direct_matches(gt, dets, 0.5, ev.threshold):
        want[
            cls_of[gt["annotations"][g]["category_id"]] if g >= 0 else k,
            cls_of[dets[d]["category_id"]] if d >= 0 else k,
        ] += 1
    assert want[:k, :k].trace() > 100 and want[k].sum() > 50  # hits and false boxes to count
    d = ev.to_dict()
    assert d["task"] == "detection" and d["n_samples"] == len(gt["images"]) == 120
    assert d["n_true_boxes"] == len(gt["annotations"]) and d["n_detections"] == len(dets)
    np.testing.assert_allclose(list(d["metrics"].values()), ref, atol=1e-6, rtol=0)
    assert d["metrics"]["map"] > 0.05
    assert list(d["per_class_ap"]) == [names[c["id"]] for c in gt["categories"]]
    for n, c in enumerate(gt["categories"]):
        row = d["per_class_ap"][c["name"]]
        for col, sel in (("ap", slice(None)), ("ap_50", [0]), ("ap_75", [5])):
            v = p[sel, :, n, 0, -1]
            assert row[col] == pytest.approx(v[v > -1].mean(), abs=1e-9), (c["name"], col)
        assert row["n_true"] == sum(a["category_id"] == c["id"] for a in gt["annotations"])
        assert row["n_detections"] == sum(x["category_id"] == c["id"] for x in dets)
    np.testing.assert_array_equal(np.array(d["confusion_matrix"]), want)
    text = ev.to_text()
    lines = text.splitlines()
    for name, v in zip(d["metrics"], ref):
        assert f"  {name:<11} {v:.4f}" in lines, name
    at = lines.index("Detection confusion matrix (IoU 0.5) (rows = true, columns = predicted)")
    rows = [line.split() for line in lines[at + 2 : at + 3 + k]]
    assert [r[0] for r in rows] == [*names.values(), "(background)"]
    np.testing.assert_array_equal(np.array([[int(x) for x in r[1:]] for r in rows]), want)
    for n, c in enumerate(gt["categories"]):
        v = p[:, :, n, 0, -1]
        (row,) = [r.split() for r in lines[:at] if r.split()[:1] == [c["name"]]]
        assert row[1] == f"{v[v > -1].mean():.4f}"


# ------------------------------------------------------------------ bad input
def _unchanged(paths):
    return {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in paths}


@pytest.mark.parametrize(
    "edit, match",
    [
        (lambda g, d: g["annotations"][0].update(image_id=9999), r"annotation\(s\) for images that are not there"),
        (lambda g, d: g["annotations"][1].update(bbox=[150.0, float("nan"), 60.0, 20.0]), r"1 true box with a missing"),
        (lambda g, d: d[4].update(bbox=[float("inf"), 1.0, 60.0, 20.0]), r"1 detection with a missing \(NaN\) or inf"),
        (lambda g, d: g["annotations"][2].update(bbox=[10.0, 10.0, -4.0, 5.0]), r"negative size"),
        (lambda g, d: g["annotations"][3].update(category_id=77), r"unknown category id\(s\) \[77\]"),
        (lambda g, d: [x.update(image_id=x["image_id"] + 100000) for x in d], r"no detection's image id matches"),
        (lambda g, d: [x.pop("bbox") for x in d], r"has no boxes"),
    ],
)
def test_bad_input_is_refused_with_a_clear_error_and_no_file_changed(tmp_path, data, edit, match):
    """Check each bad annotation or results file raises a DatasetError naming the problem, files untouched."""
    gt, dets = copy.deepcopy(data)
    edit(gt, dets)
    paths = [write_json(tmp_path / "instances.json", gt), write_json(tmp_path / "results.json", dets)]
    before = _unchanged(paths)
    with pytest.raises(DatasetError, match=match):
        Evaluation.from_detections(*paths)
    assert _unchanged(paths) == before and sorted(tmp_path.iterdir()) == sorted(paths)


def test_yolo_labels_for_a_missing_image_and_an_unknown_class_are_refused(tmp_path, data):
    """Check YOLO labels naming an image not given, and a class number past classes.txt."""
    gt = make_coco(5, seed=1, crowd=False)[0]
    folder, sizes = write_yolo(tmp_path / "labels", gt)
    with pytest.raises(DatasetError, match="labels an image that is not there"):
        Evaluation.from_detections(folder, [], images=dict(list(sizes.items())[1:]))
    (folder / "img_00001.txt").write_text("9 0.5 0.5 0.1 0.1\n")
    with pytest.raises(DatasetError, match="class 9 is unknown"):
        Evaluation.from_detections(folder, [], images=sizes)


def test_missing_coco_libraries_name_the_detection_extra():
    """Check in a fresh interpreter where neither library imports that the error names [detection]."""
    code = (
        "import sys; sys.modules['faster_coco_eval'] = None; sys.modules['pycocotools'] = None\n"
        "from h5eval_widgets.core import Evaluation\n"
        "try:\n    Evaluation.from_detections({}, [])\nexcept ImportError as e:\n    print(e)"
    )
    root = str(Path(__file__).resolve().parent.parent)
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": root, "PATH": "/usr/bin:/bin"},
    )
    assert "pip install 'h5eval-widgets[detection]'" in out.stdout


def test_by_box_size_equals_pycocotools_per_area_numbers(data, ev):
    """Check the box-size slices: each size's mAP and mAR@100 are COCOeval.stats' per-area numbers,
    each class's AP per size is COCOeval's precision over that area range, and the true boxes are
    counted in COCO's area ranges (crowd boxes left out); every size holds boxes in this data."""
    stats, e = pycocotools_stats(*data)
    table = ev.by_box_size()
    assert list(table.index) == ["small", "medium", "large"]
    np.testing.assert_allclose(table["map"], stats[3:6], atol=1e-6, rtol=0)
    np.testing.assert_allclose(table["mar_100"], stats[9:12], atol=1e-6, rtol=0)
    p = e.eval["precision"]
    for a, size in enumerate(table.index, start=1):
        for k, name in enumerate(ev.classes):
            v = p[:, :, k, a, -1]
            v = v[v > -1]
            got = table.loc[size, f"ap_{name}"]
            assert (np.isnan(got) and v.size == 0) or abs(got - v.mean()) < 1e-9
        lo, hi = e.params.areaRng[a]
        want = sum(1 for g in data[0]["annotations"] if not g.get("iscrowd") and lo <= g["area"] <= hi)
        assert table.loc[size, "n_true"] == want > 0


def test_by_image_group_equals_pycocotools_on_each_groups_images(data, ev):
    """Check slices by image metadata: each group's numbers equal pycocotools' COCOeval on that
    group's images alone (their boxes and detections), the worst mAP first; groups given by
    file name; a numeric key is cut into quantile bins holding every image."""
    gt, dets = data
    rng = np.random.default_rng(5)
    weather = {im["file_name"]: str(rng.choice(["sun", "rain", "fog"])) for im in gt["images"]}
    table = ev.by_image_group(weather)
    assert sorted(table.index) == ["fog", "rain", "sun"] and table["map"].is_monotonic_increasing
    for value, row in table.iterrows():
        ids = {im["id"] for im in gt["images"] if weather[im["file_name"]] == value}
        sub = dict(
            gt,
            images=[im for im in gt["images"] if im["id"] in ids],
            annotations=[a for a in gt["annotations"] if a["image_id"] in ids],
        )
        stats, _ = pycocotools_stats(sub, [d for d in dets if d["image_id"] in ids])
        np.testing.assert_allclose(
            row[["map", "map_50", "map_75", "mar_100"]].to_numpy(float), stats[[0, 1, 2, 8]], atol=1e-6
        )
        assert row["n_images"] == len(ids)
        assert row["n_true"] == sum(1 for a in sub["annotations"] if not a.get("iscrowd"))
    assert table["map"].nunique() == 3  # the groups differ
    width = ev.images["width"].to_numpy()
    binned = ev.by_image_group(width)
    assert len(binned) == 4 and binned["n_images"].sum() == len(gt["images"])
