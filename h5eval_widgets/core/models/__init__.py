"""Stage 2 of the engine: model files loaded safely, and what a model takes and gives.

Takes a ``.h5`` (Keras 2 or 3), ``.keras`` or SavedModel path, or a model in memory. Gives a
:class:`~.loading.LoadedModel` (the callable model, its fingerprint for the cache) with its
:class:`~.info.ModelInfo` (inputs, outputs, activation, task hint). A file's config is read and
checked for embedded code before Keras opens it (:mod:`.files`); nothing runs code from a model
unless the user passes ``trust_code=True``.
"""

from .info import ModelInfo
from .loading import LoadedModel, load_model

__all__ = ["LoadedModel", "ModelInfo", "load_model"]
