"""Issue 36, item 3, headless on the demo dashboard: "details" of a sample shows its nearest
training samples (digits_train, found by its name), the summary's leakage line counts the test
samples with a training near-duplicate and lists them, and the exported report holds the line."""

from __future__ import annotations

import contextlib

import numpy as np
import pytest

from h5eval_widgets.training_sets import training_results


def _train(dash):
    s = dash.state.session
    return s.evaluate(s.pair[0], "digits_train")


@contextlib.contextmanager
def _threshold(dash, value):
    """The leakage line's near-duplicate distance set for the test (the demo's splits have no
    near-copy at the default threshold), put back after."""
    results = training_results(dash.state.session)
    old = results.threshold
    results.threshold = value
    try:
        yield
    finally:
        results.threshold = old


def test_details_shows_the_five_nearest_training_samples(dash):
    st, ev = dash.state, dash.state.session.evaluation
    i = int(st.selected_indices[2])
    dash.samples.cards[2].children[-1].click()  # "details"
    assert st.selected_sample == i
    near = dash.samples.nearest_training
    assert near.box in dash.samples.details.children
    expected = ev.nearest_training([i], _train(dash))
    assert len(expected) == 5
    assert near.shown["train_index"].tolist() == expected["train_index"].tolist()
    alts = [p.children[0].tooltip for p in near.pictures]
    for alt, r in zip(alts, expected.itertuples()):
        assert alt.startswith(f"training sample {r.train_index}: true {r.train_label}, predicted {r.train_prediction}")
    assert "digits_train" in near.heading.value
    dash.samples.close_btn.click()
    assert near.box not in dash.samples.details.children


def test_no_training_set_no_neighbours_and_no_leakage_line(dash):
    st = dash.state
    st.model_name = "breast_cancer_mlp" if "breast_cancer_mlp" in st.session.model_names else st.model_name
    if st.dataset_name != "breast_cancer_test":
        pytest.skip("the demo's tabular model is not named as expected")
    st.selected_sample = int(st.selected_indices[0])
    assert dash.samples.nearest_training.box not in dash.samples.details.children
    assert dash.summary.leakage.box.layout.display == "none"


def test_the_chosen_training_dataset_is_the_one_searched(dash):
    st = dash.state
    with pytest.raises(Exception, match="not a dataset of the session"):
        st.training_dataset = "no_such_data"
    st.training_dataset = "digits_test"  # the test set itself: nothing to show
    st.selected_sample = int(st.selected_indices[0])
    assert dash.samples.nearest_training.box not in dash.samples.details.children
    st.training_dataset = "digits_train"
    assert dash.samples.nearest_training.box in dash.samples.details.children


def test_the_leakage_line_counts_and_lists_the_near_duplicates(dash, tmp_path):
    st, ev, line = dash.state, dash.state.session.evaluation, dash.summary.leakage
    train = _train(dash)
    typical = ev.near_duplicates(train).attrs["typical_distance"]
    with _threshold(dash, 0.7 * typical):
        dash.summary.refresh()
        assert line.box.layout.display is None
        assert line.check in line.box.children  # looked for only when asked
        line.check.click()
        dups = ev.near_duplicates(train, threshold=0.7 * typical)
        assert 0 < len(dups) < ev.n_samples
        assert line.line.value.count(f"{len(dups):,} of {ev.n_samples:,} test samples") == 1
        without = ev.without(dups["test_index"]).scores["accuracy"]
        assert f"Accuracy {without:.3f}" in line.line.value
        line.show_btn.click()
        assert st.selection_label == "test samples with a training near-duplicate"
        assert sorted(np.asarray(st.selected_indices).tolist()) == sorted(dups["test_index"].tolist())
        dash.summary.exported.value = ""
        dash.summary.export.click()
        page = dash.summary.report_path().read_text(encoding="utf-8")
        assert "Training near-duplicates (leakage)" in page
        assert f"<b>{len(dups):,}</b> of {ev.n_samples:,} test samples have a near-duplicate" in page


def test_the_report_holds_the_leakage_line(dash):
    ev, train = dash.state.session.evaluation, _train(dash)
    typical = ev.near_duplicates(train).attrs["typical_distance"]
    report = ev.leakage_report(train, threshold=0.7 * typical, n_boot=100)
    page = ev.to_html(leakage=report)
    n = len(report.attrs["duplicates"])
    assert f"<b>{n:,}</b> of {ev.n_samples:,} test samples" in page
    listed = ", ".join(str(int(i)) for i in report.attrs["duplicates"]["test_index"][:50])
    assert listed in page
    assert "Training near-duplicates" not in ev.to_html()


def test_the_map_colours_the_samples_with_a_training_near_duplicate(dash):
    ev, emb = dash.state.session.evaluation, dash.embedding
    emb.activate()
    assert "training near-duplicate" in emb.color_by.options
    typical = ev.near_duplicates(_train(dash)).attrs["typical_distance"]
    with _threshold(dash, 0.7 * typical):
        emb.color_by.value = "training near-duplicate"
        dups = ev.near_duplicates(_train(dash), threshold=0.7 * typical)
        coloured = np.flatnonzero(np.asarray(emb.scatter._data["leak"].cat.codes))
        assert coloured.tolist() == sorted(dups["test_index"].tolist())
        assert emb.scatter.color()["by"] == "leak"
        assert "training near-duplicate</span>" in emb.key.value
