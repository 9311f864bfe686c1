"""Side-by-side timing of the plain approach and of ``Evaluation.from_model`` (run by hand).

    python benchmarks/engine.py                 # N = 10k, 100k, 1M and k = 2, 10, 100
    python benchmarks/engine.py --sizes 10000 100000 --classes 10

For each (N, k), on a small MLP (32 inputs, 64 ReLU units, k outputs; one sigmoid unit for k = 2)
saved to a real .h5 file, it prints:

- plain:   keras load_model + model.predict (default batch size 32) + the usual scikit-learn calls
           (accuracy, precision/recall/F1 macro, Cohen's kappa, MCC, ROC AUC, confusion matrix,
           classification_report);
- bare:    the fastest forward pass we know here: a tf.function over 16 MiB chunks, nothing else
           (timed without its one-off trace, made on one row; "bare+trace" includes it, as any
           real first pass must); the model is already loaded;
- engine:  Evaluation.from_model (cache off: it loads the model file too) followed by every
           metric (``ev.scores``, ``ev.per_class()``);
- in-mem:  the same, handed the already loaded keras model (as the bare pass is), so the
           ratio ``mem/b+t`` compares like with like; ``eng/b+t`` also pays for reading the file;
- bare, engine and in-mem are each the best of --repeat runs, interleaved;
- cached:  the same evaluation again with the prediction cache warm;
- metrics: the metrics' own time: ``Evaluation.from_predictions`` on the model's outputs followed
           by every metric (no model, no prediction), best of --repeat;
- sort:    numpy sorting the k score columns once (``np.sort`` of the contiguous columns, the
           copy made beforehand), best of --repeat; ``met/sort`` is the target's ratio (<= 1.2);
- memory:  peak extra memory (tracemalloc) of from_predictions + every metric, and of the
           scikit-learn suite, as multiples of the probability array's size.

The plain approach is skipped above --plain-max samples because it takes minutes there.
"""

from __future__ import annotations

import argparse
import gc
import os
import tempfile
import time
import tracemalloc
import warnings
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np


def make_model(k: int, path: Path):
    import keras

    keras.utils.set_random_seed(0)
    out = keras.layers.Dense(1, activation="sigmoid") if k == 2 else keras.layers.Dense(k, activation="softmax")
    m = keras.Sequential([keras.Input((32,)), keras.layers.Dense(64, activation="relu"), out])
    m.save(path)
    return m


def make_data(n: int, k: int):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(n, 32)).astype(np.float32)
    y = rng.integers(0, k, n)
    return X, y


def sklearn_suite(y, proba, k):
    from sklearn import metrics as skm

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if k == 2:
            score = proba[:, 0] if proba.ndim == 2 else proba
            pred = (score > 0.5).astype(int)
            auc = skm.roc_auc_score(y, score)
        else:
            pred = proba.argmax(1)
            auc = skm.roc_auc_score(y, proba, multi_class="ovr", labels=np.arange(k))
        return {
            "accuracy": skm.accuracy_score(y, pred),
            "precision": skm.precision_score(y, pred, average="macro"),
            "recall": skm.recall_score(y, pred, average="macro"),
            "f1": skm.f1_score(y, pred, average="macro"),
            "kappa": skm.cohen_kappa_score(y, pred),
            "mcc": skm.matthews_corrcoef(y, pred),
            "auc": auc,
            "cm": skm.confusion_matrix(y, pred),
            "report": skm.classification_report(y, pred, zero_division=0),
        }


def bare_forward(model, X):
    import tensorflow as tf

    spec = tf.TensorSpec((None, X.shape[1]), tf.float32)
    fn = tf.function(lambda x: model(x, training=False), input_signature=[spec])
    step = (16 << 20) // (X.shape[1] * 4)
    t = time.perf_counter()
    fn(X[:1])  # the one-off trace (on one row, so it does not also time a whole chunk)
    trace = time.perf_counter() - t
    t = time.perf_counter()
    out = [fn(X[i : i + step]).numpy() for i in range(0, len(X), step)]
    np.concatenate(out)
    return time.perf_counter() - t, trace


def peak_extra(fn) -> int:
    gc.collect()
    tracemalloc.start()
    tracemalloc.reset_peak()
    base = tracemalloc.get_traced_memory()[0]
    fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak - base


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    ap.add_argument("--classes", type=int, nargs="+", default=[2, 10, 100])
    ap.add_argument("--plain-max", type=int, default=1_000_000)
    ap.add_argument("--no-memory", action="store_true")
    ap.add_argument("--repeat", type=int, default=3, help="best of this many bare and engine runs")
    args = ap.parse_args()

    import keras

    from h5eval_widgets.core import Evaluation
    from h5eval_widgets.core.cache import PredictionCache

    tmp = Path(tempfile.mkdtemp(prefix="h5eval-bench-"))
    print(
        f"{'N':>9} {'k':>4} {'plain s':>8} {'bare s':>7} {'bare+trace':>10} {'engine s':>8} "
        f"{'in-mem s':>8} {'cached s':>8} {'eng/b+t':>7} {'mem/b+t':>7} {'plain/eng':>9} "
        f"{'metrics s':>9} {'sort s':>7} {'met/sort':>8} {'mem eng':>7} {'mem skl':>7}"
    )
    for k in args.classes:
        path = tmp / f"mlp_{k}.h5"
        make_model(k, path)
        model = keras.saving.load_model(path, compile=False)
        for n in args.sizes:
            X, y = make_data(n, k)
            # plain approach
            plain = float("nan")
            if n <= args.plain_max:
                t = time.perf_counter()
                m = keras.saving.load_model(path, compile=False)
                proba_plain = m.predict(X, verbose=0)
                sklearn_suite(y, proba_plain, k)
                plain = time.perf_counter() - t
            # bare pass and engine (cache off: load, predict once, every metric), interleaved,
            # best of --repeat each as timeit does, so neither gains from warming the other
            bare = trace = engine = in_memory = float("inf")
            for _ in range(args.repeat):
                b, tr = bare_forward(model, X)
                if b + tr < bare + trace:
                    bare, trace = b, tr
                t = time.perf_counter()
                ev = Evaluation.from_model(path, X, y, cache=False, progress=False)
                ev.scores, ev.per_class()
                engine = min(engine, time.perf_counter() - t)
                # the same, handed the loaded model as the bare pass is
                t = time.perf_counter()
                ev_m = Evaluation.from_model(model, X, y, cache=False, progress=False)
                ev_m.scores, ev_m.per_class()
                in_memory = min(in_memory, time.perf_counter() - t)
            # the engine with a warm cache
            cache = PredictionCache(tmp / "cache")
            Evaluation.from_model(path, X, y, cache=cache, progress=False)
            t = time.perf_counter()
            ev2 = Evaluation.from_model(path, X, y, cache=cache, progress=False)
            ev2.scores, ev2.per_class()
            cached = time.perf_counter() - t
            raw = np.asarray(ev.y_proba if k > 2 else ev.y_proba[:, 1:])
            task = "binary" if k == 2 else "multiclass"

            def run_engine():
                e = Evaluation.from_predictions(y, raw, task=task)
                e.scores, e.per_class()

            # the metrics' own time against numpy sorting the k score columns once
            columns = np.ascontiguousarray(np.asarray(ev.y_proba).T)
            metrics_t = sort_t = float("inf")
            for _ in range(args.repeat):
                t = time.perf_counter()
                run_engine()
                metrics_t = min(metrics_t, time.perf_counter() - t)
                t = time.perf_counter()
                np.sort(columns, axis=1)
                sort_t = min(sort_t, time.perf_counter() - t)
            mem_e = mem_s = float("nan")
            if not args.no_memory:
                size = raw.nbytes
                mem_e = peak_extra(run_engine) / size
                mem_s = peak_extra(lambda: sklearn_suite(y, raw, k)) / size
            print(
                f"{n:>9} {k:>4} {plain:>8.2f} {bare:>7.3f} {bare + trace:>10.3f} {engine:>8.3f} "
                f"{in_memory:>8.3f} {cached:>8.3f} {engine / (bare + trace):>7.2f} "
                f"{in_memory / (bare + trace):>7.2f} {plain / engine:>9.1f} "
                f"{metrics_t:>9.3f} {sort_t:>7.3f} {metrics_t / sort_t:>8.2f} {mem_e:>7.2f} "
                f"{mem_s:>7.2f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
