"""Image files decoded on demand, at one size and colour mode, as Keras's image pipeline does."""

from __future__ import annotations

import hashlib
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Iterator, Sequence

import numpy as np

from ..errors import DatasetError

__all__ = ["ImageFiles", "MODE_CHANNELS", "color_mode_of"]

#: Pillow colour modes by the channel count a model asks for.
MODE_CHANNELS = {"L": 1, "RGB": 3, "RGBA": 4}
COLOR_MODES = {"grayscale": "L", "rgb": "RGB", "rgba": "RGBA"}


def _threads() -> int:
    return max(1, min(8, os.cpu_count() or 1))


def color_mode_of(value: str | None) -> str | None:
    """Pillow's mode for ``'grayscale'``/``'rgb'``/``'rgba'`` (or ``'L'``/``'RGB'``/``'RGBA'``)."""
    if value is None:
        return None
    mode = COLOR_MODES.get(str(value).lower(), str(value).upper())
    if mode not in MODE_CHANNELS:
        raise DatasetError(f"color_mode={value!r} is not known; use 'grayscale', 'rgb' or 'rgba'.")
    return mode


#: Suffixes TensorFlow decodes (as ``keras.utils.image_dataset_from_directory`` does); other
#: images (TIFF, WebP) are read with Pillow.
TF_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".gif")


class ImageFiles:
    """Image files decoded on demand at one size and colour mode.

    Pixels are read exactly as ``keras.utils.image_dataset_from_directory`` reads them:
    TensorFlow's decoder with the channel count of the colour mode, then a bilinear
    ``tf.image.resize`` to the size, giving float32 values in 0-255 (so a model trained on such
    a pipeline sees the same numbers). Only the rows asked for are decoded; nothing is kept.
    TIFF and WebP files, which TensorFlow does not decode, go through Pillow.

    Parameters
    ----------
    files : sequence of path-like
    size : (width, height) or None
        None keeps each image's own size (then they must all agree).
    mode : {'L', 'RGB', 'RGBA'} or None
        None: grayscale when the first image is grayscale, else RGB.
    headers : list of ((width, height), mode), default=None
        Already read headers. Otherwise only the first file's is read here, and the others only
        if something needs every image's size (a model that takes any size).

    Attributes
    ----------
    resized : int or None
        How many images the last full pass resized (None before one).
    """

    dtype = np.dtype(np.float32)

    def __init__(
        self,
        files: Sequence[str | os.PathLike],
        size: tuple[int, int] | None = None,
        mode: str | None = None,
        *,
        headers: list | None = None,
    ):
        self.files = [Path(f) for f in files]
        self._headers = headers
        first_size, first_mode = headers[0] if headers else _read_header(self.files[0])
        self.native_size = tuple(first_size)
        self.mode = mode or ("L" if first_mode in ("L", "1", "I", "I;16", "LA") else "RGB")
        self.size = tuple(int(s) for s in size) if size is not None else None
        w, h = self.size or self.native_size
        channels = MODE_CHANNELS[self.mode]
        self.shape = (len(self.files), int(h), int(w), channels)
        self.ndim = 4
        self._digest: str | None = None
        self.resized: int | None = None

    def __len__(self) -> int:
        return len(self.files)

    @property
    def headers(self) -> list[tuple[tuple[int, int], str]]:
        """Every file's ((width, height), mode), read from the headers once, in threads."""
        if self._headers is None:
            self._headers = _read_headers(self.files)
        return self._headers

    @property
    def sizes_agree(self) -> bool:
        return all(tuple(s) == self.native_size for s, _ in self.headers)

    def by_size(self) -> dict[tuple[int, int], np.ndarray]:
        """Rows by their image's own (width, height), read from the headers, smallest first."""
        rows: dict[tuple[int, int], list[int]] = {}
        for i, (s, _) in enumerate(self.headers):
            rows.setdefault(tuple(s), []).append(i)
        return {s: np.array(rows[s], np.int64) for s in sorted(rows)}

    def take(self, idx) -> "ImageFiles":
        """Rows ``idx`` as their own set, at this size and colour mode (nothing is decoded)."""
        heads = self.headers
        return ImageFiles([self.files[i] for i in idx], self.size, self.mode, headers=[heads[i] for i in idx])

    def conformed(self, size: tuple[int, int] | None, mode: str | None) -> "ImageFiles":
        """The same files at another size and colour mode (nothing is decoded)."""
        return ImageFiles(self.files, size, mode or self.mode, headers=self._headers)

    def _check_sizes(self) -> None:
        if self.size is None and len(self) > 1 and not self.sizes_agree:
            odd = next(f for f, (s, _) in zip(self.files, self.headers) if tuple(s) != self.native_size)
            raise DatasetError(
                f"Image {odd} is not the size of {self.files[0].name} "
                f"({self.native_size[0]}x{self.native_size[1]}) and no size was given; give one "
                "with image_size=(width, height) (--image-size W H)."
            )

    @property
    def _tf_readable(self) -> bool:
        return all(f.suffix.lower() in TF_SUFFIXES for f in self.files)

    def _tf_dataset(self, idx: np.ndarray, batch: int):
        from .._lazy import _quiet_tf

        _quiet_tf()
        import tensorflow as tf

        _, h, w, c = self.shape

        def decode(raw):
            if c != 4:
                return tf.image.decode_image(raw, channels=c, expand_animations=False)

            # JPEG has no alpha (TensorFlow refuses 4 channels): its colours and an opaque alpha,
            # as Pillow's convert("RGBA") gives
            def opaque():
                rgb = tf.image.decode_jpeg(raw, channels=3)
                return tf.concat([rgb, tf.fill(tf.concat([tf.shape(rgb)[:2], [1]], 0), tf.constant(255, tf.uint8))], -1)

            return tf.cond(
                tf.io.is_jpeg(raw), opaque, lambda: tf.image.decode_image(raw, channels=4, expand_animations=False)
            )

        def load(path):
            img = decode(tf.io.read_file(path))
            resized = tf.reduce_any(tf.shape(img)[:2] != (h, w))
            img = tf.image.resize(img, (h, w), method="bilinear")
            img.set_shape((h, w, c))
            return img, resized

        paths = tf.constant([str(self.files[i]) for i in idx])
        return (
            tf.data.Dataset.from_tensor_slices(paths)
            .map(load, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
            .batch(batch)
            .prefetch(1)
        )

    def batches(self, step: int) -> Iterator[Any]:
        """Every image in order, ``step`` at a time, decoding ahead of the caller (as
        ``tf.Tensor`` batches when TensorFlow decodes them, else arrays)."""
        self._check_sizes()
        if not self._tf_readable:
            for start in range(0, len(self), step):
                yield self[start : start + step]
            return
        resized = 0
        for batch, was_resized in self._tf_batches(np.arange(len(self)), step):
            resized += int(was_resized.sum())
            yield batch
        self.resized = resized

    def _tf_batches(self, idx: np.ndarray, step: int) -> Iterator[tuple[Any, np.ndarray]]:
        """``(batch as a tf.Tensor, which rows were resized)``; the batch is not copied to numpy."""
        import tensorflow as tf

        it = iter(self._tf_dataset(idx, step))
        start = 0
        while True:
            try:
                batch, resized = next(it)
            except StopIteration:
                return
            except tf.errors.OpError as exc:
                raise self._decode_error(idx[start : start + step], exc) from None
            yield batch, resized.numpy()
            start += len(batch)

    def _decode_error(self, idx: np.ndarray, exc: Exception) -> DatasetError:
        """Which of these files TensorFlow could not decode, found by decoding each alone."""
        import tensorflow as tf

        for i in idx:
            try:
                next(iter(self._tf_dataset(np.array([i]), 1)))
            except tf.errors.OpError as one:
                return DatasetError(
                    f"Image {self.files[i]} could not be decoded ({one.message.splitlines()[0][:200]}); "
                    "remove or replace it."
                )
        return DatasetError(f"Images could not be decoded ({str(exc).splitlines()[0][:200]}).")

    def _decode_pil(self, i: int) -> np.ndarray:
        from PIL import Image

        f = self.files[i]
        try:
            with Image.open(f) as im:
                im = im.convert(self.mode)
                if self.size is not None and im.size != self.size:
                    im = im.resize(self.size, Image.BILINEAR)
                a = np.asarray(im, dtype=np.float32)
        except (OSError, ValueError, SyntaxError) as exc:
            raise DatasetError(f"Image {f} could not be decoded ({exc}); remove or replace it.") from None
        return a[..., None] if a.ndim == 2 else a

    def __getitem__(self, item) -> np.ndarray:
        self._check_sizes()
        if isinstance(item, (int, np.integer)):
            return self[np.array([int(item)])][0]
        idx = np.arange(len(self))[item] if isinstance(item, slice) else np.asarray(item, dtype=np.int64)
        if len(idx) == 0:
            return np.empty((0, *self.shape[1:]), np.float32)
        if self._tf_readable:
            return np.concatenate([b for b, _ in self._tf_batches(idx, len(idx))])
        out = np.empty((len(idx), *self.shape[1:]), dtype=np.float32)
        with ThreadPoolExecutor(_threads()) as pool:
            for j, a in enumerate(pool.map(self._decode_pil, (int(i) for i in idx))):
                out[j] = a
        return out

    def __array__(self, dtype=None, copy=None):
        a = self[:]
        return a.astype(dtype) if dtype is not None else a

    @property
    def digest(self) -> str:
        """SHA-256 of the files' bytes with the size and mode they are read at."""
        if self._digest is None:
            h = hashlib.sha256(f"images|{self.size}|{self.mode}|{len(self.files)}".encode())
            for f in self.files:
                h.update(f.name.encode())
                with open(f, "rb") as fh:
                    h.update(hashlib.sha256(fh.read()).digest())
            self._digest = h.hexdigest()
        return self._digest

    def __repr__(self) -> str:
        return f"ImageFiles({len(self)} files, size={self.size or self.native_size}, mode={self.mode!r})"


def _read_header(f: Path) -> tuple[tuple[int, int], str]:
    from PIL import Image

    try:
        with Image.open(f) as im:
            return tuple(im.size), im.mode
    except (OSError, ValueError, SyntaxError) as exc:
        raise DatasetError(f"Image {f} could not be read ({exc}); remove or replace it.") from None


def _read_headers(files: Sequence[Path]) -> list[tuple[tuple[int, int], str]]:
    """Each file's (size, mode) from its header (no pixels are decoded)."""
    if len(files) < 64:
        return [_read_header(f) for f in files]
    with ThreadPoolExecutor(_threads()) as pool:
        return list(pool.map(_read_header, files))
