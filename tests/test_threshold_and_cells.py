"""Thresholds from the sorted-score index, per-cell sample lookups and bootstrap intervals."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import metrics as skm

from h5eval_widgets.core import Evaluation
from tests.helpers import binary_scores


@pytest.fixture(scope="module")
def binary_eval():
    y, score = binary_scores(np.random.default_rng(0), 3000, decimals=3)
    return y, score, Evaluation.from_predictions(y, score)


@pytest.mark.parametrize("t", [0.0, 0.1, 0.25, 0.5, 0.5005, 0.73, 0.999, 1.0, 1.5])
def test_confusion_at_threshold_equals_sklearn(binary_eval, t):
    """Check that the matrix and metrics at threshold t equal scikit-learn on score >= t."""
    y, score, ev = binary_eval
    pred = (score >= t).astype(int)
    res = ev.at_threshold(t)
    np.testing.assert_array_equal(res.confusion, skm.confusion_matrix(y, pred, labels=[0, 1]))
    assert res.recall == pytest.approx(skm.recall_score(y, pred))
    assert res.accuracy == pytest.approx(skm.accuracy_score(y, pred))
    if pred.sum():
        assert res.precision == pytest.approx(skm.precision_score(y, pred))
        assert res.f1 == pytest.approx(skm.f1_score(y, pred))
    else:
        assert np.isnan(res.precision)


@pytest.mark.parametrize("t", [0.2, 0.5, 0.8])
def test_cells_at_threshold_hold_exactly_those_samples(binary_eval, t):
    """Check each 2x2 cell at t lists exactly the samples with that (true, predicted), most confident first."""
    y, score, ev = binary_eval
    pred = (score >= t).astype(int)
    cells = ev.cells_at_threshold(t)
    assert set(cells) == {(0, 0), (0, 1), (1, 0), (1, 1)}
    together = np.sort(np.concatenate(list(cells.values())))
    np.testing.assert_array_equal(together, np.arange(len(y)))  # each sample in exactly one cell
    assert sum(len(idx) > 0 for idx in cells.values()) >= 3  # (at 0.2 no false negative, at 0.8 no false positive)
    for (i, j), idx in cells.items():
        assert set(idx.tolist()) == set(np.flatnonzero((y == i) & (pred == j)).tolist())
        conf = score[idx] if j == 1 else 1 - score[idx]
        assert np.all(np.diff(conf) <= 1e-12)


def test_best_thresholds_equal_brute_force(binary_eval):
    """Check best-F1 and best-Youden thresholds against a scan of every distinct score."""
    y, score, ev = binary_eval
    cands = np.unique(score)
    f1 = [skm.f1_score(y, score >= t) for t in cands]
    fpr, tpr, thr = skm.roc_curve(y, score)
    assert skm.f1_score(y, score >= ev.best_threshold("f1")) == pytest.approx(max(f1))
    best_j = np.max(tpr - fpr)
    t = ev.best_threshold("youden")
    pred = score >= t
    j = skm.recall_score(y, pred) - (1 - skm.recall_score(1 - y, 1 - pred))
    assert j == pytest.approx(best_j)


def test_with_threshold_moves_class_predictions(binary_eval):
    """Check that a new threshold gives the same metrics as scikit-learn at that threshold."""
    y, score, ev = binary_eval
    ev2 = ev.with_threshold(0.7)
    assert ev2.scores["f1"] == pytest.approx(skm.f1_score(y, score >= 0.7))
    assert ev.scores["f1"] == pytest.approx(skm.f1_score(y, score >= 0.5))  # the original is unchanged


def test_one_vs_rest_threshold_for_a_multiclass_focus_class():
    """Check class c against the rest at a threshold on its probability column."""
    rng = np.random.default_rng(1)
    y = rng.integers(0, 4, 1000)
    p = rng.dirichlet(np.ones(4), size=1000)
    ev = Evaluation.from_predictions(y, p, classes=["a", "b", "c", "d"])
    res = ev.at_threshold(0.3, pos_class="c")
    np.testing.assert_array_equal(res.confusion, skm.confusion_matrix(y == 2, p[:, 2] >= 0.3))
    with pytest.raises(ValueError, match="pos_class is needed"):
        ev.at_threshold(0.3)


def test_cell_indices_are_the_cell_and_ordered_by_confidence():
    """Check that clicking cell (i, j) would list exactly the samples with true i and predicted j."""
    rng = np.random.default_rng(2)
    y = rng.integers(0, 5, 2000)
    p = rng.dirichlet(np.ones(5) * 0.7, size=2000)
    ev = Evaluation.from_predictions(y, p)
    pred = p.argmax(1)
    for i in range(5):
        for j in range(5):
            idx = ev.cell_indices(i, j)
            assert sorted(idx.tolist()) == np.flatnonzero((y == i) & (pred == j)).tolist()
            assert np.all(np.diff(p[idx, j]) <= 0)
    assert ev._cells.counts().tolist() == ev.confusion_matrix().tolist()
    mistakes = ev.most_confident_mistakes(10)
    assert np.all(y[mistakes] != pred[mistakes])
    assert p.max(1)[mistakes].min() >= p.max(1)[y != pred][np.argsort(-p.max(1)[y != pred])[9]]


def test_cell_indices_accept_class_names_and_reject_unknown():
    """Check lookups by class name and a clear error for a name that is not a class."""
    y = np.array([0, 1, 1, 0])
    p = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.3, 0.7]])
    ev = Evaluation.from_predictions(y, p, classes=["neg", "pos"])
    assert ev.cell_indices("pos", "neg").tolist() == [2]
    with pytest.raises(ValueError, match="'cat' is not a class"):
        ev.cell_indices("cat", "neg")


def test_bootstrap_is_reproducible_and_matches_index_resampling():
    """Check that seeded intervals repeat, contain the estimate, and agree with naive resampling."""
    y, score = binary_scores(np.random.default_rng(3), 600)
    ev = Evaluation.from_predictions(y, score)
    a = ev.bootstrap(400, seed=5)
    b = Evaluation.from_predictions(y, score).bootstrap(400, seed=5)
    assert a.equals(b)
    assert np.all(a["low"] <= a["value"]) and np.all(a["value"] <= a["high"])
    # the same intervals by resampling sample indices, the textbook way
    r = np.random.default_rng(9)
    acc, auc = [], []
    for _ in range(400):
        i = r.integers(0, 600, 600)
        acc.append(skm.accuracy_score(y[i], score[i] >= 0.5))
        auc.append(skm.roc_auc_score(y[i], score[i]))
    assert a.loc["accuracy", "low"] == pytest.approx(np.quantile(acc, 0.025), abs=0.012)
    assert a.loc["accuracy", "high"] == pytest.approx(np.quantile(acc, 0.975), abs=0.012)
    # the AUC's interval is DeLong's, which a score bootstrap approximates
    assert a.loc["roc_auc", "method"] == "DeLong"
    assert a.loc["roc_auc", "low"] == pytest.approx(np.quantile(auc, 0.025), abs=0.012)
    assert a.loc["roc_auc", "high"] == pytest.approx(np.quantile(auc, 0.975), abs=0.012)


def test_many_matrices_at_once_equal_one_at_a_time():
    """Check the vectorized bootstrap scorer against scores_from_confusion on random matrices."""
    from h5eval_widgets.core.metrics.functions import scores_from_cell_draws, scores_from_confusion

    rng = np.random.default_rng(4)
    k = 6
    cms = rng.integers(0, 5, size=(20, k, k))
    cms[3, :, 2] = 0  # a class never predicted
    cms[4, 1, :] = 0  # a class never present
    r, c = np.nonzero(np.ones((k, k)))
    got = scores_from_cell_draws(cms.reshape(20, -1), r, c, k)
    for b in range(20):
        want = scores_from_confusion(cms[b])
        for name in ("accuracy", "balanced_accuracy", "f1_macro", "cohen_kappa", "mcc"):
            assert got[name][b] == pytest.approx(want[name], nan_ok=True), name
        np.testing.assert_allclose(got["precision"][b], want["precision"])


def test_weighted_bootstrap_runs_and_brackets_the_estimate():
    """Check that bootstrap intervals with sample weights contain the weighted estimate."""
    rng = np.random.default_rng(5)
    y = rng.integers(0, 3, 400)
    p = rng.dirichlet(np.ones(3), size=400)
    p[np.arange(400), y] += 0.5
    p /= p.sum(1, keepdims=True)
    w = rng.uniform(0.5, 2, 400)
    ci = Evaluation.from_predictions(y, p, sample_weight=w).bootstrap(200, seed=1)
    assert ci.loc["accuracy", "value"] == pytest.approx(skm.accuracy_score(y, p.argmax(1), sample_weight=w))
    assert np.all(ci["low"] <= ci["value"]) and np.all(ci["value"] <= ci["high"])


def test_delong_interval_matches_the_textbook_formula():
    """Check DeLong's AUC interval against a direct O(n_pos * n_neg) computation, with ties."""
    from statistics import NormalDist

    from h5eval_widgets.core.metrics.functions import binary_curve, roc_auc_delong_interval

    y, s = binary_scores(np.random.default_rng(6), 300, decimals=2)
    pos, neg = s[y == 1], s[y == 0]
    psi = (pos[:, None] > neg[None, :]) + 0.5 * (pos[:, None] == neg[None, :])
    auc = psi.mean()
    v10, v01 = psi.mean(axis=1), psi.mean(axis=0)
    se = np.sqrt(v10.var(ddof=1) / len(pos) + v01.var(ddof=1) / len(neg))
    z = NormalDist().inv_cdf(0.975)
    lo, hi = roc_auc_delong_interval(binary_curve(y, s))
    assert auc == pytest.approx(skm.roc_auc_score(y, s))
    assert lo == pytest.approx(auc - z * se) and hi == pytest.approx(auc + z * se)
