"""Dashboard views: each observes the shared state and writes back to it, never to another view."""

from .calibration import CalibrationView
from .compare import ComparisonView
from .history import HistoryView
from .masks import IoUBarsView, MaskGalleryView, PixelMatrixView
from .splits import SplitsView
from .confusion import ConfusionMatrixView
from .curves import CurvesView
from .embedding import EmbeddingView
from .explanation import ExplanationView
from .pairs import ConfusedPairsView
from .per_class import PerClassView
from .regression import RegressionView
from ._pictures import overlay_png, picture
from .samples import SamplesView
from .slices import SlicesView
from .status import StatusView
from .summary import SummaryView
from .tags import TagView

__all__ = [
    "CalibrationView",
    "ComparisonView",
    "HistoryView",
    "IoUBarsView",
    "MaskGalleryView",
    "PixelMatrixView",
    "SplitsView",
    "ConfusionMatrixView",
    "ConfusedPairsView",
    "CurvesView",
    "EmbeddingView",
    "ExplanationView",
    "PerClassView",
    "RegressionView",
    "SamplesView",
    "SlicesView",
    "StatusView",
    "SummaryView",
    "TagView",
    "overlay_png",
    "picture",
]
