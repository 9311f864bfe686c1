"""What keeping embeddings costs, and what projecting them costs (run by hand).

    python benchmarks/embeddings.py [--quick]

1. The inference pass with and without embeddings (``predict_with_embedding(...,
   embeddings=False)`` against ``embeddings=True``, cache off), best and median of 10
   interleaved runs after one warm-up pass that traces both compiled passes; the cost column
   compares the best times:
   - the demo's digits CNN on digits_test (719 images 8x8) and on it repeated to 10,066 images;
   - keras.applications.MobileNetV2 (``weights=None``, 1000 classes) on 200 random 224x224
     images (embedding: the input of its last Dense layer, 1280 values, randomly projected to 256);
   and the operations of MobileNetV2's two compiled passes, counted by type (on a shared
   machine the timing noise can be larger than the cost; the graphs show what the cost is).
2. PCA to 2-D of 10,000 and 100,000 x 128 random rows (best of 3).
3. UMAP to 2-D of 10,000 x 64 rows: the first call (numba compiles umap-learn's code) and a
   second one (``n_epochs`` left to umap-learn: 200 for this size). Skipped with --quick.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402


REPEAT = 10


def best_of(fn, repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def pass_times(loaded, data) -> tuple[float, float, tuple]:
    from h5eval_widgets.core.inference.predict import predict_with_embedding

    def run(emb):
        return predict_with_embedding(loaded, data, embeddings=emb, cache=False, progress=False)

    run(False), run(True)  # warm-up: traces both compiled passes
    times = {False: [], True: []}
    for _ in range(REPEAT):  # interleaved, so a busy moment of the machine hits both sides
        for emb in (False, True):
            t = time.perf_counter()
            run(emb)
            times[emb].append(time.perf_counter() - t)
    shape = run(True)[1].vectors.shape
    return times[False], times[True], shape


def main(quick: bool = False) -> None:
    import keras

    from h5eval_widgets.core import load_dataset, load_demo, load_model
    from h5eval_widgets.core.inference.projection import project

    demo = load_demo()
    digits = load_model(demo.models["digits_cnn"], cache=False)
    test = demo.dataset("digits_test")
    X, y = np.asarray(test.X), np.asarray(test.y)
    big = load_dataset(np.tile(X, (14, 1, 1)), np.tile(y, 14), name="digits x14")
    rng = np.random.default_rng(0)
    mobilenet = load_model(keras.applications.MobileNetV2(weights=None), name="MobileNetV2")
    imgs = load_dataset(
        rng.uniform(-1, 1, (200, 224, 224, 3)).astype(np.float32), rng.integers(0, 1000, 200), name="200 random 224x224"
    )

    print(f"{'inference pass (best / median of 10)':<36}{'without':>18}{'with':>18}{'cost':>8}  embedding")
    for name, loaded, data in [
        ("digits CNN, 719 images 8x8", digits, test),
        ("digits CNN, 10,066 images 8x8", digits, big),
        ("MobileNetV2, 200 images 224x224", mobilenet, imgs),
    ]:
        without, with_, shape = pass_times(loaded, data)
        a, b = min(without), min(with_)
        print(
            f"{name:<36}{a:>8.3f} /{np.median(without):>7.3f}s{b:>8.3f} /{np.median(with_):>7.3f}s"
            f"{(b / a - 1) * 100:>+7.1f}%  {shape[0]} x {shape[1]}"
        )

    # the machine's noise can exceed the cost: the compiled graphs say what the cost is
    from collections import Counter

    from h5eval_widgets.core.inference.embeddings import plan_for
    from h5eval_widgets.core.inference.predict import _forward_fn

    sig = ((224, 224, 3), np.dtype("float32"))
    graphs = [
        Counter(op.type for op in f.get_concrete_function().graph.get_operations())
        for f in (_forward_fn(mobilenet, sig), _forward_fn(mobilenet, sig, plan_for(mobilenet, "penultimate")))
    ]
    print(
        f"MobileNetV2's compiled pass: {sum(graphs[0].values())} ops without, {sum(graphs[1].values())} "
        f"with embeddings; added: {dict(graphs[1] - graphs[0])}, removed: {dict(graphs[0] - graphs[1])}"
    )

    print(f"\n{'projection to 2-D (best of 3)':<44}{'time':>10}")
    for n in (10_000, 100_000):
        x = rng.normal(size=(n, 128)).astype(np.float32)
        print(f"{f'PCA, {n:,} x 128':<44}{best_of(lambda: project(x, 'pca')):>9.3f}s")
    if quick:
        return
    x = rng.normal(size=(10_000, 64)).astype(np.float32)
    t = time.perf_counter()
    project(x, "umap")
    first = time.perf_counter() - t
    t = time.perf_counter()
    project(x, "umap", seed=1)
    print(f"{'UMAP, 10,000 x 64, first call (numba JIT)':<44}{first:>9.3f}s")
    print(f"{'UMAP, 10,000 x 64, second call':<44}{time.perf_counter() - t:>9.3f}s")


if __name__ == "__main__":
    main(quick="--quick" in sys.argv)
