"""The dashboard on a segmentation evaluation, headless: the pixel matrix, a click on a cell showing
its images with overlaid masks and that cell's pixels marked, details side by side, IoU bars."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from h5eval_widgets import Dashboard
from h5eval_widgets.core import Evaluation
from h5eval_widgets.views.masks import MARK, class_colors
from tests.segmentation_fixtures import CLASSES, write_folders


def _pixels(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))


def _marked(png: bytes) -> int:
    return int(np.all(_pixels(png) == MARK, axis=-1).sum())


@pytest.fixture(scope="module")
def seg_dashboard(seg_models, seg_data, tmp_path_factory):
    """A dashboard over the softmax model evaluated on a folder of 24 images and masks."""
    _, _, X, y = seg_data
    images, masks = write_folders(tmp_path_factory.mktemp("seg_dash"), X, y)
    ev = Evaluation.from_model(seg_models["softmax"], images, masks=masks, classes=CLASSES, progress=False)
    dash = Dashboard.from_evaluations({"unet": ev})
    yield dash, ev, y
    dash.close()


def test_the_pixel_matrix_shows_pixel_counts_and_rates(seg_dashboard):
    """Check that the heatmap holds the pixel counts, then the rates by true class, and that the
    classifier-only views and tabs are hidden."""
    dash, ev, _ = seg_dashboard
    st = dash.state
    st.normalize = None
    np.testing.assert_array_equal(dash.pixel_matrix.heatmap.color, ev.confusion_matrix())
    st.normalize = "true"
    np.testing.assert_allclose(dash.pixel_matrix.heatmap.color, ev.confusion_matrix("true"))
    st.normalize = None
    assert dash.confusion.layout.display == "none" and dash.tabs.layout.display == "none"
    assert dash.samples.layout.display == "none" and dash.pixel_matrix.layout.display is None
    np.testing.assert_allclose(dash.iou_bars.bars.y, ev.per_class()["iou"].to_numpy())
    assert st.session.status_level == "info"


def test_a_cell_click_shows_its_images_with_the_cells_pixels_marked(seg_dashboard):
    """Check that clicking cell (square, disc) selects the images with the most such pixels
    first, and that each card's predicted overlay marks exactly that image's cell pixels."""
    dash, ev, y = seg_dashboard
    dash.pixel_matrix.click_cell(1, 2)
    st = dash.state
    assert st.selected_cell == (1, 2)
    idx, counts = ev.cell_indices(1, 2, with_counts=True)
    np.testing.assert_array_equal(st.selected_indices, idx)
    gallery = dash.mask_gallery
    shown = min(len(idx), gallery.page_size)
    assert shown >= 2
    np.testing.assert_array_equal(gallery.shown_indices, idx[:shown])
    scale = (gallery.thumb_px // 32) ** 2
    for n in range(shown):
        true_png, pred_png = (w.value for w in gallery.card_images[n])
        assert _marked(pred_png) == scale * counts[n] and _marked(true_png) == 0
        assert f"#{idx[n]} img_{idx[n]:03d}.png" in gallery.card_captions[n].value
        assert gallery.cards[n].layout.display is None
    assert all(c.layout.display == "none" for c in gallery.cards[shown:])
    assert "true square · predicted disc" in gallery.title.value and "disc" in gallery.legend.value
    assert st.session.status_level == "info"


def test_details_show_image_true_predicted_and_confusion_side_by_side(seg_dashboard):
    """Check that "details" on a card shows the picture, the true and predicted masks in class
    colours and the confusion with the cell's pixels marked, at 8x the 32 px image."""
    dash, ev, y = seg_dashboard
    dash.pixel_matrix.click_cell(2, 0)
    gallery = dash.mask_gallery
    first = int(gallery.shown_indices[0])
    gallery.cards[0].children[2].click()  # the card's "details" button
    assert dash.state.selected_sample == first
    picture, true, predicted, confusion = (_pixels(w.value)[::8, ::8] for w in gallery.detail_images)
    np.testing.assert_array_equal(true, class_colors(3)[y[first]])
    ((_, _, pred_mask),) = ev.masks([first])
    np.testing.assert_array_equal(predicted, class_colors(3)[pred_mask])
    cell = (y[first] == 2) & (pred_mask == 0)
    np.testing.assert_array_equal(np.all(confusion == MARK, axis=-1), cell)
    assert picture.shape == (32, 32, 3) and gallery.details.layout.display is None


def test_no_cell_shows_the_worst_images_first(seg_dashboard):
    """Check that with no cell chosen the gallery lists the images of lowest mean IoU first."""
    dash, ev, _ = seg_dashboard
    dash.state.selected_cell = None
    worst = np.argsort(ev.image_iou, kind="stable")[: dash.mask_gallery.page_size]
    np.testing.assert_array_equal(dash.mask_gallery.shown_indices, worst)
    assert "Worst mean IoU first" in dash.mask_gallery.title.value


def test_the_threshold_slider_of_one_sigmoid_output_moves_the_pixel_matrix(seg_models, seg_data):
    """Check that a (H, W, 1) sigmoid model's dashboard shows the slider at 0.5 and that setting
    the threshold to 0.3 redraws the matrix as scikit-learn counts pixels scored >= 0.3."""
    import keras
    from sklearn.metrics import confusion_matrix

    from tests.segmentation_fixtures import scaled

    _, _, X, y = seg_data
    fg = (y > 0).astype(np.uint8)
    ev = Evaluation.from_model(seg_models["sigmoid"], scaled(X), fg, progress=False)
    dash = Dashboard.from_evaluations({"sigmoid": ev})
    try:
        view = dash.pixel_matrix
        assert view.slider.layout.display is None and view.slider.value == 0.5
        dash.state.threshold = 0.3
        score = keras.models.load_model(seg_models["sigmoid"]).predict(scaled(X), verbose=0)[..., 0]
        expected = confusion_matrix(fg.ravel(), (score >= np.float32(0.3)).ravel())
        np.testing.assert_array_equal(view.heatmap.color, expected)
        assert not np.array_equal(expected, ev.confusion_matrix())
    finally:
        dash.close()


def test_the_dashboard_evaluates_a_segmentation_model_on_arrays_from_its_dropdowns(seg_models, seg_data):
    """Check that Dashboard(models=..., datasets={name: (X, masks)}) predicts the segmentation model
    and shows its pixel matrix, equal to scikit-learn's on model.predict's arg-max."""
    import keras
    from sklearn.metrics import confusion_matrix

    from tests.segmentation_fixtures import scaled

    _, _, X, y = seg_data
    dash = Dashboard(models={"unet": seg_models["softmax"]}, datasets={"shapes": (scaled(X), y)}, progress=False)
    try:
        assert dash.session.status_level == "info", dash.session.status
        pred = keras.models.load_model(seg_models["softmax"]).predict(scaled(X), verbose=0).argmax(-1)
        np.testing.assert_array_equal(dash.pixel_matrix.heatmap.color, confusion_matrix(y.ravel(), pred.ravel()))
        dash.pixel_matrix.click_cell(0, 1)
        assert len(dash.mask_gallery.shown_indices) > 0 and dash.session.status_level == "info"
    finally:
        dash.close()
