"""Boxes drawn on an image as a PNG: true boxes solid, predicted boxes dashed with class and score,
the boxes of a selected confusion cell highlighted.

Labels are at least :data:`LABEL_PX` pixels high, on a background of their box's colour with
black or white text (whichever contrasts more), and never overlap: each takes the first free
place above, inside or below its box, the highlighted boxes' and the most confident first; a
label with no free place is left out (its box is still drawn).
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np

from ..core.results.palette import text_on

__all__ = ["draw_boxes", "TRUE_COLOR", "PRED_COLOR", "HIGHLIGHT"]

#: Okabe-Ito bluish green, blue and vermillion (the palette's selection colour)
TRUE_COLOR = (0, 158, 115)
PRED_COLOR = (0, 114, 178)
HIGHLIGHT = (213, 94, 0)
#: the height of a label's text in drawn pixels
LABEL_PX = 12


def text_color(background) -> tuple[int, int, int]:
    """Black or white, whichever has the higher contrast on ``background`` (the palette's
    :func:`~h5eval_widgets.core.results.palette.text_on`), as RGB."""
    on = text_on("#{:02x}{:02x}{:02x}".format(*background))
    return tuple(int(on[k : k + 2], 16) for k in (1, 3, 5))


def _font():
    from PIL import ImageFont

    try:
        return ImageFont.load_default(size=LABEL_PX)
    except (TypeError, OSError):  # a Pillow without FreeType: its fixed bitmap font (11 px)
        return ImageFont.load_default()


def place_labels(draw, labels, font, bounds) -> list:
    """Where each label goes: ``(rectangle, colour, text, text offset)`` for those that fit.

    ``labels``: ``(not highlighted, -score, box corners, colour, text)``; they are placed
    highlighted first, then the most confident first, each at the first free place."""
    taken, out = [], []
    for _, _, xy, color, text in sorted(labels, key=lambda t: t[:2]):
        left, top, right, bottom = draw.textbbox((0, 0), text, font=font)
        r = _place(xy, (right - left + 4, bottom - top + 4), taken, bounds)
        if r is not None:
            taken.append(r)
            out.append((r, color, text, (left, top)))
    return out


def _place(xy, size, taken, bounds):
    """The label's rectangle: the first of above, inside and below the box that lies within
    ``bounds`` and overlaps no rectangle in ``taken``; None when every one does."""
    x0, y0, _, y1 = xy
    w, h = size
    W, H = bounds
    x = min(max(0.0, x0), max(0.0, W - w))
    for y in (y0 - h, y0, y1):
        r = (x, y, x + w, y + h)
        if y < 0 or y + h > H:
            continue
        if all(r[2] <= t[0] or r[0] >= t[2] or r[3] <= t[1] or r[1] >= t[3] for t in taken):
            return r
    return None


def _dashed(draw, xy, color, width: int, dash: int = 6) -> None:
    x0, y0, x1, y1 = xy
    for a, b, fixed, horizontal in ((x0, x1, y0, True), (x0, x1, y1, True), (y0, y1, x0, False), (y0, y1, x1, False)):
        t = a
        while t < b:
            e = min(t + dash, b)
            draw.line([(t, fixed), (e, fixed)] if horizontal else [(fixed, t), (fixed, e)], fill=color, width=width)
            t += 2 * dash


def draw_boxes(
    path: str | Path | None,
    size: tuple[float, float],
    true_boxes,
    detections,
    *,
    highlight_true=(),
    highlight_pred=(),
    max_side: int = 240,
) -> bytes:
    """A PNG of the image at ``path`` (a grey canvas of ``size`` = (width, height) when there is
    none) with its boxes drawn, scaled to at most ``max_side`` pixels.

    ``true_boxes`` and ``detections`` are frames with ``x, y, w, h`` and ``label`` (detections
    also ``score``), indexed by their rows; rows in ``highlight_*`` are drawn thick in orange.
    """
    from PIL import Image, ImageDraw

    W, H = float(size[0]), float(size[1])
    if path is not None and Path(path).is_file():
        with Image.open(path) as im:
            img = im.convert("RGB")
    else:
        img = Image.new("RGB", (max(1, int(W)), max(1, int(H))), (225, 225, 225))
    scale = min(1.0, max_side / max(img.size))
    img = img.resize((max(1, int(img.size[0] * scale)), max(1, int(img.size[1] * scale))))
    s = img.size[0] / W if W > 0 else scale  # annotation pixels -> drawn pixels
    draw = ImageDraw.Draw(img)
    hi_t, hi_p = set(np.asarray(highlight_true).tolist()), set(np.asarray(highlight_pred).tolist())
    for row, b in true_boxes.iterrows():
        hit = row in hi_t
        draw.rectangle(
            [b.x * s, b.y * s, (b.x + b.w) * s, (b.y + b.h) * s],
            outline=HIGHLIGHT if hit else TRUE_COLOR,
            width=3 if hit else 1,
        )
    labels = []
    for row, b in detections.iterrows():
        hit = row in hi_p
        color = HIGHLIGHT if hit else PRED_COLOR
        xy = (b.x * s, b.y * s, (b.x + b.w) * s, (b.y + b.h) * s)
        _dashed(draw, xy, color, 3 if hit else 1)
        labels.append((not hit, -float(b.score), xy, color, f"{b.label} {b.score:.2f}"))
    font = _font()
    for r, color, text, (left, top) in place_labels(draw, labels, font, img.size):
        draw.rectangle(r, fill=color)
        draw.text((r[0] + 2 - left, r[1] + 2 - top), text, fill=text_color(color), font=font)
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()
