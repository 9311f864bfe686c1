"""How quickly the dashboard answers in a real browser (run by hand; needs chromium).

    python benchmarks/browser.py
    python benchmarks/browser.py --cases 10 1000

Each case is served with Voila (``h5eval dashboard MODEL --data DATA``) and opened in headless
Chromium at 1600x1300:

- ``10``: the bundled demo (digits CNN, 10 classes, 719 image samples);
- ``1000``: a 1000-class model (nearest of 1000 embeddings, pairs of close classes confused)
  on 5,000 tabular samples;
- ``10k`` / ``100k``: a 10-class model of the same kind on 10,000 / 100,000 tabular samples.

It prints the time from opening the page until the matrix is drawn and the page is quiet
(kernel start and the evaluation included; predictions come from the cache after the first
run, which the benchmark makes before timing), then the time from a mouse click on a
non-empty off-diagonal cell until the samples view shows that cell's samples (title and rows
or cards drawn), the median over --clicks different cells. Target: click -> samples < 300 ms.

Then the embedding map (a jupyter-scatter WebGL widget), on generated evaluations with an
8-wide embedding (``tests/generated.py``: no model, 10 classes, about 85% right) of
``--map-cases`` samples (default 10k, 100k and 1M), served with Voila the same way: the time
from clicking its tab until the widget reports every point drawn (``isPointsDrawn`` and
``points.length == n`` in regl-scatterplot; the PCA map computed on the way, as when not
cached), then, with the toolbar's lasso chosen, the time from releasing the mouse after a lasso
loop until the samples view shows the points inside it (title and cards), the median over 5
loops, and the part of that time after the widget published its selection (the kernel's round
trip and the samples drawn: what this project's code does; before it, the browser finishes the
frames the lasso drawing asked for and regl-scatterplot finds the points inside the loop).
Targets: map drawn < 5 s at 1M, lasso -> samples < 300 ms. (The dashboard imports
jupyter-scatter and computes the PCA map in the background while the tab is unopened; the page
is opened, then the tab clicked once the page is quiet, as soon as a user could.)
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

SETTLE_JS = """() => {
    const root = document.querySelector('.h5eval-dashboard');
    window.__changed = performance.now();
    new MutationObserver(() => { window.__changed = performance.now(); })
        .observe(root, {subtree: true, childList: true, attributes: true, characterData: true});
}"""


def nearest_embedding_model(folder: Path, k: int, n: int, name: str, seed: int = 0) -> tuple[Path, Path]:
    """A model that picks the nearest of k class embeddings, and n noisy samples of them."""
    import keras

    rng = np.random.default_rng(seed)
    d = 32
    emb = rng.normal(size=(k, d)).astype(np.float32)
    emb[1::2] = emb[0::2] + 0.1 * rng.normal(size=(k // 2, d)).astype(np.float32)
    y = rng.integers(0, k, n)
    X = (emb[y] + rng.normal(scale=0.5, size=(n, d))).astype(np.float32)
    model = keras.Sequential([keras.Input((d,)), keras.layers.Dense(k, activation="softmax")])
    model.layers[-1].set_weights([emb.T * 4, -2 * (emb**2).sum(1)])
    model.save(folder / f"{name}.h5")
    np.savez(folder / f"{name}_test.npz", x=X, y=y)
    return folder / f"{name}.h5", folder / f"{name}_test.npz"


def measure(browser, notebook, status: str, names: list[str], clicks: int) -> tuple[float, list[float]]:
    """``names``: the classes of the drawn matrix's rows, in order."""
    from h5eval_widgets.serve import VoilaServer

    with VoilaServer(notebook) as srv:
        page = browser.new_page(viewport={"width": 1600, "height": 1300})
        t = time.perf_counter()
        page.goto(srv.url, timeout=300_000)
        page.wait_for_selector(f"text={status}", timeout=300_000)
        page.wait_for_selector("rect.heatmapcell", timeout=120_000)
        page.evaluate(SETTLE_JS)
        page.wait_for_function("performance.now() - window.__changed > 300", timeout=120_000, polling=50)
        drawn = time.perf_counter() - t - 0.3  # the quiet period is not the page's time
        k = len(names)
        assert len(page.locator("rect.heatmapcell").all()) == k * k
        labels = page.locator("text.heatmapcell_label").all_text_contents()
        counts = np.array([float(v) for v in labels[: k * k]]).reshape(k, k)
        np.fill_diagonal(counts, 0)
        cells = [
            divmod(int(c), k) for c in np.argsort(-counts, axis=None, kind="stable")[:clicks] if counts.flat[c] > 0
        ]
        times = []
        for i, j in cells:
            n = int(counts[i, j])
            box = page.locator("rect.heatmapcell").nth(i * k + j).bounding_box()
            t = time.perf_counter()
            page.mouse.click(box["x"] + box["width"] * 0.3, box["y"] + box["height"] * 0.3)
            want = f"true {names[i]} · predicted {names[j]} ({n})"
            page.wait_for_function(
                """([want, n]) => {
                    const heads = [...document.querySelectorAll('.h5eval-dashboard b')]
                        .filter(b => b.textContent === 'Samples');
                    const title = heads.length ? heads[0].parentElement.textContent : '';
                    const cards = [...document.querySelectorAll('.widget-vbox > .widget-button')]
                        .filter(b => b.textContent.trim() === 'details').length;
                    const shown = document.querySelectorAll('.h5eval-table-row').length + cards;
                    return title.includes(want) && shown >= Math.min(n, 12);
                }""",
                arg=[want, n],
                timeout=int(os.environ.get("WAIT_MS", "60000")),
                polling="raf",
            )
            times.append(time.perf_counter() - t)
        page.close()
    return drawn, times


SAMPLES_SHOWN_JS = """(want) => {
    const heads = [...document.querySelectorAll('.h5eval-dashboard b')].filter(b => b.textContent === 'Samples');
    const title = heads.length ? heads[0].parentElement.textContent : '';
    const m = title.match(/Chosen on the map \\((\\d+)\\)/);
    if (!m) return false;
    const n = Number(m[1]);
    const cards = [...document.querySelectorAll('.widget-vbox > .widget-button')]
        .filter(b => b.textContent.trim() === 'details').length;
    const shown = document.querySelectorAll('.h5eval-table-row').length + cards;
    return shown >= Math.min(n, 12);
}"""


MAP_API_JS = "() => [...document.querySelectorAll('div')].find(e => e.api && e.api.get)"


def map_notebook(n: int) -> dict:
    """A dashboard over a generated n-sample evaluation with an embedding."""
    from h5eval_widgets.serve import dashboard_notebook

    root = str(Path(__file__).resolve().parents[1])
    nb = dashboard_notebook(None, None, demo=True)
    nb["cells"][0]["source"] = (
        f"import sys\nsys.path.insert(0, {root!r})\nfrom h5eval_widgets import Dashboard\n"
        "from tests.generated import generated_evaluation\n"
        f"dashboard = Dashboard.from_evaluations({{'gen': generated_evaluation({n})}}, progress=False)\ndashboard"
    )
    return nb


def measure_map(browser, n: int, loops: int = 5) -> tuple[float, list[float], list[float], list[int]]:
    """Open the embedding map's tab (time until the widget has drawn its n points), then draw
    ``loops`` lassos (time from releasing each until the samples view shows its points, and the
    part of it after the widget published its selection: the kernel's round trip and the
    samples drawn; the rest is the browser finishing the frames the lasso asked for and
    regl-scatterplot finding the points inside it)."""
    from h5eval_widgets.serve import VoilaServer

    with VoilaServer(map_notebook(n)) as srv:
        page = browser.new_page(viewport={"width": 1600, "height": 1300})
        page.goto(srv.url, timeout=600_000)
        page.wait_for_selector(f"text=gen on gen{n}: {n} samples", timeout=600_000)
        page.evaluate(SETTLE_JS)
        page.wait_for_function("performance.now() - window.__changed > 300", timeout=300_000, polling=50)
        t = time.perf_counter()
        page.locator(".lm-TabBar-tab", has_text="Embedding map").click()
        page.wait_for_function(
            f"() => {{ const c = ({MAP_API_JS})(); return c && c.api.get('isPointsDrawn') "
            f"&& c.api.get('points').length == {n}; }}",
            timeout=600_000,
            polling=20,
        )
        map_s = time.perf_counter() - t
        page.evaluate(
            f"() => ({MAP_API_JS})().api.subscribe('select', () => {{ window.__selected = performance.now(); }})"
        )
        page.get_by_title("Activate lasso selection").click()
        times, after, sizes = [], [], []
        for _k, (fx, fy, fr) in enumerate(
            [(0.5, 0.5, 0.2), (0.4, 0.45, 0.12), (0.6, 0.55, 0.15), (0.45, 0.6, 0.08), (0.55, 0.4, 0.25)][:loops]
        ):
            box = page.evaluate(
                f"() => {{ const r = ({MAP_API_JS})().getBoundingClientRect(); "
                "return {x: r.x, y: r.y, width: r.width, height: r.height}; }"
            )
            cx, cy, r = box["x"] + fx * box["width"], box["y"] + fy * box["height"], fr * box["height"]
            page.mouse.move(cx + r, cy)
            page.mouse.down()
            for a in np.linspace(0, 1.9 * np.pi, 40):  # not back to the start: that is a click
                page.mouse.move(cx + r * np.cos(a), cy + r * np.sin(a), steps=2)
            t = time.perf_counter()
            page.mouse.up()
            page.wait_for_function(
                f"(w) => {{ const ok = ({SAMPLES_SHOWN_JS})(w); if (ok) window.__shown = performance.now(); return ok; }}",
                arg=True,
                timeout=120_000,
                polling="raf",
            )
            times.append(time.perf_counter() - t)
            after.append(page.evaluate("() => (window.__shown - window.__selected) / 1000"))
            sizes.append(page.evaluate(f"() => ({MAP_API_JS})().api.get('selectedPoints').length"))
            # another selection (not timed), so that the next lasso's title is new
            page.get_by_role("button", name="most confident mistakes").click()
            page.wait_for_selector("text=Most confident mistakes", timeout=120_000)
        page.close()
    return map_s, times, after, sizes


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", nargs="*", default=["10", "1000", "10k", "100k"], choices=["10", "1000", "10k", "100k"])
    ap.add_argument("--clicks", type=int, default=7)
    ap.add_argument("--map-cases", nargs="*", default=["10k", "100k", "1M"], choices=["10k", "100k", "1M"])
    args = ap.parse_args()

    from playwright.sync_api import sync_playwright

    from h5eval_widgets import Evaluation
    from h5eval_widgets.core.metrics.queries import classes_to_draw
    from h5eval_widgets.serve import _by_name, dashboard_notebook

    tmp = Path(tempfile.mkdtemp(prefix="h5eval-browser-"))
    cache = tmp / "cache"
    os.environ["H5EVAL_CACHE_DIR"] = str(cache)  # the served kernels inherit it
    cases = {}
    for case in args.cases:
        if case == "10":
            from h5eval_widgets import load_demo

            ev = load_demo().evaluate("digits_cnn", progress=False)  # fills the cache
            cases[case] = (
                dashboard_notebook(None, None, demo=True),
                "digits_cnn on digits_test: 719 samples",
                list(ev.classes),
            )
            continue
        k, n = {"1000": (1000, 5000), "10k": (10, 10_000), "100k": (10, 100_000)}[case]
        model, data = nearest_embedding_model(tmp, k, n, f"m{case}")
        ev = Evaluation.from_model(str(model), str(data), progress=False)  # fills the cache
        # as the dashboard draws them: focus class 0 (its default) is always among them
        drawn = classes_to_draw(ev.confusion_matrix(), 15, focus=0) if k > 30 else np.arange(k)
        cases[case] = (
            dashboard_notebook(_by_name([str(model)]), _by_name([str(data)])),
            f"m{case} on m{case}_test: {n} samples",
            [ev.classes[c] for c in drawn],
        )
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=shutil.which("chromium"),
            args=["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"],
        )
        if cases:
            print(f"{'case':>6} {'page drawn s':>13} {'click -> samples ms (median, min-max)':>40}", flush=True)
        for case, (notebook, status, names) in cases.items():
            drawn, times = measure(browser, notebook, status, names, args.clicks)
            ms = [t * 1000 for t in times]
            print(
                f"{case:>6} {drawn:>13.1f} {statistics.median(ms):>22.0f} "
                f"({min(ms):.0f}-{max(ms):.0f}, {len(ms)} cells)",
                flush=True,
            )
        if args.map_cases:
            print(
                f"{'map':>6} {'map drawn s':>12} {'lasso -> samples ms (median, min-max)':>40} "
                f"{'after the selection ms':>24} {'points chosen':>24}",
                flush=True,
            )
        for case in args.map_cases:
            n = {"10k": 10_000, "100k": 100_000, "1M": 1_000_000}[case]
            map_s, lassos, after, sizes = measure_map(browser, n)
            ls, af = [t * 1000 for t in lassos], [t * 1000 for t in after]
            print(
                f"{case:>6} {map_s:>12.2f} {statistics.median(ls):>22.0f} "
                f"({min(ls):.0f}-{max(ls):.0f}, {len(ls)} lassos) {statistics.median(af):>12.0f} "
                f"({min(af):.0f}-{max(af):.0f}) {min(sizes):>10,}-{max(sizes):,}",
                flush=True,
            )
        browser.close()
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
