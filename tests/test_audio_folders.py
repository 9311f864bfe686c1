"""Folders of .wav files per class: read as keras.utils.audio_dataset_from_directory reads them
(outputs equal model.predict on its batches), spectrograms through preprocess=, file paths kept,
bad files named, and the dashboard's cards play the sound."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np
import pytest

from h5eval_widgets.core import Evaluation
from h5eval_widgets.core.errors import DatasetError, ShapeMismatchError
from tests.helpers import digests

RATE = 8000
LENGTH = 2000  # the model's input: 0.25 s
FREQS = {"high": 1800.0, "low": 300.0, "mid": 900.0}


def write_wav(path: Path, signal: np.ndarray, rate: int = RATE) -> None:
    """16-bit PCM mono or multi-channel WAV with the stdlib wave module."""
    pcm = np.clip(signal * 32767, -32768, 32767).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1 if pcm.ndim == 1 else pcm.shape[1])
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm.tobytes())


def make_folder(root: Path, n_per_class: int = 8, seed: int = 0) -> Path:
    """Noisy sine waves of 3 frequencies, lengths around LENGTH (some shorter, some longer)."""
    rng = np.random.default_rng(seed)
    for c, f in FREQS.items():
        (root / c).mkdir(parents=True)
        for i in range(n_per_class):
            n = int(rng.integers(LENGTH - 600, LENGTH + 600))
            t = np.arange(n) / RATE
            sig = 0.5 * np.sin(2 * np.pi * f * (1 + rng.normal(0, 0.15)) * t) + rng.normal(0, 0.3, n)
            write_wav(root / c / f"{c}_{i:02d}.wav", sig)
    return root


def spectrogram(x):
    """The simple-audio recipe: |STFT| of the waveform batch (batch, length, 1), with a channel."""
    import tensorflow as tf

    x = tf.convert_to_tensor(x)[..., 0]
    s = tf.abs(tf.signal.stft(x, frame_length=128, frame_step=64))
    return s[..., None]


@pytest.fixture(scope="module")
def audio_models(tmp_path_factory):
    """A folder of 24 .wav files in 3 classes and two tiny models trained on it: a Conv1D on the
    waveform (LENGTH, 1) and a Conv2D on its spectrogram, saved to .keras files."""
    import keras

    root = make_folder(tmp_path_factory.mktemp("audio") / "sounds")
    ds = keras.utils.audio_dataset_from_directory(
        root, output_sequence_length=LENGTH, batch_size=8, shuffle=False, verbose=False
    )
    keras.utils.set_random_seed(0)
    wave_model = keras.Sequential(
        [
            keras.Input((LENGTH, 1)),
            keras.layers.Conv1D(4, 16, strides=8, activation="relu"),
            keras.layers.GlobalMaxPooling1D(),
            keras.layers.Dense(3, activation="softmax"),
        ]
    )
    wave_model.compile("adam", "sparse_categorical_crossentropy")
    wave_model.fit(ds, epochs=2, verbose=0, shuffle=False)  # a tf.data set: Keras would not shuffle it
    spec_shape = tuple(spectrogram(np.zeros((1, LENGTH, 1), np.float32)).shape[1:])
    spec_model = keras.Sequential(
        [
            keras.Input(spec_shape),
            keras.layers.Conv2D(4, 3, activation="relu"),
            keras.layers.GlobalMaxPooling2D(),
            keras.layers.Dense(3, activation="softmax"),
        ]
    )
    spec_model.compile("adam", "sparse_categorical_crossentropy")
    spec_model.fit(ds.map(lambda x, y: (spectrogram(x), y)), epochs=2, verbose=0, shuffle=False)
    folder = tmp_path_factory.mktemp("audio_models")
    wave_model.save(folder / "wave.keras")
    spec_model.save(folder / "spec.keras")
    return root, folder / "wave.keras", folder / "spec.keras", ds


def test_outputs_equal_model_predict_on_keras_audio_batches(audio_models):
    """Check that an audio folder gives the labels, classes and outputs of model.predict on
    audio_dataset_from_directory's batches (padded or cut to the model's length), with paths."""
    import keras

    root, wave_path, _, ds = audio_models
    ev = Evaluation.from_model(wave_path, root, progress=False)
    expected = keras.models.load_model(wave_path).predict(ds, verbose=0)
    labels = np.concatenate([y.numpy() for _, y in ds])
    np.testing.assert_allclose(ev.y_proba, expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(ev.y_true, labels)
    assert ev.classes == ("high", "low", "mid")
    assert any("2000 samples x 1 channel(s) at 8000 Hz" in n for n in ev.notes)


def test_a_spectrogram_preprocess_function_gets_the_waveform_batches(audio_models):
    """Check that preprocess= a spectrogram function of the waveform batch gives the outputs of
    model.predict on the Keras batches mapped through the same function."""
    import keras

    root, _, spec_path, ds = audio_models
    ev = Evaluation.from_model(spec_path, root, preprocess=spectrogram, sequence_length=LENGTH, progress=False)
    expected = keras.models.load_model(spec_path).predict(ds.map(lambda x, y: (spectrogram(x), y)), verbose=0)
    np.testing.assert_allclose(ev.y_proba, expected, rtol=1e-5, atol=1e-6)


def test_the_dataset_keeps_the_file_paths_and_reads_them_in_keras_order(audio_models):
    """Check that the audio dataset names each sample's file, in class then file-name order."""
    from h5eval_widgets.core import load_dataset

    root = audio_models[0]
    data = load_dataset(root)
    assert data.kind == "audio" and len(data) == 24
    assert data.file_path(0) == root / "high" / "high_00.wav"
    assert data.file_path(23) == root / "mid" / "mid_07.wav"


def test_a_file_at_another_sampling_rate_is_named_with_both_rates(tmp_path):
    """Check that one file at 16 kHz among 8 kHz files raises an error naming it and both rates."""
    root = make_folder(tmp_path / "sounds", n_per_class=2)
    write_wav(root / "low" / "low_01.wav", np.zeros(4000), rate=16000)
    before = digests(sorted(root.rglob("*.wav")))
    from h5eval_widgets.core import load_dataset

    with pytest.raises(
        DatasetError,
        match=r"low_01.wav is sampled at 16000 Hz but high_00.wav and "
        r"the others at 8000 Hz",
    ):
        load_dataset(root)
    assert digests(sorted(root.rglob("*.wav"))) == before


def test_a_corrupt_wav_file_is_named(tmp_path, audio_models):
    """Check that a .wav file that is not WAV raises an error naming the file, and no file changes."""
    root = make_folder(tmp_path / "sounds", n_per_class=2)
    (root / "mid" / "mid_00.wav").write_bytes(b"RIFF....not a wave file")
    before = digests(sorted(root.rglob("*.wav")))
    with pytest.raises(DatasetError, match=r"Audio file .*mid_00.wav could not be read as WAV"):
        Evaluation.from_model(audio_models[1], root, progress=False)
    assert digests(sorted(root.rglob("*.wav"))) == before


def test_a_wav_folder_for_an_image_model_says_what_to_do(tmp_path, seg_models):
    """Check that a folder of .wav files given to an image model raises an error saying the model
    takes images and how preprocess= can make its input."""
    root = make_folder(tmp_path / "sounds", n_per_class=2)
    import keras

    image_model = keras.Sequential(
        [keras.Input((32, 32, 3)), keras.layers.Flatten(), keras.layers.Dense(3, activation="softmax")]
    )
    with pytest.raises(
        ShapeMismatchError,
        match=r"is a folder of .wav files but the model takes inputs "
        r"of shape \(32, 32, 3\).*preprocess=",
    ):
        Evaluation.from_model(image_model, root, progress=False)


def test_dashboard_cards_play_the_sound(audio_models):
    """Check that the samples of an audio folder show as cards with an audio player of the file."""
    import ipywidgets as W

    from h5eval_widgets import Dashboard

    root, wave_path, _, _ = audio_models
    dash = Dashboard(models={"wave": wave_path}, datasets={"sounds": root}, progress=False)
    try:
        ev = dash.session.evaluation
        assert ev is not None and ev.n_samples == 24
        cell = next((t, p) for t in range(3) for p in range(3) if ev.confusion_matrix()[t, p])
        dash.confusion.click_cell(*cell)
        card = dash.samples.cards[0]
        players = [w for w in card.children if isinstance(w, W.Audio)]
        i = int(dash.state.ordered_indices[0])
        assert len(players) == 1 and players[0].value == dash.session.dataset.file_path(i).read_bytes()
        assert dash.session.status_level == "info"
    finally:
        dash.close()


def test_spectrogram_equals_tensorflows_stft(audio_models):
    """Check that the spectrogram drawn for a sound is |tf.signal.stft| with the documented frames
    (docs/inputs/audio.md: periodic Hann frames of 256 samples, hop 128) divided by the window's
    sum, in dB, with frequencies up to half the rate."""
    import tensorflow as tf

    from h5eval_widgets.core.data.audio import spectrogram

    x = np.random.default_rng(3).normal(0, 0.3, (LENGTH, 2)).astype(np.float32)
    freqs, times, db = spectrogram(x, RATE)
    n = 256  # the documented frame, not the code's own constant
    stft = (
        tf.signal.stft(x.mean(axis=1), frame_length=n, frame_step=n // 2, fft_length=n, window_fn=tf.signal.hann_window)
        .numpy()
        .T
    )
    ref = 20 * np.log10(np.abs(stft) / tf.signal.hann_window(n).numpy().sum())
    assert db.shape == ref.shape == (n // 2 + 1, 1 + (LENGTH - n) // (n // 2))
    np.testing.assert_allclose(db, ref, atol=1e-3)
    np.testing.assert_allclose(freqs, np.arange(n // 2 + 1) * RATE / n)
    np.testing.assert_allclose(times, (np.arange(db.shape[1]) * (n // 2) + n / 2) / RATE)


def _loudest_frequency(png: bytes, rate: int) -> float:
    """The frequency (Hz) of the loudest row of a spectrogram picture drawn in the heat colours:
    each pixel read back as the heat value of its nearest colour, rows from rate/2 (top) to 0."""
    import io

    from PIL import Image

    from h5eval_widgets.views._pictures import heat_colors

    rgb = np.asarray(Image.open(io.BytesIO(png)).convert("RGB"), np.float64)
    table = np.linspace(0, 1, 501)
    colors = heat_colors(table).astype(np.float64)
    heat = table[np.argmin(((rgb[..., None, :] - colors) ** 2).sum(-1), axis=-1)]
    row = int(np.argmax(heat.mean(axis=1)))
    return (1 - (row + 0.5) / rgb.shape[0]) * rate / 2


def _file_frequency(path: Path) -> float:
    """The strongest frequency (Hz) of a WAV file's first LENGTH samples, read with the wave module."""
    with wave.open(str(path), "rb") as w:
        x = np.frombuffer(w.readframes(LENGTH), "<i2").astype(np.float64)
    return float(np.argmax(np.abs(np.fft.rfft(x, LENGTH))) * RATE / LENGTH)


def test_audio_cards_show_the_spectrogram_of_their_file_and_details_show_it_large(audio_models):
    """Check that each audio card shows, under its player, a spectrogram picture whose loudest row
    is its file's tone (found with numpy's FFT of the file), and that "details" draws the chosen
    file's spectrogram 320 px wide with the same loudest row."""
    import io

    import ipywidgets as W
    from PIL import Image

    from h5eval_widgets import Dashboard

    root, wave_path, _, _ = audio_models
    dash = Dashboard(models={"wave": wave_path}, datasets={"sounds": root}, progress=False)
    try:
        data = dash.session.dataset
        dash.state.selected_indices = np.arange(0, 24, 2)  # files of every class
        row_hz = RATE / 2 / (72 // 2)  # one row of the 72 x 36 px thumbnail
        tones = []
        for card, i in zip(dash.samples.cards, dash.state.ordered_indices):
            parts = card.children
            players = [n for n, w in enumerate(parts) if isinstance(w, W.Audio)]
            pictures = [w for w in parts if isinstance(w, W.Image)]
            assert len(players) == 1 and len(pictures) == 1 and isinstance(parts[players[0] + 1], W.Image)
            assert Image.open(io.BytesIO(pictures[0].value)).size == (72, 36)
            tone = _file_frequency(data.file_path(int(i)))
            assert abs(_loudest_frequency(pictures[0].value, RATE) - tone) <= 1.5 * row_hz, data.file_path(int(i))
            tones.append(tone)
        assert max(tones) > 1500 and min(tones) < 500  # high and low files among them
        first = int(dash.state.ordered_indices[0])
        dash.samples.cards[0].children[-1].click()  # "details"
        big = dash.samples.detail_image
        assert dash.state.selected_sample == first and big.layout.display is None
        assert Image.open(io.BytesIO(big.value)).size == (320, 160)
        tone = _file_frequency(data.file_path(first))
        assert abs(_loudest_frequency(big.value, RATE) - tone) <= 1.5 * RATE / 2 / 160 + RATE / LENGTH
        assert dash.session.status_level == "info"
    finally:
        dash.close()
