"""The cells of a drawn confusion matrix that an explained metric counts.

Two bqplot line marks over the matrix's cells (row ``i``, column ``j`` centred on ``x = j``,
``y = i``): the class's TP cell, or each diagonal cell, outlined solid; its FP column and its
FN row outlined dotted, all in the palette's :data:`~h5eval_widgets.core.results.palette.EXPLAINED`
colour. The legend says which cells they are in words.
"""

from __future__ import annotations

import html
from typing import Callable

import bqplot as bq
import numpy as np

from ..core.results import palette
from ..core.results.cells_used import CellsUsed

__all__ = ["UsedCells", "USED_STROKE", "USED_WIDTH"]

USED_STROKE = palette.EXPLAINED
USED_WIDTH = 3


def _box(r0: float, c0: float, r1: float, c1: float, inset: float) -> tuple[list, list]:
    """The x and y of a closed line around rows ``r0..r1`` and columns ``c0..c1``."""
    a, b, top, bottom = c0 - inset, c1 + inset, r0 - inset, r1 + inset
    return [a, b, b, a, a], [top, top, bottom, bottom, top]


class UsedCells:
    """The two marks (``cells`` solid, ``spans`` dotted) and what they show (``used``)."""

    def __init__(self, x: bq.LinearScale, y: bq.LinearScale):
        self.cells, self.spans = (
            bq.Lines(
                x=np.zeros((1, 5)),
                y=np.zeros((1, 5)),
                scales={"x": x, "y": y},
                colors=[USED_STROKE],
                stroke_width=USED_WIDTH,
                line_style=style,
                visible=False,
            )
            for style in ("solid", "dotted")
        )
        self.marks = [self.cells, self.spans]
        self.used: CellsUsed | None = None
        self.positions: Callable[[int], int | None] | None = None

    def draw(self, used: CellsUsed | None, n: int, positions: Callable[[int], int | None] | None = None) -> None:
        """Outline what ``used`` marks on an ``n`` x ``n`` drawing; ``positions`` maps a class to
        its drawn row (None when it is not drawn), when not every class is drawn."""
        self.used, self.positions = used, positions
        pos = positions or (lambda c: c if 0 <= c < n else None)
        cells, spans = [], []
        k = None if used is None or used.cls is None else pos(used.cls)
        if k is not None:
            cells.append(_box(k, k, k, k, 0.36))
            if used.fp:
                spans.append(_box(0, k, n - 1, k, 0.46))
            if used.fn:
                spans.append(_box(k, 0, k, n - 1, 0.46))
        elif used is not None and used.diagonal:
            cells = [_box(i, i, i, i, 0.36) for i in range(n)]
        for mark, boxes in ((self.cells, cells), (self.spans, spans)):
            with mark.hold_sync():
                if boxes:
                    mark.x = np.array([b[0] for b in boxes], np.float64)
                    mark.y = np.array([b[1] for b in boxes], np.float64)
                mark.visible = bool(boxes)

    @property
    def shown(self) -> bool:
        """Whether any cell is outlined."""
        return bool(self.cells.visible or self.spans.visible)

    def legend(self, box: str) -> list[str]:
        """The legend's item (a list of none or one HTML span); ``box``: the swatch's style."""
        if not self.shown:
            return []
        dotted = "; the column or row dotted" if self.spans.visible else ""
        return [
            f"<span><span style='{box};border:{USED_WIDTH}px solid "
            f"{USED_STROKE}'></span>counted in the explained metric ({html.escape(self.used.what)}{dotted})</span>"
        ]
