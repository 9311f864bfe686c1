"""Segmentation inference: one pass that leaves per-image pixel counts, and masks predicted again
for the few images a view shows.

Images of different sizes (as Pascal VOC's are): a model with free spatial dimensions takes each
image at its own size, the images grouped by size into batches sized for the model's memory; a
fixed-size model takes them resized to its input (bilinear), and so does ``image_size=``. Each
batch's scores are brought to each mask's own size (bilinear on the scores, then arg-max, or the
threshold for one sigmoid output) and reduced at once to per-image confusion counts
(:func:`~h5eval_widgets.core.metrics.segmentation.image_counts`): the per-pixel scores of the
whole set never stay in memory. Masks that look like 0/255 binary masks are warned about.
"""

from __future__ import annotations

import warnings
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Sequence

import numpy as np

from ..data.masks import SegmentationSet
from ..data.preprocessing import resolve_preprocess
from ..errors import DataWarning, LabelError, ShapeMismatchError
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
    image_size : (width, height), default=None
        Every image resized to this size (bilinear). Otherwise a fixed-size model takes the
        images resized to its input, and a model with free spatial dimensions each image at
        its own size.
    """

    def __init__(
        self,
        loaded: LoadedModel,
        data: SegmentationSet,
        *,
        threshold: float = 0.5,
        preprocess: Any = "auto",
        image_size: tuple[int, int] | None = None,
    ):
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
        fixed = (int(h), int(w)) if h and w else None
        given = (int(image_size[1]), int(image_size[0])) if image_size is not None else None
        if given and fixed and given != fixed:
            raise ShapeMismatchError(
                f"image_size={tuple(image_size)} but {loaded.name} takes {fixed[1]}x{fixed[0]} images; "
                "leave image_size out (images are resized to the model's input) or give its size."
            )
        #: (height, width) every image is fed at, or None: each at its own
        self.size = given or fixed
        self.free = fixed is None  # the model's spatial dimensions are free
        #: rows by their image's own (width, height) when each is predicted at its own size
        self.groups: dict | None = None
        if data.from_files:
            mode = {1: "L", 3: "RGB", 4: "RGBA"}.get(int(channels), "RGB")
            self.images = data.images.conformed((self.size[1], self.size[0]) if self.size else None, mode)
            spec = "auto" if preprocess is None else preprocess
            if self.size is None and not self.images.sizes_agree:
                self.groups = self.images.by_size()
        else:
            arr = np.asarray(data.images, np.float32)
            self.images = arr[..., None] if arr.ndim == 3 else arr
            spec = None if isinstance(preprocess, str) and preprocess == "auto" else preprocess
        self.pre, pre_note, _ = resolve_preprocess(
            spec, images=data.from_files, model_rescales=bool(info.rescales_inputs)
        )
        if pre_note:
            self.notes.append(pre_note)
        self._resized = False
        self._size_note(given)
        c = int(self.images.shape[-1])
        row = (None, None, c) if self.groups else (*(self.size or self.images.shape[1:3]), c)
        self.row_shape = tuple(None if v is None else int(v) for v in row)
        self.forward = _forward_fn(loaded, (self.row_shape, np.float32))
        self._ignored = 0

    def _size_note(self, given) -> None:
        """Say how images of other sizes than the model's input were fed (files only: arrays
        have one size, and an output of another size is told by :meth:`_at_mask_sizes`)."""
        if not self.data.from_files:
            return
        sizes = list(self.images.by_size())
        some = (
            f"Images of {len(sizes)} sizes" if len(sizes) > 1 else f"Images of one size ({sizes[0][0]}x{sizes[0][1]})"
        )
        then = "the threshold." if self.sigmoid else "arg-max."
        if self.groups:
            self.notes.append(f"{some}, each predicted at its own size (grouped by size into batches).")
        elif self.size is not None and any(s != (self.size[1], self.size[0]) for s in sizes):
            to = (
                f"image_size={self.size[1]}x{self.size[0]}"
                if given
                else f"the model's {self.size[1]}x{self.size[0]} input"
            )
            self.notes.append(
                f"{some} resized to {to} (bilinear); the scores resized back to each mask's size "
                f"(bilinear), then {then}"
            )
            self._resized = True  # said here: not again when the scores are brought back

    # ------------------------------------------------------------------ inputs
    def _prepare(self, batch) -> Any:
        x = np.array(batch, dtype=np.float32)
        if self.size is not None and tuple(x.shape[1:3]) != self.size:
            x = resize_bilinear(x, self.size)
        if self.pre is not None:
            x = np.asarray(self.pre(x), np.float32)
        return x

    def _step(self, batch_size: int | None, hw: tuple[int, int]) -> int:
        """Rows per call for images of ``hw`` (height, width): the model's activations grow with
        the pixels when its spatial dimensions are free."""
        pixels = int(hw[0]) * int(hw[1])
        row_bytes = pixels * int(self.images.shape[-1]) * 4
        act = self.loaded.info.activation_bytes
        if act and self.free:
            act *= pixels  # a free-size model's layer outputs are counted per pixel
        return rows_per_call(row_bytes, act, batch_size, FILE_ROWS if self.data.from_files else 1 << 12)

    def _parts(self, batch_size: int | None):
        """``(rows, batches of those rows' images)``: the whole set, or one part per image size."""
        if self.groups is None:
            step = self._step(batch_size, self.size or self.images.shape[1:3])
            yield np.arange(len(self.images)), self._batches(self.images, step)
            return
        for (w, h), idx in self.groups.items():
            yield idx, self._batches(self.images.take(idx), self._step(batch_size, (h, w)))

    def _batches(self, images, step: int):
        if self.data.from_files:
            yield from images.batches(step)
        else:
            for start in range(0, len(images), step):
                yield images[start : start + step]

    def _read(self, idx: np.ndarray) -> list[tuple[np.ndarray, Any]]:
        """``(positions in idx, their images)`` per image size (one part unless each image is
        predicted at its own size)."""
        if self.groups is None:
            return [(np.arange(len(idx)), self.images[idx])]
        sizes = [tuple(self.images.headers[int(i)][0]) for i in idx]
        parts = []
        for size in sorted(set(sizes)):
            pos = np.array([j for j, s in enumerate(sizes) if s == size], np.int64)
            parts.append((pos, self.images.take(idx[pos])[:]))
        return parts

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
        shapes = [tuple(self.data.mask(int(i)).shape) for i in idx]
        res: list = [None] * len(idx)
        for pos, images in self._read(idx):
            scores = self._at_mask_sizes(self._scores(self._prepare(images)), [shapes[j] for j in pos])
            for j, s in zip(pos, scores):
                res[j] = self._decide(s, threshold)
        return res

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
        counts = np.zeros((n, k, k), np.int64)
        hist = np.zeros((n, 2, SCORE_BINS), np.int64) if self.sigmoid else None
        bar = None
        if progress:
            from tqdm.auto import tqdm

            bar = tqdm(total=n, desc=f"Segmenting with {self.loaded.name}", unit="image", leave=False)

        def read(idx):
            return [self.data.mask(int(i), k) for i in idx]

        with ThreadPoolExecutor(1) as pool:  # a batch's masks are read while the model runs
            for rows, batches in self._parts(batch_size):
                start = 0
                for batch in batches:
                    idx = rows[start : start + len(batch)]
                    start += len(batch)
                    pending = pool.submit(read, idx)
                    try:
                        out = self._scores(self._prepare(batch))
                    finally:
                        masks = pending.result()
                    if ign is not None:
                        self._ignored += sum(int(np.count_nonzero(m == ign)) for m in masks)
                    scores = self._at_mask_sizes(out, [m.shape for m in masks])
                    for i, m, s in zip(idx, masks, scores):  # each image's own counts: sizes differ
                        counts[i] = image_counts(m[None], self._decide(s)[None], k, ign)[0]
                        if hist is not None:
                            b = np.minimum((s[..., 0] * SCORE_BINS).astype(np.int64), SCORE_BINS - 1)
                            for c in (0, 1):
                                hist[i, c] = np.bincount(b[m == c], minlength=SCORE_BINS)
                    if bar is not None:
                        bar.update(len(idx))
        if bar is not None:
            bar.close()
        for found in self.data.found:  # what reading the masks found (VOC colours saved as RGB)
            if found not in self.notes:
                self.notes.append(found)
                warnings.warn(found, DataWarning, stacklevel=3)
        ignored = self._ignored
        if ign is not None and ignored and counts[:, 1:, :].sum() == 0:
            note = (
                f"No pixel is of a class other than 0, but {ignored:,} pixels equal "
                f"ignore_index={ign} and count nowhere: the masks look like 0/{ign} binary masks. "
                f"If {ign} marks the foreground, pass palette={{{ign}: 1}} to read it as class 1 "
                "(or give the masks as class indices 0/1); if it marks pixels to leave out (as "
                f"Pascal VOC's borders), keep ignore_index={ign}."
            )
            self.notes.append(note)
            warnings.warn(note, DataWarning, stacklevel=3)
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
    image_size: tuple[int, int] | None = None,
    batch_size: int | None = None,
    progress: bool = True,
) -> PixelCounts:
    """Predict a segmentation set once: its pixel counts, with the predictor of the masks shown
    as their ``source``. ``image_size=(width, height)`` resizes every image to that size."""
    predictor = MaskPredictor(loaded, data, threshold=threshold, preprocess=preprocess, image_size=image_size)
    return predictor.count(batch_size=batch_size, progress=progress)
