"""h5eval-widgets: evaluate saved Keras models in Jupyter, from scripts and on the command line."""

from .core import Evaluation, load_dataset, load_demo, load_model

__version__ = "0.1.0"
__all__ = ["Evaluation", "load_model", "load_dataset", "load_demo", "__version__"]
