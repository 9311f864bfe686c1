"""Likely label errors: cleanlab's confident learning on the engine's probabilities."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from h5eval_widgets import Evaluation
from h5eval_widgets.core import H5EvalError


@pytest.fixture(scope="module")
def flipped(demo):
    """The digits CNN's test outputs with the labels of a known 5% of the samples changed to
    another class (seeded)."""
    ev = demo.evaluate("digits_cnn", progress=False)
    rng = np.random.default_rng(7)
    n = ev.n_samples
    flip = rng.choice(n, size=n // 20, replace=False)
    y = ev.y_true.copy()
    y[flip] = (y[flip] + rng.integers(1, ev.n_classes, len(flip))) % ev.n_classes
    return Evaluation.from_predictions(y, ev.y_proba, classes=ev.classes), flip


def test_label_issues_equal_cleanlabs_and_recover_the_flipped_labels(flipped):
    """Check label_issues() against cleanlab's find_label_issues on the same probabilities (same
    samples in the same order, its self-confidence and suggested class), and that it finds most
    of the flipped labels (measured: 33 of the 35 flipped among 35 flagged, recall and precision 0.94)."""
    from cleanlab.filter import find_label_issues

    ev, flip = flipped
    got = ev.label_issues()
    want = find_label_issues(
        ev.y_true,
        np.asarray(ev.y_proba, dtype=np.float64),
        filter_by="prune_by_noise_rate",
        return_indices_ranked_by="self_confidence",
    )
    np.testing.assert_array_equal(got["index"], want)
    p = np.asarray(ev.y_proba, dtype=np.float64)
    np.testing.assert_allclose(got["self_confidence"], p[want, ev.y_true[want]])
    assert got["suggested"].tolist() == [ev.classes[c] for c in p[want].argmax(1)]
    assert got["given"].tolist() == [ev.classes[c] for c in ev.y_true[want]]
    assert np.all(np.diff(got["self_confidence"]) >= 0)  # likeliest errors first
    found = np.intersect1d(got["index"], flip)
    recall, precision = len(found) / len(flip), len(found) / len(got)
    assert recall >= 0.9 and precision >= 0.8, (recall, precision)


def test_the_dashboard_lists_the_likely_mislabelled_and_says_to_use_held_out_data(dash):
    """Check that "likely mislabelled" shows label_issues()'s samples in its order, with the
    warning about held-out data beside it, and "most confident mistakes" goes back."""
    st = dash.state
    st.model_name = "digits_weak_mlp"  # 124 likely label errors (the digits CNN has none)
    dash.pairs.issues_btn.click()
    want = st.evaluation.label_issues()["index"].to_numpy()
    assert len(want) > dash.samples.page_size
    np.testing.assert_array_equal(st.selected_indices, want)
    assert st.selection_label == f"Likely mislabelled ({len(want)})"
    assert "held-out data" in dash.pairs.issues_note.value
    captions = [next(w.value for w in c.children if "#" in getattr(w, "value", "")) for c in dash.samples.cards]
    shown = [int(t.split("#")[1].split()[0]) for t in captions]
    assert shown == want[: dash.samples.page_size].tolist()
    dash.pairs.mistakes_btn.click()
    assert st.selection_label.startswith("Most confident mistakes")


def test_without_cleanlab_the_error_says_what_to_install(flipped, monkeypatch):
    """Check the message when cleanlab cannot be imported."""
    monkeypatch.setitem(sys.modules, "cleanlab", None)
    monkeypatch.setitem(sys.modules, "cleanlab.filter", None)
    ev, _ = flipped
    fresh = Evaluation.from_predictions(ev.y_true, ev.y_proba, classes=ev.classes)
    with pytest.raises(H5EvalError, match=r"pip install 'h5eval-widgets\[insight\]'"):
        fresh.label_issues()


def test_the_matrix_counts_each_cells_likely_label_errors(dash):
    """Check that "label errors" makes the matrix show, per (true, predicted) cell, how many of
    its samples label_issues() flags (counted from its frame here), and that a click on a cell
    still selects all of that cell's samples."""
    st, view = dash.state, dash.confusion
    st.model_name = "digits_weak_mlp"
    ev = st.evaluation
    frame = ev.label_issues()
    want = np.zeros((ev.n_classes, ev.n_classes), int)
    for i in frame["index"]:
        want[ev.y_true[i], ev.y_pred[i]] += 1
    view.issues_toggle.value = True
    assert st.count_label_issues
    np.testing.assert_array_equal(view.heatmap.color, want)
    assert view.heatmap.display_format == ".0f"
    assert f"{len(frame)} of {ev.n_samples}" in view.figure.title
    t, p = np.unravel_index(np.argmax(want - np.diag(np.diag(want))), want.shape)
    view.click_cell(int(t), int(p))
    np.testing.assert_array_equal(np.sort(st.selected_indices), np.sort(ev.cell_indices(int(t), int(p))))
    assert want[t, p] > 0 and len(st.selected_indices) >= want[t, p]
    view.issues_toggle.value = False
    np.testing.assert_array_equal(view.heatmap.color, ev.confusion_matrix())
