"""The HTML report explains each metric as ``ev.explain`` does (issue 34, item 2, static): under
each row of the metrics table a folded ``<details>`` with the formula typeset, the text formula,
the scikit-learn call and the terms; for a multi-class and a binary report every metric's
explanation is there and holds the value as the table shows it."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import numpy as np
import pytest

from h5eval_widgets.core import Evaluation

ROW = re.compile(
    r"<td data-metric='([^']+)'>([^<]*)</td>.*?</tr>(<tr class='explain'><td colspan='3'>(<details.*?</details>)</td></tr>)?",
    re.S,
)


def _reports():
    rng = np.random.default_rng(12)
    y = rng.integers(0, 5, 500)
    p = rng.dirichlet(np.ones(5), 500)
    p[np.arange(500), y] += rng.uniform(0, 0.9, 500)
    multi = Evaluation.from_predictions(y, p / p.sum(1, keepdims=True), classes=["ant", "bee", "cow", "doe", "elk"])
    y2 = rng.integers(0, 2, 300)
    binary = Evaluation.from_predictions(y2, np.clip(0.35 * y2 + 0.65 * rng.random(300), 0, 1), threshold=0.45)
    return {"multiclass": multi, "binary": binary}


@pytest.fixture(scope="module", params=["multiclass", "binary"])
def report(request):
    ev = _reports()[request.param]
    return ev, ev.to_html(bootstrap=False)


def test_every_metric_row_is_followed_by_its_explanation(report):
    """Check that each metric of ``ev.scores`` has its row and, under it, a ``<details>`` naming
    the metric whose text holds ``ev.explain``'s formula with the value as the row shows it, the
    typeset formula for the headline metrics that have one, and the counts table; well-formed,
    no script, no link."""
    ev, page = report
    rows = {m[1]: (m[2], m[4]) for m in ROW.finditer(page)}
    assert set(rows) == set(ev.scores)
    for metric, (shown, block) in rows.items():
        assert block, f"{metric} has no explanation"
        ex = ev.explain(metric)
        tree = ET.fromstring(block)
        text = "".join(tree.itertext())
        assert ex.formula in text and shown in ex.formula, metric
        assert "<script" not in block and "http" not in block
        assert tree.find(".//table") is not None, metric
        if metric in ev.HEADLINE_METRICS and ex.math:
            maths = [el for el in tree.iter() if el.tag == "math"]
            assert maths and shown in [n.text for m in maths for n in m.iter("mn")], metric
    headline = [m for m in ev.HEADLINE_METRICS if m in ev.scores]
    assert headline and all(rows[m][1] for m in headline)


def test_the_explanations_are_folded_and_name_their_metric(report):
    """Check that every explanation starts closed (the table reads as before) and its summary
    names the metric as the row does."""
    ev, page = report
    summaries = re.findall(r"<details class='explain'><summary>How (.*?) is made</summary>", page)
    names = re.findall(r"<tr><th class='l' title='[^']+'>([^<]*)</th><td data-metric=", page)
    assert summaries == names and len(names) == len(ev.scores)
    assert "<details class='explain' open" not in page
