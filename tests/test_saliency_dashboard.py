"""Saliency in the dashboard: the "show saliency" toggle over a gallery page, the predicted and the
true class side by side in "details", and the picture under the map."""

from __future__ import annotations

import io

import numpy as np

from h5eval_widgets.views._pictures import heat_colors, overlay_png


def _png(widget) -> np.ndarray:
    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(widget.value)).convert("RGB")).astype(int)


def _saliency_images(box) -> list:
    out = []
    for w in getattr(box, "children", ()):
        if "h5eval-saliency" in getattr(w, "_dom_classes", ()):
            out.append(w)
        out += _saliency_images(w)
    return out


def test_overlay_colours_where_the_map_is_high_and_keeps_the_picture_grey_elsewhere():
    """Check on a 90x60 RGB picture and a 4x4 map that is 1 in its top-left quarter only: the
    overlay's top-left is the map's colour blended over the picture, the rest stays grey."""
    from PIL import Image

    rgb = np.zeros((60, 90, 3), np.uint8)
    rgb[..., 0] = 200  # a red picture: grey is 0.299 * 200 = 60 in every channel
    heat = np.zeros((4, 4), np.float32)
    heat[:2, :2] = 1
    out = np.asarray(Image.open(io.BytesIO(overlay_png(Image.fromarray(rgb), heat, size=90))).convert("RGB")).astype(
        int
    )
    assert out.shape == (60, 90, 3)
    grey = out[50, 80]
    assert grey[0] == grey[1] == grey[2] and abs(grey[0] - 60) <= 1
    hot = heat_colors(np.array(1.0)).astype(float)
    np.testing.assert_allclose(out[5, 5], 0.4 * grey + 0.6 * hot, atol=2)


def test_show_saliency_draws_the_page_and_details_shows_predicted_and_true(dash):
    """Check on the demo digits CNN: clicking the toggle draws one map per card of the page,
    computed for the predicted class in one batch; a mistake's details show its maps for the
    predicted and for the true class, equal to ``ev.saliency``; integrated gradients replace
    Grad-CAM when chosen; the toggle off shows plain thumbnails again."""
    st, view = dash.state, dash.samples
    ev = st.evaluation
    assert view.saliency_controls.layout.display is None  # an image model with its model file
    wrong = np.flatnonzero(ev.y_pred != ev.y_true)
    t, p = int(ev.y_true[wrong[0]]), int(ev.y_pred[wrong[0]])
    st.selected_cell = (t, p)
    assert _saliency_images(view.gallery) == []
    ev.explainer._maps.clear()  # maps kept by earlier tests on the shared dashboard: none now
    before = ev.explainer.computed
    seen = []  # what the status line says while busy
    busy = lambda c: seen.append(st.session.activity) if c["new"] else None  # noqa: E731
    st.session.observe(busy, names="busy")
    try:
        view.saliency_toggle.value = True  # as a click in the browser
    finally:
        st.session.unobserve(busy, names="busy")
    assert st.show_saliency and seen == ["computing saliency"]
    shown = view.shown_indices
    images = _saliency_images(view.gallery)
    assert len(images) == len(shown) > 0
    assert ev.explainer.computed - before == len(shown)  # one map per card, each computed once
    view.saliency_toggle.value = False
    view.saliency_toggle.value = True
    assert ev.explainer.computed - before == len(shown)  # drawn again from the kept maps
    images = _saliency_images(view.gallery)
    # the picture of sample shown[0] under its predicted-class map, drawn as overlay_png draws it
    from h5eval_widgets.views._pictures import picture

    want = overlay_png(picture(st.dataset, int(shown[0])), ev.saliency(int(shown[0])))
    assert images[0].value == want
    # a coloured pixel where the map is highest, grey where it is zero
    px, heat = _png(images[0]), ev.saliency(int(shown[0]))
    scale = px.shape[0] // heat.shape[0]
    r, c = np.unravel_index(heat.argmax(), heat.shape)
    hot = px[r * scale + scale // 2, c * scale + scale // 2]
    assert hot.max() - hot.min() > 40
    i = int(shown[0])
    view.cards[0].children[-1].click()  # "details"
    boxes = [
        w
        for b in view.details.children
        for w in getattr(b, "children", ())
        if "h5eval-saliency-detail" in getattr(w, "_dom_classes", ())
    ]
    assert len(boxes) == 2
    captions = [b.children[1].value for b in boxes]
    assert f"predicted <b>{ev.classes[p]}</b>" in captions[0] and f"true <b>{ev.classes[t]}</b>" in captions[1]
    from h5eval_widgets.views._pictures import DETAIL_PX

    img = picture(st.dataset, i)
    assert boxes[0].children[0].value == overlay_png(img, ev.saliency(i, target="predicted"), size=DETAIL_PX * 2 // 3)
    assert boxes[1].children[0].value == overlay_png(img, ev.saliency(i, target="true"), size=DETAIL_PX * 2 // 3)
    assert not np.allclose(ev.saliency(i, target="predicted"), ev.saliency(i, target="true"))
    view.saliency_method.value = "integrated_gradients"
    assert st.saliency_method == "integrated_gradients"
    ig = ev.saliency(shown, target=ev.y_pred[shown], method="integrated_gradients")
    assert _saliency_images(view.gallery)[0].value == overlay_png(picture(st.dataset, i), ig[0])
    view.saliency_toggle.value = False
    assert _saliency_images(view.gallery) == []
    assert not [
        w
        for b in view.details.children
        for w in getattr(b, "children", ())
        if "h5eval-saliency-detail" in getattr(w, "_dom_classes", ())
    ]


def test_saliency_is_offered_only_for_image_models_with_their_model(dash):
    """Check that the toggle is hidden for a tabular model, and that an evaluation given without
    its model (no explainer) hides it too, instead of failing on a click."""
    st, view = dash.state, dash.samples
    st.model_name = "breast_cancer_mlp"
    st.dataset_name = "breast_cancer_test"
    assert view.saliency_controls.layout.display == "none"
    from h5eval_widgets import Dashboard
    from h5eval_widgets.core import Evaluation

    ev = dash.state.session.evaluate("digits_cnn", "digits_test")
    bare = Evaluation.from_predictions(ev.y_true, ev.y_proba, classes=ev.classes, dataset_name="digits_test")
    d = Dashboard.from_evaluations(
        {"cnn": bare}, {"digits_test": dash.state.session.get_dataset("digits_test")}, progress=False
    )
    d.state.selected_cell = (int(ev.y_true[0]), int(ev.y_pred[0]))
    assert d.samples.saliency_controls.layout.display == "none"
    d.state.show_saliency = True  # set from Python all the same: no maps, and no error
    assert _saliency_images(d.samples.gallery) == [] and d.state.status_level == "info"


def test_images_fed_flat_get_integrated_gradients_and_grad_cam_says_why_not(dash):
    """Check on the demo's weak MLP (8x8 digits fed as 64 values): Grad-CAM is refused with a
    message naming integrated gradients, in the status, and the toggle goes off; integrated
    gradients give 8x8 maps drawn over the cards."""
    st, view = dash.state, dash.samples
    st.model_name = "digits_weak_mlp"
    ev = st.evaluation
    st.selected_cell = (int(ev.y_true[0]), int(ev.y_pred[0]))
    view.saliency_toggle.value = True
    assert not st.show_saliency and not view.saliency_toggle.value  # the button is released too
    assert st.status_level == "error" and "integrated gradients" in st.status
    assert _saliency_images(view.gallery) == []
    view.saliency_method.value = "integrated_gradients"
    view.saliency_toggle.value = True
    assert st.show_saliency
    shown = view.shown_indices
    maps = ev.saliency(shown, method="integrated_gradients")
    assert maps.shape == (len(shown), 8, 8) and np.allclose(maps.max(axis=(1, 2)), 1)
    assert len(_saliency_images(view.gallery)) == len(shown)
