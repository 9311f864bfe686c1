"""What only a backend other than TensorFlow shows: a model with a layer that Keras runs on
TensorFlow only (``TextVectorization``) refused when it is loaded, with one clear error naming
the layer and the backend to use, and nothing written; a TensorFlow SavedModel, which TensorFlow
runs whatever the Keras backend, saying so in its notes.

The files are made under TensorFlow in a subprocess (as ``tests/backend_cases.py`` makes its
own), since a text model is built on TensorFlow. Marked ``backends``: ``make test``'s second pass
runs these on JAX (``make test-torch`` on PyTorch); on TensorFlow they skip."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from h5eval_widgets.core.inference.backend import backend_name as _backend
from tests.helpers import digests

pytestmark = pytest.mark.backends

ROOT = Path(__file__).resolve().parent.parent
TEXTS = ["great film, loved it", "awful plot and bad acting", "loved the music", "bad, boring, awful"] * 3


def make_files(d: Path) -> None:
    """Under TensorFlow: a text classifier with a TextVectorization layer named 'words' (as .keras
    and .h5) and its CSV, its facts cached by a TensorFlow run, a small MLP and its test set, and
    the MLP exported as a SavedModel."""
    import keras
    import pandas as pd

    from h5eval_widgets.core.models.loading import load_model

    keras.utils.set_random_seed(6)
    vec = keras.layers.TextVectorization(max_tokens=40, output_sequence_length=6, name="words")
    vec.adapt(np.array(TEXTS))
    inp = keras.Input((1,), dtype="string", name="review")
    x = keras.layers.GlobalAveragePooling1D()(keras.layers.Embedding(41, 8)(vec(inp)))
    text = keras.Model(inp, keras.layers.Dense(2, activation="softmax")(x))
    text.save(d / "text.keras")
    text.save(d / "text.h5")
    pd.DataFrame({"review": TEXTS, "label": [1, 0, 1, 0] * 3}).to_csv(d / "reviews.csv", index=False)
    load_model(d / "text.keras", cache=d / "tf_cache")  # TensorFlow runs it: its facts are kept
    mlp = keras.Sequential(
        [keras.Input((4,)), keras.layers.Dense(6, activation="relu"), keras.layers.Dense(3, activation="softmax")]
    )
    mlp.save(d / "mlp.keras")
    mlp.export(str(d / "mlp_savedmodel"), verbose=False)
    rng = np.random.default_rng(0)
    np.savez(d / "mlp_test.npz", x=rng.normal(size=(30, 4)).astype("float32"), y=np.arange(30) % 3)
    from h5eval_widgets import Evaluation

    Evaluation.from_model(d / "mlp.keras", d / "mlp_test.npz", cache=d / "tf_cache", progress=False)  # TF's outputs


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    if _backend() == "tensorflow":
        pytest.skip("what another backend shows: run under KERAS_BACKEND=jax or torch (make test does)")
    folder = tmp_path_factory.mktemp("tf_made")
    code = "import sys; from pathlib import Path; from tests.test_backend_errors import make_files; make_files(Path(sys.argv[1]))"
    run = subprocess.run(
        [sys.executable, "-c", code, str(folder)],
        cwd=ROOT,
        env={**os.environ, "KERAS_BACKEND": "tensorflow", "TF_CPP_MIN_LOG_LEVEL": "3"},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    return folder


def _refusal() -> str:
    return (
        rf"TextVectorization layer \('words'\).*TensorFlow only.*backend here is {_backend()}.*KERAS_BACKEND=tensorflow"
    )


@pytest.mark.parametrize("kind", ["keras", "h5"])
def test_a_text_vectorization_model_is_refused_when_loaded_and_nothing_is_written(files, tmp_path, kind):
    """Check that the text model (.keras and .h5) evaluated here raises one ModelLoadError naming
    the layer, this backend and KERAS_BACKEND=tensorflow, and that no cache file is written and
    the model file is untouched."""
    from h5eval_widgets import Evaluation
    from h5eval_widgets.core import ModelLoadError

    path, cache = files / f"text.{kind}", tmp_path / "cache"
    before = digests([files])
    with pytest.raises(ModelLoadError, match=_refusal()):
        Evaluation.from_model(path, files / "reviews.csv", label_column="label", cache=cache, progress=False)
    assert digests([files]) == before
    assert not cache.exists() or not any(p.is_file() for p in cache.rglob("*"))


def test_facts_cached_by_a_tensorflow_run_do_not_let_the_text_model_through(files):
    """Check that the text model, whose facts a TensorFlow run cached, is still refused at load
    here (before Keras reads it) and the cache folder is not changed."""
    from h5eval_widgets.core import ModelLoadError, load_model

    cache = files / "tf_cache"
    assert any(p.is_file() for p in cache.rglob("*.json"))  # the TensorFlow run's facts
    before = digests([files])
    with pytest.raises(ModelLoadError, match=_refusal()):
        load_model(files / "text.keras", cache=cache)
    assert digests([files]) == before


def test_a_text_vectorization_model_in_memory_is_refused(files):
    """Check that the text model rebuilt by Keras here (it loads) is refused by load_model with the
    same error, named by its display name."""
    import keras

    from h5eval_widgets.core import ModelLoadError, load_model

    model = keras.saving.load_model(files / "text.keras", compile=False)
    with pytest.raises(ModelLoadError, match=r"^reviews model has a " + _refusal()):
        load_model(model, name="reviews model")


def test_the_dashboard_shows_the_refusal_as_its_status_error(files):
    """Check that choosing the text model in the dashboard shows the refusal in the status area
    (level 'error') and leaves the files unchanged."""
    from h5eval_widgets import Dashboard

    before = digests([files])
    dash = Dashboard(
        models={"mlp": files / "mlp.keras", "text": files / "text.keras"},
        datasets={"mlp_test": files / "mlp_test.npz", "reviews": files / "reviews.csv"},
        progress=False,
    )
    st = dash.state
    assert st.model_name == "mlp" and st.evaluation is not None and st.status_level != "error"
    last_good = st.evaluation
    st.model_name = "text"
    assert st.status_level == "error"
    assert re.search(_refusal(), st.status), st.status
    assert st.evaluation is last_good  # the last good view stays
    assert digests([files]) == before
    dash.close()


def test_outputs_cached_by_a_tensorflow_run_are_not_taken_for_this_backends(files, tmp_path):
    """Check that the MLP on its test set, whose outputs a TensorFlow run cached, is predicted
    again here (the cache keeps outputs per backend), then read from the cache on the next call,
    and that the notes name this backend."""
    import shutil

    from h5eval_widgets import Evaluation
    from h5eval_widgets.core.inference.backend import note

    cache = tmp_path / "cache"
    shutil.copytree(files / "tf_cache", cache)
    first = Evaluation.from_model(files / "mlp.keras", files / "mlp_test.npz", cache=cache, progress=False)
    assert not any("read from the prediction cache" in n for n in first.notes), first.notes
    assert note() in first.notes and f"Keras backend: {_backend()} " in note()
    again = Evaluation.from_model(files / "mlp.keras", files / "mlp_test.npz", cache=cache, progress=False)
    assert any("read from the prediction cache" in n for n in again.notes), again.notes
    np.testing.assert_array_equal(again.y_proba, first.y_proba)


def test_a_savedmodel_runs_on_tensorflow_and_the_notes_say_so(files):
    """Check that the SavedModel loads here (Keras's TFSMLayer is TensorFlow-only), its facts are
    read from its endpoint, it gives the .keras model's outputs, and a note names TensorFlow and
    this backend."""
    from h5eval_widgets import Evaluation
    from h5eval_widgets.core import load_model

    loaded = load_model(files / "mlp_savedmodel")
    assert getattr(loaded.model, "runs_on_tensorflow", False)
    assert loaded.info.input_shape == (None, 4) and loaded.info.output_shape == (None, 3)
    ev = Evaluation.from_model(loaded, files / "mlp_test.npz", cache=False, progress=False)
    note = f"SavedModel run by TensorFlow (the Keras backend here is {_backend()})."
    assert note in ev.notes, ev.notes
    keras_ev = Evaluation.from_model(files / "mlp.keras", files / "mlp_test.npz", cache=False, progress=False)
    np.testing.assert_allclose(ev.y_proba, keras_ev.y_proba, rtol=1e-5, atol=1e-6)
