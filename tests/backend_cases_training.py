"""The training recorder during a ``fit`` on every backend (see :mod:`tests.backend_cases`).

The builder saves a small model's *initial* weights under TensorFlow, so that every backend
starts the fit from the same weights; the case fits it with plain SGD, no shuffling and fixed
data, so the training math is the same on every backend up to float32 rounding, and returns
what the recorder kept at each epoch (outputs, penultimate embedding, scores) beside Keras's
training loss. Within one backend the case also checks that each epoch's recorded outputs are
``model.predict``'s at the end of that epoch (JAX holds the training state apart from the
variables during ``fit`` and writes it back before ``on_epoch_end``), and that a recording
made in the middle of an epoch (``on_train_batch_end``) sees the weights of that step.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tests.backend_cases import blobs, builder, case, scores, small_mlp

EPOCHS = 3


@builder
def build_training(d: Path) -> None:
    """An MLP's initial (untrained) weights, as a .keras file, and the data it is fit on."""

    X, y = blobs(320, seed=7, std=2.0)
    np.savez(d / "training.npz", x_train=X[:240], y_train=y[:240], x_val=X[240:], y_val=y[240:])
    small_mlp(11).save(d / "training_initial.keras")


def _predictions(recorder, x_val, steps_per_epoch: int):
    """A callback put after the recorder: ``model.predict`` on the validation data at each
    epoch's end, and the recorder asked to record once in the middle of the second epoch."""
    import keras

    class Predictions(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.predicted: dict[int, np.ndarray] = {}
            self.middle: tuple[np.ndarray, np.ndarray] | None = None
            self._epoch = 0

        def on_epoch_begin(self, epoch, logs=None):
            self._epoch = epoch

        def on_train_batch_end(self, batch, logs=None):
            if self._epoch == 1 and batch == steps_per_epoch // 2:
                got = recorder.record(100, logs)  # an epoch number of its own, mid-epoch
                self.middle = (got, self.model.predict(x_val, verbose=0))

        def on_epoch_end(self, epoch, logs=None):
            self.predicted[epoch + 1] = self.model.predict(x_val, verbose=0)

    return Predictions()


@case
def training_recorder_fit(d: Path) -> dict:
    """SGD from the saved initial weights, 3 epochs, no shuffle, the recorder on the validation
    data: each epoch's outputs, penultimate embedding and scores, and Keras's training loss."""
    import keras

    from h5eval_widgets import TrainingRecorder

    with np.load(d / "training.npz") as f:
        x, y, xv, yv = f["x_train"], f["y_train"], f["x_val"], f["y_val"]
    model = keras.saving.load_model(d / "training_initial.keras", compile=False)
    model.compile(keras.optimizers.SGD(0.05), "sparse_categorical_crossentropy")
    rec = TrainingRecorder(xv, yv, classes=["a", "b", "c"], embeddings="penultimate")
    batch = 32
    check = _predictions(rec, xv, len(x) // batch)
    model.fit(x, y, epochs=EPOCHS, batch_size=batch, shuffle=False, verbose=0, callbacks=[rec, check])
    assert rec.epochs == [1, 2, 3, 100], rec.epochs
    out: dict[str, np.ndarray] = {}
    for e in range(1, EPOCHS + 1):
        got = np.asarray(rec.outputs(e))
        # on this backend: the recorder saw the weights of the epoch's end, as model.predict does
        np.testing.assert_allclose(got, check.predicted[e], atol=1e-6, err_msg=f"epoch {e}")
        ev = rec.evaluation(e)
        out[f"out:epoch{e}.outputs"] = got.astype(np.float64)
        out[f"out:epoch{e}.embedding"] = np.asarray(ev.embedding, np.float64)
        out.update(scores(ev, f"epoch{e}."))
        out[f"score:epoch{e}.train_loss"] = np.float64(rec.logs[e]["loss"])
    mid, predicted = check.middle
    np.testing.assert_allclose(mid, predicted, atol=1e-6, err_msg="recorded mid-epoch")
    assert not np.allclose(mid, rec.outputs(1)) and not np.allclose(mid, rec.outputs(2))
    out["out:mid_epoch2.outputs"] = np.asarray(mid, np.float64)
    rec.close()
    return out
