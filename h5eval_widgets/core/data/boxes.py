"""Object-detection ground truth and detections, read from COCO JSON, Pascal VOC XML, YOLO text
files or tables, into one shape: frames of images and of boxes in pixel ``[x, y, w, h]``.

Nothing here writes: every reader only opens its inputs. What cannot be meant raises a
:class:`~h5eval_widgets.core.errors.DatasetError` naming the file, the box and the fix; what is
accepted but worth knowing (boxes past their image, a likely format mistake) is said in notes
(see :mod:`.box_checks`).
"""

from __future__ import annotations

import json
import os
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any, NamedTuple, Sequence

import numpy as np

from .._lazy import pd
from ..errors import DatasetError
from .box_checks import BOX_FORMATS, EDGE_TOLERANCE, box_sizes, checked_boxes, raw_boxes, to_xywh

__all__ = ["GroundTruth", "read_ground_truth", "read_detections", "image_sizes", "EDGE_TOLERANCE", "BOX_FORMATS"]
_IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp", ".tif", ".tiff")
BOX_COLUMNS = ["image_id", "category_id", "x", "y", "w", "h"]


class GroundTruth(NamedTuple):
    """True boxes of a detection test set.

    ``images``: ``image_id``, ``file_name``, ``width``, ``height`` (one row per image);
    ``boxes``: ``image_id``, ``category_id``, ``x``, ``y``, ``w``, ``h`` (pixels, top-left
    corner), ``area``, ``iscrowd``; ``categories``: ``category_id`` -> name, in id order;
    ``notes``: what was noticed while reading (boxes past their image, a likely format mistake).
    """

    images: Any
    boxes: Any
    categories: dict[int, str]
    source: str
    notes: tuple[str, ...] = ()


def image_sizes(folder: str | os.PathLike) -> dict[str, tuple[int, int]]:
    """``{file name: (width, height)}`` of the images in ``folder`` (headers only, read-only)."""
    from PIL import Image

    out = {}
    for p in sorted(Path(folder).iterdir()):
        if p.suffix.lower() in _IMAGE_SUFFIXES:
            with Image.open(p) as im:
                out[p.name] = im.size
    return out


# ---------------------------------------------------------------------------- ground truth
def read_ground_truth(
    source, *, images=None, classes: Sequence[str] | None = None, box_format: str | None = None
) -> GroundTruth:
    """Read true boxes from any of the supported layouts.

    Parameters
    ----------
    source : path, dict or DataFrame
        A COCO ``instances_*.json`` file (or its parsed dict); a folder of Pascal VOC ``.xml``
        files (one per image); a folder of YOLO ``.txt`` files (one per image, ``class cx cy w
        h`` relative to the image); or a DataFrame of boxes with ``file_name`` (or
        ``image_id``), ``label`` (or ``category_id``) and ``x, y, w, h`` or ``xmin, ymin,
        xmax, ymax`` columns.
    images : path, dict or DataFrame, default=None
        Image sizes where the source lacks them (YOLO, a DataFrame): an image folder,
        ``{file_name: (width, height)}``, or a frame with ``file_name``, ``width``, ``height``.
    classes : sequence of str, default=None
        Class names: YOLO's class numbers index them (else ``classes.txt`` in the folder);
        VOC's names are ordered by them (else sorted).
    box_format : str, default=None
        How the four numbers of a COCO ``bbox`` or of a DataFrame's box columns are given: one
        of :data:`BOX_FORMATS` (KerasHub's names; ``rel_`` ones are fractions of the image).
        None reads them as their source says: COCO's ``bbox`` and ``x, y, w, h`` columns as
        ``xywh``, ``xmin, ymin, xmax, ymax`` columns as ``xyxy``. VOC and YOLO files fix
        their own format.

    Returns
    -------
    GroundTruth
        Boxes past their image are kept as given and counted in ``notes``; a likely format
        mistake is told in a ``DataWarning`` and a note (see :mod:`.box_checks`).

    Raises
    ------
    DatasetError
        For a NaN coordinate or a negative size, an image that is not there, an unknown class.
    """
    if box_format is not None and box_format not in BOX_FORMATS:
        raise ValueError(f"box_format={box_format!r} is not one of {BOX_FORMATS}.")
    if isinstance(source, dict):
        return _from_coco(source, "a COCO dict", box_format)
    if isinstance(source, pd.DataFrame):
        return _from_frame(source, images, classes, "a DataFrame of boxes", box_format)
    path = Path(source)
    if path.is_file() and path.suffix.lower() == ".json":
        try:
            data = json.loads(path.read_text())
        except ValueError as e:
            raise DatasetError(f"{path} is not valid JSON ({e}).") from None
        return _from_coco(data, str(path), box_format)
    if path.is_dir() and box_format is not None:
        raise ValueError(
            f"box_format={box_format!r} applies to COCO files and DataFrames; the VOC or YOLO files "
            f"in {path} fix their own format (VOC: pixel corners; YOLO: relative centres)."
        )
    if path.is_dir():
        if any(path.glob("*.xml")):
            return _from_voc(path, classes)
        if any(p.name != "classes.txt" for p in path.glob("*.txt")):
            return _from_yolo(path, images, classes)
        raise DatasetError(f"{path} holds no .xml (Pascal VOC) or .txt (YOLO) annotation files.")
    raise DatasetError(
        f"Cannot read ground truth from {source!r}: give a COCO .json file, a folder of VOC .xml or "
        "YOLO .txt files, or a DataFrame of boxes."
    )


def _from_coco(data: dict, where: str, box_format: str | None) -> GroundTruth:
    for key in ("images", "annotations", "categories"):
        if key not in data:
            raise DatasetError(
                f"{where} has no {key!r} list; a COCO instances file has images, annotations and categories."
            )
    imgs = pd.DataFrame(
        [
            (int(i["id"]), str(i.get("file_name", i["id"])), float(i["width"]), float(i["height"]))
            for i in data["images"]
        ],
        columns=["image_id", "file_name", "width", "height"],
    )
    # other scalar fields of the images (a location, a time of day...): metadata to slice by
    skip = {"id", "file_name", "width", "height", "coco_url", "flickr_url", "license"}
    extra = sorted(
        {k for i in data["images"] for k, v in i.items() if k not in skip and isinstance(v, (str, int, float))}
    )
    for k in extra:
        imgs[k] = [i.get(k) for i in data["images"]]
    cats = {int(c["id"]): str(c["name"]) for c in data["categories"]}
    anns = data["annotations"]
    raw = np.array([a["bbox"] for a in anns], dtype=np.float64).reshape(-1, 4)
    fmt = box_format or "xywh"
    image_id = np.array([a["image_id"] for a in anns], dtype=np.int64)
    size = imgs.drop_duplicates("image_id").set_index("image_id")
    bb = to_xywh(raw, fmt, size["width"].reindex(image_id).to_numpy(), size["height"].reindex(image_id).to_numpy())
    boxes = pd.DataFrame(
        {
            "image_id": image_id,
            "category_id": np.array([a["category_id"] for a in anns], dtype=np.int64),
            "x": bb[:, 0],
            "y": bb[:, 1],
            "w": bb[:, 2],
            "h": bb[:, 3],
            "area": np.array([a.get("area", b[2] * b[3]) for a, b in zip(anns, bb)], dtype=np.float64),
            "iscrowd": np.array([int(a.get("iscrowd", 0)) for a in anns], dtype=np.int64),
        }
    )
    return _checked(GroundTruth(imgs, boxes, dict(sorted(cats.items())), where), raw, fmt)


def _text(node, tag: str, where: str) -> str:
    found = node.find(tag)
    if found is None or found.text is None:
        raise DatasetError(f"{where} has no <{tag}>; a Pascal VOC file gives it for each image/object.")
    return found.text.strip()


def _from_voc(folder: Path, classes) -> GroundTruth:
    rows, imgs = [], []
    for image_id, f in enumerate(sorted(folder.glob("*.xml")), start=1):
        try:
            root = ET.parse(f).getroot()
        except ET.ParseError as e:
            raise DatasetError(f"{f} is not valid XML ({e}).") from None
        size = root.find("size")
        if size is None:
            raise DatasetError(f"{f} has no <size>; the image's width and height are needed.")
        name = root.findtext("filename") or f.stem
        imgs.append((image_id, name, float(_text(size, "width", str(f))), float(_text(size, "height", str(f)))))
        for obj in root.iter("object"):
            bb = obj.find("bndbox")
            if bb is None:
                raise DatasetError(f"{f}: an <object> has no <bndbox>.")
            x0, y0, x1, y1 = (float(_text(bb, t, str(f))) for t in ("xmin", "ymin", "xmax", "ymax"))
            rows.append((image_id, _text(obj, "name", str(f)), x0, y0, x1 - x0, y1 - y0))
    names = list(classes) if classes is not None else sorted({r[1] for r in rows})
    return _named_boxes(rows, imgs, names, str(folder))


def _from_yolo(folder: Path, images, classes) -> GroundTruth:
    if classes is None and (folder / "classes.txt").is_file():
        classes = [c.strip() for c in (folder / "classes.txt").read_text().splitlines() if c.strip()]
    if classes is None:
        raise DatasetError(
            f"YOLO labels in {folder} number their classes: pass classes=[...] "
            "or put a classes.txt (one name a line) in the folder."
        )
    sizes = _sizes(images, folder)
    by_stem = {Path(k).stem: k for k in sizes}
    rows, imgs = [], []
    for image_id, f in enumerate(sorted(p for p in folder.glob("*.txt") if p.name != "classes.txt"), 1):
        if f.stem not in by_stem:
            raise DatasetError(
                f"{f} labels an image that is not there: no image named "
                f"{f.stem}.* among the {len(sizes)} given in images=."
            )
        name = by_stem[f.stem]
        W, H = sizes[name]
        imgs.append((image_id, name, float(W), float(H)))
        for n, line in enumerate(f.read_text().splitlines(), 1):
            parts = line.split()
            if not parts:
                continue
            if len(parts) < 5:
                raise DatasetError(f"{f} line {n}: expected 'class cx cy w h', got {line!r}.")
            c = int(parts[0])
            if not 0 <= c < len(classes):
                raise DatasetError(
                    f"{f} line {n}: class {c} is unknown; there are {len(classes)} classes (0..{len(classes) - 1})."
                )
            cx, cy, w, h = (float(v) for v in parts[1:5])
            rows.append((image_id, classes[c], (cx - w / 2) * W, (cy - h / 2) * H, w * W, h * H))
    return _named_boxes(rows, imgs, list(classes), str(folder))


def _sizes(images, where) -> dict[str, tuple[float, float]]:
    if images is None:
        raise DatasetError(
            f"The boxes of {where} are relative or carry no image sizes: pass "
            "images= (the image folder, or {file_name: (width, height)})."
        )
    if isinstance(images, dict):
        return {str(k): (float(v[0]), float(v[1])) for k, v in images.items()}
    if isinstance(images, pd.DataFrame):
        return {str(r.file_name): (float(r.width), float(r.height)) for r in images.itertuples()}
    return image_sizes(images)


def _named_boxes(rows, imgs, names: list[str], where: str, raw=None, fmt=None) -> GroundTruth:
    ids = {n: i for i, n in enumerate(names, start=1)}
    unknown = sorted({r[1] for r in rows} - set(ids))
    if unknown:
        raise DatasetError(f"{where}: classes {unknown[:5]} are not among classes={names[:20]}.")
    boxes = pd.DataFrame([(r[0], ids[r[1]], *r[2:]) for r in rows], columns=BOX_COLUMNS)
    boxes = boxes.astype({"image_id": np.int64, "category_id": np.int64})
    boxes["area"] = boxes["w"] * boxes["h"]
    boxes["iscrowd"] = np.zeros(len(boxes), dtype=np.int64)
    images = pd.DataFrame(imgs, columns=["image_id", "file_name", "width", "height"])
    return _checked(GroundTruth(images, boxes, {i: n for n, i in ids.items()}, where), raw, fmt)


def _from_frame(df, images, classes, where: str, box_format: str | None) -> GroundTruth:
    raw, fmt = raw_boxes(df, where, box_format)
    sizes = _sizes(images, where)
    names = list(sizes)
    key = "file_name" if "file_name" in df.columns else None
    if key is None:
        raise DatasetError(f"{where} needs a file_name column naming each box's image.")
    ids = {n: i for i, n in enumerate(names, start=1)}
    missing = sorted(set(df[key].astype(str)) - set(ids))
    if missing:
        raise DatasetError(f"{where}: boxes for images that are not there: {missing[:5]}.")
    label = "label" if "label" in df.columns else "category_id"
    wh = np.array([sizes[str(f)] for f in df[key]], dtype=np.float64).reshape(-1, 2)
    xywh = to_xywh(raw, fmt, wh[:, 0], wh[:, 1])
    rows = [(ids[str(f)], str(c), *b) for f, c, b in zip(df[key], df[label], xywh.tolist())]
    imgs = [(ids[n], n, *sizes[n]) for n in names]
    cls = list(classes) if classes is not None else sorted({r[1] for r in rows})
    return _named_boxes(rows, imgs, cls, where, raw, fmt)


def _checked(gt: GroundTruth, raw=None, fmt: str | None = None) -> GroundTruth:
    """Refuse what cannot be meant; note boxes past their image and a likely format mistake.

    ``raw`` and ``fmt``: the boxes' numbers as given and the format they were read in, where
    the source leaves the format to the user (COCO, a DataFrame); None for VOC and YOLO."""
    imgs, b, where = gt.images, gt.boxes, gt.source
    if imgs["image_id"].duplicated().any():
        raise DatasetError(
            f"{where}: image ids repeat: {imgs['image_id'][imgs['image_id'].duplicated()].tolist()[:5]}."
        )
    known = b["image_id"].isin(imgs["image_id"]).to_numpy()
    if not known.all():
        bad = b["image_id"][~known].unique()[:5].tolist()
        raise DatasetError(
            f"{where}: {int((~known).sum())} annotation(s) for images that are not "
            f"there (image ids {bad}); every annotation's image_id must be an image's id."
        )
    cat_ok = b["category_id"].isin(list(gt.categories)).to_numpy()
    if not cat_ok.all():
        bad = b["category_id"][~cat_ok].unique()[:5].tolist()
        raise DatasetError(f"{where}: unknown category id(s) {bad}; the categories are {list(gt.categories)[:20]}.")
    W, H = box_sizes(b, imgs)
    notes = checked_boxes(b, raw, fmt, W, H, where=where, what="true box", arg="box_format")
    return gt._replace(notes=tuple(notes))


# ---------------------------------------------------------------------------- detections
def read_detections(source, gt: GroundTruth, *, box_format: str | None = None):
    """Read a detector's boxes and check them against the ground truth.

    Parameters
    ----------
    source : path, list of dict or DataFrame
        A COCO results ``.json`` (``[{"image_id", "category_id", "bbox", "score"}, ...]``), a
        ``.parquet``/``.csv`` file or a DataFrame with ``image_id`` (or ``file_name``),
        ``category_id`` (or ``label``), ``score`` (or ``confidence``) and ``x, y, w, h``,
        ``xmin, ymin, xmax, ymax`` or ``bbox`` columns (pixels).
    gt : GroundTruth
    box_format : str, default=None
        How the four numbers are given (one of :data:`BOX_FORMATS`); None reads them as their
        source says (``bbox`` and ``x, y, w, h``: ``xywh``; ``xmin...``: ``xyxy``).

    Returns
    -------
    DataFrame
        ``image_id``, ``category_id``, ``x``, ``y``, ``w``, ``h``, ``score``; boxes past their
        image kept as given; a likely format mistake told in a ``DataWarning``.
    """
    return read_detections_noted(source, gt, box_format=box_format)[0]


def read_detections_noted(source, gt: GroundTruth, *, box_format: str | None = None):
    """:func:`read_detections` and the notes it made: ``(DataFrame, list of str)``."""
    if box_format is not None and box_format not in BOX_FORMATS:
        raise ValueError(f"detection_format={box_format!r} is not one of {BOX_FORMATS}.")
    where = "the detections"
    if isinstance(source, (str, os.PathLike)):
        path, where = Path(source), str(source)
        if path.suffix.lower() == ".json":
            try:
                source = json.loads(path.read_text())
            except ValueError as e:
                raise DatasetError(f"{path} is not valid JSON ({e}).") from None
        elif path.suffix.lower() == ".parquet":
            source = pd.read_parquet(path)
        elif path.suffix.lower() == ".csv":
            source = pd.read_csv(path)
        else:
            raise DatasetError(
                f"Cannot read detections from {path}: give a COCO results .json, "
                "a .parquet or .csv file, or a DataFrame."
            )
    if isinstance(source, dict) and "annotations" in source:
        source = source["annotations"]
    df = pd.DataFrame(list(source)) if isinstance(source, list) else source
    if not isinstance(df, pd.DataFrame):
        raise DatasetError(
            f"Detections must be a COCO results list, a file or a DataFrame; got {type(source).__name__}."
        )
    if len(df):
        raw, fmt = raw_boxes(df, where, box_format)
        df = df.assign(x=raw[:, 0], y=raw[:, 1], w=raw[:, 2], h=raw[:, 3])
    else:
        df, raw, fmt = pd.DataFrame(columns=[*BOX_COLUMNS, "score"]), None, "xywh"
    if "image_id" not in df.columns and "file_name" in df.columns:
        ids = dict(zip(gt.images["file_name"], gt.images["image_id"]))
        missing = sorted(set(df["file_name"].astype(str)) - set(ids))
        if missing:
            raise DatasetError(f"{where}: detections on images the ground truth does not have: {missing[:5]}.")
        df["image_id"] = df["file_name"].astype(str).map(ids)
    if "category_id" not in df.columns and "label" in df.columns:
        ids = {n: i for i, n in gt.categories.items()}
        unknown = sorted(set(df["label"].astype(str)) - set(ids))
        if unknown:
            raise DatasetError(f"{where}: unknown classes {unknown[:5]}; the classes are {list(ids)[:20]}.")
        df["category_id"] = df["label"].astype(str).map(ids)
    if "score" not in df.columns and "confidence" in df.columns:
        df["score"] = df["confidence"]
    need = [c for c in (*BOX_COLUMNS, "score") if c not in df.columns]
    if need:
        raise DatasetError(f"{where} lacks {need}: each detection needs its image, class, box and score.")
    out = (
        df[[*BOX_COLUMNS, "score"]]
        .astype(
            {
                "image_id": np.int64,
                "category_id": np.int64,
                "x": np.float64,
                "y": np.float64,
                "w": np.float64,
                "h": np.float64,
                "score": np.float64,
            }
        )
        .reset_index(drop=True)
    )
    known = out["image_id"].isin(gt.images["image_id"]).to_numpy()
    if len(out) and not known.any():
        raise DatasetError(
            f"{where}: no detection's image id matches the ground truth's images "
            f"(detections name {out['image_id'].unique()[:5].tolist()}, the ground "
            f"truth has {gt.images['image_id'].head(5).tolist()}...); were they made "
            "on another annotation file?"
        )
    if not known.all():
        raise DatasetError(
            f"{where}: {int((~known).sum())} detection(s) on images the ground truth "
            f"does not have (ids {out['image_id'][~known].unique()[:5].tolist()})."
        )
    cat_ok = out["category_id"].isin(list(gt.categories)).to_numpy()
    if not cat_ok.all():
        raise DatasetError(
            f"{where}: unknown category id(s) "
            f"{out['category_id'][~cat_ok].unique()[:5].tolist()}; the categories "
            f"are {list(gt.categories)[:20]}."
        )
    W, H = box_sizes(out, gt.images)
    if raw is not None:
        out[["x", "y", "w", "h"]] = to_xywh(raw, fmt, W, H)
    notes = checked_boxes(
        out, raw, fmt, W, H, where=where, what="detection", arg="detection_format", truth=gt.boxes, scores=out["score"]
    )
    return out, notes
