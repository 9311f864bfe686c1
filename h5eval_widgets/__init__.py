"""h5eval-widgets: evaluate saved Keras models in Jupyter, from scripts and on the command line.

The engine (``h5eval_widgets.core``) has no widget imports; ``Dashboard`` and ``EvalState``
are imported on first use so that scripts and the command line never load ipywidgets.
"""

from .core import (
    BinaryEvaluation,
    Comparison,
    Evaluation,
    MulticlassEvaluation,
    MultilabelEvaluation,
    RegressionEvaluation,
    SplitReport,
    compare_splits,
    load_dataset,
    load_demo,
    load_history,
    load_model,
)

__version__ = "0.1.0"
__all__ = [
    "Evaluation",
    "BinaryEvaluation",
    "MulticlassEvaluation",
    "MultilabelEvaluation",
    "RegressionEvaluation",
    "Comparison",
    "SplitReport",
    "compare_splits",
    "load_history",
    "load_model",
    "load_dataset",
    "load_demo",
    "TrainingRecorder",
    "Dashboard",
    "EvalState",
    "Session",
    "demo_dashboard",
    "quiet_tensorflow",
    "__version__",
]


def quiet_tensorflow() -> None:
    """Import TensorFlow now, with its C++ start-up lines (absl, oneDNN, CUDA probing) kept off
    stderr, where notebooks show them as red boxes. This package imports TensorFlow that way
    itself; call this before ``import keras`` in a notebook that imports Keras first (to train a
    model, say). ``TF_CPP_MIN_LOG_LEVEL``, when set, is kept; nothing happens once TensorFlow is
    imported."""
    from .core._lazy import _quiet_tf

    _quiet_tf()


def __getattr__(name):
    if name in ("Dashboard", "demo_dashboard"):
        from . import app

        return getattr(app, name)
    if name == "TrainingRecorder":  # imports Keras
        from .recorder import TrainingRecorder

        return TrainingRecorder
    if name == "EvalState":
        from .state import EvalState

        return EvalState
    if name == "Session":
        from .session import Session

        return Session
    raise AttributeError(f"module 'h5eval_widgets' has no attribute {name!r}")
