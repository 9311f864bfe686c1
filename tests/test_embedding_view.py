"""The embedding map in the dashboard (a jupyter-scatter WebGL widget): every point handed to it,
highlights of a clicked cell, a selection made on the widget (as its lasso makes it) that selects
samples and counts them in the matrix, colours, slices, model and dataset switches, UMAP in the
background."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from tests.helpers import wait_for


@pytest.fixture
def view(dash):
    """The demo dashboard's map, its tab opened (the dash fixture shows the first tab again after)."""
    dash.tabs.selected_index = dash.tab_views.index(dash.embedding)  # the tab opened, as a click does
    return dash.embedding


def ndc(v: np.ndarray) -> np.ndarray:
    """Coordinates as jupyter-scatter sends them: scaled linearly onto [-1, 1]."""
    v = np.asarray(v, np.float64)
    return 2 * (v - v.min()) / (v.max() - v.min()) - 1


def assert_points_are(view, xy: np.ndarray) -> None:
    """The widget holds one point per row of ``xy``, at its place on the map."""
    pts = np.asarray(view.widget.points)
    assert pts.shape == (len(xy), 4)
    np.testing.assert_allclose(pts[:, 0], ndc(xy[:, 0]), atol=1e-6)
    np.testing.assert_allclose(pts[:, 1], ndc(xy[:, 1]), atol=1e-6)


def test_the_map_holds_every_sample_and_highlights_exactly_a_clicked_cells_samples(dash, view):
    """Check that the widget holds the evaluation's PCA map point for point, and that clicking a
    cell makes exactly that cell's samples the map's highlighted selection."""
    import jscatter

    ev = dash.state.evaluation
    xy = ev.projection("pca")
    assert isinstance(view.scatter, jscatter.Scatter) and view.figure.children == (view.widget,)
    assert_points_are(view, xy)
    np.testing.assert_array_equal(view.frame[["x", "y"]].to_numpy(), xy)
    dash.confusion.click_cell(8, 1)
    cell = ev.cell_indices(8, 1)
    assert len(cell) > 0
    np.testing.assert_array_equal(view.highlighted, np.sort(cell))
    assert view.widget.selection.dtype == np.uint32
    dash.pairs.mistakes_btn.click()  # the most confident mistakes: every mistake highlighted
    np.testing.assert_array_equal(view.highlighted, np.flatnonzero(ev.y_true != ev.y_pred))


def test_a_selection_made_on_the_widget_shows_exactly_those_samples_and_the_matrix_counts_them(dash, view):
    """Check a selection set on the widget's ``selection`` trait, as its lasso sets it from the
    browser (unsorted uint32): the samples view shows exactly those samples, the matrix counts
    their cells, the map keeps them highlighted, and another selection brings every sample back
    into the matrix."""
    st, ev = dash.state, dash.state.evaluation
    xy = ev.projection("pca")
    chosen = np.flatnonzero((xy[:, 0] > np.percentile(xy[:, 0], 40)) & (xy[:, 1] < np.percentile(xy[:, 1], 60)))
    assert 20 < len(chosen) < ev.n_samples
    view.widget.selection = np.random.default_rng(0).permutation(chosen).astype(np.uint32)
    np.testing.assert_array_equal(np.sort(st.selected_indices), chosen)
    assert st.selection_label == f"Chosen on the map ({len(chosen)})"
    np.testing.assert_array_equal(st.brushed, chosen)
    want = np.zeros((10, 10))
    np.add.at(want, (ev.y_true[chosen], ev.y_pred[chosen]), 1)
    np.testing.assert_array_equal(dash.confusion.heatmap.color, want)
    assert f"{len(chosen)} samples chosen on the map" in dash.confusion.figure.title
    np.testing.assert_array_equal(view.highlighted, chosen)
    view.widget.selection = np.zeros(0, np.uint32)  # a click beside the points: the samples stay
    np.testing.assert_array_equal(np.sort(st.selected_indices), chosen)
    one = view.select([int(chosen[3])])  # a click on one point
    np.testing.assert_array_equal(st.selected_indices, one)
    assert st.selection_label == "Chosen on the map (1)"
    dash.pairs.mistakes_btn.click()  # another selection: the matrix counts every sample
    assert st.brushed is None
    np.testing.assert_array_equal(dash.confusion.heatmap.color, ev.confusion_matrix())
    box = view.select_box(0, np.inf, -np.inf, 0)  # and a box (in the map's coordinates)
    np.testing.assert_array_equal(box, np.flatnonzero((xy[:, 0] >= 0) & (xy[:, 1] <= 0)))
    np.testing.assert_array_equal(np.sort(st.selected_indices), box)
    dash.confusion.click_cell(8, 1)
    assert st.brushed is None
    np.testing.assert_array_equal(view.highlighted, np.sort(ev.cell_indices(8, 1)))


def test_switching_model_or_dataset_replaces_the_maps_points_in_the_same_widget(dash, view):
    """Check that choosing another dataset, then another model, hands the widget the new
    evaluation's points (and colours), with the widget built once."""
    st, widget = dash.state, view.widget
    st.dataset_name = "digits_train"
    ev = st.evaluation
    assert ev.dataset_name == "digits_train" and ev.n_samples != 719
    assert view.widget is widget
    assert_points_are(view, ev.projection("pca"))
    np.testing.assert_array_equal(view.highlighted, np.flatnonzero(ev.y_true != ev.y_pred))
    st.model_name = "breast_cancer_mlp"  # binary, on its own dataset
    ev = st.evaluation
    assert ev.n_classes == 2 and view.widget is widget
    assert_points_are(view, ev.projection("pca"))
    # the colour codes sent are right (0) / wrong (1)
    np.testing.assert_array_equal(np.asarray(view.widget.points)[:, 2], (ev.y_true != ev.y_pred).astype(int))


def test_colours_legend_and_a_slice_keep_the_maps_layout(dash, view):
    """Check the colours (right/wrong, true class: the codes sent and the colours of the other
    views), the legend, and that a slice's map is those rows of the whole map."""
    from h5eval_widgets.views.embedding import CLASS_COLORS, RIGHT_WRONG

    st, ev = dash.state, dash.state.evaluation
    pts = lambda: np.asarray(view.widget.points)  # noqa: E731
    np.testing.assert_array_equal(pts()[:, 2], (ev.y_true != ev.y_pred).astype(int))
    assert view.scatter.color()["map"] == [
        tuple(int(c[i : i + 2], 16) / 255 for i in (1, 3, 5)) + (1.0,) for c in RIGHT_WRONG
    ]
    assert "right</span>" in view.key.value and "wrong</span>" in view.key.value
    view.color_by.value = "true class"
    np.testing.assert_array_equal(pts()[:, 2], ev.y_true)
    assert len(view.scatter.color()["map"]) == 10 and CLASS_COLORS[3] in view.key.value
    assert all(f"{c}</span>" in view.key.value for c in ev.classes)  # the legend names each colour
    rows = ev.cell_indices(3, 3)
    st.session.filter(rows, "true 3")
    assert_points_are(view, ev.projection("pca")[rows])
    assert "slice: true 3" in view.title.value and f"{len(rows)} points" in view.title.value
    # one class present: its code is 0 in the widget, and its colour is still class 3's
    np.testing.assert_array_equal(pts()[:, 2], 0)
    assert view.scatter.color()["map"] == [tuple(int(CLASS_COLORS[3][i : i + 2], 16) / 255 for i in (1, 3, 5)) + (1.0,)]
    st.session.filter(None)
    view.color_by.value = "right / wrong"


def test_umap_is_computed_in_the_background_with_its_progress_and_time_in_the_status(demo, monkeypatch):
    """Check that choosing UMAP shows PCA at once, says in the status line that UMAP is running
    and for how long, then swaps the UMAP map into the same widget and says how long it took."""
    from h5eval_widgets import Dashboard
    from h5eval_widgets.core.inference import projection

    release, real = threading.Event(), projection.project

    def slow_umap(x, method="pca", **kw):  # UMAP's place, held until released
        if method == "umap":
            release.wait(60)
            return np.column_stack([np.arange(len(x)), np.arange(len(x)) % 7]).astype(np.float32)
        return real(x, method, **kw)

    monkeypatch.setattr(projection, "project", slow_umap)
    d = Dashboard(models=demo.models, datasets=demo.datasets, progress=False)
    d.tabs.selected_index = d.tab_views.index(d.embedding)
    view, ev = d.embedding, d.state.evaluation
    widget = view.widget
    view.method.value = "umap"
    assert_points_are(view, ev.projection("pca"))
    assert "UMAP map of 719 points: computing in the background" in d.state.status
    wait_for(lambda: "s so far" in d.state.status, timeout=10, what="the UMAP status to count seconds")
    release.set()
    wait_for(lambda: "ready in" in d.state.status, timeout=30, what="the UMAP map")
    assert view.umap_seconds >= 1.0 and f"ready in {view.umap_seconds:.1f} s" in d.state.status
    wait_for(lambda: "UMAP" in view.title.value, timeout=10, what="the UMAP map drawn")
    assert view.widget is widget
    assert_points_are(view, ev.projection("umap"))


def test_closing_the_dashboard_waits_for_a_running_umap_and_publishes_nothing(demo, monkeypatch):
    """Check that UMAP runs as the session's background work: closing the dashboard while it runs
    waits for it, leaves no UMAP thread alive and shows no result."""
    from h5eval_widgets import Dashboard
    from h5eval_widgets.core.inference import projection

    release, real = threading.Event(), projection.project

    def slow_umap(x, method="pca", **kw):
        if method == "umap":
            release.wait(60)
        return real(x, "pca", **kw)

    monkeypatch.setattr(projection, "project", slow_umap)
    d = Dashboard(models=demo.models, datasets=demo.datasets, progress=False)
    d.tabs.selected_index = d.tab_views.index(d.embedding)
    view = d.embedding
    view.method.value = "umap"
    # the UMAP and its status ticker run (a map preparation or a ranking may run beside them)
    assert {"h5eval-umap", "h5eval-umap-status"} <= {t.name for t in threading.enumerate()}
    threading.Timer(0.5, release.set).start()
    d.close()
    assert d.session.background == []
    assert not [t for t in threading.enumerate() if t.name.startswith("h5eval-umap")]
    assert view.umap_seconds is None and "ready in" not in d.session.status


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
    assert d.embedding.scatter is None and list(d.embedding.children) == [d.embedding.note]
    assert "No map: these results hold no embedding" in d.embedding.note.value  # not an empty tab


def test_the_map_is_prepared_in_the_background_and_drawn_once_its_tab_is_opened(demo, monkeypatch):
    """Check that a new dashboard builds no WebGL widget and cuts no slice until the map's or the
    slices' tab is opened; that meanwhile each model shown gets its PCA map computed in the
    background (and kept by its embedding), so that opening the tab only draws; and that the
    tab then shows the model chosen meanwhile."""
    import threading
    from concurrent.futures import wait

    from h5eval_widgets import Dashboard
    from h5eval_widgets.core.results import linked, subsets

    calls = {"projection": [], "slices": 0}
    projection, slices = linked.Linked.projection, subsets.Sliceable.slices

    def counted(self, *a, **k):
        calls["projection"].append((threading.current_thread().name, self))
        return projection(self, *a, **k)

    monkeypatch.setattr(linked.Linked, "projection", counted)
    monkeypatch.setattr(
        subsets.Sliceable,
        "slices",
        lambda self, *a, **k: calls.__setitem__("slices", calls["slices"] + 1) or slices(self, *a, **k),
    )
    d = Dashboard(models=demo.models, datasets=demo.datasets, progress=False)
    cnn = d.state.evaluation
    d.state.model_name = "digits_weak_mlp"
    mlp = d.state.evaluation
    wait(d.session.background, timeout=120)
    assert calls["slices"] == 0 and d.embedding.widget is None
    # one preparation per model, in the background, in whichever order the two threads ran
    assert len(calls["projection"]) == 2
    assert {(who, id(ev)) for who, ev in calls["projection"]} == {
        ("h5eval-map-prepare", id(cnn)),
        ("h5eval-map-prepare", id(mlp)),
    }
    assert ("pca", 0, ()) in mlp.embeddings._projections  # kept: the tab draws it at once
    prepared = d.embedding._ready
    assert prepared[0] is mlp and prepared[1] == d.state.threshold  # the scatter, for the MLP
    d.tabs.selected_index = d.tab_views.index(d.embedding)
    assert d.embedding.scatter is prepared[4] and d.embedding._ready is None
    assert [who for who, _ in calls["projection"][2:]] == ["MainThread"] and calls["slices"] == 0
    assert_points_are(d.embedding, mlp.projection("pca"))  # the MLP's map (the 4th call)
    d.tabs.selected_index = d.tab_views.index(d.slices)
    assert calls["slices"] == 1 and list(d.slices.column.options) == ["ink"]
    d.state.model_name = "digits_cnn"  # the map's tab was opened: drawn at once, nothing prepared
    assert [who for who, _ in calls["projection"][4:]] == ["MainThread"]
    d.close()


def test_a_million_point_map_is_drawn_whole(tmp_path):
    """Check that a 1,000,000-sample evaluation's map hands the widget every point (no sampling),
    coloured right/wrong, and that a selection of 100,000 of them on the widget is what the
    samples view and the matrix get."""
    from h5eval_widgets import Dashboard
    from tests.generated import generated_evaluation

    ev = generated_evaluation(1_000_000)
    d = Dashboard.from_evaluations({"gen": ev}, progress=False)
    d.tabs.selected_index = d.tab_views.index(d.embedding)
    pts = np.asarray(d.embedding.widget.points)
    assert pts.shape == (1_000_000, 4)
    np.testing.assert_array_equal(pts[:, 2], (ev.y_true != ev.y_pred).astype(int))
    chosen = np.arange(0, 1_000_000, 10)
    d.embedding.widget.selection = chosen.astype(np.uint32)
    np.testing.assert_array_equal(d.state.selected_indices, chosen)
    assert d.confusion.heatmap.color.sum() == len(chosen)
