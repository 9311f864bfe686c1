"""Metrics by slice and weak slices on one million samples (run by hand).

    python benchmarks/slices.py

1,000,000 samples, 10 classes (float32 softmax scores leaning to the truth), metadata of a
20-value column and an integer age. Times are the best of 2 after one warm-up call (so the
import of scikit-learn's tree is not counted); ``slices`` is timed without the table it keeps
per column, except on the line saying so. (The AUC's dot products avoid BLAS: on 2 busy
cores its threads made the first line take 13.4 s.)
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from h5eval_widgets.core import Evaluation  # noqa: E402
from h5eval_widgets.core.insight.slices import slice_table  # noqa: E402  (ev.slices without its cache)


def best(f, reps: int = 2) -> float:
    f()
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        f()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    rng = np.random.default_rng(0)
    n, k, n_slices = 1_000_000, 10, 20
    y = rng.integers(0, k, n)
    z = rng.normal(size=(n, k)).astype(np.float32)
    z[np.arange(n), y] += 1.5
    np.exp(z, out=z)
    z /= z.sum(1, keepdims=True)
    meta = pd.DataFrame(
        {"group": rng.choice([f"g{i:02d}" for i in range(n_slices)], n), "age": rng.integers(18, 90, n)}
    )
    ev = Evaluation.from_predictions(y, z, metadata=meta)
    cases = {
        "slices('group'): accuracy, F1, ROC AUC, error rate, 200 replicates": lambda: slice_table(ev, "group"),
        "slices('group') without ROC AUC": lambda: slice_table(
            ev, "group", metrics=["accuracy", "f1_macro", "error_rate"]
        ),
        "slices('group', n_boot=0) without ROC AUC": lambda: slice_table(
            ev, "group", n_boot=0, metrics=["accuracy", "f1_macro"]
        ),
        "slices('age', bins=20)": lambda: slice_table(ev, "age", bins=20),
        "slices('group') again (kept)": lambda: ev.slices("group"),
        "subset of the worst slice": lambda: ev.subset(
            *next((row["rows"], name) for name, row in ev.slices("group").iterrows())
        ),
        "weak_slices() (max_depth=3)": lambda: ev.weak_slices(),
    }
    for name, f in cases.items():
        print(f"{name}: {best(f):.3f} s", flush=True)


if __name__ == "__main__":
    main()
