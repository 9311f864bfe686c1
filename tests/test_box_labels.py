"""Box labels on detection pictures (issue 32, item 5): at least 11 px of text on a background
of the box's colour, with text of contrast at least 4.5:1, never overlapping, inside the image."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
from PIL import Image, ImageDraw

from h5eval_widgets.views._boxes import (
    HIGHLIGHT,
    LABEL_PX,
    PRED_COLOR,
    TRUE_COLOR,
    _font,
    draw_boxes,
    place_labels,
    text_color,
)


def _contrast(a, b) -> float:
    def lum(rgb):
        c = [v / 255 for v in rgb]
        c = [v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4 for v in c]
        return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2]

    hi, lo = sorted((lum(a), lum(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def _crowded(n=12):
    """``n`` detections piled on one spot of a 200x200 image, one of them highlighted."""
    rng = np.random.default_rng(0)
    xy = rng.uniform(40, 60, (n, 2))
    return pd.DataFrame(
        {"x": xy[:, 0], "y": xy[:, 1], "w": 50.0, "h": 40.0, "label": "cat", "score": rng.uniform(0.1, 1, n)}
    )


def test_labels_never_overlap_and_are_tall_enough_inside_the_image():
    """Check twelve piled-up detections get labels that overlap none other, each at least
    LABEL_PX (>= 11) px high, inside the picture; the highlighted one's label is placed."""
    dets = _crowded()
    img = Image.new("RGB", (200, 200))
    draw = ImageDraw.Draw(img)
    labels = [
        (row != 5, -float(b.score), (b.x, b.y, b.x + b.w, b.y + b.h), HIGHLIGHT if row == 5 else PRED_COLOR, "cat")
        for row, b in dets.iterrows()
    ]
    placed = place_labels(draw, labels, _font(), img.size)
    assert LABEL_PX >= 11 and 2 <= len(placed) < len(dets)  # piled up: some labels cannot fit
    rects = [r for r, *_ in placed]
    for i, a in enumerate(rects):
        assert a[3] - a[1] >= LABEL_PX and 0 <= a[0] and a[2] <= 200 and 0 <= a[1] and a[3] <= 200
        for b in rects[i + 1 :]:
            assert a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1], (a, b)
    assert placed[0][1] == HIGHLIGHT  # the highlighted box's label first


def test_labels_are_drawn_on_their_box_colour_with_readable_text():
    """Check the drawn picture: each label's background is its box's colour, and the text colour
    chosen for each of the three box colours has contrast >= 4.5:1 on it."""
    dets = _crowded(1)
    png = draw_boxes(None, (200, 200), pd.DataFrame(columns=["x", "y", "w", "h", "label"]), dets, max_side=200)
    a = np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))
    x, y = int(dets.x[0]), int(dets.y[0])
    patch = a[y - LABEL_PX - 2 : y - 1, x + 1 : x + 30].reshape(-1, 3)  # the label above the box
    assert (patch == PRED_COLOR).all(axis=1).mean() > 0.5 and (patch == text_color(PRED_COLOR)).all(axis=1).any()
    for colour in (PRED_COLOR, TRUE_COLOR, HIGHLIGHT):
        assert _contrast(colour, text_color(colour)) >= 4.5
