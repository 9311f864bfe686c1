"""Segmentation and audio dashboards in real Chromium, served by Voila on one page: a mouse click on
a pixel-matrix cell draws that cell's images with their masks overlaid and the cell's pixels
marked; the audio dashboard's cards carry a playable ``<audio>`` element of each shown file."""

from __future__ import annotations

import json
import wave
from pathlib import Path

import pytest

from h5eval_widgets.serve import VoilaServer, dashboard_notebook
from h5eval_widgets.views.masks import MARK
from tests.helpers import wait_until_no_process_mentions
from tests.segmentation_fixtures import CLASSES, write_folders
from tests.test_audio_folders import audio_models  # noqa: F401  (module fixture: a .wav folder and models)
from tests.test_browser import CHROMIUM, browser, click_cell, colour_counts, figure_titled, wait_until_settled  # noqa: F401  (browser: a fixture)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (make test installs it)"),
]


@pytest.fixture(scope="module")
def served(seg_models, seg_data, audio_models, tmp_path_factory):  # noqa: F811
    """Voila serving two dashboards on one page: the softmax segmentation model on a folder of 24
    images and masks, then the waveform audio model on a folder of 24 .wav files; with the
    evaluation of the first made here the same way."""
    from h5eval_widgets.core import Evaluation

    _, _, X, y = seg_data
    images, masks = write_folders(tmp_path_factory.mktemp("seg_browser"), X, y)
    sounds, wave_model, _, _ = audio_models
    root = str(Path(__file__).resolve().parent.parent)
    cache = str(tmp_path_factory.mktemp("kernel_cache"))
    seg = (
        f"import os, sys\nos.environ['H5EVAL_CACHE_DIR'] = {cache!r}\nsys.path.insert(0, {root!r})\n"
        "from h5eval_widgets import Dashboard, Evaluation\n"
        f"ev = Evaluation.from_model({str(seg_models['softmax'])!r}, {str(images)!r}, masks={str(masks)!r}, "
        f"classes={list(CLASSES)!r}, progress=False)\n"
        "seg_dashboard = Dashboard.from_evaluations({'unet': ev})\nseg_dashboard"
    )
    sound = (
        f"sound_dashboard = Dashboard(models={json.dumps({'wave': str(wave_model)})}, "
        f"datasets={json.dumps({'sounds': str(sounds)})}, progress=False)\nsound_dashboard"
    )
    nb = dashboard_notebook(None, None, demo=True)
    nb["cells"][0]["source"] = seg
    nb["cells"].append(dict(nb["cells"][0], id="sound", source=sound))
    ev = Evaluation.from_model(seg_models["softmax"], images, masks=masks, classes=CLASSES, progress=False)
    with VoilaServer(nb) as srv:
        folder = str(srv.folder)
        yield srv, ev, sounds
    wait_until_no_process_mentions(folder, owner="kernel of the voila server")


def test_a_pixel_cell_click_draws_its_images_with_overlays_and_audio_cards_play(served, browser):  # noqa: F811
    """Check in Chromium: a mouse click on the pixel-matrix cell (true square, predicted disc) shows
    that cell's images, the most such pixels first, each drawn (decoded) with its true and its
    predicted overlay, the predicted one marking exactly that image's cell pixels; and that every
    card of the audio dashboard holds an ``<audio>`` element whose sound Chromium decodes to its
    file's duration."""
    from playwright.sync_api import expect

    srv, ev, sounds = served
    idx, counts = ev.cell_indices(1, 2, with_counts=True)
    shown = min(len(idx), 6)
    assert shown >= 2
    page = browser.new_page(viewport={"width": 1400, "height": 1400})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        page.goto(srv.url, timeout=120_000)
        cells = figure_titled(page, "Pixel confusion matrix").locator("rect.heatmapcell")
        expect(cells).to_have_count(9, timeout=120_000)
        page.wait_for_selector("text=Worst mean IoU first", timeout=60_000)
        wait_until_settled(page)
        click_cell(page, 3, 1, 2, cells)
        page.wait_for_selector(
            f"text=selected: true square → predicted disc, {int(counts.sum()):,} pixels", timeout=30_000
        )
        page.wait_for_selector("text=true square · predicted disc", timeout=30_000)
        # the title comes before the cards, whose masks are drawn again for the cell: wait until
        # the shown cards are the cell's (its images, each caption counting its cell pixels)
        want = [f"#{i} " for i in idx[:shown]]
        captions = page.locator(".h5eval-mask-card:visible [data-index]")
        page.wait_for_function(
            "want => { const cs = [...document.querySelectorAll('.h5eval-mask-card [data-index]')]"
            ".filter(c => c.closest('.h5eval-mask-card').offsetParent !== null);"
            " return cs.length == want.length && cs.every((c, n) => c.innerText.startsWith(want[n])"
            " && c.innerText.includes('px of the cell')); }",
            arg=want,
            timeout=30_000,
        )
        expect(captions).to_have_count(shown)
        assert [int(c) for c in captions.evaluate_all("cs => cs.map(c => c.dataset.index)")] == idx[:shown].tolist()
        pixels = [int(c.split(" · ")[2].split(" px")[0].replace(",", "")) for c in captions.all_inner_texts()]
        assert pixels == counts[:shown].tolist() and min(pixels) > 0
        page.wait_for_function(
            "n => { const ims = [...document.querySelectorAll('.h5eval-mask-card img')]"
            ".filter(im => im.closest('.h5eval-mask-card').offsetParent !== null);"
            " return ims.length == n && ims.every(im => im.complete && im.naturalWidth > 0); }",
            arg=2 * shown,
            timeout=30_000,
        )
        scale = (128 // 32) ** 2  # the 32 px masks are drawn at 128 px, nearest
        # the true overlays mark nothing; the predicted ones the cell's pixels
        expected = [v for c in counts[:shown] for v in (0, scale * int(c))]
        selector = ".h5eval-mask-card:not([style*='display: none']) img"
        marked = colour_counts(page, selector, MARK)
        for _ in range(50):  # a picture's new data may still be decoding: read again until it settles
            if marked == expected:
                break
            page.wait_for_timeout(200)
            marked = colour_counts(page, selector, MARK)
        assert marked == expected

        players = page.locator(".h5eval-dashboard audio")
        page.wait_for_function(
            "() => { const a = [...document.querySelectorAll('.h5eval-dashboard audio')];"
            " return a.length > 0 && a.every(e => e.readyState >= 1); }",
            timeout=60_000,
        )
        durations = players.evaluate_all("as => as.map(a => a.duration)")
        names = [
            n.strip()
            for n in players.evaluate_all(
                "as => as.map(a => a.closest('.widget-vbox').innerText.split('\\n').find(t => t.endsWith('.wav')))"
            )
        ]
        assert len(durations) == len(names) > 0
        for name, seconds in zip(names, durations):
            with wave.open(str(next(sounds.rglob(name))), "rb") as w:
                assert seconds == pytest.approx(w.getnframes() / w.getframerate(), abs=1e-3), name
        assert errors == []
    finally:
        page.close()
