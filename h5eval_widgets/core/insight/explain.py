"""Saliency of chosen samples: the model's inputs read back for those samples, and their maps
computed in batches and kept per (sample, class, method).

An :class:`Explainer` belongs to one (model, dataset) pair; :func:`~h5eval_widgets.core.pipeline.evaluate_model`
gives each evaluation it builds from a model one, so that ``ev.saliency(i)`` works in Python and
in the dashboard without loading the model again.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from ..errors import H5EvalError

__all__ = ["Explainer", "METHODS", "SALIENCY_CACHE"]

#: The saliency methods, by name, as :func:`~.saliency.saliency_map` takes them.
METHODS = ("gradcam", "integrated_gradients")
#: Maps kept per explainer (a gallery page is 12; a map of a 224x224 input is 200 kB).
SALIENCY_CACHE = 2048
#: Images per pass of the explainer, and per step of its progress bar (shown when there are
#: more): a gallery page (12) is one pass.
PROGRESS_STEP = 32


class Explainer:
    """Model inputs and saliency maps for samples of one dataset under one model.

    Parameters
    ----------
    loaded : LoadedModel
    data : Dataset
        The dataset the model was evaluated on (its rows are read again, one by one, as the
        model was fed them: resized, converted and preprocessed).

    Notes
    -----
    The explainer holds the model, so an evaluation that has one keeps its model in memory.
    """

    def __init__(self, loaded, data):
        self.loaded = loaded
        self.data = data
        self._feed = None
        #: Shape of the maps: the model's input height and width, or the picture's shape for
        #: images fed flat.
        self.picture_shape: tuple = ()
        self._maps: dict[tuple, np.ndarray] = {}
        #: Maps computed (not read from the cache) so far; the tests read it.
        self.computed = 0

    def __repr__(self) -> str:
        return f"Explainer({self.loaded.name!r}, {self.data.name!r}, {len(self._maps)} maps kept)"

    @property
    def feed(self):
        """The dataset matched to the model (see :func:`~h5eval_widgets.core.inference.feed.prepare`), checked to be images
        fed as numbers to one input."""
        if self._feed is None:
            from ..inference.feed import prepare

            if self.data.streamed:
                raise H5EvalError(
                    f"{self.data.name} is a streamed tf.data.Dataset, so its samples "
                    "cannot be read again one by one for saliency; pass arrays or files."
                )
            feed = prepare(self.loaded.info, self.data)
            sig = feed.signature
            if isinstance(sig, dict):
                raise H5EvalError(
                    "Saliency is for models with one image input; this model takes "
                    f"{len(sig)} named inputs ({', '.join(sig)})."
                )
            shape, dtype = sig
            if np.dtype(dtype).kind not in "f":
                raise H5EvalError(
                    f"The model's input is {np.dtype(dtype)} (text or token ids), which "
                    "has no gradient, so saliency does not apply; it is for image models."
                )
            self.picture_shape = tuple(shape[:2])
            if len(shape) != 3:
                picture = np.shape(np.squeeze(self.data.sample(0))) if self.data.kind == "image" else ()
                if len(picture) not in (2, 3) or int(np.prod(picture)) != int(np.prod(shape)):
                    raise H5EvalError(
                        f"Saliency is drawn over images; this model's input rows have shape "
                        f"{tuple(shape)}, not (height, width, channels)."
                    )
                self.picture_shape = picture  # images fed flat (an MLP on pixels)
            self._feed = feed
        return self._feed

    def inputs(self, indices: Sequence[int]) -> np.ndarray:
        """The rows ``indices`` as the model takes them, shape ``(n, height, width, channels)``."""
        feed = self.feed
        rows = [np.asarray(feed.prepare_chunk(feed.read(int(i), int(i) + 1), int(i))) for i in indices]
        return np.concatenate(rows) if rows else np.zeros((0, *feed.signature[0]), np.float32)

    def saliency(
        self,
        indices: Sequence[int],
        classes: Sequence[int],
        *,
        method: str = "gradcam",
        layer: str | None = None,
        progress: bool = True,
    ) -> np.ndarray:
        """One map per sample for the class given with it, scaled to a maximum of 1.

        Maps already computed are read from memory; the others are computed together, in
        passes sized for the model (see :func:`~.saliency.saliency_map`).

        Parameters
        ----------
        indices, classes : sequences of int, of the same length
        method : {'gradcam', 'integrated_gradients'}, default='gradcam'
        layer : str, default=None
            Grad-CAM's convolutional layer (default: the last one).
        progress : bool, default=True
            A progress bar when there are more than :data:`PROGRESS_STEP` maps to compute.

        Returns
        -------
        ndarray of shape (n, height, width)
            At the model's input size.
        """
        if method not in METHODS:
            raise ValueError(f"method must be one of {list(METHODS)}; got {method!r}.")
        self.feed  # noqa: B018 - checks that the model is an image model, once
        indices = [int(i) for i in indices]
        classes = [int(c) for c in classes]
        if len(indices) != len(classes):
            raise ValueError(f"{len(indices)} samples but {len(classes)} classes; give one class per sample.")
        keys = [(i, c, method, layer) for i, c in zip(indices, classes)]
        todo = list(dict.fromkeys(k for k in keys if k not in self._maps))
        got = {k: self._maps[k] for k in keys if k in self._maps}
        if todo:
            from tqdm.auto import tqdm

            options = {"layer": layer} if method == "gradcam" else {}
            with tqdm(
                total=len(todo),
                desc="Saliency",
                unit="images",
                leave=False,
                disable=not progress or len(todo) <= PROGRESS_STEP,
            ) as bar:
                for s in range(0, len(todo), PROGRESS_STEP):
                    part = todo[s : s + PROGRESS_STEP]
                    maps = self._compute([k[0] for k in part], [k[1] for k in part], method, options)
                    for k, m in zip(part, maps):
                        got[k] = m.astype(np.float32)
                        if len(self._maps) >= SALIENCY_CACHE:
                            self._maps.pop(next(iter(self._maps)))
                        self._maps[k] = got[k]
                    self.computed += len(part)
                    bar.update(len(part))
        return np.stack([got[k] for k in keys]) if keys else np.zeros((0, *self.picture_shape[:2]), np.float32)

    def _compute(self, indices, classes, method, options) -> np.ndarray:
        from .saliency import attribution_maps, integrated_gradients, saliency_map

        x = self.inputs(indices)
        if x.ndim == 4:
            return saliency_map(self.loaded, x, classes, method=method, **options)
        if method != "integrated_gradients":  # images fed flat: no feature maps
            raise H5EvalError(
                f"Grad-CAM needs convolutional feature maps, and this model takes the "
                f"images as flat rows of {x.shape[1]} values; use integrated gradients "
                "(method='integrated_gradients')."
            )
        attr = integrated_gradients(self.loaded, x, classes).reshape(len(x), *self.picture_shape)
        return attribution_maps(attr)
