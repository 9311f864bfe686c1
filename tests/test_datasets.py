"""Reading test sets from every supported source, read-only and without unpickling."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from h5eval_widgets.core import DatasetError, Evaluation, load_dataset
from h5eval_widgets.core.data.datasets import H5Array
from h5eval_widgets.core.cache import file_digest
from tests.helpers import write_image_folder


@pytest.fixture()
def arrays():
    rng = np.random.default_rng(0)
    return rng.normal(size=(40, 4)).astype("float32"), rng.integers(0, 3, 40)


@pytest.mark.parametrize("xk,yk", [("x", "y"), ("X_test", "y_test"), ("features", "labels")])
def test_npz_with_common_key_names(tmp_path, arrays, xk, yk):
    """Check that .npz files with the usual key names are read without naming the keys."""
    X, y = arrays
    path = tmp_path / "d.npz"
    np.savez(path, **{xk: X, yk: y})
    before = file_digest(path)
    ds = load_dataset(path)
    np.testing.assert_array_equal(ds.X, X)
    np.testing.assert_array_equal(ds.y, y)
    assert ds.name == "d.npz" and ds.kind == "tabular"
    assert file_digest(path) == before


def test_npz_with_explicit_keys_and_class_names(tmp_path, arrays):
    """Check explicit x_key/y_key and class names stored in the file."""
    X, y = arrays
    path = tmp_path / "d.npz"
    np.savez(path, inputs_a=X, truth=y, class_names=np.array(["a", "b", "c"]))
    ds = load_dataset(path, x_key="inputs_a", y_key="truth")
    assert ds.class_names == ("a", "b", "c")
    with pytest.raises(DatasetError, match=r"no array 'nope'.*\['inputs_a', 'truth', 'class_names'\]"):
        load_dataset(path, x_key="nope")


def test_pair_of_npy_files(tmp_path, arrays):
    """Check inputs and labels from two .npy files."""
    X, y = arrays
    np.save(tmp_path / "x.npy", X)
    np.save(tmp_path / "y.npy", y)
    ds = load_dataset(tmp_path / "x.npy", tmp_path / "y.npy")
    np.testing.assert_array_equal(ds.X, X)
    np.testing.assert_array_equal(ds.y, y)


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_tables_with_a_label_column(tmp_path, arrays, fmt):
    """Check CSV and Parquet: the label column by name, the rest as features."""
    X, y = arrays
    df = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    df["kind"] = np.array(["x", "y", "z"])[y]
    path = tmp_path / f"t.{fmt}"
    df.to_csv(path, index=False) if fmt == "csv" else df.to_parquet(path)
    ds = load_dataset(path, label_column="kind")
    np.testing.assert_allclose(ds.X, X, rtol=1e-6)
    assert ds.feature_names == ("a", "b", "c", "d")
    assert ds.y.tolist() == df["kind"].tolist()
    ds2 = load_dataset(path, label_column="kind", feature_columns=["b", "d"])
    assert ds2.X.shape == (40, 2)
    with pytest.raises(DatasetError, match=r"no column 'label_x'.*\['a', 'b', 'c', 'd', 'kind'\]"):
        load_dataset(path, label_column="label_x")


def test_hdf5_inputs_are_read_in_slices(tmp_path, arrays):
    """Check that HDF5 inputs stay on disk (an H5Array) and read the same values."""
    import h5py

    X, y = arrays
    path = tmp_path / "d.h5"
    with h5py.File(path, "w") as f:
        f["x_test"] = X
        f["y_test"] = y
    ds = load_dataset(path)
    assert isinstance(ds.X, H5Array)
    np.testing.assert_array_equal(ds.X[5:9], X[5:9])
    np.testing.assert_array_equal(ds.X[np.array([7, 2, 30])], X[[7, 2, 30]])
    np.testing.assert_array_equal(ds.y, y)


def test_image_folder_one_subfolder_per_class(tmp_path):
    """Check a folder of PNG images with one sub-folder per class."""
    from PIL import Image

    write_image_folder(tmp_path, ("cat", "dog"), 3, size=(5, 6), seed=1)
    ds = load_dataset(tmp_path)
    assert ds.kind == "image"
    assert ds.X.shape == (6, 6, 5, 1)  # grayscale files: one channel, read when needed
    assert ds.class_names == ("cat", "dog")
    assert ds.y.tolist() == [0, 0, 0, 1, 1, 1]
    pixels = np.asarray(ds.X)
    assert pixels.dtype == np.float32  # 0-255, as keras.utils.image_dataset_from_directory gives
    with Image.open(tmp_path / "dog" / "2.png") as im:
        np.testing.assert_array_equal(pixels[5, :, :, 0], np.asarray(im))


def test_dataframe_and_tf_data_sources(arrays):
    """Check in-memory DataFrames and a batched tf.data.Dataset of (x, y)."""
    import tensorflow as tf

    X, y = arrays
    df = pd.DataFrame(X, columns=list("abcd")).assign(label=y)
    ds = load_dataset(df)
    np.testing.assert_array_equal(ds.y, y)
    tfds = tf.data.Dataset.from_tensor_slices((X, y)).batch(7)
    ds2 = load_dataset(tfds)
    assert ds2.streamed and ds2.y is None  # labels come with the one pass
    np.testing.assert_array_equal(np.asarray(ds2.X), X)


def test_class_names_from_a_text_file(tmp_path, arrays):
    """Check class names read from a file, one per line."""
    X, y = arrays
    names = tmp_path / "classes.txt"
    names.write_text("red\ngreen\nblue\n")
    ds = load_dataset(X, y, class_names=names)
    assert ds.class_names == ("red", "green", "blue")


def test_mismatched_lengths_and_empty_data_are_refused(arrays):
    """Check that X and y of different lengths, and an empty dataset, are clear errors."""
    X, y = arrays
    with pytest.raises(DatasetError, match="40 samples but the labels have 39"):
        load_dataset(X, y[:-1])
    with pytest.raises(DatasetError, match="empty"):
        load_dataset(np.zeros((0, 4)), np.zeros(0))


def test_hdf5_dataset_evaluates_like_the_array(tmp_path, blobs, multiclass_h5):
    """Check that evaluating from HDF5 slices gives the same numbers as from memory."""
    import h5py

    _, _, Xte, yte = blobs
    path = tmp_path / "test.h5"
    with h5py.File(path, "w") as f:
        f["x"] = Xte
        f["y"] = yte
    a = Evaluation.from_model(multiclass_h5, path, batch_size=64, progress=False, cache=False)
    b = Evaluation.from_model(multiclass_h5, Xte, yte, progress=False, cache=False)
    np.testing.assert_allclose(a.y_proba, b.y_proba, rtol=1e-6)
    assert a.scores == b.scores
