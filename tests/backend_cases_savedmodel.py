"""TensorFlow SavedModel directories on every backend (see :mod:`tests.backend_cases`): one
exported by Keras 3 (``model.export``, a ``serve`` endpoint) and one saved by Keras 2 (tf_keras,
a ``serving_default`` signature). Keras 3's ``TFSMLayer`` runs on the TensorFlow backend only, so
on JAX and PyTorch the engine loads them with ``tf.saved_model.load``: TensorFlow runs them
whatever the Keras backend, and the outputs and scores must be TensorFlow's."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tests.backend_cases import blobs, builder, case, evaluated, small_mlp


@builder
def build_savedmodels(d: Path) -> None:
    """A Keras 3 MLP exported with ``model.export`` and a Keras 2 MLP saved as a SavedModel."""
    import tf_keras

    X, y = blobs(300, seed=4, std=2.5)
    np.savez(d / "savedmodel_blobs.npz", x=X[150:], y=y[150:])
    mlp = small_mlp(11, X[:150], y[:150])
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
