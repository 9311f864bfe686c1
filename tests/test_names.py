"""Metric names and the one number format (issue 32, item 4): every key of every task's scores
has a human name, the format follows its rules, and the summary and the report show the names
with the keys in tooltips."""

from __future__ import annotations

import numpy as np
import pytest

from h5eval_widgets.core import Evaluation
from h5eval_widgets.core.results.names import fmt, fmt_interval, metric_name


@pytest.fixture(scope="module")
def evaluations():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 200)
    p = rng.dirichlet(np.ones(3), 200)
    yb = rng.integers(0, 2, 200)
    ym = rng.integers(0, 2, (200, 3))
    return [
        Evaluation.from_predictions(y, p),
        Evaluation.from_predictions(yb, rng.random(200)),
        Evaluation.from_predictions(ym, rng.random((200, 3)), task="multilabel"),
        Evaluation.from_predictions(rng.normal(size=200) + 3, rng.normal(size=200) + 3, task="regression"),
    ]


def test_every_score_key_has_a_name(evaluations):
    """Check no key of a classifier's, a binary model's, a multi-label's or a regressor's scores is
    shown as the key itself, and a few names people use."""
    keys = {k for ev in evaluations for k in ev.scores}
    assert len(keys) > 25
    assert [k for k in keys if metric_name(k) == k] == []
    assert metric_name("roc_auc_ovr_macro") == "ROC AUC (one-vs-rest, macro)"
    assert metric_name("balanced_accuracy") == "Balanced accuracy"
    assert metric_name("top_2_accuracy") == "Top-2 accuracy"
    assert metric_name("f1_weighted") == "F1 (weighted)"
    assert metric_name("mar_100") == "mAR, 100 detections" and metric_name("mar_1") == "mAR, 1 detection"
    assert metric_name("something_new") == "something_new"


@pytest.mark.parametrize(
    "value, text",
    [
        (0.97641, "0.976"),
        (1.0, "1.000"),
        (0.0512, "0.0512"),
        (0.00031, "3.10e-04"),
        (0, "0"),
        (12, "12"),
        (12345, "12,345"),
        (np.int64(7), "7"),
        (53.417, "53.42"),
        (2345.6, "2,346"),
        (float("nan"), "—"),
        (None, "—"),
    ],
)
def test_numbers_have_one_format(value, text):
    """Check the format: 3 decimals below 10, 3 significant digits below 0.1, 4 up to 1,000,
    whole numbers with separators above, counts whole."""
    assert fmt(value) == text


def test_an_interval_follows_its_value():
    assert fmt_interval(0.97641, 0.9642, 0.98631) == "0.976 [0.964, 0.986]"
    assert fmt_interval(0.5, float("nan"), float("nan")) == "0.500"


def test_the_summary_and_the_report_show_names_with_keys_in_tooltips(evaluations):
    """Check the dashboard's summary and the HTML report write "Balanced accuracy" with the key
    as its tooltip, and the value in the one format."""
    from h5eval_widgets import Dashboard

    ev = evaluations[0]
    dash = Dashboard.from_evaluations({"m": ev})
    try:
        table = dash.summary.table.value
        assert "title='balanced_accuracy: how it is made from the counts'>Balanced accuracy</button>" in table
        assert f"data-metric='balanced_accuracy'>{fmt(ev.scores['balanced_accuracy'])}</td>" in table
        assert ">balanced_accuracy<" not in table
    finally:
        dash.close()
    page = ev.to_html(bootstrap=False)
    assert "<th class='l' title='roc_auc_ovr_macro'>ROC AUC (one-vs-rest, macro)</th>" in page
    assert f"data-metric='accuracy'>{fmt(ev.scores['accuracy'])}</td>" in page
