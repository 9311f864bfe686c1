"""TensorFlow's C++ start-up lines kept out of notebooks (issue 32, item 4): a notebook that
imports Keras itself calls ``h5eval_widgets.quiet_tensorflow()`` first, and its stderr stays empty
through Keras's import and first operation, where without it TensorFlow writes its absl, oneDNN
and CUDA lines (red boxes in a notebook)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = str(Path(__file__).resolve().parent.parent)
FIRST_OP = "import keras\nkeras.layers.Dense(2)(keras.ops.ones((1, 3)))\n"


def _stderr(code: str) -> str:
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    env.update(KERAS_BACKEND="tensorflow", PYTHONPATH=ROOT)
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stderr


def test_quiet_tensorflow_keeps_keras_import_and_first_op_silent():
    """Check the same Keras import and operation write TensorFlow's lines to stderr without the
    call (so this machine shows them) and nothing with it; a level the user set is kept."""
    loud = _stderr(FIRST_OP)
    assert "oneDNN" in loud or "absl" in loud or "cuda" in loud.lower(), loud  # the lines exist here
    assert _stderr("import h5eval_widgets\nh5eval_widgets.quiet_tensorflow()\n" + FIRST_OP) == ""
    kept = "import os\nos.environ['TF_CPP_MIN_LOG_LEVEL'] = '1'\nimport h5eval_widgets\nh5eval_widgets.quiet_tensorflow()\n"
    assert _stderr(kept + "print(os.environ['TF_CPP_MIN_LOG_LEVEL'], file=__import__('sys').stderr)") == "1\n"
