"""TensorFlow SavedModel directories on every backend (see :mod:`tests.backend_cases`): one
exported by Keras 3 (``model.export``, a ``serve`` endpoint) and one saved by Keras 2 (tf_keras,
a ``serving_default`` signature). Keras 3's ``TFSMLayer`` runs on the TensorFlow backend only, so
on JAX and PyTorch the engine loads them with ``tf.saved_model.load``: TensorFlow runs them
whatever the Keras backend, and the outputs and scores must be TensorFlow's."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tests.backend_cases import builder, case, evaluated


def _data():
    from sklearn.datasets import make_blobs

    X, y = make_blobs(n_samples=300, centers=3, n_features=4, cluster_std=2.5, random_state=4)
    return X.astype(np.float32), y


@builder
def build_savedmodels(d: Path) -> None:
    """A Keras 3 MLP exported with ``model.export`` and a Keras 2 MLP saved as a SavedModel."""
    import keras
    import tf_keras

    X, y = _data()
    np.savez(d / "savedmodel_blobs.npz", x=X[150:], y=y[150:])
    keras.utils.set_random_seed(11)
    mlp = keras.Sequential(
        [keras.Input((4,)), keras.layers.Dense(8, activation="relu"), keras.layers.Dense(3, activation="softmax")]
    )
    mlp.compile("adam", "sparse_categorical_crossentropy")
    mlp.fit(X[:150], y[:150], epochs=3, verbose=0)
    mlp.export(str(d / "keras3_savedmodel"), verbose=False)
    tf_keras.utils.set_random_seed(12)
    old = tf_keras.Sequential(
        [tf_keras.layers.Dense(8, activation="relu", input_shape=(4,)), tf_keras.layers.Dense(3, activation="softmax")]
    )
    old.compile("adam", "sparse_categorical_crossentropy")
    old.fit(X[:150], y[:150], epochs=3, verbose=0)
    old.save(str(d / "keras2_savedmodel"), save_format="tf")


@case
def savedmodel_directories(d: Path) -> dict:
    """Both SavedModels' outputs and scores on the same test set."""
    return {
        **evaluated(d / "keras3_savedmodel", d / "savedmodel_blobs.npz", "keras3."),
        **evaluated(d / "keras2_savedmodel", d / "savedmodel_blobs.npz", "keras2."),
    }
