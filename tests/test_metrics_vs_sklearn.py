"""Every number of an Evaluation equals scikit-learn's on the same inputs, edge cases included."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import metrics as skm
from sklearn.calibration import calibration_curve

from h5eval_widgets.core import Evaluation
from tests.helpers import binary_scores, sk, sk_or_nan, softmax_scores


def assert_classification_matches(ev: Evaluation, y, proba, sample_weight=None):
    yp = ev.y_pred
    k = ev.n_classes
    labels = np.arange(k)
    w = sample_weight
    approx = lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-9)  # noqa: E731
    s = ev.scores
    approx(s["accuracy"], skm.accuracy_score(y, yp, sample_weight=w))
    approx(s["balanced_accuracy"], sk(skm.balanced_accuracy_score, y, yp, sample_weight=w))
    for name, fn in (("precision", skm.precision_score), ("recall", skm.recall_score), ("f1", skm.f1_score)):
        for avg in ("macro", "micro", "weighted"):
            approx(s[f"{name}_{avg}"], sk(fn, y, yp, labels=labels, average=avg, sample_weight=w, zero_division=np.nan))
        approx(
            ev.per_class()[name].to_numpy(),
            sk(fn, y, yp, labels=labels, average=None, sample_weight=w, zero_division=np.nan),
        )
    approx(s["cohen_kappa"], sk(skm.cohen_kappa_score, y, yp, sample_weight=w))
    approx(s["mcc"], sk(skm.matthews_corrcoef, y, yp, sample_weight=w))
    np.testing.assert_allclose(s["log_loss"], skm.log_loss(y, proba, labels=labels, sample_weight=w), rtol=1e-5)
    sk_proba = proba[:, 1] if k == 2 else proba
    np.testing.assert_allclose(
        s["brier_score"], sk(skm.brier_score_loss, y, sk_proba, labels=labels, sample_weight=w), rtol=1e-5
    )
    np.testing.assert_array_equal(ev.confusion_matrix(), skm.confusion_matrix(y, yp, labels=labels, sample_weight=w))
    for norm in ("true", "pred", "all"):
        approx(
            ev.confusion_matrix(norm), sk(skm.confusion_matrix, y, yp, labels=labels, sample_weight=w, normalize=norm)
        )
    if k == 2:
        approx(s["roc_auc"], skm.roc_auc_score(y, proba[:, 1], sample_weight=w))
        approx(s["average_precision"], skm.average_precision_score(y, proba[:, 1], sample_weight=w))
        approx(s["precision"], sk(skm.precision_score, y, yp, sample_weight=w, zero_division=np.nan))
        fpr, tpr, thr = skm.roc_curve(y, proba[:, 1], sample_weight=w, drop_intermediate=False)
        roc = ev.roc_curve()
        approx(roc["fpr"], fpr)
        approx(roc["tpr"], tpr)
        approx(roc["threshold"][1:], thr[1:])
        p, r, t = skm.precision_recall_curve(y, proba[:, 1], sample_weight=w)
        pr = ev.pr_curve()
        approx(pr["precision"], p)
        approx(pr["recall"], r)
        approx(pr["threshold"][:-1], t)
    else:
        approx(s["roc_auc_ovr_macro"], skm.roc_auc_score(y, proba, multi_class="ovr", sample_weight=w))
        approx(
            s["roc_auc_ovr_weighted"],
            skm.roc_auc_score(y, proba, multi_class="ovr", average="weighted", sample_weight=w),
        )
        if w is None and "roc_auc_ovo_macro" in s:
            approx(s["roc_auc_ovo_macro"], skm.roc_auc_score(y, proba, multi_class="ovo"))
        approx(s["average_precision_macro"], skm.average_precision_score(y, proba, sample_weight=w))
        for kk in (2, 3, 5):
            if f"top_{kk}_accuracy" in s:
                approx(
                    s[f"top_{kk}_accuracy"], skm.top_k_accuracy_score(y, proba, k=kk, labels=labels, sample_weight=w)
                )
        for c in range(k):
            approx(ev.per_class()["roc_auc"].iloc[c], skm.roc_auc_score(y == c, proba[:, c], sample_weight=w))


@pytest.mark.parametrize("k,n,seed", [(2, 500, 0), (3, 300, 1), (5, 2000, 2), (10, 1500, 3)])
def test_multiclass_metrics_equal_sklearn(k, n, seed):
    """Check that every metric of a random k-class problem equals scikit-learn's."""
    rng = np.random.default_rng(seed)
    y, p = softmax_scores(rng, n, k)
    ev = Evaluation.from_predictions(y, p, task="binary" if k == 2 else None)
    assert ev.task == ("binary" if k == 2 else "multiclass")
    assert_classification_matches(ev, y, p)


def test_sample_weights_equal_sklearn():
    """Check that metrics with sample weights equal scikit-learn's weighted metrics."""
    rng = np.random.default_rng(5)
    y, p = softmax_scores(rng, 800, 4)
    w = rng.uniform(0.1, 3.0, size=800)
    ev = Evaluation.from_predictions(y, p, sample_weight=w)
    assert_classification_matches(ev, y, p, sample_weight=w)


def test_binary_single_sigmoid_with_ties_equals_sklearn():
    """Check binary metrics from one sigmoid column with many tied scores (rounded to 0.1)."""
    y, score = binary_scores(np.random.default_rng(6), 1000, lean=0.35, decimals=1)
    score = score.astype(np.float32)
    ev = Evaluation.from_predictions(y, score)
    assert ev.task == "binary"
    np.testing.assert_array_equal(ev.y_pred, (score >= 0.5).astype(int))
    proba = np.stack([1 - score, score], axis=1)
    assert_classification_matches(ev, y, proba)


def test_class_never_predicted_gives_nan_precision_like_sklearn():
    """Check a class that is never predicted: precision nan (sklearn zero_division=nan), F1 0."""
    # rows = true, cols = predicted: class 2 is present in y but never predicted
    y = np.array([0, 0, 1, 1, 2, 2, 2, 0, 1, 2])
    p = np.full((10, 3), 0.05, dtype=np.float32)
    pred = np.array([0, 0, 1, 1, 0, 1, 0, 0, 1, 1])
    p[np.arange(10), pred] = 0.9
    ev = Evaluation.from_predictions(y, p)
    pc = ev.per_class()
    assert np.isnan(pc.loc["2", "precision"])
    assert pc.loc["2", "f1"] == 0.0
    assert "precision" in ev.undefined
    assert_classification_matches(ev, y, p)


def test_one_class_present_reports_undefined_auc_and_keeps_the_rest():
    """Check a test set with one class only: AUC undefined with a reason, accuracy still computed."""
    y = np.ones(50, dtype=int)
    rng = np.random.default_rng(7)
    score = rng.random(50).astype(np.float32)
    ev = Evaluation.from_predictions(y, score)
    assert np.isnan(ev.scores["roc_auc"])
    assert "never occur" in ev.undefined["roc_auc"]
    assert ev.scores["accuracy"] == pytest.approx(skm.accuracy_score(y, (score >= 0.5).astype(int)))
    assert np.isnan(sk_or_nan(skm.roc_auc_score, y, score))  # scikit-learn has none either


def test_multiclass_with_absent_class_auc_is_undefined():
    """Check OvR AUC is nan (as sklearn raises) when one class is absent from the labels."""
    rng = np.random.default_rng(8)
    y, p = softmax_scores(rng, 300, 4)
    y[y == 3] = 0
    ev = Evaluation.from_predictions(y, p)
    assert np.isnan(ev.scores["roc_auc_ovr_macro"])
    assert "roc_auc" in ev.undefined
    assert np.isnan(sk_or_nan(skm.roc_auc_score, y, p, multi_class="ovr", labels=[0, 1, 2, 3]))


def test_string_and_onehot_labels_encode_to_the_same_result():
    """Check that string, one-hot and integer labels give identical metrics."""
    rng = np.random.default_rng(9)
    y, p = softmax_scores(rng, 200, 3)
    names = ["cat", "dog", "emu"]
    a = Evaluation.from_predictions(y, p, classes=names)
    b = Evaluation.from_predictions(np.array(names)[y], p, classes=names)
    c = Evaluation.from_predictions(np.eye(3)[y], p, classes=names)
    assert a.scores == b.scores == c.scores
    assert a.classes == tuple(names)


def test_logits_are_detected_and_softmaxed_with_a_note():
    """Check that logit outputs are turned into probabilities and a note says so."""
    rng = np.random.default_rng(10)
    y = rng.integers(0, 3, 100)
    z = rng.normal(size=(100, 3)) * 3
    ev = Evaluation.from_predictions(y, z, task="multiclass")
    expected = np.exp(z) / np.exp(z).sum(1, keepdims=True)
    np.testing.assert_allclose(ev.y_proba, expected, rtol=1e-6)
    assert any("logits" in n for n in ev.notes)
    np.testing.assert_allclose(ev.scores["log_loss"], skm.log_loss(y, expected))


def test_calibration_curve_equals_sklearn_and_ece():
    """Check the reliability diagram against sklearn.calibration.calibration_curve."""
    y, score = binary_scores(np.random.default_rng(11), 700)
    ev = Evaluation.from_predictions(y, score)
    t, p = calibration_curve(y, score, n_bins=10)
    cal = ev.calibration(10)
    np.testing.assert_allclose(cal["prob_true"], t)
    np.testing.assert_allclose(cal["prob_pred"], p)
    ece = np.sum(cal["count"] * np.abs(cal["prob_true"] - cal["prob_pred"])) / 700
    assert ev.scores["ece"] == pytest.approx(ece)


def test_multilabel_metrics_equal_sklearn():
    """Check multi-label (independent sigmoids) metrics against scikit-learn."""
    y, p = binary_scores(np.random.default_rng(12), (400, 4), lean=0.4)
    ev = Evaluation.from_predictions(y, p, task="multilabel")
    yp = (p >= 0.5).astype(int)
    s = ev.scores
    assert s["subset_accuracy"] == pytest.approx(skm.accuracy_score(y, yp))
    assert s["hamming_loss"] == pytest.approx(skm.hamming_loss(y, yp))
    for avg in ("macro", "micro", "weighted"):
        assert s[f"f1_{avg}"] == pytest.approx(skm.f1_score(y, yp, average=avg))
        assert s[f"precision_{avg}"] == pytest.approx(skm.precision_score(y, yp, average=avg))
    assert s["roc_auc_macro"] == pytest.approx(skm.roc_auc_score(y, p))
    assert s["average_precision_macro"] == pytest.approx(skm.average_precision_score(y, p))
    np.testing.assert_array_equal(ev.confusion_matrix(), skm.multilabel_confusion_matrix(y, yp))


def test_regression_metrics_equal_sklearn():
    """Check MSE, RMSE, MAE, R² and MAPE against scikit-learn, and the residuals."""
    rng = np.random.default_rng(13)
    y = rng.normal(10, 3, 500)
    pred = y + rng.normal(0, 1, 500)
    ev = Evaluation.from_predictions(y, pred, task="regression")
    s = ev.scores
    assert s["mse"] == pytest.approx(skm.mean_squared_error(y, pred))
    assert s["rmse"] == pytest.approx(skm.root_mean_squared_error(y, pred))
    assert s["mae"] == pytest.approx(skm.mean_absolute_error(y, pred))
    assert s["r2"] == pytest.approx(skm.r2_score(y, pred))
    assert s["mape"] == pytest.approx(skm.mean_absolute_percentage_error(y, pred))
    np.testing.assert_allclose(ev.residuals, pred - y)


def test_linear_output_with_float_targets_is_regression():
    """Check that a one-column linear output with continuous targets is taken as regression."""
    rng = np.random.default_rng(14)
    y = rng.normal(size=50)
    ev = Evaluation.from_predictions(y, y + 0.1)
    assert ev.task == "regression"


@pytest.mark.parametrize("workers", [1, 2])
def test_packed_key_sort_equals_sklearn_with_many_classes_ties_and_negative_zero(workers):
    """The per-class pass that packs the true class under the score bits: 300 classes (9 class
    bits), scores rounded so ties cross classes, -0.0 scores, one class absent; AUC, AP and the
    one-vs-one pairs equal scikit-learn's, with and without threads."""
    from h5eval_widgets.core.metrics.functions import multiclass_rank_stats

    rng = np.random.default_rng(7)
    k, n = 300, 6000
    y, p = softmax_scores(rng, n, k, signal=3.0, dtype=np.float64)
    p = np.round(p, 3).astype(np.float32)
    p[rng.random(p.shape) < 0.01] = -0.0
    y[y == 17] = 18  # class 17 never occurs
    auc, ap, pairs = multiclass_rank_stats(y, p, workers=workers, block_bytes=8 * n * 7)
    for c in (0, 18, 150, 299):
        pos = y == c
        assert auc[c] == pytest.approx(skm.roc_auc_score(pos, p[:, c]), rel=1e-9)
        assert ap[c] == pytest.approx(skm.average_precision_score(pos, p[:, c]), rel=1e-9)
    assert np.isnan(auc[17]) and ap[17] == 0.0
    for a, b in ((0, 18), (18, 0), (150, 299), (3, 4)):
        both = (y == a) | (y == b)
        expected = skm.roc_auc_score(y[both] == a, p[both, a])
        assert pairs[a, b] / ((y == a).sum() * (y == b).sum()) == pytest.approx(expected, rel=1e-9)


def test_packed_key_sort_refuses_negative_scores():
    from h5eval_widgets.core.metrics.functions import multiclass_rank_stats

    p = np.array([[0.5, 0.5], [-0.25, 1.25]], dtype=np.float32)
    with pytest.raises(ValueError, match="non-negative"):
        multiclass_rank_stats(np.array([0, 1]), p)
