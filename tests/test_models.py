"""Loading real model files: .h5 (Keras 2 and 3), .keras, SavedModel, and refusing embedded code."""

from __future__ import annotations

import numpy as np
import pytest

from h5eval_widgets.core import (
    Evaluation,
    ModelLoadError,
    UnsafeModelError,
    load_model,
)
from h5eval_widgets.core.cache import file_digest


@pytest.mark.parametrize(
    "fixture,fmt",
    [
        ("multiclass_h5", "h5"),
        ("multiclass_keras", "keras"),
        ("keras2_h5", "h5"),
    ],
)
def test_model_files_load_and_report_their_facts(request, fixture, fmt):
    """Check that .h5 (Keras 3 and Keras 2) and .keras files load with input/output facts."""
    path = request.getfixturevalue(fixture)
    loaded = load_model(path)
    info = loaded.info
    assert info.format == fmt
    assert info.input_shape == (None, 4)
    assert info.output_shape == (None, 3)
    assert info.output_activation == "softmax"
    assert info.task == "multiclass"
    assert len(loaded.fingerprint) == 64
    if fixture == "keras2_h5":
        assert info.keras_version.startswith("2.")
        assert any("Keras 2" in n for n in loaded.notes)


@pytest.mark.parametrize(
    "fixture,source",
    [
        ("multiclass_h5", "multiclass_h5"),
        ("multiclass_keras", "multiclass_h5"),
        ("multiclass_savedmodel", "multiclass_h5"),
        ("keras2_h5", "keras2_h5"),
        ("keras2_savedmodel", "keras2_h5"),
    ],
)
def test_evaluation_from_each_format_equals_plain_predict(request, blobs, plain_predict, fixture, source):
    """Check that predictions from every format equal model.predict on the same inputs."""
    _, _, Xte, yte = blobs
    path = request.getfixturevalue(fixture)
    ev = Evaluation.from_model(path, Xte, yte, progress=False)
    expected = plain_predict(request.getfixturevalue(source), Xte)
    np.testing.assert_allclose(ev.y_proba, expected, rtol=1e-5, atol=1e-6)
    assert ev.task == "multiclass"
    np.testing.assert_array_equal(ev.y_pred, expected.argmax(1))


def test_savedmodel_reports_its_endpoint_and_shapes(multiclass_savedmodel, keras2_savedmodel):
    """Check that SavedModels load through TFSMLayer with 'serve' or 'serving_default'."""
    a = load_model(multiclass_savedmodel)
    b = load_model(keras2_savedmodel)
    assert a.info.format == b.info.format == "savedmodel"
    assert "'serve'" in a.notes[0]
    assert "'serving_default'" in b.notes[0]
    assert a.info.input_shape == (None, 4) and a.info.output_shape == (None, 3)


@pytest.mark.parametrize("ext", ["h5", "keras"])
def test_lambda_model_is_refused_and_its_code_never_runs(lambda_model_files, ext):
    """Check that a Lambda-layer model is refused by default and its code does not run."""
    marker = lambda_model_files["marker"]
    marker.unlink(missing_ok=True)
    before = file_digest(lambda_model_files[ext])
    with pytest.raises(UnsafeModelError, match="trust_code=True"):
        load_model(lambda_model_files[ext])
    with pytest.raises(UnsafeModelError, match="Lambda"):
        Evaluation.from_model(lambda_model_files[ext], np.zeros((2, 4), "float32"), [0, 1])
    assert not marker.exists(), "the Lambda's code ran although the model was refused"
    assert file_digest(lambda_model_files[ext]) == before


def test_lambda_model_loads_and_runs_with_trust_code(lambda_model_files):
    """Check that trust_code=True loads the model and its code then runs (the marker appears)."""
    marker = lambda_model_files["marker"]
    marker.unlink(missing_ok=True)
    ev = Evaluation.from_model(
        lambda_model_files["keras"],
        np.zeros((3, 4), "float32"),
        [0, 1, 2],
        trust_code=True,
        progress=False,
        cache=False,
    )
    assert ev.n_samples == 3
    assert marker.exists()
    marker.unlink()


def test_multi_output_model_asks_which_output(multi_output_keras, blobs):
    """Check that a two-output model asks for output= and then evaluates the chosen one."""
    _, _, Xte, yte = blobs
    with pytest.raises(ModelLoadError, match="2 outputs.*output="):
        load_model(multi_output_keras)
    ev = Evaluation.from_model(multi_output_keras, Xte, yte, output="kind", progress=False)
    assert ev.task == "multiclass" and ev.n_classes == 3


@pytest.mark.parametrize("fixture", ["multiclass_h5", "multiclass_keras", "keras2_h5"])
def test_reopening_a_file_takes_its_facts_from_the_cache_and_runs_keras_only_when_needed(
    request, fixture, blobs, tmp_path, inference_passes
):
    """Check that a second load of the same file returns the same facts without rebuilding the
    model; that a warm prediction cache then answers without Keras ever running; and that a pair
    the cache has not seen rebuilds the model and predicts as the first load did."""
    from h5eval_widgets.core.cache import PredictionCache

    path = request.getfixturevalue(fixture)
    Xtr, ytr, Xte, yte = blobs
    cache = PredictionCache(tmp_path / "cache")
    first = load_model(path, cache=cache)
    assert first.is_loaded
    a = Evaluation.from_model(first, Xte, yte, cache=cache, progress=False)

    again = load_model(path, cache=cache)
    assert not again.is_loaded
    assert (again.info, again.fingerprint, again.notes) == (first.info, first.fingerprint, first.notes)
    runs = inference_passes[first.fingerprint]
    b = Evaluation.from_model(again, Xte, yte, cache=cache, progress=False)
    assert not again.is_loaded and inference_passes[first.fingerprint] == runs
    np.testing.assert_array_equal(a.y_proba, b.y_proba)

    c = Evaluation.from_model(again, Xtr, ytr, cache=cache, progress=False)  # not cached yet
    assert again.is_loaded and inference_passes[first.fingerprint] == runs + 1
    d = Evaluation.from_model(first, Xtr, ytr, cache=False, progress=False)
    np.testing.assert_allclose(c.y_proba, d.y_proba, rtol=1e-6)
    assert not load_model(path, cache=False).loader  # no cache: loaded as before


def test_facts_stored_for_a_trusted_lambda_model_do_not_let_it_in_untrusted(lambda_model_files, tmp_path):
    """Check that once a Lambda model was loaded with trust_code=True, loading it without trust is
    still refused before Keras reads it (the check is made on every load, not cached)."""
    marker = lambda_model_files["marker"]
    path = lambda_model_files["h5"]
    load_model(path, trust_code=True, cache=tmp_path)
    assert list((tmp_path / "models").glob("*.json"))
    marker.unlink(missing_ok=True)
    with pytest.raises(UnsafeModelError):
        load_model(path, cache=tmp_path)
    assert not load_model(path, trust_code=True, cache=tmp_path).is_loaded
    assert not marker.exists()


def test_a_damaged_facts_file_means_a_normal_load(multiclass_h5, tmp_path):
    """Check that unreadable remembered facts are ignored: the model loads with Keras as usual and
    the facts are written again, and the model file is untouched."""
    before = file_digest(multiclass_h5)
    load_model(multiclass_h5, cache=tmp_path)
    (facts,) = (tmp_path / "models").glob("*.json")
    facts.write_text('{"info": {"input_shape": ')
    loaded = load_model(multiclass_h5, cache=tmp_path)
    assert loaded.is_loaded and loaded.info.input_shape == (None, 4)
    assert not load_model(multiclass_h5, cache=tmp_path).is_loaded  # rewritten, usable again
    assert file_digest(multiclass_h5) == before
