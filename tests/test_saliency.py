"""Saliency on a real trained CNN whose class is set by where a bright patch is."""

from __future__ import annotations

import numpy as np
import pytest

from h5eval_widgets.core import H5EvalError, load_model
from h5eval_widgets.core.insight.saliency import grad_cam, integrated_gradients, saliency_map

SIDE, PATCH = 32, 10  # a 10x10 patch covers about a tenth of a 32x32 image


def patch_images(n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Dim noisy images with one bright 10x10 patch in one of four quadrants (the class), and
    the patch masks."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 4, n)
    X = rng.uniform(0, 0.1, (n, SIDE, SIDE, 1)).astype(np.float32)
    masks = np.zeros((n, SIDE, SIDE), bool)
    for i, c in enumerate(y):
        r0 = (c // 2) * 16 + rng.integers(0, 16 - PATCH + 1)
        c0 = (c % 2) * 16 + rng.integers(0, 16 - PATCH + 1)
        X[i, r0 : r0 + PATCH, c0 : c0 + PATCH, 0] = 1.0
        masks[i, r0 : r0 + PATCH, c0 : c0 + PATCH] = True
    return X, y, masks


@pytest.fixture(scope="module")
def patch_cnn(tmp_path_factory):
    """A small CNN trained (once per session) to tell the patch's quadrant, saved to .h5 and loaded back."""
    import keras

    keras.utils.set_random_seed(0)
    X, y, _ = patch_images(2000, seed=0)
    model = keras.Sequential(
        [
            keras.Input((SIDE, SIDE, 1)),
            keras.layers.Conv2D(8, 3, padding="same", activation="relu"),
            keras.layers.Conv2D(16, 3, padding="same", activation="relu", name="last_conv"),
            keras.layers.MaxPooling2D(4),
            keras.layers.Flatten(),
            keras.layers.Dense(4, activation="softmax"),
        ]
    )
    model.compile(optimizer=keras.optimizers.Adam(3e-3), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(X, y, epochs=4, batch_size=64, verbose=0)
    path = tmp_path_factory.mktemp("saliency") / "patch_cnn.h5"
    model.save(path)
    return load_model(path, cache=False)


def test_grad_cam_and_integrated_gradients_look_at_the_patch(patch_cnn):
    """Check on correctly classified test images that over half of each method's mass falls in
    the bright patch (a tenth of the image), for the predicted class (measured: a median of 0.63
    for Grad-CAM and 0.95 for integrated gradients)."""
    X, y, masks = patch_images(48, seed=1)
    pred = patch_cnn.model.predict(X, verbose=0).argmax(1)
    right = pred == y
    assert right.mean() > 0.9
    for method in ("gradcam", "integrated_gradients"):
        maps = saliency_map(patch_cnn, X[right], pred[right], method=method)
        assert maps.shape == (right.sum(), SIDE, SIDE) and maps.min() >= 0 and np.allclose(maps.max(axis=(1, 2)), 1)
        inside = (maps * masks[right]).sum(axis=(1, 2)) / maps.sum(axis=(1, 2))
        assert np.median(inside) > 0.5 and (inside > 0.5).mean() > 0.8, (method, np.round(inside, 2))


def test_integrated_gradients_add_up_to_the_output_difference(patch_cnn):
    """Check completeness: each image's attributions sum to its class output minus the black
    baseline's, within 0.02 (the trapezoid rule with 64 steps)."""
    X, y, _ = patch_images(8, seed=2)
    attr = integrated_gradients(patch_cnn, X, y, steps=64)
    out = patch_cnn.model.predict(X, verbose=0)[np.arange(8), y]
    base = patch_cnn.model.predict(np.zeros_like(X), verbose=0)[np.arange(8), y]
    np.testing.assert_allclose(attr.reshape(8, -1).sum(axis=1), out - base, atol=0.02)


def test_grad_cam_of_another_class_and_the_errors(patch_cnn):
    """Check that the true and another class give different maps, a named layer works, and that
    a model without feature maps is refused with a message naming what to use instead."""
    import keras

    X, y, _ = patch_images(4, seed=3)
    own = grad_cam(patch_cnn, X, y, layer="last_conv")
    other = grad_cam(patch_cnn, X, (y + 1) % 4)
    assert not np.allclose(own, other)
    np.testing.assert_allclose(own, grad_cam(patch_cnn, X, y))  # the last conv layer by default
    mlp = keras.Sequential([keras.Input((8,)), keras.layers.Dense(3, activation="softmax")])
    with pytest.raises(H5EvalError, match="no convolutional layer.*integrated_gradients"):
        grad_cam(mlp, np.zeros((1, 8)), [0])
    with pytest.raises(ValueError, match="method must be"):
        saliency_map(mlp, np.zeros((1, 8)), [0], method="lime")


def test_integrated_gradients_in_pieces_equal_whole_paths(patch_cnn, monkeypatch):
    """Check that when the memory budget allows fewer model inputs per pass than one image's
    path (a large model), the path is integrated in pieces with the same result."""
    from h5eval_widgets.core.insight import saliency

    X, y, _ = patch_images(3, seed=4)
    whole = integrated_gradients(patch_cnn, X, y, steps=32, batch_size=3)
    monkeypatch.setattr(saliency, "_rows_per_pass", lambda model, images, batch_size: 10)
    np.testing.assert_allclose(integrated_gradients(patch_cnn, X, y, steps=32), whole, rtol=1e-4, atol=1e-6)


def _hand_grad_cam(sub, head, x, classes):
    """Grad-CAM the Keras examples' way: ``sub`` gives (feature maps, features), ``head`` the
    rest of the model."""
    import tensorflow as tf

    with tf.GradientTape() as tape:
        fmap, feats = sub(x)
        score = tf.gather(head(feats), classes, axis=1, batch_dims=1)
    weights = tf.reduce_mean(tape.gradient(score, fmap), axis=(1, 2), keepdims=True)
    cam = tf.nn.relu(tf.reduce_sum(fmap * weights, axis=-1, keepdims=True))
    cam = tf.image.resize(cam, x.shape[1:3])[..., 0].numpy()
    top = cam.reshape(len(cam), -1).max(axis=1)
    return cam / np.where(top > 0, top, 1)[:, None, None]


def test_grad_cam_reaches_into_a_nested_base_model():
    """Check that a transfer-learning model (a keras.applications base nested in a Sequential or
    in a functional chain) is explained on the base's last conv layer, equal to the Keras
    examples' way through the base's own graph, also when the outer model branches after the base."""
    import keras

    keras.utils.set_random_seed(0)
    base = keras.applications.MobileNetV2(weights=None, include_top=False, input_shape=(32, 32, 3))
    pool, dense = keras.layers.GlobalAveragePooling2D(), keras.layers.Dense(3, activation="softmax")
    seq = keras.Sequential([keras.Input((32, 32, 3)), base, pool, dense])
    inp = keras.Input((32, 32, 3))
    chain = keras.Model(inp, dense(pool(base(keras.layers.Rescaling(1 / 255)(inp)))))
    x = np.random.default_rng(0).uniform(0, 1, (3, 32, 32, 3)).astype(np.float32)
    classes = np.array([0, 1, 2])
    conv = base.get_layer("Conv_1")
    hand = _hand_grad_cam(keras.Model(base.input, [conv.output, base.output]), lambda f: dense(pool(f)), x, classes)
    np.testing.assert_allclose(grad_cam(seq, x, classes), hand, atol=1e-5)
    np.testing.assert_allclose(grad_cam(chain, x * 255, classes), hand, atol=1e-4)
    a = base(inp)
    gap, gmp, cat = keras.layers.GlobalAveragePooling2D(), keras.layers.GlobalMaxPooling2D(), keras.layers.Concatenate()
    head = keras.layers.Dense(3)
    branching = keras.Model(inp, head(cat([gap(a), gmp(a)])))
    hand = _hand_grad_cam(
        keras.Model(base.input, [conv.output, base.output]), lambda f: head(cat([gap(f), gmp(f)])), x, classes
    )
    np.testing.assert_allclose(grad_cam(branching, x, classes), hand, atol=1e-5)


def test_evaluation_saliency_is_computed_once_per_sample_class_and_method(patch_cnn, tmp_path):
    """Check ``ev.saliency`` of an evaluation built from the model file: the predicted and the
    true class's maps equal ``grad_cam``/``saliency_map`` on the same images, a second call is
    read from memory, and evaluations without their model, or of non-image models, say why
    there is no saliency."""
    from h5eval_widgets.core import Evaluation

    X, y, _ = patch_images(40, seed=5)
    # two planted mistakes: labelled one class past what the model predicts (it may get all right)
    y[[38, 39]] = (patch_cnn.model.predict(X[[38, 39]], verbose=0).argmax(1) + 1) % 4
    ev = Evaluation.from_model(patch_cnn, X, y, progress=False, cache=False)
    wrong = np.flatnonzero(ev.y_pred != ev.y_true)
    assert {38, 39} <= set(wrong.tolist())
    idx = np.r_[np.arange(6), 38, 39]
    pred = ev.saliency(idx)
    np.testing.assert_allclose(pred, grad_cam(patch_cnn, X[idx], ev.y_pred[idx]), atol=1e-6)
    true = ev.saliency(idx, target="true", method="integrated_gradients")
    np.testing.assert_allclose(true, saliency_map(patch_cnn, X[idx], y[idx], method="integrated_gradients"), atol=1e-6)
    predicted_ig = saliency_map(patch_cnn, X[idx[-2:]], ev.y_pred[idx[-2:]], method="integrated_gradients")
    assert not np.allclose(true[-2:], predicted_ig, atol=1e-3)  # the mistakes' true class is another map
    computed = ev.explainer.computed
    assert computed == 2 * len(idx)
    np.testing.assert_array_equal(ev.saliency(idx[::-1]), pred[::-1])
    np.testing.assert_array_equal(ev.saliency(int(idx[0])), pred[0])
    assert ev.explainer.computed == computed  # read from memory
    sub = ev.subset(idx[2:5], "three")  # a slice's sample 0 is the dataset's row idx[2]
    np.testing.assert_array_equal(sub.saliency(0), pred[2])
    assert ev.explainer.computed == computed
    np.testing.assert_allclose(ev.saliency(idx[:2], target=3), grad_cam(patch_cnn, X[idx[:2]], [3, 3]), atol=1e-5)
    with pytest.raises(IndexError, match=r"\[0, 39\]"):
        ev.saliency(40)
    bare = Evaluation.from_predictions(y, ev.y_proba)
    with pytest.raises(H5EvalError, match="without its model.*from_model"):
        bare.saliency(0)


def test_saliency_of_a_tabular_model_is_refused(multiclass_h5, blobs):
    """Check that a model fed table rows says saliency is drawn over images."""
    from h5eval_widgets.core import Evaluation

    _, _, X, y = blobs
    ev = Evaluation.from_model(multiclass_h5, X, y, progress=False, cache=False)
    with pytest.raises(H5EvalError, match="not \\(height, width, channels\\)"):
        ev.saliency(0)
