"""Folders as they come (issue 33): hidden files and folders (macOS's ``._photo.png`` copies,
Jupyter's ``.ipynb_checkpoints``) are left out of a folder of class folders and named in the
evaluation's notes, which the dashboard shows beside its status line."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from h5eval_widgets.core import Evaluation, load_dataset


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    root = tmp_path_factory.mktemp("hidden") / "pets"
    rng = np.random.default_rng(0)
    for c in ("cat", "dog"):
        (root / c).mkdir(parents=True)
        for i in range(4):
            Image.fromarray(rng.integers(0, 255, (8, 8, 3), dtype=np.uint8)).save(root / c / f"{c}{i}.png")
        (root / c / f"._{c}0.png").write_bytes(b"\x00\x05\x16\x07 AppleDouble, not a PNG")
    (root / ".ipynb_checkpoints").mkdir()
    Image.new("RGB", (8, 8)).save(root / ".ipynb_checkpoints" / "copy.png")
    return root


@pytest.fixture(scope="module")
def model():
    import keras

    keras.utils.set_random_seed(0)
    inputs = keras.Input((8, 8, 3))
    return keras.Model(inputs, keras.layers.Dense(2, activation="softmax")(keras.layers.Flatten()(inputs)))


def test_hidden_files_and_folders_are_skipped_and_named_in_the_notes(folder, model):
    """Check the two class folders are the classes, the 8 real images are read (the AppleDouble
    copies, which no decoder reads, are not), and the note names what was skipped."""
    data = load_dataset(folder)
    assert data.class_names == ("cat", "dog") and len(data.X) == 8
    assert [f.name for f in data.X.files] == [f"{c}{i}.png" for c in ("cat", "dog") for i in range(4)]
    note = (
        "pets: skipped 1 hidden folder(s) not read as classes (.ipynb_checkpoints) and 2 hidden "
        "file(s) in the class folders (e.g. cat/._cat0.png); names starting with '.' are left out."
    )
    assert data.notes == [note]
    ev = Evaluation.from_model(model, folder, progress=False, cache=False)
    assert ev.n_samples == 8 and note in ev.notes
    assert ev.y_true.tolist() == [0] * 4 + [1] * 4


def test_the_dashboard_lists_the_folder_note_beside_the_status(folder, model, tmp_path):
    """Check the dashboard over the folder shows "data notes" with the skip note."""
    from h5eval_widgets import Dashboard

    path = tmp_path / "tiny.keras"
    model.save(path)
    dash = Dashboard(models={"tiny": path}, datasets={"pets": folder}, progress=False)
    try:
        value = dash.data_notes.html.value
        assert "2 hidden file(s)" in value and ".ipynb_checkpoints" in value and "data notes (" in value
        assert "hidden" not in dash.state.session.status
    finally:
        dash.close()


def _wav(path, rate: int, frames: int, channels: int = 1) -> None:
    import wave

    samples = (np.sin(np.arange(frames * channels) / 7.0) * 8000).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(samples.tobytes())


def test_sound_files_padded_cut_refitted_or_at_other_rates_are_counted(tmp_path):
    """Check a folder of .wav files of other lengths and a stereo file: the notes count each, for
    a model that takes 1,000-sample mono waveforms; a hidden .wav is skipped."""
    import keras

    root = tmp_path / "sounds"
    for c in ("yes", "no"):
        (root / c).mkdir(parents=True)
    _wav(root / "yes" / "a.wav", 8000, 1000)
    _wav(root / "yes" / "b.wav", 8000, 600)  # padded
    _wav(root / "no" / "c.wav", 8000, 1500, channels=2)  # cut, stereo
    _wav(root / "no" / "d.wav", 8000, 1000)
    (root / "no" / "._d.wav").write_bytes(b"AppleDouble")
    inputs = keras.Input((1000,))
    model = keras.Model(inputs, keras.layers.Dense(2, activation="softmax")(inputs))
    ev = Evaluation.from_model(model, root, progress=False, cache=False)
    assert ev.n_samples == 4
    for note in (
        "1 of 4 files padded with zeros and 1 cut to 1000 samples.",
        "1 of 4 files have another channel count, fitted to 1 by decode_wav.",
        "sounds: skipped 1 hidden file(s) in the class folders (e.g. no/._d.wav); names starting with '.' are left out.",
    ):
        assert note in ev.notes, ev.notes
