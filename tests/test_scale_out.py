"""Inference on a real Dask LocalCluster (2 worker processes, 1 thread each): the same outputs and
metrics as in-process for a dask array, a Parquet folder and an image folder; the cache; a worker
killed mid-run; a Lambda model refused on the workers."""

from __future__ import annotations

import os
import signal
import threading

import numpy as np
import pytest

from tests.helpers import assert_same_evaluation, require

distributed = require("distributed")
da = require("dask.array")

from h5eval_widgets.core import Evaluation, UnsafeModelError, load_model  # noqa: E402
from h5eval_widgets.core.scale import distributed as dist  # noqa: E402
from h5eval_widgets.core.cache import PredictionCache  # noqa: E402


@pytest.fixture(scope="module")
def client():
    """One LocalCluster for the module: its workers import TensorFlow once, which is slow."""
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0", silence_logs=40
    )
    c = distributed.Client(cluster)
    yield c
    c.close()
    cluster.close()


def _stats(client) -> dict[str, dict]:
    return client.run(dist.worker_stats)


def _partitions_run(client) -> int:
    return sum(s.get("partitions", 0) for s in _stats(client).values())


def test_a_dask_array_without_a_client_says_how_to_start_one(multiclass_h5):
    """Check in a fresh interpreter (no Dask client anywhere) that a dask array as data fails with
    ClusterError naming Client(...)."""
    import subprocess
    import sys

    code = (
        "import dask.array as da; from h5eval_widgets.core import Evaluation, ClusterError\n"
        "try:\n"
        f"    Evaluation.from_model({str(multiclass_h5)!r}, da.zeros((4, 4), chunks=2), [0, 1, 2, 0])\n"
        "except ClusterError as e:\n"
        "    print('ClusterError:', e)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=os.path.dirname(os.path.dirname(__file__)),
    )
    assert "ClusterError: The data is a Dask collection but there is no Dask client" in out.stdout, out.stderr
    assert "Client('tcp://scheduler:8786')" in out.stdout


def test_workers_import_this_package(client):
    """Check that the workers run the package under test (this worktree), not another copy."""
    import h5eval_widgets

    here = os.path.dirname(h5eval_widgets.__file__)
    files = client.run(lambda: __import__("h5eval_widgets").__file__)
    assert len(files) == 2 and all(os.path.dirname(f) == here for f in files.values())


def test_mlp_on_a_dask_array_equals_in_process(client, blobs, multiclass_h5, capsys):
    """Check that a dask array of 5 chunks gives the in-process outputs and metrics exactly, that
    each worker loaded the model at most once for the 5 partitions (bytes scattered, not pickled
    per task), that without client= the current client is used, and that the progress bar counts
    partitions (5 in all)."""
    _, _, Xte, yte = blobs
    ref = Evaluation.from_model(multiclass_h5, Xte, yte, cache=False, progress=False)
    X = da.from_array(Xte, chunks=64)
    before = _stats(client)
    ev = Evaluation.from_model(multiclass_h5, X, yte, client=client, cache=False, progress=False)
    assert_same_evaluation(ev, ref)
    assert any("Dask cluster (5 array partitions" in n for n in ev.notes), ev.notes
    after = _stats(client)
    ran = {a: after[a].get("partitions", 0) - before.get(a, {}).get("partitions", 0) for a in after}
    assert sum(ran.values()) == 5
    assert all(s.get("models_loaded", 0) <= 1 for s in after.values()), after
    again = Evaluation.from_model(
        multiclass_h5, X, da.from_array(yte, chunks=100), cache=False, progress=True
    )  # get_client(), dask labels
    assert_same_evaluation(again, ref)
    bar = capsys.readouterr().err
    assert "Predicting dask array on the cluster" in bar and "/5 [" in bar and "partition/s" in bar, bar
    assert _partitions_run(client) == sum(s.get("partitions", 0) for s in after.values()) + 5


def test_an_array_and_a_model_in_memory_go_to_the_cluster(client, blobs, multiclass_h5):
    """Check that a numpy array with client= is cut into 4 partitions per worker, and that a keras
    model in memory travels as a .keras archive; both give the in-process outputs exactly."""
    import keras

    _, _, Xte, yte = blobs
    ref = Evaluation.from_model(multiclass_h5, Xte, yte, cache=False, progress=False)
    ev = Evaluation.from_model(multiclass_h5, Xte, yte, client=client, cache=False, progress=False)
    assert_same_evaluation(ev, ref)
    assert any("8 array partitions" in n for n in ev.notes), ev.notes
    model = keras.saving.load_model(multiclass_h5, compile=False)
    ev = Evaluation.from_model(model, da.from_array(Xte, chunks=150), yte, client=client, cache=False, progress=False)
    assert_same_evaluation(ev, ref)
    assert ev.model_name == model.name


def test_outputs_computed_on_the_cluster_are_cached(client, tmp_path, blobs, multiclass_h5):
    """Check that a second evaluation of the same model and dask array reads the cache and runs no
    task on any worker, with the same outputs; other data is another entry."""
    _, _, Xte, yte = blobs
    cache = PredictionCache(tmp_path / "c")
    X = da.from_array(Xte, chunks=100)
    start = _partitions_run(client)
    a = Evaluation.from_model(multiclass_h5, X, yte, client=client, cache=cache, progress=False)
    assert _partitions_run(client) == start + 3
    b = Evaluation.from_model(
        multiclass_h5, da.from_array(Xte.copy(), chunks=100), yte, client=client, cache=cache, progress=False
    )
    assert _partitions_run(client) == start + 3, "a cached pair ran tasks again"
    assert any("prediction cache" in n for n in b.notes)
    np.testing.assert_array_equal(a.y_proba, b.y_proba)
    Evaluation.from_model(multiclass_h5, X[:150], yte[:150], client=client, cache=cache, progress=False)
    assert _partitions_run(client) == start + 5


@pytest.fixture
def parquet_folder(tmp_path, blobs):
    """The blobs test set as 4 Parquet files of uneven sizes, string labels in a column."""
    import pandas as pd

    _, _, Xte, yte = blobs
    df = pd.DataFrame(Xte, columns=[f"f{i}" for i in range(4)])
    df["label"] = np.array(["a", "b", "c"])[yte]
    folder = tmp_path / "table"
    folder.mkdir()
    for i, (a, b) in enumerate([(0, 70), (70, 150), (150, 260), (260, 300)]):
        df.iloc[a:b].to_parquet(folder / f"part-{i}.parquet")
    return folder, df


def test_parquet_folder_equals_in_process_and_reopens_from_the_cache(client, parquet_folder, multiclass_h5):
    """Check that a folder of 4 Parquet files, read on the workers (one task per file, labels from
    its column), gives the outputs and metrics of the same table in-process, as does a glob; and
    that reopening it (keyed by the files' sizes and modification times) runs no task."""
    folder, df = parquet_folder
    ref = Evaluation.from_model(multiclass_h5, df, label_column="label", cache=False, progress=False)
    start = _partitions_run(client)
    ev = Evaluation.from_model(multiclass_h5, folder, client=client, label_column="label", progress=False)
    assert_same_evaluation(ev, ref)
    assert ev.classes == ("a", "b", "c") and ev.dataset_name == "table"
    assert _partitions_run(client) == start + 4
    again = Evaluation.from_model(multiclass_h5, folder, client=client, label_column="label", progress=False)
    assert _partitions_run(client) == start + 4
    assert any("prediction cache" in n for n in again.notes)
    assert_same_evaluation(again, ref)
    glob = Evaluation.from_model(
        multiclass_h5, str(folder / "part-*.parquet"), client=client, label_column="label", cache=False, progress=False
    )
    assert_same_evaluation(glob, ref)
    df.iloc[150:260].assign(f0=0.0).to_parquet(folder / "part-2.parquet")  # one file changes
    changed = Evaluation.from_model(multiclass_h5, folder, client=client, label_column="label", progress=False)
    assert _partitions_run(client) == start + 4 + 4 + 4, "a changed file was read from the cache"
    assert not np.array_equal(changed.y_proba[150:260], ref.y_proba[150:260])
    np.testing.assert_array_equal(changed.y_proba[:150], ref.y_proba[:150])


def test_dask_dataframe_and_csv_files_equal_in_process(client, tmp_path, parquet_folder, multiclass_h5):
    """Check that a dask dataframe of 3 partitions (labels from its column, on the workers) and a
    glob of 3 CSV files give the in-process outputs and metrics of the same table."""
    dd = require("dask.dataframe")
    _, df = parquet_folder
    ref = Evaluation.from_model(multiclass_h5, df, label_column="label", cache=False, progress=False)
    ev = Evaluation.from_model(
        multiclass_h5, dd.from_pandas(df, npartitions=3), label_column="label", cache=False, progress=False
    )
    assert_same_evaluation(ev, ref)
    assert any("3 frame partitions" in n for n in ev.notes), ev.notes
    for i, (a, b) in enumerate([(0, 100), (100, 200), (200, 300)]):
        df.iloc[a:b].to_csv(tmp_path / f"t{i}.csv", index=False)
    csv = Evaluation.from_model(
        multiclass_h5, str(tmp_path / "t*.csv"), client=client, cache=False, progress=False
    )  # the 'label' column is found by its name
    np.testing.assert_allclose(csv.y_proba, ref.y_proba, rtol=0, atol=1e-6)  # CSV rounds the floats
    np.testing.assert_array_equal(csv.y_true, ref.y_true)


@pytest.fixture(scope="module")
def image_case(tmp_path_factory):
    """A small CNN (32x32 RGB, random weights) and a folder of 3 classes of JPEG/PNG images,
    some of another size (so resized) and some grayscale."""
    import keras
    from PIL import Image

    root = tmp_path_factory.mktemp("images")
    folder = root / "photos"
    rng = np.random.default_rng(0)
    for i in range(75):
        d = folder / f"class_{i % 3}"
        d.mkdir(parents=True, exist_ok=True)
        w, h = (32, 32) if i % 4 else (41, 29)
        img = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
        im = Image.fromarray(img, "RGB").convert("L" if i % 9 == 0 else "RGB")
        im.save(d / f"img_{i:03d}.{'png' if i % 5 == 0 else 'jpg'}")
    keras.utils.set_random_seed(0)
    L = keras.layers
    model = keras.Sequential(
        [
            keras.Input((32, 32, 3)),
            L.Conv2D(4, 3, activation="relu"),
            L.MaxPooling2D(),
            L.Flatten(),
            L.Dense(3, activation="softmax"),
        ]
    )
    path = root / "cnn.keras"
    model.save(path)
    return path, folder


def test_image_folder_equals_in_process(client, image_case):
    """Check that an image folder split in partitions of 7 files (uneven at the class borders) and
    decoded on the workers gives the in-process outputs, classes and resize note."""
    model, folder = image_case
    ref = Evaluation.from_model(model, folder, cache=False, progress=False)
    start = _partitions_run(client)
    ev = Evaluation.from_model(model, folder, client=client, files_per_partition=7, cache=False, progress=False)
    assert_same_evaluation(ev, ref)
    assert ev.classes == ("class_0", "class_1", "class_2")
    assert _partitions_run(client) == start + 11  # ceil(75 / 7)
    resized = [n for n in ref.notes if "were resized" in n]
    assert resized and resized[0] in ev.notes


def test_files_behind_an_fsspec_url_are_fetched_by_the_workers(client, image_case, parquet_folder, multiclass_h5):
    """Check the path for remote files (an fsspec URL that is not the local filesystem, here
    ``simplecache::file://``): listed through fsspec, each partition's images copied to the worker
    and decoded there, tables read by URL; outputs equal to in-process."""
    model, folder = image_case
    ref = Evaluation.from_model(model, folder, cache=False, progress=False)
    ev = Evaluation.from_model(
        model, f"simplecache::file://{folder}", client=client, files_per_partition=20, cache=False, progress=False
    )
    assert_same_evaluation(ev, ref)
    assert ev.dataset_name == "photos"
    table, df = parquet_folder
    ref = Evaluation.from_model(multiclass_h5, df, label_column="label", cache=False, progress=False)
    ev = Evaluation.from_model(
        multiclass_h5,
        f"simplecache::file://{table}/part-*.parquet",
        client=client,
        label_column="label",
        cache=False,
        progress=False,
    )
    assert_same_evaluation(ev, ref)


def test_lambda_model_is_refused_on_the_workers_without_trust_code(client, lambda_model_files, blobs):
    """Check that a Lambda model is refused by the client at once and by a worker's own loader (a
    task given its bytes directly) with the loader's message, its code never running; and that
    with trust_code=True the workers run it (its code touches the marker) and match in-process."""
    _, _, Xte, yte = blobs
    path, marker = lambda_model_files["keras"], lambda_model_files["marker"]
    marker.unlink(missing_ok=True)
    with pytest.raises(UnsafeModelError) as local:
        load_model(path)
    with pytest.raises(UnsafeModelError):
        Evaluation.from_model(path, da.from_array(Xte, chunks=100), yte, client=client, progress=False)
    ship = dist.ShippedModel("lambda-test", path.name, False, False, None, path.name)
    part = dist.Part("array", 0, "arrays[0]", labels_given=True)
    fut = client.submit(dist.predict_partition, ship, path.read_bytes(), part, Xte[:10], pure=False)
    with pytest.raises(UnsafeModelError) as remote:
        fut.result()
    assert str(remote.value) == str(local.value)
    assert not marker.exists(), "the Lambda's code ran"
    ev = Evaluation.from_model(
        path, da.from_array(Xte, chunks=100), yte, client=client, trust_code=True, cache=False, progress=False
    )
    assert marker.exists(), "the workers did not run the model"
    ref = Evaluation.from_model(path, Xte, yte, trust_code=True, cache=False, progress=False)
    assert_same_evaluation(ev, ref)


def test_image_partitions_are_sized_for_the_workers(client, image_case):
    """Check the README's partition sizing of an image folder: whole batches of 24 images, at
    least two partitions per worker when there are enough images, at most 2,400 images each;
    the 75 test images on 2 workers run as 4 partitions of at most 24."""
    assert [dist._images_per_partition(n, client) for n in (75, 4_800, 10_000, 1_000_000)] == [24, 1_200, 2_400, 2_400]
    model, folder = image_case
    ref = Evaluation.from_model(model, folder, cache=False, progress=False)
    start = _partitions_run(client)
    ev = Evaluation.from_model(model, folder, client=client, cache=False, progress=False)
    assert_same_evaluation(ev, ref)
    assert _partitions_run(client) == start + 4  # ceil(75 / 24)


def test_storage_options_reach_the_filesystem_on_the_client_and_the_workers(client, image_case):
    """Check that storage_options go to fsspec where the files are listed and where the workers
    read them: a ``dir://`` URL names files relative to the folder given only in storage_options
    (fsspec's DirFileSystem), so neither side could find them without it; outputs equal in-process."""
    model, folder = image_case
    ref = Evaluation.from_model(model, folder, cache=False, progress=False)
    ev = Evaluation.from_model(
        model,
        f"dir://{folder.name}",
        client=client,
        files_per_partition=40,
        cache=False,
        progress=False,
        storage_options={"path": str(folder.parent), "target_protocol": "file"},
    )
    assert_same_evaluation(ev, ref)
    assert ev.dataset_name == folder.name


def _started_twice(dask_scheduler) -> list[str]:
    """Prediction tasks the scheduler sent to a worker more than once (a worker was lost)."""
    from collections import Counter

    starts = Counter(
        str(rec[0])
        for rec in dask_scheduler.transition_log
        if str(rec[0]).startswith("h5eval-predict-") and rec[2] == "processing"
    )
    return [k for k, n in starts.items() if n > 1]


# Last in the module: the killed worker's replacement would import TensorFlow again (about 15 s)
# for whichever test ran next.
def test_a_worker_killed_mid_run_costs_only_its_partitions(client, blobs, multiclass_h5, tmp_path):
    """Check that killing a worker's process (SIGKILL) while it runs a partition, of 60 in flight,
    still gives outputs identical to in-process: Dask runs the lost partitions again on the other
    worker. The victim's first partition waits, after marking a file, until it is killed, so the
    kill always lands mid-partition (no timing involved)."""
    from tests.helpers import wait_for

    _, _, Xte, yte = blobs
    X = np.tile(Xte, (4, 1))
    y = np.tile(yte, 4)
    ref = Evaluation.from_model(multiclass_h5, X, y, cache=False, progress=False)
    client.wait_for_workers(2)
    pids = client.run(os.getpid)
    victim = sorted(pids)[0]
    started = tmp_path / "victim_started"
    # on the victim's process: mark the file, then wait to be killed; elsewhere: pass x through
    # (eval: pickled by value; the pid and path are constants in its code)
    hold = eval(
        f"lambda x: x if __import__('os').getpid() != {pids[victim]} else "
        f"(__import__('pathlib').Path({str(started)!r}).touch(), __import__('time').sleep(3600), x)[2]"
    )
    out: dict = {}

    def run():
        try:
            out["ev"] = Evaluation.from_model(
                multiclass_h5,
                da.from_array(X, chunks=20),
                y,
                client=client,
                preprocess=hold,
                cache=False,
                progress=False,
            )
        except BaseException as exc:  # noqa: BLE001 - reported below
            out["error"] = exc

    thread = threading.Thread(target=run)
    thread.start()
    wait_for(started.exists, 120, 0.05, what="a partition to start on the victim worker")
    os.kill(pids[victim], signal.SIGKILL)
    thread.join(120)
    assert not thread.is_alive()
    assert "error" not in out, out.get("error")
    assert pids[victim] not in client.run(os.getpid).values()
    rerun = client.run_on_scheduler(_started_twice)
    assert rerun, "no partition was running on the killed worker"
    assert_same_evaluation(out["ev"], ref)
    assert any("60 array partitions" in n for n in out["ev"].notes)
    client.wait_for_workers(2)
