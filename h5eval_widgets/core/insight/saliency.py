"""What an image model looked at: Grad-CAM and integrated gradients, in batches, on whichever
Keras backend runs (the gradients come from the backend seam, :mod:`~h5eval_widgets.core.inference.backend`:
``tf.GradientTape``, ``jax.grad`` or ``torch.autograd``).

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
from ..inference.backend import gradient_fn, resize_bilinear, to_numpy

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


def _class_score(out, classes):
    """Each row's output for its class, summed over the rows (each row's gradient is its own);
    a single sigmoid unit (binary) is class 1's score, and its negative class 0's."""
    from keras import ops

    if isinstance(out, (list, tuple)):
        out = out[0]
    classes = ops.convert_to_tensor(classes)
    if out.shape[-1] == 1:
        sign = ops.where(ops.equal(classes, 1), 1.0, -1.0)
        return ops.sum(ops.cast(out[:, 0], "float32") * sign)
    return ops.sum(ops.cast(ops.take_along_axis(out, ops.expand_dims(classes, 1), axis=1), "float32"))


def grad_cam(
    model, images: np.ndarray, classes, *, layer: str | None = None, batch_size: int | None = None
) -> np.ndarray:
    """Grad-CAM maps of ``classes`` (one per image), at the images' height and width.

    The feature maps' gradient is read as the gradient of a zero added to them (so it is an
    input of the differentiated function on every backend); the layer may sit inside a nested
    base model and the model may branch after it.

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
    import keras

    model = _keras_model(model)
    conv, _ = _find_conv(model, layer)
    images = np.asarray(images, dtype=np.float32)
    classes = np.asarray(classes, dtype=np.int64)
    h, w = images.shape[1:3]
    if not len(images):
        return np.zeros((0, h, w), np.float32)
    run = _run_with_delta(keras, model, conv)
    shape = _fmap_shape(run, images[:1])
    batch_size = _rows_per_pass(model, images, batch_size)

    def score(x, delta, c):
        fmap, out = run(x, delta)
        return _class_score(out, c), fmap

    grad = gradient_fn(score, model, wrt=1)  # one compiled gradient for every batch
    maps = []
    for s in range(0, len(images), batch_size):
        x, c = images[s : s + batch_size], classes[s : s + batch_size]
        grads, fmap = grad(x, np.zeros((len(x), *shape), np.float32), c)
        weights = grads.mean(axis=(1, 2), keepdims=True)
        cam = np.maximum((fmap * weights).sum(axis=-1, keepdims=True), 0)
        maps.append(unit_max(resize_bilinear(cam.astype(np.float32), (h, w))[..., 0]))
    return np.concatenate(maps)


def _fmap_shape(run, probe) -> tuple[int, ...]:
    """The feature maps' shape for one row (a pass with a zero added of shape ())."""
    fmap, _ = run(probe, np.zeros((), np.float32))
    return tuple(to_numpy(fmap).shape[1:])


def _run_with_delta(keras, model, conv):
    """``run(x, delta) -> (conv's output + delta, the model's first output)`` in one pass.

    A Sequential model runs layer by layer: one read back from a Keras 2 ``.h5`` file has layer
    outputs that are not connected to its outputs. A functional model runs through its own
    graph with the conv layer's call wrapped; a nested model holding the layer is entered the
    same way.
    """
    holder = _holder_of(model, conv)

    def call_op(op, args, kwargs, delta, kept):
        if op is conv:
            kept["fmap"] = keras.ops.add(op(*args, **_inference(op, kwargs)), delta)
            return kept["fmap"]
        if op is holder or (holder is not None and op is not model and _holds(op, conv)):
            return through(op, args[0] if len(args) == 1 else args, delta, kept)
        return op(*args, **_inference(op, kwargs))

    def through(m, x, delta, kept):
        if isinstance(m, keras.Sequential) or not hasattr(m, "_run_through_graph"):
            for lay in m.layers:
                if isinstance(lay, keras.layers.InputLayer):
                    continue
                x = call_op(lay, (x,), {}, delta, kept)
            return x
        inputs = m._standardize_inputs(x) if isinstance(x, dict) else x
        out = m._run_through_graph(inputs, operation_fn=lambda op: lambda *a, **k: call_op(op, a, k, delta, kept))
        while isinstance(out, (list, tuple)) and len(out) == 1:
            out = out[0]
        return out

    def run(x, delta):
        kept = {}
        out = through(model, x, delta, kept)
        if isinstance(out, dict):
            out = list(out.values())[0]
        if isinstance(out, (list, tuple)):
            out = out[0]
        return kept["fmap"], out

    return run


def _inference(op, kwargs: dict) -> dict:
    """``training=False`` for a layer whose call takes it (Keras's own functional call does this)."""
    takes = getattr(op, "_call_context_args", None)
    if takes is None:
        takes = {"training"} if getattr(op, "_call_has_training_arg", False) else set()
    return {**kwargs, "training": False} if "training" in takes else kwargs


def _holds(m, conv) -> bool:
    return any(lay is conv or (getattr(lay, "layers", None) and _holds(lay, conv)) for lay in getattr(m, "layers", ()))


def _holder_of(model, conv):
    """The top-level nested model holding ``conv``, or None when it is a top-level layer."""
    for lay in model.layers:
        if lay is conv:
            return None
        if getattr(lay, "layers", None) and _holds(lay, conv):
            return lay
    return None


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

    def score(points, c):
        return _class_score(model(points, training=False), c), ()

    grad = gradient_fn(score, model)  # one compiled gradient for every piece
    out = []
    for s in range(0, len(images), per_pass):
        x = images[s : s + per_pass]
        c = classes[s : s + per_pass]
        avg = np.zeros_like(x)
        for a in range(0, steps + 1, piece):
            al = alphas[a : a + piece].reshape((-1,) + (1,) * images.ndim)
            flat = (base + al * (x[None] - base)).reshape(-1, *images.shape[1:]).astype(np.float32)
            grads, _ = grad(flat, np.tile(c, len(al)))
            avg += np.tensordot(weights[a : a + piece], grads.reshape(len(al), *x.shape), axes=1)
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
