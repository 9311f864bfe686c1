"""The interactive HTML report writes numbers and colours as the dashboard does (issue 32, items
8 and 9): every number by ``names.fmt`` (no 4-decimal "0.9114" / "1.0000" left), every colour
from ``palette.py`` (matrix cells are tints of its CORRECT and ERROR hues, curves its SERIES),
and the slices table one column per metric with its interval, bin edges at 3 significant digits.
The browser side (widths, legends drawn) is in test_report_layout_browser.py."""

from __future__ import annotations

import re

import numpy as np
import pytest

from h5eval_widgets.core.results import palette
from h5eval_widgets.core.results.palette import contrast, tint
from h5eval_widgets.core.results.html_report import bin_label
from h5eval_widgets.core.results.names import fmt, fmt_interval
from tests.test_html_report import html_tables, page_data


@pytest.fixture(scope="module")
def digits():
    from h5eval_widgets import load_demo

    d = load_demo()
    ev = d.evaluate("digits_cnn", progress=False)
    return ev, ev.to_html(data=d.dataset("digits_cnn"))


def _without_data(page: str) -> str:
    return re.sub(r"<script type='application/json'.*?</script>", "", page, flags=re.S)


def _numbers(text: str) -> list[str]:
    return re.findall(r"(?<![\w.#-])-?\d+(?:,\d{3})*(?:\.\d+)?(?:e[+-]\d+)?(?![\w.])", text)


def test_every_number_in_the_report_is_written_by_fmt(digits):
    """Check every number in the page's table cells and curve labels reads back as fmt writes it
    (fmt(value) == s: '0.911', '1.000' and '1', never '0.9114' or '1.0000'), the per-class table
    and the matrix are fmt of the engine's values, and the reliability title's ECE too."""
    ev, page = digits
    cells = re.findall(r"<td[^>]*>([^<]*)</td>", _without_data(page))
    svg_text = re.findall(r"<text [^>]*text-anchor[^>]*>([^<]*)</text>", page)  # axis ticks
    tokens = [t for s in cells + svg_text for t in _numbers(s)]
    assert len(tokens) > 250

    def read(t: str):  # a count is written whole, anything else as a float
        v = t.replace(",", "")
        return float(v) if "." in v or "e" in v else int(v)

    bad = [t for t in tokens if fmt(read(t)) != t]
    assert bad == []
    assert not re.search(r"\b(?:[1-9]\.\d{4}|0\.[1-9]\d{3})\b", " ".join(cells)), "a 4-decimal number is left"

    tables = html_tables(page)
    header, *rows = tables["Per class"]
    pc = ev.per_class()
    assert header[1:4] == ["Precision", "Recall", "F1"]
    for row, (name, want) in zip(rows, pc.iterrows()):
        assert row[0] == str(name)
        assert row[1:] == [fmt(v) for v in want.to_list()], name
    cm = ev.confusion_matrix()
    shown = re.findall(r"data-count='(\d+)'[^>]*>([^<]*)</td>", page)
    assert [int(c) for c, _ in shown] == cm.ravel().tolist()
    assert [t for _, t in shown] == [fmt(int(c)) for c in cm.ravel()]
    assert f"aria-label='Reliability (ECE {fmt(float(ev.ece))})'" in page


def test_a_binary_pages_thresholds_are_written_by_fmt():
    """Check the binary page's threshold and its buttons are fmt's (the exact value in a
    tooltip), and the metric names are people's."""
    from h5eval_widgets import load_demo

    ev = load_demo().evaluate("breast_cancer_mlp", progress=False)
    page = ev.to_html(bootstrap=False)
    buttons = re.findall(r"<button data-threshold='\d+' title='([^']+)'>[^<(]+ \(([^)]+)\)</button>", page)
    assert len(buttons) == 3
    assert all(shown == fmt(float(exact)) for exact, shown in buttons)
    assert re.search(r"id='threshold-value' title='[^']+'>" + re.escape(fmt(float(ev.threshold))) + "<", page)
    assert "<th class='l' title='balanced_accuracy'>Balanced accuracy</th>" in page


def test_the_slices_table_has_one_column_per_metric_with_its_interval(digits):
    """Check the "ink" slices table: a column per metric named as people name it (no
    'accuracy_low'), each cell 'value [low, high]' as fmt_interval writes the engine's, and
    bin edges at 3 significant digits (the engine's labels carry 6)."""
    ev, page = digits
    frame = ev.slices("ink")
    header, *rows = html_tables(page)["ink"]
    assert header == ["slice", "Samples", "Share", "Errors", "Share of errors", "Accuracy", "F1 (macro)"] + [
        "ROC AUC",
        "Error rate",
    ]
    assert not any(h.endswith(("_low", "_high")) for h in header)
    assert len(rows) == len(frame)
    for row, (name, s) in zip(rows, frame.iterrows()):
        edges = re.fullmatch(r"ink in [\[(](\S+), (\S+)\]", row[0]).groups()
        assert all(e == f"{float(e):.3g}" and len(e.replace("0.", "").lstrip("0")) <= 3 for e in edges), row[0]
        assert row[0] == bin_label(name) and row[0] != name  # the engine's label has 6 digits
        assert row[1] == fmt(s["size"]) and row[3] == fmt(s["errors"])
        assert row[5] == fmt_interval(s["accuracy"], s["accuracy_low"], s["accuracy_high"])
        assert re.fullmatch(r"\S+ \[\S+, \S+\]", row[6])
    assert bin_label("ink in (0.27832, 0.305664]") == "ink in (0.278, 0.306]"
    assert bin_label("size in [1234.5, 98765.4]") == "size in [1,230, 98,800]"
    assert bin_label("colour = red") == "colour = red"


def _hexes(page: str) -> set[str]:
    return {c.lower() for c in re.findall(r"#[0-9a-fA-F]{6}\b", _without_data(page))}


def test_the_reports_colours_are_the_palettes(digits):
    """Check every colour of the page is a colour of palette.py, a tint of its CORRECT or ERROR
    hue (the matrix) or a grey of the page's theme: no hue of the old page's own palette; the
    curves take SERIES in order, the diagonal of chance NEUTRAL; the selected cell's outline is
    SELECTION, thick; the matrix's diagonal is in CORRECT's hue, errors in ERROR's on their own
    scale (a 1 stands out from a 0), and every number contrasts at least 4.5:1."""
    ev, page = digits
    tints = {tint(h, t / 1000) for h in (palette.CORRECT, palette.ERROR) for t in range(1001)}
    ours = {c.lower() for c in (*palette.OKABE_ITO, palette.NEUTRAL, *tints)}

    def grey(c: str) -> bool:
        rgb = [int(c[i : i + 2], 16) for i in (1, 3, 5)]
        return max(rgb) - min(rgb) <= 16

    assert {c for c in _hexes(page) if c not in ours and not grey(c)} == set()
    assert not re.search(r"rgba?\(\d", _without_data(page))  # no colour outside the hex ones

    roc = page[page.index("aria-label='ROC curve'") : page.index("</svg>", page.index("aria-label='ROC curve'"))]
    strokes = re.findall(r"<polyline points='[^']*' stroke='(#\w+)' stroke-width='1.5'", roc)
    assert strokes == [palette.SERIES[k % len(palette.SERIES)] for k in range(10)]
    assert "class='diagonal' points='" in roc and f"stroke='{palette.NEUTRAL}'" in roc
    assert re.search(r"td\.cell\.sel\{outline:4px solid var\(--sel\)", page)
    assert f"--sel:{palette.SELECTION}" in page

    cm = ev.confusion_matrix()
    styles = re.findall(r"data-count='(\d+)' style='background:(#\w+);color:(#\w+)'", page)
    fills = np.array([s[1] for s in styles]).reshape(cm.shape)
    texts = np.array([s[2] for s in styles]).reshape(cm.shape)
    eye = np.eye(len(cm), dtype=bool)
    right = {tint(palette.CORRECT, t / 1000) for t in range(300, 1001)}
    wrong = {tint(palette.ERROR, t / 1000) for t in range(300, 1001)}
    assert set(fills[eye]) <= right
    assert set(fills[~eye & (cm > 0)]) <= wrong and set(fills[cm == 0]) == {"#ffffff"}
    one, zero = fills[cm == 1][0], "#ffffff"
    assert contrast(one, zero) > 1.3, (one, "a 1 is almost as white as a 0")
    assert fills[~eye][cm[~eye].argmax()] == palette.ERROR.lower()  # the largest error: full hue
    assert all(contrast(f, t) >= 4.5 for f, t in zip(fills.ravel(), texts.ravel()))
    assert page_data(page)["palette"]["right"] == palette.CORRECT
