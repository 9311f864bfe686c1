"""The engine on JAX and PyTorch gives the TensorFlow backend's numbers: every case of
``tests/backend_cases*.py`` run here and, in a subprocess, on TensorFlow (same files, same
session); plus what only another backend shows (its name in the notes, TensorFlow-only layers
refused with a clear error).

Run by ``make test``'s second pass (``KERAS_BACKEND=jax pytest -m backends``) and by
``make test-torch``; on the TensorFlow pass they are skipped, being comparisons with it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from h5eval_widgets.core.inference.backend import backend_name as _backend
from tests import backend_cases

pytestmark = pytest.mark.backends

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def tf_reference(tmp_path_factory):
    """The case files, made under TensorFlow, and every case's numbers on TensorFlow."""
    if _backend() == "tensorflow":
        pytest.skip("a comparison with the TensorFlow backend: run under KERAS_BACKEND=jax or torch (make test does)")
    folder = tmp_path_factory.mktemp("backend_cases")
    env = {**os.environ, "KERAS_BACKEND": "tensorflow", "TF_CPP_MIN_LOG_LEVEL": "3"}
    run = subprocess.run(
        [sys.executable, "-m", "tests.backend_cases", str(folder)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=1200,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    return folder, backend_cases.reference(folder)


@pytest.mark.parametrize("name", sorted(backend_cases.load_all()))
def test_case_gives_the_tensorflow_backends_numbers(name, tf_reference):
    """Check that the case's scores (1e-5), outputs and embeddings (1e-4) and saliency maps
    (correlation above 0.999) on this backend equal the TensorFlow backend's."""
    folder, ref = tf_reference
    want = ref.get(name)
    assert not isinstance(want, str), f"the case failed on TensorFlow:\n{want}"
    assert want, f"no TensorFlow numbers for {name}"
    got = {k: np.asarray(v) for k, v in backend_cases.CASES[name](folder).items()}
    problems = backend_cases.compare(name, got, want)
    assert not problems, "\n".join(problems)
