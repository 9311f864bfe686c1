"""The embedding map in the dashboard: highlights of a clicked cell, a brush that selects samples
and counts them in the matrix, colours, and slices."""

from __future__ import annotations

import numpy as np
import pytest


@pytest.fixture
def view(dash):
    """The demo dashboard's map, its tab opened (the dash fixture shows the first tab again after)."""
    dash.tabs.selected_index = dash.tab_views.index(dash.embedding)  # the tab opened, as a click does
    return dash.embedding


def test_the_map_draws_every_sample_and_marks_a_clicked_cells_points(dash, view):
    """Check that the map holds the evaluation's PCA map point for point, and that clicking a
    cell highlights exactly that cell's samples."""
    ev = dash.state.evaluation
    xy = ev.projection("pca")
    np.testing.assert_array_equal(view.scatter.x, xy[:, 0])
    np.testing.assert_array_equal(view.scatter.y, xy[:, 1])
    dash.confusion.click_cell(8, 1)
    cell = ev.cell_indices(8, 1)
    np.testing.assert_array_equal(view.marked_indices, cell)
    np.testing.assert_array_equal(view.marked.x, xy[cell, 0])
    np.testing.assert_array_equal(view.marked.y, xy[cell, 1])
    assert len(cell) > 0


def test_a_brush_selects_exactly_the_points_inside_and_the_matrix_counts_them(dash, view):
    """Check a brush drawn as the browser sends it (selected_x/y, then brushing off): the samples
    view shows exactly the points inside the box, the matrix counts those samples' cells, and a
    cell click brings every sample back into the matrix."""
    st, ev = dash.state, dash.state.evaluation
    xy = ev.projection("pca")
    (x0, x1), (y0, y1) = np.percentile(xy[:, 0], [20, 60]), np.percentile(xy[:, 1], [10, 70])
    inside = np.flatnonzero((xy[:, 0] >= x0) & (xy[:, 0] <= x1) & (xy[:, 1] >= y0) & (xy[:, 1] <= y1))
    assert 20 < len(inside) < ev.n_samples
    view.brush.brushing = True
    view.brush.selected_x, view.brush.selected_y = np.array([x1, x0]), np.array([y0, y1])
    view.brush.brushing = False
    np.testing.assert_array_equal(np.sort(st.selected_indices), inside)
    assert st.selection_label == f"Chosen on the map ({len(inside)})"
    want = np.zeros((10, 10))
    np.add.at(want, (ev.y_true[inside], ev.y_pred[inside]), 1)
    np.testing.assert_array_equal(dash.confusion.heatmap.color, want)
    assert f"{len(inside)} samples chosen on the map" in dash.confusion.figure.title
    np.testing.assert_array_equal(np.sort(view.marked_indices), inside)
    # the box dragged elsewhere (bqplot moves selected_x/y without brushing) selects again
    view.brush.selected_x = np.array([x0 - 1, x1 - 1])
    moved = np.flatnonzero((xy[:, 0] >= x0 - 1) & (xy[:, 0] <= x1 - 1) & (xy[:, 1] >= y0) & (xy[:, 1] <= y1))
    np.testing.assert_array_equal(np.sort(st.selected_indices), moved)
    dash.pairs.mistakes_btn.click()  # another selection: the matrix counts every sample, no box
    assert st.brushed is None and view.brush.selected_x is None
    np.testing.assert_array_equal(dash.confusion.heatmap.color, ev.confusion_matrix())
    view.select_box(x0, x1, y0, y1)
    dash.confusion.click_cell(8, 1)
    assert st.brushed is None
    np.testing.assert_array_equal(dash.confusion.heatmap.color, ev.confusion_matrix())


def test_colours_and_a_slice_keep_the_maps_layout(dash, view):
    """Check the colours (right/wrong, true class) and that a slice's map is those rows of the
    whole map (same layout, nothing projected again)."""
    st, ev = dash.state, dash.state.evaluation
    np.testing.assert_array_equal(view.scatter.color, (ev.y_true != ev.y_pred).astype(int))
    assert "right</span>" in view.key.value and "wrong</span>" in view.key.value
    view.color_by.value = "true class"
    np.testing.assert_array_equal(view.scatter.color, ev.y_true)
    assert all(f"{c}</span>" in view.key.value for c in ev.classes)  # the legend names each colour
    rows = ev.cell_indices(3, 3)
    st.show_slice(rows, "true 3")
    np.testing.assert_array_equal(view.scatter.x, ev.projection("pca")[rows, 0])
    assert "slice: true 3" in view.figure.title and f"{len(rows)} points" in view.figure.title
    st.show_slice(None)


def test_a_dashboard_without_embeddings_hides_the_map_without_an_error(demo):
    """Check that evaluations given without an embedding (from predictions) hide the map, and
    that selecting samples then says nothing in the status (the map used to fail on it)."""
    from h5eval_widgets import Dashboard
    from h5eval_widgets.core import Evaluation

    ev = demo.evaluate("digits_cnn", progress=False)
    bare = Evaluation.from_predictions(ev.y_true, ev.y_proba, classes=ev.classes, dataset_name="digits_test")
    d = Dashboard.from_evaluations({"cnn": bare}, progress=False)
    d.tabs.selected_index = d.tab_views.index(d.embedding)  # the map's tab opened
    d.state.selected_cell = (8, 1)
    assert d.state.status_level == "info", d.state.status
    assert d.embedding.layout.display == "none"


def test_the_map_and_the_slices_are_computed_only_once_their_tab_is_opened(demo, monkeypatch):
    """Check that a new dashboard projects no embedding and cuts no slice until the map's or the
    slices' tab is opened, and that a model chosen meanwhile is what the tab then shows."""
    from h5eval_widgets import Dashboard
    from h5eval_widgets.core import linked, subsets

    calls = {"projection": 0, "slices": 0}
    projection, slices = linked.Linked.projection, subsets.Sliceable.slices
    monkeypatch.setattr(linked.Linked, "projection",
                        lambda self, *a, **k: calls.__setitem__("projection", calls["projection"] + 1) or projection(self, *a, **k))
    monkeypatch.setattr(subsets.Sliceable, "slices",
                        lambda self, *a, **k: calls.__setitem__("slices", calls["slices"] + 1) or slices(self, *a, **k))
    d = Dashboard(models=demo.models, datasets=demo.datasets, progress=False)
    d.state.model_name = "digits_weak_mlp"
    assert calls == {"projection": 0, "slices": 0}
    d.tabs.selected_index = d.tab_views.index(d.embedding)
    assert calls["projection"] == 1 and calls["slices"] == 0
    np.testing.assert_array_equal(d.embedding.scatter.x, d.state.evaluation.projection("pca")[:, 0])  # the MLP's map
    d.tabs.selected_index = d.tab_views.index(d.slices)
    assert calls["slices"] == 1 and list(d.slices.column.options) == ["ink"]


def test_umap_is_computed_in_the_background_and_swapped_in(demo):
    """Check the map's "UMAP" button: the PCA map stays drawn with a note while UMAP runs in the
    background, then the UMAP map (the evaluation's own, computed once) replaces it."""
    from h5eval_widgets import Dashboard, Evaluation
    from h5eval_widgets.core import load_dataset
    from tests.helpers import require, wait_for

    require("umap")
    data = demo.dataset("digits_test")
    part = load_dataset(np.asarray(data.X)[:150], data.y[:150], name="digits_150")
    ev = Evaluation.from_model(demo.models["digits_cnn"], part, progress=False, cache=False)
    d = Dashboard.from_evaluations({"digits_cnn": ev}, {"digits_150": part}, progress=False)
    d.tabs.selected_index = d.tab_views.index(d.embedding)
    view = d.embedding
    pca = ev.projection("pca")
    view.method.value = "umap"  # as a click on "UMAP"
    assert "computed in the background" in view.note.value
    np.testing.assert_array_equal(view.scatter.x, pca[:, 0])  # PCA meanwhile
    wait_for(lambda: "UMAP" in view.figure.title, 300, 0.1, what="the UMAP map to be swapped in")
    xy = ev.projection("umap")  # kept by the background run: not computed again
    assert xy.shape == (150, 2) and not np.allclose(xy, pca)
    np.testing.assert_array_equal(view.scatter.x, xy[:, 0])
    np.testing.assert_array_equal(view.scatter.y, xy[:, 1])
    assert view.note.value == "" and "150 points" in view.figure.title
