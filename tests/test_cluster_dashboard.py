"""The dashboard on a Dask cluster (a real in-process LocalCluster): ``Dashboard(..., client=)``
predicts on the workers what ``Evaluation.from_model(..., client=)`` would, shows the samples of
data readable here (a local Parquet folder, the same files behind an fsspec URL, an .npz read
here and sent as arrays), and ``h5eval dashboard --scheduler`` builds that dashboard."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tests.helpers import require

distributed = require("distributed")

from h5eval_widgets import Dashboard, Evaluation  # noqa: E402
from h5eval_widgets.core.scale import distributed as dist  # noqa: E402


@pytest.fixture(scope="module")
def client():
    """One worker thread in this process: no TensorFlow import in other processes."""
    cluster = distributed.LocalCluster(
        n_workers=1, threads_per_worker=1, processes=False, dashboard_address=":0", silence_logs=40
    )
    c = distributed.Client(cluster)
    yield c
    c.close()
    cluster.close()


@pytest.fixture
def table(tmp_path, blobs):
    """The blobs test set as 3 Parquet files (string labels in a 'label' column), and one .npz."""
    _, _, Xte, yte = blobs
    df = pd.DataFrame(Xte, columns=[f"f{i}" for i in range(4)])
    df["label"] = np.array(["a", "b", "c"])[yte]
    folder = tmp_path / "table"
    folder.mkdir()
    for i, (a, b) in enumerate([(0, 100), (100, 220), (220, 300)]):
        df.iloc[a:b].to_parquet(folder / f"part-{i}.parquet")
    np.savez(tmp_path / "blobs_test.npz", x=Xte, y=yte)
    return folder, df, tmp_path / "blobs_test.npz"


def _partitions(client) -> int:
    return sum(s.get("partitions", 0) for s in client.run(dist.worker_stats).values())


def test_a_cluster_dashboard_predicts_on_the_workers_and_shows_the_samples(client, table, multiclass_h5):
    """Check that Dashboard(client=) on a Parquet folder runs one task per file on the workers,
    gives the in-process outputs and matrix, and that a clicked cell's samples are the table's
    rows (read here), in the same order as the outputs."""
    folder, df, _ = table
    ref = Evaluation.from_model(multiclass_h5, df, label_column="label", cache=False, progress=False)
    start = _partitions(client)
    d = Dashboard(
        models={"mlp": str(multiclass_h5)},
        datasets={"table": str(folder)},
        client=client,
        dataset_options={"label_column": "label"},
        progress=False,
    )
    ev = d.state.evaluation
    assert _partitions(client) == start + 3
    assert any("Predicted on a Dask cluster (3 table files" in n for n in ev.notes), ev.notes
    np.testing.assert_array_equal(ev.y_proba, ref.y_proba)
    np.testing.assert_array_equal(d.confusion.heatmap.color, ref.confusion_matrix())
    assert d.state.dataset is not None and d.state.status_level == "info", d.state.status
    i, j = np.unravel_index(np.argmax(ref.confusion_matrix() - np.diag(np.diag(ref.confusion_matrix()))), (3, 3))
    d.confusion.click_cell(int(i), int(j))
    cell = ref.cell_indices(int(i), int(j))
    shown = d.selection()
    np.testing.assert_array_equal(shown["index"], cell)
    np.testing.assert_allclose(shown[["f0", "f1", "f2", "f3"]].to_numpy(), df.iloc[cell, :4].to_numpy(), rtol=1e-6)


def test_the_same_files_behind_an_fsspec_url_and_an_npz_sent_as_arrays(client, table, multiclass_h5):
    """Check an fsspec URL of the Parquet files (read by the workers, and read here through fsspec
    for the samples) and an .npz (read here, sent to the cluster in partitions): both give the
    in-process outputs on the cluster and show their samples."""
    folder, df, npz = table
    ref = Evaluation.from_model(multiclass_h5, df, label_column="label", cache=False, progress=False)
    start = _partitions(client)
    url = f"simplecache::file://{folder}/part-*.parquet"
    d = Dashboard(
        models={"mlp": str(multiclass_h5)},
        datasets={"remote": url, "npz": str(npz)},
        client=client,
        dataset_options={"label_column": "label"},
        progress=False,
    )
    assert d.state.dataset_name == "remote"
    np.testing.assert_array_equal(d.state.evaluation.y_proba, ref.y_proba)
    assert _partitions(client) == start + 3
    np.testing.assert_allclose(np.asarray(d.state.dataset.X), df.iloc[:, :4].to_numpy(), rtol=1e-6)
    d.state.dataset_name = "npz"
    ev = d.state.evaluation
    assert _partitions(client) > start + 3  # the array's partitions ran on the workers too
    assert any("array partitions" in n for n in ev.notes), ev.notes
    np.testing.assert_array_equal(ev.y_proba, ref.y_proba)
    assert d.state.status_level == "info", d.state.status
    assert len(d.selection()) == len(d.state.selected_indices) > 0


def test_the_scheduler_flag_serves_a_dashboard_on_that_cluster(client, table, multiclass_h5, capsys):
    """Check `h5eval dashboard MODEL --data URL --scheduler ADDRESS`: the flag is parsed, an fsspec
    URL is accepted as data, the served notebook's code builds a dashboard whose inference runs
    on that scheduler's workers; and --scheduler with --demo is refused."""
    from h5eval_widgets import cli
    from h5eval_widgets.serve import _by_name, dashboard_notebook

    folder, df, _ = table
    url = f"simplecache::file://{folder}/part-*.parquet"
    address = client.scheduler.address
    args = cli.build_parser().parse_args(
        ["dashboard", str(multiclass_h5), "--data", url, "--label-column", "label", "--scheduler", address]
    )
    assert args.scheduler == address and args.data == [url]
    nb = dashboard_notebook(
        _by_name(args.models), _by_name(args.data), dataset_options=cli._dataset_options(args), scheduler=args.scheduler
    )
    code = nb["cells"][0]["source"]
    assert f"Client({address!r})" in code and "client=client" in code
    start = _partitions(client)
    scope: dict = {}
    exec(code, scope)  # what the served page's kernel runs
    d = scope["dashboard"]
    assert d.session.client.scheduler.address == address
    assert _partitions(client) == start + 3
    ref = Evaluation.from_model(multiclass_h5, df, label_column="label", cache=False, progress=False)
    np.testing.assert_array_equal(d.state.evaluation.y_proba, ref.y_proba)
    assert d.state.dataset is not None
    scope["client"].close()
    assert cli.main(["dashboard", "--demo", "--scheduler", address]) == 2
    assert "--scheduler" in capsys.readouterr().err
