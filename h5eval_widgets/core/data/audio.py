"""WAV files decoded on demand, padded or cut to one length, as Keras's audio pipeline does.

``keras.utils.audio_dataset_from_directory`` decodes each file with TensorFlow's
``tf.audio.decode_wav`` (``desired_samples`` pads with zeros or cuts to the length) and keeps the
file's channels; so does :class:`AudioFiles`, which also keeps the file paths (Keras's audio
loader drops them). Keras resamples only with tensorflow-io, so a file at another sampling rate
than the rest is an error naming it and both rates. Only the rows asked for are decoded.
"""

from __future__ import annotations

import hashlib
import os
import wave
from pathlib import Path
from typing import Any, Iterator, Sequence

import numpy as np

from ..errors import DatasetError, ShapeMismatchError

__all__ = ["AudioFiles", "AUDIO_SUFFIXES", "conform_audio", "spectrogram", "wav_rate"]

AUDIO_SUFFIXES = (".wav",)


def _header(f: Path) -> tuple[int, int, int]:
    """(sampling rate, channels, frames) from the WAV header (no samples decoded)."""
    try:
        with wave.open(str(f), "rb") as w:
            return w.getframerate(), w.getnchannels(), w.getnframes()
    except (wave.Error, EOFError, OSError) as exc:
        raise DatasetError(f"Audio file {f} could not be read as WAV ({exc}); remove or replace it.") from None


class AudioFiles:
    """WAV files decoded on demand at one length and channel count (float32 in [-1, 1]).

    Parameters
    ----------
    files : sequence of path-like
    length : int or None
        Samples per file after padding with zeros or cutting (None: the longest file's).
    channels : int or None
        Channels decoded (None: the first file's).

    Attributes
    ----------
    rate : int
        The files' sampling rate (every file must have it).
    shape : tuple
        ``(n_files, length, channels)``.
    """

    dtype = np.dtype(np.float32)
    ndim = 3

    def __init__(
        self,
        files: Sequence[str | os.PathLike],
        length: int | None = None,
        channels: int | None = None,
        *,
        headers: list | None = None,
    ):
        self.files = [Path(f) for f in files]
        self.headers = headers if headers is not None else [_header(f) for f in self.files]
        rates = np.array([h[0] for h in self.headers])
        odd = np.flatnonzero(rates != rates[0])
        if len(odd):
            f = self.files[odd[0]]
            raise DatasetError(
                f"Audio file {f} is sampled at {rates[odd[0]]} Hz but {self.files[0].name} and the "
                f"others at {rates[0]} Hz ({len(odd)} file(s) differ); resample them to one rate "
                "(Keras's audio loader resamples only with tensorflow-io)."
            )
        self.rate = int(rates[0])
        self.length = int(length) if length else max(h[2] for h in self.headers)
        self.channels = int(channels) if channels else int(self.headers[0][1])
        self.shape = (len(self.files), self.length, self.channels)
        self._digest: str | None = None

    def __len__(self) -> int:
        return len(self.files)

    def conformed(self, length: int | None, channels: int | None) -> "AudioFiles":
        """The same files at another length and channel count (nothing is decoded)."""
        return AudioFiles(self.files, length or self.length, channels or self.channels, headers=self.headers)

    def _decode(self, i: int) -> np.ndarray:
        import tensorflow as tf

        f = self.files[i]
        try:
            audio, _ = tf.audio.decode_wav(
                tf.io.read_file(str(f)), desired_channels=self.channels, desired_samples=self.length
            )
        except tf.errors.OpError as exc:
            raise DatasetError(
                f"Audio file {f} could not be decoded ({exc.message.splitlines()[0][:200]}); remove or replace it."
            ) from None
        return audio.numpy()

    def __getitem__(self, item) -> np.ndarray:
        if isinstance(item, (int, np.integer)):
            return self._decode(int(item))
        idx = np.arange(len(self))[item] if isinstance(item, slice) else np.asarray(item, np.int64)
        out = np.empty((len(idx), self.length, self.channels), np.float32)
        for j, i in enumerate(idx):
            out[j] = self._decode(int(i))
        return out

    def batches(self, step: int) -> Iterator[np.ndarray]:
        """Every file in order, ``step`` at a time."""
        for start in range(0, len(self), step):
            yield self[start : start + step]

    def __array__(self, dtype=None, copy=None):
        a = self[:]
        return a.astype(dtype) if dtype is not None else a

    @property
    def digest(self) -> str:
        """SHA-256 of the files' contents, length and channels."""
        if self._digest is None:
            h = hashlib.sha256(f"audio|{self.length}|{self.channels}".encode())
            for f in self.files:
                h.update(f.read_bytes())
            self._digest = h.hexdigest()
        return self._digest

    def __repr__(self) -> str:
        return f"AudioFiles({len(self)} files, {self.rate} Hz, length={self.length}, channels={self.channels})"


def conform_audio(X: AudioFiles, want: tuple, name: str, *, preprocessed: bool) -> tuple[AudioFiles, list[str]]:
    """The files at the model's input length and channels: ``want`` is the model's row shape,
    ``(length,)`` or ``(length, channels)``. With ``preprocessed`` (a function makes the model's
    input from the waveforms) the length stays as given."""
    if not preprocessed and len(want) not in (1, 2):
        raise ShapeMismatchError(
            f"{name} is a folder of .wav files but the model takes inputs of shape {want}, not "
            "waveforms (length,) or (length, channels); pass preprocess= a function turning a "
            "waveform batch into the model's input (a spectrogram, for example)."
        )
    length, channels = X.length, X.channels
    if not preprocessed:
        length = want[0] or length
        channels = (want[1] if len(want) == 2 else 1) or channels
    out = X.conformed(length, channels)
    return out, [
        f"Audio read as {out.length} samples x {out.channels} channel(s) at {out.rate} Hz, "
        "decoded with tf.audio.decode_wav, padded with zeros or cut, as "
        "keras.utils.audio_dataset_from_directory does.",
        *_fitted(out),
    ]


def _fitted(X: AudioFiles) -> list[str]:
    """Notes counting the files padded, cut or of another channel count (files at another
    sampling rate are refused when the folder is read)."""
    _, chans, frames = (np.array(col) for col in zip(*X.headers))
    n, notes = len(X.headers), []
    short, long_ = int((frames < X.length).sum()), int((frames > X.length).sum())
    if short or long_:
        notes.append(f"{short} of {n} files padded with zeros and {long_} cut to {X.length} samples.")
    other = int((chans != X.channels).sum())
    if other:
        notes.append(f"{other} of {n} files have another channel count, fitted to {X.channels} by decode_wav.")
    return notes


#: Samples per frame of the spectrograms shown (hop: half of it).
SPECTROGRAM_FRAME = 256


def wav_rate(path: str | os.PathLike) -> int:
    """The sampling rate in Hz from a WAV file's header (no samples decoded)."""
    return _header(Path(path))[0]


def spectrogram(
    waveform: np.ndarray, rate: int, *, frame: int = SPECTROGRAM_FRAME
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The magnitude spectrogram of a waveform in decibels, for display.

    ``scipy.signal.spectrogram`` with a periodic Hann window of ``frame`` samples (fewer for a
    shorter sound), hop ``frame // 2``, no detrending, magnitude scaled by the window's sum (a
    full-scale sine is about -6 dB at its frequency); the channels are averaged first.

    Parameters
    ----------
    waveform : ndarray of shape (length,) or (length, channels)
        Samples in [-1, 1], as :class:`AudioFiles` decodes them.
    rate : int
        Sampling rate in Hz.
    frame : int, default=SPECTROGRAM_FRAME

    Returns
    -------
    freqs : ndarray of shape (frame // 2 + 1,)
        Hz, from 0 to ``rate / 2``.
    times : ndarray of shape (frames,)
        Seconds, the middle of each frame.
    db : ndarray of shape (len(freqs), len(times))
        ``20 * log10(magnitude)``, floored at -200 dB (silence).
    """
    from scipy.signal import spectrogram as scipy_spectrogram

    x = np.asarray(waveform, np.float64)
    x = x.mean(axis=-1) if x.ndim == 2 else x.reshape(-1)
    if x.size < 2:
        raise ValueError(f"A waveform of {x.size} sample(s) has no spectrogram.")
    n = int(min(frame, x.size))
    freqs, times, mag = scipy_spectrogram(
        x, fs=rate, window="hann", nperseg=n, noverlap=n // 2, detrend=False, scaling="spectrum", mode="magnitude"
    )
    return freqs, times, 20 * np.log10(np.maximum(mag, 1e-10))


def audio_files_in(path: Path, classes: Sequence[str]) -> tuple[list[Path], list[int]]:
    """The .wav files of each class folder, in class then file-name order (Keras's order);
    hidden ones (a name starting with '.' below ``path``) left out."""
    files, labels = [], []
    for i, c in enumerate(classes):
        for f in sorted((path / c).rglob("*")):
            if (
                f.suffix.lower() in AUDIO_SUFFIXES
                and f.is_file()
                and not any(p.startswith(".") for p in f.relative_to(path).parts)
            ):
                files.append(f)
                labels.append(i)
    return files, labels


def is_audio_folder(path: Any) -> bool:
    """True for a folder whose class sub-folders hold .wav files."""
    p = Path(path)
    return p.is_dir() and any(
        f.suffix.lower() in AUDIO_SUFFIXES for d in p.iterdir() if d.is_dir() for f in d.iterdir()
    )
