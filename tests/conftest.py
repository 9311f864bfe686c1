"""Shared fixtures: tiny real Keras models, trained once per session and saved to real files; the
bundled demo; the demo dashboard, put back as it opened before every test. (Plain helpers: helpers.py.)"""

from __future__ import annotations

import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np
import pytest

from tests.helpers import record_calls, require
from tests.segmentation_fixtures import seg_data, seg_models  # noqa: F401  (session fixtures)


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory, monkeypatch):
    """Every test gets its own prediction cache folder, never the user's."""
    monkeypatch.setenv("H5EVAL_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))


@pytest.fixture
def inference_passes(monkeypatch):
    """How many inference passes ran while the test ran, by model fingerprint (a cache hit
    runs none): counts the compiled forward passes the engine asks for, once per pass."""
    from collections import Counter

    from h5eval_widgets.core.inference import predict

    class Passes:
        def __getitem__(self, fingerprint) -> int:
            return Counter(fingerprints)[fingerprint]

    fingerprints = record_calls(monkeypatch, predict, "_forward_fn", lambda loaded, *a, **k: loaded.fingerprint)
    return Passes()


@pytest.fixture(scope="session")
def models_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("models")


@pytest.fixture(scope="session")
def blobs():
    """A 3-class problem with 4 features, split in train and test."""
    from sklearn.datasets import make_blobs

    X, y = make_blobs(n_samples=600, centers=3, n_features=4, cluster_std=2.5, random_state=0)
    X = X.astype("float32")
    return X[:300], y[:300], X[300:], y[300:]


def _trained_mlp(path: Path, X, y, *, seed: int, hidden: int, outputs: int, activation, loss: str, epochs: int) -> Path:
    """A 4-feature MLP (one hidden layer) trained briefly with a fixed seed, saved by Keras 3 at ``path``."""
    import keras

    keras.utils.set_random_seed(seed)
    m = keras.Sequential(
        [
            keras.Input((4,)),
            keras.layers.Dense(hidden, activation="relu"),
            keras.layers.Dense(outputs, activation=activation),
        ]
    )
    m.compile("adam", loss)
    m.fit(X, y, epochs=epochs, verbose=0)
    m.save(path)
    return path


@pytest.fixture(scope="session")
def multiclass_h5(models_dir, blobs) -> Path:
    """A softmax MLP saved by Keras 3 as legacy .h5."""
    Xtr, ytr, _, _ = blobs
    return _trained_mlp(
        models_dir / "multiclass.h5",
        Xtr,
        ytr,
        seed=1,
        hidden=8,
        outputs=3,
        activation="softmax",
        loss="sparse_categorical_crossentropy",
        epochs=5,
    )


@pytest.fixture(scope="session")
def multiclass_keras(models_dir, multiclass_h5) -> Path:
    """The same model as a .keras archive."""
    import keras

    m = keras.saving.load_model(multiclass_h5, compile=False)
    path = models_dir / "multiclass.keras"
    m.save(path)
    return path


@pytest.fixture(scope="session")
def multiclass_savedmodel(models_dir, multiclass_h5) -> Path:
    """The same model exported as a TensorFlow SavedModel ('serve' endpoint)."""
    import keras

    m = keras.saving.load_model(multiclass_h5, compile=False)
    path = models_dir / "multiclass_savedmodel"
    m.export(str(path), verbose=False)
    return path


@pytest.fixture(scope="session")
def keras2_h5(models_dir, blobs) -> Path:
    """A model written by Keras 2 (tf_keras), the format of old .h5 files."""
    tf_keras = require("tf_keras")
    Xtr, ytr, _, _ = blobs
    tf_keras.utils.set_random_seed(2)
    m = tf_keras.Sequential(
        [
            tf_keras.layers.Dense(8, activation="relu", input_shape=(4,)),
            tf_keras.layers.Dense(3, activation="softmax"),
        ]
    )
    m.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    m.fit(Xtr, ytr, epochs=3, verbose=0)
    path = models_dir / "keras2.h5"
    m.save(path, save_format="h5")
    return path


@pytest.fixture(scope="session")
def keras2_savedmodel(models_dir, keras2_h5) -> Path:
    """A Keras 2 SavedModel directory ('serving_default' signature only)."""
    tf_keras = require("tf_keras")
    m = tf_keras.models.load_model(keras2_h5)
    path = models_dir / "keras2_savedmodel"
    m.save(str(path), save_format="tf")
    return path


@pytest.fixture(scope="session")
def binary_h5(models_dir, blobs) -> Path:
    """One sigmoid unit: class 2 of the blobs against the rest."""
    Xtr, ytr, _, _ = blobs
    return _trained_mlp(
        models_dir / "binary.h5",
        Xtr,
        (ytr == 2).astype("float32"),
        seed=3,
        hidden=8,
        outputs=1,
        activation="sigmoid",
        loss="binary_crossentropy",
        epochs=5,
    )


@pytest.fixture(scope="session")
def regression_h5(models_dir, blobs) -> Path:
    Xtr, _, _, _ = blobs
    return _trained_mlp(
        models_dir / "regression.h5",
        Xtr,
        Xtr.sum(1),
        seed=4,
        hidden=4,
        outputs=1,
        activation=None,
        loss="mse",
        epochs=3,
    )


@pytest.fixture(scope="session")
def lambda_model_files(models_dir) -> dict:
    """Models with a Lambda layer whose code touches a marker file when it runs."""
    import keras

    marker = models_dir / "lambda_ran.marker"
    # the path is a constant inside the lambda's code (Keras cannot restore default arguments)
    touch = eval(f"lambda x: (__import__('pathlib').Path({str(marker)!r}).touch(), x)[1]")
    m = keras.Sequential([keras.Input((4,)), keras.layers.Lambda(touch), keras.layers.Dense(3, activation="softmax")])
    out = {"marker": marker}
    for ext in ("h5", "keras"):
        path = models_dir / f"lambda.{ext}"
        m.save(path)
        out[ext] = path
    marker.unlink(missing_ok=True)  # building the model ran it once; start clean
    return out


@pytest.fixture(scope="session")
def weights_only_h5(models_dir) -> Path:
    import keras

    m = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="softmax")])
    path = models_dir / "only.weights.h5"
    m.save_weights(path)
    return path


@pytest.fixture(scope="session")
def multi_output_keras(models_dir) -> Path:
    import keras

    inp = keras.Input((4,))
    h = keras.layers.Dense(8, activation="relu")(inp)
    a = keras.layers.Dense(3, activation="softmax", name="kind")(h)
    b = keras.layers.Dense(1, name="size")(h)
    m = keras.Model(inp, [a, b])
    path = models_dir / "two_outputs.keras"
    m.save(path)
    return path


@pytest.fixture(scope="session")
def age_income_model(models_dir) -> Path:
    """Keras's structured-data shape: one named input per column (age, income), given as a dict,
    3 softmax classes; random weights (seed 7), saved as .keras."""
    import keras

    keras.utils.set_random_seed(7)
    age, income = keras.Input((1,), name="age"), keras.Input((1,), name="income")
    x = keras.layers.Concatenate()([keras.layers.Rescaling(0.02)(age), keras.layers.Rescaling(1e-5)(income)])
    x = keras.layers.Dense(6, activation="relu")(x)
    model = keras.Model({"age": age, "income": income}, keras.layers.Dense(3, activation="softmax")(x))
    path = models_dir / "people.keras"
    model.save(path)
    return path


@pytest.fixture(scope="session")
def plain_predict():
    """The plain approach the tool replaces: keras load_model + model.predict."""

    def run(path, X):
        import keras

        m = keras.saving.load_model(path, compile=False)
        return np.asarray(m.predict(X, verbose=0))

    return run


@pytest.fixture(scope="session")
def demo():
    """The bundled demo: paths of its models, test splits and histories (read-only files)."""
    from h5eval_widgets.core import load_demo

    return load_demo()


# What a test may choose on the shared demo dashboard; put back as it opened before every test.
DASHBOARD_CHOICES = (
    "explained_metric",
    "model_name",
    "dataset_name",
    "compare_model",
    "focus_class",
    "threshold",
    "normalize",
    "selected_cell",
    "selected_sample",
    "sort_by",
    "sort_descending",
    "show_saliency",
    "saliency_method",
    "count_label_issues",
    "calibration",
    "alpha",
    "training_dataset",
    "status",
    "status_level",
)


@pytest.fixture(scope="session")
def _demo_dashboard_as_opened(tmp_path_factory):
    from h5eval_widgets import demo_dashboard

    d = demo_dashboard(progress=False, export_dir=tmp_path_factory.mktemp("export"))
    return d, {name: getattr(d.state, name) for name in DASHBOARD_CHOICES}, _view_choices(d)


def _view_choices(d) -> dict:
    """What a test may choose on the dashboard's views that is no selection trait: the tab shown,
    the map's colours and method, the many-class matrix's number of classes."""
    return {
        "tab": d.tabs.selected_index,
        "color_by": d.embedding.color_by.value,
        "map_method": d.embedding.method.value,
        "top_n": d.confusion.top_n.value,
    }


@pytest.fixture
def dash(_demo_dashboard_as_opened):
    """The demo dashboard as it opened (digits CNN on digits_test, nothing selected). It is built once;
    whatever a test chose on it (model, comparison, focus class, threshold, cell, samples, status,
    the tab shown, the map's colours and method, the matrix's number of classes) is undone before
    the next test, so no test sees another's choices."""
    d, opened, views = _demo_dashboard_as_opened
    st = d.state
    d.tabs.selected_index = views["tab"]
    d.embedding.color_by.value = views["color_by"]
    d.embedding.method.value = views["map_method"]
    d.confusion.top_n.value = views["top_n"]
    d.comparison.other.value = None
    d.pairs.pairs.value = None
    st.compare_model = None
    st.model_name, st.dataset_name = opened["model_name"], opened["dataset_name"]
    for name in (
        "focus_class",
        "threshold",
        "normalize",
        "selected_cell",
        "selected_sample",
        "sort_by",
        "sort_descending",
        "show_saliency",
        "saliency_method",
        "count_label_issues",
        "explained_metric",
        "calibration",
        "alpha",
        "training_dataset",
    ):
        setattr(st, name, opened[name])
    if st.session.slice_name is not None:  # a slice shown: every sample again
        st.session.filter(None)
    st.show_default_samples()  # a brush, a confused pair or an agreement cell chose samples without a cell
    st.session.set_status(opened["status"], opened["status_level"])
    now = {name: getattr(st, name) for name in DASHBOARD_CHOICES}
    assert now == opened, "the shared dashboard could not be put back as it opened"
    assert _view_choices(d) == views, "the shared dashboard's views could not be put back as they opened"
    return d
