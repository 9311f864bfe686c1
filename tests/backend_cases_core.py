"""The core cases run on every backend (see :mod:`tests.backend_cases`): loading every kind of
model file, every task's outputs and scores, the embeddings, saliency and segmentation."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np

from tests.backend_cases import blobs, builder, case, evaluated, scores

SIDE = 16


def _fit(model, X, y, loss, epochs=3):
    model.compile("adam", loss)
    model.fit(X, y, epochs=epochs, verbose=0)
    return model


@builder
def build_tables(d: Path) -> None:
    """Tabular models of every task, as Keras 3 .h5/.keras and as a Keras 2 (tf_keras) .h5."""
    import keras

    X, y = blobs()
    np.savez(d / "blobs.npz", x=X[200:], y=y[200:])
    keras.utils.set_random_seed(1)
    mlp = keras.Sequential(
        [keras.Input((4,)), keras.layers.Dense(8, activation="relu"), keras.layers.Dense(3, activation="softmax")]
    )
    _fit(mlp, X[:200], y[:200], "sparse_categorical_crossentropy").save(d / "multiclass.h5")
    mlp.save(d / "multiclass.keras")
    binary = keras.Sequential(
        [keras.Input((4,)), keras.layers.Dense(8, activation="relu"), keras.layers.Dense(1, activation="sigmoid")]
    )
    _fit(binary, X[:200], (y[:200] == 2).astype("float32"), "binary_crossentropy").save(d / "binary.keras")
    np.savez(d / "binary.npz", x=X[200:], y=(y[200:] == 2).astype(int))
    reg = keras.Sequential([keras.Input((4,)), keras.layers.Dense(4, activation="relu"), keras.layers.Dense(1)])
    _fit(reg, X[:200], X[:200].sum(1), "mse").save(d / "regression.h5")
    np.savez(d / "regression.npz", x=X[200:], y=X[200:].sum(1))
    multi = keras.Sequential(
        [keras.Input((4,)), keras.layers.Dense(8, activation="relu"), keras.layers.Dense(3, activation="sigmoid")]
    )
    labels = np.stack([y == 0, y == 1, X[:, 0] > 0], axis=1).astype("float32")
    _fit(multi, X[:200], labels[:200], "binary_crossentropy").save(d / "multilabel.keras")
    np.savez(d / "multilabel.npz", x=X[200:], y=labels[200:].astype(int))
    inp = keras.Input((4,))
    h = keras.layers.Dense(8, activation="relu")(inp)
    two = keras.Model(
        inp, [keras.layers.Dense(3, activation="softmax", name="kind")(h), keras.layers.Dense(1, name="size")(h)]
    )
    two.save(d / "two_outputs.keras")
    age, income = keras.Input((1,), name="age"), keras.Input((1,), name="income")
    x = keras.layers.Concatenate()([keras.layers.Rescaling(0.02)(age), keras.layers.Rescaling(1e-5)(income)])
    people = keras.Model(
        {"age": age, "income": income},
        keras.layers.Dense(3, activation="softmax")(keras.layers.Dense(6, activation="relu")(x)),
    )
    people.save(d / "people.keras")
    rng = np.random.default_rng(0)
    np.savez(
        d / "people.npz",
        age=rng.uniform(18, 90, 300).astype("float32"),
        income=rng.uniform(1e4, 2e5, 300).astype("float32"),
        y=rng.integers(0, 3, 300),
    )
    import tf_keras

    tf_keras.utils.set_random_seed(2)
    old = tf_keras.Sequential(
        [tf_keras.layers.Dense(8, activation="relu", input_shape=(4,)), tf_keras.layers.Dense(3, activation="softmax")]
    )
    old.compile("adam", "sparse_categorical_crossentropy")
    old.fit(X[:200], y[:200], epochs=3, verbose=0)
    old.save(d / "keras2.h5", save_format="h5")


@builder
def build_images(d: Path) -> None:
    """A small CNN on a folder of PNG photos (two classes), a nested MobileNetV2 base, and a
    1-D conv net on a folder of .wav sounds."""
    import keras
    from PIL import Image

    rng = np.random.default_rng(0)
    for c in ("dark", "light"):
        (d / "photos" / c).mkdir(parents=True, exist_ok=True)
        for i in range(12):
            base = 60 if c == "dark" else 170
            img = np.clip(rng.normal(base, 40, (SIDE + i % 3, SIDE, 3)), 0, 255).astype(np.uint8)
            Image.fromarray(img).save(d / "photos" / c / f"{i:02d}.png")
    keras.utils.set_random_seed(3)
    cnn = keras.Sequential(
        [
            keras.Input((SIDE, SIDE, 3)),
            keras.layers.Rescaling(1 / 255),
            keras.layers.Conv2D(4, 3, activation="relu", padding="same"),
            keras.layers.Conv2D(6, 3, activation="relu", padding="same", name="last_conv"),
            keras.layers.GlobalAveragePooling2D(),
            keras.layers.Dense(2, activation="softmax"),
        ]
    )
    cnn.save(d / "photos_cnn.keras")
    base = keras.applications.MobileNetV2(weights=None, include_top=False, input_shape=(32, 32, 3), alpha=0.35)
    nested = keras.Sequential(
        [
            keras.Input((32, 32, 3)),
            base,
            keras.layers.GlobalAveragePooling2D(),
            keras.layers.Dense(3, activation="softmax"),
        ]
    )
    nested.save(d / "nested.keras")
    np.savez(d / "nested.npz", x=rng.uniform(0, 1, (6, 32, 32, 3)).astype("float32"), y=np.arange(6) % 3)
    for c, f in (("low", 300.0), ("high", 1800.0)):
        (d / "sounds" / c).mkdir(parents=True, exist_ok=True)
        for i in range(6):
            t = np.arange(1800 + 100 * i) / 8000
            pcm = np.clip((0.5 * np.sin(2 * np.pi * f * t) + rng.normal(0, 0.2, len(t))) * 32767, -32768, 32767)
            with wave.open(str(d / "sounds" / c / f"{i}.wav"), "wb") as w:
                w.setnchannels(1)
                w.setsampwidth(2)
                w.setframerate(8000)
                w.writeframes(pcm.astype("<i2").tobytes())
    audio = keras.Sequential(
        [
            keras.Input((2000, 1)),
            keras.layers.Conv1D(4, 9, strides=4, activation="relu"),
            keras.layers.GlobalAveragePooling1D(),
            keras.layers.Dense(2, activation="softmax"),
        ]
    )
    audio.save(d / "sound_net.keras")


@builder
def build_segmentation(d: Path) -> None:
    """A tiny fully convolutional segmentation net (3 classes) and its images and masks."""
    import keras

    from tests.segmentation_fixtures import shapes

    X, y = shapes(6, seed=5, size=24)
    np.savez(d / "seg.npz", x=X.astype("float32") / 255, y=y)
    keras.utils.set_random_seed(4)
    inp = keras.Input((24, 24, 3))
    h = keras.layers.Conv2D(6, 3, padding="same", activation="relu")(inp)
    h = keras.layers.MaxPooling2D(2)(h)
    out = keras.layers.Conv2D(3, 1, activation="softmax")(
        keras.layers.Conv2D(6, 3, padding="same", activation="relu")(h)
    )
    keras.Model(inp, out).save(d / "seg.keras")


# ---------------------------------------------------------------------------- cases
@case
def demo_models(d: Path) -> dict:
    """The bundled demo: every model on its test split (outputs, scores, embedding)."""
    from h5eval_widgets import load_demo

    demo = load_demo()
    out = {}
    for name, path in demo.models.items():
        out.update(evaluated(path, demo.datasets[demo.dataset_of[name]], prefix=f"{name}."))
    return out


@case
def legacy_keras2_h5(d: Path) -> dict:
    return evaluated(d / "keras2.h5", d / "blobs.npz")


@case
def multiclass_h5_and_keras(d: Path) -> dict:
    """The same model as .h5 and .keras, and on 10,000 rows (more than one eager call on PyTorch)."""
    X, y = blobs(10_000, seed=9)
    return {
        **evaluated(d / "multiclass.h5", d / "blobs.npz", "h5."),
        **evaluated(d / "multiclass.keras", d / "blobs.npz", "keras."),
        **evaluated(d / "multiclass.keras", X, "rows10k.", y=y, embeddings="penultimate"),
    }


@case
def binary_regression_multilabel(d: Path) -> dict:
    return {
        **evaluated(d / "binary.keras", d / "binary.npz", "binary."),
        **evaluated(d / "regression.h5", d / "regression.npz", "regression."),
        **evaluated(d / "multilabel.keras", d / "multilabel.npz", "multilabel."),
    }


@case
def multi_output_and_named_inputs(d: Path) -> dict:
    X, y = blobs()
    return {
        **evaluated(d / "two_outputs.keras", X[200:], "kind.", y=y[200:], output="kind"),
        **evaluated(d / "two_outputs.keras", X[200:], "size.", y=X[200:].sum(1), output=1),
        **_people(d),
    }


def _people(d: Path) -> dict:
    with np.load(d / "people.npz") as f:
        inputs, y = {"age": f["age"], "income": f["income"]}, f["y"]
    return evaluated(d / "people.keras", inputs, "people.", y=y)


@case
def photo_folder_and_sounds(d: Path) -> dict:
    return {
        **evaluated(d / "photos_cnn.keras", d / "photos", "photos."),
        **evaluated(d / "sound_net.keras", d / "sounds", "sounds."),
    }


@case
def saliency(d: Path) -> dict:
    """Grad-CAM and integrated gradients on the photo CNN and Grad-CAM inside a nested
    MobileNetV2 base."""
    from h5eval_widgets import Evaluation

    ev = Evaluation.from_model(d / "photos_cnn.keras", d / "photos", cache=False, progress=False)
    idx = np.arange(0, ev.n_samples, 3)
    nest = Evaluation.from_model(d / "nested.keras", d / "nested.npz", cache=False, progress=False)
    return {
        "map:gradcam": ev.saliency(idx, progress=False),
        "map:integrated": ev.saliency(idx, method="integrated_gradients", progress=False),
        "map:nested_gradcam": nest.saliency(np.arange(nest.n_samples), progress=False),
    }


@case
def segmentation(d: Path) -> dict:
    from h5eval_widgets import Evaluation

    with np.load(d / "seg.npz") as f:
        x, y = f["x"], f["y"]
    ev = Evaluation.from_model(d / "seg.keras", x, y, cache=False, progress=False)
    return {**scores(ev), "score:pixel_matrix": np.asarray(ev.confusion_matrix(), np.float64)}
