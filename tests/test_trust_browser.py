"""Issue 35, item 3, in real Chromium: in the demo dashboard's Trust tab, with a held-out half of
digits_test chosen as the calibration set, a mouse click on a class's coverage bar shows exactly
that class's uncovered samples (their sets miss the true class), each card with its set."""

from __future__ import annotations

import re

import numpy as np

from tests.test_browser import (  # noqa: F401  (browser, server, page: fixtures; pytestmark: browser, needs chromium)
    browser,
    card_number,
    choose,
    figure_titled,
    open_tab,
    page,
    pytestmark,
    sample_cards,
    server,
    wait_until_settled,
)


def test_a_mouse_click_on_a_class_bar_shows_exactly_its_uncovered_samples(page, demo, server):  # noqa: F811
    """Check that choosing the split and clicking a class's coverage bar with the mouse lists the
    samples ev.conformal(0.5).uncovered(cls) names, in digits_test's numbering, and nothing else;
    each card shows its set, which leaves out the sample's true class; the page logs no error and
    axe-core finds no serious violation with the charts drawn."""
    from playwright.sync_api import expect

    ev = demo.evaluate("digits_cnn", progress=False)
    res = ev.conformal(0.5, alpha=0.1)
    counts = {c: len(res.uncovered(c)) for c in range(ev.n_classes)}
    cls = max((c for c in counts if counts[c] <= 12), key=lambda c: counts[c])  # one page of cards
    expected = set(np.asarray(res.rows)[res.uncovered(cls)].tolist())
    assert len(expected) >= 2

    errors: list[str] = []  # (Voila's own request to a CDN fails offline: other hosts are left out)
    page.on(
        "console",
        lambda m: m.type == "error" and m.location.get("url", "").startswith(server.url) and errors.append(m.text),
    )
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    open_tab(page, "Trust")
    wait_until_settled(page)
    choose(page, "calibration", "split 50% of this test set (held out, seeded)")
    chart = figure_titled(page, "Coverage per class")
    bars = chart.locator("rect.bar")
    expect(bars).to_have_count(ev.n_classes, timeout=60_000)
    wait_until_settled(page)
    bars.nth(cls).scroll_into_view_if_needed()
    box = bars.nth(cls).bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] * 0.7)
    page.wait_for_selector(
        f"text=true {ev.classes[cls]}, not in its set at alpha 0.1 ({len(expected)})", timeout=30_000
    )
    cards = sample_cards(page)
    expect(cards).to_have_count(len(expected), timeout=30_000)
    shown = {card_number(cards, n) for n in range(cards.count())}
    assert shown == expected
    for n in range(cards.count()):
        text = cards.nth(n).inner_text()
        members = re.search(r"set \{([^}]*)\}", text).group(1)
        assert ev.classes[cls] not in [m.strip() for m in members.split(",") if m.strip()]
    assert errors == []
    # with its charts drawn and a class's samples shown, axe-core's WCAG A/AA rules find no
    # serious or critical violation in the page
    from tests.test_axe_browser import axe_violations

    page.mouse.move(1, 1)  # off the charts: bqplot draws a hovered figure's toolbar (its buttons)
    wait_until_settled(page)
    found = axe_violations(page)
    assert found == [], "\n".join(found)
