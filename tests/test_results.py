"""Result classes per task, decisions at a threshold, the resampling module, lazy ranking stats."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import metrics as skm

from h5eval_widgets import (
    BinaryEvaluation,
    Evaluation,
    MulticlassEvaluation,
    MultilabelEvaluation,
    RegressionEvaluation,
)
from h5eval_widgets.core.metrics import resampling
from tests.helpers import binary_scores, softmax_scores


def _binary(n=600, seed=0):
    return binary_scores(np.random.default_rng(seed), n, lean=0.4)


def _multiclass(n=900, k=4, seed=0):
    return softmax_scores(np.random.default_rng(seed), n, k, signal=1.5)


def test_from_predictions_returns_the_class_of_each_task():
    """Check that each task gets its result class, whose headline metric is scikit-learn's on the
    same predictions (accuracy at 0.5 or arg-max, subset accuracy, mean squared error)."""
    y, p = _binary()
    yk, pk = _multiclass()
    rng = np.random.default_rng(1)
    ym, pm = rng.random((50, 3)) > 0.5, rng.random((50, 3))
    yr, pr = rng.normal(size=40), rng.normal(size=40)
    cases = {
        BinaryEvaluation: (Evaluation.from_predictions(y, p), "accuracy", skm.accuracy_score(y, p >= 0.5)),
        MulticlassEvaluation: (Evaluation.from_predictions(yk, pk), "accuracy", skm.accuracy_score(yk, pk.argmax(1))),
        MultilabelEvaluation: (
            Evaluation.from_predictions(ym, pm, task="multilabel"),
            "subset_accuracy",
            skm.accuracy_score(ym, pm >= 0.5),
        ),
        RegressionEvaluation: (
            Evaluation.from_predictions(yr, pr, task="regression"),
            "mse",
            skm.mean_squared_error(yr, pr),
        ),
    }
    for cls, (ev, key, expected) in cases.items():
        assert type(ev) is cls and isinstance(ev, Evaluation)
        assert ev.task == cls.task_name
        assert list(ev.scores)[0] == key
        assert ev.scores[key] == pytest.approx(expected), cls.__name__
    assert 0.5 < cases[BinaryEvaluation][2] < 1 and 0.3 < cases[MulticlassEvaluation][2] < 1  # not trivial


def test_a_method_of_another_task_names_the_tasks_that_have_it():
    yk, pk = _multiclass()
    ev = Evaluation.from_predictions(yk, pk)
    with pytest.raises(AttributeError, match="residuals is defined for regression evaluations; this one is multiclass"):
        ev.residuals
    reg = Evaluation.from_predictions(np.arange(5.0), np.arange(5.0) + 1, task="regression")
    with pytest.raises(
        AttributeError, match="confusion_matrix is defined for binary and detection and multiclass and multilabel"
    ):
        reg.confusion_matrix()
    assert not hasattr(reg, "cell_indices") and hasattr(ev, "cell_indices")
    with pytest.raises(AttributeError, match="no attribute 'nonsense'"):
        ev.nonsense


@pytest.mark.parametrize("t", [0.2, 0.5, 0.73])
def test_decisions_at_a_threshold_match_a_fresh_evaluation_and_sklearn(t):
    y, p = _binary()
    ev = Evaluation.from_predictions(y, p)
    dec = ev.decisions(t)
    fresh = Evaluation.from_predictions(y, p, threshold=t)
    pred = (p >= t).astype(int)
    np.testing.assert_array_equal(dec.confusion, skm.confusion_matrix(y, pred))
    np.testing.assert_array_equal(dec.y_pred, pred)
    assert dec.scores.keys() == fresh.scores.keys()
    for k, v in fresh.scores.items():
        assert dec.scores[k] == pytest.approx(v, nan_ok=True), k
    assert dec.scores["f1"] == pytest.approx(skm.f1_score(y, pred))
    assert dec.scores["mcc"] == pytest.approx(skm.matthews_corrcoef(y, pred))
    np.testing.assert_allclose(
        dec.per_class()[["precision", "recall", "f1"]].to_numpy(),
        fresh.per_class()[["precision", "recall", "f1"]].to_numpy(),
    )
    for i in (0, 1):
        for j in (0, 1):
            assert set(dec.cell(i, j)) == set(np.flatnonzero((y == i) & (pred == j)))
            np.testing.assert_array_equal(np.sort(dec.cell(i, j)), np.sort(fresh.cell_indices(i, j)))
    # the mistakes, most confident first: the confidence of the prediction never rises
    wrong = dec.mistakes()
    assert set(wrong) == set(np.flatnonzero(y != pred))
    conf = np.where(pred[wrong] == 1, p[wrong], 1 - p[wrong])
    assert np.all(np.diff(conf) <= 1e-12)
    # with_threshold is the same evaluation as a fresh one, sharing the sorted indexes
    ev.per_class()
    moved = ev.with_threshold(t)
    assert type(moved) is BinaryEvaluation and moved.threshold == t
    assert moved.rank_stats is ev.rank_stats
    np.testing.assert_array_equal(moved.confusion_matrix(), dec.confusion)
    assert moved.scores == pytest.approx(fresh.scores, nan_ok=True)


def test_multiclass_decisions_are_the_evaluations_own():
    yk, pk = _multiclass()
    ev = Evaluation.from_predictions(yk, pk)
    dec = ev.decisions(0.9)  # arg-max decisions have no threshold
    assert dec.threshold is None and dec.scores is ev.scores
    np.testing.assert_array_equal(dec.confusion, skm.confusion_matrix(yk, pk.argmax(1)))
    np.testing.assert_array_equal(dec.cell(1, 2), ev.cell_indices(1, 2))
    np.testing.assert_array_equal(dec.mistakes(), ev.most_confident_mistakes(None))


def test_ranking_statistics_wait_until_asked_for():
    y, p = _multiclass(n=20_000, k=100, seed=3)
    ev = Evaluation.from_predictions(y, p)
    cm = ev.confusion_matrix()
    first = ev.matrix_scores
    assert "rank_stats" not in ev.__dict__  # no column sorted for the matrix and its metrics
    assert first["accuracy"] == pytest.approx(skm.accuracy_score(y, p.argmax(1)))
    assert cm.sum() == len(y)
    assert ev.scores["roc_auc_ovo_macro"] == pytest.approx(
        skm.roc_auc_score(y, p / p.sum(1, keepdims=True), multi_class="ovo"), abs=1e-6
    )
    assert "rank_stats" in ev.__dict__
    # the one-vs-one AUC reads the same sorts, whichever is asked first
    ev2 = Evaluation.from_predictions(y, p)
    assert ev2.roc_auc_ovo() == ev.roc_auc_ovo()


def test_bootstrap_blocks_do_not_change_the_replicates(monkeypatch):
    yk, pk = _multiclass(n=3000)
    ev = Evaluation.from_predictions(yk, pk)
    whole = ev.bootstrap(200, seed=4)
    monkeypatch.setattr(resampling, "BLOCK_BYTES", 8 * 16 * 7)  # a handful of replicates per block
    again = Evaluation.from_predictions(yk, pk).bootstrap(200, seed=4)
    np.testing.assert_allclose(again[["low", "high"]].to_numpy(), whole[["low", "high"]].to_numpy())
    lo, hi = whole.loc["accuracy", ["low", "high"]]
    assert lo < ev.scores["accuracy"] < hi and hi - lo < 0.06


def test_resample_groups_is_the_sample_bootstrap_in_distribution():
    rng = np.random.default_rng(0)
    codes = rng.integers(0, 5, 400)
    reps = resampling.resample_groups(codes, 4000, lambda g, c: {"share0": c[:, list(g).index(0)] / c.sum(1)}, seed=1)[
        "share0"
    ]
    p0 = np.mean(codes == 0)
    assert reps.mean() == pytest.approx(p0, abs=0.003)
    assert reps.std() == pytest.approx(np.sqrt(p0 * (1 - p0) / 400), rel=0.08)
    # weighted: counts become sums of the drawn samples' weights
    w = np.where(codes == 0, 2.0, 1.0)
    wreps = resampling.resample_groups(
        codes, 2000, lambda g, c: {"share0": c[:, list(g).index(0)] / c.sum(1)}, seed=1, sample_weight=w
    )["share0"]
    assert wreps.mean() == pytest.approx(np.sum(w * (codes == 0)) / w.sum(), abs=0.005)


def test_resample_means_bounded_blocks(monkeypatch):
    rng = np.random.default_rng(2)
    x = rng.normal(size=(500, 2))
    a = resampling.resample_means(x, 300, seed=5)
    monkeypatch.setattr(resampling, "BLOCK_BYTES", 8 * 500 * 3)
    b = resampling.resample_means(x, 300, seed=5)
    np.testing.assert_allclose(a, b)
    assert a.shape == (300, 2)
    assert a[:, 0].std() == pytest.approx(x[:, 0].std() / np.sqrt(500), rel=0.15)
