"""Reopening a model file already evaluated, in a fresh process each time (run by hand).

    python benchmarks/reopen.py

Saves an MLP of about 4.7M parameters (19 MB .h5) and 20k test samples, then times
``Evaluation.from_model(path, X, y)`` + ``ev.scores`` in new Python processes:

- cold:          nothing cached (loads the model with Keras, predicts, writes the cache);
- outputs only:  predictions cached, the model's remembered facts deleted first, so the file is
                 rebuilt with Keras as before facts were kept;
- outputs+facts: both cached: no Keras, no TensorFlow import;
- plain:         the usual way, which has nothing to reuse: keras load_model + model.predict
                 (default batch size) + the usual scikit-learn calls.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RUN = """
import sys, time
t = time.perf_counter()
import numpy as np
from h5eval_widgets.core import Evaluation
X, y = np.load(sys.argv[1]), np.load(sys.argv[2])
Evaluation.from_model(sys.argv[3], X, y, progress=False).scores
print(time.perf_counter() - t, 'tensorflow' in sys.modules)
"""

PLAIN = """
import sys, time
t = time.perf_counter()
import numpy as np, keras
from sklearn import metrics as skm
X, y = np.load(sys.argv[1]), np.load(sys.argv[2])
proba = keras.saving.load_model(sys.argv[3], compile=False).predict(X, verbose=0)
pred = proba.argmax(1)
skm.accuracy_score(y, pred), skm.f1_score(y, pred, average="macro"), skm.cohen_kappa_score(y, pred)
skm.matthews_corrcoef(y, pred), skm.roc_auc_score(y, proba, multi_class="ovr")
skm.confusion_matrix(y, pred), skm.classification_report(y, pred, zero_division=0)
print(time.perf_counter() - t, 'tensorflow' in sys.modules)
"""


def main() -> None:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras
    import numpy as np

    tmp = Path(tempfile.mkdtemp(prefix="h5eval-reopen-"))
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.Input((256,)),
            keras.layers.Dense(2048, activation="relu"),
            keras.layers.Dense(2048, activation="relu"),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )
    model.save(tmp / "model.h5")
    rng = np.random.default_rng(0)
    np.save(tmp / "X.npy", rng.normal(size=(20_000, 256)).astype(np.float32))
    np.save(tmp / "y.npy", rng.integers(0, 10, 20_000))
    env = dict(os.environ, H5EVAL_CACHE_DIR=str(tmp / "cache"))
    root = str(Path(__file__).resolve().parents[1])
    env["PYTHONPATH"] = root + os.pathsep + env.get("PYTHONPATH", "")

    def run(script: str = RUN) -> str:
        t = time.perf_counter()
        out = subprocess.run(
            [sys.executable, "-c", script, str(tmp / "X.npy"), str(tmp / "y.npy"), str(tmp / "model.h5")],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()
        return (
            f"{float(out[0]):6.2f} s in the call, {time.perf_counter() - t:6.2f} s with the "
            f"process; tensorflow imported: {out[1]}"
        )

    print(f"{os.path.getsize(tmp / 'model.h5') / 1e6:.0f} MB model, {model.count_params():,} parameters")
    print("cold:          ", run())
    for _ in range(2):
        shutil.rmtree(tmp / "cache" / "models", ignore_errors=True)
        print("outputs only:  ", run())
    for _ in range(2):
        print("outputs+facts: ", run())
    for _ in range(2):
        print("plain:         ", run(PLAIN))
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
