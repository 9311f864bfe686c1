"""The session (models, datasets, loading, status, results) and the selection state's validation."""

from __future__ import annotations

import numpy as np
import pytest
import traitlets as T

from h5eval_widgets import Dashboard, Evaluation
from h5eval_widgets.session import Session, scan_folder
from h5eval_widgets.state import EvalState
from h5eval_widgets.views._draw import html_table


def _multiclass(seed: int = 0, n: int = 300, k: int = 4, name: str = "data") -> Evaluation:
    """A 4-class evaluation of the same 300 labels; ``seed`` changes the predictions."""
    y = np.random.default_rng(0).integers(0, k, n)
    logits = np.random.default_rng(seed + 1).normal(size=(n, k))
    logits[np.arange(n), y] += 1.0
    p = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    return Evaluation.from_predictions(y, p, dataset_name=name)


@pytest.fixture()
def state():
    return EvalState(session=Session.from_evaluations({"a": _multiclass(0), "b": _multiclass(1)}, progress=False))


def test_state_publishes_the_sessions_results(state):
    """Check that choosing a model opens it in the session, and the state forwards what it published."""
    s = state.session
    assert isinstance(s, Session) and s.model_names == ["a", "b"] and s.dataset_names == ["data"]
    assert state.evaluation is s.evaluation and s.pair == ("a", "data")
    assert s.status == "a on data: 300 samples, 4 classes." and state.status == s.status
    seen = []
    s.observe(lambda c: seen.append(c["new"]), names="evaluation")
    state.model_name = "b"
    assert seen == [s.evaluate("b", "data")] and state.evaluation is seen[0]
    assert state.focus_class == 0 and state.selected_cell is None


def test_a_new_evaluation_resets_the_selection(state):
    """Check that opening another model clears the cell and the sample and shows its mistakes."""
    state.selected_cell = (1, 2)
    state.selected_sample = 5
    state.model_name = "b"
    ev = state.evaluation
    assert state.selected_cell is None and state.selected_sample is None
    assert sorted(state.selected_indices.tolist()) == np.flatnonzero(ev.y_true != ev.y_pred).tolist()


def test_comparison_lives_in_the_session(state):
    """Check that compare_model (a selection) makes the session publish a comparison, and None clears it."""
    state.compare_model = "b"
    cmp_ = state.session.comparison
    assert cmp_ is not None and cmp_.a is state.evaluation and state.comparison is cmp_
    state.compare_model = "a"  # the chosen model itself
    assert state.comparison is None and "different model" in state.status
    state.compare_model = None
    assert state.comparison is None


@pytest.mark.parametrize(
    "trait,value,pattern",
    [
        ("model_name", "nope", r"one of the session's names \['a', 'b'\]; got 'nope'"),
        ("compare_model", "nope", "one of the session's names"),
        ("dataset_name", "test", r"\['data'\]; got 'test'"),
        ("focus_class", 4, r"\[0, 3\]; got 4"),
        ("focus_class", -1, r"\[0, 3\]"),
        ("normalize", "all", r"\[None, 'true', 'pred'\]; got 'all'"),
        ("selected_cell", (0, 4), r"outside the 4x4 matrix"),
        ("selected_cell", (0, 1, 2), r"\(true, predicted\) pair"),
        ("selected_indices", np.array([0, 300]), r"\[0, 299\]"),
        ("selected_indices", np.array([True, False]), "np.flatnonzero"),
        ("selected_indices", np.zeros((2, 2), int), "1-D"),
        ("selected_sample", 300, r"\[0, 299\]; got 300"),
        ("threshold", float("nan"), "finite"),
    ],
)
def test_every_selection_trait_rejects_bad_values(state, trait, value, pattern):
    """Check that each selection trait rejects a value outside what the session's results allow,
    naming the value, and keeps its last value."""
    before = getattr(state, trait)
    with pytest.raises(T.TraitError, match=pattern):
        setattr(state, trait, value)
    assert getattr(state, trait) is before or getattr(state, trait) == before


def test_selection_values_are_normalized(state):
    """Check the accepted forms: thresholds clipped, cells as int pairs, index lists as arrays, one-line labels."""
    state.threshold = 1.7
    assert state.threshold == 1.0
    state.selected_cell = (np.int64(2), 1)
    assert state.selected_cell == (2, 1) and type(state.selected_cell[0]) is int
    state.selected_indices = [3, 1]
    assert isinstance(state.selected_indices, np.ndarray) and state.selected_indices.tolist() == [3, 1]
    state.selected_indices = []
    assert state.selected_indices.dtype == np.int64 and len(state.selected_indices) == 0
    state.selection_label = "two\nlines"
    assert state.selection_label == "two lines"
    for mode in (None, "true", "pred"):
        state.normalize = mode
        assert state.normalize == mode


def test_regression_has_no_focus_class_or_cells():
    """Check that a regression evaluation takes no focus class and no matrix cell."""
    y = np.linspace(0, 1, 50)
    ev = Evaluation.from_predictions(y, y + 0.1, task="regression", dataset_name="d")
    st = EvalState(session=Session.from_evaluations({"r": ev}, progress=False))
    assert st.focus_class is None
    with pytest.raises(T.TraitError, match="None for a regression"):
        st.focus_class = 0
    with pytest.raises(T.TraitError, match="outside the 0x0 matrix"):
        st.selected_cell = (0, 0)


def test_a_pair_without_a_model_file_reports_and_keeps_the_results(state):
    """Check that a dataset no evaluation was given for is an error in the status, the last results stay."""
    state.session.dataset_names = ["data", "other"]
    state.session.datasets["other"] = None
    ev = state.evaluation
    state.dataset_name = "other"
    assert state.status_level == "error" and "no model file" in state.status
    assert state.evaluation is ev


def test_split_report_of_a_model_known_only_by_its_evaluations(state):
    """Check that the split report lists the datasets it was evaluated on, and why the others are missing."""
    state.session.datasets["other"] = None
    state.session.dataset_names = ["data", "other"]
    rep = state.session.split_report("a", tolerance=0.1)
    assert list(rep.evaluations) == ["data"] and rep.evaluations["data"] is state.evaluation
    assert rep.errors == {"other": "no model file to evaluate it"} and rep.tolerance == 0.1


def test_scan_folder_tells_models_from_data(tmp_path, multiclass_h5):
    """Check that the folder scan takes .h5 model files as models and .h5/.npz data files as datasets."""
    import shutil

    import h5py

    shutil.copy(multiclass_h5, tmp_path / "net.h5")
    with h5py.File(tmp_path / "table.h5", "w") as f:
        f["x"] = np.zeros((3, 2))
    np.savez(tmp_path / "net_test.npz", x=np.zeros((3, 2)), y=np.zeros(3))
    (tmp_path / "notes.txt").write_text("not data")
    models, datasets = scan_folder(tmp_path)
    assert list(models) == ["net"] and sorted(datasets) == ["net_test", "table"]
    s = Session.from_folder(tmp_path, progress=False)
    assert s.model_names == ["net"] and s.default_dataset("net") == "net_test"


def test_views_redraw_on_what_they_declare():
    """Check that a view redraws on the traits it declares (state or session) and not on others."""
    d = Dashboard.from_evaluations({"a": _multiclass(0), "b": _multiclass(1)}, progress=False)
    before = d.per_class.table.value
    d.state.focus_class = 2
    assert d.per_class.table.value != before  # redraw_on focus_class: the focus row moved
    pairs_before = list(d.pairs.pairs.options)
    d.state.focus_class = 3
    assert list(d.pairs.pairs.options) == pairs_before
    d.state.model_name = "b"
    assert d.pairs.pairs.options != pairs_before  # every view redraws on a new evaluation


def test_html_table_cells_rows_and_header():
    """Check the shared table helper: header, cell attributes, row attributes, no header."""
    t = html_table(
        ["a", "b"], [["1", ("2", "class='x'")], ["3", "4"]], css_class="t", row_attrs=["style='color:red'", ""]
    )
    assert t == (
        "<table class='t' style='font-size:12px'><tr><th>a</th><th>b</th></tr>"
        "<tr style='color:red'><td>1</td><td class='x'>2</td></tr><tr><td>3</td><td>4</td></tr></table>"
    )
    assert (
        html_table(None, [[("x", "colspan=2")]], style="s") == "<table style='s'><tr><td colspan=2>x</td></tr></table>"
    )


def test_a_large_evaluation_shows_its_matrix_before_the_ranking_metrics(monkeypatch):
    """Check that the first view of a large evaluation (matrix, matrix metrics, per-class table)
    is drawn before any score column is sorted, and the ranking metrics arrive when sorted."""
    import threading

    from h5eval_widgets import MulticlassEvaluation, session as session_module

    from tests.helpers import wait_for

    monkeypatch.setattr(session_module, "RANK_IN_BACKGROUND", 10_000)  # 4,000 x 10 is "large"
    gate = threading.Event()
    sort_columns = MulticlassEvaluation._ranking_scores

    def held(self):  # the background sort waits until the first view has been checked
        assert gate.wait(30)
        return sort_columns(self)

    monkeypatch.setattr(MulticlassEvaluation, "_ranking_scores", held)
    ev = _multiclass(n=4000, k=10)
    dash = Dashboard.from_evaluations({"big": ev}, progress=False)
    try:
        assert not dash.session.ranking_ready and not ev.ranking_ready
        np.testing.assert_array_equal(np.asarray(dash.confusion.heatmap.color), ev.confusion_matrix())
        summary = dash.summary.table.value
        assert f"data-metric='accuracy'>{ev.matrix_scores['accuracy']:.3f}</td>" in summary and "computing…" in summary
        assert len(dash.per_class.frame()) == 10 and "roc_auc" not in dash.per_class.frame()
    finally:
        gate.set()
    wait_for(lambda: dash.session.ranking_ready, timeout=30, what="the background sort")
    assert ev.ranking_ready
    wait_for(lambda: "computing…" not in dash.summary.table.value, timeout=10, what="the summary redraw")
    assert f"data-metric='roc_auc_ovr_macro'>{ev.scores['roc_auc_ovr_macro']:.3f}</td>" in dash.summary.table.value
