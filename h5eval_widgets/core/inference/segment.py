"""Segmentation inference: one pass that leaves per-image pixel counts, and masks predicted again
for the few images a view shows.

Each batch's scores are brought to each mask's own size (bilinear on the scores, then arg-max,
or the threshold for one sigmoid output) and reduced at once to per-image confusion counts
(:func:`~h5eval_widgets.core.metrics.segmentation.image_counts`): the per-pixel scores of the
whole set never stay in memory.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any, Sequence

import numpy as np

from ..data.masks import SegmentationSet
from ..data.preprocessing import resolve_preprocess
from ..errors import LabelError
from ..metrics.segmentation import SCORE_BINS, PixelCounts, image_counts
from ..models.loading import LoadedModel
from .backend import resize_bilinear
from .batching import FILE_ROWS, rows_per_call
from .predict import _forward_fn

__all__ = ["MaskPredictor", "count_pixels"]


class MaskPredictor:
    """A model and a segmentation set, ready to predict any images' masks.

    Parameters
    ----------
    loaded : LoadedModel
    data : SegmentationSet
    threshold : float, default=0.5
        For one sigmoid output: a pixel is class 1 when its score is ``>= threshold``.
    preprocess : default='auto'
        As in :func:`~h5eval_widgets.core.data.preprocessing.resolve_preprocess` (image files
        scaled to [0, 1] unless the model rescales; arrays fed as given with ``'auto'``).
    """

    def __init__(self, loaded: LoadedModel, data: SegmentationSet, *, threshold: float = 0.5, preprocess: Any = "auto"):
        info = loaded.info
        out = tuple(info.output_shape)
        if len(out) != 4:
            raise LabelError(
                f"{loaded.name} gives outputs of shape {out}, not per-pixel scores (H, W, k); "
                "masks= is for segmentation models."
            )
        self.loaded, self.data, self.threshold = loaded, data, float(threshold)
        self.sigmoid = out[-1] == 1
        self.n_classes = 2 if self.sigmoid else int(out[-1])
        self.notes: list[str] = []
        self.logits: bool | None = None if self.sigmoid else False
        in_shape = tuple(info.input_shape)
        h, w = in_shape[1:3] if len(in_shape) == 4 else (None, None)
        channels = in_shape[-1] if len(in_shape) == 4 and in_shape[-1] else 3
        if data.from_files:
            mode = {1: "L", 3: "RGB", 4: "RGBA"}.get(int(channels), "RGB")
            self.images = data.images.conformed((w, h) if h and w else None, mode)
            spec = "auto" if preprocess is None else preprocess
        else:
            arr = np.asarray(data.images, np.float32)
            self.images = arr[..., None] if arr.ndim == 3 else arr
            spec = None if isinstance(preprocess, str) and preprocess == "auto" else preprocess
        self.size = (h, w) if h and w else None
        self.pre, pre_note, _ = resolve_preprocess(
            spec, images=data.from_files, model_rescales=bool(info.rescales_inputs)
        )
        if pre_note:
            self.notes.append(pre_note)
        row = (*(self.size or self.images.shape[1:3]), self.images.shape[-1])
        self.row_shape = tuple(int(v) for v in row)
        self.forward = _forward_fn(loaded, (self.row_shape, np.float32))
        self._resized = False
        self._ignored = 0

    # ------------------------------------------------------------------ inputs
    def _prepare(self, batch) -> Any:
        x = np.array(batch, dtype=np.float32)
        if self.size is not None and tuple(x.shape[1:3]) != self.size:
            x = resize_bilinear(x, self.size)
        if self.pre is not None:
            x = np.asarray(self.pre(x), np.float32)
        return x

    def _batches(self, step: int):
        if self.data.from_files:
            start = 0
            for batch in self.images.batches(step):
                yield np.arange(start, start + len(batch)), batch
                start += len(batch)
        else:
            for start in range(0, len(self.images), step):
                yield np.arange(start, min(start + step, len(self.images))), self.images[start : start + step]

    def _scores(self, x):
        """The model's scores for a prepared batch (sigmoid applied to logits, noted once)."""
        out = self.forward(x)
        if self.sigmoid:
            if self.logits is None:
                lo, hi = float(np.min(out)), float(np.max(out))
                self.logits = lo < 0 or hi > 1
                if self.logits:
                    self.notes.append(
                        "The single output holds values outside [0, 1]: read as logits, a sigmoid applied."
                    )
            if self.logits:
                out = (1.0 / (1.0 + np.exp(-out.astype(np.float64)))).astype(np.float32)
        return out

    def _at_mask_sizes(self, out, shapes: Sequence[tuple[int, int]]) -> list[np.ndarray]:
        """Each image's scores (H_i, W_i, c) at its mask's size (bilinear when they differ)."""
        res, own = [None] * len(shapes), tuple(int(v) for v in out.shape[1:3])
        for shape in sorted(set(shapes)):
            sel = [j for j, s in enumerate(shapes) if s == shape]
            part = out[sel]
            if shape != own:
                part = resize_bilinear(part, shape)
                if not self._resized:
                    self._resized = True
                    self.notes.append(
                        f"The model's output ({own[1]}x{own[0]}) was brought to each mask's size "
                        f"(e.g. {shape[1]}x{shape[0]}): bilinear on the scores, then "
                        + ("the threshold." if self.sigmoid else "arg-max.")
                    )
            for j, a in zip(sel, part):
                res[j] = a
        return res

    def _decide(self, scores: np.ndarray, threshold: float | None = None) -> np.ndarray:
        if self.sigmoid:
            return (scores[..., 0] >= (self.threshold if threshold is None else threshold)).astype(np.int64)
        return np.argmax(scores, axis=-1).astype(np.int64)

    # ------------------------------------------------------------------ public
    def predicted_masks(self, indices, threshold: float | None = None) -> list[np.ndarray]:
        """The predicted masks (class indices at each mask's size) of images ``indices``."""
        idx = np.asarray(indices, np.int64).reshape(-1)
        if len(idx) == 0:
            return []
        x = self._prepare(self.images[idx])
        shapes = [tuple(self.data.mask(int(i)).shape) for i in idx]
        return [self._decide(s, threshold) for s in self._at_mask_sizes(self._scores(x), shapes)]

    def true_mask(self, i: int) -> np.ndarray:
        """Image ``i``'s true mask (class indices; ``ignore_index`` left as it is)."""
        return self.data.mask(int(i))

    def picture(self, i: int) -> np.ndarray:
        """Image ``i`` as uint8 RGB at its own size, for display."""
        if self.data.from_files:
            from PIL import Image

            with Image.open(self.data.images.files[int(i)]) as im:
                return np.asarray(im.convert("RGB"))
        a = np.asarray(self.data.images[int(i)], np.float64)
        a = a[..., None] if a.ndim == 2 else a
        a = np.repeat(a[..., :1], 3, axis=-1) if a.shape[-1] == 1 else a[..., :3]
        lo, hi = float(a.min()), float(a.max())
        return ((a - lo) / (hi - lo if hi > lo else 1) * 255).round().astype(np.uint8)

    def count(self, *, batch_size: int | None = None, progress: bool = True) -> PixelCounts:
        """One pass over the set: per-image confusion counts (and, for one sigmoid output,
        per-image score histograms of the true background and foreground pixels)."""
        k, ign = self.n_classes, self.data.ignore_index
        n = len(self.data)
        row_bytes = int(np.prod(self.row_shape)) * 4
        step = rows_per_call(
            row_bytes, self.loaded.info.activation_bytes, batch_size, FILE_ROWS if self.data.from_files else 1 << 12
        )
        counts = np.zeros((n, k, k), np.int64)
        hist = np.zeros((n, 2, SCORE_BINS), np.int64) if self.sigmoid else None
        bar = None
        if progress:
            from tqdm.auto import tqdm

            bar = tqdm(total=n, desc=f"Segmenting with {self.loaded.name}", unit="image", leave=False)

        def read(idx):
            return [self.data.mask(int(i), k) for i in idx]

        with ThreadPoolExecutor(1) as pool:  # a batch's masks are read while the model runs
            for idx, batch in self._batches(step):
                pending = pool.submit(read, idx)
                try:
                    out = self._scores(self._prepare(batch))
                finally:
                    masks = pending.result()
                if ign is not None:
                    self._ignored += sum(int(np.count_nonzero(m == ign)) for m in masks)
                scores = self._at_mask_sizes(out, [m.shape for m in masks])
                for i, m, s in zip(idx, masks, scores):
                    counts[i] = image_counts(m[None], self._decide(s)[None], k, ign)[0]
                    if hist is not None:
                        b = np.minimum((s[..., 0] * SCORE_BINS).astype(np.int64), SCORE_BINS - 1)
                        for c in (0, 1):
                            hist[i, c] = np.bincount(b[m == c], minlength=SCORE_BINS)
                if bar is not None:
                    bar.update(len(idx))
        if bar is not None:
            bar.close()
        ignored = self._ignored
        if ign is not None and ignored and counts[:, 1:, :].sum() == 0:
            self.notes.append(
                f"No pixel is of a class other than 0, but {ignored:,} pixels equal "
                f"ignore_index={ign} and count nowhere: if the masks store a class as {ign} (0/255 "
                "masks), give them as class indices (0/1), or another ignore_index."
            )
        return PixelCounts(
            counts,
            k,
            ign,
            hist,
            self.threshold,
            self.data.names,
            self.data.paths,
            self.data.mask_paths,
            tuple(self.notes),
            source=self,
        )


def count_pixels(
    loaded: LoadedModel,
    data: SegmentationSet,
    *,
    threshold: float = 0.5,
    preprocess: Any = "auto",
    batch_size: int | None = None,
    progress: bool = True,
) -> PixelCounts:
    """Predict a segmentation set once: its pixel counts, with the predictor of the masks shown
    as their ``source``."""
    predictor = MaskPredictor(loaded, data, threshold=threshold, preprocess=preprocess)
    return predictor.count(batch_size=batch_size, progress=progress)
