"""Real image models on a folder of JPEG photos: the engine against the plain way (run by hand).

    python benchmarks/real_models.py                      # --n 2000 --big 20000, all five models
    python benchmarks/real_models.py --n 500 --models mlp,cnn --skip-big

Writes, in a temporary folder, --n JPEG photos (200-400 px per side, width and height drawn
independently, about 15% grayscale, smooth gradients + rectangles + a little noise, seed 0) in one
sub-folder per class, and saves five models built with ``weights=None`` (nothing is downloaded):
``mlp`` (64x64, .h5), ``cnn`` (128x128), ``mobilenet_v2``, ``resnet50`` and ``efficientnet_b0``
(224x224). For each model, interleaved, each in a fresh Python process:

- plain:   keras.utils.image_dataset_from_directory (bilinear resize to the model's input, batch 32)
           + the family's preprocess_input (mobilenet_v2, resnet50) + load_model + model.predict,
           labels from the dataset's file paths (no second pass over the photos), then the
           usual scikit-learn calls;
- engine:  Evaluation.from_model(path, folder, cache=False, preprocess=...) + ev.scores +
           ev.per_class(), with a fresh, empty H5EVAL_CACHE_DIR.

Each child reports its wall time from before its first import to the end, and its peak RSS
(VmHWM: the parent's own peak does not carry over). With --repeat N each pair runs N times,
interleaved; every run's time is printed per model, and the table shows the fastest of each side.
Both save their probabilities; the table shows the fraction of equal argmaxes and the largest
absolute difference (resizing algorithms may differ, so nothing is asserted).
Targets: engine time <= 1.05x plain, engine peak RSS <= plain.

Unless --skip-big, the "memory stays flat" run: the engine on the cnn over a folder of --n and
one of --big smaller photos (64-160 px, to keep generating them quick), and the plain way on the
big folder; the engine's peak RSS should barely grow (it keeps N x k float32 outputs).
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

CLASSES = 5
ROOT = str(Path(__file__).resolve().parents[1])
PREPROCESS = {"mobilenet_v2": "mobilenet_v2", "resnet50": "resnet50"}  # others rescale themselves

PLAIN = """
import sys, time
t = time.perf_counter()
import keras, numpy as np
from sklearn import metrics as skm
folder, path, out, size, family = sys.argv[1:6]
ds = keras.utils.image_dataset_from_directory(
    folder, image_size=tuple(map(int, size.split("x"))), color_mode="rgb", shuffle=False,
    batch_size=32, labels="inferred", label_mode="int")
files, names = ds.file_paths, ds.class_names
if family != "none":
    pre = getattr(keras.applications, family).preprocess_input
    ds = ds.map(lambda x, y: (pre(x), y))
proba = keras.saving.load_model(path, compile=False).predict(ds, verbose=0)
from pathlib import Path
y = np.array([names.index(Path(p).parent.name) for p in files])
pred = proba.argmax(1)
skm.accuracy_score(y, pred), skm.f1_score(y, pred, average="macro")
skm.precision_score(y, pred, average="macro", zero_division=0)
skm.recall_score(y, pred, average="macro", zero_division=0)
skm.cohen_kappa_score(y, pred), skm.matthews_corrcoef(y, pred)
skm.roc_auc_score(y, proba, multi_class="ovr")
skm.confusion_matrix(y, pred), skm.classification_report(y, pred, zero_division=0)
elapsed = time.perf_counter() - t
np.save(out, proba)
print("RESULT", elapsed, next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM")))
"""

ENGINE = """
import sys, time
t = time.perf_counter()
import numpy as np
from h5eval_widgets import Evaluation
folder, path, out, size, preprocess = sys.argv[1:6]
ev = Evaluation.from_model(path, folder, progress=False, cache=False, preprocess=preprocess)
ev.scores
ev.per_class()
elapsed = time.perf_counter() - t
np.save(out, ev.y_proba)
print("RESULT", elapsed, next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM")))
"""


def _make_image(job: tuple[str, int, int, int]) -> None:
    """One smooth, JPEG-friendly photo: a gradient, a few rectangles, a little noise."""
    import numpy as np
    from PIL import Image

    path, seed, lo, hi = job
    rng = np.random.default_rng(seed)
    w, h = (int(s) for s in rng.integers(lo, hi + 1, size=2))
    c0, c1 = rng.uniform(0, 255, (2, 3)).astype(np.float32)
    a = np.float32(rng.uniform())
    t = a * np.linspace(0, 1, w, dtype=np.float32)[None, :] + (1 - a) * np.linspace(0, 1, h, dtype=np.float32)[:, None]
    img = c0 + t[..., None] * (c1 - c0)
    for _ in range(rng.integers(2, 7)):
        x0, y0 = rng.integers(0, w - 8), rng.integers(0, h - 8)
        img[y0 : rng.integers(y0 + 8, h + 1), x0 : rng.integers(x0 + 8, w + 1)] = rng.uniform(0, 255, 3)
    img += rng.standard_normal(img.shape, dtype=np.float32) * 6
    im = Image.fromarray(np.clip(img, 0, 255).astype(np.uint8), "RGB")
    if rng.random() < 0.15:
        im = im.convert("L")
    im.save(path, quality=90)


def make_folder(folder: Path, n: int, lo: int, hi: int, seed: int) -> None:
    for c in range(CLASSES):
        (folder / f"class_{c}").mkdir(parents=True)
    jobs = [
        (str(folder / f"class_{i % CLASSES}" / f"img_{i:06d}.jpg"), seed * 10_000_000 + i, lo, hi) for i in range(n)
    ]
    t = time.perf_counter()
    with ProcessPoolExecutor(os.cpu_count() or 2) as pool:
        list(pool.map(_make_image, jobs, chunksize=64))
    dt = time.perf_counter() - t
    mb = sum(f.stat().st_size for f in folder.rglob("*.jpg")) / 1e6
    print(
        f"{n} JPEGs of {lo}-{hi} px in {folder.name}/: {dt:.1f} s ({dt / n * 1000:.1f} s per "
        f"1000), {mb:.0f} MB, {mb / n * 1000:.0f} kB each on average"
    )


def build(name: str, k: int):
    import keras
    from keras import layers as L

    if name == "mlp":
        return keras.Sequential(
            [
                keras.Input((64, 64, 3)),
                L.Rescaling(1 / 255),
                L.Flatten(),
                L.Dense(128, activation="relu"),
                L.Dense(k, activation="softmax"),
            ]
        )
    if name == "cnn":
        body = [keras.Input((128, 128, 3)), L.Rescaling(1 / 255)]
        for filters in (16, 32, 64):
            body += [L.Conv2D(filters, 3, activation="relu", padding="same"), L.MaxPooling2D()]
        return keras.Sequential(body + [L.GlobalAveragePooling2D(), L.Dense(k, activation="softmax")])
    app = {
        "mobilenet_v2": keras.applications.MobileNetV2,
        "resnet50": keras.applications.ResNet50,
        "efficientnet_b0": keras.applications.EfficientNetB0,
    }[name]
    return app(weights=None, input_shape=(224, 224, 3), classes=k)


def run_child(
    code: str, folder: Path, model: Path, out: Path, size: str, arg: str, tmp: Path
) -> tuple[float, int] | str:
    """(seconds, peak RSS in KiB) measured inside a fresh process, or 'failed: ...'."""
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", H5EVAL_CACHE_DIR=tempfile.mkdtemp(prefix="cache-", dir=tmp))
    env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")
    proc = subprocess.run(
        [sys.executable, "-c", code, str(folder), str(model), str(out), size, arg],
        env=env,
        capture_output=True,
        text=True,
    )
    result = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
    if proc.returncode or not result:
        lines = [ln for ln in proc.stderr.splitlines() if ln.strip()] or [f"exit {proc.returncode}"]
        return f"failed: {lines[-1].strip()}"
    _, seconds, rss = result[-1].split()
    return float(seconds), int(rss)


def best(runs: list) -> tuple[float, int] | str:
    """The fastest run (with its own peak RSS), or the first failure."""
    failed = [r for r in runs if isinstance(r, str)]
    return failed[0] if failed else min(runs)


def spread(runs: list) -> str:
    """Each run's seconds, in the order they ran."""
    return ", ".join(r if isinstance(r, str) else f"{r[0]:.1f} s" for r in runs)


def mem(kib: int) -> str:
    return f"{kib / 1024**2:.2f} GB" if kib >= 1024**2 else f"{kib / 1024:.0f} MB"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=2000, help="photos in the main folder")
    p.add_argument("--big", type=int, default=20000, help="photos in the flat-memory folder")
    p.add_argument("--models", default="mlp,cnn,mobilenet_v2,resnet50,efficientnet_b0")
    p.add_argument("--skip-big", action="store_true", help="skip the flat-memory run")
    p.add_argument("--keep", action="store_true", help="keep the temporary folder")
    p.add_argument("--repeat", type=int, default=1, help="runs of each child, interleaved; the fastest counts")
    args = p.parse_args()
    names = [m.strip() for m in args.models.split(",") if m.strip()]
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    t0 = time.perf_counter()

    tmp = Path(tempfile.mkdtemp(prefix="h5eval-real-"))
    try:
        # Photos first: the worker processes fork before TensorFlow starts any thread here.
        folder, small, big = tmp / "photos", tmp / "photos_small", tmp / "photos_big"
        make_folder(folder, args.n, 200, 400, seed=0)
        if not args.skip_big:
            make_folder(small, args.n, 64, 160, seed=1)
            make_folder(big, args.big, 64, 160, seed=1)

        import keras

        keras.utils.set_random_seed(0)
        paths, info = {}, {}
        for name in names + (["cnn"] if not args.skip_big and "cnn" not in names else []):
            model = build(name, CLASSES)
            paths[name] = tmp / f"{name}.{'h5' if name == 'mlp' else 'keras'}"
            model.save(paths[name])
            h, w = model.input_shape[1:3]
            info[name] = (model.count_params(), f"{h}x{w}")
            print(
                f"{name:16s}{model.count_params():>12,} parameters, {h}x{w}, "
                f"{paths[name].stat().st_size / 1e6:6.1f} MB file"
            )
            del model
            keras.backend.clear_session()

        rows = []
        for name in names:
            size = info[name][1]
            plain, engine = [], []
            for _ in range(args.repeat):  # interleaved; the best of each is kept
                plain.append(
                    run_child(
                        PLAIN, folder, paths[name], tmp / f"{name}_plain.npy", size, PREPROCESS.get(name, "none"), tmp
                    )
                )
                engine.append(
                    run_child(
                        ENGINE, folder, paths[name], tmp / f"{name}_engine.npy", size, PREPROCESS.get(name, "auto"), tmp
                    )
                )
            # every run is shown: this machine's own speed moves between runs
            print(f"  {name}: plain {spread(plain)}; engine {spread(engine)}", flush=True)
            rows.append((name, best(plain), best(engine)))

        import numpy as np

        print(
            f"\n{args.n} photos, {CLASSES} classes, best of {args.repeat} run(s) each; targets: "
            f"engine time <= 1.05x plain, engine peak RSS <= plain"
        )
        head = (
            f"{'model':16s}{'params':>12s}{'input':>9s}{'plain':>9s}{'engine':>9s}{'ratio':>7s}"
            f"{'plain RSS':>11s}{'eng RSS':>10s}{'ratio':>7s}{'argmax':>8s}{'max|diff|':>11s}"
        )
        print(head + "\n" + "-" * len(head))
        for name, plain, engine in rows:
            params, size = info[name]
            line = f"{name:16s}{params:>12,}{size:>9s}"
            if isinstance(plain, str):
                print(
                    f"{line}  plain {plain}"
                    + ("" if isinstance(engine, str) else f"; engine {engine[0]:.1f} s, {mem(engine[1])}")
                )
                continue
            line += f"{plain[0]:>8.1f}s"
            if isinstance(engine, str):
                print(f"{line}{'':>16s}{mem(plain[1]):>11s}  engine {engine}")
                continue
            a, b = np.load(tmp / f"{name}_plain.npy"), np.load(tmp / f"{name}_engine.npy")
            agree, diff = (
                (f"{(a.argmax(1) == b.argmax(1)).mean():>8.1%}", f"{np.abs(a - b).max():>11.2e}")
                if a.shape == b.shape
                else (f"{'shape':>8s}", f"{str(b.shape):>11s}")
            )
            print(
                f"{line}{engine[0]:>8.1f}s{engine[0] / plain[0]:>6.2f}x{mem(plain[1]):>11s}"
                f"{mem(engine[1]):>10s}{engine[1] / plain[1]:>6.2f}x{agree}{diff}"
            )

        if not args.skip_big:
            print(
                f"\nMemory stays flat: cnn, engine over {args.n} and over {args.big} photos of "
                f"64-160 px (smaller than above only to generate them quickly)"
            )
            runs: dict[str, list] = {"small_e": [], "big_e": [], "big_p": []}
            for _ in range(args.repeat):  # interleaved, as above
                runs["big_p"].append(
                    run_child(PLAIN, big, paths["cnn"], tmp / "flat_plain.npy", "128x128", "none", tmp)
                )
                runs["small_e"].append(
                    run_child(ENGINE, small, paths["cnn"], tmp / "flat_small.npy", "128x128", "auto", tmp)
                )
                runs["big_e"].append(run_child(ENGINE, big, paths["cnn"], tmp / "flat_big.npy", "128x128", "auto", tmp))
            small_e, big_e, big_p = (best(runs[k]) for k in ("small_e", "big_e", "big_p"))
            for label, r in (
                (f"engine, {args.n} photos", small_e),
                (f"engine, {args.big} photos", big_e),
                (f"plain,  {args.big} photos", big_p),
            ):
                print(f"  {label:22s}" + (r if isinstance(r, str) else f"{r[0]:8.1f} s, peak RSS {mem(r[1])}"))
            if not isinstance(small_e, str) and not isinstance(big_e, str):
                print(
                    f"  engine peak RSS difference: {(big_e[1] - small_e[1]) / 1024:+.0f} MB "
                    f"(outputs: {args.big * CLASSES * 4 / 1e6:.2f} MB of float32)"
                )
        own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print(f"\nwhole benchmark: {time.perf_counter() - t0:.0f} s (this process peaked at {mem(own)})")
    finally:
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
