"""Exceptions raised by the engine; each message names the problem, what was expected and the fix."""

from __future__ import annotations

__all__ = [
    "H5EvalError",
    "ModelLoadError",
    "UnsafeModelError",
    "WeightsOnlyError",
    "DatasetError",
    "LabelError",
    "ShapeMismatchError",
    "CacheError",
    "EmbeddingError",
    "MissingDependencyError",
    "TagsError",
    "ClusterError",
    "DataWarning",
]


class H5EvalError(Exception):
    """Base class of every error this package raises on purpose."""


class ModelLoadError(H5EvalError, ValueError):
    """A model file could not be opened or understood."""


class UnsafeModelError(ModelLoadError):
    """The model carries code (a Lambda layer or similar) and ``trust_code`` was not given."""


class WeightsOnlyError(ModelLoadError):
    """The file holds weights but no architecture."""


class DatasetError(H5EvalError, ValueError):
    """A dataset could not be read, or its contents do not fit."""


class LabelError(DatasetError):
    """Labels do not fit the model's classes or the task."""


class ShapeMismatchError(DatasetError):
    """The inputs do not have the shape the model expects."""


class CacheError(H5EvalError):
    """The prediction cache could not be used (never raised for a corrupt entry: it is recomputed)."""


class TagsError(H5EvalError, ValueError):
    """A sample tag is refused (empty), or the tags file cannot be read."""


class EmbeddingError(H5EvalError, ValueError):
    """The activations asked for (a named layer, the penultimate layer) cannot be read from this
    model; the message names the layers there are."""


class MissingDependencyError(H5EvalError, ImportError):
    """An optional package is needed (the message names the ``pip install`` that brings it)."""


class ClusterError(H5EvalError):
    """Inference on a Dask cluster could not start or finish (no client, workers lost)."""


class DataWarning(UserWarning):
    """Data that is accepted but looks like a mistake (boxes in another format than the one
    read, masks that look like colours); the same text is kept in the evaluation's notes."""
