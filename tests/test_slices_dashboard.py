"""The Slices tab: metrics per slice and weak slices, and a click that filters every view."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from h5eval_widgets import Dashboard
from h5eval_widgets.core import Evaluation

FEATURES = ["f0", "f1", "f2", "f3"]


@pytest.fixture(scope="module")
def frame():
    """Three well separated blobs as a table with a city column the model does not take; the
    labels of half of the north's samples are moved to the next class (a planted weak slice)."""
    from sklearn.datasets import make_blobs

    X, y = make_blobs(n_samples=900, centers=3, n_features=4, cluster_std=1.0, random_state=2)
    rng = np.random.default_rng(3)
    df = pd.DataFrame(X.astype("float32"), columns=FEATURES)
    city = rng.choice(["north", "south", "east"], len(df))
    noisy = (city == "north") & (rng.random(len(df)) < 0.5)
    df["label"] = np.where(noisy, (y + 1) % 3, y)
    df["city"] = city
    df["clean"] = y
    return df


@pytest.fixture(scope="module")
def model_file(frame, tmp_path_factory):
    """A softmax layer trained on the clean labels, saved to .h5."""
    import keras

    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="softmax")])
    model.compile(optimizer=keras.optimizers.Adam(0.05), loss="sparse_categorical_crossentropy")
    model.fit(frame[FEATURES].to_numpy(), frame["clean"].to_numpy(), epochs=30, batch_size=64, verbose=0)
    path = tmp_path_factory.mktemp("slices") / "blobs.h5"
    model.save(path)
    return path


@pytest.fixture
def dash(model_file, frame, tmp_path):
    d = Dashboard(
        models={"mlp": model_file},
        datasets={"blobs": frame.drop(columns="clean")},
        progress=False,
        dataset_options={"label_column": "label", "feature_columns": FEATURES},
        tags_dir=tmp_path / "tags",
    )
    d.tabs.selected_index = d.tab_views.index(d.slices)  # the tab opened, as a click does
    return d


def _rows(view):
    return [c for c in view.table.children if hasattr(c, "children")]


def test_a_slice_click_filters_every_view_to_the_same_results_as_that_slice_alone(dash, frame, model_file):
    """Check that the slices of 'city' are listed worst first with the engine's numbers, that
    "show" on the worst one gives every view the evaluation of that slice alone (same matrix as
    Evaluation.from_model on those rows of the table), named in the titles, with the samples and
    tags of those rows; and that "all samples" brings the whole dataset back."""
    st, view = dash.state, dash.slices
    full = st.evaluation
    assert full.scores["accuracy"] > 0.8
    assert list(view.column.options) == ["city"]
    table = full.slices("city")
    rows = _rows(view)
    assert len(rows) == len(table) == 3
    assert "city = north" in rows[0].children[1].value and table.index[0] == "city = north"
    rows[0].children[0].click()  # "show" of the worst slice
    ev = st.evaluation
    assert ev is not full and ev.slice_name == "city = north" and st.session.slice_name == "city = north"
    north = np.flatnonzero(frame["city"].to_numpy() == "north")
    np.testing.assert_array_equal(ev.source_rows, north)
    alone = Evaluation.from_model(
        model_file,
        frame.drop(columns="clean").iloc[north],
        label_column="label",
        feature_columns=FEATURES,
        progress=False,
    )
    np.testing.assert_array_equal(ev.confusion_matrix(), alone.confusion_matrix())
    np.testing.assert_array_equal(dash.confusion.heatmap.color, alone.confusion_matrix())
    assert "slice: city = north" in dash.confusion.figure.title
    assert ev.scores["accuracy"] == pytest.approx(alone.scores["accuracy"])
    # the samples of a cell are the slice's; their table rows say where they are in the data
    t, p = np.unravel_index(np.argmax(ev.confusion_matrix() - np.diag(np.diag(ev.confusion_matrix()))), (3, 3))
    dash.confusion.click_cell(int(t), int(p))
    sel = st.selection()
    np.testing.assert_array_equal(sel["dataset_row"].to_numpy(), north[sel["index"].to_numpy()])
    np.testing.assert_array_equal(sel["f0"].to_numpy(), frame["f0"].to_numpy()[sel["dataset_row"].to_numpy()])
    assert "slice: city = north" in dash.samples.title.value
    # a tag given in the slice is the dataset row's tag
    st.session.tag(0, "checked")
    assert st.session.tags(full).tags(int(north[0])) == ["checked"]
    view.all_btn.click()
    assert st.evaluation is full and st.session.slice_name is None
    assert "slice:" not in dash.confusion.figure.title


def test_the_weak_slice_finder_names_the_planted_group_and_its_rule_filters(dash, frame):
    """Check that "find weak slices" lists the north (whose labels were made noisy) first, and
    that "show" on that rule filters the views to exactly the rule's rows."""
    st, view = dash.state, dash.slices
    full = st.evaluation
    view.weak_btn.click()
    rules = [c for c in view.weak.children if hasattr(c, "children")]
    assert rules and "city = north" in rules[0].children[1].value
    want = full.weak_slices(st.session.get_dataset("blobs"))
    rules[0].children[0].click()
    np.testing.assert_array_equal(st.evaluation.source_rows, want.iloc[0]["rows"])
    wrong = ~st.evaluation.correct
    assert wrong.mean() == pytest.approx(want.iloc[0]["error_rate"]) and wrong.mean() > 0.4
