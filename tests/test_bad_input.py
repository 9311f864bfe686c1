"""A catalogue of bad inputs: each gets the right kind of error, a message that names the problem,
what was expected and the fix, and leaves every input file byte for byte as it was."""

from __future__ import annotations

import json
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd
import pytest

from h5eval_widgets.core import (
    DatasetError,
    Evaluation,
    LabelError,
    ModelLoadError,
    ShapeMismatchError,
    UnsafeModelError,
    WeightsOnlyError,
    load_dataset,
    load_model,
)
from tests.helpers import digests, record_calls, write_image_folder


@dataclass
class Case:
    run: Callable[[], object]
    files: list[Path]


def _evaluate(model, X, y=None, **kw):
    return lambda: Evaluation.from_model(model, X, y, progress=False, cache=False, **kw)


def _blobs_npz(tmp: Path, blobs, **arrays) -> Path:
    _, _, X, y = blobs
    path = tmp / "test.npz"
    np.savez(path, **(arrays or {"x": X, "y": y}))
    return path


def _file_case(load: Callable, path: Path, content: bytes) -> Case:
    """``content`` written to ``path``, then given to ``load``."""
    path.write_bytes(content)
    return Case(lambda: load(path), [path])


def _zip_with(src: Path, dst: Path, config_edit: Callable[[str], str]) -> Path:
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for item in zin.namelist():
            data = zin.read(item)
            if item == "config.json":
                data = config_edit(data.decode()).encode()
            zout.writestr(item, data)
    return dst


# Each builder gets (tmp_path, fixtures) and returns a Case; the table below pairs it with the
# error class and a pattern the message must match.
def missing_model(t, f):
    return Case(lambda: load_model(t / "nope.h5"), [])


def directory_as_model(t, f):
    (t / "folder").mkdir()
    stray = t / "folder" / "model.h5"  # a folder holding files, but no saved_model.pb
    stray.write_bytes(b"")
    return Case(lambda: load_model(t / "folder"), [stray])


def empty_model_file(t, f):
    return _file_case(load_model, t / "empty.h5", b"")


def truncated_h5(t, f):
    return _file_case(load_model, t / "truncated.h5", f["multiclass_h5"].read_bytes()[:4000])


def not_hdf5_at_all(t, f):
    return _file_case(load_model, t / "model.h5", b"this is text, not a model")


def hdf5_without_model(t, f):
    import h5py

    p = t / "data.h5"
    with h5py.File(p, "w") as h:
        h["x"] = np.zeros((3, 4))
        h["y"] = np.zeros(3)
    return Case(lambda: load_model(p), [p])


def weights_only(t, f):
    return Case(lambda: load_model(f["weights_only_h5"]), [f["weights_only_h5"]])


def keras_broken_config(t, f):
    p = _zip_with(f["multiclass_keras"], t / "broken.keras", lambda s: s[: len(s) // 2])
    return Case(lambda: load_model(p), [p])


def keras_not_a_zip(t, f):
    return _file_case(load_model, t / "model.keras", b"PK-but-not-really" * 10)


def lambda_layer(t, f):
    p = f["lambda_model_files"]["h5"]
    return Case(lambda: load_model(p), [p])


def unknown_custom_layer(t, f):
    def rename(s: str) -> str:
        cfg = json.loads(s)
        cfg["config"]["layers"][-1]["class_name"] = "FancyDense"
        cfg["config"]["layers"][-1]["module"] = None
        cfg["config"]["layers"][-1]["registered_name"] = "FancyDense"
        return json.dumps(cfg)

    p = _zip_with(f["multiclass_keras"], t / "custom.keras", rename)
    return Case(lambda: load_model(p), [p])


def unknown_model_format(t, f):
    return _file_case(load_model, t / "model.pt", b"\x80\x02")


def multi_output_without_choice(t, f):
    return Case(lambda: load_model(f["multi_output_keras"]), [f["multi_output_keras"]])


def pickled_npy(t, f):
    p = t / "x.npy"
    np.save(p, np.array([{"a": 1}, None], dtype=object), allow_pickle=True)
    return Case(lambda: load_dataset(p, np.zeros(2)), [p])


def pickled_npz(t, f):
    p = t / "d.npz"
    np.savez(p, x=np.array([{"a": 1}], dtype=object), y=np.zeros(1))
    return Case(lambda: load_dataset(p), [p])


def npz_unknown_keys(t, f):
    p = t / "odd.npz"
    np.savez(p, features_v2=np.zeros((3, 4)), truth_v2=np.zeros(3))
    return Case(lambda: load_dataset(p), [p])


def npz_named_key_missing(t, f):
    p = _blobs_npz(t, f["blobs"])
    return Case(lambda: load_dataset(p, x_key="pixels"), [p])


def csv_without_label_column(t, f):
    p = t / "t.csv"
    pd.DataFrame({"a": [1.0, 2.0], "b": [3.0, 4.0]}).to_csv(p, index=False)
    return Case(lambda: load_dataset(p, label_column="target_class"), [p])


def csv_text_feature(t, f):
    p = t / "t.csv"
    pd.DataFrame({"a": [1.0, 2.0], "colour": ["red", "blue"], "label": [0, 1]}).to_csv(p, index=False)
    return Case(_evaluate(f["multiclass_h5"], p), [p, f["multiclass_h5"]])


def unknown_data_format(t, f):
    return _file_case(load_dataset, t / "data.xlsx", b"PK\x03\x04")


def missing_dataset(t, f):
    return Case(lambda: load_dataset(t / "missing.npz"), [])


def empty_data_file(t, f):
    return _file_case(load_dataset, t / "empty.npz", b"")


def model_file_as_dataset(t, f):
    p = f["multiclass_h5"]
    return Case(lambda: load_dataset(p), [p])


def shape_mismatch(t, f):
    p = t / "wide.npz"
    np.savez(p, x=np.zeros((5, 7), "float32"), y=np.zeros(5, int))
    return Case(_evaluate(f["multiclass_h5"], p), [p, f["multiclass_h5"]])


def x_y_length_mismatch(t, f):
    _, _, X, y = f["blobs"]
    return Case(_evaluate(f["multiclass_h5"], X, y[:-3]), [f["multiclass_h5"]])


def label_outside_classes(t, f):
    _, _, X, y = f["blobs"]
    y = y.copy()
    y[4] = 5
    return Case(_evaluate(f["multiclass_h5"], X, y), [f["multiclass_h5"]])


def string_label_not_a_class(t, f):
    _, _, X, y = f["blobs"]
    names = np.array(["a", "b", "c"], dtype="<U5")[y]
    names[0] = "zebra"
    return Case(_evaluate(f["multiclass_h5"], X, names, classes=["a", "b", "c"]), [f["multiclass_h5"]])


def one_hot_wrong_width(t, f):
    _, _, X, y = f["blobs"]
    return Case(_evaluate(f["multiclass_h5"], X, np.eye(4)[y]), [f["multiclass_h5"]])


def class_names_wrong_count(t, f):
    _, _, X, y = f["blobs"]
    return Case(_evaluate(f["multiclass_h5"], X, y, classes=["a", "b"]), [f["multiclass_h5"]])


def nan_inputs(t, f):
    _, _, X, y = f["blobs"]
    p = t / "nan.npz"
    Xn = X.copy()
    Xn[11, 0] = np.nan
    np.savez(p, x=Xn, y=y)
    return Case(_evaluate(f["multiclass_h5"], p), [p, f["multiclass_h5"]])


def inf_inputs(t, f):
    _, _, X, y = f["blobs"]
    Xi = X.copy()
    Xi[3, 2] = np.inf
    return Case(_evaluate(f["multiclass_h5"], Xi, y), [f["multiclass_h5"]])


def nan_labels(t, f):
    _, _, X, y = f["blobs"]
    yf = y.astype(float)
    yf[2] = np.nan
    return Case(_evaluate(f["multiclass_h5"], X, yf), [f["multiclass_h5"]])


def nan_model_outputs(t, f):
    import keras

    m = keras.saving.load_model(f["multiclass_h5"], compile=False)
    w = m.get_weights()
    w[-1][:] = np.nan  # the output layer's bias
    m.set_weights(w)
    p = t / "nan_model.h5"
    m.save(p)
    _, _, X, y = f["blobs"]
    return Case(_evaluate(p, X, y), [p])


def empty_dataset(t, f):
    p = t / "empty_arrays.npz"
    np.savez(p, x=np.zeros((0, 4), "float32"), y=np.zeros(0, int))
    return Case(lambda: load_dataset(p), [p])


def regression_model_string_labels(t, f):
    _, _, X, y = f["blobs"]
    return Case(
        _evaluate(f["regression_h5"], X, np.array(["low", "mid", "high"])[y], task="regression"), [f["regression_h5"]]
    )


def classifier_given_continuous_targets(t, f):
    _, _, X, _ = f["blobs"]
    return Case(_evaluate(f["multiclass_h5"], X, X[:, 0] * 0.37), [f["multiclass_h5"]])


def image_folder_without_images(t, f):
    for c in ("cats", "dogs"):
        (t / "imgs" / c).mkdir(parents=True)
        (t / "imgs" / c / "notes.txt").write_text("no images here")
    return Case(lambda: load_dataset(t / "imgs"), [t / "imgs" / "cats" / "notes.txt"])


def image_folder_unreadable_image(t, f):
    write_image_folder(t / "imgs", ("a",), 1, size=(4, 4), name="ok")
    bad = t / "imgs" / "a" / "broken.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    return Case(lambda: load_dataset(t / "imgs"), [bad])


def image_folder_without_classes(t, f):
    (t / "flat").mkdir()
    (t / "flat" / "x.png").write_bytes(b"")
    return Case(lambda: load_dataset(t / "flat"), [t / "flat" / "x.png"])


def wrong_sample_weight(t, f):
    _, _, X, y = f["blobs"]
    return Case(_evaluate(f["multiclass_h5"], X, y, sample_weight=np.ones(3)), [f["multiclass_h5"]])


def no_labels(t, f):
    _, _, X, _ = f["blobs"]
    return Case(_evaluate(f["multiclass_h5"], X), [f["multiclass_h5"]])


CATALOGUE = [
    (missing_model, ModelLoadError, r"does not exist; check the path"),
    (directory_as_model, ModelLoadError, r"directory but not a TensorFlow SavedModel.*pass a \.h5"),
    (empty_model_file, ModelLoadError, r"empty \(0 bytes\)"),
    (truncated_h5, ModelLoadError, r"truncated or corrupt.*export it again"),
    (not_hdf5_at_all, ModelLoadError, r"not an HDF5 file.*Re-export"),
    (hdf5_without_model, ModelLoadError, r"holds no Keras model.*\['x', 'y'\].*data file"),
    (weights_only, WeightsOnlyError, r"weights only.*load_weights"),
    (keras_broken_config, ModelLoadError, r"config\.json is broken.*save the model again"),
    (keras_not_a_zip, ModelLoadError, r"not a valid \.keras archive"),
    (lambda_layer, UnsafeModelError, r"Lambda.*trust_code=True"),
    (unknown_custom_layer, ModelLoadError, r"FancyDense.*custom_objects"),
    (unknown_model_format, ModelLoadError, r"unknown model format '\.pt'.*\.keras"),
    (multi_output_without_choice, ModelLoadError, r"2 outputs \(kind, size\).*output="),
    (pickled_npy, DatasetError, r"pickled.*unpickle.*not read"),
    (pickled_npz, DatasetError, r"unpickling.*not read"),
    (npz_unknown_keys, DatasetError, r"\['features_v2', 'truth_v2'\].*x_key"),
    (npz_named_key_missing, DatasetError, r"no array 'pixels'.*\['x', 'y'\]"),
    (csv_without_label_column, DatasetError, r"no column 'target_class'.*\['a', 'b'\].*label_column"),
    (csv_text_feature, DatasetError, r"\['colour'\] are not numeric"),
    (unknown_data_format, DatasetError, r"unknown data format '\.xlsx'"),
    (missing_dataset, DatasetError, r"does not exist"),
    (empty_data_file, DatasetError, r"empty \(0 bytes\)"),
    (model_file_as_dataset, DatasetError, r"is a Keras model file, not a dataset"),
    (shape_mismatch, ShapeMismatchError, r"rows of shape \(7,\).*expects \(4,\)"),
    (x_y_length_mismatch, DatasetError, r"300 samples but the labels have 297"),
    (label_outside_classes, LabelError, r"class indices in \[0, 2\].*from 0 to 5"),
    (string_label_not_a_class, LabelError, r"\['zebra'\] are not among the class names"),
    (one_hot_wrong_width, LabelError, r"one-hot with 4 columns but the model has 3 classes"),
    (class_names_wrong_count, LabelError, r"2 class names were given but the model has 3"),
    (nan_inputs, DatasetError, r"NaN or infinite.*first at row 11"),
    (inf_inputs, DatasetError, r"NaN or infinite.*first at row 3"),
    (nan_labels, LabelError, r"labels contain 1 NaN"),
    (nan_model_outputs, LabelError, r"outputs contain NaN.*300 sample"),
    (empty_dataset, DatasetError, r"empty \(0 samples\)"),
    (regression_model_string_labels, LabelError, r"regression model.*labels are strings"),
    (classifier_given_continuous_targets, LabelError, r"non-integer values.*task='regression'"),
    (image_folder_without_images, DatasetError, r"no images in them"),
    (image_folder_unreadable_image, DatasetError, r"broken\.png could not be read"),
    (image_folder_without_classes, DatasetError, r"no sub-folders"),
    (wrong_sample_weight, LabelError, r"sample_weight must have shape \(300,\)"),
    (no_labels, LabelError, r"No labels were given"),
]


@pytest.fixture()
def fixtures(request):
    class Lazy(dict):
        def __missing__(self, key):
            self[key] = request.getfixturevalue(key)
            return self[key]

    return Lazy()


@pytest.mark.parametrize("build,error,pattern", CATALOGUE, ids=[c[0].__name__ for c in CATALOGUE])
def test_bad_input_gets_a_clear_error_and_changes_no_file(tmp_path, fixtures, build, error, pattern):
    """Check the error kind and message of each bad input, and that no input file changed and no
    file was written next to them (the case's folder, with every name in it, is digested too)."""
    case = build(tmp_path, fixtures)
    before = digests([tmp_path, *case.files])
    with pytest.raises(error, match=pattern):
        case.run()
    assert digests([tmp_path, *case.files]) == before


def test_catalogue_has_at_least_thirty_distinct_cases():
    """Check the catalogue's size and that no case is listed twice."""
    names = [c[0].__name__ for c in CATALOGUE]
    assert len(set(names)) == len(names) >= 30


def test_one_class_test_set_reports_undefined_metrics_and_computes_the_rest(multiclass_h5, blobs):
    """Check that a test set of one class gives its metrics, with the undefined ones explained."""
    _, _, X, y = blobs
    keep = y == 1
    ev = Evaluation.from_model(multiclass_h5, X[keep], y[keep], progress=False, cache=False)
    assert np.isnan(ev.scores["roc_auc_ovr_macro"])
    assert "never occur" in ev.undefined["roc_auc"]
    assert ev.scores["accuracy"] == pytest.approx(np.mean(ev.y_pred == 1))


def test_hdf5_inputs_are_read_in_slices_never_whole(tmp_path, multiclass_h5, blobs, monkeypatch):
    """Check that an HDF5 test set is read in bounded slices (as a file larger than memory must be)."""
    import h5py

    from h5eval_widgets.core.data.datasets import H5Array

    _, _, X, y = blobs
    big = np.tile(X, (50, 1))  # 15,000 rows
    path = tmp_path / "big.h5"
    with h5py.File(path, "w") as h:
        h["x"] = big
        h["y"] = np.tile(y, 50)
    calls = record_calls(monkeypatch, H5Array, "__getitem__", lambda self, item: (self.key, item))
    original_array = H5Array.__array__

    def whole(self, *a, **k):
        if self.key == "x":
            pytest.fail("the whole input array was loaded")
        return original_array(self, *a, **k)

    monkeypatch.setattr(H5Array, "__array__", whole)
    ev = Evaluation.from_model(multiclass_h5, path, batch_size=1000, progress=False, cache=False)
    assert ev.n_samples == 15_000
    rows = np.arange(len(big))
    reads = [np.size(rows[item[0] if isinstance(item, tuple) else item]) for key, item in calls if key == "x"]
    assert max(reads) <= 1000 and sum(reads) >= 15_000
