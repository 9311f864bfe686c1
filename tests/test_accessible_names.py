"""What a screen reader hears, checked headless on the demo dashboard and the HTML report: each
sample picture's text alternative (true, predicted, confidence), a name for every control, each
chart's name and its numbers as a table, and class colours from the one palette."""

from __future__ import annotations

import re

import bqplot as bq
import ipywidgets as W
import numpy as np
import pytest

from h5eval_widgets.core.results import palette
from h5eval_widgets.views._a11y import NamedImage

#: Widgets a user sets or presses: each needs a name (its description, or its tooltip).
CONTROLS = (W.Button, W.ToggleButton, W.Dropdown, W.Select, W.SelectionSlider, W.Checkbox, W.Text, W.Textarea)
CONTROLS += (W.FloatSlider, W.IntSlider, W.BoundedIntText, W.BoundedFloatText, W.IntText, W.FloatText)


def shown_widgets(root: W.Widget) -> list[W.Widget]:
    """The widgets of ``root``'s page a browser shows: boxes' children, skipping any subtree
    whose layout hides it (``display: none`` takes it out of what a screen reader reads)."""
    out, stack = [], [root]
    while stack:
        w = stack.pop()
        layout = getattr(w, "layout", None)
        if layout is not None and getattr(layout, "display", None) == "none":
            continue
        out.append(w)
        stack.extend(getattr(w, "children", ()) if isinstance(w, W.Box) else ())
    return out


def open_every_tab(dash) -> None:
    for i in range(len(dash.tabs.children)):
        dash.tabs.selected_index = i


def test_each_sample_picture_names_its_true_and_predicted_class_and_confidence(dash):
    """Check that each card's picture of cell (8, 1), the large one of "details" and the saliency
    maps are named: "sample i: true 8, predicted 1, confidence p" with the engine's p."""
    ev = dash.state.evaluation
    dash.confusion.click_cell(8, 1)
    shown = dash.samples.shown_indices
    assert len(shown) == len(ev.cell_indices(8, 1)) > 0
    names = [[w.tooltip for w in card.children if isinstance(w, W.Image)] for card in dash.samples.cards]
    want = [[f"sample {i}: true 8, predicted 1, confidence {ev.y_proba[i].max():.2f}"] for i in shown]
    assert names == want
    assert all(
        isinstance(w, NamedImage) for card in dash.samples.cards for w in card.children if isinstance(w, W.Image)
    )
    dash.samples.cards[0].children[-1].click()  # "details"
    assert dash.samples.detail_image.tooltip == want[0][0]
    assert isinstance(dash.samples.detail_image, NamedImage) and dash.samples.detail_image.description == ""


def test_every_shown_control_has_a_name(dash):
    """Check every control on the page (each tab opened, a cell's samples and details shown) has
    a non-empty description or tooltip, and that no picture shown lacks a tooltip."""
    dash.confusion.click_cell(8, 1)
    dash.samples.cards[0].children[-1].click()
    open_every_tab(dash)
    shown = [w for tab in dash.tabs.children for w in shown_widgets(tab)] + shown_widgets(dash)
    controls = [w for w in shown if isinstance(w, CONTROLS)]
    assert len(controls) > 20
    unnamed = [w for w in controls if not (w.description.strip() or (w.tooltip or "").strip())]
    assert unnamed == []
    pictures = [w for w in shown if isinstance(w, W.Image) and w.value]
    assert len(pictures) >= 5 and all(w.tooltip for w in pictures)


def test_each_chart_has_a_name_and_its_numbers_in_a_table(dash):
    """Check each bqplot chart shown (but the confusion matrix, named cell by cell) is tied to a
    text alternative on the page: its name and its marks' numbers (the reliability diagram's
    points as ``ev.calibration`` gives them); the Trust tab's charts drawn (a calibration chosen)."""
    open_every_tab(dash)
    dash.trust.choice.value = dash.trust.choice.options[1][1]
    shown = [w for tab in dash.tabs.children for w in shown_widgets(tab)] + shown_widgets(dash)
    figures = [w for w in shown if isinstance(w, bq.Figure) and not any(isinstance(m, bq.HeatMap) for m in w.marks)]
    texts = {
        re.search(r"id='(h5eval-chart-[0-9a-f]+)-name'", w.value).group(1): w.value
        for w in shown
        if isinstance(w, W.HTML) and "h5eval-chart-numbers" in w.value
    }
    assert len(figures) >= 9
    for fig in figures:
        key = next(c for c in fig._dom_classes if re.fullmatch(r"h5eval-chart-[0-9a-f]+", c))
        assert key in texts and f"{fig.title}: chart" in texts[key], fig.title
    cal = dash.state.evaluation.calibration(dash.calibration.n_bins)
    reliability = texts[next(c for c in dash.calibration.reliability._dom_classes if c.startswith("h5eval-chart-"))]
    for x, y in zip(cal["prob_pred"], cal["prob_true"]):
        assert f"<th scope='row'>{x:.3f}</th><td>{y:.3f}</td>" in reliability


def test_marks_take_the_palettes_colours(dash):
    """Check every line, bar and dot drawn (each tab opened) is in a colour of palette.py
    (Okabe-Ito's), so no class or series is told by a colour outside it."""
    open_every_tab(dash)
    allowed = {c.lower() for c in (*palette.OKABE_ITO, *palette.SERIES, palette.NEUTRAL, palette.SELECTION)}
    marks = [m for w in shown_widgets(dash) if isinstance(w, bq.Figure) for m in w.marks]
    marks += [m for tab in dash.tabs.children for w in shown_widgets(tab) if isinstance(w, bq.Figure) for m in w.marks]
    drawn = [m for m in marks if isinstance(m, (bq.Lines, bq.Bars, bq.Scatter))]
    assert len(drawn) > 8
    outside = {(type(m).__name__, c) for m in drawn for c in m.colors if c.lower() not in allowed}
    assert outside == set()


@pytest.fixture(scope="module")
def digits_report(demo):
    return demo.evaluate("digits_cnn", progress=False).to_html()


def test_the_reports_charts_have_a_name_and_a_table_of_their_numbers(digits_report):
    """Check each curve of the HTML report is an SVG named after its title (``role="img"``) and
    followed by a table of its numbers."""
    svgs = re.findall(r"<svg class='curve'[^>]*aria-label='([^']+)'", digits_report)
    tables = re.findall(r"<details class='numbers'><summary>numbers of ([^<]+)</summary>(.*?)</details>", digits_report)
    assert len(svgs) >= 3 and [t for t, _ in tables] == svgs
    assert all("<table>" in body and "<td>" in body for _, body in tables)


def test_the_reports_pictures_are_named_with_true_predicted_and_confidence(digits_report):
    """Check the report's script names a sample's picture by its true and predicted class and its
    confidence (the cards are written in the browser)."""
    assert "<img alt='\" + esc(alt" in digits_report
    assert '"sample " + id + ": true " + r["true"] + ", predicted " + r.predicted' in digits_report
    assert '", confidence " + r.confidence.toFixed(2)' in digits_report


def test_an_unnamed_chart_or_picture_gets_a_fallback_name():
    """Check the name helpers alone: a chart without a title is "chart", and a sample without
    a confidence is named by its labels."""
    from h5eval_widgets.views._a11y import ChartNumbers, alt_text

    xs, ys = bq.LinearScale(), bq.LinearScale()
    fig = bq.Figure(marks=[bq.Lines(x=np.arange(100.0), y=np.arange(100.0) ** 2, scales={"x": xs, "y": ys})])
    numbers = ChartNumbers(fig)
    assert "chart: chart; its numbers follow" in numbers.html.value
    assert "25 of 100 points" in numbers.html.value and "<td>9,801</td>" in numbers.html.value
    fig.title = "Squares"
    assert "Squares: chart" in numbers.html.value
    assert alt_text(3, "1.5", "1.25") == "sample 3: true 1.5, predicted 1.25"
