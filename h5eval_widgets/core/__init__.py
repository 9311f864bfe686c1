"""The engine: loading, prediction, metrics and error queries. No widget imports; TensorFlow lazily.

Its packages, in the order data flows (each imports only from the ones before it):
:mod:`.metrics` (the arithmetic, on plain arrays), :mod:`.data` (test sets read), :mod:`.models`
(model files loaded safely), :mod:`.inference` (the one forward pass, cached), :mod:`.scale`
(inference on a Dask cluster, or predictions a batch job wrote), :mod:`.insight` (slices, label
issues, saliency, tags), :mod:`.pipeline` (from files to outputs) and :mod:`.results` (one result
class per task). :mod:`.errors`, :mod:`.cache` and :mod:`._lazy` sit below them all.
"""

from .results.compare import Comparison, SplitReport, compare_splits, load_history
from .data.datasets import Dataset, load_dataset
from .demo import load_demo
from .errors import (
    CacheError,
    ClusterError,
    DatasetError,
    DataWarning,
    EmbeddingError,
    H5EvalError,
    LabelError,
    MissingDependencyError,
    ModelLoadError,
    ShapeMismatchError,
    TagsError,
    UnsafeModelError,
    WeightsOnlyError,
)
from .results.evaluation import Evaluation, Task
from .models.loading import LoadedModel, ModelInfo, load_model
from .results import (
    BinaryEvaluation,
    DecisionResult,
    DetectionEvaluation,
    MulticlassEvaluation,
    MultilabelEvaluation,
    RegressionEvaluation,
    SegmentationEvaluation,
)
from .metrics.threshold import ThresholdIndex, ThresholdResult

__all__ = [
    "Evaluation",
    "BinaryEvaluation",
    "MulticlassEvaluation",
    "MultilabelEvaluation",
    "RegressionEvaluation",
    "DetectionEvaluation",
    "SegmentationEvaluation",
    "DecisionResult",
    "Task",
    "Comparison",
    "SplitReport",
    "compare_splits",
    "load_history",
    "Dataset",
    "load_dataset",
    "load_model",
    "load_demo",
    "LoadedModel",
    "ModelInfo",
    "ThresholdIndex",
    "ThresholdResult",
    "H5EvalError",
    "ModelLoadError",
    "UnsafeModelError",
    "WeightsOnlyError",
    "DatasetError",
    "LabelError",
    "ShapeMismatchError",
    "CacheError",
    "ClusterError",
    "TagsError",
    "EmbeddingError",
    "MissingDependencyError",
    "DataWarning",
    "TrainingRecorder",
]


def __getattr__(name):
    if name == "TrainingRecorder":  # a keras.callbacks.Callback: Keras is imported with it
        from .training import TrainingRecorder

        return TrainingRecorder
    raise AttributeError(f"module 'h5eval_widgets.core' has no attribute {name!r}")
