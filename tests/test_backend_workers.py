"""Dask workers run the client's Keras backend: a worker process started without
``KERAS_BACKEND`` (which would otherwise run ``~/.keras/keras.json``'s backend, TensorFlow by
default) takes the client's from the model shipped to it before it imports Keras, and a worker
already running Keras on another backend fails with a RuntimeError naming both.

Meaningful when the client runs on another backend than TensorFlow: run by ``make test``'s
second pass (``KERAS_BACKEND=jax pytest -m backends``) and ``make test-torch``."""

from __future__ import annotations

import os

import numpy as np
import pytest

from tests.helpers import require

pytestmark = pytest.mark.backends

distributed = require("distributed")

from h5eval_widgets.core import Evaluation  # noqa: E402
from h5eval_widgets.core.inference import backend  # noqa: E402
from h5eval_widgets.core.scale import distributed as dist  # noqa: E402


def _client_backend() -> str:
    import keras

    return keras.backend.backend()


def _worker_state() -> dict:
    """On a worker: its KERAS_BACKEND, whether Keras is imported, and its backend if so."""
    import sys

    keras = sys.modules.get("keras")
    return {
        "env": os.environ.get("KERAS_BACKEND"),
        "keras_imported": keras is not None,
        "backend": keras.backend.backend() if keras is not None else None,
    }


@pytest.fixture(scope="module")
def cluster_without_backend():
    """A LocalCluster of one worker process spawned with no KERAS_BACKEND in its environment
    (taken out of this process's environment while the worker starts), and the worker's state
    as it started."""
    if _client_backend() == "tensorflow":
        pytest.skip("the workers' default backend is TensorFlow: run under KERAS_BACKEND=jax or torch (make test does)")
    saved = os.environ.pop("KERAS_BACKEND", None)
    try:
        cluster = distributed.LocalCluster(
            n_workers=1, threads_per_worker=1, processes=True, dashboard_address=":0", silence_logs=40
        )
    finally:
        if saved is not None:
            os.environ["KERAS_BACKEND"] = saved
    client = distributed.Client(cluster)
    started = next(iter(client.run(_worker_state).values()))
    yield client, started
    client.close()
    cluster.close()


def test_a_worker_started_without_keras_backend_runs_the_clients(cluster_without_backend, blobs, multiclass_h5):
    """Check that the worker started with no KERAS_BACKEND and no Keras imported, that after an
    evaluation on the cluster it runs Keras on the client's backend, and that the outputs are
    the in-process ones."""
    client, started = cluster_without_backend
    assert started == {"env": None, "keras_imported": False, "backend": None}, started
    _, _, Xte, yte = blobs
    ev = Evaluation.from_model(multiclass_h5, Xte, yte, client=client, cache=False, progress=False)
    ref = Evaluation.from_model(multiclass_h5, Xte, yte, cache=False, progress=False)
    np.testing.assert_allclose(ev.y_proba, ref.y_proba, atol=1e-6)
    states = client.run(_worker_state)
    assert [s["backend"] for s in states.values()] == [_client_backend()], states
    assert any("Dask cluster" in n for n in ev.notes) and backend.note() in ev.notes, ev.notes


def test_a_worker_on_another_backend_says_so(cluster_without_backend, blobs, multiclass_h5, monkeypatch):
    """Check that when the client asks for another backend than the one the worker already runs
    Keras on, the evaluation fails with the RuntimeError naming both backends and how to start
    the workers, both before any task is sent and in a task itself (a worker that joined later)."""
    client, _ = cluster_without_backend
    _, _, Xte, yte = blobs
    Evaluation.from_model(multiclass_h5, Xte, yte, client=client, cache=False, progress=False)  # Keras there now
    here = _client_backend()
    other = "tensorflow" if here != "tensorflow" else "jax"
    monkeypatch.setattr(backend, "worker_environment", lambda: {"KERAS_BACKEND": other})
    with pytest.raises(RuntimeError, match=f"already runs Keras on {here}, and the client runs on {other}") as err:
        Evaluation.from_model(multiclass_h5, Xte, yte, client=client, cache=False, progress=False)
    assert f"KERAS_BACKEND={other}" in str(err.value)
    ship, payload, _ = dist.package_model(multiclass_h5, False, None)
    assert ship.environment == (("KERAS_BACKEND", other),)
    part = dist.Part("array", 0, "arrays[0]", labels_given=True)
    fut = client.submit(dist.predict_partition, ship, payload, part, Xte[:10], pure=False)
    with pytest.raises(RuntimeError, match=f"already runs Keras on {here}"):
        fut.result()
    assert [s["backend"] for s in client.run(_worker_state).values()] == [here]
