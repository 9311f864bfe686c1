"""The dashboard driven headless, by the same messages and traits a browser click or slider sends."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import metrics as skm

from h5eval_widgets import Dashboard, Evaluation
from h5eval_widgets.session import Session
from h5eval_widgets.state import EvalState
from tests.helpers import digests, softmax_scores


def test_dashboard_opens_on_the_first_demo_model(dash, demo):
    """Check the initial pair, the dropdowns and a 10x10 matrix equal to scikit-learn's."""
    st = dash.state
    assert (dash.model_dd.value, dash.dataset_dd.value) == ("digits_cnn", "digits_test")
    y = demo.dataset("digits_test").y
    np.testing.assert_array_equal(dash.confusion.heatmap.color, skm.confusion_matrix(y, st.evaluation.y_pred))
    assert list(dash.confusion.heatmap.row) == [str(i) for i in range(10)]
    assert st.status_level == "info"


@pytest.mark.parametrize("cell", [(8, 1), (3, 9), (5, 5)])
def test_clicking_a_cell_shows_exactly_its_samples(dash, cell):
    """Check that clicking cell (i, j) shows exactly the samples with true i and predicted j."""
    st = dash.state
    i, j = cell
    dash.confusion.click_cell(i, j)  # the element_click message a browser click sends
    ev = st.evaluation
    expected = np.flatnonzero((ev.y_true == i) & (ev.y_pred == j))
    assert st.selected_cell == (i, j)
    assert sorted(st.selected_indices.tolist()) == expected.tolist()
    shown = dash.samples.shown_indices
    assert len(shown) == min(len(expected), dash.samples.page_size)
    assert set(shown.tolist()) <= set(expected.tolist())
    captions = [c.children[1].value for c in dash.samples.cards]
    assert len(captions) == len(shown) > 0
    assert all(f"true <b>{i}</b>" in c and f"pred <b>{j}</b>" in c for c in captions)
    assert dash.confusion.heatmap.selected.tolist()[-1] == [i, j]
    assert f"{len(expected)} sample(s)" in dash.confusion.caption.value
    assert f"true {i} · predicted {j} ({len(expected)})" in dash.samples.title.value


def test_paging_and_sample_details(dash):
    """Check paging through the most confident mistakes and one sample's full distribution."""
    st = dash.state
    st.model_name = "digits_weak_mlp"
    n = len(st.selected_indices)
    assert n == int((st.evaluation.y_true != st.evaluation.y_pred).sum()) > dash.samples.page_size
    first = dash.samples.shown_indices.copy()
    dash.samples.next_btn.click()
    assert dash.samples.page == 1 and not set(first) & set(dash.samples.shown_indices)
    dash.samples.cards[0].children[-1].click()  # "details"
    i = int(dash.samples.shown_indices[0])
    assert st.selected_sample == i
    np.testing.assert_allclose(sorted(dash.samples.dist_bars.y), sorted(st.evaluation.y_proba[i]), rtol=1e-6)


def test_threshold_moves_matrix_metrics_and_samples(dash):
    """Check that moving the threshold on the binary demo gives scikit-learn's matrix at that threshold."""
    st = dash.state
    st.model_name = "breast_cancer_mlp"
    assert st.dataset_name == "breast_cancer_test"
    ev = st.evaluation
    score = ev.y_proba[:, 1]
    dash.confusion.click_cell(0, 1)  # false positives
    for t in (0.2, 0.5, 0.85):
        dash.curves.slider.value = t
        pred = (score >= t).astype(int)
        np.testing.assert_array_equal(dash.confusion.heatmap.color, skm.confusion_matrix(ev.y_true, pred))
        assert sorted(st.selected_indices.tolist()) == np.flatnonzero((ev.y_true == 0) & (pred == 1)).tolist()
        f1 = skm.f1_score(ev.y_true, pred)
        assert f"F1 {f1:.3f}" in dash.curves.readout.value
        assert f"data-metric='f1'>{f1:.3f}</td>" in dash.summary.table.value
        assert dash.per_class.frame().loc["malignant", "f1"] == pytest.approx(f1)


def test_best_threshold_buttons(dash):
    """Check that the best-F1 and best-Youden buttons move the threshold to the engine's answers."""
    st = dash.state
    st.model_name = "breast_cancer_mlp"
    dash.curves.best_f1.click()
    assert st.threshold == pytest.approx(st.evaluation.best_threshold("f1"))
    dash.curves.best_j.click()
    assert st.threshold == pytest.approx(st.evaluation.best_threshold("youden"))
    assert dash.curves.slider.value == pytest.approx(st.threshold)


def test_clicking_a_curve_point_sets_the_threshold_there(dash):
    """Check that a click on a dot of the PR (or ROC) curve moves the threshold to that point: the
    matrix is scikit-learn's there and the operating point lands on the clicked dot."""
    st = dash.state
    st.model_name = "breast_cancer_mlp"
    ev, curves = st.evaluation, dash.curves
    score = ev.y_proba[:, 1]
    pr_x, pr_y = np.array(curves.pr_pick.x), np.array(curves.pr_pick.y)
    assert 2 < len(pr_x) <= 150 and len(curves.pick_thresholds["pr"]) == len(pr_x)
    for i in (1, len(pr_x) // 2, len(pr_x) - 2):
        curves.click_curve_point("pr", i)
        t = curves.pick_thresholds["pr"][i]
        assert st.threshold == t
        pred = (score >= t).astype(int)
        np.testing.assert_array_equal(dash.confusion.heatmap.color, skm.confusion_matrix(ev.y_true, pred))
        assert skm.recall_score(ev.y_true, pred) == pytest.approx(pr_x[i])
        assert skm.precision_score(ev.y_true, pred) == pytest.approx(pr_y[i])
        assert (curves.pr_point.x[0], curves.pr_point.y[0]) == pytest.approx((pr_x[i], pr_y[i]))
    j = len(curves.roc_pick.x) // 3
    curves.click_curve_point("roc", j)
    pred = (score >= st.threshold).astype(int)
    assert skm.recall_score(ev.y_true, pred) == pytest.approx(curves.roc_pick.y[j])


def test_switching_model_and_dataset_updates_every_view(dash):
    """Check that a new model updates matrix, per-class bars, curves, summary and samples."""
    st = dash.state
    before = np.array(dash.confusion.heatmap.color)
    dash.model_dd.value = "digits_weak_mlp"
    ev = st.evaluation
    assert ev.model_name == "digits_weak_mlp"
    np.testing.assert_array_equal(dash.confusion.heatmap.color, ev.confusion_matrix())
    assert not np.array_equal(before, dash.confusion.heatmap.color)
    np.testing.assert_allclose(np.array(dash.per_class.bars.y)[2], np.nan_to_num(ev.per_class()["f1"]))
    assert "digits_weak_mlp" in dash.summary.table.value
    assert f"data-metric='accuracy'>{ev.scores['accuracy']:.3f}</td>" in dash.summary.table.value
    roc = ev.roc_curve(st.focus_class)
    np.testing.assert_allclose(dash.curves.roc_line.x, roc["fpr"])
    dash.model_dd.value = "diabetes_mlp"
    assert dash.dataset_dd.value == "diabetes_test" and st.evaluation.task == "regression"
    assert dash.confusion.layout.display == "none" and dash.regression.layout.display is None


def test_focus_class_from_bar_click_drives_curves_and_table(dash):
    """Check that clicking a class's bars makes it the focus class for the curves and the table."""
    st = dash.state
    dash.per_class.click_class(int(dash.per_class.shown[7]))
    assert st.focus_class == 7
    assert dash.class_dd.value == 7
    assert "7 vs rest" in dash.curves.roc_fig.title
    np.testing.assert_allclose(dash.curves.roc_line.y, st.evaluation.roc_curve(7)["tpr"])
    assert "<tr class='h5eval-focus'><td>7</td>" in dash.per_class.table.value


def test_a_bad_pair_shows_an_error_and_keeps_the_last_views(dash):
    """Check that a dataset that does not fit the model is reported and the last good views stay."""
    st = dash.state
    before = np.array(dash.confusion.heatmap.color)
    ev_before = st.evaluation
    dash.dataset_dd.value = "breast_cancer_test"
    assert st.status_level == "error"
    assert "expects (8, 8, 1)" in st.status and "⚠" in dash.status.value
    assert st.evaluation is ev_before
    np.testing.assert_array_equal(dash.confusion.heatmap.color, before)
    dash.confusion.click_cell(1, 8)  # the old views still answer clicks
    expected = np.flatnonzero((ev_before.y_true == 1) & (ev_before.y_pred == 8))
    assert sorted(st.selected_indices.tolist()) == expected.tolist()


def test_a_failing_view_callback_goes_to_the_status_area(dash):
    """Check that an exception inside a view callback lands in the status area, not in the console."""
    st = dash.state
    dash.confusion.click(dash.confusion.heatmap, rowNum=99)  # no columnNum: the callback fails
    assert st.status_level == "error" and "KeyError" in st.status


def test_regression_brush_selects_points(dash):
    """Check that brushing the predicted-vs-actual scatter selects the samples inside the box."""
    st = dash.state
    st.model_name = "diabetes_mlp"
    ev = st.evaluation
    dash.regression.brush.brushing = True
    dash.regression.brush.selected_x = np.array([50.0, 150.0])
    dash.regression.brush.selected_y = np.array([80.0, 200.0])
    dash.regression.brush.brushing = False
    inside = (ev.y_true >= 50) & (ev.y_true <= 150) & (ev.y_pred >= 80) & (ev.y_pred <= 200)
    assert sorted(st.selected_indices.tolist()) == np.flatnonzero(inside).tolist()
    # diabetes samples are tabular: one table row per shown sample (after the header)
    assert len(dash.samples.table.children) - 1 == min(int(inside.sum()), dash.samples.page_size)
    assert "residual" in dash.samples.table.children[0].value


def test_confused_pairs_list_selects_the_cell(dash):
    """Check that choosing a most-confused pair selects that cell."""
    st = dash.state
    st.model_name = "digits_weak_mlp"
    label, cell = dash.pairs.pairs.options[0]
    dash.pairs.pairs.value = cell
    assert st.selected_cell == cell
    assert len(st.selected_indices) == int(label.rsplit(": ", 1)[1])


def test_export_writes_a_static_report_and_touches_no_input(dash, demo):
    """Check that "export HTML report" writes a page and leaves model and data files unchanged."""
    inputs = [*demo.models.values(), *demo.datasets.values()]
    before = digests(inputs)
    dash.summary.export.click()
    path = dash.summary.report_path()
    assert path.exists() and "<!DOCTYPE html>" in path.read_text()
    assert digests(inputs) == before


def test_a_thousand_classes_draw_the_most_confused_ones():
    """Check that a 1000-class evaluation draws only the most confused classes, that a click on
    the largest confusion drawn lists its samples, that "top classes" changes how many are drawn
    and that a class found with the search box is drawn as the focus class.

    How long building the views takes is measured in benchmarks/interaction.py.
    """
    y, p = softmax_scores(np.random.default_rng(0), 20000, 1000, signal=4)
    ev = Evaluation.from_predictions(y, p, dataset_name="synthetic")
    ev.scores, ev.per_class()  # the engine's work, outside the view timing
    d = Dashboard.from_evaluations({"big": ev}, progress=False)
    assert len(d.confusion.shown) == d.confusion.top_n.value == 15
    assert d.confusion.top_n.layout.display is None  # offered above 30 classes
    assert len(d.per_class.bars.x) == 30
    cm = np.asarray(ev.confusion_matrix())
    off = cm.copy()
    np.fill_diagonal(off, 0)
    drawn = np.asarray(d.confusion.heatmap.color).copy()
    np.fill_diagonal(drawn, 0)
    assert drawn.max() == off.max() > 0  # the largest confusion of all is drawn
    r, c = np.unravel_index(drawn.argmax(), drawn.shape)
    i, j = int(d.confusion.shown[r]), int(d.confusion.shown[c])
    d.confusion.click_cell(i, j)
    expected = np.flatnonzero((y == i) & (ev.y_pred == j))
    assert len(expected) == cm[i, j] > 0
    assert sorted(d.state.selected_indices.tolist()) == expected.tolist()
    d.state.selected_cell = None

    covered15 = drawn.sum()
    d.confusion.top_n.value = 40  # what typing 40 in "top classes" sets
    assert len(d.confusion.shown) == 40 and d.confusion.figure.title.startswith("40 of 1000 classes")
    drawn40 = np.asarray(d.confusion.heatmap.color).copy()
    np.fill_diagonal(drawn40, 0)
    np.testing.assert_array_equal(drawn40, off[np.ix_(d.confusion.shown, d.confusion.shown)])
    assert drawn40.sum() > covered15
    d.confusion.top_n.value = 15
    assert len(d.confusion.shown) == 15

    hidden = next(k for k in range(1000) if k not in d.confusion.shown)
    d.pairs.search.value = ev.classes[hidden]  # a class typed in "find class"
    assert d.state.focus_class == hidden
    assert hidden in d.confusion.shown and len(d.confusion.shown) == 15
    d.pairs.search.value = "no such class"  # not a class: nothing changes
    assert d.state.focus_class == hidden


def test_a_thousand_classes_draw_the_confused_pairs_and_the_list_selects_their_cells():
    """Check with 1000 classes and planted confusions: the matrix's largest drawn off-diagonal
    cell is the top pair, its title counts the errors it covers, and choosing a pair in the
    confused list selects the same samples as ``cell_indices`` and draws that cell."""
    from tests.test_queries import _planted_confusions

    cm, planted = _planted_confusions()
    true, pred = np.nonzero(cm)
    counts = cm[true, pred]
    y, y_pred = np.repeat(true, counts), np.repeat(pred, counts)
    k = len(cm)
    p = np.full((len(y), k), 0.5 / (k - 1), dtype=np.float32)
    p[np.arange(len(y)), y_pred] = 0.5
    ev = Evaluation.from_predictions(y, p, dataset_name="planted")
    np.testing.assert_array_equal(ev.confusion_matrix(), cm)
    d = Dashboard.from_evaluations({"big": ev}, progress=False)
    drawn = np.asarray(d.confusion.heatmap.color)
    off = drawn.copy()
    np.fill_diagonal(off, 0)
    a, b = planted[-1]  # the largest planted pair: 41 mistakes
    assert off.max() == cm[a, b] == 41
    covered = off.sum()
    assert f"hold {covered:,.0f} of {len(y) - np.trace(cm):,.0f} errors" in d.confusion.figure.title
    # a pair far down the list, whose classes are not drawn yet
    options = d.pairs.pairs.options
    label, cell = next((lab, c) for lab, c in options if not (c[0] in d.confusion.shown and c[1] in d.confusion.shown))
    d.pairs.pairs.value = cell  # what choosing the entry in the browser sets
    assert d.state.selected_cell == cell
    np.testing.assert_array_equal(d.state.selected_indices, ev.cell_indices(*cell))
    assert len(d.state.selected_indices) == int(label.rsplit(": ", 1)[1])
    assert cell[0] in d.confusion.shown and cell[1] in d.confusion.shown
    pos = {c: i for i, c in enumerate(d.confusion.shown)}
    assert [pos[cell[0]], pos[cell[1]]] in np.asarray(d.confusion.heatmap.selected).tolist()


def test_dashboard_from_a_folder(tmp_path, multiclass_h5, blobs, plain_predict):
    """Check that ``Dashboard("path/to/folder")`` (and EvalState.from_folder) scans a folder with
    model files and a data file into the dropdowns and opens on the model's outputs."""
    import shutil

    _, _, Xte, yte = blobs
    shutil.copy(multiclass_h5, tmp_path / "mlp.h5")
    shutil.copy(multiclass_h5, tmp_path / "mlp_copy.h5")
    np.savez(tmp_path / "mlp_test.npz", x=Xte, y=yte)
    (tmp_path / "notes.txt").write_text("neither a model nor data")
    st = EvalState(session=Session.from_folder(tmp_path, progress=False))
    assert st.model_names == ["mlp", "mlp_copy"] and st.dataset_names == ["mlp_test"]
    d = Dashboard(str(tmp_path), progress=False, export_dir=tmp_path / "out")
    assert list(d.model_dd.options) == ["mlp", "mlp_copy"] and list(d.dataset_dd.options) == ["mlp_test"]
    ev = d.state.evaluation
    assert (ev.model_name, ev.dataset_name, ev.n_samples) == ("mlp", "mlp_test", len(yte))
    np.testing.assert_allclose(ev.y_proba, plain_predict(multiclass_h5, Xte), rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(ev.y_true, yte)


def test_text_samples_are_shown_as_text():
    """Check that a text dataset's samples appear as their text, with label and prediction."""
    from h5eval_widgets.core import load_dataset

    texts = np.array(["great film", "dull plot", "loved it", "fell asleep"])
    y = np.array([1, 0, 1, 0])
    score = np.array([0.9, 0.6, 0.8, 0.2])
    data = load_dataset(texts, y, name="reviews")
    assert data.kind == "text"
    ev = Evaluation.from_predictions(y, score, classes=["neg", "pos"], dataset_name="reviews")
    d = Dashboard.from_evaluations({"sentiment": ev}, {"reviews": data}, progress=False)
    d.confusion.click_cell(0, 1)
    assert d.state.selected_indices.tolist() == [1]
    card = d.samples.cards[0]
    assert "dull plot" in card.children[0].value and "true <b>neg</b>" in card.children[1].value
