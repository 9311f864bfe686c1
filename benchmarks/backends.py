"""The engine against the plain way on each Keras backend (run by hand).

    python benchmarks/backends.py                                   # TensorFlow and JAX, best of 3
    python benchmarks/backends.py --backends tensorflow jax torch \\
        --python torch=/work/torchvenv/bin/python --repeat 5

Two cases, both built by the existing benchmarks (nothing is downloaded):

- table:  the MLP of ``benchmarks/engine.py`` (32 inputs, 64 ReLU units, --classes softmax
          outputs, a real .h5 file) on --rows samples (100,000) from its ``make_data``.
          Plain: ``load_model`` + ``model.predict(X)`` (default batch size 32) + engine.py's
          scikit-learn suite. Engine: ``Evaluation.from_model(path, X, y, cache=False)`` +
          ``ev.scores`` + ``ev.per_class()``. Both read X and y from the same .npy files.
- photos: MobileNetV2 (``weights=None``, 5 classes, .keras) on the JPEG folder of
          ``benchmarks/real_models.py`` (--photos photos of 200-400 px), with that script's own
          child programs: plain ``image_dataset_from_directory`` + ``preprocess_input`` +
          ``model.predict`` + scikit-learn; engine ``Evaluation.from_model(path, folder,
          cache=False, preprocess="mobilenet_v2")`` + every metric.

Every run is a fresh Python process with ``KERAS_BACKEND`` set (the interpreter per backend
from --python, so PyTorch can live in a venv of its own), a fresh empty H5EVAL_CACHE_DIR, and
measures its own wall time from before its first import to the end and its peak RSS (VmHWM).
Runs are interleaved (each repeat goes over every case and backend; plain first on even
repeats, engine first on odd ones) and the table keeps the fastest run of each side, with that
run's peak RSS. Each run also says whether TensorFlow ended up imported in it. Targets: engine
time <= 1.05x plain and engine peak RSS <= 1.0x plain, on the same backend.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from engine import make_data, make_model  # noqa: E402
from real_models import CLASSES, ENGINE, PLAIN, ROOT, best, build, make_folder, mem, spread  # noqa: E402

BACKENDS = ("tensorflow", "jax", "torch")

TABLE_PLAIN = """
import sys, time
t = time.perf_counter()
import keras, numpy as np
from engine import sklearn_suite
data, path, out, k = sys.argv[1:5]
X, y = np.load(data + "/X.npy"), np.load(data + "/y.npy")
proba = keras.saving.load_model(path, compile=False).predict(X, verbose=0)
sklearn_suite(y, proba, int(k))
elapsed = time.perf_counter() - t
np.save(out, proba)
print("RESULT", elapsed, next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM")))
"""

TABLE_ENGINE = """
import sys, time
t = time.perf_counter()
import numpy as np
from h5eval_widgets import Evaluation
data, path, out, k = sys.argv[1:5]
X, y = np.load(data + "/X.npy"), np.load(data + "/y.npy")
ev = Evaluation.from_model(path, X, y, progress=False, cache=False)
ev.scores
ev.per_class()
elapsed = time.perf_counter() - t
np.save(out, ev.y_proba)
print("RESULT", elapsed, next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM")))
"""

# appended to every child: after its RESULT line, whether TensorFlow was imported
TAIL = "\nimport sys as _s, keras as _k\nprint('BACKEND', _k.backend.backend(), 'tensorflow' in _s.modules)\n"

TF_IMPORTED: dict[tuple[str, str], bool] = {}  # (backend, child program) -> TensorFlow imported


def run(python: str, backend: str, code: str, args: list[str], tmp: Path) -> tuple[float, int] | str:
    """(seconds, peak RSS in KiB) of one fresh process on ``backend``, or 'failed: ...'.

    As real_models.run_child, with the interpreter and KERAS_BACKEND chosen here; the child
    checks that Keras really ran on ``backend``.
    """
    env = dict(
        os.environ,
        KERAS_BACKEND=backend,
        TF_CPP_MIN_LOG_LEVEL="3",
        H5EVAL_CACHE_DIR=tempfile.mkdtemp(prefix="cache-", dir=tmp),
    )
    env["PYTHONPATH"] = os.pathsep.join([ROOT, str(HERE), env.get("PYTHONPATH", "")])
    proc = subprocess.run([python, "-c", code + TAIL, *args], env=env, capture_output=True, text=True)
    out = proc.stdout.splitlines()
    result = [ln for ln in out if ln.startswith("RESULT ")]
    ran = [ln.split() for ln in out if ln.startswith("BACKEND ")]
    if proc.returncode or not result or not ran:
        lines = [ln for ln in proc.stderr.splitlines() if ln.strip()] or [f"exit {proc.returncode}"]
        return f"failed: {lines[-1].strip()}"
    if ran[-1][1] != backend:
        return f"failed: ran on {ran[-1][1]}"
    _, seconds, rss = result[-1].split()
    TF_IMPORTED[(backend, code)] = ran[-1][2] == "True"
    return float(seconds), int(rss)


def interpreters(specs: list[str], backends: list[str]) -> dict[str, str]:
    """--python values: ``PATH`` for every backend, or ``BACKEND=PATH`` for one."""
    chosen = dict.fromkeys(backends, sys.executable)
    for spec in specs:
        name, _, path = spec.rpartition("=")
        for b in [name] if name else backends:
            chosen[b] = path
    return chosen


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--backends", nargs="+", default=["tensorflow", "jax"], choices=BACKENDS)
    p.add_argument("--python", action="append", default=[], help="PATH, or BACKEND=PATH (repeatable)")
    p.add_argument("--repeat", type=int, default=3, help="runs of each side, interleaved; the fastest counts")
    p.add_argument("--rows", type=int, default=100_000, help="tabular samples")
    p.add_argument("--classes", type=int, default=10, help="tabular classes")
    p.add_argument("--photos", type=int, default=2000, help="JPEG photos for MobileNetV2")
    p.add_argument("--cases", default="table,photos")
    p.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = p.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    pythons = interpreters(args.python, args.backends)
    cases = [c.strip() for c in args.cases.split(",") if c.strip()]
    t0 = time.perf_counter()

    tmp = Path(tempfile.mkdtemp(prefix="h5eval-backends-"))
    try:
        children: dict[str, tuple[str, str, list[str]]] = {}  # case -> plain code, engine code, argv
        if "photos" in cases:  # photos first: the workers fork before this process imports Keras
            make_folder(tmp / "photos", args.photos, 200, 400, seed=0)
        import keras
        import numpy as np

        if "table" in cases:
            X, y = make_data(args.rows, args.classes)
            (tmp / "table").mkdir()
            np.save(tmp / "table" / "X.npy", X)
            np.save(tmp / "table" / "y.npy", y)
            make_model(args.classes, tmp / "mlp.h5")
            children["table"] = (TABLE_PLAIN, TABLE_ENGINE, [str(tmp / "table"), str(tmp / "mlp.h5")])
        if "photos" in cases:
            keras.utils.set_random_seed(0)
            build("mobilenet_v2", CLASSES).save(tmp / "mobilenet_v2.keras")
            children["photos"] = (PLAIN, ENGINE, [str(tmp / "photos"), str(tmp / "mobilenet_v2.keras")])
        print(
            f"Python per backend: {pythons}; cases: {', '.join(children)}; {args.repeat} interleaved run(s) each",
            flush=True,
        )

        runs: dict[tuple[str, str, str], list] = {}
        for r in range(args.repeat):
            for case, (plain_code, engine_code, argv) in children.items():
                for backend in args.backends:
                    sides = [("plain", plain_code), ("engine", engine_code)]
                    for side, code in sides if r % 2 == 0 else sides[::-1]:
                        out = tmp / f"{case}_{backend}_{side}.npy"
                        tail = [str(args.classes)] if case == "table" else ["224x224", "mobilenet_v2"]
                        result = run(pythons[backend], backend, code, [*argv[:2], str(out), *tail], tmp)
                        runs.setdefault((case, backend, side), []).append(result)
                        peak = "" if isinstance(result, str) else f", peak RSS {mem(result[1])}"
                        print(f"  run {r + 1}: {case:6s} {backend:10s} {side:6s} {spread([result])}{peak}", flush=True)

        what = {
            "table": f"{args.rows:,} rows x {args.classes} classes (MLP)",
            "photos": f"MobileNetV2, {args.photos:,} photos",
        }
        print(
            f"\nBest of {args.repeat} interleaved fresh-process run(s) per side; targets: engine time <= 1.05x plain, "
            "engine peak RSS <= 1.0x plain"
        )
        head = (
            f"{'case':38s}{'backend':>11s}{'engine':>9s}{'plain':>9s}{'ratio':>7s}{'eng RSS':>10s}"
            f"{'plain RSS':>11s}{'ratio':>7s}{'max|diff|':>11s}  TF imported (eng/plain)"
        )
        print(head + "\n" + "-" * len(head))
        engine_best: dict[tuple[str, str], float] = {}
        for case, (plain_code, engine_code, _) in children.items():
            for backend in args.backends:
                pl, en = best(runs[(case, backend, "plain")]), best(runs[(case, backend, "engine")])
                line = f"{what[case]:38s}{backend:>11s}"
                if isinstance(pl, str) or isinstance(en, str):
                    print(f"{line}  plain {spread([pl])}; engine {spread([en])}")
                    continue
                engine_best[(case, backend)] = en[0]
                a = np.load(tmp / f"{case}_{backend}_plain.npy")
                b = np.load(tmp / f"{case}_{backend}_engine.npy")
                diff = f"{np.abs(a - b).max():.1e}" if a.shape == b.shape else "shape"
                tf_used = "/".join("yes" if TF_IMPORTED.get((backend, c)) else "no" for c in (engine_code, plain_code))
                print(
                    f"{line}{en[0]:>8.1f}s{pl[0]:>8.1f}s{en[0] / pl[0]:>6.2f}x{mem(en[1]):>10s}{mem(pl[1]):>11s}"
                    f"{en[1] / pl[1]:>6.2f}x{diff:>11s}  {tf_used}"
                )
            print(
                "  every run: "
                + "; ".join(
                    f"{b} plain {spread(runs[(case, b, 'plain')])}, engine {spread(runs[(case, b, 'engine')])}"
                    for b in args.backends
                )
            )
        if "tensorflow" in args.backends:
            print("\nEngine time against TensorFlow's (best runs):")
            for case in children:
                base = engine_best.get((case, "tensorflow"))
                if base:
                    print(
                        f"  {what[case]}: "
                        + ", ".join(
                            f"{b} {engine_best[(case, b)]:.1f} s ({engine_best[(case, b)] / base:.2f}x)"
                            for b in args.backends
                            if (case, b) in engine_best
                        )
                    )
        print(f"\nwhole benchmark: {time.perf_counter() - t0:.0f} s")
    finally:
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
