"""Which cells of the confusion matrix a metric's terms are counted in (the dashboard marks them).

:func:`cells_used` answers for one metric and one class: the class's TP cell, its FP column
(the other rows of its predicted column) and its FN row (the other columns of its true row),
the diagonal for accuracy-like metrics. A metric made from the scores (ROC AUC, log loss...)
uses no cell, and says so.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

__all__ = ["CellsUsed", "cells_used"]

#: per-class ratios: which of TP, FP, FN their formula counts
_PARTS = {
    "precision": ("tp", "fp"),
    "recall": ("tp", "fn"),
    "f1": ("tp", "fp", "fn"),
    "iou": ("tp", "fp", "fn"),
    "dice": ("tp", "fp", "fn"),
}
_ALIASES = {"balanced_accuracy": "recall", "mean_class_accuracy": "recall", "frequency_weighted_iou": "iou"}
_DIAGONAL = ("accuracy", "pixel_accuracy", "cohen_kappa", "mcc")


@dataclass(frozen=True)
class CellsUsed:
    """The cells of an ``n`` x ``n`` matrix (rows true, columns predicted) one metric counts.

    Attributes
    ----------
    tp, fp, fn : list of (int, int)
        The class's true-positive cell; the cells of its column off the diagonal (predicted as
        it, another class true); the cells of its row off the diagonal (it true, another
        predicted). Empty when the metric does not count them.
    diagonal : bool
        The metric counts the whole diagonal (accuracy, kappa, MCC: each right answer).
    whole : bool
        Every cell counts (kappa's and MCC's row and column totals).
    cls : int or None
        The class whose cells these are.
    what : str
        One line saying which cells are marked, in words.
    """

    tp: list = field(default_factory=list)
    fp: list = field(default_factory=list)
    fn: list = field(default_factory=list)
    diagonal: bool = False
    whole: bool = False
    cls: int | None = None
    what: str = ""

    @property
    def any(self) -> bool:
        """Whether any cell is marked."""
        return bool(self.tp or self.fp or self.fn or self.diagonal)

    def mask(self, n: int) -> np.ndarray:
        """An ``n`` x ``n`` bool array, True on every marked cell."""
        out = np.zeros((n, n), bool)
        for i, j in self.tp + self.fp + self.fn:
            out[i, j] = True
        if self.diagonal:
            out[np.arange(n), np.arange(n)] = True
        return out


def _ratio(metric: str) -> tuple[str | None, str | None]:
    """The per-class ratio a metric is made of, and how it averages (None: one class's value)."""
    if metric in _ALIASES:
        return _ALIASES[metric], "weighted" if metric == "frequency_weighted_iou" else "macro"
    m = re.fullmatch(r"(mean_)?(precision|recall|f1|iou|dice)(?:_(macro|micro|weighted))?", metric)
    if m is None:
        return None, None
    return m[2], m[3] or ("macro" if m[1] else None)


def cells_used(metric: str, n: int, cls: int | None, names=None) -> CellsUsed:
    """The cells of an ``n``-class matrix that ``metric`` counts, for class ``cls``.

    Parameters
    ----------
    metric : str
        A key of ``ev.scores``.
    n : int
        Classes (the matrix is ``n`` x ``n``).
    cls : int or None
        The class explained: for an average, the class whose share is shown (its TP, FP and
        FN cells); None marks no class's cells.
    names : sequence of str, optional
        Class names, for :attr:`CellsUsed.what`.

    Returns
    -------
    CellsUsed
    """
    name = (lambda c: str(names[c])) if names is not None else str
    ratio, avg = _ratio(metric)
    if ratio is not None and cls is not None and 0 <= cls < n:
        parts = _PARTS[ratio]
        others = [c for c in range(n) if c != cls]
        used = CellsUsed(
            tp=[(cls, cls)],
            fp=[(r, cls) for r in others] if "fp" in parts else [],
            fn=[(cls, c) for c in others] if "fn" in parts else [],
            cls=cls,
        )
        words = ["its TP cell"] + [w for p, w in (("fp", "its FP column"), ("fn", "its FN row")) if p in parts]
        share = f"; {avg} average of every class's value" if avg else ""
        return CellsUsed(**{**used.__dict__, "what": f"class {name(cls)}: {', '.join(words)}{share}"})
    if metric in _DIAGONAL:
        whole = metric in ("cohen_kappa", "mcc")
        what = "the diagonal (the right answers)" + (", over every row's and column's total" if whole else "")
        return CellsUsed(diagonal=True, whole=whole, what=what)
    if ratio is not None:
        return CellsUsed(what="choose a focus class to see its cells")
    return CellsUsed(what="made from the scores, not from the matrix's cells")
