"""Boxes checked against their images, the way pycocotools reads them.

- What cannot be a box (a NaN or infinite coordinate, a negative width or height) is refused
  with the file, the box and the image named.
- A box reaching past its image is evaluated as given, as pycocotools does, and counted in a
  note ("12 true boxes reach past their image, by up to 60 px ...").
- A likely format mistake is told in a :class:`~h5eval_widgets.core.errors.DataWarning` and
  a note that names the cause and the argument that fixes it. Three signs are read:
  every coordinate within [0, 1] on images hundreds of pixels wide (normalised coordinates),
  a large share of boxes far outside their images, and detections matching no true box where
  the same numbers read in another format would. The other formats are tried on the same
  numbers; those that fit are named.

Nothing here reads or writes a file.
"""

from __future__ import annotations

import warnings

import numpy as np

from ..errors import DataWarning, DatasetError

__all__ = [
    "BOX_FORMATS",
    "EDGE_TOLERANCE",
    "to_xywh",
    "raw_boxes",
    "box_sizes",
    "check_boxes",
    "checked_boxes",
    "fitting_formats",
    "format_hints",
]

#: the box formats KerasHub names (``bounding_box_format``); ``rel_`` ones are fractions of the image
BOX_FORMATS = (
    "xyxy",
    "yxyx",
    "xywh",
    "center_xywh",
    "center_yxhw",
    "rel_xyxy",
    "rel_yxyx",
    "rel_xywh",
    "rel_center_xywh",
)
#: how far (pixels) a box may reach past its image's edge before a note counts it (COCO's own
#: annotations overshoot by fractions of a pixel)
EDGE_TOLERANCE = 1.0
#: a box is "far outside" when it reaches past an edge by more than this share of the image's side
FAR_OUTSIDE = 0.1
#: the share of boxes far outside their images that suggests a format mistake
FAR_SHARE = 0.2
#: the IoU at which a detection is said to match a true box, for the format check
MATCH_IOU = 0.5
#: detections checked for matches (the highest scores first), to keep the check fast
MATCH_SAMPLE = 5000

_WORDS = {
    "xywh": "[x, y, width, height] (COCO's format)",
    "xyxy": "corners [x1, y1, x2, y2]",
    "yxyx": "corners [y1, x1, y2, x2]",
    "center_xywh": "centres [cx, cy, width, height]",
    "center_yxhw": "centres [cy, cx, height, width]",
}


def _words(fmt: str) -> str:
    if fmt.startswith("rel_"):
        return f"{_WORDS[fmt[4:]]} as fractions of the image"
    return f"{_WORDS[fmt]} in pixels"


def to_xywh(boxes, fmt: str, width, height) -> np.ndarray:
    """Boxes of shape (n, 4) in ``fmt`` as pixel ``[x, y, w, h]``.

    Parameters
    ----------
    boxes : array-like of shape (n, 4)
    fmt : str
        One of :data:`BOX_FORMATS`.
    width, height : float or array of shape (n,)
        The images' sizes, used by the ``rel_`` formats (fractions of the image).

    Returns
    -------
    ndarray of shape (n, 4), float64
    """
    if fmt not in BOX_FORMATS:
        raise ValueError(f"box format {fmt!r} is not one of {BOX_FORMATS}.")
    b = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    base = fmt[4:] if fmt.startswith("rel_") else fmt
    if base in ("yxyx", "center_yxhw"):
        b = b[:, [1, 0, 3, 2]]
        base = "xyxy" if base == "yxyx" else "center_xywh"
    if base == "xyxy":
        b = np.column_stack([b[:, 0], b[:, 1], b[:, 2] - b[:, 0], b[:, 3] - b[:, 1]])
    elif base == "center_xywh":
        b = np.column_stack([b[:, 0] - b[:, 2] / 2, b[:, 1] - b[:, 3] / 2, b[:, 2], b[:, 3]])
    if fmt.startswith("rel_"):
        w, h = np.broadcast_arrays(np.asarray(width, np.float64), np.asarray(height, np.float64))
        b = b * np.stack([w, h, w, h], axis=-1)
    return b


def _plural(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def _overshoot(xywh: np.ndarray, W: np.ndarray, H: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per box: the largest reach past an edge in pixels, and in shares of the image's side."""
    x, y, w, h = xywh.T
    px = np.column_stack([-x, -y, x + w - W, y + h - H])
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = px / np.column_stack([W, H, W, H])
    return px.max(axis=1), rel.max(axis=1)


def check_boxes(boxes, W, H, *, where: str, what: str, negative_fix: str | None = None) -> list[str]:
    """Refuse what cannot be a box; count the boxes that reach past their image.

    Parameters
    ----------
    boxes : DataFrame
        ``image_id`` and pixel ``x``, ``y``, ``w``, ``h``.
    W, H : array of shape (n,)
        Each box's image width and height.
    where : str
        The file or object the boxes came from (named in errors).
    what : {'true box', 'detection'}
    negative_fix : str, default=None
        The fix the error for a negative size names (by default: boxes are [x, y, width, height]).

    Returns
    -------
    list of str
        The notes (empty, or one counting the boxes past their image's edge).

    Raises
    ------
    DatasetError
        For a NaN or infinite coordinate, or a negative width or height.
    """
    xywh = boxes[["x", "y", "w", "h"]].to_numpy(np.float64)
    many = "true boxes" if what == "true box" else what + "s"

    def refuse(bad: np.ndarray, problem: str, fix: str):
        i = int(np.flatnonzero(bad)[0])
        raise DatasetError(
            f"{where}: {_plural(int(bad.sum()), what, many)} with {problem}, the first box {xywh[i].tolist()} on image {int(boxes['image_id'].iloc[i])}; {fix}"
        )

    bad = ~np.isfinite(xywh).all(axis=1)
    if bad.any():
        refuse(bad, "a missing (NaN) or infinite coordinate", "every box needs four numbers.")
    neg = (xywh[:, 2] < 0) | (xywh[:, 3] < 0)
    if neg.any():
        refuse(neg, "negative size", negative_fix or "boxes are [x, y, width, height].")
    px, _ = _overshoot(xywh, np.asarray(W, np.float64), np.asarray(H, np.float64))
    out = px > EDGE_TOLERANCE
    if not out.any():
        return []
    n = int(out.sum())
    verb = "reaches" if n == 1 else "reach"
    return [
        f"{_plural(n, what, many)} {verb} past {'its' if n == 1 else 'their'} image, by up to "
        f"{float(np.nanmax(px)):.0f} px; evaluated as given, as pycocotools does."
    ]


def _fits(xywh: np.ndarray, W: np.ndarray, H: np.ndarray) -> bool:
    """Every box has a positive size and none lies far outside its image."""
    if not len(xywh) or not np.isfinite(xywh).all():
        return False
    _, rel = _overshoot(xywh, W, H)
    return bool((xywh[:, 2] > 0).all() and (xywh[:, 3] > 0).all() and (rel <= FAR_OUTSIDE).all())


def fitting_formats(raw, fmt: str, W, H) -> list[str]:
    """The formats other than ``fmt`` in which every box has a positive size and lies within
    (or near) its image."""
    raw = np.asarray(raw, np.float64).reshape(-1, 4)
    W, H = np.asarray(W, np.float64), np.asarray(H, np.float64)
    return [f for f in BOX_FORMATS if f != fmt and _fits(to_xywh(raw, f, W, H), W, H)]


def _match_rate(xywh, image_id, truth) -> float:
    """The share of boxes whose IoU with some true box of their image is at least MATCH_IOU."""
    if not len(xywh):
        return 0.0
    t = truth[["image_id", "x", "y", "w", "h"]].to_numpy(np.float64)
    order = np.argsort(t[:, 0], kind="stable")
    t = t[order]
    ids = t[:, 0]
    lo = np.searchsorted(ids, image_id, "left")
    hi = np.searchsorted(ids, image_id, "right")
    hit = 0
    for (x, y, w, h), a, b in zip(xywh, lo, hi):
        if a == b:
            continue
        tx, ty, tw, th = t[a:b, 1:].T
        iw = np.clip(np.minimum(x + w, tx + tw) - np.maximum(x, tx), 0, None)
        ih = np.clip(np.minimum(y + h, ty + th) - np.maximum(y, ty), 0, None)
        inter = iw * ih
        with np.errstate(divide="ignore", invalid="ignore"):
            iou = inter / (w * h + tw * th - inter)
        hit += bool((iou >= MATCH_IOU).any())
    return hit / len(xywh)


def format_hints(
    raw,
    fmt: str,
    image_id,
    W,
    H,
    *,
    what: str,
    where: str,
    arg: str,
    truth=None,
    scores=None,
) -> list[str]:
    """Warn when the boxes look given in another format than ``fmt``; the notes that say so.

    Parameters
    ----------
    raw : array of shape (n, 4)
        The four numbers of each box as read, before conversion.
    fmt : str
        The format they were read in (one of :data:`BOX_FORMATS`).
    image_id, W, H : arrays of shape (n,)
        Each box's image id and its image's width and height.
    what : {'true box', 'detection'}
    where : str
        The file or object the boxes came from.
    arg : str
        The argument that sets the format (named in the fix).
    truth : DataFrame, default=None
        The true boxes (pixel ``x, y, w, h`` and ``image_id``): detections that match none of
        them in ``fmt`` but do in another format are told too.
    scores : array of shape (n,), default=None
        The detections' scores: the highest ``MATCH_SAMPLE`` are checked for matches.

    Returns
    -------
    list of str
        At most one note; the same text is issued as a :class:`DataWarning`.
    """
    raw = np.asarray(raw, np.float64).reshape(-1, 4)
    if not len(raw):
        return []
    W, H = np.asarray(W, np.float64), np.asarray(H, np.float64)
    image_id = np.asarray(image_id)
    many = "true boxes" if what == "true box" else what + "s"
    others = [f for f in BOX_FORMATS if f != fmt]
    xywh = to_xywh(raw, fmt, W, H)
    sign = ""
    fitting: list[str] = []
    if not fmt.startswith("rel_") and np.abs(raw).max() <= 1.0 and np.median(np.minimum(W, H)) >= 64:
        sign = f"every coordinate of the {len(raw)} {many} lies within [0, 1] on images hundreds of pixels wide"
        fitting = [f for f in others if f.startswith("rel_") and _fits(to_xywh(raw, f, W, H), W, H)]
    else:
        _, rel = _overshoot(xywh, W, H)
        far = rel > FAR_OUTSIDE
        if far.mean() >= FAR_SHARE and far.sum() >= 2:
            sign = (
                f"{int(far.sum())} of the {len(raw)} {many} lie far outside their images (past an edge by "
                f"more than {FAR_OUTSIDE:.0%} of the image)"
            )
            fitting = fitting_formats(raw, fmt, W, H)
        elif truth is not None and len(truth):
            keep = slice(None) if scores is None else np.argsort(-np.asarray(scores), kind="stable")[:MATCH_SAMPLE]
            rate = _match_rate(xywh[keep], image_id[keep], truth)
            if rate < 0.05 and len(raw) >= 10:
                rates = {f: _match_rate(to_xywh(raw[keep], f, W[keep], H[keep]), image_id[keep], truth) for f in others}
                best = max(rates.values())
                if best >= 0.25:
                    sign = (
                        f"{rate:.0%} of the {many} match a true box (IoU {MATCH_IOU:g}) as read, but "
                        f"{best:.0%} do when read as {max(rates, key=rates.get)!r}"
                    )
                    fitting = [f for f, r in rates.items() if r >= 0.5 * best]
    if not sign:
        return []
    if fitting:
        likely = " or ".join(_words(f) for f in fitting)
        fix = " or ".join(f"{arg}={f!r}" for f in fitting)
        text = f"{where}: {sign}. They look like {likely}, where they were read as {_words(fmt)}; if so, pass {fix}."
    else:
        text = (
            f"{where}: {sign}. Check the box format: they were read as {_words(fmt)}; "
            f"{arg}= names another (one of {', '.join(BOX_FORMATS)})."
        )
    warnings.warn(text, DataWarning, stacklevel=2)
    return [text]


def raw_boxes(df, where: str, box_format: str | None) -> tuple[np.ndarray, str]:
    """A frame's four numbers per box, as given, and the format they are read in."""
    if {"x", "y", "w", "h"} <= set(df.columns):
        return df[["x", "y", "w", "h"]].to_numpy(np.float64), box_format or "xywh"
    if {"xmin", "ymin", "xmax", "ymax"} <= set(df.columns):
        return df[["xmin", "ymin", "xmax", "ymax"]].to_numpy(np.float64), box_format or "xyxy"
    if "bbox" in df.columns:
        return np.array(df["bbox"].tolist(), dtype=np.float64).reshape(-1, 4), box_format or "xywh"
    raise DatasetError(
        f"{where} has no boxes: give columns x, y, w, h (pixels, top-left corner), "
        f"xmin, ymin, xmax, ymax, or bbox; it has {list(df.columns)[:12]}."
    )


def box_sizes(b, imgs) -> tuple[np.ndarray, np.ndarray]:
    """Each box's image width and height."""
    size = imgs.set_index("image_id")[["width", "height"]]
    return (
        size["width"].reindex(b["image_id"]).to_numpy(np.float64),
        size["height"].reindex(b["image_id"]).to_numpy(np.float64),
    )


def checked_boxes(b, raw, fmt, W, H, *, where: str, what: str, arg: str, truth=None, scores=None) -> list[str]:
    """:func:`check_boxes`, then :func:`format_hints` when the format was the user's to give."""
    fix = "boxes are [x, y, width, height]."
    if raw is not None and ((b["w"] < 0) | (b["h"] < 0)).any():
        fits = fitting_formats(raw, fmt, W, H)
        if fits:
            fix = (
                f"they were read as {fmt!r}; if they are {' or '.join(fits)}, pass "
                + " or ".join(f"{arg}={f!r}" for f in fits)
                + "."
            )
    notes = check_boxes(b, W, H, where=where, what=what, negative_fix=fix)
    if raw is not None:
        notes += format_hints(
            raw, fmt, b["image_id"].to_numpy(), W, H, what=what, where=where, arg=arg, truth=truth, scores=scores
        )
    return notes
