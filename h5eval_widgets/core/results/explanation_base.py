"""The parts every explanation builder shares: :class:`Explanation`, the per-class counts of a
confusion matrix, the per-class ratios (precision, recall, F1, IoU, Dice) written as text and as
MathML, and the words naming the threshold in force."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._lazy import pd
from .explanation_math import explanation_html, frac, join, mi, mn, mo, row
from .names import fmt

__all__ = ["Explanation"]

MAX_LISTED = 6  # the most classes a formula lists one by one (all of them are in ``terms``)


@dataclass(frozen=True, eq=False)
class Explanation:
    """One metric of one evaluation from its counts.

    Attributes
    ----------
    metric : str
        The key of ``ev.scores``.
    value : float
        Worked out again from ``terms``; equal to ``ev.scores[metric]`` (or the class's own value).
    terms : DataFrame
        The counts the value is made of.
    formula : str
        One line of text with this evaluation's numbers.
    sklearn : str
        The scikit-learn call giving the same number (or why there is none).
    cls : str or None
        The class explained, when one was asked for.
    math : tuple of (str, str)
        The formula typeset: MathML rows, each with its words. Given for the per-class ratios
        (precision, recall, F1, IoU, Dice, one class's or averaged: macro, micro, weighted,
        balanced accuracy, mean class accuracy, frequency-weighted IoU), accuracy and pixel
        accuracy, Cohen's kappa, MCC, the regression errors and detection's mAP and mAR; the
        others (ROC AUC, average precision, log loss, Brier score, top-k accuracy, ECE,
        subset accuracy, Hamming loss, the per-image segmentation means) show the text formula.
    """

    metric: str
    value: float
    terms: pd.DataFrame
    formula: str
    sklearn: str
    cls: str | None = None
    math: tuple = ()

    def __repr__(self) -> str:
        return f"<Explanation {self.formula}>"

    def _repr_html_(self) -> str:
        """The name and value, the formula typeset as MathML with the text formula under it,
        the scikit-learn call and the terms table: one well-formed block of HTML with inline
        styles, no script, no link (see :mod:`.explanation_math`)."""
        return explanation_html(self)


# ---------------------------------------------------------------------------------- helpers
def _listed(items, sep: str = " + ") -> str:
    """Items joined, the middle ones left out when there are many."""
    items = list(items)
    return sep.join(items if len(items) <= MAX_LISTED else items[:3] + ["…"] + items[-1:])


def _more(k: int) -> str:
    return f" (all {k} classes in .terms)" if k > MAX_LISTED else ""


def _i(x):  # a whole float as an int (counts read ``36``, not ``36.000``)
    return int(x) if float(x).is_integer() else x


def _decided(ev) -> tuple[str, str]:
    """The words naming the threshold in force, and how ``y_pred`` is made (for ``sklearn``)."""
    at = f" at threshold {ev.threshold:g}" if ev.positive_class is not None or ev.task == "multilabel" else ""
    made = dict(
        multiclass="y_pred = y_proba.argmax(axis=1)", segmentation="the masks flattened, ignored pixels left out"
    )
    col = "[:, 1]" if ev.task == "binary" else ""
    return at, "  with " + made.get(ev.task, f"y_pred = (y_proba{col} >= {ev.threshold:g})")


def _sk(ev, fn: str, args: str = "y_true, y_pred", decided: bool = True, tail: str = "") -> str:
    w = ", sample_weight=sample_weight" if ev.sample_weight is not None else ""
    return f"sklearn.metrics.{fn}({args}{w}){tail}{_decided(ev)[1] if decided else ''}"


def _counts(ev) -> pd.DataFrame:
    """``tp``, ``fp``, ``fn``, ``tn``, ``support`` of every class (or label) against the rest."""
    cm = np.asarray(ev._cm)
    if cm.ndim == 3:  # one 2x2 matrix per label
        tn, fp, fn, tp = cm[:, 0, 0], cm[:, 0, 1], cm[:, 1, 0], cm[:, 1, 1]
    else:
        tp = np.diag(cm)
        fp, fn = cm.sum(axis=0) - tp, cm.sum(axis=1) - tp
        tn = cm.sum() - tp - fp - fn
    df = pd.DataFrame({"tp": tp, "fp": fp, "fn": fn, "tn": tn, "support": tp + fn}, index=list(ev.classes))
    df.index.name = "class"
    return df


#: each per-class ratio: its numerator's and its denominator's counts (``2tp``: twice TP)
_RATIOS = dict(precision=("tp", ("tp", "fp")), recall=("tp", ("tp", "fn")), iou=("tp", ("tp", "fp", "fn")))
_RATIOS.update(f1=("2tp", ("2tp", "fp", "fn")), dice=("2tp", ("2tp", "fp", "fn")))


def _value(name: str, row) -> float:
    """A class's ratio from its counts (nan for 0 / 0)."""
    num, den = _RATIOS[name]
    val = lambda c: 2 * row["tp"] if c == "2tp" else row[c]  # noqa: E731
    d = sum(val(c) for c in den)
    return float(val(num) / d) if d else float("nan")


def _text(name: str, words, label: str = "") -> str:
    """The ratio written with ``words`` for the counts (``TP / (TP + FP)``), or a row's counts."""
    words = words if isinstance(words, dict) else {c: fmt(_i(words[c])) for c in ("tp", "fp", "fn")}
    num, den = _RATIOS[name]
    get = lambda c: f"2·{words['tp']}" if c == "2tp" else words[c]  # noqa: E731
    return f"{label}{get(num)} / ({' + '.join(get(c) for c in den)})"


def _ratio_math(name: str, words) -> str:
    """A ratio as a MathML fraction: ``words`` maps ``tp``/``fp``/``fn`` to MathML (or a row of
    counts, written by ``fmt``)."""
    if not isinstance(words, dict):
        words = {c: mn(_i(words[c])) for c in ("tp", "fp", "fn")}
    num, den = _RATIOS[name]
    get = lambda c: row(mn(2), mo("·"), words["tp"]) if c == "2tp" else words[c]  # noqa: E731
    return frac(get(num), join(get(c) for c in den))


#: the counts' symbols in MathML
SYMBOLS = {"tp": mi("TP"), "fp": mi("FP"), "fn": mi("FN")}
