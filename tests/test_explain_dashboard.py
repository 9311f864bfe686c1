"""Issue 34, item 2, headless: pressing a metric's button in the summary (the message a browser
click or Enter sends) shows its explanation beside the table and marks in the matrix the cells
its terms count; moving the threshold updates both; "close" and a second press clear them."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import metrics as skm

from h5eval_widgets.core.results.cells_used import cells_used
from h5eval_widgets.core.results.names import fmt


def _outlines(mark) -> set[tuple[int, int, int, int]]:
    """Each closed line of a Lines mark as (first row, first column, last row, last column)."""
    if not mark.visible:
        return set()
    out = set()
    for xs, ys in zip(np.atleast_2d(mark.x), np.atleast_2d(mark.y)):
        out.add((int(np.ceil(min(ys))), int(np.ceil(min(xs))), int(np.floor(max(ys))), int(np.floor(max(xs)))))
    return out


def _marked(dash) -> tuple[set, set]:
    used = dash.confusion.plot.used
    return _outlines(used.cells), _outlines(used.spans)


def test_pressing_precision_of_the_focus_class_marks_its_tp_cell_and_fp_column(dash):
    """Check the multi-class demo: F1 (macro) with focus class 8 marks 8's TP cell, its column and
    its row; the panel's formula holds the per-class counts the matrix has; accuracy marks the
    diagonal; ROC AUC (from the scores) marks nothing and says so."""
    st = dash.state
    st.focus_class = 8
    ev = st.evaluation
    cm = skm.confusion_matrix(ev.y_true, ev.y_pred)
    dash.summary.explain("f1_macro")
    assert st.explained_metric == "f1_macro"
    assert dash.explanation.layout.display is None and dash.explanation.children
    body = dash.explanation.body.value
    f1 = skm.f1_score(ev.y_true, ev.y_pred, average="macro")
    assert fmt(f1) in body
    tp8, fp8, fn8 = cm[8, 8], cm[:, 8].sum() - cm[8, 8], cm[8].sum() - cm[8, 8]
    assert f"{tp8}" in body and f"{fp8}" in body and f"{fn8}" in body
    cells, spans = _marked(dash)
    assert cells == {(8, 8, 8, 8)}
    assert spans == {(0, 8, 9, 8), (8, 0, 8, 9)}  # its column (FP) and its row (FN)
    assert "class 8" in dash.explanation.cells.value and "class 8" in dash.confusion.plot.legend.value
    assert "data-choice='f1_macro' aria-pressed='true'" in dash.summary.table.value

    st.focus_class = 3  # the marks follow the focus class
    assert _marked(dash) == ({(3, 3, 3, 3)}, {(0, 3, 9, 3), (3, 0, 3, 9)})
    assert not dash.confusion.plot.focus.visible  # the focus dashes would draw over the same lines

    dash.summary.explain("accuracy")
    assert dash.confusion.plot.focus.visible  # the diagonal does not hide the focus class
    cells, spans = _marked(dash)
    assert cells == {(i, i, i, i) for i in range(10)} and spans == set()
    assert fmt(skm.accuracy_score(ev.y_true, ev.y_pred)) in dash.explanation.body.value

    dash.summary.explain("roc_auc_ovr_macro")
    assert _marked(dash) == (set(), set())
    assert "scores" in dash.explanation.cells.value

    dash.explanation.close_button.click()
    assert st.explained_metric is None and dash.explanation.layout.display == "none"
    assert _marked(dash) == (set(), set()) and "explained metric" not in dash.confusion.plot.legend.value
    assert dash.confusion.plot.focus.visible  # the focus class's dashes are back


def test_the_binary_explanation_follows_the_threshold(dash):
    """Check on the binary demo: precision at thresholds 0.2 and 0.85 shows scikit-learn's value
    and counts at each, its TP cell and FP column marked; pressing it again clears it."""
    st = dash.state
    st.model_name = "breast_cancer_mlp"
    ev = st.evaluation
    dash.summary.explain("precision")
    for t in (0.2, 0.85):
        dash.curves.slider.value = t
        pred = (ev.y_proba[:, 1] >= t).astype(int)
        cm = skm.confusion_matrix(ev.y_true, pred)
        body = dash.explanation.body.value
        assert fmt(skm.precision_score(ev.y_true, pred)) in body
        assert f"{cm[1, 1]}" in body and f"{cm[0, 1]}" in body
        assert f"threshold {t:g}" in body
        assert _marked(dash) == ({(1, 1, 1, 1)}, {(0, 1, 1, 1)})  # TP cell; FP column, no FN row
    dash.summary.explain("precision")  # pressed again: closed
    assert st.explained_metric is None and _marked(dash) == (set(), set())


@pytest.mark.parametrize(
    "metric, tp, fp, fn, diagonal",
    [
        ("precision", True, True, False, False),
        ("recall_weighted", True, False, True, False),
        ("iou", True, True, True, False),
        ("cohen_kappa", False, False, False, True),
        ("log_loss", False, False, False, False),
    ],
)
def test_cells_used_by_each_kind_of_metric(metric, tp, fp, fn, diagonal):
    """Check the cells of class 1 of 3 each kind of metric counts."""
    used = cells_used(metric, 3, 1, ["a", "b", "c"])
    assert (bool(used.tp), bool(used.fp), bool(used.fn), used.diagonal) == (tp, fp, fn, diagonal)
    if fp:
        assert used.fp == [(0, 1), (2, 1)]
    if fn:
        assert used.fn == [(1, 0), (1, 2)]
    assert used.mask(3).sum() == tp + 2 * fp + 2 * fn + 3 * diagonal


def test_a_segmentation_metric_outlines_the_focus_class_in_the_pixel_matrix(seg_models, seg_data, tmp_path):
    """Check on a segmentation dashboard: mean IoU with focus class 1 outlines its TP cell, its
    column and its row in the pixel matrix, the panel shows the pixel counts of that class."""
    from h5eval_widgets import Dashboard
    from h5eval_widgets.core import Evaluation
    from tests.segmentation_fixtures import CLASSES, write_folders

    _, _, X, y = seg_data
    images, masks = write_folders(tmp_path, X[:8], y[:8])
    ev = Evaluation.from_model(seg_models["softmax"], images, masks=masks, classes=CLASSES, progress=False)
    dash = Dashboard.from_evaluations({"unet": ev})
    try:
        dash.state.focus_class = 1
        dash.summary.explain("mean_iou")
        cm = ev.confusion_matrix()
        body = dash.explanation.body.value
        assert fmt(ev.scores["mean_iou"]) in body
        tp, fp, fn = cm[1, 1], cm[:, 1].sum() - cm[1, 1], cm[1].sum() - cm[1, 1]
        assert all(fmt(int(v)) in body for v in (tp, fp, fn))
        k = len(CLASSES)
        used = dash.pixel_matrix.plot.used
        assert (_outlines(used.cells), _outlines(used.spans)) == ({(1, 1, 1, 1)}, {(0, 1, k - 1, 1), (1, 0, 1, k - 1)})
    finally:
        dash.close()
