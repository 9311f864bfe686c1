"""Segmentation folders as real data comes (issue 33): images of different sizes, as Pascal VOC's
are, predicted each at its own size by a fully convolutional model or resized to a fixed-size
model's input and back; masks that look like 0/255 binary masks or VOC colour images saved as RGB
warned about and noted. Every number is checked against scikit-learn on a reference computed here
image by image with ``model.predict`` and ``tf.image.resize``; no file is ever written."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from sklearn.metrics import confusion_matrix

from h5eval_widgets.core import Evaluation
from h5eval_widgets.core.errors import DatasetError, ShapeMismatchError
from tests.helpers import digests
from tests.segmentation_fixtures import scaled, shapes

LABELS = [0, 1, 2]
#: (width, height) of the images, as VOC's differ: landscape, portrait, square
SIZES = ((40, 28), (24, 36), (32, 32))
#: Pascal VOC's colours of classes 0, 1, 2 and of its border (255)
VOC = {0: (0, 0, 0), 1: (128, 0, 0), 2: (0, 128, 0), 255: (224, 224, 192)}


def _voc_palette() -> list[int]:
    flat = [0] * 768
    for i, c in VOC.items():
        flat[3 * i : 3 * i + 3] = c
    return flat


def _images_and_masks() -> list[tuple[np.ndarray, np.ndarray]]:
    """Nine shape images (three of each size) with masks of classes 0-2 and a VOC-like border
    of 255 around each disc."""
    out = []
    for j, (w, h) in enumerate(SIZES * 3):
        X, y = shapes(1, seed=100 + j, size=max(w, h))
        x, m = X[0, :h, :w], y[0, :h, :w].copy()
        grown = np.zeros_like(m, bool)
        disc = m == 2
        grown[1:, :] |= disc[:-1, :]
        grown[:-1, :] |= disc[1:, :]
        m[grown & ~disc & (m == 0)] = 255
        out.append((np.ascontiguousarray(x), m))
    return out


def _files(folder: Path) -> dict:
    return digests(sorted(p for p in folder.rglob("*") if p.is_file()))


@pytest.fixture(scope="module")
def voc_like(tmp_path_factory) -> tuple[Path, Path, list]:
    """A VOC-like folder: PNG images of three sizes and palette PNG masks (VOC's colours)."""
    root = tmp_path_factory.mktemp("voc_like")
    images, masks = root / "JPEGImages", root / "SegmentationClass"
    images.mkdir()
    masks.mkdir()
    pairs = _images_and_masks()
    for i, (x, m) in enumerate(pairs):
        Image.fromarray(x).save(images / f"2007_{i:06d}.png")
        p = Image.fromarray(m, mode="P")
        p.putpalette(_voc_palette())
        p.save(masks / f"2007_{i:06d}.png")
    return images, masks, pairs


@pytest.fixture(scope="module")
def fcn(tmp_path_factory) -> dict[str, Path]:
    """A tiny fully convolutional model (input (None, None, 3)) trained a few epochs on 32x32
    shapes, and a fixed-size model (input (32, 32, 3)) with the same layers and weights, saved
    as .keras files."""
    import keras

    keras.utils.set_random_seed(0)
    X, y = shapes(96, seed=7)

    def build(shape):
        inp = keras.Input(shape)
        h = keras.layers.Conv2D(8, 3, padding="same", activation="relu")(inp)
        return keras.Model(inp, keras.layers.Conv2D(3, 1, activation="softmax")(h))

    free = build((None, None, 3))
    free.compile(keras.optimizers.Adam(0.01), "sparse_categorical_crossentropy")
    free.fit(scaled(X), y, epochs=20, batch_size=8, verbose=0)
    fixed = build((32, 32, 3))
    fixed.set_weights(free.get_weights())
    folder = tmp_path_factory.mktemp("fcn")
    free.save(folder / "fcn.keras")
    fixed.save(folder / "fixed32.keras")
    return {"free": folder / "fcn.keras", "fixed": folder / "fixed32.keras"}


def _load(path):
    import keras

    return keras.models.load_model(path, compile=False)


def _sklearn(pairs, preds) -> np.ndarray:
    """scikit-learn's matrix over the concatenation of every image's kept pixels (255 ignored)."""
    t = np.concatenate([m.reshape(-1) for _, m in pairs])
    p = np.concatenate([q.reshape(-1) for q in preds])
    keep = t != 255
    return confusion_matrix(t[keep], p[keep], labels=LABELS)


def _evaluate(model, images, masks, **options):
    return Evaluation.from_model(model, images, masks=masks, progress=False, cache=False, **options)


def _resized_reference(model, pairs, size_hw) -> list[np.ndarray]:
    """Each image resized to ``size_hw`` (bilinear, as Keras's image pipeline), predicted, its
    scores resized back to its mask's size (bilinear), arg-max."""
    import tensorflow as tf

    preds = []
    for x, m in pairs:
        small = tf.image.resize(x[None].astype(np.float32), size_hw, "bilinear").numpy()
        scores = model.predict(scaled(small), verbose=0)
        preds.append(tf.image.resize(scores, m.shape, "bilinear").numpy()[0].argmax(-1))
    return preds


def test_a_free_size_model_predicts_each_image_at_its_own_size(fcn, voc_like):
    """Check that a fully convolutional model on images of 3 sizes gives the pixel matrix of
    scikit-learn over each image predicted alone at its own size, per image too, its masks at
    each image's size, a note saying so, and no file written or changed."""
    images, masks, pairs = voc_like
    before = _files(images.parent)
    model = _load(fcn["free"])
    preds = [model.predict(scaled(x)[None], verbose=0)[0].argmax(-1) for x, _ in pairs]
    ev = _evaluate(fcn["free"], images, masks, batch_size=2)  # groups of 3 split into batches
    cm = _sklearn(pairs, preds)
    assert cm[1:].sum() > 0 and (cm.sum(0) > 0).sum() >= 2  # real classes, more than one predicted
    np.testing.assert_array_equal(ev.confusion_matrix(), cm)
    for i in range(len(pairs)):  # each image's own counts, at its own size
        np.testing.assert_array_equal(ev.counts[i], _sklearn(pairs[i : i + 1], preds[i : i + 1]))
    assert "Images of 3 sizes, each predicted at its own size (grouped by size into batches)." in ev.notes
    for i, (picture, true, predicted) in zip(range(3), ev.masks([0, 1, 2])):
        x, m = pairs[i]
        assert picture.shape == x.shape and true.shape == predicted.shape == m.shape
        np.testing.assert_array_equal(predicted, preds[i])
    assert _files(images.parent) == before


def test_a_fixed_size_model_takes_resized_images_and_its_scores_go_back_bilinear(fcn, voc_like):
    """Check that a 32x32-input model on images of 3 sizes equals scikit-learn on each image
    resized to 32x32, predicted, its scores resized back bilinear to its mask, arg-max; and
    that the notes say so."""
    images, masks, pairs = voc_like
    before = _files(images.parent)
    preds = _resized_reference(_load(fcn["fixed"]), pairs, (32, 32))
    ev = _evaluate(fcn["fixed"], images, masks)
    np.testing.assert_array_equal(ev.confusion_matrix(), _sklearn(pairs, preds))
    assert (
        "Images of 3 sizes resized to the model's 32x32 input (bilinear); the scores resized back "
        "to each mask's size (bilinear), then arg-max." in ev.notes
    )
    assert not any("each predicted at its own size" in n for n in ev.notes)
    assert [p.shape for _, _, p in ev.masks([0, 1])] == [pairs[0][1].shape, pairs[1][1].shape]
    assert _files(images.parent) == before


def test_image_size_resizes_every_image_for_a_free_size_model(fcn, voc_like):
    """Check that image_size=(24, 16) feeds every image at 24 wide, 16 high to the free-size
    model, scores back to each mask's size; and that a fixed-size model refuses another size."""
    images, masks, pairs = voc_like
    preds = _resized_reference(_load(fcn["free"]), pairs, (16, 24))
    ev = _evaluate(fcn["free"], images, masks, image_size=(24, 16))
    np.testing.assert_array_equal(ev.confusion_matrix(), _sklearn(pairs, preds))
    assert any(n.startswith("Images of 3 sizes resized to image_size=24x16 (bilinear)") for n in ev.notes)
    with pytest.raises(ShapeMismatchError, match=r"image_size=\(24, 16\) but .* takes 32x32 images"):
        _evaluate(fcn["fixed"], images, masks, image_size=(24, 16))


def _binary_model(path: Path) -> Path:
    """A 2-class fully convolutional model (untrained, seeded) saved as a .keras file."""
    import keras

    keras.utils.set_random_seed(3)
    inp = keras.Input((None, None, 3))
    h = keras.layers.Conv2D(4, 3, padding="same", activation="relu")(inp)
    keras.Model(inp, keras.layers.Conv2D(2, 1, activation="softmax")(h)).save(path)
    return path


def test_masks_of_0_and_255_warn_and_note_the_cause_and_the_fix(voc_like, tmp_path):
    """Check that a folder of 0/255 masks for a 2-class model warns and notes that every 255
    pixel was ignored, naming palette={255: 1}; that palette={255: 1} then counts them as class
    1 (scikit-learn's matrix) without the warning; and that no file is changed."""
    images, _, pairs = voc_like
    binary = tmp_path / "binary"
    binary.mkdir()
    for i, (_, m) in enumerate(pairs):
        Image.fromarray(np.where((m > 0) & (m < 255), 255, 0).astype(np.uint8), mode="L").save(
            binary / f"2007_{i:06d}.png"
        )
    model = _binary_model(tmp_path / "binary.keras")
    before = {**_files(images), **_files(binary)}
    with pytest.warns(UserWarning, match=r"look like 0/255 binary masks.*palette=\{255: 1\}"):
        ev = _evaluate(model, images, binary)
    assert ev.confusion_matrix()[1].sum() == 0
    assert any("0/255 binary masks" in n and "palette={255: 1}" in n and "ignore_index=255" in n for n in ev.notes)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        mapped = _evaluate(model, images, binary, palette={255: 1})
    assert not [w for w in caught if "0/255" in str(w.message)]
    assert not any("0/255" in n for n in mapped.notes)
    keras_model = _load(model)
    preds = [keras_model.predict(scaled(x)[None], verbose=0)[0].argmax(-1) for x, _ in pairs]
    t = np.concatenate([((m > 0) & (m < 255)).reshape(-1) for _, m in pairs]).astype(int)
    np.testing.assert_array_equal(
        mapped.confusion_matrix(), confusion_matrix(t, np.concatenate([p.reshape(-1) for p in preds]), labels=[0, 1])
    )
    assert mapped.confusion_matrix()[1].sum() > 0
    assert {**_files(images), **_files(binary)} == before


def _rgb_masks(folder: Path, pairs, colours: dict) -> Path:
    folder.mkdir()
    lut = np.zeros((256, 3), np.uint8)
    for v, c in colours.items():
        lut[v] = c
    for i, (_, m) in enumerate(pairs):
        Image.fromarray(lut[m], mode="RGB").save(folder / f"2007_{i:06d}.png")
    return folder


def test_voc_colour_masks_saved_as_rgb_are_read_with_vocs_colours_warned_and_noted(fcn, voc_like, tmp_path):
    """Check that VOC colour masks saved as RGB (border colour included) give the matrix of the
    palette PNG masks, with a warning and a note naming VOC's colour map and palette=; that
    palette='voc' reads them without the warning; and that no file is changed."""
    images, masks, _ = voc_like
    rgb = _rgb_masks(tmp_path / "rgb", voc_like[2], VOC)
    before = {**_files(images), **_files(rgb)}
    with pytest.warns(UserWarning, match=r"RGB colour images, not class indices: .*Pascal VOC's colour map"):
        ev = _evaluate(fcn["free"], images, rgb)
    plain = _evaluate(fcn["free"], images, masks)
    np.testing.assert_array_equal(ev.confusion_matrix(), plain.confusion_matrix())
    assert any("Pascal VOC's colour map" in n and "palette={(r, g, b): class_index" in n for n in ev.notes)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        voc = _evaluate(fcn["free"], images, rgb, palette="voc")
    assert not [w for w in caught if "colour" in str(w.message)]
    np.testing.assert_array_equal(voc.confusion_matrix(), plain.confusion_matrix())
    assert {**_files(images), **_files(rgb)} == before


def test_rgb_masks_that_mean_one_thing_are_read_and_others_refused_naming_the_file(fcn, voc_like, tmp_path):
    """Check that grey RGB masks (equal channels) are read as class indices; that VOC's colours
    without VOC's border are refused naming palette='voc'; that other colours are refused naming
    the file and palette=; and that no file is changed."""
    images, masks, pairs = voc_like
    grey = _rgb_masks(tmp_path / "grey", pairs, {v: (v, v, v) for v in (0, 1, 2, 255)})
    no_border = [(x, np.where(m == 255, 0, m)) for x, m in pairs]
    voc_colours = _rgb_masks(tmp_path / "voc_no_border", no_border, VOC)
    other = _rgb_masks(tmp_path / "other", pairs, {0: (10, 20, 30), 1: (200, 0, 0), 2: (0, 0, 200), 255: (9, 9, 9)})
    before = {**_files(images), **_files(tmp_path)}
    ev = _evaluate(fcn["free"], images, grey)
    np.testing.assert_array_equal(ev.confusion_matrix(), _evaluate(fcn["free"], images, masks).confusion_matrix())
    with pytest.raises(DatasetError, match=r"2007_0000\d\d.png is a colour image.*palette='voc' reads them"):
        _evaluate(fcn["free"], images, voc_colours)
    with pytest.raises(
        DatasetError, match=r"other.2007_0000\d\d.png is a colour image, not class indices; pass palette="
    ):
        _evaluate(fcn["free"], images, other)
    assert {**_files(images), **_files(tmp_path)} == before


def test_the_dashboard_draws_each_image_of_another_size_at_its_own_shape(fcn, voc_like):
    """Check that the dashboard's mask cards and details of images of 3 sizes each keep their
    image's width and height (scaled on the long side), true and predicted alike."""
    import io

    from h5eval_widgets import Dashboard

    images, masks, pairs = voc_like
    ev = _evaluate(fcn["free"], images, masks)
    dash = Dashboard.from_evaluations({"fcn": ev})
    try:
        dash.pixel_matrix.click_cell(1, 1)
        gallery = dash.mask_gallery
        shown = gallery.shown_indices
        assert {pairs[int(i)][1].shape for i in shown} == {(h, w) for w, h in SIZES}  # all 3 sizes shown

        def size_of(png: bytes) -> tuple[int, int]:
            return Image.open(io.BytesIO(png)).size

        def expected(i: int, px: int) -> tuple[int, int]:
            h, w = pairs[i][1].shape
            s = px / max(w, h)
            return round(w * s), round(h * s)

        for n, i in enumerate(shown):
            true_png, pred_png = (w.value for w in gallery.card_images[n])
            assert size_of(true_png) == size_of(pred_png) == expected(int(i), gallery.thumb_px)
        dash.state.selected_sample = int(shown[1])
        assert {size_of(w.value) for w in gallery.detail_images} == {expected(int(shown[1]), gallery.detail_px)}
    finally:
        dash.close()
