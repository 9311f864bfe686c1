"""How each number of ``ev.scores`` is made: :func:`explain` gives an :class:`Explanation`.

An explanation holds the value, the counts it is made of (``terms``), one line with this
evaluation's numbers (``formula``, written by :func:`~h5eval_widgets.core.results.names.fmt`), the
scikit-learn call giving the same number, the formula typeset as MathML for the ratio metrics,
accuracy, kappa, MCC, the regression errors and detection's mAP and mAR, and HTML (no script,
no CDN). All is worked out again from the confusion matrix and the arrays the evaluation holds:
the value is checked, not copied. Every key of ``ev.scores`` of every task is explained.

The builders live in :mod:`.explanation_classes` (classification and the pixel metrics of
segmentation), :mod:`.explanation_detection` (COCO's 12 numbers) and here (regression, the
per-image segmentation means); the shared parts in :mod:`.explanation_base`, the MathML and
HTML in :mod:`.explanation_math`.
"""

from __future__ import annotations

import re
from dataclasses import replace

import numpy as np

from .._lazy import pd
from ..metrics.segmentation import matrix_summary
from .explanation_base import Explanation, _i, _listed, _sk
from .explanation_classes import (
    _accuracy,
    _average_precision,
    _ece,
    _kappa,
    _mcc,
    _multilabel_rates,
    _per_class,
    _per_sample,
    _roc_auc,
    _roc_auc_ovo,
)
from .explanation_detection import explain_ap, explain_ar
from .explanation_math import frac, join, mi, mn, mo, mtext, row, sqrt, sub, sup
from .names import fmt

__all__ = ["Explanation", "explain"]


# ---------------------------------------------------------------------------------- regression
_REGRESSION = dict(mse=("mean_squared_error", "sum_squared_error", "Σ(ŷ − y)² / n"))
_REGRESSION.update(rmse=("root_mean_squared_error", "sum_squared_error", "√(Σ(ŷ − y)² / n)"))
_REGRESSION.update(mae=("mean_absolute_error", "sum_absolute_error", "Σ|ŷ − y| / n"))
_REGRESSION.update(mape=("mean_absolute_percentage_error", "sum_absolute_percentage_error", "Σ(|ŷ − y| / |y|) / n"))
_REGRESSION.update(r2=("r2_score", "sum_squared_error", "R² = 1 − Σ(ŷ − y)² / Σ(y − ȳ)²"))


def _regression(ev, metric: str, cls=None) -> Explanation:
    y, yp = (np.asarray(a, dtype=np.float64) for a in (ev.y_true, ev.y_pred))
    y, yp = (a[:, None] if a.ndim == 1 else a for a in (y, yp))
    w = np.ones(len(y)) if ev.sample_weight is None else np.asarray(ev.sample_weight, dtype=np.float64)
    err, n = yp - y, w.sum()
    cols = {"n": _i(n), "sum_squared_error": w @ err**2, "sum_absolute_error": w @ np.abs(err)}
    cols["sum_squared_deviation"] = w @ (y - (w @ y) / n) ** 2
    cols["sum_absolute_percentage_error"] = w @ (np.abs(err) / np.maximum(np.abs(y), np.finfo(np.float64).eps))
    names = [f"output {j}" for j in range(y.shape[1])] if y.shape[1] > 1 else ["target"]
    df = pd.DataFrame(cols, index=pd.Index(names, name="output"))
    fn, col, rule = _REGRESSION[metric]
    s = df[col]
    if metric == "r2":
        dev = df["sum_squared_deviation"]
        per = [1 - a / b if b else (1.0 if a == 0 else 0.0) for a, b in zip(s, dev)]
        sums = ", ".join(f"1 − {fmt(a)} / {fmt(b)}" for a, b in zip(s, dev))
    else:
        per = list(np.sqrt(s / n)) if metric == "rmse" else list(s / n)
        sums = ", ".join((f"√({fmt(a)} / {fmt(_i(n))})" if metric == "rmse" else f"{fmt(a)} / {fmt(_i(n))}") for a in s)
        rule = f"{metric} = {rule}"
    v, df[metric] = float(np.mean(per)), per
    over = f", then the mean over the {len(df)} outputs" if len(df) > 1 else ""
    formula = f"{rule}{over} = {sums} = {fmt(v)}"
    math = ((join([mtext(metric), *_regression_math(metric, s, df, n, len(df)), mn(v)], "="), formula),)
    return Explanation(metric, v, df, formula, _sk(ev, fn, decided=False), math=math)


def _regression_math(metric: str, s, df, n, outputs: int) -> list[str]:
    """The rule typeset and with each output's sums (their mean when there are several)."""
    diff = row(mo("("), mi("ŷ"), mo("−"), mi("y"), mo(")"))
    absdiff = row(mo("|"), mi("ŷ"), mo("−"), mi("y"), mo("|"))
    top = dict(
        mse=sup(diff, mn(2)),
        rmse=sup(diff, mn(2)),
        mae=absdiff,
        r2=sup(diff, mn(2)),
        mape=frac(absdiff, row(mo("|"), mi("y"), mo("|"))),
    )[metric]
    dev = sup(row(mo("("), mi("y"), mo("−"), mi("ȳ"), mo(")")), mn(2))
    if metric == "r2":
        rule = row(mn(1), mo("−"), frac(row(mo("Σ"), top), row(mo("Σ"), dev)))
        each = [row(mn(1), mo("−"), frac(mn(a), mn(b))) for a, b in zip(s, df["sum_squared_deviation"])]
    else:
        rule = frac(row(mo("Σ"), top), mi("n"))
        each = [frac(mn(a), mn(_i(n))) for a in s]
        if metric == "rmse":
            rule, each = sqrt(rule), [sqrt(e) for e in each]
    numbers = each[0] if outputs == 1 else frac(join(each, "+"), mn(outputs))
    return [rule if outputs == 1 else frac(row(mo("Σ"), sub(rule, mi("j"))), mn(outputs)), numbers]


# ---------------------------------------------------------------------------------- segmentation, detection
def _per_image(ev, metric: str, cls=None) -> Explanation:
    """A segmentation metric of each image (from its own pixel counts), then the mean over images."""
    base = metric.removesuffix("_per_image")
    vals = np.asarray(matrix_summary(ev.counts)[base], dtype=np.float64)
    df, ok = pd.DataFrame({base: vals}).rename_axis("image"), vals[~np.isnan(vals)]
    v = float(ok.mean()) if len(ok) else float("nan")
    formula = f"{metric} = mean over the {len(ok)} images with a value of each image's {base} (from its own pixel counts) = ({_listed(fmt(x) for x in ok)}) / {len(ok)} = {fmt(v)}"
    return Explanation(metric, v, df, formula, f"the mean over images of each image's {base} (no one call)")


# ---------------------------------------------------------------------------------- entry point
_BUILDERS = [  # each builder with the metric keys it explains, and whether ``cls`` picks one class's value
    (r"(precision|recall|f1)(_(macro|micro|weighted))?|balanced_accuracy", _per_class, True),
    (r"mean_(iou|dice)|frequency_weighted_iou|mean_class_accuracy", _per_class, True),
    (r"accuracy|pixel_accuracy", _accuracy, False),
    (r"cohen_kappa", _kappa, False),
    (r"mcc", _mcc, False),
    (r"roc_auc(_ovr)?(_macro|_weighted)?", _roc_auc, True),
    (r"roc_auc_ovo_macro", _roc_auc_ovo, False),
    (r"average_precision(_macro)?", _average_precision, False),
    (r"log_loss|brier_score|top_\d+_accuracy", _per_sample, False),
    (r"ece", _ece, False),
    (r"subset_accuracy|hamming_loss", _multilabel_rates, False),
    (r"mse|rmse|mae|r2|mape", _regression, False),
    (r"(pixel_accuracy|mean_class_accuracy|mean_iou|frequency_weighted_iou|mean_dice)_per_image", _per_image, False),
    (r"map(_50|_75|_small|_medium|_large)?", explain_ap, True),
    (r"mar_(1|10|100|small|medium|large)", explain_ar, True),
]


def _builder(metric: str):
    return next(((b, per) for pattern, b, per in _BUILDERS if re.fullmatch(pattern, metric)), (None, False))


def explain(ev, metric: str, cls: int | str | None = None) -> Explanation:
    """How ``ev.scores[metric]`` (or class ``cls``'s own value) is made from ``ev``'s counts; a
    ValueError names the metrics explained when ``metric`` is not one, or has no per-class value."""
    known = sorted(m for m in ev.scores if _builder(m)[0] is not None)
    if metric not in known:
        raise ValueError(f"{metric!r} is not a metric explained for this {ev.task} evaluation; known: {known}.")
    build, per_class = _builder(metric)
    if cls is not None and not per_class:
        raise ValueError(f"{metric!r} has no per-class value; cls is for {[m for m in known if _builder(m)[1]]}.")
    ex = build(ev, metric, None if cls is None else ev.classes[ev.class_index(cls)])
    if cls is None and np.isnan(ev.scores[metric]) and not np.isnan(ex.value):  # a part is undefined
        return replace(ex, value=float("nan"), formula=f"{metric} is undefined here (see ev.undefined); {ex.formula}")
    return ex
