"""The explanations of the classification metrics (single-label, multi-label, and segmentation's
pixel metrics, which are a classification of pixels): each builder works the value out again
from the confusion matrix or the arrays the evaluation holds."""

from __future__ import annotations

import re

import numpy as np

from .._lazy import pd
from ..metrics import functions as M
from .explanation_base import (
    SYMBOLS,
    Explanation,
    _counts,
    _decided,
    _i,
    _listed,
    _more,
    _ratio_math,
    _sk,
    _text,
    _value,
)
from .explanation_math import frac, join, lead, space, listed, mi, mn, mo, mtext, paren, row, sqrt, sub, subsup, sup
from .names import fmt


# ---------------------------------------------------------------------------------- classification
def _lhs(what: str, at: str, cls: str | None = None) -> str:
    """The left-hand side: ``precision(cat)`` or ``f1_macro``, then the threshold's words."""
    name = row(mi(what), mo("("), mtext(cls), mo(")")) if cls is not None else mtext(what)
    return row(name, space() + mtext(at.strip()) if at else "")


def _per_class(ev, metric: str, cls: str | None) -> Explanation:
    """A per-class ratio (precision, recall, F1, IoU, Dice) of one class, or an average of it."""
    special = {"frequency_weighted_iou": ("iou", "weighted"), "balanced_accuracy": ("recall", "macro")}
    special["mean_class_accuracy"] = ("recall", "macro")
    m = re.fullmatch(r"(?:mean_)?(precision|recall|f1|iou|dice)(?:_(macro|micro|weighted))?", metric)
    name, avg = special.get(metric) or (m[1], m[2] or ("macro" if metric.startswith("mean_") else None))
    df, at = _counts(ev), _decided(ev)[0]
    df[name] = [_value(name, r) for _, r in df.iterrows()]
    sk_name = {"f1": "f1_score", "dice": "f1_score", "iou": "jaccard_score"}.get(name, f"{name}_score")
    symbols, sym_math = _text(name, {"tp": "TP", "fp": "FP", "fn": "FN"}), _ratio_math(name, SYMBOLS)
    if cls is not None or avg is None:
        c = cls if cls is not None else ev.classes[1]
        v = _value(name, df.loc[c])
        args = "y_true, y_pred" if cls is None else f"y_true, y_pred, labels=[{ev.class_index(c)}], average=None"
        formula = f"{name}({c}){at} = {symbols} = {_text(name, df.loc[c])} = {fmt(v)}"
        math = join([_lhs(name, at, c), sym_math, _ratio_math(name, df.loc[c]), mn(v)], "=")
        sk = _sk(ev, sk_name, args, tail="[0]" if cls else "")
        return Explanation(metric, v, df, formula, sk, c, math=((math, formula),))
    sk = _sk(ev, sk_name, f"y_true, y_pred, average='{avg}'")
    if metric in ("balanced_accuracy", "mean_class_accuracy"):
        sk = _sk(ev, "balanced_accuracy_score")
    if avg == "micro":
        sums = {c: _i(df[c].sum()) for c in ("tp", "fp", "fn")}
        v = _value(name, sums)
        summed = _text(name, {c: "(" + _listed(fmt(x) for x in df[c]) + ")" for c in ("tp", "fp", "fn")})
        sym = _text(name, {"tp": "ΣTP", "fp": "ΣFP", "fn": "ΣFN"})
        formula = f"{metric}{at} = {sym} from summed counts = {summed} = {_text(name, pd.Series(sums))} = {fmt(v)}"
        chain = [_ratio_math(name, {c: row(mo("Σ"), SYMBOLS[c]) for c in SYMBOLS})]
        chain += [_ratio_math(name, {c: paren(listed(mn(_i(x)) for x in df[c])) for c in SYMBOLS})]
        chain += [_ratio_math(name, pd.Series(sums)), mn(v)]
        math = ((join([_lhs(metric, at), *chain], "="), formula),)
        return Explanation(metric, v, df, formula + _more(len(df)), sk, math=math)
    ok = df[~df[name].isna()]
    parts = [_text(name, r, f"{c}: ") for c, r in ok.iterrows()]
    each = row(sub(mi(name), mi("c")), mo("="), sym_math)
    fracs = [_ratio_math(name, r) for _, r in ok.iterrows()]
    if avg == "macro":
        v = float(ok[name].mean()) if len(ok) else float("nan")
        how, combined = f"mean of the {len(ok)} per-class values {symbols}", f"({_listed(parts)}) / {len(ok)}"
        formula = f"{metric}{at} = {how} = {combined} = ({_listed(fmt(x) for x in ok[name])}) / {len(ok)} = {fmt(v)}"
        k = mn(len(ok))
        chain = [frac(row(mo("Σ"), sub(mi(name), mi("c"))), k), frac(listed(fracs), k)]
        chain += [frac(listed(mn(x) for x in ok[name]), k), mn(v)]
    else:
        v = float(np.average(ok[name], weights=ok["support"])) if ok["support"].sum() else float("nan")
        products = _listed(f"{fmt(_i(r['support']))}·{fmt(r[name])}" for _, r in ok.iterrows())
        formula = f"{metric}{at} = Σ support·{name} / Σ support, with {name} = {symbols}: {_listed(parts, ', ')} = ({products}) / {fmt(ok['support'].sum())} = {fmt(v)}"
        n_c, total = sub(mi("n"), mi("c")), mn(_i(ok["support"].sum()))
        times = lambda n, x: row(mn(_i(n)), mo("·"), x)  # noqa: E731
        chain = [frac(row(mo("Σ"), n_c, mo("·"), sub(mi(name), mi("c"))), row(mo("Σ"), n_c))]
        chain += [frac(listed(times(n, f) for n, f in zip(ok["support"], fracs)), total)]
        chain += [frac(listed(times(n, mn(x)) for n, x in zip(ok["support"], ok[name])), total), mn(v)]
    per = f"each class c's {name} = {symbols}" + ("" if avg == "macro" else ", n_c its support")
    math = ((row(lead("each class c:"), each), per), (join([_lhs(metric, at), *chain], "="), formula))
    return Explanation(metric, v, df, formula + _more(len(df)), sk, math=math)


def _accuracy(ev, metric: str, cls=None) -> Explanation:
    cm = np.asarray(ev._cm)
    diag, support, n = np.diag(cm), cm.sum(axis=1), cm.sum()
    index = pd.Index(list(ev.classes) + ["total"], name="class")
    df, v = (
        pd.DataFrame({"diagonal": np.r_[diag, diag.sum()], "support": np.r_[support, n]}, index=index),
        diag.sum() / n,
    )
    at = _decided(ev)[0]
    formula = f"{metric}{at} = Σ diagonal / total = ({_listed(fmt(x) for x in diag)}) / {fmt(n)} = {fmt(diag.sum())} / {fmt(n)} = {fmt(v)}"
    chain = [frac(mtext("Σ diagonal"), mtext("total")), frac(listed(mn(x) for x in diag), mn(n))]
    chain += [frac(mn(diag.sum()), mn(n)), mn(v)]
    math = ((join([_lhs(metric, at), *chain], "="), formula),)
    return Explanation(metric, v, df, formula, _sk(ev, "accuracy_score"), math=math)


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
    at = _decided(ev)[0]
    formula = f"cohen_kappa{at} = (p_o − p_e) / (1 − p_e), {p_o}, {p_e}; κ = ({fmt(po)} − {fmt(pe)}) / (1 − {fmt(pe)}) = {fmt(v)}"
    p = lambda s: sub(mi("p"), mi(s))  # noqa: E731
    n2 = sup(mn(_i(n)), mn(2))
    ratio = lambda a, b: frac(row(a, mo("−"), b), row(mn(1), mo("−"), b))  # noqa: E731
    math = (
        (
            row(
                p("o"),
                mo("="),
                frac(mtext("Σ diagonal"), mi("n")),
                mo("="),
                frac(mn(_i(diag.sum())), mn(_i(n))),
                mo("="),
                mn(po),
            ),
            p_o,
        ),
        (
            row(
                p("e"),
                mo("="),
                frac(row(mo("Σ"), mtext("true·predicted")), sup(mi("n"), mn(2))),
                mo("="),
                frac(listed(row(mn(_i(a)), mo("·"), mn(_i(b))) for a, b in zip(rows, cols)), n2),
                mo("="),
                mn(pe),
            ),
            p_e,
        ),
        (
            row(_lhs("κ", at), mo("="), ratio(p("o"), p("e")), mo("="), ratio(mn(po), mn(pe)), mo("="), mn(v)),
            formula,
        ),
    )
    return Explanation(metric, v, df, formula + _more(len(rows)), _sk(ev, "cohen_kappa_score"), math=math)


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
    t_, s_ = tuple(sub(mi(x), mi("c")) for x in "tp"), mi("s")
    sq = lambda x: sup(x, mn(2))  # noqa: E731
    sym = frac(
        row(mi("c"), mo("·"), s_, mo("−"), mo("Σ"), t_[0], mo("·"), t_[1]),
        sqrt(
            row(
                paren(row(sq(s_), mo("−"), mo("Σ"), subsup(mi("p"), mi("c"), mn(2)))),
                paren(row(sq(s_), mo("−"), mo("Σ"), subsup(mi("t"), mi("c"), mn(2)))),
            )
        ),
    )
    num = frac(
        row(mn(_i(vals[0])), mo("·"), mn(_i(vals[1])), mo("−"), mn(_i(vals[2]))),
        sqrt(
            row(
                paren(row(sq(mn(_i(vals[1]))), mo("−"), mn(_i(vals[3])))),
                mo("·"),
                paren(row(sq(mn(_i(vals[1]))), mo("−"), mn(_i(vals[4])))),
            )
        ),
    )
    last = frac(mn(_i(vals[5])), sqrt(row(mn(_i(vals[6])), mo("·"), mn(_i(vals[7])))))
    words = "c: the diagonal's sum, s: the number of samples, t_c, p_c: class c's true and predicted counts"
    math = ((join([_lhs("mcc", _decided(ev)[0]), sym, num, last, mn(v)], "="), formula), (mtext(words), words))
    return Explanation(metric, v, df, formula, _sk(ev, "matthews_corrcoef"), math=math)


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
