"""Conformal prediction sets on one million samples x 100 classes, and an alpha move (run by hand).

    python benchmarks/conformal.py

1,000,000 test samples and 100,000 calibration samples, 100 classes (float32 softmax scores
leaning to the truth). Times are the best of 3 after one warm-up call, except the first
``conformal`` calls (timed once, as a user meets them). An "alpha move" sets ``res.alpha`` and
reads what the Trust tab shows: the sets, the coverage, the mean set size and the per-class table.

crepes is timed on the same LAC scores: ``ConformalClassifier.predict_set(smoothing=False)``
is what answers a new alpha there. Its p-values loop in Python over every sample and class,
summing over the whole calibration set each time, so it is timed once on the first 200 test
samples and the time per sample is scaled to 100,000 and 1,000,000 samples (said on the line).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from h5eval_widgets.core import Evaluation  # noqa: E402


def best(f, reps: int = 3) -> float:
    f()
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        f()
        times.append(time.perf_counter() - start)
    return min(times)


def once(f) -> tuple[float, object]:
    start = time.perf_counter()
    out = f()
    return time.perf_counter() - start, out


def softmax_data(n: int, k: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, k, n)
    z = rng.normal(size=(n, k)).astype(np.float32)
    z[np.arange(n), y] += 2.5
    np.exp(z, out=z)
    z /= z.sum(1, keepdims=True)
    return y, z


def alpha_mover(res):
    alphas = iter(np.tile([0.05, 0.1, 0.2], 100))

    def move():
        res.alpha = next(alphas)
        return res.sets, res.coverage, res.mean_set_size, res.per_class

    return move


def main() -> None:
    k = 100
    cal = Evaluation.from_predictions(*softmax_data(100_000, k, 0))
    ev = Evaluation.from_predictions(*softmax_data(1_000_000, k, 1))
    ev_100k = ev.subset(np.arange(100_000))

    t, res = once(lambda: ev.conformal(cal, alpha=0.1))
    print(f"conformal(cal, 0.1) LAC, 1M x 100 (scores, calibration sorted): {t:.3f} s", flush=True)
    t, _ = once(lambda: (res.sets, res.coverage, res.mean_set_size))
    print(f"  first sets, coverage and mean set size: {t:.3f} s  ({res})", flush=True)
    print(f"  alpha move, 1M samples: {best(alpha_mover(res)) * 1000:.1f} ms", flush=True)
    t, aps = once(lambda: ev.conformal(cal, alpha=0.1, method="aps"))
    print(f"conformal(cal, 0.1, 'aps'), 1M x 100: {t:.3f} s", flush=True)
    t, mond = once(lambda: ev.conformal(cal, alpha=0.1, mondrian=True))
    print(f"conformal(cal, 0.1, mondrian=True), 1M x 100: {t:.3f} s", flush=True)
    print(f"  alpha move, 1M samples, class-conditional: {best(alpha_mover(mond)) * 1000:.1f} ms", flush=True)
    del aps, mond

    res_100k = ev_100k.conformal(cal, alpha=0.1)
    print(f"alpha move, 100k samples (target < 50 ms): {best(alpha_mover(res_100k)) * 1000:.1f} ms", flush=True)

    from crepes import ConformalClassifier

    res_100k.alpha = 0.1
    cc = res_100k.to_crepes()
    few = res_100k.scores[:200]
    t, sets = once(lambda: cc.predict_set(few, confidence=0.9, smoothing=False))
    same = np.array_equal(sets == 1, res_100k.sets[:200])
    per = t / len(few)
    print(
        f"crepes predict_set(smoothing=False) on the same scores, 200 samples: {t:.3f} s "
        f"(sets equal ours: {same}); scaled: 100k samples {per * 1e5:.0f} s, 1M {per * 1e6:.0f} s",
        flush=True,
    )
    assert isinstance(cc, ConformalClassifier)


if __name__ == "__main__":
    main()
