"""Users' own models and data: image folders of mixed photos, keras.applications models,
text and multi-input models, streamed datasets. Each engine result is compared with
``model.predict`` on inputs prepared the same way, by hand, from the same files."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import ipywidgets
import numpy as np
import pandas as pd
import pytest

from h5eval_widgets.core import DatasetError, Evaluation, ShapeMismatchError, load_dataset
from h5eval_widgets.core.inference.feed import rows_per_call
from h5eval_widgets.core import load_model
from h5eval_widgets.core.cache import file_digest
from tests.helpers import record_calls, require, run_dashboard_cell, write_image_folder

CLASSES = ("cat", "dog", "fox")


def _photo(rng, w: int, h: int, mode: str):
    from PIL import Image

    yy, xx = np.mgrid[0:h, 0:w]
    base = np.stack([(xx * 255 // w), (yy * 255 // h), ((xx + yy) * 127 // (w + h))], -1)
    noise = rng.integers(0, 40, (h, w, 3))
    img = Image.fromarray(np.clip(base + noise, 0, 255).astype(np.uint8))
    return img.convert(mode)


def make_photo_folder(root: Path, n_per_class: int = 4, sizes=(40, 90), seed: int = 0) -> Path:
    """JPEG photos of mixed sizes, colour and grayscale (and one RGBA PNG), one folder per class."""
    rng = np.random.default_rng(seed)
    for c in CLASSES:
        (root / c).mkdir(parents=True)
        for i in range(n_per_class):
            w, h = (int(v) for v in rng.integers(sizes[0], sizes[1], 2))
            mode = "L" if i % 3 == 1 else "RGB"
            _photo(rng, w, h, mode).save(root / c / f"{c}_{i}.jpg", quality=90)
    _photo(rng, 50, 35, "RGBA").save(root / CLASSES[0] / "extra.png")
    return root


def keras_pixels(folder: Path, size: tuple[int, int], color_mode: str) -> np.ndarray:
    """The pixels the plain Keras way reads: image_dataset_from_directory at (width, height)."""
    import keras

    ds = keras.utils.image_dataset_from_directory(
        folder, image_size=size[::-1], color_mode=color_mode, shuffle=False, batch_size=64
    )
    return np.concatenate([x.numpy() for x, _ in ds])


def saved(model, tmp_path_factory, name: str) -> Path:
    """``model`` saved as ``name`` in a new temporary folder."""
    path = tmp_path_factory.mktemp("m") / name
    model.save(path)
    return path


@pytest.fixture(scope="module")
def photos(tmp_path_factory) -> Path:
    return make_photo_folder(tmp_path_factory.mktemp("photos") / "faces")


@pytest.fixture(scope="module")
def gray_cnn_keras2(tmp_path_factory) -> Path:
    """An old Keras 2 grayscale CNN (32x32x1) saved as .h5, as users have them."""
    tf_keras = require("tf_keras")
    tf_keras.utils.set_random_seed(3)
    m = tf_keras.Sequential(
        [
            tf_keras.layers.Conv2D(4, 3, activation="relu", input_shape=(32, 32, 1)),
            tf_keras.layers.MaxPooling2D(),
            tf_keras.layers.Flatten(),
            tf_keras.layers.Dense(3, activation="softmax"),
        ]
    )
    return saved(m, tmp_path_factory, "gray_cnn.h5")


@pytest.fixture(scope="module")
def mobilenet(tmp_path_factory) -> Path:
    import keras

    keras.utils.set_random_seed(4)
    m = keras.applications.MobileNetV2(weights=None, input_shape=(32, 32, 3), classes=3, alpha=0.35)
    return saved(m, tmp_path_factory, "mobilenet_v2.keras")


@pytest.fixture(scope="module")
def rescaling_cnn(tmp_path_factory) -> Path:
    """A CNN that scales raw pixels itself (Rescaling first), behind a random-flip layer."""
    import keras

    keras.utils.set_random_seed(5)
    m = keras.Sequential(
        [
            keras.Input((24, 24, 3)),
            keras.layers.RandomFlip(),
            keras.layers.Rescaling(1 / 255),
            keras.layers.Conv2D(4, 3, activation="relu"),
            keras.layers.GlobalAveragePooling2D(),
            keras.layers.Dense(3, activation="softmax"),
        ]
    )
    return saved(m, tmp_path_factory, "rescaling_cnn.keras")


def test_keras2_grayscale_cnn_on_colour_jpegs_of_mixed_sizes(photos, gray_cnn_keras2):
    """Check that images follow the model: resized to 32x32 and made grayscale, read as the
    plain Keras way reads them (same decoder, same resize)."""
    before = file_digest(photos)
    ev = Evaluation.from_model(gray_cnn_keras2, photos, progress=False, cache=False)
    import keras

    model = keras.saving.load_model(gray_cnn_keras2, compile=False)
    expected = model.predict(keras_pixels(photos, (32, 32), "grayscale") / 255, verbose=0)
    np.testing.assert_allclose(ev.y_proba, expected, rtol=1e-5, atol=1e-6)
    assert ev.classes == CLASSES and ev.n_samples == 13
    notes = " ".join(ev.notes)
    assert "Images read as 32x32 grayscale" in notes and "13 of 13 images had another size" in notes
    assert "multiplied by 0.00392157" in notes
    assert "read as 32x32 grayscale" in ev.to_text()
    assert file_digest(photos) == before


def test_color_mode_and_image_size_given_by_hand(photos, gray_cnn_keras2):
    """Check that image_size/color_mode override the model's and are then adapted to it."""
    ds = load_dataset(photos, image_size=(16, 64), color_mode="grayscale")
    assert ds.X.shape == (13, 64, 16, 1)
    np.testing.assert_array_equal(ds.X[[4, 0]], keras_pixels(photos, (16, 64), "grayscale")[[4, 0]])
    ev = Evaluation.from_model(gray_cnn_keras2, ds, progress=False, cache=False)  # 16*64 = 32*32
    assert any("reshaped from (64, 16, 1)" in n for n in ev.notes)


@pytest.mark.parametrize("preprocess", ["auto", "mobilenet_v2"])
def test_keras_applications_model_on_a_jpeg_folder(photos, mobilenet, preprocess):
    """Check a MobileNetV2 on photos with preprocess='auto' (x/255) and with its family's
    preprocess_input, against model.predict on the same files prepared by hand."""
    import keras

    ev = Evaluation.from_model(mobilenet, photos, progress=False, cache=False, preprocess=preprocess)
    x = keras_pixels(photos, (32, 32), "rgb")
    if preprocess == "auto":
        x = x / 255
    else:
        x = keras.applications.mobilenet_v2.preprocess_input(x)
    expected = keras.saving.load_model(mobilenet, compile=False).predict(x, verbose=0)
    np.testing.assert_allclose(ev.y_proba, expected, rtol=1e-4, atol=1e-6)
    assert any("read as 32x32 RGB" in n for n in ev.notes)


@pytest.fixture(scope="module")
def rgb_cnn(tmp_path_factory) -> Path:
    """A small CNN on 32x32 RGB with no scaling of its own (its preprocessing comes from outside)."""
    import keras

    keras.utils.set_random_seed(9)
    m = keras.Sequential(
        [
            keras.Input((32, 32, 3)),
            keras.layers.Conv2D(4, 3, activation="relu"),
            keras.layers.GlobalAveragePooling2D(),
            keras.layers.Dense(3, activation="softmax"),
        ]
    )
    return saved(m, tmp_path_factory, "rgb_cnn.keras")


@pytest.mark.parametrize("family", ["resnet50", "efficientnet", "vgg16", "inception_v3", "EfficientNetB0"])
def test_preprocess_of_other_keras_applications_families(photos, rgb_cnn, family):
    """Check preprocess= with families other than mobilenet_v2 (caffe-style BGR means, identity,
    [-1, 1]; a model's name picks its family): outputs equal model.predict on the folder's pixels
    put through that family's own preprocess_input."""
    import importlib

    import keras

    module = {"EfficientNetB0": "efficientnet"}.get(family, family)
    ev = Evaluation.from_model(rgb_cnn, photos, progress=False, cache=False, preprocess=family)
    x = importlib.import_module(f"keras.applications.{module}").preprocess_input(keras_pixels(photos, (32, 32), "rgb"))
    model = keras.saving.load_model(rgb_cnn, compile=False)
    np.testing.assert_allclose(ev.y_proba, model.predict(x, verbose=0), rtol=1e-5, atol=1e-6)
    assert any(module in n for n in ev.notes), ev.notes


def test_color_mode_rgba_reads_four_channels(photos, tmp_path):
    """Check color_mode="rgba": PNGs keep their own alpha, read as image_dataset_from_directory
    reads them; JPEGs (no alpha, which TensorFlow refuses to decode as 4 channels) get their RGB
    and an opaque alpha; a model with a 4-channel input gets them by default, equal to
    model.predict on those pixels."""
    import keras

    from PIL import Image

    translucent = tmp_path / "translucent"
    rng = np.random.default_rng(11)
    for c in CLASSES:
        (translucent / c).mkdir(parents=True)
        rgba = rng.integers(0, 256, (20, 28, 4), dtype=np.uint8)
        rgba[..., 3] = 128
        Image.fromarray(rgba, "RGBA").save(translucent / c / "a.png")
    ds = load_dataset(translucent, image_size=(24, 24), color_mode="rgba")
    assert ds.X.shape == (3, 24, 24, 4)
    np.testing.assert_array_equal(np.asarray(ds.X), keras_pixels(translucent, (24, 24), "rgba"))
    assert (np.asarray(ds.X)[..., 3] == 128).all()

    ds = load_dataset(photos, image_size=(24, 24), color_mode="rgba")  # 12 JPEGs and an opaque PNG
    x = np.asarray(ds.X)
    assert x.shape == (13, 24, 24, 4) and (x[..., 3] == 255).all()
    np.testing.assert_array_equal(x[..., :3], keras_pixels(photos, (24, 24), "rgb"))
    keras.utils.set_random_seed(10)
    model = keras.Sequential(
        [
            keras.Input((24, 24, 4)),
            keras.layers.Conv2D(2, 3),
            keras.layers.GlobalAveragePooling2D(),
            keras.layers.Dense(3, activation="softmax"),
        ]
    )
    ev = Evaluation.from_model(model, photos, progress=False, cache=False)
    np.testing.assert_allclose(ev.y_proba, model.predict(x / 255, verbose=0), rtol=1e-5, atol=1e-6)


def test_inputs_read_from_files_go_at_most_24_rows_per_call(photos, rgb_cnn, monkeypatch):
    """Check that images read from files reach the model at most 24 rows per forward call, while
    the same pixels as an array in memory go in one call."""
    from h5eval_widgets.core.inference import predict

    rows: list[int] = []
    original = predict._forward_fn

    def counting_rows(*args, **kwargs):
        forward = original(*args, **kwargs)
        return lambda chunk: rows.append(len(chunk)) or forward(chunk)

    monkeypatch.setattr(predict, "_forward_fn", counting_rows)
    big = tmp = photos.parent / "many"
    if not big.exists():
        import shutil

        for c in CLASSES:
            (tmp / c).mkdir(parents=True)
            for k in range(3):
                for f in (photos / c).glob("*.jpg"):
                    shutil.copy(f, tmp / c / f"{k}_{f.name}")
    ev = Evaluation.from_model(rgb_cnn, big, progress=False, cache=False, preprocess="auto")
    assert ev.n_samples == 36 and sum(rows) == 36
    assert max(rows) == 24 and len(rows) == 2, rows
    rows.clear()
    x = keras_pixels(big, (32, 32), "rgb") / 255
    in_memory = Evaluation.from_model(rgb_cnn, x, ev.y_true, progress=False, cache=False)
    assert rows == [36]
    np.testing.assert_allclose(in_memory.y_proba, ev.y_proba, rtol=1e-5, atol=1e-6)


def test_a_model_with_a_rescaling_layer_gets_raw_pixels(photos, rescaling_cnn):
    """Check that pixels are not scaled twice when the model has its own Rescaling layer."""
    import keras

    ev = Evaluation.from_model(rescaling_cnn, photos, progress=False, cache=False)
    model = keras.saving.load_model(rescaling_cnn, compile=False)
    raw = keras_pixels(photos, (24, 24), "rgb")
    np.testing.assert_allclose(ev.y_proba, model.predict(raw, verbose=0), rtol=1e-5, atol=1e-6)
    assert not np.allclose(ev.y_proba, model.predict(raw / 255, verbose=0), atol=1e-4)
    assert any("0-255" in n for n in ev.notes)


def test_image_dataset_from_directory_is_streamed_not_stacked(photos, gray_cnn_keras2, monkeypatch):
    """Check a streamed tf.data dataset: same outputs as model.predict on it, labels collected
    on the way, file paths kept for the gallery, and never turned into one array."""
    import keras

    from h5eval_widgets.core.data.sources import TFDataStream

    ds = keras.utils.image_dataset_from_directory(
        photos, image_size=(32, 32), color_mode="grayscale", shuffle=False, batch_size=4
    )
    monkeypatch.setattr(TFDataStream, "__array__", lambda *a, **k: pytest.fail("stacked"))
    data = load_dataset(ds)
    ev = Evaluation.from_model(gray_cnn_keras2, data, progress=False, cache=False, batch_size=5)
    model = keras.saving.load_model(gray_cnn_keras2, compile=False)
    expected = model.predict(ds.map(lambda x, y: x / 255), verbose=0)
    assert ev.n_samples == 13 and ev.classes == CLASSES
    # without preprocess the stream's batches go in as they are (0-255), as model.predict takes them
    np.testing.assert_allclose(ev.y_proba, model.predict(ds, verbose=0), rtol=1e-5, atol=1e-6)
    ev = Evaluation.from_model(gray_cnn_keras2, ds, progress=False, cache=False, preprocess=1 / 255)
    np.testing.assert_allclose(ev.y_proba, expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(ev.y_true, np.concatenate([y for _, y in ds]))
    assert data.file_path(12) == Path(ds.file_paths[12])


@pytest.fixture(scope="module")
def text_model(tmp_path_factory):
    """A text classifier with a TextVectorization layer inside (string input)."""
    import keras

    keras.utils.set_random_seed(6)
    texts = np.array(
        [
            "great film, loved it",
            "awful plot and bad acting",
            "loved the music",
            "bad, boring, awful",
            "a great cast",
            "boring and bad",
        ]
        * 3
    )
    labels = np.array([1, 0, 1, 0, 1, 0] * 3)
    vec = keras.layers.TextVectorization(max_tokens=40, output_sequence_length=6)
    vec.adapt(texts)
    inp = keras.Input((1,), dtype="string", name="review")
    x = keras.layers.Embedding(41, 8)(vec(inp))
    x = keras.layers.GlobalAveragePooling1D()(x)
    model = keras.Model(inp, keras.layers.Dense(2, activation="softmax")(x))
    model.compile("adam", "sparse_categorical_crossentropy")
    import tensorflow as tf

    model.fit(tf.data.Dataset.from_tensor_slices((texts[:, None], labels)).batch(6), epochs=3, verbose=0, shuffle=False)
    folder = tmp_path_factory.mktemp("text")
    path = folder / "text.keras"
    model.save(path)
    csv = folder / "reviews.csv"
    pd.DataFrame({"review": texts, "label": labels}).to_csv(csv, index=False)
    return path, csv, texts, labels


def test_text_model_with_text_vectorization_from_a_csv(text_model):
    """Check that a string column goes to a model with a string input."""
    import keras

    path, csv, texts, labels = text_model
    ev = Evaluation.from_model(path, csv, progress=False, cache=False, label_column="label")
    import tensorflow as tf

    expected = keras.saving.load_model(path, compile=False).predict(tf.constant(texts[:, None]), verbose=0)
    np.testing.assert_allclose(ev.y_proba, expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(ev.y_true, labels)
    data = load_dataset(csv)
    assert data.kind == "text" and data.sample(1) == texts[1]


def test_saliency_of_a_text_model_says_why_not(text_model):
    """Check that a text model's saliency is refused, saying its input is text with no gradient."""
    from h5eval_widgets.core import H5EvalError

    path, csv, _, _ = text_model
    ev = Evaluation.from_model(path, csv, progress=False, cache=False, label_column="label")
    with pytest.raises(H5EvalError, match=r"input is .*\(text or token ids\).*no gradient.*image models"):
        ev.saliency(0)


@pytest.fixture(scope="module")
def two_input_model(age_income_model):
    """The two-input (age, income) model and a table of 50 people with a city and a label."""
    path = age_income_model
    rng = np.random.default_rng(0)
    df = pd.DataFrame(
        {
            "income": rng.normal(4e4, 1e4, 50).round(),
            "age": rng.integers(18, 90, 50),
            "city": rng.choice(["north", "south"], 50),
            "label": rng.integers(0, 3, 50),
        }
    )
    return path, df


def test_two_input_model_from_a_dataframe_a_csv_a_dict_and_a_list(two_input_model, tmp_path):
    """Check that columns are matched to the model's input names, whatever their order."""
    import keras

    path, df = two_input_model
    model = keras.saving.load_model(path, compile=False)
    expected = model.predict(
        {"age": df[["age"]].to_numpy("float32"), "income": df[["income"]].to_numpy("float32")}, verbose=0
    )
    csv = tmp_path / "people.csv"
    df.to_csv(csv, index=False)
    y = df["label"].to_numpy()
    given = {
        "DataFrame": (df, None),
        "CSV": (csv, None),
        "numeric DataFrame": (df.drop(columns="city"), None),
        "dict": ({"income": df["income"].to_numpy(), "age": df["age"].to_numpy()}, y),
        "list in input order": ([df["age"].to_numpy(), df["income"].to_numpy()], y),
    }
    for what, (X, labels) in given.items():
        ev = Evaluation.from_model(path, X, labels, progress=False, cache=False)
        np.testing.assert_allclose(ev.y_proba, expected, rtol=1e-5, atol=1e-6, err_msg=what)
        np.testing.assert_array_equal(ev.y_true, y)


def test_a_missing_input_is_named_with_the_columns_found(two_input_model, tmp_path):
    """Check the error for a table without a column for one of the inputs."""
    path, df = two_input_model
    csv = tmp_path / "people.csv"
    df.rename(columns={"income": "salary"}).to_csv(csv, index=False)
    before = file_digest(csv)
    with pytest.raises(DatasetError, match=r"input\(s\) \['income'\].*'salary'"):
        Evaluation.from_model(path, csv, progress=False, cache=False)
    assert file_digest(csv) == before


def test_batches_are_sized_for_the_model():
    """Check that a 224x224 MobileNetV2 gets CNN-sized batches and a small MLP its large chunks."""
    import keras

    cnn = load_model(keras.applications.MobileNetV2(weights=None, input_shape=(224, 224, 3), classes=5))
    mlp = load_model(
        keras.Sequential(
            [
                keras.Input((32,)),
                keras.layers.Dense(64, activation="relu"),
                keras.layers.Dense(10, activation="softmax"),
            ]
        )
    )
    assert cnn.info.activation_bytes >= 224 * 224 * 4 * 16 // 4  # the first block's feature maps
    cnn_rows = rows_per_call(224 * 224 * 3 * 4, cnn.info.activation_bytes)
    assert 1 <= cnn_rows <= 128
    assert rows_per_call(32 * 4, mlp.info.activation_bytes) == (16 << 20) // (32 * 4)
    assert rows_per_call(32 * 4, mlp.info.activation_bytes, batch_size=7) == 7


def test_a_corrupt_jpeg_is_named(photos, gray_cnn_keras2, tmp_path):
    """Check that a truncated JPEG (its header still reads) stops with its file named."""
    import shutil

    folder = tmp_path / "photos"
    shutil.copytree(photos, folder)
    bad = folder / "dog" / "dog_2.jpg"
    bad.write_bytes(bad.read_bytes()[:300])
    before = file_digest(folder)
    with pytest.raises(DatasetError, match=r"dog_2\.jpg could not be"):
        Evaluation.from_model(gray_cnn_keras2, folder, progress=False, cache=False)
    assert file_digest(folder) == before


def test_images_the_model_cannot_take_say_what_was_tried(photos, multiclass_h5):
    """Check the error for an image folder given to a model of 4 features."""
    with pytest.raises(ShapeMismatchError, match=r"expects \(4,\).*images were read at \d+x\d+ RGB"):
        Evaluation.from_model(multiclass_h5, photos, progress=False, cache=False)


def test_a_model_of_any_image_size(photos, tmp_path):
    """Check a model with None height and width: images kept at their size if they agree."""
    import keras

    from PIL import Image

    model = keras.Sequential(
        [
            keras.Input((None, None, 3)),
            keras.layers.Conv2D(2, 3),
            keras.layers.GlobalAveragePooling2D(),
            keras.layers.Dense(3, activation="softmax"),
        ]
    )
    with pytest.raises(ShapeMismatchError, match=r"any size.*image_size="):
        Evaluation.from_model(model, photos, progress=False, cache=False)
    same = tmp_path / "same"
    for c in CLASSES:
        (same / c).mkdir(parents=True)
        Image.new("RGB", (20, 12), (10, 200, 30)).save(same / c / "a.png")
    ev = Evaluation.from_model(model, same, progress=False, cache=False)
    x = np.full((3, 12, 20, 3), (10, 200, 30), np.float32) / 255
    np.testing.assert_allclose(ev.y_proba, model.predict(x, verbose=0), rtol=1e-5)
    ev = Evaluation.from_model(model, photos, progress=False, cache=False, image_size=(30, 20))
    assert ev.n_samples == 13
    x = keras_pixels(photos, (30, 20), "rgb") / 255  # 30 wide, 20 high
    assert x.shape == (13, 20, 30, 3)
    np.testing.assert_allclose(ev.y_proba, model.predict(x, verbose=0), rtol=1e-5, atol=1e-6)


PEAK = """
import resource, sys
from h5eval_widgets.core import Evaluation
ev = Evaluation.from_model(sys.argv[1], sys.argv[2], progress=False, cache=False, batch_size=32)
print(ev.n_samples, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)
"""


def test_a_folder_twice_as_large_does_not_raise_peak_memory(tmp_path, rescaling_cnn):
    """Check in fresh processes that memory is one batch plus the outputs, not the folder: the
    600-image folder's peak may exceed the 300-image one's by the extra outputs plus half of what
    stacking the extra 300 images as float32 at 128x128 would add (59 MB), so a stacked folder
    fails by at least 29 MB, while the peaks' run-to-run noise passes (measured here, three
    runs of each folder: 767-773 MB, differences up to 6.3 MB)."""
    import keras

    keras.utils.set_random_seed(8)
    model = keras.Sequential(
        [
            keras.Input((128, 128, 3)),
            keras.layers.Rescaling(1 / 255),
            keras.layers.Conv2D(4, 3, strides=4),
            keras.layers.GlobalAveragePooling2D(),
            keras.layers.Dense(3, activation="softmax"),
        ]
    )
    model.save(tmp_path / "m.keras")
    for n in (300, 600):
        write_image_folder(
            tmp_path / f"f{n}", CLASSES, n // 3, size=(170, 150), mode="RGB", suffix="jpg", seed=n, quality=60
        )
    peaks = {}
    for n in (300, 600):
        out = subprocess.run(
            [sys.executable, "-c", PEAK, str(tmp_path / "m.keras"), str(tmp_path / f"f{n}")],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()
        assert int(out[-2]) == n
        peaks[n] = int(out[-1])
    outputs = 300 * 3 * 4 * 2  # the extra samples' outputs (and their copy in the evaluation)
    stacked = 300 * 128 * 128 * 3 * 4  # the extra images as one float32 array: 59 MB
    assert peaks[600] - peaks[300] < outputs + stacked // 2, json.dumps(peaks)


def test_dashboard_on_a_photo_folder_shows_the_original_files(photos, gray_cnn_keras2):
    """Check the gallery: a cell click shows each sample's own file, shrunk, with its name,
    and the data notes beside the status line say what was done to the images."""
    from PIL import Image

    from h5eval_widgets import Dashboard

    dash = Dashboard(
        models={"gray": gray_cnn_keras2},
        datasets={"faces": photos},
        progress=False,
        dataset_options={"color_mode": "grayscale"},
    )
    st = dash.state
    ev = st.evaluation
    assert ev is not None and "Images read as 32x32 grayscale" in dash.data_notes.html.value, st.status
    true, pred = map(int, np.argwhere(np.asarray(ev.confusion_matrix()) > 0)[0])
    dash.confusion.click_cell(true, pred)
    shown = dash.samples.shown_indices
    np.testing.assert_array_equal(shown, ev.cell_indices(true, pred)[: len(shown)])
    files = st.dataset.X.files
    for i, card in zip(shown, dash.samples.cards):
        image = next(w for w in card.children if isinstance(w, ipywidgets.Image))
        thumb = Image.open(__import__("io").BytesIO(image.value))
        with Image.open(files[i]) as original:
            side = max(original.size)
            assert max(thumb.size) == (72 if side > 72 else side * (72 // side))
            assert thumb.size[0] / thumb.size[1] == pytest.approx(original.size[0] / original.size[1], rel=0.05)
            assert thumb.mode == original.mode  # the file's own colours, not the model's grayscale
        assert any(files[i].name in getattr(w, "value", "") for w in card.children)


def test_cli_takes_image_size_color_mode_and_preprocess(photos, gray_cnn_keras2, capsys):
    """Check `h5eval report MODEL FOLDER --image-size W H --color-mode --preprocess`."""
    from h5eval_widgets.cli import main

    assert (
        main(
            [
                "report",
                str(gray_cnn_keras2),
                str(photos),
                "--image-size",
                "32",
                "32",
                "--color-mode",
                "grayscale",
                "--preprocess",
                "0.5",
                "--format",
                "json",
                "-q",
            ]
        )
        == 0
    )
    report = json.loads(capsys.readouterr().out)
    ev = Evaluation.from_model(gray_cnn_keras2, photos, progress=False, cache=False, preprocess=0.5)
    assert report["metrics"]["accuracy"] == pytest.approx(ev.scores["accuracy"])
    assert any("multiplied by 0.5" in n for n in report["notes"])


def test_served_dashboard_passes_the_dataset_options(photos, gray_cnn_keras2):
    """Check the page `h5eval dashboard ... --preprocess 0.5` serves reads data with that option."""
    from h5eval_widgets.serve import _by_name, dashboard_notebook

    dash = run_dashboard_cell(
        dashboard_notebook(
            _by_name([str(gray_cnn_keras2)]),
            _by_name([str(photos)]),
            dataset_options={"preprocess": 0.5, "image_size": [32, 32]},
        )
    )
    assert any("multiplied by 0.5" in n for n in dash.state.evaluation.notes)


def test_a_large_parquet_file_is_read_one_row_group_at_a_time(tmp_path, blobs, multiclass_h5, monkeypatch):
    """Check Parquet past the in-memory limit: read by row groups, the same outputs as the arrays."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from h5eval_widgets.core.data import readers
    from h5eval_widgets.core.data.sources import ParquetRows

    _, _, X, y = blobs
    path = tmp_path / "big.parquet"
    df = pd.DataFrame(X, columns=["a", "b", "c", "d"]).assign(label=y)
    pq.write_table(pa.Table.from_pandas(df), path, row_group_size=64)
    monkeypatch.setattr(readers, "PARQUET_IN_MEMORY_BYTES", 0)
    reads = record_calls(monkeypatch, ParquetRows, "_frame", lambda self, a, b: b - a)
    data = load_dataset(path)
    assert isinstance(data.X, ParquetRows)
    a = Evaluation.from_model(multiclass_h5, data, progress=False, cache=False, batch_size=100)
    b = Evaluation.from_model(multiclass_h5, X, y, progress=False, cache=False)
    np.testing.assert_allclose(a.y_proba, b.y_proba, rtol=1e-6)
    assert max(reads) <= 100 and sum(reads) == len(X)
    np.testing.assert_allclose(data.sample(5), X[5])
