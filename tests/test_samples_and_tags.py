"""Samples as table rows (tabular data), sorting, stepping, tags kept on disk, and the exported selection."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from h5eval_widgets import Dashboard, Evaluation
from h5eval_widgets.core import load_dataset
from h5eval_widgets.core.metrics import queries as Q
from tests.helpers import record_calls
from h5eval_widgets.core.insight.tags import TagStore


@pytest.fixture
def tabular(dash):
    """The demo dashboard on the breast-cancer model (tabular samples, 30 named features)."""
    dash.state.model_name = "breast_cancer_mlp"
    assert dash.state.dataset_name == "breast_cancer_test"
    return dash


def _row_indices(view) -> list[int]:
    return [int(re.search(r"data-index='(\d+)'", row.children[1].value).group(1)) for row in view.table.children[1:]]


def test_tabular_samples_are_a_table_with_one_row_per_sample(tabular):
    """Check that breast-cancer samples are table rows (no cards): a header with the feature names,
    one row per shown sample in the selection's order, each cell as the engine's samples_frame says."""
    view, st = tabular.samples, tabular.state
    assert view.cards == [] and tabular.samples.gallery.children == ()
    data = tabular.session.dataset
    header = view.table.children[0].value
    assert all(f">{name}<" in header for name in data.feature_names)
    shown = _row_indices(view)
    assert shown == st.selected_indices[: view.page_size].tolist() == view.shown_indices.tolist()
    frame = Q.samples_frame(st.evaluation, data, shown, y_pred=st.decisions.y_pred)
    first = view.table.children[1].children[1].value
    assert f"{frame['confidence'][0]:.1%}" in first
    assert f">{frame['true'][0]}<" in first and f">{frame['predicted'][0]}<" in first
    assert f">{data.X[shown[0], 0]:.4g}<" in first


def test_sorting_the_table_by_a_feature_orders_the_whole_selection(tabular):
    """Check that choosing "sort by mean radius, descending" orders every selected sample by that
    column (numpy's stable argsort of the negated column), and the table's first page follows."""
    view, st = tabular.samples, tabular.state
    X = tabular.session.dataset.X
    selected = st.selected_indices.copy()
    view.sort_by.value = "mean radius"
    view.descending.value = True
    assert st.sort_by == "mean radius" and st.sort_descending
    want = selected[np.argsort(-X[selected, 0].astype(np.float64), kind="stable")]
    np.testing.assert_array_equal(st.ordered_indices, want)
    assert _row_indices(view) == want[: view.page_size].tolist()
    np.testing.assert_array_equal(st.selected_indices, selected)  # the selection itself is unchanged
    view.sort_by.value = "as listed"
    assert st.sort_by is None and _row_indices(view) == selected[: view.page_size].tolist()


def test_a_row_click_shows_details_highlights_the_row_and_arrows_follow_the_table(tabular):
    """Check that the index button of a row chooses that sample (its distribution drawn, its row
    highlighted), and that stepping goes to the next row shown, turning the page at its end."""
    view, st = tabular.samples, tabular.state
    st.selection_label = "every sample"
    st.selected_indices = np.arange(st.evaluation.n_samples)  # more than a page
    view.sort_by.value = "confidence"
    order = st.ordered_indices
    view.table.children[2].children[0].click()  # the second row's "#i" button
    assert st.selected_sample == order[1]
    assert "background" in view.table.children[2].children[1].value
    assert "background" not in view.table.children[1].children[1].value
    assert view.dist.layout.display is None
    for _ in range(view.page_size - 1):
        tabular.tags.next_btn.click()
    assert st.selected_sample == order[view.page_size] and view.page == 1
    tabular.tags.prev_btn.click()
    assert st.selected_sample == order[view.page_size - 1] and view.page == 0
    view.press("ArrowRight")  # the arrow keys over the table, as the browser sends them
    assert st.selected_sample == order[view.page_size] and view.page == 1
    view.press("ArrowUp")
    view.press("Enter")  # not an arrow: nothing moves
    assert st.selected_sample == order[view.page_size - 1]


def test_samples_frame_and_sort_samples_against_numpy():
    """Check the rows of every task against the arrays they come from, and sorting against argsort."""
    rng = np.random.default_rng(3)
    X = rng.normal(size=(40, 3)).astype(np.float32)
    y = rng.integers(0, 3, 40)
    p = rng.dirichlet(np.ones(3), 40)
    data = load_dataset(X, y, name="t")
    ev = Evaluation.from_predictions(y, p, classes=["a", "b", "c"])
    idx = np.array([5, 0, 17])
    df = Q.samples_frame(ev, data, idx)
    assert df["index"].tolist() == [5, 0, 17]
    assert df["true"].tolist() == [["a", "b", "c"][c] for c in y[idx]]
    assert df["predicted"].tolist() == [["a", "b", "c"][c] for c in p[idx].argmax(1)]
    np.testing.assert_allclose(df["confidence"], p[idx].max(1))
    assert df["top_classes"][0].startswith(f"{'abc'[p[5].argmax()]} {p[5].max():.0%}")
    np.testing.assert_array_equal(df[["x0", "x1", "x2"]].to_numpy(), X[idx])
    np.testing.assert_array_equal(Q.sort_samples(ev, data, idx, "x1"), idx[np.argsort(X[idx, 1], kind="stable")])
    np.testing.assert_array_equal(
        Q.sort_samples(ev, data, idx, "confidence", descending=True), idx[np.argsort(-p[idx].max(1), kind="stable")]
    )
    with pytest.raises(ValueError, match="cannot be sorted by 'x9'"):
        Q.sort_samples(ev, data, idx, "x9")
    reg = Evaluation.from_predictions(X[:, 0].astype(np.float64), X[:, 1], task="regression")
    df = Q.samples_frame(reg, None, [2, 4])
    np.testing.assert_allclose(df["residual"], X[[2, 4], 1] - X[[2, 4], 0], rtol=1e-6)
    assert "confidence" not in Q.sort_keys(reg, None)
    multi = Evaluation.from_predictions(
        np.array([[1, 0, 1], [0, 1, 0]]),
        np.array([[0.9, 0.2, 0.4], [0.1, 0.8, 0.7]]),
        task="multilabel",
        classes=["x", "y", "z"],
    )
    assert Q.samples_frame(multi, None).to_dict("list") == {
        "index": [0, 1],
        "true": ["x, z", "y"],
        "predicted": ["x", "y, z"],
    }


def test_tag_store_writes_every_change_and_refuses_an_empty_tag(tmp_path):
    """Check the tags file after each change, a second store reading it back, and the errors."""
    path = tmp_path / "t" / "tags.json"
    store = TagStore(path)
    store.add(4, "  label   wrong ")
    store.add(4, "blurry")
    store.add(9, "blurry")
    store.add(4, "blurry")  # once only
    again = TagStore(path)
    assert again.tags(4) == ["label wrong", "blurry"] and again.tagged().tolist() == [4, 9]
    assert again.tagged("label wrong").tolist() == [4] and again.names() == ["blurry", "label wrong"]
    again.remove(4, "blurry")
    again.remove(9)
    assert TagStore(path).tags(4) == ["label wrong"] and len(TagStore(path)) == 1
    with pytest.raises(ValueError, match="A tag needs some text"):
        again.add(1, "   ")
    path.write_text("{not json")
    with pytest.raises(ValueError, match="cannot be read .*move it away"):
        TagStore(path)


NEW_KERNEL = """
import sys, json
from h5eval_widgets import Dashboard, load_demo
demo = load_demo()
d = Dashboard(models=demo.models, datasets=demo.datasets, progress=False, tags_dir=sys.argv[1])
d.state.model_name = "breast_cancer_mlp"
store = d.session.tags()
print(json.dumps({int(i): store.tags(i) for i in store.tagged()}))
"""


def test_tags_survive_a_new_kernel_and_the_exported_csv_is_the_selection(demo, tmp_path):
    """Check that tags given in the dashboard are read back by a dashboard in a new Python process,
    and that "export CSV" writes exactly the rows of selection(), for the selection and the tags."""
    tags_dir = tmp_path / "tags"
    d = Dashboard(
        models=demo.models, datasets=demo.datasets, progress=False, tags_dir=tags_dir, export_dir=tmp_path / "out"
    )
    st = d.state
    st.model_name = "breast_cancer_mlp"
    first, second = (int(i) for i in st.selected_indices[:2])
    for i, text in ((first, "label wrong"), (second, "ambiguous"), (second, "label wrong")):
        st.selected_sample = i
        d.tags.text.value = text
        d.tags.add_btn.click()
    assert f"sample #{second}: <span class='h5eval-tags'>ambiguous; label wrong</span>" in d.tags.heading.value
    assert "label wrong" in d.samples.table.children[1].children[1].value  # the tags column
    out = subprocess.run([sys.executable, "-c", NEW_KERNEL, str(tags_dir)], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    read_back = json.loads(out.stdout.strip().splitlines()[-1])
    assert read_back == {str(first): ["label wrong"], str(second): ["ambiguous", "label wrong"]}
    for tagged in (False, True):
        d.tags.which.value = tagged
        d.tags.export_btn.click()
        written = pd.read_csv(d.tags.last_export, keep_default_na=False)
        want = st.selection(tagged=tagged)
        assert written["index"].tolist() == want["index"].tolist()
        assert written["true"].astype(str).tolist() == want["true"].astype(str).tolist()
        assert written["tags"].tolist() == want["tags"].tolist()
        np.testing.assert_allclose(written["confidence"], want["confidence"])
        np.testing.assert_allclose(
            written[list(d.session.dataset.feature_names)], want[list(d.session.dataset.feature_names)], rtol=1e-6
        )
    assert written["index"].tolist() == sorted([first, second])
    path = d.export_csv(tmp_path / "mine.csv", tagged=True)  # the same from code
    assert pd.read_csv(path, keep_default_na=False)["index"].tolist() == sorted([first, second])
    d.tags.show_btn.click()
    assert st.selected_indices.tolist() == sorted([first, second])
    assert st.selection_label == "Tagged samples (2)"


def test_gallery_thumbnails_fit_the_cell_are_encoded_once_and_details_show_more(tmp_path, monkeypatch):
    """Check that 224x224 array images reach the browser as thumbnails of at most 72 px (not the
    full picture), encoded once per sample, that 8x8 digits are scaled up in whole pixel blocks,
    and that "details" shows the chosen picture whole."""
    import io

    from PIL import Image

    rng = np.random.default_rng(0)
    big = rng.random((30, 224, 224, 3)).astype(np.float32)
    y = rng.integers(0, 2, 30)
    p = rng.random(30)
    ev = Evaluation.from_predictions(y, p, dataset_name="photos")
    d = Dashboard.from_evaluations(
        {"m": ev}, {"photos": load_dataset(big, y, name="photos")}, progress=False, tags_dir=tmp_path
    )
    view = d.samples
    thumbs = [c.children[0].value for c in view.cards]
    sizes = {Image.open(io.BytesIO(t)).size for t in thumbs}
    assert sizes == {(72, 72)}
    assert max(len(t) for t in thumbs) < 224 * 224 * 3 // 4  # far from a full 224x224 PNG
    from h5eval_widgets.views import samples as samples_module

    encoded = record_calls(monkeypatch, samples_module, "image_png")
    view._render()  # the same page again: nothing encoded again, the same bytes shown
    assert encoded == [] and [c.children[0].value for c in view.cards] == thumbs
    view._turn(+1)
    assert len(encoded) == len(view.cards)  # a new page: each of its thumbnails once
    d.state.selected_sample = int(view.shown_indices[0])
    assert Image.open(io.BytesIO(view.detail_image.value)).size == (224, 224)  # the whole picture
    assert view.detail_image.layout.display is None

    from h5eval_widgets.views.samples import image_png

    digit = rng.integers(0, 16, (8, 8)).astype(np.float32)
    up = np.asarray(Image.open(io.BytesIO(image_png(digit))))
    assert up.shape == (72, 72)
    blocks = up.reshape(8, 9, 8, 9)
    assert (blocks == blocks[:, :1, :, :1]).all()  # each pixel became a crisp 9x9 block


def test_an_unreadable_tags_file_is_named_left_alone_and_the_samples_still_show(tmp_path):
    """Check a damaged tags file: the dashboard says which file and what to do, still draws the
    samples (without tags), refuses new tags with the same message, and never writes the file."""
    rng = np.random.default_rng(5)
    X = rng.normal(size=(60, 4)).astype(np.float32)
    y = rng.integers(0, 3, 60)
    ev = Evaluation.from_predictions(y, rng.dirichlet(np.ones(3), 60), dataset_name="t")
    path = TagStore.for_evaluation(ev, tmp_path).path
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\x00 not json")
    d = Dashboard.from_evaluations({"m": ev}, {"t": load_dataset(X, y, name="t")}, progress=False, tags_dir=tmp_path)
    st = d.state
    assert st.status_level == "error" and f"The tags file {path} cannot be read" in st.status
    assert len(d.samples.table.children) - 1 == min(12, len(st.selected_indices))
    st.session.set_status("")
    st.selected_sample = int(st.selected_indices[0])
    d.tags.text.value = "label wrong"
    d.tags.add_btn.click()
    assert st.status_level == "error" and "cannot be read" in st.status and "Unexpected" not in st.status
    assert path.read_bytes() == b"\x00 not json"
