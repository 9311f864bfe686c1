"""Split conformal prediction from sorted calibration scores: sets, p-values and intervals.

The non-conformity score of a label is ``1 - p`` (LAC) or the probability mass of the labels at
least as probable, that label included (APS, not randomised). The calibration set's true-label
scores are sorted once; a label's p-value is crepes' non-smoothed one,
``(#calibration scores >= s + 1) / (n + 1)``, found by a binary search, and a label is in the
set when its p-value is above ``alpha``. As the p-value only falls when the score rises, the set
at any ``alpha`` is "score <= one threshold" (one per class, class-conditional): moving ``alpha``
is a binary search, not a pass over the scores.

Regression intervals follow crepes' ``ConformalRegressor``: the absolute residuals (divided by a
difficulty estimate when normalised) sorted from the largest, and the half-width the residual
of rank ``int((1 - confidence) * (n + 1))`` with ``confidence = 1 - alpha``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = [
    "METHODS",
    "lac_scores",
    "aps_scores",
    "label_scores",
    "SortedScores",
    "ClassConditionalScores",
    "smallest_calibration",
    "regression_radius",
]

#: the non-conformity scores of a classification
METHODS = ("lac", "aps")


def lac_scores(proba: np.ndarray) -> np.ndarray:
    """LAC scores, ``1 - p`` for every label: shape (n_samples, n_classes), in ``proba``'s dtype."""
    proba = np.asarray(proba)
    return (1 - proba).astype(proba.dtype, copy=False)


def aps_scores(proba: np.ndarray, *, chunk: int = 65536) -> np.ndarray:
    """APS scores (not randomised): for every label, the sum of the probabilities of the labels
    ranked at or above it, itself included (ties ranked by class index, lower first).

    MAPIE's APS score is this minus ``u * p`` with ``u`` uniform (its randomised form); with
    ``u = 0`` it is this. Computed in chunks of rows so the sort's indices stay small.
    """
    proba = np.asarray(proba)
    out = np.empty_like(proba)
    for start in range(0, len(proba), chunk):
        block = proba[start : start + chunk]
        order = np.argsort(-block, axis=1, kind="stable")
        cums = np.cumsum(np.take_along_axis(block, order, axis=1), axis=1, dtype=proba.dtype)
        np.put_along_axis(out[start : start + chunk], order, cums, axis=1)
    return out


def label_scores(proba: np.ndarray, method: str) -> np.ndarray:
    """The scores of every label by ``method`` (``'lac'`` or ``'aps'``)."""
    if method == "lac":
        return lac_scores(proba)
    if method == "aps":
        return aps_scores(proba)
    raise ValueError(f"method={method!r} is not one of {METHODS}; use 'lac' (1 - p) or 'aps' (adaptive sets).")


def smallest_calibration(alpha: float) -> int:
    """The fewest calibration scores with which some label can be left out at ``alpha``: the
    smallest p-value is ``1 / (n + 1)``, so ``n`` must reach ``1 / alpha - 1``."""
    return int(np.ceil(1 / alpha - 1 - 1e-9))


@dataclass(frozen=True)
class SortedScores:
    """One calibration set's true-label scores, sorted once (ascending).

    Attributes
    ----------
    sorted : ndarray of shape (n,)
        The scores, ascending.
    """

    sorted: np.ndarray
    #: the p-value of "c calibration scores at least as large", for c = 0..n (ascending)
    _grid: np.ndarray = field(init=False, repr=False)

    def __post_init__(self):
        s = np.sort(np.asarray(self.sorted).ravel())
        s.flags.writeable = False
        object.__setattr__(self, "sorted", s)
        object.__setattr__(self, "_grid", (np.arange(len(s)) + 1.0) / (len(s) + 1))

    @property
    def n(self) -> int:
        return len(self.sorted)

    def at_least(self, scores) -> np.ndarray:
        """How many calibration scores are ``>=`` each of ``scores`` (any shape)."""
        return self.n - np.searchsorted(self.sorted, scores, side="left")

    def p_values(self, scores) -> np.ndarray:
        """crepes' non-smoothed p-values, ``(#cal >= s + 1) / (n + 1)``, of ``scores``."""
        return (self.at_least(scores) + 1.0) / (self.n + 1)

    def threshold(self, alpha: float) -> float:
        """The largest score whose p-value is above ``alpha`` (a label is in the set when its
        score is ``<=`` it): ``+inf`` when every p-value is (too few scores for ``alpha``)."""
        # the fewest calibration scores >= s that give p > alpha, with crepes' float p-values
        need = int(np.searchsorted(self._grid, alpha, side="right"))
        if need == 0:
            return float("inf")
        return float(self.sorted[self.n - need])


@dataclass(frozen=True)
class ClassConditionalScores:
    """One :class:`SortedScores` per class (Mondrian by the true class, as crepes' class-conditional
    conformal classifier): a label is judged against the calibration samples of its own class."""

    by_class: tuple[SortedScores, ...]

    @classmethod
    def from_scores(cls, scores, y, n_classes: int) -> "ClassConditionalScores":
        scores, y = np.asarray(scores), np.asarray(y)
        return cls(tuple(SortedScores(scores[y == c]) for c in range(n_classes)))

    @property
    def counts(self) -> np.ndarray:
        """Calibration samples per class."""
        return np.array([s.n for s in self.by_class], dtype=np.int64)

    def p_values(self, scores: np.ndarray) -> np.ndarray:
        """The p-value of every label (column c against class c's scores), shape of ``scores``."""
        return np.stack([s.p_values(scores[:, c]) for c, s in enumerate(self.by_class)], axis=1)

    def threshold(self, alpha: float) -> np.ndarray:
        """Each class's threshold, shape (n_classes,)."""
        return np.array([s.threshold(alpha) for s in self.by_class], dtype=np.float64)


def regression_radius(sorted_desc: np.ndarray, alpha: float) -> float:
    """The interval's half-width (in units of the difficulty when normalised) at ``alpha``:
    crepes' ``ConformalRegressor.predict_int`` rank, ``int((1 - confidence) * (n + 1)) - 1``
    into the residuals sorted from the largest; ``+inf`` when there are too few residuals."""
    confidence = 1 - alpha
    index = int((1 - confidence) * (len(sorted_desc) + 1)) - 1
    return float(sorted_desc[index]) if index >= 0 else float("inf")
