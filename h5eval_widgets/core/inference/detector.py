"""A Keras object detector run on an image folder: its outputs (a dict of ``boxes``,
``classes``/``labels``, ``confidence``/``scores`` and ``num_detections``, as KerasCV and
KerasHub detectors return them from ``predict``) become pixel boxes of each image.

A ``.keras`` detector keeps its decoder (run by ``predict_step``), so it is run through
``predict``; a model that gives raw head outputs (box deltas and class logits per anchor) is
refused unless a ``decode=`` function turns them into such a dict.

A KerasHub detector (``keras_hub.models.RetinaNetObjectDetector``, ``YOLOV8ObjectDetector``...)
carries its own ``bounding_box_format`` and a preprocessor whose image converter resizes every
image to ``image_size`` (cropping or padding to its aspect ratio) before the backbone, which takes
any size: its boxes come out in that converter's pixels, not the image's. So the converter's size
is the input size here: images are resized to it before ``predict`` (the converter's own resize
then changes nothing) and boxes are scaled back from it; the model's format is the default one.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np

from .._lazy import pd
from ..data.box_checks import BOX_FORMATS, to_xywh
from ..errors import DatasetError, ModelLoadError
from ..models.files import _refuse_code, read_config
from .backend import backend_name, note

__all__ = ["BOX_FORMATS", "load_detector", "run_detector", "to_xywh"]

_CLASS_KEYS = ("classes", "labels")
_SCORE_KEYS = ("confidence", "scores")


def load_detector(path, *, trust_code: bool = False):
    """Load a detector from a ``.keras`` (or ``.h5``) file with all its outputs (Keras's
    ``safe_mode`` refuses embedded code unless ``trust_code``); a SavedModel folder is refused:
    its export keeps only the raw head outputs."""
    import keras

    path = Path(path)
    if path.is_dir():
        raise ModelLoadError(
            f"{path} is a SavedModel folder: its export keeps only the detector's raw head outputs "
            "(box deltas and class logits for every anchor), not its decoder. Give the .keras "
            "file, or load it yourself and pass the model with decode= (a function from its "
            "outputs to a dict of boxes, classes and scores)."
        )
    if not path.is_file():
        raise ModelLoadError(f"No detector file at {path}.")
    _refuse_code(read_config(path)[0], path, trust_code)  # before Keras reads the file, as load_model does
    try:
        return keras.saving.load_model(str(path), compile=False, safe_mode=not trust_code)
    except ValueError as e:
        if "safe_mode" in str(e) or "Lambda" in str(e):
            raise ModelLoadError(
                f"{path} carries code (a Lambda layer); pass trust_code=True if you trust its source."
            ) from None
        raise


def _converter_size(model) -> tuple[int, int] | None:
    """The ``(height, width)`` a KerasHub task's preprocessor resizes images to (its
    ``image_converter.image_size``), or None for a model without one."""
    converter = getattr(getattr(model, "preprocessor", None), "image_converter", None)
    size = getattr(converter, "image_size", None)
    if size is None or len(size) != 2 or None in tuple(size):
        return None
    return int(size[0]), int(size[1])


def _box_format(model, bounding_box_format: str | None) -> tuple[str, str]:
    """The format boxes are read in and where it came from: the one given, else the model's own
    ``bounding_box_format`` (a KerasHub detector's outputs are always in it), else ``xyxy``.

    Raises
    ------
    ValueError
        For a format that is not one of :data:`BOX_FORMATS`, or that differs from the
        ``bounding_box_format`` the model states for its own outputs.
    """
    own = getattr(model, "bounding_box_format", None)
    own = own if isinstance(own, str) else None
    fmt = bounding_box_format or own or "xyxy"
    if fmt not in BOX_FORMATS:
        raise ValueError(f"bounding_box_format={fmt!r} is not one of {BOX_FORMATS}.")
    if own is not None and fmt != own:
        raise ValueError(
            f"bounding_box_format={fmt!r}, but the detector gives its boxes as {own!r} (its own "
            "bounding_box_format); leave bounding_box_format out to read them as the model states."
        )
    source = "given" if bounding_box_format else ("the model's own" if own else "the default")
    return fmt, source


def _input_size(model, image_size) -> tuple[int, int] | None:
    if image_size is not None:
        return int(image_size[0]), int(image_size[1])
    converted = _converter_size(model)
    if converted is not None:  # the model sees (and boxes) the converter's pixels
        return converted
    shape = getattr(model, "input_shape", None)
    if isinstance(shape, list):
        shape = shape[0]
    if shape is not None and len(shape) == 4 and shape[1] and shape[2]:
        return int(shape[1]), int(shape[2])
    return None


def _read(path: Path, size: tuple[int, int] | None) -> np.ndarray:
    from PIL import Image

    with Image.open(path) as im:
        im = im.convert("RGB")
        if size is not None and im.size != (size[1], size[0]):
            im = im.resize((size[1], size[0]), Image.BILINEAR)
        return np.asarray(im, dtype=np.float32)


def _padded(batch: np.ndarray, rows: int) -> np.ndarray:
    """``batch`` with its last image repeated up to ``rows`` images (outputs past ``len(batch)``
    are never read), so every ``predict`` call sees one batch size.

    Notes
    -----
    Keras traces ``predict`` again, with an unknown batch size, when a second batch size comes;
    KerasHub's ``NonMaxSuppression`` decoder (RetinaNet's) cannot be traced so (``Expected
    int32, but got None``), which a short last batch would otherwise cause.
    """
    if len(batch) >= rows:
        return batch
    return np.concatenate([batch, np.repeat(batch[-1:], rows - len(batch), axis=0)])


def _decoded(out, decode: Callable | None) -> dict:
    if decode is not None:
        out = decode(out)
    if not isinstance(out, dict) or "boxes" not in out:
        got = sorted(out) if isinstance(out, dict) else type(out).__name__
        raise ModelLoadError(
            f"The detector's outputs have no 'boxes' (got {got}): this looks like raw head "
            "outputs (box deltas and class logits for every anchor), as a SavedModel export "
            "keeps them. Give the .keras file, whose predict() runs the detector's decoder, or "
            "pass decode= (a function from these outputs to a dict of boxes, classes and scores)."
        )
    cls_key = next((k for k in _CLASS_KEYS if k in out), None)
    score_key = next((k for k in _SCORE_KEYS if k in out), None)
    if cls_key is None or score_key is None:
        raise ModelLoadError(
            f"The detector's outputs {sorted(out)} need classes (or labels) and confidence (or scores) next to boxes."
        )
    return {
        "boxes": np.asarray(out["boxes"]),
        "classes": np.asarray(out[cls_key]),
        "scores": np.asarray(out[score_key]),
        "num": None if "num_detections" not in out else np.asarray(out["num_detections"]).reshape(-1),
    }


def run_detector(
    model,
    folder,
    gt,
    *,
    bounding_box_format: str | None = None,
    batch_size: int = 8,
    image_size: tuple[int, int] | None = None,
    preprocess: Callable | None = None,
    decode: Callable | None = None,
    progress: bool = False,
):
    """Run ``model.predict`` on the annotated images of ``folder`` and return pixel boxes.

    Parameters
    ----------
    model : keras.Model
        A detector whose ``predict`` returns a dict with ``boxes`` (batch, slots, 4),
        ``classes`` or ``labels`` (class index, -1 for an unused slot), ``confidence`` or
        ``scores``, and optionally ``num_detections`` (slots used).
    folder : path
        The images, named as the annotations' ``file_name``.
    gt : GroundTruth
        The annotations (image sizes, categories).
    bounding_box_format : str, default=None
        One of :data:`BOX_FORMATS`, in the model's input pixels (``rel_``: fractions). When
        None, the model's own ``bounding_box_format`` (as KerasHub detectors state it), else
        ``xyxy``; a format other than the model's own is refused.
    batch_size : int, default=8
    image_size : (height, width), default=None
        The size images are resized to (bilinear, not keeping the aspect ratio). When None: the
        ``image_size`` of a KerasHub preprocessor's image converter (the pixels its boxes are
        in), else the model's input size, else each image's own (one image per batch).
    preprocess : callable, default=None
        Applied to each batch of float32 RGB pixels (0..255) before ``predict``.
    decode : callable, default=None
        Turns the model's raw outputs into the dict above.

    Returns
    -------
    (DataFrame, list of str)
        The detections (``image_id``, ``category_id``, ``x``, ``y``, ``w``, ``h``, ``score``)
        and notes saying how boxes and classes were read.
    """
    folder = Path(folder)
    bounding_box_format, fmt_source = _box_format(model, bounding_box_format)
    size = _input_size(model, image_size)
    by_converter = image_size is None and size is not None and size == _converter_size(model)
    cats = list(gt.categories)
    imgs = gt.images
    missing = [f for f in imgs["file_name"] if not (folder / f).is_file()]
    if missing:
        raise DatasetError(
            f"{len(missing)} annotated image(s) are not in {folder}: {missing[:5]}; "
            "every image of the annotations must be in the folder."
        )
    step = max(1, min(batch_size, len(imgs))) if size is not None else 1
    if (
        hasattr(model, "prediction_decoder")
        and hasattr(model, "make_predict_function")
        and backend_name() == "tensorflow"
    ):
        # a TensorFlow trace made for another batch size is dropped (JAX compiles per shape by
        # itself: forcing would only compile again, some seconds; PyTorch does not trace)
        model.make_predict_function(force=True)
    parts = []
    for s in range(0, len(imgs), step):
        rows = imgs.iloc[s : s + step]
        batch = np.stack([_read(folder / f, size) for f in rows["file_name"]])
        if preprocess is not None:
            batch = preprocess(batch)
        out = _decoded(model.predict(_padded(batch, step), verbose=0), decode)
        for i, (image_id, W, H) in enumerate(zip(rows["image_id"], rows["width"], rows["height"])):
            in_h, in_w = size if size is not None else (H, W)
            n = out["boxes"].shape[1] if out["num"] is None else int(out["num"][i])
            cls = np.rint(out["classes"][i][:n]).astype(np.int64)
            keep = cls >= 0
            if (cls[keep] >= len(cats)).any():
                raise ModelLoadError(
                    f"The detector predicts class {int(cls[keep].max())} but the "
                    f"annotations have {len(cats)} categories."
                )
            boxes = out["boxes"][i][:n][keep]
            if bounding_box_format.startswith("rel_"):  # fractions: of the image itself
                xywh = to_xywh(boxes, bounding_box_format, W, H)
            else:  # the model's input pixels, scaled back to the image's
                xywh = to_xywh(boxes, bounding_box_format, in_w, in_h) * ([W / in_w, H / in_h] * 2)
            parts.append(
                pd.DataFrame(
                    {
                        "image_id": np.full(int(keep.sum()), int(image_id), dtype=np.int64),
                        "category_id": np.asarray(cats, dtype=np.int64)[cls[keep]],
                        "x": xywh[:, 0],
                        "y": xywh[:, 1],
                        "w": xywh[:, 2],
                        "h": xywh[:, 3],
                        "score": np.asarray(out["scores"][i][:n], dtype=np.float64)[keep],
                    }
                )
            )
    dt = (
        pd.concat(parts, ignore_index=True)
        if parts
        else pd.DataFrame(columns=["image_id", "category_id", "x", "y", "w", "h", "score"])
    )
    where = f"the model's {size[1]}x{size[0]} input" if size else "each image's own size"
    if by_converter:
        where = f"the {size[1]}x{size[0]} pixels of the model's preprocessor (its image converter's image_size)"
    notes = [
        note(),
        f"Detector boxes read as {bounding_box_format} ({fmt_source} format) in {where} and brought "
        "back to each image's own pixels (x and w scaled by image width / input width, y and h by height)"
        if not bounding_box_format.startswith("rel_") and size
        else f"Detector boxes read as {bounding_box_format} ({fmt_source} format) and brought to each "
        "image's own pixels.",
        f"Class k of the detector is the k-th annotation category by id ({', '.join(f'{k}: {gt.categories[c]}' for k, c in enumerate(cats[:5]))}{', ...' if len(cats) > 5 else ''}); "
        "unused slots (class -1, past num_detections) dropped.",
    ]
    if by_converter:
        notes.append(
            f"Images were resized to {size[1]}x{size[0]} here (bilinear, stretched) before predict, "
            "so the preprocessor's own resize changed nothing (no crop or pad to its aspect ratio)."
        )
    return dt, notes
