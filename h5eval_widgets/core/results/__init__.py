"""One result class per task, sharing :class:`~h5eval_widgets.core.results.evaluation.Evaluation`.

``Evaluation.from_predictions`` and ``Evaluation.from_model`` return the class of the task.
"""

from .binary import BinaryEvaluation
from .classes import ClassEvaluation, RankStats
from .decisions import DecisionResult
from .multiclass import MulticlassEvaluation
from .multilabel import MultilabelEvaluation
from .regression import RegressionEvaluation
from .single import SingleLabelEvaluation

__all__ = [
    "BinaryEvaluation",
    "MulticlassEvaluation",
    "MultilabelEvaluation",
    "RegressionEvaluation",
    "ClassEvaluation",
    "SingleLabelEvaluation",
    "DecisionResult",
    "RankStats",
]
