"""In-process against a Dask LocalCluster of 1 and 2 workers: a small CNN over a JPEG folder (run by hand).

    python benchmarks/scale_out.py                 # --n 6000 --repeat 3 (README: --repeat 7)
    python benchmarks/scale_out.py --n 1000 --repeat 2

Writes, in a temporary folder, --n JPEG photos (56-72 px per side, so most are resized to the
model's 64x64; smooth gradients + rectangles + a little noise, seed 0) in 5 class folders, and a
small CNN (64x64 RGB, Rescaling, three Conv2D/MaxPooling blocks, weights=None, .keras). Then,
interleaved, --repeat times each:

- in-process:  Evaluation.from_model(loaded, folder, cache=False) in this process, ``loaded``
               from load_model(model) once (as each worker keeps its loaded model);
- 1 worker:    the same with client= a LocalCluster(n_workers=1, threads_per_worker=1);
- 2 workers:   the same with a LocalCluster(n_workers=2, threads_per_worker=1).

Every side is warmed up once first (TensorFlow imported, the model loaded and its forward pass
traced, in each worker too), so the table compares steady runs; the first (cold) run of each
side is printed too. The table shows the fastest and the median run of each side, the median CPU
time (user + system, of this process and the workers: less moved by other work than the wall
time), their ratios to in-process and the outputs' largest difference from in-process (0 expected: the same pixels
go through the same batches). Target: 1 worker within 10% of in-process. The load average is
printed before and after, since other work on the machine moves the times. The cluster side
pays for listing the files, scattering the model, one task per partition (each builds its own
tf.data pipeline) and sending the outputs back; it gains nothing on one machine (TensorFlow
already uses every core in-process), so 2 workers on 2 cores share the same cores.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from real_models import CLASSES, make_folder  # noqa: E402 - same photo generator


def build_cnn(path: Path) -> None:
    import keras
    from keras import layers as L

    keras.utils.set_random_seed(0)
    body = [keras.Input((64, 64, 3)), L.Rescaling(1 / 255)]
    for filters in (16, 32, 64):
        body += [L.Conv2D(filters, 3, activation="relu", padding="same"), L.MaxPooling2D()]
    model = keras.Sequential(body + [L.GlobalAveragePooling2D(), L.Dense(CLASSES, activation="softmax")])
    model.save(path)
    print(f"cnn: {model.count_params():,} parameters, 64x64 RGB, {path.stat().st_size / 1e3:.0f} kB file")


def timed(fn) -> tuple[float, object]:
    t = time.perf_counter()
    out = fn()
    return time.perf_counter() - t, out


def cpu_seconds(client) -> float:
    """CPU time (user + system) used so far by this process and the client's workers."""
    import resource

    def own() -> float:
        r = resource.getrusage(resource.RUSAGE_SELF)
        return r.ru_utime + r.ru_stime

    return own() + (sum(client.run(own).values()) if client is not None else 0.0)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=6000, help="photos in the folder")
    p.add_argument("--repeat", type=int, default=3, help="steady runs of each side, interleaved")
    args = p.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    t0 = time.perf_counter()
    tmp = Path(tempfile.mkdtemp(prefix="h5eval-scale-"))
    os.environ["H5EVAL_CACHE_DIR"] = str(tmp / "cache")
    clusters = []
    try:
        folder = tmp / "photos"
        make_folder(folder, args.n, 56, 72, seed=0)  # before TensorFlow starts threads here
        model = tmp / "cnn.keras"
        build_cnn(model)

        import numpy as np
        from distributed import Client, LocalCluster

        from h5eval_widgets import Evaluation, load_model
        from h5eval_widgets.core.scale.cluster_inputs import list_files

        print(
            f"load average before: {', '.join(f'{x:.1f}' for x in os.getloadavg())} "
            f"(1, 5, 15 min; {os.cpu_count()} cores)",
            flush=True,
        )
        loaded = load_model(model, cache=False)

        def side(client):
            return lambda: Evaluation.from_model(loaded, folder, client=client, cache=False, progress=False)

        sides = {"in-process": side(None)}
        clients = {"in-process": None}
        cold: dict[str, float] = {}
        for k in (1, 2):
            t = time.perf_counter()
            cluster = LocalCluster(
                n_workers=k, threads_per_worker=1, processes=True, dashboard_address=":0", silence_logs=40
            )
            client = Client(cluster)
            clusters.append((client, cluster))
            cold[f"{k} worker{'s' if k > 1 else ''} start"] = time.perf_counter() - t
            sides[f"{k} worker{'s' if k > 1 else ''}"] = side(client)
            clients[f"{k} worker{'s' if k > 1 else ''}"] = client
        reference = None
        for name, run in sides.items():
            seconds, ev = timed(run)
            cold[name] = seconds
            if reference is None:
                reference = ev.y_proba
        print(
            "cold (first) runs: "
            + ", ".join(f"{k} {v:.1f} s" for k, v in cold.items())
            + " (the workers import TensorFlow and load the model; this process had already)",
            flush=True,
        )

        runs: dict[str, list[float]] = {name: [] for name in sides}
        cpu: dict[str, list[float]] = {name: [] for name in sides}
        diffs: dict[str, float] = {}
        notes: dict[str, str] = {}
        for _ in range(args.repeat):
            for name, run in sides.items():
                c0 = cpu_seconds(clients[name])
                seconds, ev = timed(run)
                cpu[name].append(cpu_seconds(clients[name]) - c0)
                runs[name].append(seconds)
                diffs[name] = float(np.abs(ev.y_proba - reference).max())
                notes[name] = next((n for n in ev.notes if "Dask cluster" in n), "")
        for name, r in runs.items():
            print(f"  {name}: " + ", ".join(f"{s:.2f} s" for s in r) + (f"  ({notes[name]})" if notes[name] else ""))

        base = min(runs["in-process"])
        print(
            f"\n{args.n} JPEG photos of 56-72 px, small CNN at 64x64, best of {args.repeat} steady runs "
            f"each (interleaved); target: 1 worker within 10% of in-process"
        )
        head = (
            f"{'side':14s}{'best':>9s}{'images/s':>10s}{'vs in-process':>15s}{'median':>9s}"
            f"{'vs in-process':>15s}{'CPU s':>8s}{'vs in-process':>15s}{'max|diff|':>11s}"
        )
        print(head + "\n" + "-" * len(head))
        mid = float(np.median(runs["in-process"]))
        cpu_mid = float(np.median(cpu["in-process"]))
        for name, r in runs.items():
            best, med, c = min(r), float(np.median(r)), float(np.median(cpu[name]))
            print(
                f"{name:14s}{best:>8.2f}s{args.n / best:>10.0f}{best / base:>14.2f}x{med:>8.2f}s"
                f"{med / mid:>14.2f}x{c:>8.2f}{c / cpu_mid:>14.2f}x{diffs[name]:>11.1e}"
            )
        one = min(runs["1 worker"])
        overhead = one / base - 1
        print(
            f"\noverhead of the cluster at 1 worker: {overhead:+.1%} ({one - base:+.2f} s over "
            f"{args.n} images; {'within' if overhead <= 0.10 else 'OVER'} the 10% target) on the best "
            f"runs, {float(np.median(runs['1 worker'])) / mid - 1:+.1%} on the medians"
        )
        listing = min(timed(lambda: list_files(folder))[0] for _ in range(3))
        per_image = one / args.n
        photo_bytes = sum(f.stat().st_size for f in folder.rglob("*.jpg")) / args.n
        print(
            f"on N machines like this one (one 2-core worker each, the photos on storage every "
            f"worker reads), the inference part divides by N: 1,000,000 such photos take about "
            f"{per_image * 1e6 / 60:.0f} min on 1 worker, {per_image * 1e6 / 60 / 10:.1f} min on 10 "
            f"and {per_image * 1e6 / 60 / 100:.2f} min on 100, if the storage serves "
            f"{photo_bytes * 1e6 / 1e9:.1f} GB that fast; plus listing the files on the client "
            f"({listing:.2f} s for {args.n} here, about {listing / args.n * 1e6:.0f} s per million on "
            "a local disk; object stores list 1,000 names per request), each worker's start "
            "(TensorFlow import and model load: the cold run above) and "
            f"{1e6 * CLASSES * 4 / 1e6:.0f} MB of float32 outputs back; the metrics then run on "
            "the client as in-process."
        )
        print(f"load average after: {', '.join(f'{x:.1f}' for x in os.getloadavg())}")
        print(f"\nwhole benchmark: {time.perf_counter() - t0:.0f} s")
    finally:
        for client, cluster in clusters:
            client.close()
            cluster.close()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
