"""Issue 36, item 3, in Chromium: a card's "details" shows the sample's nearest training samples
(digits_train), pictures whose alt texts name the training labels the engine gives; the summary's
leakage line is checked with its button. Neither has a serious axe-core violation."""

from __future__ import annotations

import re

import pytest

from tests.test_axe_browser import assert_no_violations
from tests.test_browser import (  # noqa: F401  (browser, server, page: fixtures)
    CHROMIUM,
    browser,
    card_number,
    page,
    server,
    show_cell,
    wait_until_settled,
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (make test installs it)"),
]


def test_details_shows_the_nearest_training_samples(page, demo):  # noqa: F811
    from playwright.sync_api import expect

    ev = demo.evaluate("digits_cnn", progress=False)
    cards, _ = show_cell(page, ev, 8, 1)
    i = card_number(cards, 0)
    cards.nth(0).locator(".widget-button:text-is('details')").click()
    pictures = page.locator(".h5eval-nearest-training .h5eval-neighbour img")
    expect(pictures).to_have_count(5, timeout=60_000)
    expect(page.locator(".h5eval-nearest-training")).to_contain_text(f"Nearest training samples of sample {i}")
    wait_until_settled(page)
    expected = ev.nearest_training([i], demo.dataset("digits_train"))
    alts = [pictures.nth(n).get_attribute("alt") for n in range(5)]
    for alt, r in zip(alts, expected.itertuples()):
        m = re.fullmatch(r"training sample (\d+): true (\S+), predicted (\S+), distance .+", alt or "")
        assert m, alt
        assert (int(m.group(1)), m.group(2), m.group(3)) == (r.train_index, r.train_label, r.train_prediction)
    assert all(pictures.nth(n).evaluate("im => im.naturalWidth > 0") for n in range(5))
    assert_no_violations(page, "the nearest training samples", context=".h5eval-nearest-training")


def test_the_leakage_line_is_checked_with_its_button(page, demo):  # noqa: F811
    from playwright.sync_api import expect

    ev = demo.evaluate("digits_cnn", progress=False)
    n = len(ev.near_duplicates(demo.dataset("digits_train")))
    page.locator(".h5eval-leakage .widget-button", has_text="check for near-duplicates in digits_train").click()
    expect(page.locator(".h5eval-leakage")).to_contain_text(
        f"{n:,} of {ev.n_samples:,} test samples have a near-duplicate in digits_train", timeout=60_000
    )
    wait_until_settled(page)
    assert_no_violations(page, "the leakage line", context=".h5eval-leakage")
