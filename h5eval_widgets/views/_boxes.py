"""Boxes drawn on an image as a PNG: true boxes solid, predicted boxes dashed with class and score,
the boxes of a selected confusion cell highlighted."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np

__all__ = ["draw_boxes", "TRUE_COLOR", "PRED_COLOR", "HIGHLIGHT"]

TRUE_COLOR = (46, 160, 67)
PRED_COLOR = (31, 119, 180)
HIGHLIGHT = (255, 127, 14)


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
    for row, b in detections.iterrows():
        hit = row in hi_p
        color = HIGHLIGHT if hit else PRED_COLOR
        xy = (b.x * s, b.y * s, (b.x + b.w) * s, (b.y + b.h) * s)
        _dashed(draw, xy, color, 3 if hit else 1)
        draw.text((xy[0] + 2, max(0, xy[1] - 11)), f"{b.label} {b.score:.2f}", fill=color)
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()
