"""The interactive HTML report as a file: self-contained, small, and holding the right samples
for each cell, threshold and task (the browser side is in test_report_browser.py)."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest

from h5eval_widgets import Evaluation
from h5eval_widgets.cli import main
from h5eval_widgets.core.data.datasets import Dataset
from h5eval_widgets.core.results.html_report import bin_label
from h5eval_widgets.core.results.names import fmt
from h5eval_widgets.core.results.report_data import PER_CELL

DEMO_MODELS = ("digits_cnn", "digits_weak_mlp", "breast_cancer_mlp", "diabetes_mlp")


class _Tables(HTMLParser):
    """Every ``<table>`` of a page under its latest ``<h2>``/``<h3>`` heading: rows of cell texts."""

    def __init__(self):
        super().__init__()
        self.tables: list[tuple[str, list[list[str]]]] = []
        self.heading, self._in_heading, self._cell = "", False, None

    def handle_starttag(self, tag, attrs):
        if tag in ("h2", "h3"):
            self.heading, self._in_heading = "", True
        elif tag == "table":
            self.tables.append((self.heading, []))
        elif tag == "tr" and self.tables:
            self.tables[-1][1].append([])
        elif tag in ("td", "th"):
            self._cell = ""

    def handle_endtag(self, tag):
        if tag in ("h2", "h3"):
            self._in_heading = False
        elif tag in ("td", "th") and self._cell is not None:
            self.tables[-1][1][-1].append(self._cell.strip())
            self._cell = None

    def handle_data(self, data):
        if self._in_heading:
            self.heading += data
        if self._cell is not None:
            self._cell += data


def html_tables(page: str) -> dict[str, list[list[str]]]:
    """The page's tables by the heading they stand under (the first table of each heading)."""
    parser = _Tables()
    parser.feed(page)
    out: dict[str, list[list[str]]] = {}
    for heading, rows in parser.tables:
        out.setdefault(heading, rows)
    return out


def svg_named(page: str, label: str) -> str:
    """The inline ``<svg>`` whose aria-label is ``label``."""
    start = page.index(f"aria-label='{label}'")
    return page[page.rindex("<svg", 0, start) : page.index("</svg>", start)]


def svg_frame(svg: str) -> tuple[float, float, float, float]:
    """The plot frame (x, y, width, height) of a curve drawn by the report."""
    x, y, w, h = re.search(r"<rect x='([\d.]+)' y='([\d.]+)' width='([\d.]+)' height='([\d.]+)'", svg).groups()
    return float(x), float(y), float(w), float(h)


def page_data(page: str) -> dict:
    """The JSON the page's script reads."""
    blob = re.search(r"<script type='application/json' id='h5eval-data'>(.*?)</script>", page, re.S)
    return json.loads(blob.group(1).replace("<\\/", "</"))


def assert_self_contained(page: str) -> None:
    """Nothing in the page names a file or address to fetch: no src/href to http(s) or a
    relative file, no CSS url() or @import, no <link>."""
    assert page.startswith("<!DOCTYPE html>")
    assert "<link" not in page and "@import" not in page and "url(" not in page
    srcs = re.findall(r"""(?:src|href)\s*=\s*['"]([^'"]*)""", page)
    srcs = [s for s in srcs if s]  # the script's "src='" + r.img, filled from the data
    assert all(s.startswith("data:image/png;base64,") for s in srcs), set(srcs)


@pytest.fixture(scope="module")
def demo_pages(tmp_path_factory) -> dict[str, Path]:
    """`h5eval report --demo --format html -o demo.html`: one page per demo model."""
    out = tmp_path_factory.mktemp("reports") / "demo.html"
    assert main(["report", "--demo", "--format", "html", "-o", str(out), "-q"]) == 0
    return {m: out.with_name(f"demo-{m}.html") for m in DEMO_MODELS}


def test_the_demo_pages_are_self_contained_and_under_5_mb(demo_pages):
    """Check the CLI writes one page per demo model, each under 5 MB, fetching nothing, and the
    image models' pages carry their samples' thumbnails and cells named by class."""
    for name, path in demo_pages.items():
        page = path.read_text(encoding="utf-8")
        assert path.stat().st_size < 5_000_000, (name, path.stat().st_size)
        assert_self_contained(page)
    digits = demo_pages["digits_cnn"].read_text()
    assert digits.count("data:image/png;base64,") >= 10 * PER_CELL  # the listed samples of every cell
    assert "data-true='8' data-predicted='1'" in digits
    assert f"at most {PER_CELL} samples" in digits
    tabular = demo_pages["breast_cancer_mlp"].read_text()
    assert "mean radius" in tabular and "type='range'" in tabular


def test_the_curves_and_slices_of_the_digits_page_are_scikit_learns(demo_pages):
    """Check the values under the digits page's headings, computed here with scikit-learn: every
    point of each class's ROC curve is a point of ``roc_curve`` (from (0, 0) to (1, 1), the area
    under the drawn line that class's AUC), the reliability diagram's dots and ECE are
    ``calibration_curve``'s 10 uniform bins, and each "ink" slice's size, errors and accuracy
    are those of the samples whose ink lies in the slice's interval."""
    from sklearn.calibration import calibration_curve
    from sklearn.metrics import accuracy_score, roc_auc_score, roc_curve

    from h5eval_widgets import load_demo

    ev = load_demo().evaluate("digits_cnn", progress=False)
    y, proba = np.asarray(ev.y_true), np.asarray(ev.y_proba)
    page = demo_pages["digits_cnn"].read_text()

    roc = svg_named(page, "ROC curve")
    x0, y0, w, h = svg_frame(roc)
    lines = dict(
        (title, pts) for pts, title in re.findall(r"<polyline points='([^']*)'[^>]*><title>([^<]*)</title>", roc)
    )
    assert list(lines) == list(ev.classes)
    for k, name in enumerate(ev.classes):
        pts = np.array([[float(v) for v in p.split(",")] for p in lines[name].split()])
        drawn = np.c_[(pts[:, 0] - x0) / w, (y0 + h - pts[:, 1]) / h]
        fpr, tpr, _ = roc_curve(y == k, proba[:, k], drop_intermediate=False)
        near = np.abs(drawn[:, None, :] - np.c_[fpr, tpr][None]).max(-1).min(1)
        assert near.max() < 1e-3, name  # the 0.1 px of the drawing
        np.testing.assert_allclose(drawn[[0, -1]], [[0, 0], [1, 1]], atol=1e-3)
        area = np.sum(np.diff(drawn[:, 0]) * (drawn[1:, 1] + drawn[:-1, 1]) / 2)
        assert area == pytest.approx(roc_auc_score(y == k, proba[:, k]), abs=5e-3), name

    correct = proba.argmax(1) == y
    confidence = proba.max(1)
    prob_true, prob_pred = calibration_curve(correct, confidence, n_bins=10, strategy="uniform")
    counts = np.bincount(np.searchsorted(np.linspace(0, 1, 11)[1:-1], confidence), minlength=10)
    counts = counts[counts > 0]
    ece = np.sum(counts * np.abs(prob_true - prob_pred)) / counts.sum()
    assert len(prob_true) >= 4 and ece > 0
    rel = svg_named(page, f"Reliability (ECE {fmt(float(ece))})")
    x0, y0, w, h = svg_frame(rel)
    dots = np.array([[float(a), float(b)] for a, b in re.findall(r"<circle cx='([\d.]+)' cy='([\d.]+)'", rel)])
    np.testing.assert_allclose((dots[:, 0] - x0) / w, prob_pred, atol=1e-3)
    np.testing.assert_allclose((y0 + h - dots[:, 1]) / h, prob_true, atol=1e-3)

    (header, *rows) = html_tables(page)["ink"]
    assert header[:6] == ["slice", "Samples", "Share", "Errors", "Share of errors", "Accuracy"] and len(rows) == 4
    ink = ev.metadata["ink"].to_numpy()
    sizes = []
    for row, label in zip(rows, ev.slices("ink").index):  # the engine's label: 6 digits, the page's 3
        assert row[0] == bin_label(label)
        lo_open, lo, hi = re.fullmatch(r"ink in ([\[(])([\d.]+), ([\d.]+)\]", label).groups()
        lo, hi = float(lo), float(hi)
        inside = ((ink > lo) | ((lo_open == "[") & np.isclose(ink, lo, rtol=1e-5))) & (
            (ink < hi) | np.isclose(ink, hi, rtol=1e-5)
        )
        inside &= ~((lo_open == "(") & np.isclose(ink, lo, rtol=1e-5))
        sizes.append(int(inside.sum()))
        assert row[1] == str(inside.sum()), row[0]
        assert row[3] == str(int((~correct[inside]).sum())), row[0]
        assert row[5].split(" [")[0] == fmt(accuracy_score(y[inside], proba[inside].argmax(1))), row[0]
    assert sum(sizes) == ev.n_samples


def test_each_cell_lists_its_most_confident_samples(demo_pages, demo):
    """Check every cell of the digits page lists exactly ev.cell_indices(i, j)[:48], with the
    cell's count written in the matrix."""
    from h5eval_widgets import load_demo

    ev = load_demo().evaluate("digits_cnn", progress=False)
    page = demo_pages["digits_cnn"].read_text()
    data = page_data(page)
    cm = ev.confusion_matrix()
    for i in range(10):
        for j in range(10):
            expected = ev.cell_indices(i, j)[:PER_CELL].tolist()
            assert data["matrices"][0]["cells"].get(f"{i},{j}", []) == expected
            assert (f"data-i='{i}' data-j='{j}' data-true='{ev.classes[i]}' data-predicted='{ev.classes[j]}'") in page
    listed = {int(k) for k in data["samples"]}
    assert listed == {int(x) for c in data["matrices"][0]["cells"].values() for x in c}
    rec = data["samples"][str(ev.cell_indices(8, 1)[0])]
    assert rec["true"] == "8" and rec["predicted"] == "1" and rec["img"].startswith("data:image/png")
    assert len(rec["top_classes"].split(", ")) == 3
    assert cm[8, 1] == 4


def test_binary_counts_at_every_threshold_match_the_engine(demo):
    """Check the binary page's matrix at grid thresholds equals ev.decisions(t), and its sample
    pools hold every cell's 48 most confident samples at those thresholds."""
    from h5eval_widgets import load_demo

    d = load_demo()
    ev = d.evaluate("breast_cancer_mlp", progress=False)
    thr = page_data(ev.to_html(data=d.dataset("breast_cancer_mlp")))["threshold"]
    ts = np.asarray(thr["thresholds"])
    assert len(ts) >= 1001 and ts[thr["start"]] == ev.threshold
    p1 = np.asarray(ev.y_proba[:, 1], np.float64)
    for k in (0, 150, thr["start"], 700, 999, len(ts) - 1):
        t = float(ts[k])
        dec = ev.decisions(t)
        np.testing.assert_array_equal(np.asarray(thr["counts"][k]), dec.confusion)
        for i in (0, 1):
            for j in (0, 1):
                pool = thr["high"][i] if j else thr["low"][i]
                shown = [s for s in pool if (p1[s] >= t) == bool(j)][:PER_CELL]
                want = dec.cell(i, j)[:PER_CELL]  # equal scores may come in either order
                assert len(shown) == len(want) and np.array_equal(np.sort(p1[shown]), np.sort(p1[want]))


def test_a_100000_sample_page_with_photos_is_under_20_mb():
    """Check a 100,000-sample, 10-class evaluation whose samples are 48x48 RGB noise pictures
    (the worst case for PNG) gives a page under 20 MB listing at most 3,000 samples."""
    from tests.generated import generated_evaluation

    ev = generated_evaluation(100_000)

    class NoisePhotos:  # a picture per row, made when read (the real array would be 690 MB)
        shape = (100_000, 48, 48, 3)

        def __len__(self):
            return self.shape[0]

        def __getitem__(self, i):
            return np.random.default_rng(int(i)).integers(0, 256, self.shape[1:], dtype=np.uint8)

    data = Dataset(NoisePhotos(), np.asarray(ev.y_true), kind="image", name="noise")
    page = ev.to_html(data=data, bootstrap=False)
    size = len(page.encode())
    print(f"100k page: {size / 1e6:.1f} MB")
    assert size < 20_000_000
    d = page_data(page)
    assert 1000 < len(d["samples"]) <= 3000
    cap = max(len(c) for c in d["matrices"][0]["cells"].values())
    assert f"at most {cap} samples" in page
    assert_self_contained(page)


def test_multilabel_and_regression_reports_have_their_own_views():
    """Check a multi-label page draws a 2x2 matrix per label with its cells' samples, and a
    regression page a scatter and its largest errors, by index when no data is given."""
    rng = np.random.default_rng(0)
    y = rng.random((300, 3)) < 0.4
    proba = np.clip(y * 0.4 + rng.random((300, 3)) * 0.6, 0, 1)
    ev = Evaluation.from_predictions(y, proba, task="multilabel", classes=["a", "b", "c"])
    page = ev.to_html()
    d = page_data(page)
    assert len(d["matrices"]) == 3 and "Label b" in page
    assert "data-true='not b' data-predicted='b'" in page
    fp = np.flatnonzero(~ev.y_true[:, 1] & ev.y_pred[:, 1])
    assert sorted(d["matrices"][1]["cells"]["0,1"]) == sorted(fp[np.argsort(-proba[fp, 1])][:PER_CELL])
    assert "without pictures" in page and "img" not in next(iter(d["samples"].values()))
    yt = rng.normal(size=200)
    reg = Evaluation.from_predictions(yt, yt + rng.normal(scale=0.3, size=200), task="regression")
    rpage = reg.to_html()
    rd = page_data(rpage)
    worst = np.argsort(-np.abs(reg.residuals))[:PER_CELL].tolist()
    assert rd["lists"][0]["ids"] == worst and "largest errors" in rpage and "Predicted against true" in rpage
    assert_self_contained(rpage)


def test_the_dashboards_export_carries_the_samples_pictures(demo, tmp_path):
    """Check "export HTML report" in the dashboard writes the interactive page with thumbnails."""
    from h5eval_widgets import Dashboard, load_demo

    dm = load_demo()
    dash = Dashboard(
        models={"digits_cnn": dm.models["digits_cnn"]},
        datasets={"digits_test": dm.datasets["digits_test"]},
        export_dir=tmp_path,
    )
    dash.summary.export.click()
    page = dash.summary.report_path().read_text()
    assert "data-true='8' data-predicted='1'" in page and page.count("data:image/png") >= 10 * PER_CELL
