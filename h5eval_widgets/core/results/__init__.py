"""Stage 6 of the engine: the results, one class per task, sharing
:class:`~h5eval_widgets.core.results.evaluation.Evaluation`.

Takes labels and a model's outputs (``Evaluation.from_predictions``; ``from_model`` predicts
through :mod:`h5eval_widgets.core.pipeline` first). Gives an immutable result of the task:
``BinaryEvaluation``, ``MulticlassEvaluation``, ``MultilabelEvaluation``,
``RegressionEvaluation``, ``DetectionEvaluation`` or ``SegmentationEvaluation``, whose methods answer every metric, cell and slice. What differs per
task lives in that task's class (the report's parts, the slices' metrics, what is explainable);
code elsewhere asks the result instead of branching on ``ev.task``. Also here: subsets
(:mod:`.subsets`), comparisons (:mod:`.compare`), reports (:mod:`.report`), and conformal sets,
intervals and temperature scaling (:mod:`.trust`).
"""

from .binary import BinaryEvaluation
from .classes import ClassEvaluation, RankStats
from .conformal import ConformalResult
from .conformal_regression import ConformalIntervals
from .decisions import DecisionResult
from .detection import DetectionEvaluation
from .multiclass import MulticlassEvaluation
from .multilabel import MultilabelEvaluation
from .regression import RegressionEvaluation
from .segmentation import SegmentationEvaluation
from .single import SingleLabelEvaluation

__all__ = [
    "BinaryEvaluation",
    "MulticlassEvaluation",
    "MultilabelEvaluation",
    "RegressionEvaluation",
    "DetectionEvaluation",
    "SegmentationEvaluation",
    "ClassEvaluation",
    "SingleLabelEvaluation",
    "DecisionResult",
    "RankStats",
    "ConformalResult",
    "ConformalIntervals",
]
