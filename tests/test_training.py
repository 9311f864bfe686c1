"""The training recorder on a real Keras fit: each epoch's evaluation equals that of a checkpoint
saved at the end of the epoch, cartography equals the checkpoints' predictions, forgetting is
counted on a planted pattern, outputs past the memory bound live on disk, an interrupted fit keeps
its epochs, bad validation data fails before training, and the dashboard follows the epochs."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from sklearn.datasets import load_digits

from h5eval_widgets import Dashboard, Evaluation, TrainingRecorder
from h5eval_widgets.core import H5EvalError, LabelError, ShapeMismatchError
from h5eval_widgets.core import training as training_module
from h5eval_widgets.core.metrics.cartography import cartography, first_learned, forgetting_events
from tests.helpers import record_calls

EPOCHS = 5


def _digits():
    d = load_digits()
    X = (d.images / 16.0).astype("float32")[..., None]
    return X[:1200], d.target[:1200], X[1200:1500], d.target[1200:1500]


def _cnn(seed: int = 0):
    keras.utils.set_random_seed(seed)
    model = keras.Sequential(
        [
            keras.Input((8, 8, 1)),
            keras.layers.Conv2D(6, 3, activation="relu"),
            keras.layers.Flatten(),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )
    model.compile(keras.optimizers.Adam(0.003), "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A small CNN fit for 5 epochs on the digits with the recorder and a checkpoint per epoch."""
    folder = tmp_path_factory.mktemp("training")
    Xt, yt, Xv, yv = _digits()
    model = _cnn()
    rec = TrainingRecorder(Xv, yv, classes=[str(i) for i in range(10)])
    ckpt = keras.callbacks.ModelCheckpoint(str(folder / "epoch-{epoch:02d}.keras"), save_freq="epoch")
    model.fit(Xt, yt, epochs=EPOCHS, batch_size=64, verbose=0, callbacks=[rec, ckpt], validation_data=(Xv, yv))
    return rec, folder, Xv, yv


@pytest.mark.parametrize("epoch", [1, 3, EPOCHS])
def test_each_epoch_equals_its_checkpoint(trained, epoch):
    rec, folder, Xv, yv = trained
    ev = rec.evaluation(epoch)
    ref = Evaluation.from_model(
        folder / f"epoch-{epoch:02d}.keras", Xv, yv, progress=False, classes=[str(i) for i in range(10)]
    )
    np.testing.assert_allclose(ev.y_proba, ref.y_proba, atol=1e-5)
    np.testing.assert_array_equal(ev.confusion_matrix(), ref.confusion_matrix())
    for name, value in ref.scores.items():
        assert ev.scores[name] == pytest.approx(value, abs=1e-5, nan_ok=True), name
    assert f"epoch {epoch}" in ev.notes


def test_epochs_differ_and_history_has_every_metric_beside_keras_logs(trained):
    rec, *_ = trained
    assert rec.epochs == list(range(1, EPOCHS + 1))
    first, last = rec.evaluation(1).confusion_matrix(), rec.evaluation(EPOCHS).confusion_matrix()
    assert not np.array_equal(first, last)
    hist = rec.history()
    assert list(hist.index) == rec.epochs
    for e in rec.epochs:
        assert hist.loc[e, "accuracy"] == pytest.approx(rec.evaluation(e).scores["accuracy"])
        # Keras's own validation accuracy is ours; its training loss keeps its own column
        assert hist.loc[e, "val_accuracy"] == pytest.approx(hist.loc[e, "accuracy"], abs=1e-6)
        assert np.isfinite(hist.loc[e, "train_loss"])
    assert set(rec.evaluations) == set(rec.epochs)
    assert rec.evaluations[2].scores == rec.evaluation(2).scores


def test_cartography_equals_the_checkpoints_predictions(trained):
    rec, folder, Xv, yv = trained
    probs = np.stack(
        [keras.saving.load_model(folder / f"epoch-{e:02d}.keras").predict(Xv, verbose=0) for e in rec.epochs]
    )
    true_p = probs[:, np.arange(len(yv)), yv]
    correct = probs.argmax(axis=2) == yv
    carto = rec.cartography()
    np.testing.assert_allclose(carto["confidence"], true_p.mean(axis=0), atol=1e-5)
    np.testing.assert_allclose(carto["variability"], true_p.std(axis=0), atol=1e-5)
    np.testing.assert_allclose(carto["correctness"], correct.mean(axis=0))
    forgot = (correct[:-1] & ~correct[1:]).sum(axis=0)
    np.testing.assert_array_equal(carto["forgetting_events"], forgot)
    for i in range(len(yv)):  # the first epoch from which the sample stays right
        stays = [e for k, e in enumerate(rec.epochs) if correct[k:, i].all()]
        want = stays[0] if stays else np.nan
        assert carto["first_learned"][i] == pytest.approx(want, nan_ok=True), i
    assert set(carto["region"]) <= {"easy", "ambiguous", "hard"}
    assert (carto["region"] == "easy").any() and (carto["region"] != "easy").any()


def test_forgetting_on_a_planted_pattern():
    """A one-weight model whose sign is set before each epoch: right, wrong, right, right."""
    X = np.linspace(-1, 1, 20, dtype="float32")[:, None]
    y = (X[:, 0] > 0).astype(int)
    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(2, activation="softmax")])
    rec = TrainingRecorder(X, y)
    rec.set_model(model)
    rec.on_train_begin()
    for epoch, sign in enumerate([1, -1, 1, 1]):
        model.layers[0].set_weights([np.array([[-5.0 * sign, 5.0 * sign]], "float32"), np.zeros(2, "float32")])
        rec.on_epoch_end(epoch)
    carto = rec.cartography()
    assert (carto["forgetting_events"] == 1).all()
    assert (carto["first_learned"] == 3).all()
    assert carto["correctness"].tolist() == [0.75] * 20
    # the pure functions on a pattern with a sample never learned and one learned at once
    correct = np.array([[1, 0, 1], [0, 0, 1], [1, 0, 1], [1, 1, 1]], bool)
    assert forgetting_events(correct).tolist() == [1, 0, 0]
    np.testing.assert_array_equal(first_learned(correct, [1, 2, 3, 4]), [3, 4, 1])
    np.testing.assert_array_equal(first_learned(correct[:3], [2, 4, 6]), [6, np.nan, 2])
    frame = cartography(np.array([[0.9, 0.1, 0.2], [0.9, 0.9, 0.2]]), np.array([[1, 0, 0], [1, 1, 0]], bool), [1, 2])
    assert frame["region"].tolist() == ["easy", "ambiguous", "hard"]


def test_outputs_past_the_memory_bound_go_to_disk_and_are_read_not_predicted(tmp_path, monkeypatch):
    Xt, yt, Xv, yv = _digits()
    model = _cnn(1)
    one_epoch = len(Xv) * 10 * 4  # float32 outputs of one epoch
    rec = TrainingRecorder(Xv, yv, memory_limit=2 * one_epoch, directory=tmp_path / "outputs", embeddings=False)
    seen, predicted = [], {}

    def on_epoch_end(e, logs):
        seen.append(rec.memory_bytes)
        predicted[e + 1] = model.predict(Xv, verbose=0)

    probe = keras.callbacks.LambdaCallback(on_epoch_end=on_epoch_end)
    model.fit(Xt, yt, epochs=6, batch_size=128, verbose=0, callbacks=[rec, probe])
    assert max(seen) <= 2 * one_epoch
    assert rec.files == [1, 2, 3, 4]
    assert len(list((tmp_path / "outputs").glob("*.npy"))) == 4
    kept = {e: np.array(rec.outputs(e)) for e in rec.epochs}
    passes = record_calls(monkeypatch, training_module, "run_feed")
    for e in rec.epochs:  # asked again: read from memory or disk, never predicted
        np.testing.assert_allclose(rec.evaluation(e).y_proba, predicted[e], atol=1e-6)  # that epoch's weights
        np.testing.assert_array_equal(rec.outputs(e), kept[e])
    assert passes == []
    np.testing.assert_allclose(rec.outputs(6), model.predict(Xv, verbose=0), atol=1e-6)
    rec.close()
    assert list((tmp_path / "outputs").glob("*")) == [] and rec.epochs == [5, 6]


def test_an_interrupted_fit_keeps_the_epochs_recorded(tmp_path):
    Xt, yt, Xv, yv = _digits()
    model = _cnn(2)
    rec = TrainingRecorder(Xv, yv)

    def stop(epoch, logs):
        if epoch == 1:
            model.save(tmp_path / "at-2.keras")
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        model.fit(Xt, yt, epochs=5, verbose=0, callbacks=[rec, keras.callbacks.LambdaCallback(on_epoch_end=stop)])
    assert rec.epochs == [1, 2]
    ref = Evaluation.from_model(tmp_path / "at-2.keras", Xv, yv, progress=False)
    np.testing.assert_allclose(rec.evaluation(2).y_proba, ref.y_proba, atol=1e-5)
    assert len(rec.cartography()) == len(yv)
    with pytest.raises(H5EvalError, match="Epoch 3 was not recorded"):
        rec.evaluation(3)


def test_every_nth_epoch_and_the_last_one(tmp_path):
    Xt, yt, Xv, yv = _digits()
    rec = TrainingRecorder(Xv, yv, every=2)
    _cnn(3).fit(Xt[:300], yt[:300], epochs=5, verbose=0, callbacks=[rec])
    assert rec.epochs == [2, 4, 5]


def test_bad_validation_data_fails_before_the_first_epoch():
    Xt, yt, Xv, yv = _digits()
    epochs_begun = []
    count = keras.callbacks.LambdaCallback(on_epoch_begin=lambda e, logs: epochs_begun.append(e))
    with pytest.raises(ShapeMismatchError, match="input"):
        _cnn().fit(Xt, yt, epochs=2, verbose=0, callbacks=[TrainingRecorder(Xv[:, :6, :6], yv), count])
    with pytest.raises(LabelError):  # labels 0..11 for a 10-class output
        _cnn().fit(Xt, yt, epochs=2, verbose=0, callbacks=[TrainingRecorder(Xv, yv + 2), count])
    assert epochs_begun == []
    with pytest.raises(H5EvalError, match="No epoch has been recorded yet"):
        TrainingRecorder(Xv, yv).evaluation()


def _drawn(dash) -> np.ndarray:
    return np.asarray(dash.confusion.heatmap.color)


def test_dashboard_built_before_fit_follows_each_epoch_and_the_slider_scrubs(tmp_path):
    Xt, yt, Xv, yv = _digits()
    model = _cnn(4)
    rec = TrainingRecorder(Xv, yv)
    dash = rec.dashboard()
    assert dash.session.evaluation is None and dash.epochs.layout.display == "none"
    seen = []

    def look(epoch, logs):
        seen.append((dash.session.shown_epoch, _drawn(dash).copy(), dash.epochs.slider.value, dash.session.status))

    model.fit(Xt, yt, epochs=3, verbose=0, callbacks=[rec, keras.callbacks.LambdaCallback(on_epoch_end=look)])
    for e, (shown, drawn, slider, status) in enumerate(seen, start=1):
        assert shown == e and slider == str(e) and f"epoch {e}" in status
        np.testing.assert_array_equal(drawn, rec.evaluation(e).confusion_matrix())
    # a cell chosen at the last epoch stays chosen while the slider goes back: its samples change
    cm3 = rec.evaluation(3).confusion_matrix().copy()
    np.fill_diagonal(cm3, 0)
    cell = tuple(int(v) for v in np.unravel_index(cm3.argmax(), cm3.shape))
    dash.state.selected_cell = cell
    dash.epochs.slider.index = 0  # as a drag to the first epoch sets it
    assert dash.session.shown_epoch == 1 and dash.state.selected_cell == cell
    np.testing.assert_array_equal(_drawn(dash), rec.evaluation(1).confusion_matrix())
    np.testing.assert_array_equal(dash.state.selected_indices, rec.evaluation(1).cell_indices(*cell))
    # the cards say when each sample was learned (as of the epoch shown)
    learned = dash.samples._page_frame(features=False)["learned_epoch"]
    assert learned.isna().all()  # epoch 1's mistakes are not learned yet
    dash.epochs.slider.index = 2
    dash.state.selected_cell = (0, 0)
    learned = dash.samples._page_frame(features=False)["learned_epoch"]
    assert len(learned) > 0 and learned.between(1, 3).all()  # right at epoch 3: learned by then
    caption = dash.samples._card_pool[0].caption.value
    assert f"learned at epoch {int(learned.iloc[0])}" in caption
    dash.close()
    assert rec._listeners == []


def test_cartography_beside_the_matrix_is_linked_both_ways():
    Xt, yt, Xv, yv = _digits()
    rec = TrainingRecorder(Xv, yv)
    _cnn(5).fit(Xt, yt, epochs=3, verbose=0, callbacks=[rec])
    dash = Dashboard.from_training(rec)
    left = dash.children[4].children[0]  # the matrix's column
    assert list(left.children[:2]) == [dash.confusion, dash.cartography] and dash.cartography not in dash.tab_views
    carto = rec.cartography()
    view = dash.cartography
    np.testing.assert_allclose(view.scatter.x, carto["variability"])
    np.testing.assert_allclose(view.scatter.y, carto["confidence"])
    # a lasso (as the browser sets the mark's selection) shows and counts those samples
    view.scatter.selected = np.array([5, 9, 40])
    np.testing.assert_array_equal(dash.state.selected_indices, [5, 9, 40])
    np.testing.assert_array_equal(dash.state.brushed, [5, 9, 40])
    # a clicked cell marks its samples on the map
    dash.state.selected_cell = (3, 3)
    np.testing.assert_array_equal(view.scatter.selected, rec.evaluation(3).cell_indices(3, 3))
    # the buttons list the hard-to-learn (least confident first) and the most forgotten
    view.hard.click()
    hard = carto[carto["region"] == "hard"].sort_values("confidence", kind="stable").index[:200]
    np.testing.assert_array_equal(dash.state.selected_indices, hard)
    view.forgotten.click()
    forgot = carto["forgetting_events"].to_numpy()[dash.state.selected_indices]
    assert len(forgot) > 0 and (forgot > 0).all() and (np.diff(forgot) <= 0).all()
    assert len(dash.state.selected_indices) == min(200, int((carto["forgetting_events"] > 0).sum()))
    dash.close()


def test_scrubbing_epochs_and_clicking_cells_leaves_no_widget_behind_and_close_leaves_none():
    from ipywidgets.widgets.widget import _instances

    from tests.random_actions import live_widgets

    Xt, yt, Xv, yv = _digits()
    rec = TrainingRecorder(Xv, yv)
    _cnn(6).fit(Xt, yt, epochs=4, verbose=0, callbacks=[rec])
    before = set(_instances)
    dash = rec.dashboard()
    rng = np.random.default_rng(0)

    def act(n):
        for _ in range(n):
            dash.epochs.slider.index = int(rng.integers(4))
            dash.state.selected_cell = tuple(int(v) for v in rng.integers(10, size=2))
            if rng.random() < 0.3:
                dash.cartography.scatter.selected = rng.choice(len(yv), 5, replace=False)

    act(30)
    warm = live_widgets()
    act(300)
    assert live_widgets() - warm <= 12  # a page of cards at most
    dash.close()
    assert set(_instances) <= before


def test_the_loss_and_metrics_per_epoch_follow_the_training_and_the_slider():
    """Check the training dashboard's per-epoch charts hold Keras's logs of each epoch (training
    and validation), grow as epochs end, and mark the epoch the slider shows."""
    Xt, yt, Xv, yv = _digits()
    rec = TrainingRecorder(Xv, yv)
    dash = Dashboard.from_training(rec)
    try:
        assert dash.history.layout.display == "none"  # nothing recorded yet
        history = keras.callbacks.History()
        _cnn(7).fit(Xt, yt, epochs=3, validation_data=(Xv, yv), verbose=0, callbacks=[rec, history])
        assert dash.children[3] is dash.history and dash.history.layout.display is None
        fig, line, rule = dash.history._pool[0]
        assert fig.title.startswith("loss per epoch")
        np.testing.assert_allclose(line.x, [1, 2, 3])
        np.testing.assert_allclose(line.y[0], history.history["loss"], rtol=1e-6)
        np.testing.assert_allclose(line.y[1], history.history["val_loss"], rtol=1e-6)
        assert dash.session.status.endswith("· epoch 3 of 3.")  # the epoch in the status line, once
        assert dash.data_notes.layout.display == "none"  # so not among the data notes
        note = dash.history.note
        assert rule.visible and list(rule.x) == [3.0, 3.0] and "dashed: epoch 3, the epoch shown" in note.value
        assert list(fig.axes[0].tick_values) == [1.0, 2.0, 3.0]  # whole epochs on the axis
        dash.epochs.slider.index = 0
        assert dash.session.shown_epoch == 1 and list(rule.x) == [1.0, 1.0] and "dashed: epoch 1," in note.value
    finally:
        dash.close()


def test_each_epoch_has_its_embedding_and_the_map_follows_the_slider(trained):
    """The penultimate layer's activations of each epoch equal those of its checkpoint's pass."""
    rec, folder, Xv, yv = trained
    for e in (1, EPOCHS):
        ref = Evaluation.from_model(folder / f"epoch-{e:02d}.keras", Xv, yv, progress=False)
        got = rec.evaluation(e).embeddings
        assert got.layer == ref.embeddings.layer
        np.testing.assert_allclose(got.vectors, ref.embeddings.vectors, atol=1e-4)
    dash = rec.dashboard()
    dash.tabs.selected_index = dash.tab_views.index(dash.embedding)
    drawn = {}
    for index in (0, EPOCHS - 1):
        dash.epochs.slider.index = index
        drawn[index] = np.asarray(dash.embedding.widget.points)[:, :2].copy()
        np.testing.assert_array_equal(dash.embedding.xy, rec.evaluation(index + 1).projection("pca"))
    assert drawn[0].shape == (len(yv), 2) and not np.allclose(drawn[0], drawn[EPOCHS - 1])  # the map moved
    dash.close()


def test_validation_data_from_a_folder_and_from_tf_data(tmp_path):
    """Any form from_model takes: an image folder (read by the engine's reader each epoch) and a
    tf.data.Dataset (labels met in the first pass); both equal model.predict on the same inputs."""
    import tensorflow as tf
    from PIL import Image

    Xt, yt, Xv, yv = _digits()
    Xv, yv = Xv[:60], yv[:60]
    for i, (x, label) in enumerate(zip(Xv, yv)):
        (tmp_path / str(label)).mkdir(exist_ok=True)
        Image.fromarray((x[..., 0] * 255).round().astype("uint8")).save(tmp_path / str(label) / f"{i:03d}.png")
    model = _cnn(7)
    from_folder = TrainingRecorder(str(tmp_path), preprocess=1 / 255)
    stream = tf.data.Dataset.from_tensor_slices((Xv, yv)).batch(16)
    from_stream = TrainingRecorder(stream)
    model.fit(Xt, yt, epochs=2, verbose=0, callbacks=[from_folder, from_stream])
    folder_ev, stream_ev = from_folder.evaluation(2), from_stream.evaluation(2)
    files = [from_folder.data.file_path(i) for i in range(folder_ev.n_samples)]
    pixels = np.stack([np.asarray(Image.open(f), "float32")[..., None] / 255 for f in files])
    np.testing.assert_allclose(folder_ev.y_proba, model.predict(pixels, verbose=0), atol=1e-5)
    assert [int(folder_ev.classes[t]) for t in folder_ev.y_true] == [int(f.parent.name) for f in files]
    np.testing.assert_allclose(stream_ev.y_proba, model.predict(Xv, verbose=0), atol=1e-5)
    np.testing.assert_array_equal(stream_ev.y_true, yv)
    assert from_stream.epochs == [1, 2] and len(from_stream.cartography()) == len(yv)
