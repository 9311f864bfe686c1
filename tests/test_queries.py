"""The engine's answers to the dashboard's questions (core/queries.py), checked against numpy and scikit-learn."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import metrics as skm

from h5eval_widgets.core import Evaluation
from h5eval_widgets.core.metrics import queries as Q
from tests.helpers import softmax_scores


@pytest.fixture(scope="module")
def multiclass():
    y, p = softmax_scores(np.random.default_rng(0), 600, 5, signal=1.5, dtype=np.float64)
    return Evaluation.from_predictions(y, p)


@pytest.fixture(scope="module")
def regression():
    rng = np.random.default_rng(1)
    y = rng.normal(100, 30, 400)
    return Evaluation.from_predictions(y, y + rng.normal(0, 15, 400), task="regression")


def test_brush_selects_the_samples_inside_the_box_largest_error_first(regression):
    """Check that the brush returns exactly the samples in the box (bounds inclusive, either order),
    sorted by absolute error, largest first."""
    ev = regression
    idx = Q.brush_indices(ev, (150.0, 60.0), (70.0, 140.0))
    inside = (ev.y_true >= 60) & (ev.y_true <= 150) & (ev.y_pred >= 70) & (ev.y_pred <= 140)
    assert sorted(idx.tolist()) == np.flatnonzero(inside).tolist()
    err = np.abs(ev.y_pred[idx] - ev.y_true[idx])
    assert np.all(np.diff(err) <= 0)
    x0 = float(ev.y_true[idx[0]])
    assert idx[0] in Q.brush_indices(ev, (x0, x0), (-1e9, 1e9))  # a bound equal to a value is inside


def test_brush_over_nothing_is_empty(regression):
    """Check that a box with no points gives an empty integer array."""
    idx = Q.brush_indices(regression, (1e6, 2e6), (1e6, 2e6))
    assert idx.shape == (0,) and idx.dtype.kind == "i"


def test_brush_and_residuals_use_the_first_of_several_outputs():
    """Check that with two regression outputs the first one is brushed and histogrammed."""
    rng = np.random.default_rng(2)
    y = rng.normal(size=(50, 2))
    pred = y + rng.normal(0, 0.1, (50, 2))
    ev = Evaluation.from_predictions(y, pred, task="regression")
    t, p = Q.regression_targets(ev)
    np.testing.assert_array_equal(t, y[:, 0])
    inside = np.flatnonzero((y[:, 0] >= 0) & (y[:, 0] <= 1) & (pred[:, 0] >= -5) & (pred[:, 0] <= 5))
    assert sorted(Q.brush_indices(ev, (0, 1), (-5, 5)).tolist()) == inside.tolist()
    _, counts = Q.residual_histogram(ev, bins=7)
    np.testing.assert_array_equal(counts, np.histogram(pred[:, 0] - y[:, 0], bins=7)[0])


def test_residual_histogram_equals_numpy(regression):
    """Check the residual histogram against numpy's on the engine's residuals (bin centers and counts)."""
    centers, counts = Q.residual_histogram(regression, bins=30)
    expected, edges = np.histogram(regression.residuals, bins=30)
    np.testing.assert_array_equal(counts, expected)
    np.testing.assert_allclose(centers, (edges[:-1] + edges[1:]) / 2)
    assert counts.dtype == np.float64 and counts.sum() == regression.n_samples


def test_scatter_subset_is_all_points_or_a_fixed_sorted_sample():
    """Check that small sets draw every point and large ones the same sorted subset on every call."""
    np.testing.assert_array_equal(Q.scatter_subset(10, 20), np.arange(10))
    a, b = Q.scatter_subset(10_000, 500), Q.scatter_subset(10_000, 500)
    np.testing.assert_array_equal(a, b)
    assert len(np.unique(a)) == 500 and np.all(np.diff(a) > 0) and a.max() < 10_000


@pytest.mark.parametrize("n_bins", [1, 5, 10])
def test_confidence_histograms_split_right_and_wrong(multiclass, n_bins):
    """Check the right/wrong confidence histograms against numpy on the predicted class's probability,
    and their totals against scikit-learn's accuracy."""
    ev = multiclass
    df = Q.confidence_histograms(ev, n_bins)
    conf = ev.y_proba.max(axis=1)
    ok = ev.y_true == ev.y_proba.argmax(axis=1)
    edges = np.linspace(0, 1, n_bins + 1)
    np.testing.assert_array_equal(df["right"], np.histogram(conf[ok], bins=edges)[0])
    np.testing.assert_array_equal(df["wrong"], np.histogram(conf[~ok], bins=edges)[0])
    np.testing.assert_allclose(df.index, edges[:-1])
    assert df["right"].sum() == round(skm.accuracy_score(ev.y_true, ev.y_pred) * ev.n_samples)
    assert df.to_numpy().sum() == ev.n_samples


def test_confidence_histograms_binary():
    """Check that a binary evaluation bins the predicted class's probability (never below 0.5)."""
    y = np.array([0, 0, 1, 1, 1])
    score = np.array([0.1, 0.72, 0.8, 0.45, 0.95])
    ev = Evaluation.from_predictions(y, score)
    df = Q.confidence_histograms(ev, 10)
    # right: 0.9 (sample 0), 0.8, 0.95; wrong: 0.72 (sample 1), 0.55 (sample 3)
    assert df["right"].tolist() == [0] * 8 + [1, 2]
    assert df["wrong"].tolist() == [0] * 5 + [1, 0, 1, 0, 0]


def _greedy_pairs(cm, most):
    """The slow way: walk the off-diagonal cells from the largest (ties by row, then column),
    taking both classes of a pair while they fit."""
    k = len(cm)
    cells = sorted(
        ((cm[i][j], i, j) for i in range(k) for j in range(k) if i != j and cm[i][j] > 0),
        key=lambda t: (-t[0], t[1], t[2]),
    )
    chosen = []
    for _, i, j in cells:
        new = [c for c in (i, j) if c not in chosen]
        if len(chosen) + len(new) <= most:
            chosen += new
    return sorted(chosen)


def test_classes_to_draw_follow_the_most_confused_pairs(multiclass):
    """Check the chosen classes against a loop over scikit-learn's confusion matrix's pairs."""
    cm = skm.confusion_matrix(multiclass.y_true, multiclass.y_pred)
    np.testing.assert_array_equal(cm, multiclass.confusion_matrix())
    for most in (2, 3, 4):
        want = _greedy_pairs(cm.tolist(), most)
        if len(want) == most:  # the pairs filled every place
            np.testing.assert_array_equal(Q.classes_to_draw(cm, most), want)
    np.testing.assert_array_equal(Q.classes_to_draw(cm, 5), np.arange(5))
    np.testing.assert_array_equal(Q.classes_to_draw(cm, 9), np.arange(5))


def _planted_confusions(k=1000, n=20000, seed=0):
    """A k-class matrix (rows = true, cols = predicted) with 12 planted pairs of 30-41 mistakes
    each over a background of single scattered mistakes."""
    rng = np.random.default_rng(seed)
    cm = np.zeros((k, k), dtype=np.int64)
    np.add.at(cm, (np.arange(n) % k, np.arange(n) % k), 1)
    noise = rng.integers(0, k, (3000, 2))
    noise = noise[noise[:, 0] != noise[:, 1]]
    np.add.at(cm, (noise[:, 0], noise[:, 1]), 1)
    planted = rng.choice(k, 24, replace=False).reshape(12, 2)
    for m, (a, b) in enumerate(planted):
        cm[a, b] += 30 + m
    return cm, planted


def test_a_thousand_classes_draw_the_top_pairs_and_their_largest_cell():
    """Check with 1000 classes: the drawn classes hold the planted top pairs, the drawn matrix's
    largest off-diagonal cell is the largest pair count, and the covered errors add up."""
    cm, planted = _planted_confusions()
    off = cm.copy()
    np.fill_diagonal(off, 0)
    drawn = Q.classes_to_draw(cm, 15)
    assert len(drawn) == 15
    top = planted[::-1][:7]  # the 7 largest pairs fill 14 places
    assert set(top.ravel()) <= set(drawn.tolist())
    sub = off[np.ix_(drawn, drawn)]
    assert sub.max() == off.max() == 41
    covered, errors = Q.errors_covered(cm, drawn)
    assert (covered, errors) == (sub.sum(), off.sum())
    # the focus class and a selected cell's classes are always drawn
    both = Q.classes_to_draw(cm, 15, focus=int(planted[0, 0]), keep=(5, 6))
    assert {int(planted[0, 0]), 5, 6} <= set(both.tolist()) and len(both) == 15


def test_classes_to_draw_keep_the_focus_class():
    """Check that a focus class outside the most confused is drawn, with the pairs that still fit."""
    # rows = true, cols = predicted: classes 0 and 1 confuse each other, 2 a little, 3 never
    cm = np.array([[5, 9, 1, 0], [8, 5, 0, 0], [1, 0, 5, 0], [0, 0, 0, 5]])
    np.testing.assert_array_equal(Q.classes_to_draw(cm, 2), [0, 1])
    np.testing.assert_array_equal(Q.classes_to_draw(cm, 2, focus=3), [0, 3])
    np.testing.assert_array_equal(Q.classes_to_draw(cm, 3, focus=1), [0, 1, 2])


def test_lowest_classes_by_f1(multiclass):
    """Check the classes with the lowest F1 against scikit-learn's per-class F1, NaN counted lowest."""
    f1 = skm.f1_score(multiclass.y_true, multiclass.y_pred, average=None)
    np.testing.assert_allclose(multiclass.per_class()["f1"], f1)
    np.testing.assert_array_equal(Q.lowest_classes(f1, 2), np.sort(np.argsort(f1)[:2]))
    np.testing.assert_array_equal(Q.lowest_classes([0.5, np.nan, 0.2, 0.9], 2), [1, 2])
    np.testing.assert_array_equal(Q.lowest_classes([0.5, 0.2], 5), [0, 1])


def test_pick_points_keep_finite_thresholds_spread_along_the_curve(multiclass):
    """Check that picked points lie on scikit-learn's PR curve, with finite thresholds, ends included."""
    y = multiclass.y_true == 0
    precision, recall, thr = skm.precision_recall_curve(y, multiclass.y_proba[:, 0])
    thr = np.append(thr, np.inf)  # the last point (recall 0) has no threshold
    x, yy, t = Q.pick_points(recall, precision, thr, most=20)
    assert len(t) == 20 and np.all(np.isfinite(t))
    assert (x[0], t[0]) == (recall[0], thr[0]) and t[-1] == thr[-2]
    for xi, yi, ti in zip(x, yy, t):
        i = int(np.flatnonzero(thr == ti)[0])
        assert (recall[i], precision[i]) == (xi, yi)
    few = Q.pick_points(recall[:5], precision[:5], thr[:5], most=20)
    np.testing.assert_array_equal(few[2], thr[:5])
