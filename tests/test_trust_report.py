"""Issue 35, item 3, the HTML report: ``ev.to_html(conformal=res)`` carries a "Prediction sets"
section with the sets at the result's alpha (coverage, mean size, per-class table, size
histogram), checked against sets made here from crepes' non-smoothed p-values; the page stays
one offline file; the dashboard's export adds the Trust tab's sets."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import numpy as np
import pytest

from tests.test_html_report import assert_self_contained
from tests.test_trust_dashboard import reference_sets


@pytest.fixture(scope="module")
def digits(demo):
    return demo.evaluate("digits_cnn", progress=False)


class Rows(HTMLParser):
    """The text of each cell of each row of an HTML table."""

    def __init__(self):
        super().__init__()
        self.rows: list[list[str]] = []

    def handle_starttag(self, tag, attrs):
        if tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th"):
            self.rows[-1].append("")

    def handle_data(self, data):
        if self.rows and self.rows[-1]:
            self.rows[-1][-1] += data


def table_rows(part: str, css_class: str) -> list[dict[str, str]]:
    parser = Rows()
    parser.feed(re.search(rf"<table class='{css_class}'>.*?</table>", part, re.S).group(0))
    head, *body = parser.rows
    return [dict(zip(head, row)) for row in body]


def section(page: str) -> str:
    start = page.index("<h2 id='conformal'>")
    end = page.find("<h2", start + 5)
    return page[start : end if end > 0 else len(page)]


@pytest.mark.parametrize("alpha", [0.1, 0.01])
def test_the_report_shows_the_sets_at_the_results_alpha(digits, alpha):
    """Check the section's coverage, mean size, per-class rows and size bars against reference
    sets of the evaluated half, at the alpha set on the result after it was made."""
    res = digits.conformal(0.5, alpha=0.2)
    res.alpha = alpha
    page = digits.to_html(conformal=res, bootstrap=False)
    assert_self_contained(page)
    part = section(page)
    test = np.asarray(res.rows)
    cal = np.setdiff1d(np.arange(digits.n_samples), test)
    sets = reference_sets(digits, cal, test, alpha)
    y = np.asarray(digits.y_true)[test]
    covered = sets[np.arange(len(test)), y]
    assert f"alpha = {alpha:g}: coverage <b>{covered.mean():.1%}</b>" in part
    assert f"target of {1 - alpha:.1%}" in part and f"mean set size {sets.sum(axis=1).mean():.2f}" in part
    table = table_rows(part, "conformal-per-class")
    assert [row["true class"] for row in table] == [str(c) for c in digits.classes]
    for c, row in enumerate(table):
        assert int(row["samples"]) == np.sum(y == c)
        cov = covered[y == c].mean()
        cell = row["coverage"]
        assert abs(float(cell.split()[0]) - cov) < 5e-4
        assert ("below target" in cell) == (cov < 1 - alpha)
        assert abs(float(row["mean set size"]) - sets[y == c].sum(axis=1).mean()) < 5e-3
    bars = dict(re.findall(r"data-size='(\d+)'.*?<title>size \d+: ([\d,]+) samples</title>", part))
    counts = np.bincount(sets.sum(axis=1), minlength=digits.n_classes + 1)
    assert {int(s): int(n.replace(",", "")) for s, n in bars.items()} == dict(enumerate(counts.tolist()))
    assert "exchangeable" in part and "Calibrated on a random 50% of this test set" in part


def test_no_conformal_result_no_section(digits):
    """Check that a report without ``conformal`` has no such section."""
    assert "id='conformal'" not in digits.to_html(bootstrap=False)


def test_the_dashboard_export_carries_the_trust_tabs_sets(dash):
    """Check that "export HTML report" with the split chosen in the Trust tab writes the sets at
    the tab's alpha, and without a calibration none."""
    dash.state.calibration = "split"
    dash.trust.alpha.value = 0.02
    res = dash.state.conformal()
    dash.summary.export.click()
    page = dash.summary.report_path().read_text(encoding="utf-8")
    assert f"alpha = 0.02: coverage <b>{res.coverage:.1%}</b>" in section(page)
    dash.state.calibration = None
    dash.summary.export.click()
    assert "id='conformal'" not in dash.summary.report_path().read_text(encoding="utf-8")
