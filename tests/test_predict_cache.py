"""One inference pass per (model, dataset): the cache, its atomic writes, shapes and bad values."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from h5eval_widgets.core import DatasetError, Evaluation, ShapeMismatchError, load_model
from h5eval_widgets.core.cache import PredictionCache
from h5eval_widgets.core.cache import file_digest


def test_second_evaluation_hits_the_cache_and_runs_no_inference(tmp_path, blobs, multiclass_h5, inference_passes):
    """Check that the same model file and data a second time reads outputs and runs no forward pass."""
    _, _, Xte, yte = blobs
    fp = load_model(multiclass_h5).fingerprint
    cache = PredictionCache(tmp_path / "c")
    a = Evaluation.from_model(multiclass_h5, Xte, yte, cache=cache, progress=False)
    assert inference_passes[fp] == 1
    b = Evaluation.from_model(multiclass_h5, Xte.copy(), yte, cache=cache, progress=False)
    assert inference_passes[fp] == 1, "a cached pair ran inference again"
    assert any("cache" in n for n in b.notes)
    np.testing.assert_array_equal(a.y_proba, b.y_proba)
    # different data is a different key
    Evaluation.from_model(multiclass_h5, Xte[:50], yte[:50], cache=cache, progress=False)
    assert inference_passes[fp] == 2
    assert len(cache.entries()) == 2


def test_corrupt_cache_entry_is_discarded_and_recomputed(tmp_path, blobs, multiclass_h5, inference_passes):
    """Check that a damaged entry is detected, removed and the outputs recomputed."""
    _, _, Xte, yte = blobs
    cache = PredictionCache(tmp_path / "c")
    a = Evaluation.from_model(multiclass_h5, Xte, yte, cache=cache, progress=False)
    (entry,) = cache.entries()
    raw = bytearray(entry.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    entry.write_bytes(bytes(raw))
    fp = load_model(multiclass_h5).fingerprint
    before = inference_passes[fp]
    b = Evaluation.from_model(multiclass_h5, Xte, yte, cache=cache, progress=False)
    assert inference_passes[fp] == before + 1
    np.testing.assert_allclose(a.y_proba, b.y_proba)


def test_killed_cache_write_leaves_no_entry(tmp_path):
    """Check that a process killed in the middle of a cache write leaves no valid-looking entry."""
    cache_dir = tmp_path / "c"
    script = textwrap.dedent(f"""
        import os, signal, numpy as np
        import h5eval_widgets.core.cache as c
        real = np.savez
        def dying_savez(fh, **kw):
            real(fh, **kw)          # bytes are in the temporary file ...
            os.kill(os.getpid(), signal.SIGKILL)  # ... and the process dies before the rename
        np.savez = dying_savez
        c.PredictionCache({str(cache_dir)!r}).put("k" * 64, np.ones((1000, 3), np.float32))
    """)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True)
    assert proc.returncode == -9
    cache = PredictionCache(cache_dir)
    assert cache.entries() == []
    assert cache.get("k" * 64) is None
    assert list(cache_dir.glob(".tmp-*")), "the interrupted write should have left only a temp file"
    cache.clear()
    assert list(cache_dir.iterdir()) == []


def test_cache_size_limit_drops_oldest_entries(tmp_path):
    """Check that the cache keeps under max_bytes by removing least recently used entries."""
    cache = PredictionCache(tmp_path, max_bytes=10_000)
    for i in range(5):
        cache.put(f"{i:064d}", np.full((500, 2), i, np.float32))  # ~4 kB each
        os.utime(cache._path(f"{i:064d}"), (i, i))
    cache.prune()
    assert cache.size_bytes() <= 10_000
    assert cache.get(f"{4:064d}") is not None
    assert cache.get(f"{0:064d}") is None


def test_input_rows_are_reshaped_when_sizes_agree(multiclass_h5, blobs, plain_predict):
    """Check that (n, 2, 2) inputs reach a model expecting (n, 4) as the (n, 4) rows they hold,
    with a note: the outputs equal model.predict on the un-reshaped array."""
    _, _, Xte, yte = blobs
    ev = Evaluation.from_model(multiclass_h5, Xte.reshape(-1, 2, 2), yte, progress=False, cache=False)
    assert any("reshaped" in n for n in ev.notes)
    ref = Evaluation.from_model(multiclass_h5, Xte, yte, progress=False, cache=False)
    np.testing.assert_array_equal(ev.y_proba, ref.y_proba)
    np.testing.assert_allclose(ev.y_proba, plain_predict(multiclass_h5, Xte), rtol=1e-5, atol=1e-6)


def test_wrong_input_shape_names_both_shapes(multiclass_h5):
    """Check that inputs of the wrong width fail with both shapes in the message."""
    with pytest.raises(ShapeMismatchError, match=r"\(5,\).*expects \(4,\)"):
        Evaluation.from_model(multiclass_h5, np.zeros((3, 5), "float32"), [0, 1, 2], progress=False)


def test_nan_inputs_are_refused_with_the_row(multiclass_h5, blobs):
    """Check that NaN inputs fail naming the first bad row, and the model file is untouched."""
    _, _, Xte, yte = blobs
    X = Xte.copy()
    X[17, 2] = np.nan
    before = file_digest(multiclass_h5)
    with pytest.raises(DatasetError, match="first at row 17"):
        Evaluation.from_model(multiclass_h5, X, yte, progress=False, cache=False)
    assert file_digest(multiclass_h5) == before


def test_cache_folder_from_the_environment_and_the_cache_command(tmp_path, monkeypatch, capsys, blobs, multiclass_h5):
    """Check that $H5EVAL_CACHE_DIR chooses the folder and `h5eval cache --clear` empties it."""
    from h5eval_widgets.cli import main

    _, _, Xte, yte = blobs
    monkeypatch.setenv("H5EVAL_CACHE_DIR", str(tmp_path / "mine"))
    Evaluation.from_model(multiclass_h5, Xte, yte, progress=False)
    assert len(list((tmp_path / "mine").glob("*.npz"))) == 1
    assert main(["cache"]) == 0
    assert "1 entry" in capsys.readouterr().out
    assert main(["cache", "--clear"]) == 0
    assert "removed 1" in capsys.readouterr().out
    assert list((tmp_path / "mine").glob("*.npz")) == []
    assert list((tmp_path / "mine" / "models").iterdir()) == []  # the model's facts went too


def test_a_model_traces_once_across_datasets_and_many_models_raise_no_retracing_warning(blobs, multiclass_h5):
    """Check that a second dataset of the same row shape reuses the model's compiled pass, and
    that evaluating seven models in one session logs no 'excessive retracing' warning (each model
    gets its own pass on purpose; TensorFlow would count them as retraces of one function)."""
    import logging

    import keras

    Xtr, ytr, Xte, yte = blobs
    loaded = load_model(multiclass_h5)
    Evaluation.from_model(loaded, Xte, yte, cache=False, progress=False)
    (forward,) = loaded.forward_passes.values()
    Evaluation.from_model(loaded, Xtr, ytr, cache=False, progress=False)
    assert list(loaded.forward_passes.values()) == [forward]

    seen: list[str] = []
    handler = logging.Handler()
    handler.emit = lambda record: seen.append(record.getMessage())
    tf_logger = logging.getLogger("tensorflow")
    tf_logger.addHandler(handler)
    try:
        for units in range(7):
            model = keras.Sequential(
                [
                    keras.Input((Xte.shape[1],)),
                    keras.layers.Dense(units + 2),
                    keras.layers.Dense(3, activation="softmax"),
                ]
            )
            Evaluation.from_model(model, Xte, yte, cache=False, progress=False)
    finally:
        tf_logger.removeHandler(handler)
    assert not [m for m in seen if "retracing" in m], seen


REOPEN = """
import json, sys
from h5eval_widgets import Evaluation
ev = Evaluation.from_model(sys.argv[1], sys.argv[2], progress=False)
print(json.dumps({"imported": sorted(m for m in ("tensorflow", "keras", "tf_keras") if m in sys.modules),
                  "proba": ev.y_proba.tolist(), "accuracy": ev.scores["accuracy"], "notes": ev.notes}))
"""


def test_reopening_from_the_cache_imports_no_tensorflow(tmp_path, blobs, multiclass_h5):
    """Check in a fresh process that evaluating a model file and data file already seen reads the
    cached outputs and model facts without importing TensorFlow or Keras, with the same results."""
    import json

    _, _, Xte, yte = blobs
    data = tmp_path / "test.npz"
    np.savez(data, x=Xte, y=yte)
    first = Evaluation.from_model(multiclass_h5, data, progress=False)  # into $H5EVAL_CACHE_DIR
    out = subprocess.run(
        [sys.executable, "-c", REOPEN, str(multiclass_h5), str(data)],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )
    assert out.returncode == 0, out.stderr[-2000:]
    got = json.loads(out.stdout.strip().splitlines()[-1])
    assert got["imported"] == []
    np.testing.assert_array_equal(np.asarray(got["proba"], np.float32), first.y_proba)
    assert got["accuracy"] == first.scores["accuracy"]
    assert any("cache" in n for n in got["notes"])
    other = tmp_path / "other.npz"  # data not seen: the model has to run, so TensorFlow comes in
    np.savez(other, x=Xte[:10], y=yte[:10])
    out = subprocess.run(
        [sys.executable, "-c", REOPEN, str(multiclass_h5), str(other)],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert "tensorflow" in json.loads(out.stdout.strip().splitlines()[-1])["imported"]


def test_tags_are_kept_under_the_cache_folder_and_survive_cache_clear(capsys, blobs, multiclass_h5):
    """Check that without tags_dir the dashboard keeps tags in the cache folder's tags/, that
    `h5eval cache --clear` removes the predictions but not the tags, and that a new dashboard on
    the same evaluation reads them back."""
    from concurrent.futures import wait
    from pathlib import Path

    from h5eval_widgets import Dashboard
    from h5eval_widgets.cli import main

    cache_dir = Path(os.environ["H5EVAL_CACHE_DIR"])  # this test's own folder (conftest)
    _, _, Xte, yte = blobs
    ev = Evaluation.from_model(multiclass_h5, Xte, yte, progress=False)  # the outputs: one entry
    d = Dashboard.from_evaluations({"mlp": ev}, progress=False)
    wait(d.session.background, timeout=60)  # the map's PCA, prepared in the background: another
    d.state.selected_sample = 5
    d.tags.text.value = "blurry"
    d.tags.add_btn.click()
    tag_files = sorted((cache_dir / "tags").iterdir())
    assert len(tag_files) == 1 and "blurry" in tag_files[0].read_text()
    before = tag_files[0].read_bytes()
    assert main(["cache", "--clear"]) == 0
    assert "removed 2" in capsys.readouterr().out
    assert list(cache_dir.glob("*.npz")) == []
    assert sorted((cache_dir / "tags").iterdir()) == tag_files and tag_files[0].read_bytes() == before
    again = Dashboard.from_evaluations(
        {"mlp": Evaluation.from_model(multiclass_h5, Xte, yte, progress=False)}, progress=False
    )
    assert again.session.tags().tags(5) == ["blurry"]
    d.close()
    again.close()
