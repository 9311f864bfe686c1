"""What ``preprocess=`` means: ``'auto'``, a factor, a function, or a ``keras.applications``
family's ``preprocess_input``."""

from __future__ import annotations

import hashlib
import re
from typing import Callable

import numpy as np

from ..errors import DatasetError

__all__ = ["resolve_preprocess", "APPLICATION_FAMILIES"]

#: ``keras.applications`` modules that have a ``preprocess_input``.
APPLICATION_FAMILIES = (
    "convnext",
    "densenet",
    "efficientnet",
    "efficientnet_v2",
    "inception_resnet_v2",
    "inception_v3",
    "mobilenet",
    "mobilenet_v2",
    "mobilenet_v3",
    "nasnet",
    "resnet",
    "resnet50",
    "resnet_v2",
    "vgg16",
    "vgg19",
    "xception",
)


def _family(name: str) -> str:
    squash = re.sub(r"[^a-z0-9]", "", name.lower())
    by_squash = {f.replace("_", ""): f for f in APPLICATION_FAMILIES}
    if squash in by_squash:
        return by_squash[squash]
    prefixes = [s for s in by_squash if squash.startswith(s)]  # efficientnetb0 -> efficientnet
    if prefixes:
        return by_squash[max(prefixes, key=len)]
    raise DatasetError(
        f"preprocess={name!r} is not a keras.applications family; use one of "
        f"{', '.join(APPLICATION_FAMILIES)}, 'auto', a number to multiply by, or a function."
    )


def _code_id(fn: Callable) -> str:
    code = getattr(fn, "__code__", None)
    body = hashlib.sha256(code.co_code + repr(code.co_consts).encode()).hexdigest()[:16] if code else ""
    return f"{getattr(fn, '__module__', '')}.{getattr(fn, '__qualname__', type(fn).__name__)}:{body}"


def resolve_preprocess(
    spec, *, images: bool, model_rescales: bool
) -> tuple[Callable[[np.ndarray], np.ndarray] | None, str | None, str]:
    """``(function or None, note or None, cache id)`` for a ``preprocess=`` value.

    None: as given. ``'auto'``: images are scaled to [0, 1] unless the model begins with a
    ``Rescaling`` or ``Normalization`` layer (then raw pixels); other inputs are fed as given.
    """
    if spec is None:
        return None, None, "none"
    if isinstance(spec, str) and spec == "auto":
        if not images:
            return None, None, "none"
        if model_rescales:
            return None, "Pixels fed as 0-255: the model begins with its own Rescaling/Normalization.", "raw"
        spec = 1 / 255
    if isinstance(spec, (int, float)) and not isinstance(spec, bool):
        factor = np.float32(spec)
        return (lambda x: np.multiply(x, factor, out=x)), f"Inputs multiplied by {factor:g}.", f"x{float(spec)!r}"
    if isinstance(spec, str):
        family = _family(spec)
        import importlib

        from .._lazy import _quiet_tf

        _quiet_tf()
        fn = importlib.import_module(f"keras.applications.{family}").preprocess_input
        return fn, f"Inputs preprocessed with keras.applications.{family}.preprocess_input.", f"app:{family}"
    if callable(spec):
        name = getattr(spec, "__qualname__", type(spec).__name__)
        return spec, f"Inputs preprocessed with {name}.", _code_id(spec)
    raise DatasetError(
        f"preprocess={spec!r} is not understood; use 'auto', a number, a keras.applications "
        "family name such as 'mobilenet_v2', or a function of a batch."
    )
