"""The dashboard from the keyboard, with no browser: the matrix's keys widget driven as the page
drives it (``cursor`` set, ``opened`` counted up, key messages sent), and what the views show then."""

from __future__ import annotations

import numpy as np

from h5eval_widgets import Dashboard
from h5eval_widgets.core import Evaluation


def _relay(view, key: str) -> None:
    """Deliver ``key`` as the samples' key relay's page sends it (a custom widget message)."""
    view.key_relay._handle_custom_msg({"key": key}, [])


def _worst_error(cm: np.ndarray) -> tuple[int, int]:
    """The off-diagonal cell holding the most samples."""
    off = cm * (1 - np.eye(len(cm), dtype=cm.dtype))
    i, j = np.unravel_index(int(off.argmax()), off.shape)
    assert off[i, j] > 0
    return int(i), int(j)


def _cell_of_one(cm: np.ndarray) -> tuple[int, int]:
    """An off-diagonal cell holding exactly one sample."""
    rows, cols = np.nonzero((cm == 1) & ~np.eye(len(cm), dtype=bool))
    assert len(rows), "the demo has no cell of one sample"
    return int(rows[0]), int(cols[0])


def test_enter_on_a_cell_of_the_matrix_opens_its_samples_as_a_click_does(dash):
    """Check that moving the keyboard's cursor to the demo's worst off-diagonal cell names it as
    "true a, predicted b: n samples" with the engine's count, and that Enter selects that cell and
    lists exactly its samples, as a mouse click on it does."""
    st, ev = dash.state, dash.session.evaluation
    cm = st.decisions.confusion
    i, j = _worst_error(cm)
    keys = dash.confusion.plot.keys
    assert keys.n == ev.n_classes and keys.names == [str(c) for c in ev.classes]
    assert keys.label == f"Confusion matrix, {ev.n_classes} by {ev.n_classes}, rows true class, columns predicted class"
    keys.cursor = [i, j]
    assert keys.current_name == f"true {ev.classes[i]}, predicted {ev.classes[j]}: {cm[i, j]} samples"
    assert st.selected_cell != (i, j)  # moving only moves
    keys.opened += 1
    assert st.selected_cell == (i, j)
    expected = ev.cell_indices(i, j)
    np.testing.assert_array_equal(st.selected_indices, expected)
    np.testing.assert_array_equal(dash.samples.shown_indices, expected[: dash.samples.page_size])
    by_keys = (st.selection_label, dash.samples.title.value, dash.confusion.caption.value)
    st.selected_cell = None
    dash.confusion.click_cell(i, j)
    assert (st.selection_label, dash.samples.title.value, dash.confusion.caption.value) == by_keys


def test_cell_names_follow_the_numbers_shown(dash):
    """Check that a cell of one sample says "1 sample", and that with rates by true class the
    names give the rate as the matrix writes it."""
    st, ev = dash.state, dash.session.evaluation
    cm = st.decisions.confusion
    keys = dash.confusion.plot.keys
    a, b = _cell_of_one(cm)
    keys.cursor = [a, b]
    assert keys.current_name == f"true {ev.classes[a]}, predicted {ev.classes[b]}: 1 sample"
    st.normalize = "true"
    i, j = _worst_error(cm)
    keys.cursor = [i, j]
    rate = cm[i, j] / cm[i].sum()
    assert keys.value_format == ".2f"
    assert keys.current_name == (
        f"true {ev.classes[i]}, predicted {ev.classes[j]}: {rate:.2f} of the true {ev.classes[i]} samples"
    )
    st.normalize = "pred"
    rate = cm[i, j] / cm[:, j].sum()
    assert keys.current_name.endswith(f": {rate:.2f} of the samples predicted {ev.classes[j]}")


def test_a_cell_without_a_number_is_named_so():
    """Check that a rate of no samples (NaN, sent as null) is named "no value", with no unit."""
    from h5eval_widgets.views._grid_keys import GridKeys

    keys = GridKeys()
    keys.show(np.array([[0.5, 0.5], [np.nan, np.nan]]), ["a", "b"], value_format=".2f", margin={}, label="m")
    assert keys.values[2] is None
    keys.cursor = [1, 0]
    assert keys.current_name == "true b, predicted a: no value"
    keys.cursor = [0, 1]
    assert keys.current_name == "true a, predicted b: 0.50 samples"
    keys.close()


def test_a_click_moves_the_keyboard_cursor_and_the_keys_go_on_from_there(dash):
    """Check that a mouse click on a cell puts the keyboard's cursor there (so the arrows go on
    from the clicked cell), and that a redraw with fewer classes brings a cursor left outside back in."""
    st = dash.state
    cm = st.decisions.confusion
    i, j = _worst_error(cm)
    keys = dash.confusion.plot.keys
    keys.cursor = [0, 0]
    dash.confusion.click_cell(i, j)
    assert keys.cursor == [i, j]
    keys.cursor = [keys.n - 1, keys.n - 1]
    keys.show(np.eye(2), ["a", "b"], value_format=".0f", margin={}, label="x")
    assert keys.cursor == [0, 0]


def test_the_keys_of_a_many_class_matrix_open_the_drawn_cells_classes():
    """Check that with 40 classes of which the matrix draws the 15 most confused, the keys span
    the drawn cells only (15 by 15, the drawn names) and Enter on drawn cell (r, c) selects the
    classes drawn there, not classes r and c."""
    rng = np.random.default_rng(3)
    k, n = 40, 4000
    y = rng.integers(0, k, n)
    proba = rng.random((n, k)) * 0.2
    proba[np.arange(n), np.where(rng.random(n) < 0.7, y, (y * 7 + 3) % k)] += 1.0
    ev = Evaluation.from_predictions(y, proba / proba.sum(1, keepdims=True), classes=[f"c{c}" for c in range(k)])
    dash = Dashboard.from_evaluations({"m": ev})
    try:
        view, keys = dash.confusion, dash.confusion.plot.keys
        shown = view.shown
        assert len(shown) == view.top_n.value == keys.n < k
        assert keys.names == [ev.classes[c] for c in shown]
        assert len(keys.values) == keys.n**2  # one number a drawn cell, not one a class pair
        cm = dash.state.decisions.confusion[np.ix_(shown, shown)]
        r, c = _worst_error(cm)
        keys.cursor = [r, c]
        keys.opened += 1
        assert dash.state.selected_cell == (int(shown[r]), int(shown[c]))
        assert shown[r] != r or shown[c] != c  # (the drawn order is not the classes' order)
    finally:
        dash.close()


def test_details_open_step_and_close_from_the_keyboard(dash):
    """Check that Enter on a card's "details" (a button) shows that sample, that the arrow keys
    sent from the samples step to the next and back and frame the chosen card, and that Escape
    and the "close details" button close them."""
    view, st = dash.samples, dash.state
    first, second = (int(i) for i in view.shown_indices[:2])
    view._card_pool[1].button.click()  # what Enter or Space on a focused button does
    assert st.selected_sample == second
    assert view.close_btn in view.details.children and view.dist in view.details.children
    assert [c.box.layout.border.startswith("3px") for c in view._card_pool[:2]] == [False, True]
    _relay(view, "ArrowLeft")
    assert st.selected_sample == first
    assert [c.box.layout.border.startswith("3px") for c in view._card_pool[:2]] == [True, False]
    _relay(view, "ArrowRight")
    assert st.selected_sample == second
    _relay(view, "Escape")
    assert st.selected_sample is None and view.details.children == ()
    assert not any(c.box.layout.border.startswith("3px") for c in view._card_pool)
    view._card_pool[0].button.click()
    view.close_btn.click()
    assert st.selected_sample is None and view.details.children == ()


def test_the_relay_sends_only_its_keys_so_tab_is_never_caught(dash):
    """Check that the samples' key relay asks the page for the arrows and Escape only: Tab (and
    every other key) stays the browser's, so the samples are no keyboard trap."""
    keys = dash.samples.key_relay.relayed
    assert set(keys) == {"ArrowRight", "ArrowLeft", "ArrowUp", "ArrowDown", "Escape"}
    assert "Tab" not in keys


def test_the_pixel_and_detection_matrices_open_cells_from_the_keyboard():
    """Check that Enter on a cell of the segmentation matrix selects it (its images listed, the
    cell named in pixels) and on the detection matrix shows the cell's images (named in boxes)."""
    from tests.detection_data import make_coco

    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, (6, 8, 8))
    scores = rng.random((6, 8, 8, 3)).astype(np.float32)
    seg = Evaluation.from_predictions(y, scores, classes=["sky", "road", "car"])
    dash = Dashboard.from_evaluations({"unet": seg})
    try:
        keys = dash.pixel_matrix.plot.keys
        cm = seg.confusion_matrix()
        keys.cursor = [1, 2]
        assert keys.current_name == f"true road, predicted car: {cm[1, 2]:,} pixels"
        keys.opened += 1
        assert dash.state.selected_cell == (1, 2)
        np.testing.assert_array_equal(dash.state.selected_indices, seg.cell_indices(1, 2))
    finally:
        dash.close()
    gt, dets = make_coco(30, seed=4)
    det = Evaluation.from_detections(gt, dets)
    dash = Dashboard.from_evaluations({"detector": det})
    try:
        view, keys = dash.detection, dash.detection.plot.keys
        cm = det.confusion_matrix(iou=0.5, confidence=0.0)
        i, j = _worst_error(cm)  # a wrong class, a missed object or a false box
        keys.cursor = [i, j]
        names = det.matrix_labels
        assert keys.current_name.startswith(f"true {names[i]}, predicted {names[j]}: {cm[i, j]:,} box")
        keys.opened += 1
        assert view.selected_cell == (i, j)
        assert view.cell_images == list(dict.fromkeys(det.cell_indices(i, j, iou=0.5)["image_id"].tolist()))
    finally:
        dash.close()
