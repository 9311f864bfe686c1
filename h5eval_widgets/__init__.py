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
    "__version__",
]


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
