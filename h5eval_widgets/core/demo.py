"""The bundled demo: real ``.h5`` models and test splits made by ``scripts/make_demo.py``."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from .data.datasets import Dataset, load_dataset

__all__ = ["Demo", "load_demo", "DEMO_DIR"]

DEMO_DIR = Path(__file__).resolve().parent.parent / "demo_data"


@dataclass(frozen=True)
class Demo:
    """Paths of the demo models and the test splits they go with.

    Attributes
    ----------
    models : dict of str to Path
        ``digits_cnn`` and ``digits_weak_mlp`` (8x8 digits, 10 classes), ``breast_cancer_mlp``
        (binary, tabular), ``diabetes_mlp`` (regression).
    datasets : dict of str to Path
        ``digits_test``, ``digits_train``, ``breast_cancer_test``, ``diabetes_test`` (.npz files).
    dataset_of : dict of str to str
        The test split each model belongs to.
    histories : dict of str to Path
        Training histories (CSVLogger CSV or JSON) of the digits models.
    """

    models: dict
    datasets: dict
    dataset_of: dict
    histories: dict

    def history(self, model: str):
        """The training history of a demo model, as a DataFrame by epoch."""
        from .results.compare import load_history

        return load_history(self.histories[model])

    def dataset(self, name: str) -> Dataset:
        """Load one test split (by dataset or model name)."""
        name = self.dataset_of.get(name, name)
        if name not in self.datasets:
            raise KeyError(f"No demo dataset {name!r}; there are {sorted(self.datasets)}.")
        return load_dataset(self.datasets[name], name=name)

    def evaluate(self, model: str, **kwargs):
        """Evaluate one demo model on its own test split."""
        from .results.evaluation import Evaluation
        from .models.loading import load_model

        if model not in self.models:
            raise KeyError(f"No demo model {model!r}; there are {sorted(self.models)}.")
        loaded = load_model(self.models[model], name=model)
        return Evaluation.from_model(loaded, self.dataset(model), **kwargs)


def load_demo() -> Demo:
    """The bundled demo models and their test splits (read-only files inside the package)."""
    meta = json.loads((DEMO_DIR / "demo.json").read_text())
    return Demo(
        models={k: DEMO_DIR / v["file"] for k, v in meta["models"].items()},
        datasets={k: DEMO_DIR / v["file"] for k, v in meta["datasets"].items()},
        dataset_of={k: v["dataset"] for k, v in meta["models"].items()},
        histories={k: DEMO_DIR / v for k, v in meta.get("histories", {}).items()},
    )
