"""How each number of ``ev.scores`` is made: :func:`explain` gives an :class:`Explanation`.

An explanation holds the value, the counts it is made of (``terms``), one line with this
evaluation's numbers (``formula``, written by :func:`~h5eval_widgets.core.results.names.fmt`), the
scikit-learn call giving the same number and HTML (no script, no CDN). All is worked out again
from the confusion matrix and the arrays the evaluation holds: the value is checked, not copied.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, replace

import numpy as np

from .._lazy import pd
from ..metrics import functions as M
from ..metrics.segmentation import matrix_summary
from .names import fmt, metric_name

__all__ = ["Explanation", "explain"]

MAX_LISTED = 6  # the most classes a formula lists one by one (all of them are in ``terms``)


@dataclass(frozen=True, eq=False)
class Explanation:
    """One metric of one evaluation from its counts: ``value``, ``terms`` (a DataFrame of the
    counts), ``formula`` (one line with this evaluation's numbers), ``sklearn`` (the call giving
    the same number) and ``cls`` (the class explained, when one was asked for)."""

    metric: str
    value: float
    terms: pd.DataFrame
    formula: str
    sklearn: str
    cls: str | None = None

    def __repr__(self) -> str:
        return f"<Explanation {self.formula}>"

    def _repr_html_(self) -> str:
        title = html.escape(metric_name(self.metric)) + (f" of class {html.escape(self.cls)}" if self.cls else "")
        return (
            f'<div class="h5e-explanation"><p><strong>{title}</strong> = {html.escape(fmt(self.value))}</p>'
            f'<p style="font-family: serif; font-size: 1.05em">{html.escape(self.formula)}</p>'
            f"<p>scikit-learn: <code>{html.escape(self.sklearn)}</code></p>"
            f"{self.terms.to_html(float_format=fmt, na_rep='—')}</div>"
        )


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


# ---------------------------------------------------------------------------------- classification
def _per_class(ev, metric: str, cls: str | None) -> Explanation:
    """A per-class ratio (precision, recall, F1, IoU, Dice) of one class, or an average of it."""
    special = {"frequency_weighted_iou": ("iou", "weighted"), "balanced_accuracy": ("recall", "macro")}
    special["mean_class_accuracy"] = ("recall", "macro")
    m = re.fullmatch(r"(?:mean_)?(precision|recall|f1|iou|dice)(?:_(macro|micro|weighted))?", metric)
    name, avg = special.get(metric) or (m[1], m[2] or ("macro" if metric.startswith("mean_") else None))
    df, at = _counts(ev), _decided(ev)[0]
    df[name] = [_value(name, r) for _, r in df.iterrows()]
    sk_name = {"f1": "f1_score", "dice": "f1_score", "iou": "jaccard_score"}.get(name, f"{name}_score")
    symbols = _text(name, {"tp": "TP", "fp": "FP", "fn": "FN"})
    if cls is not None or avg is None:
        c = cls if cls is not None else ev.classes[1]
        v = _value(name, df.loc[c])
        args = "y_true, y_pred" if cls is None else f"y_true, y_pred, labels=[{ev.class_index(c)}], average=None"
        formula = f"{name}({c}){at} = {symbols} = {_text(name, df.loc[c])} = {fmt(v)}"
        return Explanation(metric, v, df, formula, _sk(ev, sk_name, args, tail="[0]" if cls else ""), c)
    sk = _sk(ev, sk_name, f"y_true, y_pred, average='{avg}'")
    if metric in ("balanced_accuracy", "mean_class_accuracy"):
        sk = _sk(ev, "balanced_accuracy_score")
    if avg == "micro":
        sums = {c: _i(df[c].sum()) for c in ("tp", "fp", "fn")}
        v = _value(name, sums)
        summed = _text(name, {c: "(" + _listed(fmt(x) for x in df[c]) + ")" for c in ("tp", "fp", "fn")})
        sym = _text(name, {"tp": "ΣTP", "fp": "ΣFP", "fn": "ΣFN"})
        formula = f"{metric}{at} = {sym} from summed counts = {summed} = {_text(name, pd.Series(sums))} = {fmt(v)}"
        return Explanation(metric, v, df, formula + _more(len(df)), sk)
    ok = df[~df[name].isna()]
    parts = [_text(name, r, f"{c}: ") for c, r in ok.iterrows()]
    if avg == "macro":
        v = float(ok[name].mean()) if len(ok) else float("nan")
        how, combined = f"mean of the {len(ok)} per-class values {symbols}", f"({_listed(parts)}) / {len(ok)}"
        formula = f"{metric}{at} = {how} = {combined} = ({_listed(fmt(x) for x in ok[name])}) / {len(ok)} = {fmt(v)}"
    else:
        v = float(np.average(ok[name], weights=ok["support"])) if ok["support"].sum() else float("nan")
        products = _listed(f"{fmt(_i(r['support']))}·{fmt(r[name])}" for _, r in ok.iterrows())
        formula = f"{metric}{at} = Σ support·{name} / Σ support, with {name} = {symbols}: {_listed(parts, ', ')} = ({products}) / {fmt(ok['support'].sum())} = {fmt(v)}"
    return Explanation(metric, v, df, formula + _more(len(df)), sk)


def _accuracy(ev, metric: str, cls=None) -> Explanation:
    cm = np.asarray(ev._cm)
    diag, support, n = np.diag(cm), cm.sum(axis=1), cm.sum()
    index = pd.Index(list(ev.classes) + ["total"], name="class")
    df, v = (
        pd.DataFrame({"diagonal": np.r_[diag, diag.sum()], "support": np.r_[support, n]}, index=index),
        diag.sum() / n,
    )
    formula = f"{metric}{_decided(ev)[0]} = Σ diagonal / total = ({_listed(fmt(x) for x in diag)}) / {fmt(n)} = {fmt(diag.sum())} / {fmt(n)} = {fmt(v)}"
    return Explanation(metric, v, df, formula, _sk(ev, "accuracy_score"))


def _kappa(ev, metric: str, cls=None) -> Explanation:
    cm = np.asarray(ev._cm, dtype=np.float64)
    n, rows, cols, diag = cm.sum(), cm.sum(axis=1), cm.sum(axis=0), np.diag(cm)
    df = pd.DataFrame({"true": rows, "predicted": cols, "observed": diag / n, "expected": rows * cols / n**2})
    df.index = pd.Index(list(ev.classes), name="class")
    df.loc["total"] = [n, n, diag.sum() / n, (rows * cols).sum() / n**2]
    if ev.sample_weight is None:
        df = df.astype({"true": np.int64, "predicted": np.int64})
    po, pe = df.loc["total", "observed"], df.loc["total", "expected"]
    v = float((po - pe) / (1 - pe)) if pe != 1 else float("nan")
    products = _listed(f"{fmt(_i(a))}·{fmt(_i(b))}" for a, b in zip(rows, cols))
    p_o = f"observed agreement p_o = Σ diagonal / n = {fmt(_i(diag.sum()))} / {fmt(_i(n))} = {fmt(po)}"
    p_e = f"expected agreement p_e = Σ true·predicted / n² = ({products}) / {fmt(_i(n))}² = {fmt(pe)}"
    formula = f"cohen_kappa{_decided(ev)[0]} = (p_o − p_e) / (1 − p_e), {p_o}, {p_e}; κ = ({fmt(po)} − {fmt(pe)}) / (1 − {fmt(pe)}) = {fmt(v)}"
    return Explanation(metric, v, df, formula + _more(len(rows)), _sk(ev, "cohen_kappa_score"))


def _mcc(ev, metric: str, cls=None) -> Explanation:
    cm = np.asarray(ev._cm, dtype=np.float64)
    t, p, c, s = cm.sum(axis=1), cm.sum(axis=0), np.trace(cm), cm.sum()
    vals = [c, s, t @ p, p @ p, t @ t, c * s - t @ p, s**2 - p @ p, s**2 - t @ t]
    v = float(vals[5] / np.sqrt(vals[6] * vals[7])) if vals[6] * vals[7] else 0.0
    names = ["c = Σ diagonal", "s = n", "Σ t·p", "Σ p²", "Σ t²", "cov(y, ŷ) = c·s − Σ t·p"]
    names += ["cov(ŷ, ŷ) = s² − Σ p²", "cov(y, y) = s² − Σ t²"]
    df = pd.DataFrame({"value": vals}, index=pd.Index(names, name="term"))
    f = [fmt(_i(x)) for x in vals]
    formula = (
        f"mcc{_decided(ev)[0]} = cov(y, ŷ) / √(cov(ŷ, ŷ)·cov(y, y)) = (c·s − Σ t·p) / √((s² − Σ p²)(s² − Σ t²)) "
        f"= ({f[0]}·{f[1]} − {f[2]}) / √(({f[1]}² − {f[3]})·({f[1]}² − {f[4]})) "
        f"= {f[5]} / √({f[6]}·{f[7]}) = {fmt(v)} (t, p: each class's true and predicted counts)"
    )
    return Explanation(metric, v, df, formula, _sk(ev, "matthews_corrcoef"))


def _pairs(truth, score, weight) -> dict:
    """Positive-negative pairs ranked right, wrong and tied by ``score``, and the AUC they give."""
    w = np.ones(len(score)) if weight is None else np.asarray(weight, dtype=np.float64)
    order = np.argsort(score[~truth], kind="stable")
    neg, cum = score[~truth][order], np.r_[0.0, np.cumsum(w[~truth][order])]
    lo, hi = np.searchsorted(neg, score[truth], "left"), np.searchsorted(neg, score[truth], "right")
    right, tied, total = w[truth] @ cum[lo], w[truth] @ (cum[hi] - cum[lo]), w[truth].sum() * w[~truth].sum()
    auc = (right + tied / 2) / total if total else float("nan")
    return {"right": _i(right), "wrong": _i(total - right - tied), "tied": _i(tied), "pairs": _i(total), "roc_auc": auc}


def _pairs_text(r, label: str = "") -> str:
    return f"{label}({fmt(r['right'])} + {fmt(r['tied'])}/2) / {fmt(r['pairs'])}"


def _roc_auc(ev, metric: str, cls: str | None) -> Explanation:
    proba, binary = np.asarray(ev.y_proba, dtype=np.float64), ev.task == "binary"
    cols = [1] if binary and cls is None else range(ev.n_classes)
    rows = {ev.classes[c]: _pairs(np.asarray(ev._truth_of(c)), proba[:, c], ev.sample_weight) for c in cols}
    df = pd.DataFrame.from_dict(rows, orient="index").rename_axis("class")
    df["support"] = [_i(x) for x in ev._prevalence()[list(cols)]]
    rule = "AUC = (pairs ranked right + tied/2) / pairs, over (positive, negative) pairs"
    one = cls if cls is not None else (ev.classes[1] if binary else None)
    if one is not None:
        r, j = df.loc[one], ev.class_index(one)
        formula = f"roc_auc({one} against the rest): {rule} = {_pairs_text(r)} = {fmt(r['roc_auc'])}"
        truth = f"y_true[:, {j}]" if ev.task == "multilabel" else f"y_true == {j}"
        sk = _sk(ev, "roc_auc_score", f"{'y_true' if binary and cls is None else truth}, y_proba[:, {j}]", False)
        return Explanation(metric, float(r["roc_auc"]), df, formula, sk, one)
    avg = metric.rsplit("_", 1)[1]
    v = float(df["roc_auc"].mean() if avg == "macro" else np.average(df["roc_auc"], weights=df["support"]))
    how = f"mean of the {len(df)}" if avg == "macro" else "Σ support·AUC / Σ support over the"
    parts = _listed((_pairs_text(r, f"{c}: ") for c, r in df.iterrows()), ", ")
    formula = f"{metric} = {how} one-vs-rest values, each {rule}: {parts} = {_listed((fmt(x) for x in df['roc_auc']), ', ')} → {fmt(v)}"
    mc = ", multi_class='ovr'" if ev.task == "multiclass" else ""
    sk = _sk(ev, "roc_auc_score", f"y_true, y_proba{mc}, average='{avg}'", False)
    return Explanation(metric, v, df, formula + _more(len(df)), sk)


def _roc_auc_ovo(ev, metric: str, cls=None) -> Explanation:
    """Hand & Till: the mean over class pairs of the two AUCs on the pair's samples."""
    proba, y = np.asarray(ev.y_proba, dtype=np.float64), np.asarray(ev.y_true)
    present, rows = [c for c in range(ev.n_classes) if np.any(y == c)], {}
    for i, a in enumerate(present):
        for b in present[i + 1 :]:
            on = (y == a) | (y == b)
            ab, ba = (_pairs(y[on] == x, proba[on, x], None)["roc_auc"] for x in (a, b))
            rows[f"{ev.classes[a]} vs {ev.classes[b]}"] = {"auc_a_vs_b": ab, "auc_b_vs_a": ba, "roc_auc": (ab + ba) / 2}
    df = pd.DataFrame.from_dict(rows, orient="index").rename_axis("pair")
    v = float(df["roc_auc"].mean())
    parts = _listed((f"{p}: ({fmt(r.auc_a_vs_b)} + {fmt(r.auc_b_vs_a)})/2" for p, r in df.iterrows()), ", ")
    formula = f"{metric} = mean over the {len(df)} class pairs of (AUC(a vs b) + AUC(b vs a)) / 2: {parts} = {fmt(v)}"
    return Explanation(metric, v, df, formula, _sk(ev, "roc_auc_score", "y_true, y_proba, multi_class='ovo'", False))


def _average_precision(ev, metric: str, cls=None) -> Explanation:
    ap = np.asarray(ev.rank_stats.average_precision, dtype=np.float64)
    df = pd.DataFrame({"support": ev._prevalence(), "average_precision": ap}, index=list(ev.classes))
    rule = "Σₙ (Rₙ − Rₙ₋₁)·Pₙ over the precision-recall curve"
    if ev.task == "binary":
        formula = f"average_precision({ev.classes[1]}) = {rule} = {fmt(ap[1])}"
        sk = _sk(ev, "average_precision_score", "y_true, y_proba[:, 1]", False)
        return Explanation(metric, float(ap[1]), df, formula, sk, ev.classes[1])
    v = float(np.nanmean(ap))
    formula = f"{metric} = mean of the {len(df)} per-class values, each {rule} = ({_listed(fmt(x) for x in ap)}) / {len(df)} = {fmt(v)}"
    y = "y_true" if ev.task == "multilabel" else f"label_binarize(y_true, classes=range({ev.n_classes}))"
    sk = _sk(ev, "average_precision_score", f"{y}, y_proba", False)
    return Explanation(metric, v, df.rename_axis("class"), formula + _more(len(df)), sk)


def _per_sample(ev, metric: str, cls=None) -> Explanation:
    """Log loss, Brier score and top-k accuracy: a per-sample value, its mean per true class."""
    proba, k, labels = np.asarray(ev.y_proba), ev.n_classes, f", labels=range({ev.n_classes})"
    if metric == "log_loss":
        eps = np.finfo(proba.dtype).eps if np.issubdtype(proba.dtype, np.floating) else 1e-15
        p = np.clip(proba[np.arange(ev.n_samples), ev.y_true], eps, 1 - eps).astype(np.float64)
        each, how, sk = -np.log(p), "−(1/n) Σ log p(true class)", _sk(ev, "log_loss", "y_true, y_proba" + labels, False)
    elif metric == "brier_score":
        each = ((proba.astype(np.float64) - np.eye(k)[ev.y_true]) ** 2).sum(axis=1) / (2 if k < 3 else 1)
        how = "mean over samples of Σ_k (p_k − [k = true])²" + (" / 2" if k < 3 else "")
        sk = _sk(ev, "brier_score_loss", "y_true, y_proba[:, 1]" if k < 3 else "y_true, y_proba" + labels, False)
    else:
        top = int(re.fullmatch(r"top_(\d+)_accuracy", metric)[1])
        each = (M.true_class_rank(ev.y_true, proba) < top).astype(np.float64)
        how = f"share of samples whose true class is among the {top} highest scores"
        sk = _sk(ev, "top_k_accuracy_score", f"y_true, y_proba, k={top}" + labels, False)
    w = np.ones(ev.n_samples) if ev.sample_weight is None else np.asarray(ev.sample_weight, dtype=np.float64)
    n = np.bincount(ev.y_true, weights=w, minlength=k)
    sums = np.bincount(ev.y_true, weights=w * each, minlength=k)
    with np.errstate(all="ignore"):
        df = pd.DataFrame({"n": [_i(x) for x in n], "sum": sums, "mean": sums / n}, index=list(ev.classes))
    v = float(sums.sum() / n.sum())
    parts = _listed(f"{fmt(a)}·{fmt(b)}" for a, b in zip(df["n"], df["mean"]))
    formula = f"{metric} = {how} = Σ n_c·mean_c / n over the true classes = ({parts}) / {fmt(_i(n.sum()))} = {fmt(v)}"
    return Explanation(metric, v, df.rename_axis("true class"), formula + _more(k), sk)


def _ece(ev, metric: str, cls=None) -> Explanation:
    true, pred, counts = M.calibration_curve(ev._calib_event(), ev._calib_conf())
    df = pd.DataFrame({"n": counts, "confidence": pred, "observed": true, "gap": np.abs(true - pred)})
    v = float((counts * df["gap"]).sum() / counts.sum())
    what = "the positive class's probability" if ev.task == "binary" else "the predicted class's confidence"
    parts = _listed(f"{fmt(r.n)}·{fmt(r.gap)}" for r in df.itertuples())
    formula = f"ece = Σ n_b·|observed_b − confidence_b| / n over 10 equal-width bins of {what} = ({parts}) / {fmt(int(counts.sum()))} = {fmt(v)}"
    return Explanation(metric, v, df, formula, "no scikit-learn function (see sklearn.calibration.calibration_curve)")


def _multilabel_rates(ev, metric: str, cls=None) -> Explanation:
    t, p, at = np.asarray(ev.y_true), np.asarray(ev.y_pred), _decided(ev)[0]
    w = np.ones(len(t)) if ev.sample_weight is None else np.asarray(ev.sample_weight, dtype=np.float64)
    if metric == "subset_accuracy":
        hits, n = _i(w @ np.all(t == p, axis=1)), _i(w.sum())
        df = pd.DataFrame({"value": [hits, n]}, index=pd.Index(["exact matches", "samples"], name="term"))
        formula = f"subset_accuracy{at} = samples with every label right / n = {fmt(hits)} / {fmt(n)} = {fmt(hits / n)}"
        return Explanation(metric, hits / n, df, formula, _sk(ev, "accuracy_score"))
    df = _counts(ev)
    df["wrong"] = df["fp"] + df["fn"]
    v = float(df["wrong"].sum() / (w.sum() * len(df)))
    formula = f"hamming_loss{at} = Σ wrong label decisions (FP + FN) / (n · labels) = ({_listed(fmt(x) for x in df['wrong'])}) / ({fmt(_i(w.sum()))} · {len(df)}) = {fmt(v)}"
    return Explanation(metric, v, df, formula + _more(len(df)), _sk(ev, "hamming_loss"))


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
    return Explanation(metric, v, df, f"{rule}{over} = {sums} = {fmt(v)}", _sk(ev, fn, decided=False))


# ---------------------------------------------------------------------------------- segmentation, detection
def _per_image(ev, metric: str, cls=None) -> Explanation:
    """A segmentation metric of each image (from its own pixel counts), then the mean over images."""
    base = metric.removesuffix("_per_image")
    vals = np.asarray(matrix_summary(ev.counts)[base], dtype=np.float64)
    df, ok = pd.DataFrame({base: vals}).rename_axis("image"), vals[~np.isnan(vals)]
    v = float(ok.mean()) if len(ok) else float("nan")
    formula = f"{metric} = mean over the {len(ok)} images with a value of each image's {base} (from its own pixel counts) = ({_listed(fmt(x) for x in ok)}) / {len(ok)} = {fmt(v)}"
    return Explanation(metric, v, df, formula, f"the mean over images of each image's {base} (no one call)")


def _detection_ap(ev, metric: str, cls: str | None) -> Explanation:
    """COCO's AP: the mean of the precision at its 101 recall points, over classes and IoUs."""
    ious = {"map_50": [0.5], "map_75": [0.75]}.get(metric, list(np.round(np.arange(0.5, 0.96, 0.05), 2)))
    curves = {(c, t): ev.pr_curve(c, iou=t) for c in ([cls] if cls else ev.classes) for t in ious}
    cols = {key: pd.Series(p, index=np.round(r, 2)) for key, (r, p) in curves.items() if len(p)}
    one = len(ious) == 1
    df = pd.DataFrame({k[0] if one else k: s for k, s in cols.items()}).rename_axis("recall")
    ap = {c: np.mean([s.mean() for (c2, _), s in cols.items() if c2 == c]) for c, _ in cols}
    v, how = float(np.mean([s.mean() for s in cols.values()])), f"IoU {ious[0]:.2f}" if one else "IoU 0.50:0.05:0.95"
    parts = [f"{c}: " + (f"{fmt(cols[(c, ious[0])].sum())} / 101 = " if one else "") + fmt(a) for c, a in ap.items()]
    formula = f"{metric} ({how}; every detection ranked by confidence, not only those ≥ {ev.threshold:g}; up to 100 per image) = mean over the classes of AP = Σ precision at COCO's 101 recall points 0, 0.01, …, 1 / 101{'' if one else ', averaged over the 10 IoUs'}: {_listed(parts, ', ')} = {fmt(v)}"
    sk = f"no scikit-learn function: pycocotools COCOeval(gt, dt, 'bbox').stats[{['map', 'map_50', 'map_75'].index(metric)}]"
    return Explanation(metric, v, df, formula, sk, cls)


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
    (r"map(_50|_75)?", _detection_ap, True),
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
