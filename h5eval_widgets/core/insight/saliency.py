"""What an image model looked at: Grad-CAM and integrated gradients, in batches, with TensorFlow's
``GradientTape`` (TensorFlow is imported when these run).

Both explain one class per image (the predicted one, or the true one, side by side in the
dashboard). :func:`grad_cam` weights the last convolutional layer's maps by the class score's
gradient (Selvaraju et al., as in the Keras examples); :func:`integrated_gradients` integrates
the input gradients along a straight path from a baseline (Sundararajan et al.), so its
attributions add up to the score's difference from the baseline (completeness).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import H5EvalError

__all__ = ["grad_cam", "integrated_gradients", "saliency_map", "attribution_maps", "last_conv_layer"]


def _keras_model(model):
    model = getattr(model, "model", model)  # a LoadedModel's Keras model
    if not hasattr(model, "layers"):
        raise H5EvalError("Saliency needs a Keras model (a SavedModel endpoint has no layers to look into).")
    return model


def _is_conv(layer) -> bool:
    try:
        return len(tuple(layer.output.shape)) == 4 and "conv" in type(layer).__name__.lower()
    except (AttributeError, ValueError):
        return False


def _find_conv(model, name: str | None) -> tuple[Any, Any]:
    """``(convolutional layer, nested model holding it or None)``: the layer named ``name``
    (at the top level or inside a nested model), else the last one with 2-D feature maps, also
    inside a nested base model (``Sequential([MobileNetV2(include_top=False), ...])``)."""
    for layer in reversed(model.layers):
        inner = getattr(layer, "layers", None)
        if name is not None:
            if layer.name == name:
                return layer, None
            if inner:
                found = [lay for lay in inner if lay.name == name]
                if found:
                    return found[0], layer
            continue
        if _is_conv(layer):
            return layer, None
        if inner:
            try:
                return last_conv_layer(layer), layer
            except H5EvalError:
                continue
    if name is not None:
        raise H5EvalError(f"The model has no layer named {name!r}; leave layer=None for its last convolutional layer.")
    raise H5EvalError(
        "The model has no convolutional layer with 2-D feature maps, so Grad-CAM does "
        "not apply (it is for image models); use method='integrated_gradients'."
    )


def last_conv_layer(model) -> Any:
    """The last layer whose output is a 2-D feature map (``(batch, h, w, channels)``), at the
    top level of the model or inside a nested base model; raises when there is none (not an
    image model)."""
    return _find_conv(_keras_model(model), None)[0]


#: A gradient pass keeps every layer's output for the backward pass, and the backward pass
#: as much again: rows per pass are sized as for prediction, with this much more memory a row.
GRADIENT_FACTOR = 2


def _rows_per_pass(model, images: np.ndarray, batch_size: int | None) -> int:
    """Model inputs per gradient pass: ``batch_size``, else sized from the memory budget and the
    model's largest layer output, as prediction's batches are (see :mod:`h5eval_widgets.core.inference.batching`)."""
    if batch_size:
        return int(batch_size)
    from ..inference.batching import rows_per_call
    from ..models.info import _activation_bytes

    row_bytes = int(np.prod(images.shape[1:])) * 4
    return rows_per_call(GRADIENT_FACTOR * row_bytes, GRADIENT_FACTOR * (_activation_bytes(model) or 0))


def _class_score(tf, out, classes):
    """Each row's output for its class; a single sigmoid unit (binary) is class 1's score, and
    its negative class 0's."""
    if isinstance(out, (list, tuple)):
        out = out[0]
    if out.shape[-1] == 1:
        sign = tf.constant(np.where(np.asarray(classes) == 1, 1.0, -1.0), dtype=out.dtype)
        return out[:, 0] * sign
    return tf.gather(out, classes, axis=1, batch_dims=1)


def grad_cam(
    model, images: np.ndarray, classes, *, layer: str | None = None, batch_size: int | None = None
) -> np.ndarray:
    """Grad-CAM maps of ``classes`` (one per image), at the images' height and width.

    Parameters
    ----------
    model : keras.Model or LoadedModel
    images : ndarray of shape (n, h, w, channels)
        As the model takes them (preprocessed).
    classes : array-like of int, shape (n,)
    layer : str, default=None
        The convolutional layer to explain (default: the last one, see :func:`last_conv_layer`).
    batch_size : int, default=None
        Images per gradient pass (default: sized for the model's memory).

    Returns
    -------
    ndarray of shape (n, h, w)
        Non-negative maps, each scaled to a maximum of 1 (all zeros when nothing pushes the
        class up).
    """
    import tensorflow as tf
    import keras

    model = _keras_model(model)
    conv, nested = _find_conv(model, layer)
    images = np.asarray(images, dtype=np.float32)
    explainer = _maps_and_outputs(keras, model, conv, nested, images[:1])
    classes = np.asarray(classes, dtype=np.int64)
    h, w = images.shape[1:3]
    batch_size = _rows_per_pass(model, images, batch_size)
    maps = []
    for s in range(0, len(images), batch_size):
        x = tf.convert_to_tensor(images[s : s + batch_size])
        with tf.GradientTape() as tape:
            fmap, out = explainer(x, training=False)
            score = _class_score(tf, out, classes[s : s + batch_size])
        grads = tape.gradient(score, fmap)
        weights = tf.reduce_mean(grads, axis=(1, 2), keepdims=True)
        cam = tf.nn.relu(tf.reduce_sum(fmap * weights, axis=-1, keepdims=True))
        cam = tf.image.resize(cam, (h, w), method="bilinear")[..., 0].numpy()
        maps.append(unit_max(cam))
    return np.concatenate(maps) if maps else np.zeros((0, h, w), np.float32)


def _maps_and_outputs(keras, model, conv, nested=None, probe=None):
    """A function of a batch giving ``(conv's feature maps, the model's outputs)`` in one pass.

    A Sequential model runs layer by layer: one read back from a Keras 2 ``.h5`` file has layer
    outputs that are not connected to its outputs, so a model built from them has no gradient.
    A conv layer inside a nested base model is reached through that model's own graph, and the
    outer model is then run layer by layer, which is checked on ``probe`` to give the model's
    own outputs (a functional model that is not a chain of layers is refused).
    """
    if nested is None and not isinstance(model, keras.Sequential):
        return keras.Model(model.inputs, [conv.output, model.outputs[0]])
    inner = None if nested is None else keras.Model(nested.inputs, [conv.output, nested.outputs[0]])
    chain = [lay for lay in model.layers if not isinstance(lay, keras.layers.InputLayer)]

    def run(x, training=False):
        fmap = None
        for lay in chain:
            if lay is nested:
                fmap, x = inner(x, training=training)
            else:
                x = lay(x, training=training)
                if lay is conv:
                    fmap = x
        return fmap, x

    if not isinstance(model, keras.Sequential) and probe is not None:
        want = np.asarray(model(probe, training=False))
        try:
            got = np.asarray(run(probe)[1])
        except (ValueError, TypeError):  # a layer given another layer's output
            got = None
        if got is None or want.shape != got.shape or not np.allclose(want, got, atol=1e-4):
            raise H5EvalError(
                f"The last feature maps are inside the nested model {nested.name!r}, and the outer "
                "model is not a plain chain of layers, so Grad-CAM cannot reach them; name a top-level "
                "convolutional layer with layer=..., or use method='integrated_gradients'."
            )
    return run


def integrated_gradients(
    model,
    images: np.ndarray,
    classes,
    *,
    baseline: np.ndarray | float = 0.0,
    steps: int = 64,
    batch_size: int | None = None,
) -> np.ndarray:
    """Integrated-gradients attributions of ``classes`` to every input value.

    The gradient of the class's output is averaged over ``steps`` points from ``baseline`` to
    the image (trapezoid rule) and multiplied by ``image - baseline``; the attributions of an
    image add up to its output minus the baseline's output, up to the integration error.

    Parameters
    ----------
    model : keras.Model or LoadedModel
    images : ndarray of shape (n, ...)
    classes : array-like of int, shape (n,)
    baseline : ndarray or float, default=0.0
        A black image by default.
    steps : int, default=64
    batch_size : int, default=None
        Images per pass (each pass runs ``steps + 1`` points per image); default: as many as
        the model's memory budget allows.

    Returns
    -------
    ndarray of the images' shape
        Signed attributions.
    """
    import tensorflow as tf

    model = _keras_model(model)
    images = np.asarray(images, dtype=np.float32)
    classes = np.asarray(classes, dtype=np.int64)
    base = np.broadcast_to(np.asarray(baseline, dtype=np.float32), images.shape[1:])
    alphas = np.linspace(0.0, 1.0, steps + 1, dtype=np.float32)
    weights = np.full(steps + 1, 1.0 / steps, np.float32)
    weights[[0, -1]] /= 2  # trapezoid
    # model inputs per pass: whole paths of several images, or a path in pieces when one path
    # of a large model's images is more than the memory budget allows
    rows = _rows_per_pass(model, images, batch_size and batch_size * (steps + 1))
    per_pass, piece = max(1, rows // (steps + 1)), min(steps + 1, max(1, rows))
    out = []
    for s in range(0, len(images), per_pass):
        x = images[s : s + per_pass]
        c = classes[s : s + per_pass]
        avg = np.zeros_like(x)
        for a in range(0, steps + 1, piece):
            al = alphas[a : a + piece].reshape((-1,) + (1,) * images.ndim)
            flat = tf.convert_to_tensor((base + al * (x[None] - base)).reshape(-1, *images.shape[1:]))
            with tf.GradientTape() as tape:
                tape.watch(flat)
                score = _class_score(tf, model(flat, training=False), np.tile(c, len(al)))
            grads = tape.gradient(score, flat).numpy().reshape(len(al), *x.shape)
            avg += np.tensordot(weights[a : a + piece], grads, axes=1)
        out.append(avg * (x - base))
    return np.concatenate(out) if out else np.zeros_like(images)


def unit_max(maps: np.ndarray) -> np.ndarray:
    """Each map of ``maps`` (n, h, w) divided by its maximum (all-zero maps stay zero)."""
    top = maps.reshape(len(maps), -1).max(axis=1)
    return maps / np.where(top > 0, top, 1)[:, None, None]


def attribution_maps(attr: np.ndarray) -> np.ndarray:
    """Signed attributions (n, h, w[, channels]) as maps to draw: absolute values summed over
    the channels, each scaled to a maximum of 1."""
    attr = np.abs(attr)
    return unit_max(attr.sum(axis=-1) if attr.ndim == 4 else attr)


def saliency_map(model, images: np.ndarray, classes, *, method: str = "gradcam", **options) -> np.ndarray:
    """One non-negative map per image, scaled to a maximum of 1, for drawing over it:
    Grad-CAM's map, or the absolute integrated gradients summed over the channels."""
    if method == "gradcam":
        return grad_cam(model, images, classes, **options)
    if method == "integrated_gradients":
        return attribution_maps(integrated_gradients(model, images, classes, **options))
    raise ValueError(f"method must be 'gradcam' or 'integrated_gradients'; got {method!r}.")
