"""The one seam to the Keras backend: the only module that calls TensorFlow's, JAX's or
PyTorch's own API to run or differentiate a model.

Keras 3 runs one model API over three backends, chosen the Keras way (``KERAS_BACKEND`` or
``~/.keras/keras.json``) before Keras is first imported. Everything else in the package is
backend-neutral Keras and NumPy: it hands this module a function of a batch that calls the
model's layers, and gets back a compiled function giving NumPy arrays.

- **TensorFlow**: ``tf.function`` with an input signature, so every batch size shares one trace.
- **JAX**: ``jax.jit`` over a *stateless* call: the model's variables are arguments of the
  compiled function (Keras's ``StatelessScope``), not constants baked into it, so one
  compilation serves a model whose weights change while it trains (the training recorder)
  and the weights are not copied into the executable.
- **PyTorch**: the call under ``torch.no_grad()``, at most :data:`TORCH_ROWS` rows at a time
  (PyTorch runs each op eagerly, each making a new array); gradients with ``torch.autograd``.

A TensorFlow SavedModel endpoint is TensorFlow's own function, not Keras layers, and runs on
TensorFlow whatever the Keras backend (TensorFlow is always installed).
"""

from __future__ import annotations

import os
from typing import Any, Callable

import numpy as np

from .._lazy import BACKEND_NOTE, keras_backend
from ..errors import ModelLoadError

__all__ = [
    "backend_name",
    "describe",
    "note",
    "run_key",
    "compiled",
    "gradient_fn",
    "to_numpy",
    "sees_gpu",
    "resize_bilinear",
    "tf_only_layers",
    "refuse_tf_only",
    "check_runs_here",
    "TF_ONLY_LAYERS",
]

#: Keras layers built on TensorFlow ops: they cannot run inside a JAX or PyTorch model call
#: (Keras documents them as usable only in a tf.data pipeline on the other backends).
TF_ONLY_LAYERS = ("TextVectorization", "StringLookup", "IntegerLookup")


def backend_name() -> str:
    """The Keras backend of this process: ``'tensorflow'``, ``'jax'`` or ``'torch'`` (read the
    Keras way without importing Keras; see :func:`~h5eval_widgets.core._lazy.keras_backend`)."""
    return keras_backend()


def describe() -> str:
    """The backend and its version, and Keras's, for notes and reports:
    ``'jax 0.10.2 (Keras 3.15.1)'`` (read from the installed packages, nothing imported)."""
    from importlib.metadata import PackageNotFoundError, version

    name = backend_name()

    def ver(package: str) -> str:
        try:
            return version(package)
        except PackageNotFoundError:
            return "?"

    return f"{name} {ver(name)} (Keras {ver('keras')})"


def note() -> str:
    """The note every evaluation starts with: ``'Keras backend: jax 0.10.2 (Keras 3.15.1).'``."""
    return f"{BACKEND_NOTE} {describe()}."


def run_key(fingerprint: str) -> str:
    """A model's fingerprint for the prediction cache: outputs are kept per backend (they differ
    in the last bits, and the notes name the backend that made them); TensorFlow's keep the
    plain fingerprint, so caches written before backends were told apart stay valid."""
    name = backend_name()
    return fingerprint if name == "tensorflow" else f"{fingerprint}|{name}"


def _is_tf_function(model: Any) -> bool:
    """A TensorFlow callable (a SavedModel endpoint) rather than Keras layers."""
    return bool(getattr(model, "runs_on_tensorflow", False)) or type(model).__name__ == "TFSMLayer"


def tf_only_layers(model: Any) -> list[tuple[str, str]]:
    """``(layer name, class name)`` of the layers in ``model`` (nested models included) that run
    on TensorFlow only."""
    found, seen, todo = [], set(), [model]
    while todo:
        m = todo.pop()
        for lay in getattr(m, "layers", None) or []:
            if id(lay) in seen:
                continue
            seen.add(id(lay))
            if type(lay).__name__ in TF_ONLY_LAYERS:
                found.append((lay.name, type(lay).__name__))
            if getattr(lay, "layers", None):
                todo.append(lay)
    return found


def check_runs_here(model: Any, name: str) -> None:
    """Raise one clear error when ``model`` holds a layer that this backend cannot run (see
    :func:`refuse_tf_only`)."""
    if not _is_tf_function(model):
        refuse_tf_only(tf_only_layers(model), name)


def refuse_tf_only(layers: list[tuple[str, str]], name: str) -> None:
    """Raise one clear error for the first of ``layers`` (``(layer name, class name)`` of
    TensorFlow-only layers, from a built model or a saved config) off the TensorFlow backend.

    Raises
    ------
    ModelLoadError
        Naming the layer, the backend in use and the one that runs it.
    """
    backend = backend_name()
    if layers and backend != "tensorflow":
        layer, cls = layers[0]
        raise ModelLoadError(
            f"{name} has a {cls} layer ({layer!r}), which Keras runs on TensorFlow only, and the Keras "
            f"backend here is {backend}. Run with KERAS_BACKEND=tensorflow (set before Keras is "
            f"imported), or apply the {cls} layer to the data in a tf.data pipeline and evaluate "
            "the rest of the model (from the layer after it) on its outputs."
        )


def sees_gpu() -> bool:
    """Whether the backend, once imported, runs on a GPU (nothing is imported to ask)."""
    import sys

    name = backend_name()
    try:
        if name == "tensorflow" and "tensorflow" in sys.modules:
            return bool(sys.modules["tensorflow"].config.list_logical_devices("GPU"))
        if name == "jax" and "jax" in sys.modules:
            return sys.modules["jax"].default_backend() != "cpu"
        if name == "torch" and "torch" in sys.modules:
            return bool(sys.modules["torch"].cuda.is_available())
    except Exception:  # noqa: BLE001 - a backend that cannot say: size for the host
        return False
    return False


def resize_bilinear(x: np.ndarray, size) -> np.ndarray:
    """Images or maps ``(n, h, w, c)`` at ``size`` (bilinear, half-pixel centres, no
    antialiasing: ``tf.image.resize``'s default), in Keras ops on any backend, as NumPy."""
    from keras import ops

    return to_numpy(ops.image.resize(x, tuple(int(v) for v in size), interpolation="bilinear", antialias=False))


def to_numpy(x: Any) -> np.ndarray:
    """A backend tensor (or a TensorFlow tensor from a tf.data pipeline) as a NumPy array."""
    if isinstance(x, np.ndarray):
        return x
    if hasattr(x, "detach"):  # torch
        return x.detach().cpu().numpy()
    return np.asarray(x)


def _host(x: Any) -> Any:
    """Inputs as NumPy for JAX and PyTorch (tf.data gives TensorFlow tensors)."""
    if isinstance(x, dict):
        return {k: _host(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return type(x)(_host(v) for v in x)
    return x if isinstance(x, np.ndarray) else np.asarray(x)


def _tree_numpy(out: Any) -> Any:
    if isinstance(out, (list, tuple)):
        return type(out)(_tree_numpy(o) for o in out)
    if isinstance(out, dict):
        return {k: _tree_numpy(v) for k, v in out.items()}
    return to_numpy(out)


def _tf_spec(tf, shape, dtype):
    return tf.TensorSpec((None, *shape), tf.string if np.dtype(dtype).kind == "U" else dtype)


def compiled(fn: Callable[[Any], Any], model: Any, signature) -> Callable[[Any], Any]:
    """``fn`` (a batch -> outputs, calling ``model``'s layers) compiled for this backend.

    Parameters
    ----------
    fn : callable
        Of one batch (an array or a dict of arrays by input name); returns a tensor or a
        tuple of tensors. It must only read ``model``'s variables, never assign them.
    model : keras.Model, keras.layers.Layer or a SavedModel endpoint
        Whose variables ``fn`` reads.
    signature : tuple or dict
        ``(row_shape, dtype)`` of the input, or such a pair per input name. TensorFlow traces
        once for it (any batch size); JAX compiles once per batch shape, as ``model.predict``.

    Returns
    -------
    callable
        Batch -> the same structure as ``fn``'s, as NumPy arrays.
    """
    backend = backend_name()
    if backend == "tensorflow" or _is_tf_function(model):
        return _compiled_tf(fn, signature)
    if backend == "jax":
        return _compiled_jax(fn, model)
    if backend == "torch":
        return _compiled_torch(fn)
    raise NotImplementedError(
        f"The Keras backend {backend!r} is not one this package runs on; set KERAS_BACKEND to "
        "'tensorflow', 'jax' or 'torch'."
    )


def _compiled_tf(fn, signature):
    import logging

    import tensorflow as tf

    tf_logger = logging.getLogger("tensorflow")
    if _RETRACING_FILTER not in tf_logger.filters:
        tf_logger.addFilter(_RETRACING_FILTER)
    if isinstance(signature, dict):
        specs = {n: _tf_spec(tf, s, d) for n, (s, d) in signature.items()}
    else:
        specs = _tf_spec(tf, *signature)
    graph = tf.function(fn, input_signature=[specs])

    def run(x):
        return _tree_numpy(graph(x))

    return run


def _stateless(fn, model):
    """``(pure, variables)``: ``pure(values, *args)`` runs ``fn(*args)`` with ``model``'s
    variables read from ``values`` (Keras's ``StatelessScope``), a function JAX can compile and
    differentiate with the weights as arguments."""
    import keras

    variables = list(getattr(model, "variables", None) or [])

    def pure(values, *args):
        with keras.StatelessScope(state_mapping=list(zip(variables, values))):
            return fn(*args)

    return pure, variables


def _compiled_jax(fn, model):
    import jax

    pure, variables = _stateless(fn, model)
    jitted = jax.jit(pure)

    def run(x):
        # the variables' current values, read at each call: a model that trains between calls
        # (the training recorder) is seen as it is now, with no new compilation
        return _tree_numpy(jitted([v.value for v in variables], _host(x)))

    return run


#: Rows per eager PyTorch call at most: PyTorch runs each Keras op on its own, making a new
#: array per op, so a 100,000-row call of a small MLP peaked 61 MB higher and 4,096-row calls
#: 15 MB higher, at the same speed (measured with benchmarks/backends.py).
TORCH_ROWS = 4096


def _compiled_torch(fn):
    import torch

    def call(x):
        with torch.no_grad():
            return _tree_numpy(fn(x))

    def run(x):
        x = _host(x)
        n = len(next(iter(x.values()))) if isinstance(x, dict) else len(x)
        if n <= TORCH_ROWS:
            return call(x)
        out = None  # filled slice by slice: the parts and their concatenation are never both held
        for s in range(0, n, TORCH_ROWS):
            part = call(
                {k: v[s : s + TORCH_ROWS] for k, v in x.items()} if isinstance(x, dict) else x[s : s + TORCH_ROWS]
            )
            parts = part if isinstance(part, tuple) else (part,)
            if out is None:
                out = tuple(np.empty((n, *p.shape[1:]), p.dtype) for p in parts)
            for whole, p in zip(out, parts):
                whole[s : s + len(p)] = p
        return out if isinstance(part, tuple) else out[0]

    return run


def gradient_fn(fn: Callable[..., Any], model: Any, wrt: int = 0) -> Callable[..., tuple[np.ndarray, Any]]:
    """The gradient of ``fn``'s scalar with respect to its argument number ``wrt``.

    Parameters
    ----------
    fn : callable
        ``fn(*arrays) -> (scalar, aux)``: a scalar to differentiate (a sum of per-sample scores,
        so each sample's gradient is its own) and anything else from the same pass.
    model : keras.Model
        Whose variables ``fn`` reads (held constant).
    wrt : int, default=0

    Returns
    -------
    callable
        ``(*arrays) -> (gradient as NumPy, aux as NumPy)``.
    """
    backend = backend_name()
    if backend == "tensorflow":
        import tensorflow as tf

        def tf_grad(*args):
            args = [tf.convert_to_tensor(a) for a in args]
            with tf.GradientTape() as tape:
                tape.watch(args[wrt])
                score, aux = fn(*args)
            return to_numpy(tape.gradient(score, args[wrt])), _tree_numpy(aux)

        return tf_grad
    if backend == "jax":
        import jax

        pure, variables = _stateless(fn, model)
        grad = jax.jit(jax.grad(pure, argnums=wrt + 1, has_aux=True))

        def jax_grad(*args):
            g, aux = grad([v.value for v in variables], *[np.asarray(a) for a in args])
            return to_numpy(g), _tree_numpy(aux)

        return jax_grad
    if backend == "torch":
        import keras
        import torch

        def torch_grad(*args):
            args = [keras.ops.convert_to_tensor(np.asarray(a)) for a in args]
            args[wrt] = args[wrt].detach().requires_grad_(True)
            score, aux = fn(*args)
            (g,) = torch.autograd.grad(score, args[wrt])
            return to_numpy(g), _tree_numpy(aux)

        return torch_grad
    raise NotImplementedError(f"No gradients on the Keras backend {backend!r}.")


class _OwnRetracingFilter:
    """Drops TensorFlow's retracing warning about our compiled passes, and only that one.

    Each model gets its own compiled forward pass by design, but TensorFlow counts traces by
    the Python function's code, so a sixth model in one session warns of "excessive
    retracing" that is not happening.
    """

    def filter(self, record) -> bool:
        message = record.getMessage()
        return not ("retracing" in message and "_forward_fn" in message)


_RETRACING_FILTER = _OwnRetracingFilter()


def worker_environment() -> dict[str, str]:
    """What a Dask worker must set before importing Keras to run on this process's backend."""
    return {"KERAS_BACKEND": backend_name()}


def adopt_environment(env: dict[str, str]) -> None:
    """Set a client's backend on this (worker) process, before Keras is imported here.

    Raises
    ------
    RuntimeError
        Keras was already imported here with another backend.
    """
    import sys

    want = env.get("KERAS_BACKEND")
    if not want:
        return
    if "keras" in sys.modules:
        have = sys.modules["keras"].backend.backend()
        if have != want:
            raise RuntimeError(
                f"This Dask worker already runs Keras on {have}, and the client runs on {want}; "
                f"start the workers with KERAS_BACKEND={want} set (or a fresh cluster)."
            )
        return
    os.environ["KERAS_BACKEND"] = want
