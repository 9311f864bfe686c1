"""What the training recorder costs over a plain ``fit`` (run by hand).

    python benchmarks/training.py                      # --n 5000 --epochs 5 --repeat 2
    python benchmarks/training.py --n 1000 --epochs 3 --repeat 1 --memory-epochs 0

A small CNN (two 3x3 convolutions, 16 and 32 filters, on 32x32 grey images of 10 classes made
of noisy class patterns) is trained from the same seed on --n samples and checked on --n
validation samples (--n-val, 20,000 by default). Each side, interleaved, in a fresh Python process; each times ``fit`` only:

- fit:       ``model.fit(X, y, epochs=E)``, nothing else;
- predict:   the same with a callback that runs ``model.predict(X_val, batch_size=256)`` and
             scikit-learn's ``confusion_matrix`` after each epoch (the passes the recorder needs,
             written by hand);
- val:       ``model.fit(..., validation_data=(X_val, y_val))`` (Keras's own per-epoch check:
             a loss and accuracy, no outputs kept);
- recorder:  the same fit with ``TrainingRecorder(X_val, y_val)`` (keeps every epoch's outputs
             and the penultimate layer's embedding; builds no evaluation until asked);
- recorder+: the same, then ``rec.history()`` and ``rec.cartography()`` (every epoch's metrics).

Each child times its whole ``fit`` and, inside it, the seconds spent in the callbacks' hooks
(``on_train_begin`` and ``on_epoch_end``: the per-epoch work itself, which a whole ``fit`` on
two shared cores hides in its noise). The target: the recorder's hooks take at most 1.3x the
hand-written predict passes. With --memory-epochs N (default 100), one more process trains
N epochs (and one 10) on 2,000 samples with the recorder at a 4 MiB memory bound and reports
their peak RSS, what the recorder holds in memory and how many arrays went to disk.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = str(Path(__file__).resolve().parents[1])
SIDES = ("fit", "predict", "val", "recorder", "recorder+")


def _data(n: int, seed: int):
    import numpy as np

    rng = np.random.default_rng(seed)
    patterns = np.random.default_rng(0).normal(0, 1, (10, 32, 32, 1)).astype("float32")
    y = rng.integers(0, 10, n)
    X = 0.6 * patterns[y] + rng.normal(0, 1, (n, 32, 32, 1)).astype("float32")
    return X.astype("float32"), y


def _model():
    import keras

    keras.utils.set_random_seed(1)
    m = keras.Sequential(
        [
            keras.Input((32, 32, 1)),
            keras.layers.Conv2D(16, 3, activation="relu"),
            keras.layers.MaxPooling2D(),
            keras.layers.Conv2D(32, 3, activation="relu"),
            keras.layers.GlobalAveragePooling2D(),
            keras.layers.Dense(32, activation="relu"),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )
    m.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    return m


def _peak_rss() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return 0


def _timed(cb, hook: str, spent: list[float]) -> None:
    """Wrap ``cb.hook`` so that its seconds add to ``spent[0]``."""
    inner = getattr(cb, hook)

    def timed(*args, **kwargs):
        t = time.perf_counter()
        try:
            return inner(*args, **kwargs)
        finally:
            spent[0] += time.perf_counter() - t

    setattr(cb, hook, timed)


def child(side: str, n: int, epochs: int, memory_limit: int | None, n_val: int | None = None) -> dict:
    """One side in this process: the seconds ``fit`` took (and peak RSS)."""
    import keras
    from sklearn.metrics import confusion_matrix

    X, y = _data(n, 1)
    Xv, yv = _data(n_val or n, 2)
    model = _model()
    callbacks, fit_kw, rec = [], {}, None
    if side == "predict":

        class PlainPredict(keras.callbacks.Callback):
            def on_epoch_end(self, epoch, logs=None):
                p = self.model.predict(Xv, batch_size=256, verbose=0)
                confusion_matrix(yv, p.argmax(axis=1), labels=range(10))

        callbacks.append(PlainPredict())
    elif side == "val":
        fit_kw["validation_data"] = (Xv, yv)
    elif side.startswith("recorder"):
        from h5eval_widgets import TrainingRecorder

        options = {} if memory_limit is None else {"memory_limit": memory_limit}
        rec = TrainingRecorder(Xv, yv, **options)
        callbacks.append(rec)
    spent = [0.0]  # seconds inside the callbacks' epoch hooks: the per-epoch work itself
    for cb in callbacks:
        for hook in ("on_train_begin", "on_epoch_end"):
            _timed(cb, hook, spent)
    t0 = time.perf_counter()
    model.fit(X, y, epochs=epochs, batch_size=64, verbose=0, callbacks=callbacks, **fit_kw)
    if side == "recorder+":
        rec.history()
        rec.cartography()
    out = {"side": side, "seconds": time.perf_counter() - t0, "callbacks": spent[0], "peak_rss": _peak_rss()}
    if rec is not None:
        out["on_disk"] = len(rec.files)
        out["in_memory"] = rec.memory_bytes
        rec.close()
    return out


def _run(side: str, n: int, epochs: int, memory_limit: int | None = None, n_val: int | None = None) -> dict:
    code = f"import sys, json; sys.path.insert(0, {ROOT!r}); sys.path.insert(0, {str(Path(__file__).parent)!r}); "
    code += f"import training as t; print(json.dumps(t.child({side!r}, {n}, {epochs}, {memory_limit!r}, {n_val!r})))"
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=5000, help="training samples")
    ap.add_argument("--n-val", type=int, default=20000, help="validation samples")
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--memory-epochs", type=int, default=100)
    args = ap.parse_args(argv)
    runs: dict[str, list[dict]] = {s: [] for s in SIDES}
    for r in range(args.repeat):
        for side in SIDES if r % 2 == 0 else SIDES[::-1]:
            out = _run(side, args.n, args.epochs, n_val=args.n_val)
            runs[side].append(out)
            print(
                f"{side:10s} fit {out['seconds']:7.2f} s, in callbacks {out['callbacks']:6.2f} s, "
                f"peak RSS {out['peak_rss'] / 2**30:.2f} GB",
                flush=True,
            )
    print(f"\n{args.epochs} epochs, {args.n} training and {args.n_val} validation samples, {args.repeat} runs each:")
    print("| side | fit (s) | in callbacks (s) | peak RSS |\n|---|---|---|---|")
    for s in SIDES:
        fits = ", ".join(f"{o['seconds']:.1f}" for o in runs[s])
        cbs = ", ".join(f"{o['callbacks']:.2f}" for o in runs[s])
        rss = max(o["peak_rss"] for o in runs[s]) / 2**30
        print(f"| {s} | {fits} | {cbs} | {rss:.2f} GB |")
    passes = min(o["callbacks"] for o in runs["predict"])
    rec = min(o["callbacks"] for o in runs["recorder"])
    print(f"best against best: the recorder's hooks {rec:.2f} s, the hand-written predict passes {passes:.2f} s: ")
    print(f"{rec / passes:.2f}x (target <= 1.3x)")
    if args.memory_epochs:
        small, bound = 2000, 4 * 2**20
        short = _run("recorder", small, 10, bound)
        long = _run("recorder", small, args.memory_epochs, bound)
        for e, out in ((10, short), (args.memory_epochs, long)):
            print(
                f"{e} epochs on {small} samples with the recorder (4 MiB bound): peak RSS "
                f"{out['peak_rss'] / 2**20:.0f} MB, {out['in_memory'] / 2**20:.1f} MiB kept in memory, "
                f"{out['on_disk']} arrays on disk"
            )


if __name__ == "__main__":
    main()
