"""Property tests: for random labels, scores, class counts and weights, every metric equals
scikit-learn's, or both are undefined."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn import metrics as skm

from h5eval_widgets.core import Evaluation
from tests.helpers import same
from tests.helpers import sk_or_nan as sk  # nan where scikit-learn has no value either

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def problems(draw):
    k = draw(st.integers(2, 6))
    n = draw(st.integers(k, 60))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    # few distinct label values sometimes, so classes go missing; rounded scores, so ties happen
    y = rng.integers(0, draw(st.integers(1, k)), n)
    p = rng.dirichlet(np.ones(k) * draw(st.sampled_from([0.3, 1.0, 5.0])), size=n)
    p = np.round(p, draw(st.sampled_from([1, 2, 6])))
    p = np.clip(p, 1e-6, None)
    p /= p.sum(1, keepdims=True)
    # float32 is what models give (and takes the packed-key sort path); float64 the other one
    p = p.astype(draw(st.sampled_from([np.float32, np.float64])))
    if k == 2 and draw(st.booleans()):  # as one sigmoid unit gives them: exactly [1 - p, p]
        p = np.stack([1 - p[:, 1], p[:, 1]], axis=1)
    w = rng.uniform(0.1, 3.0, n) if draw(st.booleans()) else None
    return y, p, w


def evaluated(problem):
    """The problem, its class count, its labels 0..k-1 and its Evaluation (binary when k is 2)."""
    y, p, w = problem
    k = p.shape[1]
    ev = Evaluation.from_predictions(y, p, task="binary" if k == 2 else "multiclass", sample_weight=w)
    return y, p, w, k, np.arange(k), ev


@SETTINGS
@given(problems())
def test_confusion_metrics_equal_sklearn(problem):
    """Check accuracy, balanced accuracy, P/R/F1 (3 averages), kappa and MCC on random problems."""
    y, p, w, k, labels, ev = evaluated(problem)
    yp = ev.y_pred
    s = ev.scores
    same(s["accuracy"], sk(skm.accuracy_score, y, yp, sample_weight=w), "accuracy")
    same(s["balanced_accuracy"], sk(skm.balanced_accuracy_score, y, yp, sample_weight=w), "balanced")
    for name, fn in (("precision", skm.precision_score), ("recall", skm.recall_score), ("f1", skm.f1_score)):
        for avg in ("macro", "micro", "weighted"):
            same(
                s[f"{name}_{avg}"],
                sk(fn, y, yp, labels=labels, average=avg, sample_weight=w, zero_division=np.nan),
                f"{name}_{avg}",
            )
    same(s["cohen_kappa"], sk(skm.cohen_kappa_score, y, yp, sample_weight=w), "kappa")
    same(s["mcc"], sk(skm.matthews_corrcoef, y, yp, sample_weight=w), "mcc")


@SETTINGS
@given(problems())
def test_probability_metrics_equal_sklearn(problem):
    """Check log loss, Brier, ROC AUC, average precision and top-k on random problems."""
    y, p, w, k, labels, ev = evaluated(problem)
    s = ev.scores
    same(s["log_loss"], sk(skm.log_loss, y, p, labels=labels, sample_weight=w), "log_loss")
    same(
        s["brier_score"], sk(skm.brier_score_loss, y, p[:, 1] if k == 2 else p, labels=labels, sample_weight=w), "brier"
    )
    if k == 2:
        same(s["roc_auc"], sk(skm.roc_auc_score, y, p[:, 1], sample_weight=w), "roc_auc")
        same(s["average_precision"], sk(skm.average_precision_score, y, p[:, 1], sample_weight=w), "ap")
    else:
        same(
            s["roc_auc_ovr_macro"],
            sk(skm.roc_auc_score, y, p, multi_class="ovr", labels=labels, sample_weight=w),
            "ovr",
        )
        if w is None:
            same(s["roc_auc_ovo_macro"], sk(skm.roc_auc_score, y, p, multi_class="ovo", labels=labels), "ovo")
        for kk in (2, 3, 5):
            if f"top_{kk}_accuracy" in s:
                same(
                    s[f"top_{kk}_accuracy"],
                    sk(skm.top_k_accuracy_score, y, p, k=kk, labels=labels, sample_weight=w),
                    f"top_{kk}",
                )
    per_class = ev.per_class()
    for c in range(k):  # binary too: class 0's curve may come from class 1's sort
        same(per_class["roc_auc"].iloc[c], sk(skm.roc_auc_score, y == c, p[:, c], sample_weight=w), f"auc[{c}]")
        if (y == c).any():
            same(
                per_class["average_precision"].iloc[c],
                sk(skm.average_precision_score, y == c, p[:, c], sample_weight=w),
                f"ap[{c}]",
            )


@SETTINGS
@given(problems(), st.floats(0, 1))
def test_threshold_index_equals_thresholding(problem, t):
    """Check the sorted-score index at a random threshold against thresholding and sklearn."""
    y, p, w = problem
    yb = (y == 1).astype(int)
    score = p[:, 1]
    ev = Evaluation.from_predictions(yb, np.stack([1 - score, score], 1), task="binary", sample_weight=w)
    res = ev.at_threshold(t)
    cm = skm.confusion_matrix(yb, (score >= t).astype(int), labels=[0, 1], sample_weight=w)
    np.testing.assert_allclose(res.confusion, cm)
