"""A segmentation U-Net on folders of images and masks: the engine against the plain way (run by hand).

    python benchmarks/segmentation.py                    # --n 1000 --big 5000 --repeat 2
    python benchmarks/segmentation.py --n 200 --skip-big --repeat 1

Writes, in a temporary folder, --n generated 256x256 RGB PNG images (noise, a gradient, and
rectangles and discs of 3 classes on a background: 4 classes) with grayscale PNG masks of class
indices of the same file names, and saves a U-Net on a ``keras.applications.MobileNetV2``
encoder (``weights=None``: nothing is downloaded; untrained, its outputs are as costly to
count as a trained one's) as a .keras file. Each side, interleaved, in a fresh Python process:

- plain:  a ``tf.data`` pipeline reading each image and mask (``tf.io.decode_png``, pixels times
          1/255, batch 32) + ``load_model`` + ``model.predict`` over the images + arg-max and
          ``keras.metrics.MeanIoU`` over the masks, batch by batch;
- loop (with --loop): the same with ``model.predict_on_batch`` per batch in a loop, so that no
          score outlives its batch (what a careful user writes);
- engine: ``Evaluation.from_model(path, images/, masks=masks/, cache=False)`` + ``ev.scores``
          + ``ev.per_class()`` + ``ev.confusion_matrix()``.

Each child reports its wall time from before its first import to the end, and its peak RSS
(VmHWM). Both report the pixel confusion matrix; the table says whether they are equal.
Targets: engine time <= 1.05x plain, engine peak RSS <= plain, and the engine's peak RSS flat
from --n to --big images (the plain way's ``model.predict`` keeps every per-pixel score).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

ROOT = str(Path(__file__).resolve().parents[1])
SIZE = 256
K = 4

PLAIN = (
    """
import sys, time
t = time.perf_counter()
import keras, numpy as np, tensorflow as tf
from pathlib import Path
images, masks, path = sys.argv[1:4]
files = sorted(str(p) for p in Path(images).glob("*.png"))
mask_files = [str(Path(masks) / Path(f).name) for f in files]
def load(f, m):
    x = tf.cast(tf.io.decode_png(tf.io.read_file(f), channels=3), tf.float32) * (1 / 255)
    return x, tf.io.decode_png(tf.io.read_file(m), channels=1)[..., 0]
ds = tf.data.Dataset.from_tensor_slices((files, mask_files)).map(load, num_parallel_calls=tf.data.AUTOTUNE).batch(32).prefetch(1)
model = keras.saving.load_model(path, compile=False)
proba = model.predict(ds.map(lambda x, m: x), verbose=0)
miou = keras.metrics.MeanIoU(num_classes=%d)
start = 0
for _, m in ds:
    miou.update_state(m, np.argmax(proba[start:start + len(m)], axis=-1))
    start += len(m)
value = float(miou.result())
cm = miou.total_cm.numpy().astype(np.int64)
elapsed = time.perf_counter() - t
print("CM", cm.ravel().tolist())
print("RESULT", elapsed, value, next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM")))
"""
    % K
)

#: The thriftier plain way: predict_on_batch in a loop, so no score outlives its batch.
PLAIN_LOOP = PLAIN.replace(
    """proba = model.predict(ds.map(lambda x, m: x), verbose=0)
miou = keras.metrics.MeanIoU(num_classes=%d)
start = 0
for _, m in ds:
    miou.update_state(m, np.argmax(proba[start:start + len(m)], axis=-1))
    start += len(m)"""
    % K,
    """miou = keras.metrics.MeanIoU(num_classes=%d)
for x, m in ds:
    miou.update_state(m, np.argmax(model.predict_on_batch(x), axis=-1))"""
    % K,
)

ENGINE = """
import sys, time
t = time.perf_counter()
import numpy as np
from h5eval_widgets import Evaluation
images, masks, path = sys.argv[1:4]
ev = Evaluation.from_model(path, images, masks=masks, cache=False, progress=False)
value = ev.scores["mean_iou"]
ev.per_class(), ev.per_image()
cm = ev.confusion_matrix()
elapsed = time.perf_counter() - t
print("CM", cm.ravel().tolist())
print("RESULT", elapsed, value, next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM")))
"""


def _make(job: tuple[str, str, int, int]) -> None:
    from PIL import Image

    images, masks, i, seed = job
    rng = np.random.default_rng((seed, i))
    yy, xx = np.mgrid[:SIZE, :SIZE]
    x = rng.integers(0, 60, (SIZE, SIZE, 3)).astype(np.float32) + (xx / SIZE * 60)[..., None]
    m = np.zeros((SIZE, SIZE), np.uint8)
    for c in range(1, K):
        for _ in range(int(rng.integers(1, 3))):
            if rng.random() < 0.5:
                x0, y0 = rng.integers(0, SIZE - 40, 2)
                w, h = rng.integers(20, 90, 2)
                shape = (xx >= x0) & (xx < x0 + w) & (yy >= y0) & (yy < y0 + h)
            else:
                cx, cy, r = *rng.integers(30, SIZE - 30, 2), rng.integers(10, 45)
                shape = (xx - cx) ** 2 + (yy - cy) ** 2 <= r * r
            m[shape] = c
            x[shape] = rng.normal([60 * c, 200 - 50 * c, 120], 30, 3)
    Image.fromarray(np.clip(x, 0, 255).astype(np.uint8)).save(Path(images) / f"{i:05d}.png")
    Image.fromarray(m, mode="L").save(Path(masks) / f"{i:05d}.png")


def make_folders(root: Path, n: int, seed: int = 0) -> tuple[Path, Path]:
    images, masks = root / "images", root / "masks"
    images.mkdir(parents=True)
    masks.mkdir()
    with ProcessPoolExecutor(2) as pool:
        list(pool.map(_make, [(str(images), str(masks), i, seed) for i in range(n)], chunksize=32))
    return images, masks


def build_unet(path: Path) -> Path:
    """The TensorFlow segmentation tutorial's U-Net: a MobileNetV2 encoder (weights=None), skips
    at 128, 64, 32 and 16 px, transposed convolutions up to 256x256xK softmax."""
    import keras

    keras.utils.set_random_seed(0)
    base = keras.applications.MobileNetV2(input_shape=(SIZE, SIZE, 3), include_top=False, weights=None)
    names = [
        "block_1_expand_relu",
        "block_3_expand_relu",
        "block_6_expand_relu",
        "block_13_expand_relu",
        "block_16_project",
    ]
    encoder = keras.Model(base.input, [base.get_layer(n).output for n in names])
    inp = keras.Input((SIZE, SIZE, 3))
    skips = encoder(inp)
    x = skips[-1]
    for filters, skip in zip([512, 256, 128, 64], reversed(skips[:-1])):
        x = keras.layers.Conv2DTranspose(filters, 3, strides=2, padding="same", activation="relu")(x)
        x = keras.layers.Concatenate()([x, skip])
    out = keras.layers.Conv2DTranspose(K, 3, strides=2, padding="same", activation="softmax")(x)
    keras.Model(inp, out).save(path)
    return path


def run_child(code: str, images: Path, masks: Path, model: Path, tmp: Path) -> tuple[float, float, int, list]:
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", H5EVAL_CACHE_DIR=tempfile.mkdtemp(dir=tmp))
    env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")
    proc = subprocess.run(
        [sys.executable, "-c", code, str(images), str(masks), str(model)], env=env, capture_output=True, text=True
    )
    lines = proc.stdout.splitlines()
    try:
        cm = next(eval(line[3:]) for line in lines if line.startswith("CM "))  # noqa: S307 - our own child's list
        _, t, value, rss = next(line for line in lines if line.startswith("RESULT")).split()
    except StopIteration:
        raise RuntimeError(proc.stderr[-3000:]) from None
    return float(t), float(value), int(rss), cm


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--big", type=int, default=5000)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--skip-big", action="store_true")
    ap.add_argument("--plain-big", action="store_true", help="also run the plain way on --big")
    ap.add_argument(
        "--loop", action="store_true", help="also run the plain way with predict_on_batch in a loop (no scores kept)"
    )
    args = ap.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    with tempfile.TemporaryDirectory(prefix="h5eval-seg-") as d:
        tmp = Path(d)
        model = build_unet(tmp / "unet_mobilenetv2.keras")
        images, masks = make_folders(tmp / f"set{args.n}", args.n)
        sides = [("plain", PLAIN), ("engine", ENGINE)] + ([("loop", PLAIN_LOOP)] if args.loop else [])
        runs = {side: [] for side, _ in sides}
        for r in range(args.repeat):
            for side, code in sides:
                t, value, rss, cm = run_child(code, images, masks, model, tmp)
                runs[side].append((t, value, rss, cm))
                print(
                    f"run {r + 1} {side:6s} {args.n} images: {t:6.1f} s, peak RSS {rss / 1024:,.0f} MB, "
                    f"mean IoU {value:.6f}",
                    flush=True,
                )
        best = {s: min(v, key=lambda x: x[0]) for s, v in runs.items()}
        same = runs["plain"][0][3] == runs["engine"][0][3]
        p, e = best["plain"], best["engine"]
        print(
            f"\n{args.n} images, {SIZE}x{SIZE}, {K} classes: plain {p[0]:.1f} s / {p[2] / 1024:,.0f} MB; "
            f"engine {e[0]:.1f} s / {e[2] / 1024:,.0f} MB; time {e[0] / p[0]:.2f}x, RSS {e[2] / p[2]:.2f}x; "
            f"pixel matrices equal: {same}"
        )
        if args.loop:
            lp = best["loop"]
            print(
                f"plain with predict_on_batch in a loop: {lp[0]:.1f} s / {lp[2] / 1024:,.0f} MB; engine "
                f"time {e[0] / lp[0]:.2f}x, RSS {e[2] / lp[2]:.2f}x; pixel matrices equal: "
                f"{runs['loop'][0][3] == runs['engine'][0][3]}"
            )
        if not args.skip_big:
            images_b, masks_b = make_folders(tmp / f"set{args.big}", args.big, seed=1)
            t, _, rss, _ = run_child(ENGINE, images_b, masks_b, model, tmp)
            print(
                f"engine {args.big} images: {t:.1f} s, peak RSS {rss / 1024:,.0f} MB "
                f"({rss / e[2]:.2f}x its {args.n}-image peak)"
            )
            if args.plain_big:
                t, _, rss, _ = run_child(PLAIN, images_b, masks_b, model, tmp)
                print(f"plain  {args.big} images: {t:.1f} s, peak RSS {rss / 1024:,.0f} MB")


if __name__ == "__main__":
    main()
