"""Segmentation fixtures: generated 32x32 shape images with masks, and tiny real Keras
segmentation models trained on them for a few epochs and saved to real files (once per session)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

SIZE = 32
CLASSES = ("background", "square", "disc")


def shapes(n: int, seed: int, size: int = SIZE) -> tuple[np.ndarray, np.ndarray]:
    """``n`` noisy uint8 RGB images with a square (class 1) and a disc (class 2) each, and masks."""
    rng = np.random.default_rng(seed)
    X = rng.integers(0, 90, (n, size, size, 3)).astype(np.float64)
    y = np.zeros((n, size, size), np.uint8)
    yy, xx = np.mgrid[:size, :size]
    for i in range(n):
        s, r = rng.integers(5, 12), rng.integers(4, 8)
        x0, y0 = rng.integers(0, size - s, 2)
        cx, cy = rng.integers(r, size - r, 2)
        sq = (xx >= x0) & (xx < x0 + s) & (yy >= y0) & (yy < y0 + s)
        disc = (xx - cx) ** 2 + (yy - cy) ** 2 <= r * r
        y[i][sq] = 1
        y[i][disc] = 2
        # overlapping colours so that every class is sometimes confused
        X[i][sq] += rng.normal([110, 30, 0], 45, (sq.sum(), 3))
        X[i][disc] += rng.normal([30, 110, 0], 45, (disc.sum(), 3))
    return np.clip(X, 0, 255).astype(np.uint8), y


def scaled(X: np.ndarray) -> np.ndarray:
    """Pixels as the engine feeds image files with ``preprocess='auto'`` (times 1/255, float32)."""
    return X.astype(np.float32) * np.float32(1 / 255)


def _train(path: Path, X, y, *, pool: bool, sigmoid: bool = False, epochs: int = 25) -> Path:
    import keras

    keras.utils.set_random_seed(0)
    inp = keras.Input((SIZE, SIZE, 3))
    h = keras.layers.Conv2D(8, 3, padding="same", activation="relu")(inp)
    if pool:
        h = keras.layers.MaxPooling2D(2)(h)
    h = keras.layers.Conv2D(8, 3, padding="same", activation="relu")(h)
    out = keras.layers.Conv2D(1 if sigmoid else 3, 1, activation="sigmoid" if sigmoid else "softmax")(h)
    model = keras.Model(inp, out)
    target = y[:, ::2, ::2] if pool else y
    if sigmoid:
        target = (target > 0).astype(np.float32)[..., None]
    model.compile(keras.optimizers.Adam(0.01), "binary_crossentropy" if sigmoid else "sparse_categorical_crossentropy")
    model.fit(scaled(X), target, epochs=epochs, batch_size=8, verbose=0)
    model.save(path)
    return path


@pytest.fixture(scope="session")
def seg_data():
    """Train and test images (uint8) with masks: 96 to train, 24 to test."""
    X, y = shapes(120, seed=1)
    return X[:96], y[:96], X[96:], y[96:]


@pytest.fixture(scope="session")
def seg_models(tmp_path_factory, seg_data) -> dict[str, Path]:
    """Three models saved as .keras files: softmax at full size, softmax at half size (pooled),
    one sigmoid unit (square or disc against background)."""
    folder = tmp_path_factory.mktemp("seg_models")
    Xtr, ytr, _, _ = seg_data
    return {
        "softmax": _train(folder / "unet_like.keras", Xtr, ytr, pool=False),
        "half": _train(folder / "half_size.keras", Xtr, ytr, pool=True),
        "sigmoid": _train(folder / "sigmoid.h5", Xtr, ytr, pool=False, sigmoid=True),
    }


def write_folders(
    root: Path, X: np.ndarray, y: np.ndarray, *, mask_suffix: str = ".png", image_suffix: str = ".png"
) -> tuple[Path, Path]:
    """Images and masks written as files of the same stems under ``root``: (images/, masks/)."""
    from PIL import Image

    images, masks = root / "images", root / "masks"
    images.mkdir(parents=True)
    masks.mkdir()
    for i, (x, m) in enumerate(zip(X, y)):
        Image.fromarray(x).save(images / f"img_{i:03d}{image_suffix}")
        Image.fromarray(m.astype(np.uint8), mode="L").save(masks / f"img_{i:03d}{mask_suffix}")
    return images, masks
