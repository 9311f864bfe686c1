"""Cases run on every Keras backend and compared with the TensorFlow backend's numbers.

The files the cases read (models written by Keras 3 and by Keras 2, test sets) are made once,
under TensorFlow, by ``python -m tests.backend_cases DIR``, which then runs every case and
writes its numbers to ``DIR/reference.npz``. ``tests/test_backends.py`` runs the same cases in
the pytest process, on whichever backend it has (``KERAS_BACKEND=jax`` in ``make test``'s
second pass, ``torch`` in ``make test-torch``), and compares them with those numbers.

A case is a function of the folder giving named arrays; the name's prefix says how it is
compared (see :data:`TOLERANCES`). Cases live in this module and in ``tests/backend_cases_*.py``
(each registers its own with :func:`case` and :func:`builder`).
"""

from __future__ import annotations

import importlib
import math
import sys
import traceback
from pathlib import Path
from typing import Callable

import numpy as np

HERE = Path(__file__).resolve().parent

#: How each kind of number must agree with TensorFlow's: the tolerance (absolute, relative to
#: the value for values above 1, such as a regression's MSE of 3,735 in float32), or for
#: saliency maps the smallest Pearson correlation of each map.
TOLERANCES = {"score": 1e-5, "out": 1e-4, "map": 0.999}

CASES: dict[str, Callable[[Path], dict[str, np.ndarray]]] = {}
BUILDERS: dict[str, Callable[[Path], None]] = {}


def case(fn):
    """Register a case: ``fn(folder) -> {"score:...": value, "out:...": array, "map:...": maps}``."""
    CASES[fn.__name__] = fn
    return fn


def builder(fn):
    """Register a builder: ``fn(folder)`` writes files the cases read (run under TensorFlow only)."""
    BUILDERS[fn.__name__] = fn
    return fn


def load_all() -> dict[str, Callable]:
    """Every case of this module and of ``tests/backend_cases_*.py``."""
    for path in sorted(HERE.glob("backend_cases_*.py")):
        importlib.import_module(f"tests.{path.stem}")
    return CASES


def blobs(n: int = 400, seed: int = 0, std: float = 2.5) -> tuple[np.ndarray, np.ndarray]:
    """A 3-class problem with 4 float32 features (scikit-learn's ``make_blobs``)."""
    from sklearn.datasets import make_blobs

    X, y = make_blobs(n_samples=n, centers=3, n_features=4, cluster_std=std, random_state=seed)
    return X.astype(np.float32), y


def small_mlp(seed: int, X=None, y=None, *, epochs: int = 3):
    """A 4-8-3 softmax MLP made with seed ``seed``, fit briefly on ``(X, y)`` when given."""
    import keras

    keras.utils.set_random_seed(seed)
    model = keras.Sequential(
        [
            keras.Input((4,)),
            keras.layers.Dense(8, activation="relu", name="hidden"),
            keras.layers.Dense(3, activation="softmax", name="probs"),
        ]
    )
    if X is not None:
        model.compile("adam", "sparse_categorical_crossentropy")
        model.fit(X, y, epochs=epochs, verbose=0)
    return model


def scores(ev, prefix: str = "") -> dict[str, float]:
    """An evaluation's headline scores as ``score:`` entries (undefined ones left out)."""
    return {
        f"score:{prefix}{k}": float(v) for k, v in ev.scores.items() if isinstance(v, (int, float)) and math.isfinite(v)
    }


def evaluated(model, data, prefix: str = "", **options) -> dict[str, np.ndarray]:
    """Scores, outputs and embedding of ``Evaluation.from_model(model, data)`` (no cache)."""
    from h5eval_widgets import Evaluation

    ev = Evaluation.from_model(model, data, cache=False, progress=False, **options)
    out = scores(ev, prefix)
    raw = getattr(ev, "y_proba", None)
    if raw is None:
        raw = getattr(ev, "y_pred", None)
    out[f"out:{prefix}outputs"] = np.asarray(raw, np.float64)
    if getattr(ev, "embedding", None) is not None:
        out[f"out:{prefix}embedding"] = np.asarray(ev.embedding, np.float64)
    return out


def compare(name: str, got: dict, want: dict) -> list[str]:
    """What differs between a case's numbers here and on TensorFlow (empty when they agree)."""
    problems = []
    if sorted(got) != sorted(want):
        problems.append(f"{name}: keys differ: here {sorted(got)}, TensorFlow {sorted(want)}")
    for key in sorted(set(got) & set(want)):
        kind = key.split(":", 1)[0]
        a, b = np.asarray(got[key], np.float64), np.asarray(want[key], np.float64)
        if a.shape != b.shape:
            problems.append(f"{name} {key}: shape {a.shape} here, {b.shape} on TensorFlow")
            continue
        if kind == "map":
            for i, (m, n) in enumerate(zip(a.reshape(len(a), -1), b.reshape(len(b), -1))):
                r = np.corrcoef(m, n)[0, 1] if m.std() > 0 and n.std() > 0 else float(np.allclose(m, n, atol=1e-6))
                if not r > TOLERANCES["map"]:
                    problems.append(f"{name} {key}[{i}]: correlation {r:.6f} with TensorFlow's map")
        else:
            tol = TOLERANCES[kind]
            diff = np.nanmax(np.abs(a - b) / np.maximum(1.0, np.abs(b))) if a.size else 0.0
            if not (diff <= tol) or not np.array_equal(np.isnan(a), np.isnan(b)):
                problems.append(f"{name} {key}: differs by {diff:.3g} (tolerance {tol})")
    return problems


def reference(folder: Path) -> dict[str, dict[str, np.ndarray] | str]:
    """Each case's numbers read back from ``folder/reference.npz`` (or the error it raised)."""
    out: dict = {}
    with np.load(folder / "reference.npz", allow_pickle=False) as f:
        for key in f.files:
            name, _, rest = key.partition("/")
            if rest == "!error":
                out[name] = str(f[key])
            else:
                out.setdefault(name, {})[rest] = f[key]
    return out


def main(folder: str) -> int:
    import keras

    if keras.backend.backend() != "tensorflow":
        print("the reference runs on the TensorFlow backend: set KERAS_BACKEND=tensorflow", file=sys.stderr)
        return 2
    root = Path(folder)
    root.mkdir(parents=True, exist_ok=True)
    cases = load_all()
    for fn in BUILDERS.values():
        fn(root)
    flat: dict[str, np.ndarray] = {}
    for name, fn in cases.items():
        try:
            for key, value in fn(root).items():
                flat[f"{name}/{key}"] = np.asarray(value)
        except Exception:  # noqa: BLE001 - the test names the case and shows this
            flat[f"{name}/!error"] = np.asarray(traceback.format_exc()[-3000:])
    np.savez(root / "reference.npz", **flat)
    return 0


if __name__ == "__main__":
    # the cases register in the module ``tests.backend_cases``, not in this ``__main__`` copy
    sys.exit(importlib.import_module("tests.backend_cases").main(sys.argv[1]))
