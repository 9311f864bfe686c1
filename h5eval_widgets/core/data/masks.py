"""Segmentation test sets: images with class-index masks, as arrays or as two folders of files.

A folder of images goes with a folder of masks of the same file names (the stem decides, so
``a.jpg`` goes with ``a.png``, as Pascal VOC stores them). A mask's pixel values are class
indices (grayscale or palette PNGs); a colour mask needs ``palette=`` to map its colours to
classes, except two that can only mean one thing: an RGB mask whose three channels are equal
(class indices saved as RGB) and a Pascal VOC colour mask saved as RGB rather than as a palette
PNG (only VOC's colours, its border colour among them), read with VOC's colour map and told in
:attr:`SegmentationSet.found`. Everything that can be checked without decoding pixels (a missing
mask, a mask whose size differs from its image) is checked when the set is opened; mask values
are checked as each mask is read. Files are only read, never written.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from ..errors import DatasetError, LabelError
from .images import ImageFiles, _read_headers

__all__ = ["SegmentationSet", "open_segmentation", "voc_colours", "IMAGE_FILE_SUFFIXES"]

IMAGE_FILE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp")
#: Pillow modes whose pixel values are class indices.
INDEX_MODES = ("L", "P", "I", "I;16", "1")


def voc_colours(n: int = 256) -> list[tuple[int, int, int]]:
    """Pascal VOC's colour map: the colour of class index ``i`` (``i`` = 255, the border left out
    of the evaluation, is (224, 224, 192)), as VOC's palette PNGs and its devkit make it."""
    out = []
    for i in range(n):
        r = g = b = 0
        c = i
        for j in range(8):
            r |= (c & 1) << (7 - j)
            g |= ((c >> 1) & 1) << (7 - j)
            b |= ((c >> 2) & 1) << (7 - j)
            c >>= 3
        out.append((r, g, b))
    return out


#: VOC's border colour (index 255): only VOC's own masks are drawn with it.
VOC_BORDER = (224, 224, 192)


def _rgb_key(r, g, b):
    return (int(r) << 16) | (int(g) << 8) | int(b)


_VOC_TABLE = {_rgb_key(*c): i for i, c in enumerate(voc_colours())}


def _listing(names: Sequence[str], n: int = 5) -> str:
    more = f" and {len(names) - n} more" if len(names) > n else ""
    return ", ".join(names[:n]) + more


@dataclass
class SegmentationSet:
    """Images and their masks, read on demand.

    Attributes
    ----------
    images : ndarray of shape (n, H, W, C) or ImageFiles
    masks : ndarray of int, shape (n, H, W), or list of Path
    names : tuple of str
        Each image's file name (``'0'``, ``'1'``... for arrays).
    palette : dict of (r, g, b) or int to int, or None
        Colours (of colour masks) and mask values (of any mask) to class indices.
    ignore_index : int or None
    found : list of str
        What reading the masks found and how it read them (VOC colour masks saved as RGB),
        each said once, for the notes and a warning.
    """

    images: Any
    masks: Any
    names: tuple[str, ...]
    palette: dict | None = None
    ignore_index: int | None = 255
    name: str | None = None
    found: list = field(default_factory=list)

    @property
    def _colours(self) -> dict:
        return {k: c for k, c in (self.palette or {}).items() if isinstance(k, tuple)}

    @property
    def _values(self) -> dict:
        return {k: c for k, c in (self.palette or {}).items() if not isinstance(k, tuple)}

    def __len__(self) -> int:
        return len(self.names)

    @property
    def from_files(self) -> bool:
        return isinstance(self.images, ImageFiles)

    @property
    def paths(self) -> tuple[str, ...]:
        return tuple(str(f) for f in self.images.files) if self.from_files else ()

    @property
    def mask_paths(self) -> tuple[str, ...]:
        return tuple(str(f) for f in self.masks) if self.from_files else ()

    def mask(self, i: int, n_classes: int | None = None) -> np.ndarray:
        """Mask ``i`` as int64 class indices (H, W), its values checked against ``n_classes``."""
        if self.from_files:
            m = self._read_mask(Path(self.masks[i]))
            where = f"Mask {self.masks[i]}"
        else:
            m = np.asarray(self.masks[i]).astype(np.int64)
            where = f"Mask {i} of the masks array"
        values = self._values
        if values:  # mask values named in palette= (e.g. {255: 1} for 0/255 masks)
            mapped = m.copy()
            for v, c in values.items():
                mapped[m == v] = c
            m = mapped
        if n_classes is not None:
            bad = (m < 0) | (m >= n_classes)
            if self.ignore_index is not None:
                bad &= m != self.ignore_index
            if bad.any():
                values = np.unique(m[bad])
                hint = (
                    " (0/255 masks? palette={255: 1} reads 255 as class 1)"
                    if values.tolist() == [255] and not self._values
                    else ""
                )
                raise LabelError(
                    f"{where} holds values {values[:10].tolist()} that are neither a class index "
                    f"(0..{n_classes - 1}) nor ignore_index={self.ignore_index}{hint}; fix the mask, "
                    "map its values with palette={value: class_index, ...}, or pass the value that "
                    "marks pixels to leave out as ignore_index=..."
                )
        return m

    def _read_mask(self, path: Path) -> np.ndarray:
        from PIL import Image

        try:
            with Image.open(path) as im:
                if im.mode in INDEX_MODES:
                    return np.asarray(im).astype(np.int64)
                rgb = np.asarray(im.convert("RGB"))
        except (OSError, ValueError, SyntaxError) as exc:
            raise DatasetError(f"Mask {path} could not be read ({exc}); remove or replace it.") from None
        colours = self._colours
        if not colours and (rgb[..., 0] == rgb[..., 1]).all() and (rgb[..., 1] == rgb[..., 2]).all():
            return rgb[..., 0].astype(np.int64)  # class indices saved as grey RGB: one meaning
        keys = (rgb[..., 0].astype(np.int64) << 16) | (rgb[..., 1].astype(np.int64) << 8) | rgb[..., 2]
        uniq, inv = np.unique(keys, return_inverse=True)
        if colours:
            table = {_rgb_key(*k): c for k, c in colours.items()}
        elif all(u in _VOC_TABLE for u in uniq.tolist()) and _rgb_key(*VOC_BORDER) in uniq:
            # VOC's own colours with its border colour: a VOC mask saved as RGB, not as palette PNG
            table = _VOC_TABLE
            self.palette = {**dict(zip(voc_colours(), range(256))), **self._values}
            self.found.append(
                f"Masks such as {path.name} are RGB colour images, not class indices: their colours are "
                "Pascal VOC's colour map, border (224, 224, 192) included (a VOC mask saved as RGB "
                "instead of as a palette PNG), so they were read with VOC's colour map: (0, 0, 0) -> 0, "
                "(128, 0, 0) -> 1, (0, 128, 0) -> 2, ..., the border -> 255 (ignore_index). If the "
                "colours mean other classes, pass palette={(r, g, b): class_index, ...}; "
                "palette='voc' reads them so without this warning."
            )
        else:
            voc = all(u in _VOC_TABLE for u in uniq.tolist())
            raise DatasetError(_palette_message(path, voc))
        unknown = [u for u in uniq.tolist() if u not in table]
        if unknown:
            shown = [((u >> 16) & 255, (u >> 8) & 255, u & 255) for u in unknown[:5]]
            raise LabelError(
                f"Mask {path} has colours {shown} that palette= does not name; add them to "
                "palette={(r, g, b): class_index, ...} (or map them to ignore_index)."
            )
        return np.array([table[u] for u in uniq.tolist()], np.int64)[inv].reshape(keys.shape)


def _palette_message(path, voc: bool = False) -> str:
    why = " Its colours are all in Pascal VOC's colour map: palette='voc' reads them as VOC's classes." if voc else ""
    return (
        f"Mask {path} is a colour image, not class indices; pass palette={{(r, g, b): "
        "class_index, ...} to map each colour to its class (e.g. palette={(0, 0, 0): 0, "
        "(128, 0, 0): 1}), or save the masks as grayscale PNGs of class indices." + why
    )


def _palette(palette) -> dict | None:
    """``palette=`` as {(r, g, b) or value: class}; ``'voc'`` is Pascal VOC's colour map."""
    if palette is None:
        return None
    if isinstance(palette, str):
        if palette.lower() != "voc":
            raise DatasetError(
                f"palette={palette!r} is not known; give 'voc' (Pascal VOC's colour map) or a dict "
                "{(r, g, b): class_index, ...} (or {mask_value: class_index, ...})."
            )
        return dict(zip(voc_colours(), range(256)))
    out = {}
    for k, c in dict(palette).items():
        key = int(k) if np.ndim(k) == 0 else tuple(int(v) for v in k)
        if isinstance(key, tuple) and len(key) != 3:
            raise DatasetError(f"palette= key {k!r} is neither a colour (r, g, b) nor a mask value.")
        out[key] = int(c)
    return out or None


def _image_files(folder: Path) -> list[Path]:
    if not folder.is_dir():
        raise DatasetError(f"{folder} is not a folder of images.")
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_FILE_SUFFIXES)
    if not files:
        raise DatasetError(
            f"{folder} holds no images ({', '.join(IMAGE_FILE_SUFFIXES)}); a segmentation set is "
            "a folder of images and a folder of masks of the same file names."
        )
    return files


def open_segmentation(
    X, masks, *, palette: Mapping | None = None, ignore_index: int | None = 255, name: str | None = None
) -> SegmentationSet:
    """Open a segmentation test set: images and masks as arrays, or two folders.

    Parameters
    ----------
    X : array-like of shape (n, H, W, C) or path-like
        The images, or a folder of image files.
    masks : array-like of int, shape (n, H, W), or path-like
        The masks (class indices), or a folder of masks of the images' file names.
    palette : dict of (r, g, b) or int to int, or 'voc', default=None
        For colour masks: each colour's class index (``'voc'``: Pascal VOC's colour map); an
        int key maps that mask value (``{255: 1}`` reads 0/255 masks as classes 0 and 1).
    ignore_index : int or None, default=255
        The mask value that counts nowhere.

    Raises
    ------
    DatasetError
        A mask missing for an image (the first names listed), a mask whose size differs from its
        image, an unknown ``palette=``; a colour mask whose colours say nothing without
        ``palette=`` is refused when it is read.
    """
    palette = _palette(palette)
    if isinstance(X, (str, os.PathLike)):
        folder, mask_folder = Path(X), Path(masks)
        files = _image_files(folder)
        by_stem = {p.stem: p for p in _image_files(mask_folder)}
        missing = [f.name for f in files if f.stem not in by_stem]
        if missing:
            raise DatasetError(
                f"No mask in {mask_folder} for {len(missing)} of {len(files)} images: "
                f"{_listing(missing)}; each image needs a mask of the same file name (any image "
                "suffix, e.g. a.jpg with a.png)."
            )
        mask_files = [by_stem[f.stem] for f in files]
        heads, mask_heads = _read_headers(files), _read_headers(mask_files)
        for f, m, (size, _), (msize, _) in zip(files, mask_files, heads, mask_heads):
            if tuple(size) != tuple(msize):
                raise DatasetError(
                    f"Mask {m} is {msize[0]}x{msize[1]} but its image {f} is {size[0]}x{size[1]}; "
                    "a mask must have its image's size."
                )
        return SegmentationSet(
            ImageFiles(files, headers=heads),
            mask_files,
            tuple(f.name for f in files),
            palette,
            ignore_index,
            name or folder.name,
        )
    images, labels = np.asarray(X), np.asarray(masks)
    if labels.ndim == 4 and labels.shape[-1] == 1:
        labels = labels[..., 0]
    if labels.ndim != 3 or images.ndim not in (3, 4) or len(images) != len(labels):
        raise LabelError(
            f"Segmentation needs images (n, H, W[, C]) and masks (n, H, W) of the same n; got "
            f"{images.shape} and {labels.shape}."
        )
    if images.shape[1:3] != labels.shape[1:3]:
        raise LabelError(
            f"The masks are {labels.shape[2]}x{labels.shape[1]} but the images "
            f"{images.shape[2]}x{images.shape[1]}; a mask must have its image's size."
        )
    if labels.dtype.kind not in "iub":
        raise LabelError(f"Masks must hold integer class indices; got dtype {labels.dtype}.")
    return SegmentationSet(images, labels, tuple(str(i) for i in range(len(labels))), palette, ignore_index, name)
