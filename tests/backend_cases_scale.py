"""Inference on a Dask cluster on every backend (see :mod:`tests.backend_cases`): a model
evaluated by the worker process of a local cluster, which runs the client's Keras backend."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tests.backend_cases import builder, case, evaluated


def _data():
    from sklearn.datasets import make_blobs

    X, y = make_blobs(n_samples=300, centers=3, n_features=4, cluster_std=2.5, random_state=3)
    return X.astype(np.float32), y


@builder
def build_scale(d: Path) -> None:
    """A briefly trained MLP (.keras) and its test rows."""
    import keras

    X, y = _data()
    np.savez(d / "scale.npz", x=X[150:], y=y[150:])
    keras.utils.set_random_seed(21)
    model = keras.Sequential(
        [keras.Input((4,)), keras.layers.Dense(8, activation="relu"), keras.layers.Dense(3, activation="softmax")]
    )
    model.compile("adam", "sparse_categorical_crossentropy")
    model.fit(X[:150], y[:150], epochs=3, verbose=0)
    model.save(d / "scale_mlp.keras")


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
