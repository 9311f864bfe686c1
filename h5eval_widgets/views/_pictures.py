"""Pictures of image samples for the views: thumbnails fitted to a size, and saliency maps drawn
over the picture (Pillow; no widgets here)."""

from __future__ import annotations

import functools
import io

import numpy as np

__all__ = [
    "THUMBNAIL_PX",
    "DETAIL_PX",
    "image_png",
    "file_thumbnail_png",
    "picture",
    "overlay_png",
    "heat_colors",
    "spectrogram_png",
    "sound_png",
    "SPECTROGRAM_RANGE_DB",
]

#: Side in pixels of a gallery thumbnail, and of the picture shown in "details".
THUMBNAIL_PX = 72
DETAIL_PX = 320
#: Thumbnails of array images kept per dataset (encoded once, reused when a page is shown again).
THUMBNAIL_CACHE = 512


def image_png(x: np.ndarray, *, size: int = THUMBNAIL_PX) -> bytes:
    """PNG bytes of one image sample fitted to ``size`` pixels: small images (8x8 digits) scaled
    up with nearest-neighbour so they stay crisp, large ones shrunk (bilinear), so the browser
    gets a thumbnail, not the full picture."""
    from PIL import Image

    a = np.asarray(x, dtype=np.float64)
    a = np.squeeze(a)
    if a.ndim == 1:
        side = int(round(np.sqrt(a.size)))
        if side * side != a.size:
            raise ValueError(f"A sample of shape {x.shape} is not an image.")
        a = a.reshape(side, side)
    lo, hi = float(np.nanmin(a)), float(np.nanmax(a))
    scale = 255.0 / (hi - lo) if hi > lo else 0.0
    return _fitted_png(Image.fromarray(((a - lo) * scale).astype(np.uint8)), size)


def _fitted_png(img, size: int) -> bytes:
    """PNG bytes of a Pillow image fitted to ``size`` pixels: shrunk (bilinear) when larger,
    else scaled up by a whole factor with nearest-neighbour so small images stay crisp."""
    from PIL import Image

    if max(img.size) > size:
        img.thumbnail((size, size), Image.BILINEAR)
    else:
        factor = max(1, size // max(img.size))
        img = img.resize((img.size[0] * factor, img.size[1] * factor), Image.NEAREST)
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


@functools.lru_cache(maxsize=256)
def file_thumbnail_png(path: str, size: int = THUMBNAIL_PX) -> bytes:
    """PNG bytes of an image file shrunk to fit ``size`` pixels (the original picture, not
    what the model was fed); small images are scaled up crisply."""
    from PIL import Image

    with Image.open(path) as im:
        mode = "RGBA" if im.mode in ("RGBA", "LA", "P") else ("L" if im.mode in ("L", "1", "I;16") else "RGB")
        return _fitted_png(im.convert(mode), size)


def picture(data, i: int):
    """Sample ``i`` of an image dataset as a Pillow image: its file as it is, or the array
    scaled to 0-255 (greyscale, or RGB for three channels)."""
    from PIL import Image

    path = data.file_path(i)
    if path is not None:
        with Image.open(path) as im:
            return im.convert("RGB")
    a = np.squeeze(np.asarray(data.sample(i), dtype=np.float64))
    if a.ndim == 1:
        side = int(round(np.sqrt(a.size)))
        a = a.reshape(side, side)
    lo, hi = float(np.nanmin(a)), float(np.nanmax(a))
    a = (a - lo) * (255.0 / (hi - lo) if hi > lo else 0.0)
    return Image.fromarray(a.astype(np.uint8)).convert("RGB")


#: Colours of the heat map from 0 to 1 (dark blue, blue, cyan, yellow, red), interpolated.
HEAT_STOPS = np.array([[0, 0, 96], [0, 64, 255], [0, 224, 255], [255, 230, 0], [230, 0, 0]], np.float64)


def heat_colors(heat: np.ndarray) -> np.ndarray:
    """RGB colours (uint8, ``heat.shape + (3,)``) of values in [0, 1]."""
    t = np.clip(np.asarray(heat, np.float64), 0, 1) * (len(HEAT_STOPS) - 1)
    lo = np.minimum(t.astype(int), len(HEAT_STOPS) - 2)
    f = (t - lo)[..., None]
    return ((1 - f) * HEAT_STOPS[lo] + f * HEAT_STOPS[lo + 1]).astype(np.uint8)


def overlay_png(img, heat: np.ndarray, *, size: int = THUMBNAIL_PX, alpha: float = 0.6) -> bytes:
    """PNG bytes of a saliency map drawn over a picture, fitted to ``size`` pixels.

    The map (at the model's input size) is stretched to the picture, which is shown in grey
    under it; each pixel's colour is blended in proportion to its value, so what the model did
    not look at stays visible.

    Parameters
    ----------
    img : PIL.Image.Image
        The picture (see :func:`picture`).
    heat : ndarray of shape (h, w)
        Values in [0, 1].
    size : int, default=THUMBNAIL_PX
    alpha : float, default=0.6
        Opacity of the colour where the map is 1.
    """
    from PIL import Image

    if max(img.size) > 2 * size:  # blend at about the size shown
        img = img.copy()
        img.thumbnail((2 * size, 2 * size), Image.BILINEAR)
    grey = np.asarray(img.convert("L").convert("RGB"), np.float64)
    h = Image.fromarray(np.asarray(heat, np.float32), mode="F").resize(img.size, Image.BILINEAR)
    h = np.clip(np.asarray(h, np.float64), 0, 1)
    a = alpha * h[..., None]
    out = (1 - a) * grey + a * heat_colors(h)
    return _fitted_png(Image.fromarray(out.astype(np.uint8)), size)


#: Decibels below its loudest point that a spectrogram picture shows (quieter is the darkest colour).
SPECTROGRAM_RANGE_DB = 80.0


def spectrogram_png(db: np.ndarray, *, size: int = THUMBNAIL_PX) -> bytes:
    """PNG bytes of a spectrogram (see :func:`h5eval_widgets.core.data.audio.spectrogram`) in the
    heat map's colours: time from left to right, frequency from 0 Hz at the bottom to half the
    sampling rate at the top, the loudest point red and ``SPECTROGRAM_RANGE_DB`` below it dark
    blue; drawn ``size`` pixels wide and half as high (bilinear).

    Parameters
    ----------
    db : ndarray of shape (freqs, times)
        Decibels.
    size : int, default=THUMBNAIL_PX
    """
    from PIL import Image

    db = np.asarray(db, np.float64)
    top = float(db.max())
    heat = (db - (top - SPECTROGRAM_RANGE_DB)) / SPECTROGRAM_RANGE_DB
    img = Image.fromarray(heat_colors(heat[::-1]))  # row 0 (the top) is the highest frequency
    img = img.resize((size, max(1, size // 2)), Image.BILINEAR)
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def sound_png(data, i: int, *, size: int = THUMBNAIL_PX) -> bytes:
    """PNG bytes of the spectrogram of sample ``i`` of an audio dataset: of its waveform as it is
    read for the model (decoded, padded or cut), at its file's sampling rate."""
    from ..core.data.audio import spectrogram, wav_rate

    return spectrogram_png(spectrogram(data.sample(i), wav_rate(data.file_path(i)))[2], size=size)
