"""Time from a user action to every view updated (Python side), against recomputing from scratch.

    python benchmarks/interaction.py                  # N = 10k, 100k, 1M
    python benchmarks/interaction.py --sizes 100000

A binary dashboard (8 tabular features) is built over N samples. Each action is applied the
way the browser applies it (a threshold slider value, a confusion-matrix cell click message)
and timed until the state and every observing view have updated (observers run synchronously).
"plain" is what a notebook does without the engine's index: threshold the scores, call
scikit-learn's confusion_matrix, precision/recall/F1, and np.flatnonzero for the cell.
Also prints how long building the views takes for a 1000-class evaluation, and how soon the
first view of a 1M-sample, 100-class evaluation is drawn (before its score columns are sorted,
which then happens in the background).
"""

from __future__ import annotations

import argparse
import statistics
import time
import warnings

import numpy as np


def binary_data(n: int):
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, n)
    score = np.clip(0.35 * y + 0.65 * rng.random(n), 0, 1).astype(np.float32)
    X = rng.normal(size=(n, 8)).astype(np.float32)
    return X, y, score


def median_ms(fn, reps: int) -> float:
    times = []
    for r in range(reps):
        t = time.perf_counter()
        fn(r)
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1000


def plain(y, score, t):
    from sklearn import metrics as skm

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pred = (score >= t).astype(int)
        skm.confusion_matrix(y, pred)
        skm.precision_score(y, pred), skm.recall_score(y, pred), skm.f1_score(y, pred)
        skm.accuracy_score(y, pred)
        np.flatnonzero((y == 0) & (pred == 1))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    ap.add_argument("--reps", type=int, default=21)
    ap.add_argument(
        "--first-view",
        type=int,
        nargs=2,
        default=[1_000_000, 100],
        metavar=("N", "K"),
        help="size of the first-view measurement (samples, classes)",
    )
    args = ap.parse_args()

    from h5eval_widgets import Dashboard, Evaluation
    from h5eval_widgets.core import load_dataset

    print(f"{'N':>9} {'build s':>8} {'threshold ms':>13} {'cell click ms':>14} {'plain ms':>9}")
    for n in args.sizes:
        X, y, score = binary_data(n)
        t0 = time.perf_counter()
        ev = Evaluation.from_predictions(y, score, dataset_name="data")
        d = Dashboard.from_evaluations({"model": ev}, {"data": load_dataset(X, y, name="data")}, progress=False)
        build = time.perf_counter() - t0
        st = d.state
        thresholds = np.linspace(0.2, 0.8, args.reps)
        d.confusion.click_cell(0, 1)
        thr_ms = median_ms(lambda r: setattr(st, "threshold", float(thresholds[r])), args.reps)
        cells = [(0, 1), (1, 0), (1, 1), (0, 0)]
        click_ms = median_ms(lambda r: d.confusion.click_cell(*cells[r % 4]), args.reps)
        plain_ms = median_ms(lambda r: plain(y, score, float(thresholds[r])), max(5, args.reps // 4))
        print(f"{n:>9} {build:>8.2f} {thr_ms:>13.1f} {click_ms:>14.1f} {plain_ms:>9.1f}", flush=True)

    rng = np.random.default_rng(0)
    n, k = 20000, 1000
    yk = rng.integers(0, k, n)
    logits = rng.normal(size=(n, k)).astype(np.float32)
    logits[np.arange(n), yk] += 4
    p = np.exp(logits - logits.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    ev = Evaluation.from_predictions(yk, p, dataset_name="synthetic")
    t0 = time.perf_counter()
    ev.scores, ev.per_class()
    engine = time.perf_counter() - t0
    t0 = time.perf_counter()
    Dashboard.from_evaluations({"big": ev}, progress=False)
    print(
        f"1000 classes, {n} samples: engine metrics {engine:.2f} s, building every view "
        f"{time.perf_counter() - t0:.2f} s"
    )

    # the first view of a large evaluation: the matrix and its metrics, before any column sort
    n, k = args.first_view
    yk = rng.integers(0, k, n)
    p = rng.random((n, k), dtype=np.float32)
    p[np.arange(n), yk] += 1.0
    p /= p.sum(1, keepdims=True)
    ev = Evaluation.from_predictions(yk, p, dataset_name="synthetic")
    t0 = time.perf_counter()
    d = Dashboard.from_evaluations({"big": ev}, progress=False)
    first = time.perf_counter() - t0
    sorted_yet = ev.ranking_ready
    while not d.session.ranking_ready:
        time.sleep(0.01)
    print(
        f"{k} classes, {n} samples: first view (matrix + headline metrics) {first:.2f} s, "
        f"columns sorted by then: {sorted_yet}; ranking metrics ready after "
        f"{time.perf_counter() - t0:.2f} s"
    )


if __name__ == "__main__":
    main()
