"""Subsets, metadata, metrics by slice and weak slices found by a tree (issue 14, items 2 and 3)."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import accuracy_score, f1_score, mean_absolute_error, mean_squared_error, roc_auc_score

from h5eval_widgets.core import DatasetError, Evaluation, load_dataset

from .helpers import assert_same_evaluation, binary_scores, same, sk, sk_or_nan, softmax_scores, write_image_folder

FEATURES = ["f0", "f1", "f2", "f3"]


@pytest.fixture(scope="module")
def blobs_frame(blobs):
    """The blobs test set as a table: 4 features, the label, and two columns the model does not
    take (a city and an age)."""
    _, _, X, y = blobs
    rng = np.random.default_rng(5)
    df = pd.DataFrame(X, columns=FEATURES)
    df["label"] = y
    df["city"] = rng.choice(["north", "south", "east"], len(df))
    df["age"] = rng.integers(18, 90, len(df))
    return df


@pytest.fixture(scope="module")
def model_eval(multiclass_h5, blobs_frame):
    """The blobs softmax MLP evaluated on the table, the metadata coming from the table."""
    return Evaluation.from_model(
        multiclass_h5, blobs_frame, label_column="label", feature_columns=FEATURES, progress=False
    )


# ------------------------------------------------------------------ metadata
def test_metadata_of_a_dataframe_only_with_feature_columns(blobs_frame):
    """Check the non-feature, non-label columns become the metadata when feature_columns is given,
    and that without it every column still goes to the model (no metadata)."""
    ds = load_dataset(blobs_frame, label_column="label", feature_columns=FEATURES)
    assert ds.feature_names == tuple(FEATURES)
    np.testing.assert_array_equal(ds.X, blobs_frame[FEATURES].to_numpy(np.float32))
    assert list(ds.metadata.columns) == ["city", "age"]
    assert ds.metadata["city"].tolist() == blobs_frame["city"].tolist()
    assert ds.metadata.index.tolist() == list(range(len(blobs_frame)))
    plain = load_dataset(blobs_frame.drop(columns="city"), label_column="label")
    assert plain.metadata is None and plain.feature_names == (*FEATURES, "age")


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_metadata_of_csv_and_parquet(tmp_path, blobs_frame, fmt):
    """Check a CSV or Parquet file gives the same metadata as the DataFrame (rows in order)."""
    path = tmp_path / f"t.{fmt}"
    blobs_frame.to_csv(path, index=False) if fmt == "csv" else blobs_frame.to_parquet(path)
    ds = load_dataset(path, feature_columns=["f0", "f2"])
    assert list(ds.metadata.columns) == ["f1", "f3", "city", "age"]
    assert ds.metadata["age"].tolist() == blobs_frame["age"].tolist()
    assert load_dataset(path).metadata is None


def test_metadata_of_a_parquet_file_read_by_row_group(tmp_path, blobs_frame, monkeypatch):
    """Check a Parquet file read row group by row group still gives its metadata (read whole,
    the features left in the file)."""
    from h5eval_widgets.core.data import readers
    from h5eval_widgets.core.data.sources import ParquetRows

    monkeypatch.setattr(readers, "PARQUET_IN_MEMORY_BYTES", 0)
    path = tmp_path / "t.parquet"
    blobs_frame.to_parquet(path, row_group_size=64)
    ds = load_dataset(path, feature_columns=FEATURES)
    assert isinstance(ds.X, ParquetRows) and ds.X.columns == FEATURES
    pd.testing.assert_frame_equal(ds.metadata, blobs_frame[["city", "age"]])


def test_evaluation_keeps_the_metadata(model_eval, blobs_frame, multiclass_h5, blobs):
    """Check the model's evaluation holds the table's metadata and got the 4 features only (its
    outputs are those of the feature matrix alone)."""
    assert model_eval.n_samples == len(blobs_frame) and model_eval.n_classes == 3
    assert list(model_eval.metadata.columns) == ["city", "age"]
    assert model_eval.metadata["city"].tolist() == blobs_frame["city"].tolist()
    assert model_eval.slice_name is None and model_eval.source_rows is None
    _, _, X, y = blobs
    direct = Evaluation.from_model(multiclass_h5, X, y, progress=False)
    np.testing.assert_allclose(model_eval.y_proba, direct.y_proba, rtol=1e-6)
    assert direct.metadata is None


def test_columns_a_multi_input_model_does_not_take_become_metadata(age_income_model):
    """Check a table's columns not named like the inputs of a two-input model join the metadata
    (the model gets its two columns as before, whatever else the table holds)."""
    import keras

    path = age_income_model
    model = keras.saving.load_model(path, compile=False)
    rng = np.random.default_rng(0)
    df = pd.DataFrame(
        {
            "income": rng.normal(4e4, 1e4, 60).round(),
            "age": rng.integers(18, 90, 60),
            "city": rng.choice(["north", "south"], 60),
            "shop": rng.integers(0, 3, 60),
            "label": rng.integers(0, 3, 60),
        }
    )
    expected = model.predict(
        {"age": df[["age"]].to_numpy("float32"), "income": df[["income"]].to_numpy("float32")}, verbose=0
    )
    for table in (df, df.drop(columns="city")):
        ev = Evaluation.from_model(path, table, progress=False, cache=False)
        np.testing.assert_allclose(ev.y_proba, expected, rtol=1e-5, atol=1e-6)
        assert list(ev.metadata.columns) == [c for c in ("city", "shop") if c in table.columns]
        np.testing.assert_array_equal(ev.metadata["shop"], df["shop"])
    assert set(ev.slices("shop", n_boot=0).index) == {"shop = 0", "shop = 1", "shop = 2"}


def test_metadata_of_an_image_folder(tmp_path):
    """Check an image folder's sub-folders below the class level become `folder`, `folder_2`
    columns (missing for a file directly in its class folder)."""
    from PIL import Image

    layout = {
        "cat/indoor/a.png": 0,
        "cat/indoor/b.png": 1,
        "cat/outdoor/c.png": 2,
        "dog/indoor/day/d.png": 3,
        "dog/e.png": 4,
    }
    for rel, v in layout.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(np.full((4, 4), 40 * v, np.uint8)).save(tmp_path / rel)
    ds = load_dataset(tmp_path)
    files = [ds.file_path(i).relative_to(tmp_path).as_posix() for i in range(len(ds))]
    assert files == ["cat/indoor/a.png", "cat/indoor/b.png", "cat/outdoor/c.png", "dog/e.png", "dog/indoor/day/d.png"]
    meta = ds.metadata
    assert list(meta.columns) == ["folder", "folder_2"]
    assert meta["folder"].tolist()[:3] == ["indoor", "indoor", "outdoor"]
    assert pd.isna(meta["folder"][3]) and meta["folder"][4] == "indoor"
    assert meta["folder_2"].isna().tolist() == [True, True, True, True, False]
    assert meta["folder_2"][4] == "day"
    ev = Evaluation.from_predictions(ds.y, np.eye(2)[[0, 1, 0, 1, 1]], classes=ds.class_names, metadata=ds.metadata)
    table = ev.slices("folder", n_boot=0)
    assert dict(zip(table.index, table["size"])) == {"folder = indoor": 3, "folder = outdoor": 1, "folder missing": 1}
    assert table.at["folder = indoor", "rows"].tolist() == [0, 1, 4]
    flat = write_image_folder(tmp_path / "flat", ("a", "b"), 1, size=(4, 4), name="x")
    assert load_dataset(flat).metadata is None


# ------------------------------------------------------------------ subsets
def test_subset_equals_an_evaluation_of_those_rows_alone(model_eval):
    """Check subset(rows) gives the confusion matrix and every metric of from_predictions on the
    rows alone, remembers its rows and name, and that subsets of subsets compose."""
    ev = model_eval
    north = (ev.metadata["city"] == "north").to_numpy()
    sub = ev.subset(north, "city = north")
    alone = Evaluation.from_predictions(ev.y_true[north], ev.y_proba[north], classes=ev.classes)
    assert_same_evaluation(sub, alone, exact=False)
    assert sub.slice_name == "city = north"
    np.testing.assert_array_equal(sub.source_rows, np.flatnonzero(north))
    assert sub.metadata["city"].eq("north").all() and len(sub.metadata) == north.sum()
    np.testing.assert_array_equal(ev.subset(np.flatnonzero(north)).y_pred, sub.y_pred)
    old = (sub.metadata["age"] > 60).to_numpy()
    inner = sub.subset(old, "age > 60")
    both = north & (ev.metadata["age"] > 60).to_numpy()
    assert inner.slice_name == "city = north and age > 60"
    np.testing.assert_array_equal(inner.source_rows, np.flatnonzero(both))
    np.testing.assert_array_equal(inner.dataset_rows([0, 1]), np.flatnonzero(both)[:2])
    assert_same_evaluation(inner, ev.subset(both), exact=False)
    assert "slice='city = north'" in repr(sub)


def test_subset_of_binary_multilabel_regression_keeps_threshold_and_weights():
    """Check subsets of the other tasks, with a moved threshold and sample weights."""
    rng = np.random.default_rng(3)
    y, s = binary_scores(rng, 500)
    w = rng.random(500)
    rows = rng.choice(500, 200, replace=False)
    ev = Evaluation.from_predictions(y, s, threshold=0.35, sample_weight=w).with_threshold(0.6)
    alone = Evaluation.from_predictions(y[rows], s[rows], threshold=0.6, sample_weight=w[rows])
    assert_same_evaluation(ev.subset(rows), alone, exact=False)
    ym, sm = binary_scores(rng, (300, 4))
    ml = Evaluation.from_predictions(ym.astype(bool), sm, task="multilabel", threshold=0.4)
    kept = rows[rows < 300]
    assert_same_evaluation(
        ml.subset(kept),
        Evaluation.from_predictions(ym[kept].astype(bool), sm[kept], task="multilabel", threshold=0.4),
        exact=False,
    )
    t = rng.normal(size=500)
    reg = Evaluation.from_predictions(t, t + rng.normal(size=500), task="regression")
    assert_same_evaluation(
        reg.subset(rows), Evaluation.from_predictions(t[rows], reg.y_pred[rows], task="regression"), exact=False
    )


def test_subset_refuses_bad_rows(model_eval):
    """Check empty, out-of-range and wrong-length row selections are refused with the reason."""
    with pytest.raises(DatasetError, match="has no samples"):
        model_eval.subset(np.zeros(model_eval.n_samples, bool), "nobody")
    with pytest.raises(ValueError, match=r"in \[0, 299\]"):
        model_eval.subset([5, 300])
    with pytest.raises(ValueError, match="one value per sample"):
        model_eval.subset(np.ones(10, bool))


# ------------------------------------------------------------------ slices
def test_slice_metrics_equal_scikit_learn_on_each_slice(model_eval):
    """Check each slice's size, accuracy, macro F1, one-vs-rest AUC and error rate against
    scikit-learn on the slice's rows, the rows against the metadata, and the order (worst first)."""
    ev = model_eval
    table = ev.slices("city", n_boot=100)
    assert table.index.name == "slice"
    assert set(table.index) == {"city = north", "city = south", "city = east"}
    assert table["accuracy"].is_monotonic_increasing
    assert table["size"].sum() == ev.n_samples and table["share"].sum() == pytest.approx(1)
    assert table["errors"].sum() == (~ev.correct).sum()
    for name, row in table.iterrows():
        rows = row["rows"]
        value = name.split(" = ")[1]
        np.testing.assert_array_equal(rows, np.flatnonzero(ev.metadata["city"] == value))
        y, p, proba = ev.y_true[rows], ev.y_pred[rows], ev.y_proba[rows]
        assert row["size"] == len(rows)
        same(row["accuracy"], accuracy_score(y, p), "accuracy")
        same(row["error_rate"], 1 - accuracy_score(y, p), "error_rate")
        same(row["f1_macro"], sk(f1_score, y, p, average="macro"), "f1_macro")
        same(row["roc_auc"], roc_auc_score(y, proba, multi_class="ovr", labels=[0, 1, 2]), "roc_auc")
        for m in ("accuracy", "f1_macro", "roc_auc", "error_rate"):
            assert row[f"{m}_low"] <= row[m] <= row[f"{m}_high"], (name, m)
        sub = ev.subset(rows, name)
        assert row["accuracy"] == pytest.approx(sub.scores["accuracy"])
        assert row["roc_auc"] == pytest.approx(sub.scores["roc_auc_ovr_macro"])
    again = ev.slices("city", n_boot=100)
    pd.testing.assert_frame_equal(again.drop(columns="rows"), table.drop(columns="rows"))
    assert table.attrs["interval"]["roc_auc"].startswith("mean of the classes' DeLong")


def test_binary_slices_with_explicit_groups_equal_scikit_learn():
    """Check groups= (a named Series and a plain array) on a binary evaluation against
    scikit-learn, DeLong's interval of each slice's AUC, and metrics= choosing the columns."""
    rng = np.random.default_rng(7)
    y, s = binary_scores(rng, 2000, lean=0.25)
    groups = rng.choice(["a", "b", "c", "d"], 2000)
    ev = Evaluation.from_predictions(y, s, threshold=0.4)
    table = ev.slices(groups=pd.Series(groups, name="shop"), metrics=["f1", "roc_auc", "mcc"])
    assert [c for c in table.columns if not c.endswith(("_low", "_high"))] == [
        "size",
        "share",
        "errors",
        "error_share",
        "accuracy",
        "f1",
        "roc_auc",
        "mcc",
        "rows",
    ]
    for name, row in table.iterrows():
        rows = np.flatnonzero(groups == name.removeprefix("shop = "))
        np.testing.assert_array_equal(row["rows"], rows)
        pred = (s[rows] >= 0.4).astype(int)
        same(row["accuracy"], accuracy_score(y[rows], pred), "accuracy")
        same(row["f1"], f1_score(y[rows], pred), "f1")
        same(row["roc_auc"], roc_auc_score(y[rows], s[rows]), "roc_auc")
        lo, hi = ev.subset(rows)._exact_intervals(0.95)["roc_auc"]
        assert (row["roc_auc_low"], row["roc_auc_high"]) == pytest.approx((lo, hi))
    plain = ev.slices(groups=groups, n_boot=0)
    assert set(plain.index) == {"a", "b", "c", "d"}
    assert plain["accuracy_low"].isna().all() and plain.attrs["interval"]["accuracy"] == "none"


def test_numeric_columns_are_binned_by_quantiles():
    """Check a numeric column is cut by pd.qcut (bins adjustable, equal edges merged), the bins
    named 'age in [a, b]' then '(b, c]', few-valued numbers kept as values, missing ones apart."""
    rng = np.random.default_rng(11)
    y, proba = softmax_scores(rng, 1000, 4)
    age = rng.integers(18, 90, 1000).astype(float)
    age[:30] = np.nan
    floor = rng.integers(0, 3, 1000)
    ev = Evaluation.from_predictions(y, proba, metadata={"age": age, "floor": floor})
    for bins in (4, 3):
        table = ev.slices("age", bins=bins, n_boot=0, metrics=["accuracy"])
        codes, edges = pd.qcut(age, bins, labels=False, retbins=True)
        expected = {
            (
                f"age in [{edges[0]:g}, {edges[1]:g}]" if i == 0 else f"age in ({edges[i]:g}, {edges[i + 1]:g}]"
            ): np.flatnonzero(codes == i)
            for i in range(bins)
        }
        expected["age missing"] = np.arange(30)
        assert set(table.index) == set(expected) and len(table) == bins + 1
        for name, rows in expected.items():
            np.testing.assert_array_equal(table.at[name, "rows"], rows)
            same(table.at[name, "accuracy"], accuracy_score(y[rows], proba[rows].argmax(1)), name)
    by_floor = ev.slices("floor", n_boot=0)
    assert set(by_floor.index) == {"floor = 0", "floor = 1", "floor = 2"}
    skewed = np.r_[np.zeros(600), np.arange(1, 401.0)]  # three quartile edges at 0: merged
    merged = ev.slices(groups=skewed, n_boot=0)
    assert merged["size"].tolist() == [750, 250] or merged["size"].tolist() == [250, 750]
    assert set(merged.index) == {"[0, 150.25]", "(150.25, 400]"}


def test_multilabel_and_regression_slices_equal_scikit_learn():
    """Check multi-label slices (subset accuracy, macro F1 over labels) and regression slices
    (MAE, RMSE; sorted by MAE, largest first) against scikit-learn."""
    rng = np.random.default_rng(2)
    ym, sm = binary_scores(rng, (1200, 3), lean=0.3)
    g = rng.choice(["x", "y", "z"], 1200)
    ml = Evaluation.from_predictions(ym.astype(bool), sm, task="multilabel")
    table = ml.slices(groups=g, n_boot=50)
    for name, row in table.iterrows():
        rows = np.flatnonzero(g == name)
        t, p = ym[rows], (sm[rows] >= 0.5).astype(int)
        same(row["accuracy"], accuracy_score(t, p), "subset accuracy")
        same(row["f1_macro"], sk(f1_score, t, p, average="macro"), "f1_macro")
        same(row["roc_auc"], sk_or_nan(roc_auc_score, t, sm[rows], average="macro"), "roc_auc")
        assert row["accuracy_low"] <= row["accuracy"] <= row["accuracy_high"]
    t = rng.normal(size=1200)
    pred = t + rng.normal(size=1200) * np.where(g == "z", 3.0, 1.0)
    reg = Evaluation.from_predictions(t, pred, task="regression")
    rt = reg.slices(groups=g, n_boot=50)
    assert rt.index[0] == "z" and rt["mae"].is_monotonic_decreasing
    for name, row in rt.iterrows():
        rows = np.flatnonzero(g == name)
        same(row["mae"], mean_absolute_error(t[rows], pred[rows]), "mae")
        same(row["rmse"], np.sqrt(mean_squared_error(t[rows], pred[rows])), "rmse")
        assert row["mae_low"] <= row["mae"] <= row["mae_high"]


def test_slice_errors_say_how_to_fix():
    """Check the messages: no metadata (say groups= or feature_columns), an unknown column (list
    the columns), groups of the wrong length, an unknown metric."""
    rng = np.random.default_rng(0)
    y, proba = softmax_scores(rng, 50, 3)
    bare = Evaluation.from_predictions(y, proba)
    with pytest.raises(DatasetError, match=r"no metadata.*groups=.*feature_columns"):
        bare.slices("city")
    with pytest.raises(DatasetError, match=r"no metadata.*features="):
        bare.weak_slices()
    ev = Evaluation.from_predictions(y, proba, metadata=pd.DataFrame({"city": ["a"] * 50, "age": range(50)}))
    with pytest.raises(DatasetError, match=r"no column 'town'.*\['city', 'age'\]"):
        ev.slices("town")
    with pytest.raises(DatasetError, match=r"one of \['city', 'age'\]"):
        ev.slices()
    with pytest.raises(DatasetError, match=r"one value per sample \(50\)"):
        ev.slices(groups=np.zeros(10))
    with pytest.raises(ValueError, match="Unknown metric"):
        ev.slices("city", metrics=["mae"])
    with pytest.raises(DatasetError, match="metadata has 3 rows"):
        Evaluation.from_predictions(y, proba, metadata={"city": ["a", "b", "c"]})


# ------------------------------------------------------------------ weak slices
def _planted(n=4000, seed=1):
    """Predictions right 95% of the time, but only 60% in city == 'north', with noise columns."""
    rng = np.random.default_rng(seed)
    k = 4
    y = rng.integers(0, k, n)
    city = rng.choice(["north", "south", "east", "west"], n)
    flip = rng.random(n) < np.where(city == "north", 0.4, 0.05)
    pred = np.where(flip, (y + rng.integers(1, k, n)) % k, y)
    proba = rng.dirichlet(np.ones(k), n) * 0.3
    proba[np.arange(n), pred] += 0.7
    meta = pd.DataFrame(
        {
            "city": city,
            "age": rng.integers(18, 90, n),
            "noise": rng.normal(size=n),
            "shift": rng.choice(["day", "night"], n),
            "score": np.where(rng.random(n) < 0.1, np.nan, rng.random(n)),
        }
    )
    return Evaluation.from_predictions(y, proba, metadata=meta), meta


def test_weak_slice_finder_names_the_planted_group():
    """Check the top rule names city = north, its rows are all in north, and its numbers are the
    leaf's own (size, error rate, share of errors, lift)."""
    ev, meta = _planted()
    weak = ev.weak_slices()
    top = weak.iloc[0]
    assert "city = north" in weak.index[0]
    rows = top["rows"]
    assert (meta["city"].to_numpy()[rows] == "north").all()
    wrong = ~ev.correct
    assert top["size"] == len(rows) >= weak.attrs["min_samples"] == 40
    assert top["errors"] == wrong[rows].sum()
    assert top["error_rate"] == pytest.approx(wrong[rows].mean()) and top["error_rate"] > 0.3
    assert top["error_share"] == pytest.approx(wrong[rows].sum() / wrong.sum())
    assert top["lift"] == pytest.approx(top["error_rate"] / wrong.mean())
    assert weak["error_rate"].is_monotonic_decreasing
    # the leaves cover every sample once
    assert sorted(np.concatenate(ev.weak_slices(top=None)["rows"].tolist()).tolist()) == list(range(4000))
    shallow = ev.weak_slices(max_depth=1)
    assert list(shallow.index) == ["city = north", "city != north"]
    np.testing.assert_array_equal(shallow.iloc[0]["rows"], np.flatnonzero(meta["city"] == "north"))
    sub = ev.subset(shallow.iloc[0]["rows"], shallow.index[0])
    assert sub.scores["accuracy"] == pytest.approx(1 - shallow.iloc[0]["error_rate"])


def test_weak_slices_over_input_features_of_a_tabular_dataset():
    """Check features= (a tabular Dataset) adds its feature columns: a weakness planted on a
    feature (x1 > 0.8) is found there, and two-valued columns read 'shift = night'."""
    rng = np.random.default_rng(4)
    n = 3000
    df = pd.DataFrame(
        {
            "x0": rng.random(n),
            "x1": rng.random(n),
            "label": rng.integers(0, 2, n),
            "shift": rng.choice(["day", "night"], n),
        }
    )
    ds = load_dataset(df, feature_columns=["x0", "x1"])
    bad = (df["x1"] > 0.8) & (df["shift"] == "night")
    flip = rng.random(n) < np.where(bad, 0.5, 0.03)
    pred = np.where(flip, 1 - df["label"], df["label"])
    ev = Evaluation.from_predictions(ds.y, np.eye(2)[pred] * 0.8 + 0.1, metadata=ds.metadata)
    weak = ev.weak_slices(ds, max_depth=2)
    assert weak.attrs["columns"] == ["shift", "x0", "x1"]
    rule = weak.index[0]
    threshold = re.search(r"x1 > ([0-9.]+)", rule)
    assert "shift = night" in rule and threshold and abs(float(threshold[1]) - 0.8) < 0.02, rule
    with pytest.raises(DatasetError, match=r"features has 3000 rows.*subset of 10 rows"):
        ev.subset(np.arange(10)).weak_slices(df)


def test_weighted_slices_and_the_kept_table():
    """Check weighted slices against scikit-learn's sample_weight, and that the table kept per
    column comes back unchanged after the caller edits a copy."""
    rng = np.random.default_rng(9)
    y, proba = softmax_scores(rng, 1500, 3, signal=1.0)
    w = rng.random(1500) * 3
    city = rng.choice(["a", "b"], 1500)
    ev = Evaluation.from_predictions(y, proba, sample_weight=w, metadata={"city": city})
    table = ev.slices("city", n_boot=20)
    for name, row in table.iterrows():
        rows = np.flatnonzero(city == name[-1])
        pred = proba[rows].argmax(1)
        same(row["accuracy"], accuracy_score(y[rows], pred, sample_weight=w[rows]), "accuracy")
        same(row["f1_macro"], sk(f1_score, y[rows], pred, average="macro", sample_weight=w[rows]), "f1")
        same(row["roc_auc"], roc_auc_score(y[rows], proba[rows], multi_class="ovr", sample_weight=w[rows]), "roc_auc")
        assert row["errors"] == pytest.approx(w[rows][pred != y[rows]].sum())
        assert row["accuracy_low"] <= row["accuracy"] <= row["accuracy_high"]
    assert table["roc_auc_low"].isna().all()  # no DeLong interval with weights
    table.loc[:, "accuracy"] = -1.0
    assert (ev.slices("city", n_boot=20)["accuracy"] > 0).all()


def test_weak_slices_of_regression_and_multilabel():
    """Check the regression finder (a tree on the absolute error) and the multi-label one (any
    label wrong) each name a planted group, with the leaf's own MAE or error rate."""
    rng = np.random.default_rng(6)
    n = 3000
    meta = pd.DataFrame({"site": rng.choice(["s1", "s2", "s3"], n), "noise": rng.normal(size=n)})
    t = rng.normal(size=n)
    pred = t + rng.normal(size=n) * np.where(meta["site"] == "s2", 4.0, 0.5)
    reg = Evaluation.from_predictions(t, pred, task="regression", metadata=meta)
    weak = reg.weak_slices(max_depth=1)
    assert list(weak.index) == ["site = s2", "site != s2"]
    rows = weak.iloc[0]["rows"]
    assert weak.iloc[0]["mae"] == pytest.approx(np.abs(pred - t)[rows].mean())
    assert "error_rate" not in weak.columns
    ym = rng.random((n, 3)) < 0.5
    flip = rng.random((n, 3)) < np.where(meta["site"] == "s3", 0.3, 0.02)[:, None]
    scores = np.where(ym ^ flip, 0.9, 0.1)
    ml = Evaluation.from_predictions(ym, scores, task="multilabel", metadata=meta)
    top = ml.weak_slices(max_depth=2).iloc[0]
    assert "site = s3" in top.name
    wrong = np.any(flip, axis=1)  # the predictions are the labels with those flipped
    assert top["error_rate"] == pytest.approx(wrong[top["rows"]].mean())
