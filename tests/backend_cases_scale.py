"""Inference on a Dask cluster on every backend (see :mod:`tests.backend_cases`): a model
evaluated by the worker process of a local cluster, which runs the client's Keras backend."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tests.backend_cases import blobs, builder, case, evaluated, small_mlp


@builder
def build_scale(d: Path) -> None:
    """A briefly trained MLP (.keras) and its test rows."""

    X, y = blobs(300, seed=3, std=2.5)
    np.savez(d / "scale.npz", x=X[150:], y=y[150:])
    small_mlp(21, X[:150], y[:150]).save(d / "scale_mlp.keras")


@case
def dask_cluster(d: Path) -> dict:
    """The model file and a NumPy array evaluated on a LocalCluster of one worker process
    (cut into partitions there), with the worker's backend checked to be this process's."""
    import keras
    from distributed import Client, LocalCluster

    with np.load(d / "scale.npz") as f:
        x, y = f["x"], f["y"]
    cluster = LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=":0", silence_logs=40)
    try:
        with Client(cluster) as client:
            out = evaluated(d / "scale_mlp.keras", x, y=y, client=client)
            backends = set(client.run(lambda: __import__("keras").backend.backend()).values())
            assert backends == {keras.backend.backend()}, backends
    finally:
        cluster.close()
    return out
