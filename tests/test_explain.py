"""``ev.explain(metric)`` (issue 34, item 1): every explained value equals scikit-learn's on the
same inputs and ``ev.scores``; the per-class counts equal the confusion matrix's; the formula
holds the class's counts and the value as :func:`~h5eval_widgets.core.results.names.fmt` writes
them; binary (at a non-default threshold), multi-class, multi-label and regression."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import metrics as skm
from sklearn.preprocessing import label_binarize

from h5eval_widgets.core import Evaluation
from h5eval_widgets.core.results.explanation import Explanation
from h5eval_widgets.core.results.names import fmt


def _multiclass(n=400, k=4, seed=0):
    """Held-out-like probabilities: the true class gets a boost of varying size, so every cell fills."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, k, n)
    p = rng.dirichlet(np.ones(k), n)
    p[np.arange(n), y] += rng.uniform(0, 0.8, n)
    p = (p / p.sum(1, keepdims=True)).astype(np.float32)
    return y, p


@pytest.fixture(scope="module")
def mc():
    y, p = _multiclass()
    return Evaluation.from_predictions(y, p, classes=["cat", "dog", "fox", "owl"]), y, p


@pytest.fixture(scope="module", params=[0.5, 0.35])
def binary(request):
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, 300)
    p1 = np.clip(0.3 * y + 0.7 * rng.random(300), 0, 1)
    return Evaluation.from_predictions(y, p1, threshold=request.param), y, p1


def _sk_classification(metric, y, y_pred, proba, k):
    """scikit-learn's value of a single-label metric (proba: (n, k), or (n,) for binary)."""
    labels = list(range(k))
    for name, fn in (("precision", skm.precision_score), ("recall", skm.recall_score), ("f1", skm.f1_score)):
        if metric == name:
            return fn(y, y_pred)
        if metric.startswith(name + "_"):
            return fn(y, y_pred, labels=labels, average=metric.split("_")[1])
    two = np.column_stack([1 - proba, proba]) if proba.ndim == 1 else proba / proba.sum(1, keepdims=True)
    if metric.startswith("top_"):
        return skm.top_k_accuracy_score(y, two, k=int(metric.split("_")[1]), labels=labels)
    if metric == "brier_score":
        return skm.brier_score_loss(y, proba) if proba.ndim == 1 else skm.brier_score_loss(y, two, labels=labels)
    simple = {
        "accuracy": lambda: skm.accuracy_score(y, y_pred),
        "balanced_accuracy": lambda: skm.balanced_accuracy_score(y, y_pred),
        "cohen_kappa": lambda: skm.cohen_kappa_score(y, y_pred),
        "mcc": lambda: skm.matthews_corrcoef(y, y_pred),
        "log_loss": lambda: skm.log_loss(y, two, labels=labels),
        "roc_auc": lambda: skm.roc_auc_score(y, proba),
        "average_precision": lambda: skm.average_precision_score(y, proba),
        "roc_auc_ovr_macro": lambda: skm.roc_auc_score(y, two, multi_class="ovr", average="macro"),
        "roc_auc_ovr_weighted": lambda: skm.roc_auc_score(y, two, multi_class="ovr", average="weighted"),
        "roc_auc_ovo_macro": lambda: skm.roc_auc_score(y, two, multi_class="ovo", average="macro"),
        "average_precision_macro": lambda: skm.average_precision_score(label_binarize(y, classes=labels), two),
    }
    return simple[metric]() if metric in simple else None


def _check_counts(ex: Explanation, cm: np.ndarray):
    tp = np.diag(cm)
    np.testing.assert_array_equal(ex.terms["tp"], tp)
    np.testing.assert_array_equal(ex.terms["fp"], cm.sum(0) - tp)
    np.testing.assert_array_equal(ex.terms["fn"], cm.sum(1) - tp)
    np.testing.assert_array_equal(ex.terms["tn"], cm.sum() - cm.sum(0) - cm.sum(1) + tp)
    np.testing.assert_array_equal(ex.terms["support"], cm.sum(1))


def test_every_multiclass_metric_is_explained_with_sklearns_value(mc):
    """Check every metric of a 4-class evaluation: the value equals ``ev.scores`` and
    scikit-learn's, the formula ends with the value, names a scikit-learn function, and the HTML
    holds the formula and the terms table."""
    ev, y, p = mc
    y_pred = p.argmax(1)
    assert set(ev.scores) >= {"roc_auc_ovo_macro", "top_2_accuracy", "cohen_kappa", "mcc", "ece"}
    for metric, value in ev.scores.items():
        ex = ev.explain(metric)
        assert isinstance(ex, Explanation) and ex.metric == metric
        assert ex.value == pytest.approx(value, rel=1e-6), metric
        sk = _sk_classification(metric, y, y_pred, p.astype(np.float64), 4)
        if sk is not None:
            assert ex.value == pytest.approx(sk, rel=1e-6, abs=1e-9), metric
        assert fmt(ex.value) in ex.formula, metric
        assert ex.sklearn.startswith("sklearn.") or "no scikit-learn" in ex.sklearn
        html = ex._repr_html_()
        assert "<table" in html and "<script" not in html and "http" not in html
        assert len(ex.terms) > 0


def test_per_class_and_averaged_terms_are_the_confusion_matrixs_counts(mc):
    """Check the tp/fp/fn/tn/support rows against the confusion matrix for every averaged
    precision/recall/F1, and that each formula shows every class's counts and the value."""
    ev, y, p = mc
    cm = skm.confusion_matrix(y, p.argmax(1))
    np.testing.assert_array_equal(cm, ev.confusion_matrix())
    for name in ("precision", "recall", "f1"):
        for avg in ("macro", "micro", "weighted"):
            ex = ev.explain(f"{name}_{avg}")
            assert list(ex.terms.index) == ["cat", "dog", "fox", "owl"]
            _check_counts(ex, cm)
            fn_ = {"precision": skm.precision_score, "recall": skm.recall_score, "f1": skm.f1_score}[name]
            np.testing.assert_allclose(ex.terms[name], fn_(y, p.argmax(1), average=None))
            assert avg in ex.formula
            for c in range(4):
                tp, fp, fn = cm[c, c], cm[:, c].sum() - cm[c, c], cm[c].sum() - cm[c, c]
                assert fmt(tp) in ex.formula and fmt(fp if name != "recall" else fn) in ex.formula
            assert ex.formula.endswith(fmt(ex.value))


@pytest.mark.parametrize("name", ["precision", "recall", "f1"])
def test_one_class_of_an_averaged_metric(mc, name):
    """Check ``cls``: the class's own value (scikit-learn's per-class), named by class and index,
    with its counts in the formula as ``36 / (36 + 12)``."""
    ev, y, p = mc
    cm = ev.confusion_matrix()
    fn_ = {"precision": skm.precision_score, "recall": skm.recall_score, "f1": skm.f1_score}[name]
    per = fn_(y, p.argmax(1), average=None)
    for c, cls in enumerate(ev.classes):
        for ex in (ev.explain(f"{name}_macro", cls=cls), ev.explain(f"{name}_weighted", cls=c)):
            assert ex.cls == cls and ex.value == pytest.approx(per[c])
            tp, fp, fn = cm[c, c], cm[:, c].sum() - cm[c, c], cm[c].sum() - cm[c, c]
            expected = {
                "precision": f"TP / (TP + FP) = {fmt(tp)} / ({fmt(tp)} + {fmt(fp)}) = {fmt(per[c])}",
                "recall": f"TP / (TP + FN) = {fmt(tp)} / ({fmt(tp)} + {fmt(fn)}) = {fmt(per[c])}",
                "f1": f"2·TP / (2·TP + FP + FN) = 2·{fmt(tp)} / (2·{fmt(tp)} + {fmt(fp)} + {fmt(fn)}) = {fmt(per[c])}",
            }[name]
            assert ex.formula == f"{name}({cls}) = {expected}"


def test_accuracy_kappa_mcc_balanced_and_auc_terms(mc):
    """Check the terms of the matrix metrics: the diagonal and total; kappa's observed and
    expected agreement from the marginals; MCC's covariances; the recalls; AUC's pair counts."""
    ev, y, p = mc
    cm = ev.confusion_matrix()
    n = cm.sum()
    acc = ev.explain("accuracy").terms
    np.testing.assert_array_equal(acc["diagonal"], list(np.diag(cm)) + [np.trace(cm)])
    assert acc.loc["total", "support"] == n
    kappa = ev.explain("cohen_kappa")
    po, pe = np.trace(cm) / n, (cm.sum(0) * cm.sum(1)).sum() / n**2
    assert kappa.terms.loc["total", "observed"] == pytest.approx(po)
    assert kappa.terms.loc["total", "expected"] == pytest.approx(pe)
    np.testing.assert_array_equal(kappa.terms["true"].iloc[:4], cm.sum(1))
    np.testing.assert_array_equal(kappa.terms["predicted"].iloc[:4], cm.sum(0))
    assert f"{fmt(po)} − {fmt(pe)}" in kappa.formula
    mcc = ev.explain("mcc").terms["value"]
    t, q = cm.sum(1), cm.sum(0)
    assert mcc.iloc[5] == np.trace(cm) * n - t @ q and mcc.iloc[6] == n**2 - q @ q and mcc.iloc[7] == n**2 - t @ t
    bal = ev.explain("balanced_accuracy").terms
    np.testing.assert_allclose(bal["recall"], skm.recall_score(y, p.argmax(1), average=None))
    auc = ev.explain("roc_auc_ovr_macro").terms
    for c in range(4):
        pos, neg = p[y == c, c], p[y != c, c]
        diff = pos[:, None] - neg[None, :]
        assert (auc["right"].iloc[c], auc["wrong"].iloc[c], auc["tied"].iloc[c]) == (
            (diff > 0).sum(),
            (diff < 0).sum(),
            (diff == 0).sum(),
        )
        assert auc["roc_auc"].iloc[c] == pytest.approx(skm.roc_auc_score(y == c, p[:, c]))
    assert ev.explain("roc_auc_ovr_weighted", cls="fox").value == pytest.approx(skm.roc_auc_score(y == 2, p[:, 2]))
    ll = ev.explain("log_loss").terms
    per = -np.log(np.clip(p[np.arange(len(y)), y].astype(np.float64), np.finfo(np.float32).eps, None))
    np.testing.assert_allclose(ll["mean"], [per[y == c].mean() for c in range(4)], rtol=1e-6)


def test_binary_metrics_at_the_threshold_in_force(binary):
    """Check every binary metric at the evaluation's threshold (0.5 and 0.35): scikit-learn's value
    on ``p >= threshold``, the threshold named in the formula, the positive class's counts."""
    ev, y, p1 = binary
    y_pred = (p1 >= ev.threshold).astype(int)
    cm = skm.confusion_matrix(y, y_pred)
    for metric, value in ev.scores.items():
        ex = ev.explain(metric)
        assert ex.value == pytest.approx(value, rel=1e-6), metric
        sk = _sk_classification(metric, y, y_pred, p1, 2)
        if sk is not None:
            assert ex.value == pytest.approx(sk, rel=1e-6, abs=1e-9), metric
        assert fmt(ex.value) in ex.formula
        if metric not in ("roc_auc", "average_precision", "log_loss", "brier_score", "ece"):
            assert f"at threshold {ev.threshold:g}" in ex.formula, metric
            assert f">= {ev.threshold:g}" in ex.sklearn, metric
    ex = ev.explain("precision")
    _check_counts(ex, cm)
    tp, fp = cm[1, 1], cm[0, 1]
    assert ex.cls == "1"
    assert f"{fmt(tp)} / ({fmt(tp)} + {fmt(fp)}) = {fmt(ex.value)}" in ex.formula
    ex0 = ev.explain("recall", cls=0)
    assert ex0.value == pytest.approx(skm.recall_score(y, y_pred, pos_label=0))
    auc = ev.explain("roc_auc").terms.loc["1"]
    assert auc["right"] + auc["wrong"] + auc["tied"] == auc["pairs"] == (y == 1).sum() * (y == 0).sum()


def test_binary_explanation_follows_with_threshold():
    """Check that an evaluation moved to another threshold explains its own counts."""
    rng = np.random.default_rng(3)
    y = rng.integers(0, 2, 200)
    p1 = np.clip(0.3 * y + 0.7 * rng.random(200), 0, 1)
    ev = Evaluation.from_predictions(y, p1).with_threshold(0.7)
    ex = ev.explain("f1")
    assert ex.value == pytest.approx(skm.f1_score(y, p1 >= 0.7))
    assert "at threshold 0.7" in ex.formula


def test_multilabel_metrics():
    """Check every multi-label metric against scikit-learn on ``y_proba >= threshold`` and each
    label's counts against ``multilabel_confusion_matrix``."""
    rng = np.random.default_rng(2)
    Y = rng.random((250, 3)) > 0.5
    P = np.clip(Y * 0.35 + rng.random((250, 3)) * 0.65, 0, 1)
    ev = Evaluation.from_predictions(Y, P, task="multilabel", threshold=0.55, classes=["a", "b", "c"])
    Yp = P >= 0.55
    mcm = skm.multilabel_confusion_matrix(Y, Yp)
    for metric, value in ev.scores.items():
        ex = ev.explain(metric)
        assert ex.value == pytest.approx(value, rel=1e-6), metric
        name, _, avg = metric.rpartition("_")
        fns = {"precision": skm.precision_score, "recall": skm.recall_score, "f1": skm.f1_score}
        if name in fns:
            assert ex.value == pytest.approx(fns[name](Y, Yp, average=avg)), metric
            np.testing.assert_array_equal(ex.terms["tp"], mcm[:, 1, 1])
            np.testing.assert_array_equal(ex.terms["fp"], mcm[:, 0, 1])
            np.testing.assert_array_equal(ex.terms["fn"], mcm[:, 1, 0])
            np.testing.assert_array_equal(ex.terms["tn"], mcm[:, 0, 0])
        elif name == "roc_auc":
            assert ex.value == pytest.approx(skm.roc_auc_score(Y, P, average=avg))
        elif metric == "average_precision_macro":
            assert ex.value == pytest.approx(skm.average_precision_score(Y, P, average="macro"))
        elif metric == "subset_accuracy":
            assert ex.value == pytest.approx(skm.accuracy_score(Y, Yp))
        elif metric == "hamming_loss":
            assert ex.value == pytest.approx(skm.hamming_loss(Y, Yp))
        if metric not in ("roc_auc_macro", "roc_auc_weighted", "average_precision_macro"):
            assert "at threshold 0.55" in ex.formula
        assert fmt(ex.value) in ex.formula


@pytest.mark.parametrize("outputs", [1, 2])
def test_regression_metrics_from_their_sums(outputs):
    """Check MSE, RMSE, MAE, R² and MAPE against scikit-learn and their sums in the terms and the
    formula (one and two outputs)."""
    rng = np.random.default_rng(4)
    y = rng.normal(3, 2, (150, outputs))
    pred = y + rng.normal(0, 0.5, (150, outputs))
    y, pred = (y[:, 0], pred[:, 0]) if outputs == 1 else (y, pred)
    ev = Evaluation.from_predictions(y, pred, task="regression")
    sk = {
        "mse": skm.mean_squared_error,
        "rmse": skm.root_mean_squared_error,
        "mae": skm.mean_absolute_error,
        "r2": skm.r2_score,
        "mape": skm.mean_absolute_percentage_error,
    }
    for metric, fn in sk.items():
        ex = ev.explain(metric)
        assert ex.value == pytest.approx(ev.scores[metric]) == pytest.approx(fn(y, pred)), metric
        assert fn.__name__ in ex.sklearn
        assert fmt(ex.value) in ex.formula
    terms = ev.explain("mse").terms
    sse = ((pred - y) ** 2).sum(axis=0)
    np.testing.assert_allclose(terms["sum_squared_error"], np.atleast_1d(sse))
    assert fmt(float(np.atleast_1d(sse)[0])) in ev.explain("mse").formula


def test_unknown_metric_and_class_raise(mc):
    """Check that an unknown metric names the known ones and ``cls`` is refused where there is no
    per-class value."""
    ev, _, _ = mc
    with pytest.raises(ValueError, match="f1_macro"):
        ev.explain("f2_macro")
    with pytest.raises(ValueError, match="no per-class value"):
        ev.explain("accuracy", cls="cat")
    with pytest.raises(ValueError, match="not a class"):
        ev.explain("f1_macro", cls="zebra")


def test_many_classes_keep_the_formula_readable():
    """Check that with 20 classes the formula lists a few and points to ``.terms``."""
    y, p = _multiclass(n=2000, k=20, seed=5)
    ev = Evaluation.from_predictions(y, p)
    ex = ev.explain("f1_macro")
    assert "…" in ex.formula and ".terms" in ex.formula and len(ex.formula) < 400
    assert len(ex.terms) == 20 and ex.value == pytest.approx(skm.f1_score(y, p.argmax(1), average="macro"))


def test_segmentation_metrics_from_the_pixel_counts():
    """Check the pixel metrics against scikit-learn on the flattened pixels (ignored pixels left
    out), the per-class pixel counts against the pixel matrix, and the per-image means against
    scikit-learn image by image."""
    rng = np.random.default_rng(6)
    y = rng.integers(0, 3, (6, 16, 16))
    s = rng.random((6, 16, 16, 3)).astype(np.float32)
    for c, boost in enumerate((0.6, 0.5, 0.4)):
        s[..., c] += (y == c) * boost
    y[0, :2] = 255
    ev = Evaluation.from_predictions(y, s, classes=["bg", "road", "car"])
    keep = y != 255
    t, p = y[keep], s.argmax(-1)[keep]
    cm = skm.confusion_matrix(t, p)
    sk = {
        "pixel_accuracy": skm.accuracy_score(t, p),
        "mean_class_accuracy": skm.balanced_accuracy_score(t, p),
        "mean_iou": skm.jaccard_score(t, p, average="macro"),
        "frequency_weighted_iou": skm.jaccard_score(t, p, average="weighted"),
        "mean_dice": skm.f1_score(t, p, average="macro"),
    }
    for metric, value in sk.items():
        ex = ev.explain(metric)
        assert ex.value == pytest.approx(value) == pytest.approx(ev.scores[metric]), metric
        assert fmt(ex.value) in ex.formula
    ex = ev.explain("mean_iou")
    _check_counts(ex, cm)
    for c in range(3):
        tp, fp, fn = cm[c, c], cm[:, c].sum() - cm[c, c], cm[c].sum() - cm[c, c]
        assert f"{fmt(tp)} / ({fmt(tp)} + {fmt(fp)} + {fmt(fn)})" in ex.formula
    assert ev.explain("mean_dice", cls="road").value == pytest.approx(skm.f1_score(t, p, average=None)[1])
    per_image = []
    for i in range(len(y)):
        ti, pi = y[i][keep[i]], s[i].argmax(-1)[keep[i]]
        per_image.append(skm.jaccard_score(ti, pi, labels=np.union1d(ti, pi), average="macro"))
    ex = ev.explain("mean_iou_per_image")
    np.testing.assert_allclose(ex.terms["mean_iou"], per_image)
    assert ex.value == pytest.approx(np.mean(per_image)) == pytest.approx(ev.scores["mean_iou_per_image"])


def test_detection_ap_from_the_precision_at_cocos_recall_points():
    """Check mAP, mAP50 and mAP75 against pycocotools, the terms against ``ev.pr_curve``, a class's
    own AP against ``per_class_ap``, the IoU and confidence named (the other COCO numbers are in
    test_explain_detection.py)."""
    pytest.importorskip("pycocotools")
    import copy

    from tests.detection_data import make_coco, pycocotools_stats

    data = make_coco(40, seed=3)
    ev = Evaluation.from_detections(*copy.deepcopy(data), confidence=0.3)
    stats, _ = pycocotools_stats(*data)
    table = ev.per_class_ap()
    for i, (metric, col, words) in enumerate(
        (("map", "ap", "IoU 0.50:0.05:0.95"), ("map_50", "ap_50", "IoU 0.50"), ("map_75", "ap_75", "IoU 0.75"))
    ):
        ex = ev.explain(metric)
        assert ex.value == pytest.approx(stats[i]) == pytest.approx(ev.scores[metric]), metric
        assert words in ex.formula and "≥ 0.3" in ex.formula and fmt(ex.value) in ex.formula
        for name in ev.classes:
            assert ev.explain(metric, cls=name).value == pytest.approx(table.loc[name, col])
    ex = ev.explain("map_50")
    rec, prec = ev.pr_curve("dog", iou=0.5)
    np.testing.assert_allclose(ex.terms["dog"].dropna(), prec)
    assert f"dog: {fmt(prec.sum())} / 101 = {fmt(prec.mean())}" in ex.formula


def test_segmentation_with_one_sigmoid_names_its_threshold():
    """Check a one-sigmoid segmentation at 0.4 and moved to 0.6: scikit-learn's IoU on the
    thresholded pixels, the threshold named in the formula."""
    rng = np.random.default_rng(7)
    y = rng.integers(0, 2, (5, 16, 16))
    s = np.clip(y * 0.3 + rng.random((5, 16, 16)) * 0.7, 0, 1)[..., None].astype(np.float32)
    ev = Evaluation.from_predictions(y, s, threshold=0.4)
    for e, t in ((ev, 0.4), (ev.with_threshold(0.6), 0.6)):
        ex = e.explain("mean_iou")
        assert ex.value == pytest.approx(skm.jaccard_score(y.ravel(), (s[..., 0] >= t).ravel(), average="macro"))
        assert f"at threshold {t:g}" in ex.formula


def test_small_counts_read_as_whole_numbers_and_undefined_metrics_stay_nan():
    """Check that counts under 10 are written whole (``5``, not ``5.000``) and that a metric
    ``ev.scores`` leaves undefined (a class never in the labels) is nan, said so in the formula."""
    y, p = _multiclass(n=40, k=3, seed=8)
    ev = Evaluation.from_predictions(y, p)
    cm = ev.confusion_matrix()
    for name in ("precision_macro", "recall_weighted", "f1_macro"):
        ex = ev.explain(name)
        assert ".000 " not in ex.formula and ".000)" not in ex.formula
        for c in range(3):
            assert f"{fmt(cm[c, c])} / ({fmt(cm[c, c])} + " in ex.formula.replace("2·", "")
    absent = Evaluation.from_predictions(np.where(y == 2, 1, y), p)
    for metric in ("roc_auc_ovr_macro", "average_precision_macro"):
        assert np.isnan(absent.scores[metric])
        ex = absent.explain(metric)
        assert np.isnan(ex.value) and "undefined" in ex.formula
    assert absent.explain("accuracy").value == pytest.approx(absent.scores["accuracy"])
