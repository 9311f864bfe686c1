"""Predictions made elsewhere: Parquet/CSV files of a batch job read in chunks, the test set
joined by id, clear errors for wrong columns, and the command line on them. Real files in
tmp_path; the files are only read."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.dataset as pads
import pytest

from h5eval_widgets.cli import main
from h5eval_widgets.core import DatasetError, Evaluation, LabelError
from h5eval_widgets.core.scale.predictions_file import read_predictions
from tests.helpers import assert_same_evaluation, digests, run_dashboard_cell, softmax_scores, write_image_folder

CLASSES = ("cat", "dog", "bird")
N = 600


@pytest.fixture(scope="module")
def arrays():
    """Labels (class names), float32 probabilities that mostly agree with them, and ids."""
    rng = np.random.default_rng(15)
    y, proba = softmax_scores(rng, N, 3, signal=1.7)
    ids = rng.permutation(np.arange(1000, 1000 + N))
    return np.array(CLASSES)[y], proba, ids


def frame(labels, proba, ids) -> pd.DataFrame:
    cols = {f"p_{c}": proba[:, k] for k, c in enumerate(CLASSES)}
    return pd.DataFrame({"id": ids, "label": labels, **cols, "model_version": "v3"})


def test_parquet_written_by_pandas_read_in_chunks_equals_from_predictions(tmp_path, arrays):
    """Check one Parquet file written by pandas, read 64 rows at a time (10 chunks), against
    from_predictions on the arrays it holds; the file is left as it was."""
    labels, proba, ids = arrays
    path = tmp_path / "scored.parquet"
    frame(labels, proba, ids).to_parquet(path, index=False)
    before = digests([path])
    table = read_predictions(path, label_column="label", chunk_rows=64)
    assert table.n_chunks == 10 and table.output_columns == ("p_cat", "p_dog", "p_bird")
    ev = Evaluation.from_predictions_file(path, label_column="label", chunk_rows=64)
    assert_same_evaluation(ev, Evaluation.from_predictions(labels, proba, classes=CLASSES))
    assert ev.sample_ids is None and ev.model_name == "scored"
    assert ev.scores["accuracy"] > 0.7
    assert digests([path]) == before


def test_pyarrow_dataset_of_several_files_in_any_order_is_sorted_by_id(tmp_path, arrays):
    """Check a folder written by pyarrow.dataset.write_dataset (shuffled rows, 4 files of at most
    150 rows): sorted by id it equals from_predictions on the arrays in id order, ids kept."""
    labels, proba, ids = arrays
    folder = tmp_path / "job_output"
    pads.write_dataset(
        pa.Table.from_pandas(frame(labels, proba, ids), preserve_index=False),
        folder,
        format="parquet",
        max_rows_per_file=150,
        max_rows_per_group=150,
    )
    (folder / "_SUCCESS").write_text("")  # as Spark leaves it: skipped
    table = read_predictions(folder, label_column="label", id_column="id", chunk_rows=100)
    assert len(table.files) == 4 and table.n_chunks == 8
    order = np.argsort(ids)
    ref = Evaluation.from_predictions(labels[order], proba[order], classes=CLASSES)
    for source in (folder, str(folder / "part-*.parquet"), sorted(folder.glob("part-*"))[::-1]):
        ev = Evaluation.from_predictions_file(
            source, label_column="label", proba_prefix="p_", id_column="id", chunk_rows=100
        )
        assert_same_evaluation(ev, ref)
        np.testing.assert_array_equal(ev.sample_ids, ids[order])
    assert ev.model_name == "job_output" and "sorted by 'id'" in ev.notes[0]


def test_csv_read_in_chunks_equals_from_predictions(tmp_path, arrays):
    """Check a CSV of float64 probabilities and integer labels, read 50 rows at a time, with the
    probability columns named (class names from them, prefix stripped)."""
    labels, proba, ids = arrays
    p64 = proba.astype(np.float64) / proba.astype(np.float64).sum(axis=1, keepdims=True)
    y = np.array([CLASSES.index(c) for c in labels])  # class indices
    path = tmp_path / "scored.csv"
    frame(y, p64, ids).to_csv(path, index=False)
    table = read_predictions(path, label_column="label", chunk_rows=50)
    assert table.n_chunks == 12
    ev = Evaluation.from_predictions_file(
        path, label_column="label", chunk_rows=50, proba_columns=["p_cat", "p_dog", "p_bird"]
    )
    assert_same_evaluation(ev, Evaluation.from_predictions(y, p64, classes=CLASSES))
    assert ev.classes == CLASSES  # from the named columns, "p_" stripped
    np.testing.assert_array_equal(np.array(ev.classes)[ev.y_true], labels)  # integer labels are class indices


def test_one_probability_column_is_binary_with_named_classes(tmp_path):
    """Check a single column p_malignant with categorical string labels: binary, classes (benign, malignant),
    equal to from_predictions, ROC AUC included; numbered 0/1 labels keep classes '0', '1'."""
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, 400)
    p = np.clip(0.3 * y + rng.uniform(0, 0.7, 400), 0, 1)
    names = np.array(["benign", "malignant"])[y]
    path = tmp_path / "b.parquet"
    # a categorical column, as pandas and Spark write them (Parquet dictionary encoding)
    pd.DataFrame({"diagnosis": pd.Categorical(names), "p_malignant": p}).to_parquet(path)
    ev = Evaluation.from_predictions_file(path, label_column="diagnosis")
    ref = Evaluation.from_predictions(names, p, classes=("benign", "malignant"), task="binary")
    assert ev.task == "binary" and ev.classes == ("benign", "malignant")
    assert_same_evaluation(ev, ref)
    assert ev.scores["roc_auc"] == ref.scores["roc_auc"] > 0.8
    pd.DataFrame({"y": y, "score": p}).to_parquet(path)
    ev = Evaluation.from_predictions_file(path, label_column="y", proba_columns=["score"])
    assert ev.classes == ("0", "1") and ev.scores["roc_auc"] == ref.scores["roc_auc"]


def test_regression_from_a_prediction_column(tmp_path):
    """Check pred_column: a regression equal to from_predictions on the same values."""
    rng = np.random.default_rng(2)
    target = rng.normal(10, 3, 300)
    pred = target + rng.normal(0, 1, 300)
    path = tmp_path / "r.csv"
    pd.DataFrame({"target": target, "y_hat": pred}).to_csv(path, index=False)
    ev = Evaluation.from_predictions_file(path, label_column="target", pred_column="y_hat", chunk_rows=64)
    ref = Evaluation.from_predictions(target, pred, task="regression")
    assert ev.task == "regression"
    np.testing.assert_array_equal(ev.y_pred, ref.y_pred)
    assert ev.scores == ref.scores


# ------------------------------------------------------------------ errors
@pytest.fixture
def scored(tmp_path, arrays):
    path = tmp_path / "scored.parquet"
    frame(*arrays).to_parquet(path, index=False)
    return path


def test_missing_label_column_names_it_and_lists_the_columns(scored):
    """Check a misnamed label column: the message names it, suggests the close one, lists columns."""
    with pytest.raises(
        DatasetError, match=r"no label column 'labels'\. Did you mean 'label'\?.*'p_dog'.*label_column="
    ):
        Evaluation.from_predictions_file(scored, label_column="labels")


def test_no_probability_column_with_the_prefix(scored):
    """Check a prefix no column starts with: the message names the prefix and lists the columns."""
    with pytest.raises(DatasetError, match=r"no column name starts with 'prob_'.*'p_cat'.*proba_prefix="):
        Evaluation.from_predictions_file(scored, label_column="label", proba_prefix="prob_")


def test_misnamed_probability_column(scored):
    """Check a typo in proba_columns: the message names the column and suggests the right one."""
    with pytest.raises(DatasetError, match=r"no probability column 'p_dgo'\. Did you mean 'p_dog'\?"):
        Evaluation.from_predictions_file(scored, label_column="label", proba_columns=["p_cat", "p_dgo", "p_bird"])


def test_files_with_different_columns_are_refused(tmp_path, arrays):
    """Check two files of different jobs in one folder: the second lacks p_bird."""
    labels, proba, ids = arrays
    (tmp_path / "out").mkdir()
    frame(labels, proba, ids).iloc[:300].to_parquet(tmp_path / "out" / "part-0.parquet")
    frame(labels, proba, ids).iloc[300:].drop(columns="p_bird").to_parquet(tmp_path / "out" / "part-1.parquet")
    with pytest.raises(
        DatasetError, match=r"part-1\.parquet does not have the columns of part-0\.parquet: missing \['p_bird'\]"
    ):
        Evaluation.from_predictions_file(tmp_path / "out", label_column="label")


def test_nan_probabilities_are_refused_naming_the_column(tmp_path, arrays):
    """Check a NaN in p_dog: the message names the file and the column with its count."""
    df = frame(*arrays)
    df.loc[[5, 77], "p_dog"] = np.nan
    df.to_csv(tmp_path / "s.csv", index=False)
    with pytest.raises(DatasetError, match=r"s\.csv has NaN.*\{'p_dog': 2\}"):
        Evaluation.from_predictions_file(tmp_path / "s.csv", label_column="label", chunk_rows=40)


def test_duplicated_ids_are_refused(tmp_path, arrays):
    """Check a job run twice into one folder: ids appear twice, named with their files."""
    df = frame(*arrays)
    (tmp_path / "out").mkdir()
    df.iloc[:400].to_parquet(tmp_path / "out" / "a.parquet")
    df.iloc[300:].to_parquet(tmp_path / "out" / "b.parquet")
    with pytest.raises(DatasetError, match=r"id column 'id' has 100 duplicated id\(s\).*'a\.parquet', 'b\.parquet'"):
        Evaluation.from_predictions_file(tmp_path / "out", label_column="label", id_column="id")
    with pytest.raises(DatasetError, match=r"no id column 'ids'\. Did you mean 'id'\?"):
        Evaluation.from_predictions_file(tmp_path / "out", label_column="label", id_column="ids")


def test_missing_labels_and_unmatched_string_labels(tmp_path, arrays):
    """Check missing labels (named with their count) and a binary column whose class the labels
    do not name (asks for classes=)."""
    df = frame(*arrays)
    df.loc[3, "label"] = None
    df.to_parquet(tmp_path / "m.parquet")
    with pytest.raises(LabelError, match=r"label column 'label' of m\.parquet has 1 missing"):
        Evaluation.from_predictions_file(tmp_path / "m.parquet", label_column="label")
    pd.DataFrame({"label": ["a", "b"], "p_yes": [0.2, 0.9]}).to_parquet(tmp_path / "b.parquet")
    with pytest.raises(LabelError, match=r"'p_yes'.*classes=\[negative, positive\]"):
        Evaluation.from_predictions_file(tmp_path / "b.parquet", label_column="label")


# ------------------------------------------------------------------ the test set, joined by id
def test_test_set_table_joined_by_id(tmp_path, arrays):
    """Check a Parquet test set (features and row_id, in its own order): the dataset returned has
    row i = the sample of prediction i, labels from the predictions, id and label not features."""
    labels, proba, ids = arrays
    rng = np.random.default_rng(3)
    feats = rng.normal(size=(N, 4)).astype(np.float32)
    test = pd.DataFrame({"row_id": ids, "label": labels, **{f"f{j}": feats[:, j] for j in range(4)}})
    test.iloc[rng.permutation(N)].to_parquet(tmp_path / "test.parquet", index=False)
    frame(labels, proba, ids).to_parquet(tmp_path / "scored.parquet")
    ev, ds = Evaluation.from_predictions_file(
        tmp_path / "scored.parquet",
        label_column="label",
        id_column="id",
        data=tmp_path / "test.parquet",
        data_id_column="row_id",
    )
    by_id = dict(zip(ids, feats))
    assert len(ds) == ev.n_samples and ds.feature_names == ("f0", "f1", "f2", "f3")
    for i in (0, 1, 250, N - 1):
        np.testing.assert_array_equal(ds.sample(i), by_id[ev.sample_ids[i]])
    np.testing.assert_array_equal(ds.y, labels[np.argsort(ids)])
    assert ds.name == ev.dataset_name == "test"
    test.iloc[:500].to_parquet(tmp_path / "short.parquet")
    with pytest.raises(DatasetError, match=r"100 prediction id\(s\) are not in the test set's ids \(column 'row_id'\)"):
        Evaluation.from_predictions_file(
            tmp_path / "scored.parquet",
            label_column="label",
            id_column="id",
            data=tmp_path / "short.parquet",
            data_id_column="row_id",
        )


def test_array_dataset_joined_by_row_number_shows_in_the_dashboard(tmp_path, arrays):
    """Check ids that are row numbers of an image array (written as .npz), for 400 of its 600
    rows in shuffled order: the images of those rows come back in the predictions' order, and
    Dashboard.from_evaluations shows them with the evaluation."""
    labels, proba, _ = arrays
    rows = np.random.default_rng(4).permutation(N)[:400]
    images = np.random.default_rng(5).uniform(0, 1, (N, 8, 8, 1)).astype(np.float32)
    np.savez(tmp_path / "test.npz", x=images, y=labels)
    frame(labels[rows], proba[:400], rows).to_parquet(tmp_path / "scored.parquet")
    ev, ds = Evaluation.from_predictions_file(
        tmp_path / "scored.parquet", label_column="label", id_column="id", data=tmp_path / "test.npz"
    )
    assert ds.kind == "image" and len(ds) == ev.n_samples == 400
    np.testing.assert_array_equal(ev.sample_ids, np.sort(rows))
    np.testing.assert_array_equal(np.asarray(ds.X), images[np.sort(rows)])
    np.testing.assert_array_equal(ds.y, labels[np.sort(rows)])
    from h5eval_widgets import Dashboard

    dash = Dashboard.from_evaluations({ev.model_name: ev}, {ev.dataset_name: ds}, progress=False)
    assert dash.session.evaluation is ev and dash.session.dataset is ds


# ------------------------------------------------------------------ the command line
def test_cli_report_on_a_parquet_predictions_file(tmp_path, capsys, arrays):
    """Check `h5eval report --predictions FILE --label-column label --id-column id`: the printed
    accuracy is from_predictions'; JSON too; a shell-expanded glob (several files) as well."""
    labels, proba, ids = arrays
    path = tmp_path / "scored.parquet"
    frame(labels, proba, ids).to_parquet(path)
    ref = Evaluation.from_predictions(labels, proba, classes=CLASSES)
    assert (
        main(
            [
                "report",
                "--predictions",
                str(path),
                "--label-column",
                "label",
                "--id-column",
                "id",
                "--proba-prefix",
                "p_",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert re.search(r"accuracy\s+(\S+)", out).group(1) == f"{ref.scores['accuracy']:.4f}"
    pads.write_dataset(
        pa.Table.from_pandas(frame(labels, proba, ids)),
        tmp_path / "job",
        format="parquet",
        max_rows_per_file=200,
        max_rows_per_group=200,
    )
    files = [str(p) for p in sorted((tmp_path / "job").glob("*.parquet"))]
    assert len(files) == 3
    assert (
        main(
            [
                "report",
                "--predictions",
                *files,
                "--label-column",
                "label",
                "--proba-columns",
                "p_cat,p_dog,p_bird",
                "--format",
                "json",
            ]
        )
        == 0
    )
    report = json.loads(capsys.readouterr().out)
    assert report["metrics"]["accuracy"] == pytest.approx(ref.scores["accuracy"], abs=0)
    assert report["classes"] == list(CLASSES)


def test_cli_errors_on_predictions_are_one_clear_line(scored, capsys):
    """Check a misnamed column (report and dashboard: no server started) and a missing --label-column."""
    assert main(["report", "--predictions", str(scored), "--label-column", "lable"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no label column 'lable'. Did you mean 'label'?" in err
    assert (
        main(["dashboard", "--predictions", str(scored), "--label-column", "label", "--proba-columns", "p_cat,p_dgo"])
        == 1
    )
    assert "'p_dgo'" in capsys.readouterr().err
    assert main(["report", "--predictions", str(scored)]) == 2
    assert "--label-column" in capsys.readouterr().err
    assert main(["dashboard", "m.h5", "--predictions", str(scored), "--label-column", "label"]) == 2
    assert "one of them" in capsys.readouterr().err


def test_dashboard_command_page_reads_the_predictions_and_joins_the_test_set(tmp_path, arrays):
    """Check the cell the `h5eval dashboard --predictions ... --data TEST` page runs: a dashboard
    over the predictions' evaluation with the test set in their order."""
    from h5eval_widgets.serve import dashboard_notebook

    labels, proba, ids = arrays
    frame(labels, proba, ids).to_parquet(tmp_path / "scored.parquet")
    test = pd.DataFrame({"id": ids[::-1], "x0": ids[::-1] * 2.0})
    test.to_csv(tmp_path / "test.csv", index=False)
    nb = dashboard_notebook(
        None,
        None,
        predictions={
            "path_or_glob": [str(tmp_path / "scored.parquet")],
            "label_column": "label",
            "id_column": "id",
            "data": str(tmp_path / "test.csv"),
        },
    )
    dash = run_dashboard_cell(nb)
    ev, ds = dash.session.evaluation, dash.session.dataset
    assert ev.n_samples == N and ev.classes == CLASSES and ev.model_name == "scored"
    np.testing.assert_array_equal(np.asarray(ds.X)[:, 0], ev.sample_ids * 2.0)


def test_image_folder_joined_by_file_name_and_ids_in_the_samples_table(tmp_path):
    """Check string ids (the image names a batch job wrote) matched to an image folder through
    data_ids: each sample's file is the one its prediction names; the samples table (and so the
    dashboard's export) carries the ids."""
    from h5eval_widgets.core import load_dataset
    from h5eval_widgets.core.metrics.queries import samples_frame

    rng = np.random.default_rng(6)
    test = load_dataset(write_image_folder(tmp_path / "imgs", ("cat", "dog"), 6, name="{i:03d}", seed=6))
    keys = [f"{p.stem}-{p.parent.name}" for p in test.X.files]  # sorted: 000-cat, 000-dog, ...
    shuffled = rng.permutation(keys)
    p_dog = rng.uniform(0, 1, len(keys))
    pd.DataFrame(
        {"path": shuffled, "label": [k.split("-")[1] for k in shuffled], "p_cat": 1 - p_dog, "p_dog": p_dog}
    ).to_csv(tmp_path / "scored.csv", index=False)
    ev, ds = Evaluation.from_predictions_file(
        tmp_path / "scored.csv", label_column="label", id_column="path", data=test, data_ids=keys
    )
    assert list(ev.sample_ids) == sorted(keys) != keys
    assert [f"{ds.file_path(i).stem}-{ds.file_path(i).parent.name}" for i in range(len(ds))] == sorted(keys)
    assert [ev.classes[c] for c in ev.y_true] == [k.split("-")[1] for k in sorted(keys)]
    np.testing.assert_array_equal(ds.sample(3), test.sample(keys.index(ev.sample_ids[3])))
    table = samples_frame(ev, ds, [7, 2, 9])
    assert list(table.columns[:3]) == ["index", "id", "file"]
    assert list(table["id"]) == [ev.sample_ids[i] for i in table["index"]]


def test_string_labels_that_are_not_the_columns_classes(tmp_path):
    """Check labels that name no probability column: the message says where the class names
    came from and how to give them."""
    pd.DataFrame(
        {"label": ["a", "b", "c"], "p_x": [0.2, 0.3, 0.1], "p_y": [0.3, 0.3, 0.8], "p_z": [0.5, 0.4, 0.1]}
    ).to_parquet(tmp_path / "s.parquet")
    with pytest.raises(LabelError, match=r"Labels \['a', 'b', 'c'\] are not among.*\['p_x', 'p_y', 'p_z'\].*classes="):
        Evaluation.from_predictions_file(tmp_path / "s.parquet", label_column="label")


def test_cli_class_names_file_and_conflicting_arguments(tmp_path, capsys):
    """Check --class-names FILE names the classes of numbered columns, and a model given with
    --predictions is refused rather than ignored."""
    pd.DataFrame(
        {"y": [0, 1, 2, 1], "p_0": [0.8, 0.1, 0.1, 0.2], "p_1": [0.1, 0.8, 0.1, 0.7], "p_2": [0.1, 0.1, 0.8, 0.1]}
    ).to_csv(tmp_path / "s.csv", index=False)
    (tmp_path / "names.txt").write_text("ant\nbee\ncow\n")
    assert (
        main(
            [
                "report",
                "--predictions",
                str(tmp_path / "s.csv"),
                "--label-column",
                "y",
                "--class-names",
                str(tmp_path / "names.txt"),
                "--format",
                "json",
            ]
        )
        == 0
    )
    report = json.loads(capsys.readouterr().out)
    assert report["classes"] == ["ant", "bee", "cow"] and report["metrics"]["accuracy"] == 1.0
    assert main(["report", "model.h5", "--predictions", str(tmp_path / "s.csv"), "--label-column", "y"]) == 2
    assert "one of them" in capsys.readouterr().err


def test_numbered_columns_in_any_order_are_matched_by_name(tmp_path):
    """Check integer labels with columns p_2, p_0, p_1 (and 1-based p_1..p_3): labels are matched
    to the class named by the number, not to the column's position."""
    rng = np.random.default_rng(7)
    y = rng.integers(0, 3, 200)
    proba = rng.dirichlet([1, 1, 1], 200)
    proba[np.arange(200), y] += 2
    proba /= proba.sum(axis=1, keepdims=True)
    order = [2, 0, 1]
    pd.DataFrame({"y": y, **{f"p_{k}": proba[:, k] for k in order}}).to_parquet(tmp_path / "s.parquet")
    ev = Evaluation.from_predictions_file(tmp_path / "s.parquet", label_column="y")
    assert ev.classes == ("2", "0", "1") and ev.scores["accuracy"] == 1.0
    assert_same_evaluation(ev, Evaluation.from_predictions(y.astype(str), proba[:, order], classes=("2", "0", "1")))
    pd.DataFrame({"y": y + 1, **{f"p_{k + 1}": proba[:, k] for k in range(3)}}).to_parquet(tmp_path / "s.parquet")
    ev = Evaluation.from_predictions_file(tmp_path / "s.parquet", label_column="y")
    assert ev.classes == ("1", "2", "3") and ev.scores["accuracy"] == 1.0


def test_globs_skip_what_is_not_predictions_and_bad_paths_are_named(tmp_path, arrays):
    """Check a glob matching Spark's _SUCCESS and .crc files beside the parts (skipped), a glob
    matching nothing, a missing path and a folder without part files."""
    labels, proba, ids = arrays
    out = tmp_path / "spark"
    out.mkdir()
    frame(labels, proba, ids).iloc[:300].to_parquet(out / "part-00000-c000.snappy.parquet")
    frame(labels, proba, ids).iloc[300:].to_parquet(out / "part-00001-c000.snappy.parquet")
    (out / "_SUCCESS").write_text("")
    (out / ".part-00000-c000.snappy.parquet.crc").write_bytes(b"crc")
    ev = Evaluation.from_predictions_file(str(out / "*"), label_column="label", id_column="id")
    assert ev.n_samples == N and "2 files" in ev.notes[0]
    with pytest.raises(DatasetError, match=r"No \.parquet or \.csv file matches .*\*\.csv"):
        Evaluation.from_predictions_file(str(out / "*.csv"), label_column="label")
    with pytest.raises(DatasetError, match=r"'.*nope\.parquet' does not exist"):
        Evaluation.from_predictions_file(tmp_path / "nope.parquet", label_column="label")
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "_SUCCESS").write_text("")
    with pytest.raises(DatasetError, match=r"holds no \.parquet or \.csv file \(it has \['_SUCCESS'\]\)"):
        Evaluation.from_predictions_file(tmp_path / "empty", label_column="label")


def test_multi_label_prediction_files_are_refused(tmp_path, arrays):
    """Check that asking for a multi-label evaluation of a predictions file is refused, saying
    multi-label files are not supported yet (as the README says), and the file is left as it was."""
    labels, proba, ids = arrays
    path = tmp_path / "scored.parquet"
    frame(labels, proba, ids).to_parquet(path, index=False)
    before = digests([path])
    with pytest.raises(ValueError, match=r"task='multilabel' cannot be read.*multi-label files are not supported yet"):
        Evaluation.from_predictions_file(path, label_column="label", task="multilabel")
    assert digests([path]) == before
