"""The one traitlets object the dashboard's views observe and write: choices, results, selection."""

from __future__ import annotations

import contextlib
import functools
import os
import traceback
from pathlib import Path
from typing import Any, Callable, Mapping

import numpy as np
import traitlets as T

from .core import Dataset, Evaluation, H5EvalError, load_dataset, load_model
from .core.compare import Comparison, load_history
from .core.datasets import IMAGE_SUFFIXES
from .core.metrics import scores_from_confusion

__all__ = ["EvalState", "MODEL_SUFFIXES", "DATA_SUFFIXES"]

MODEL_SUFFIXES = (".h5", ".hdf5", ".keras")
DATA_SUFFIXES = (".npz", ".npy", ".csv", ".tsv", ".parquet")


def _guarded(method: Callable) -> Callable:
    """Run an observer so that an error lands in ``status`` instead of killing the UI."""

    @functools.wraps(method)
    def wrapper(self: "EvalState", *args, **kwargs):
        with self.report_errors():
            return method(self, *args, **kwargs)

    return wrapper


class EvalState(T.HasTraits):
    """What the user chose, what the engine computed and what is selected.

    Views observe these traits and write to them; they never call each other. Prediction
    runs only here, when ``model_name`` or ``dataset_name`` changes, through the engine's
    cache (and an in-memory one, so switching back is immediate).

    Parameters
    ----------
    models : mapping of str to path, keras.Model or LoadedModel
    datasets : mapping of str to path, Dataset, (X, y) tuple or DataFrame
    progress : bool, default=True
        Show a progress bar while predicting.
    dataset_options : mapping, default=None
        Passed to :func:`~h5eval_widgets.core.load_dataset` for every dataset read here.
    """

    model_names = T.List(T.Unicode(), help="Names of the models to choose from.")
    dataset_names = T.List(T.Unicode(), help="Names of the datasets to choose from.")
    model_name = T.Unicode(None, allow_none=True, help="The chosen model.")
    dataset_name = T.Unicode(None, allow_none=True, help="The chosen dataset.")

    evaluation = T.Instance(Evaluation, allow_none=True, help="Result for the chosen pair.")
    dataset = T.Instance(Dataset, allow_none=True, help="The chosen dataset (for showing samples).")

    focus_class = T.Int(None, allow_none=True, help="Class in focus (curves, highlights).")
    threshold = T.Float(0.5, help="Decision threshold of the focus class (binary: of the positive class).")
    normalize = T.Enum([None, "true", "pred"], default_value=None, allow_none=True,
                       help="Confusion matrix display: counts, or normalized by true or predicted.")
    selected_cell = T.Tuple(None, allow_none=True, help="(true, predicted) of the clicked cell.")
    selected_indices = T.Any(None, help="Sample indices shown in the samples view (None: nothing chosen).")
    selection_label = T.Unicode("", help="What the selected samples are, in words.")
    selected_sample = T.Int(None, allow_none=True, help="One sample chosen for its full distribution.")

    compare_model = T.Unicode(None, allow_none=True, help="Second model, for comparison mode.")
    comparison = T.Instance(Comparison, allow_none=True, help="The chosen model against compare_model.")

    status = T.Unicode("", help="Last message for the status area.")
    status_level = T.Enum(["info", "error"], default_value="info")
    busy = T.Bool(False, help="True while predicting.")

    def __init__(self, models: Mapping[str, Any], datasets: Mapping[str, Any], *,
                 progress: bool = True, trust_code: bool = False,
                 evaluations: Mapping[tuple[str, str], Evaluation] | None = None,
                 histories: Mapping[str, Any] | None = None,
                 dataset_options: Mapping[str, Any] | None = None, **kwargs):
        super().__init__(**kwargs)
        self.histories = dict(histories or {})
        self.dataset_options = dict(dataset_options or {})
        self.models = dict(models)
        self.datasets = dict(datasets)
        self.progress = progress
        self.trust_code = trust_code
        self._eval_cache: dict[tuple[str, str], Evaluation] = dict(evaluations or {})
        self._data_cache: dict[str, Dataset] = {}
        self.model_names = list(self.models)
        self.dataset_names = list(self.datasets)
        if self.model_names and self.dataset_names:
            # pick the pair: a dataset whose name the model's name starts with, else the first
            self.dataset_name = self._default_dataset(self.model_names[0])
            self.model_name = self.model_names[0]

    # ------------------------------------------------------------------ construction helpers
    @classmethod
    def from_folder(cls, folder: str | os.PathLike, **kwargs) -> "EvalState":
        """Scan a folder for model files (.h5/.keras, SavedModel dirs) and data files."""
        folder = Path(folder)
        models, datasets = {}, {}
        for p in sorted(folder.iterdir()):
            if p.is_dir() and (p / "saved_model.pb").exists():
                models[p.name] = p
            elif p.is_dir() and any(
                f.suffix.lower() in IMAGE_SUFFIXES for d in p.iterdir() if d.is_dir() for f in d.iterdir()
            ):
                datasets[p.name] = p
            elif p.suffix.lower() in MODEL_SUFFIXES and _holds_model(p):
                models[p.stem] = p
            elif p.suffix.lower() in DATA_SUFFIXES + (".h5", ".hdf5"):
                datasets[p.stem] = p
        return cls(models, datasets, **kwargs)

    @classmethod
    def from_evaluations(cls, evaluations: Mapping[str, Evaluation],
                         datasets: Mapping[str, Any] | None = None, **kwargs) -> "EvalState":
        """A state over evaluations already computed (no model files needed).

        Parameters
        ----------
        evaluations : mapping of str to Evaluation
            Shown under these names in the model dropdown.
        datasets : mapping of str to dataset, default=None
            The data behind the evaluations, by their ``dataset_name``, to show samples.
        """
        datasets = dict(datasets or {})
        cache, models = {}, {}
        for name, ev in evaluations.items():
            dname = ev.dataset_name or "data"
            datasets.setdefault(dname, None)
            cache[(name, dname)] = ev
            models[name] = None
        return cls(models, datasets, evaluations=cache, **kwargs)

    def _default_dataset(self, model_name: str) -> str:
        for (m, d) in self._eval_cache:
            if m == model_name:
                return d
        for d in self.dataset_names:
            if model_name.split("_")[0] == d.split("_")[0]:
                return d
        return self.dataset_names[0]

    # ------------------------------------------------------------------ errors
    @contextlib.contextmanager
    def report_errors(self):
        """Catch an error, show it in ``status`` and keep the last good state."""
        try:
            yield
        except H5EvalError as exc:
            self.set_status(str(exc), "error")
        except Exception as exc:  # noqa: BLE001 - a bug must not take the dashboard down
            tb = traceback.format_exception_only(type(exc), exc)[-1].strip()
            self.set_status(f"Unexpected error: {tb}", "error")

    def set_status(self, message: str, level: str = "info") -> None:
        self.status_level = level
        self.status = message

    # ------------------------------------------------------------------ loading
    def get_dataset(self, name: str) -> Dataset | None:
        if name not in self._data_cache:
            src = self.datasets[name]
            if src is None:  # evaluations given without their data: no samples to draw
                return None
            self._data_cache[name] = (src if isinstance(src, Dataset)
                                      else load_dataset(src, name=name, **self.dataset_options))
        return self._data_cache[name]

    def evaluate(self, model_name: str, dataset_name: str) -> Evaluation:
        """The evaluation of a pair: from memory, else through the engine (and its disk cache)."""
        key = (model_name, dataset_name)
        if key not in self._eval_cache:
            if self.models.get(model_name) is None:
                raise H5EvalError(
                    f"No evaluation of {model_name} on {dataset_name} was given, and there is no "
                    "model file to compute it; choose the dataset it was evaluated on."
                )
            data = self.get_dataset(dataset_name)
            loaded = load_model(self.models[model_name], trust_code=self.trust_code, name=model_name)
            self.busy = True
            try:
                self._eval_cache[key] = Evaluation.from_model(
                    loaded, data, progress=self.progress, dataset_name=dataset_name
                )
            finally:
                self.busy = False
        return self._eval_cache[key]

    @T.observe("model_name", "dataset_name")
    def _on_choice(self, change):
        if self.model_name is None or self.dataset_name is None:
            return
        try:
            ev = self.evaluate(self.model_name, self.dataset_name)
            data = self.get_dataset(self.dataset_name)
        except Exception as exc:  # noqa: BLE001 - shown; the last good views stay
            if change["name"] == "model_name":
                # a model that does not fit the current data: try the data named like it
                alt = self._default_dataset(self.model_name)
                if alt != self.dataset_name:
                    self.dataset_name = alt
                    return
            with self.report_errors():
                raise exc
            return
        self.dataset = data
        self.evaluation = ev
        notes = "".join(f" · {n}" for n in ev.notes)
        self.set_status(f"{self.model_name} on {self.dataset_name}: {ev.n_samples} samples, {ev.task}.{notes}")

    @T.observe("evaluation")
    def _on_evaluation(self, change):
        ev = change["new"]
        if ev is None:
            return
        with self.hold_trait_notifications():
            self.selected_cell = None
            self.selected_sample = None
            if ev.task == "binary":
                self.focus_class = 1
                self.threshold = ev.threshold
            elif ev.is_classification:
                if self.focus_class is None or self.focus_class >= ev.n_classes:
                    self.focus_class = 0
            else:
                self.focus_class = None
        self.show_default_samples()

    # ------------------------------------------------------------------ derived views of the result
    def confusion(self) -> np.ndarray:
        """The confusion matrix as shown: at the current threshold for binary tasks."""
        ev = self.evaluation
        if ev.task == "binary":
            return ev.at_threshold(self.threshold).confusion
        return np.asarray(ev.confusion_matrix())

    def cell_samples(self, true: int, pred: int) -> np.ndarray:
        """Samples of one cell, most confident first, answered from the engine's indexes."""
        ev = self.evaluation
        if ev.task == "binary":
            return ev.cells_at_threshold(self.threshold)[(int(true), int(pred))]
        return ev.cell_indices(int(true), int(pred))

    def _scores_at_threshold(self) -> dict:
        """Metrics of the 2x2 matrix at the current threshold (binary), computed once per threshold."""
        key = (id(self.evaluation), self.threshold)
        if getattr(self, "_threshold_scores_key", None) != key:
            self._threshold_scores = scores_from_confusion(
                self.evaluation.at_threshold(self.threshold).confusion)
            self._threshold_scores_key = key
        return self._threshold_scores

    def class_table(self):
        """Per-class precision/recall/F1/support as shown (binary: at the current threshold).

        Binary tables are rebuilt from the 2x2 matrix at the threshold (a lookup), not by
        re-evaluating.
        """
        ev = self.evaluation
        df = ev.per_class()
        if ev.task == "binary" and self.threshold != ev.threshold:
            sc = self._scores_at_threshold()
            df = df.copy()
            for col in ("precision", "recall", "f1"):
                df[col] = sc[col]
            df["predicted"] = sc["predicted"].astype(df["predicted"].dtype)
        return df

    def headline(self) -> dict:
        """Headline metrics as shown (binary: the threshold-dependent ones at the threshold)."""
        ev = self.evaluation
        out = dict(ev.scores)
        if ev.task == "binary" and self.threshold != ev.threshold:
            sc = self._scores_at_threshold()
            for k in list(out):
                if k in sc and np.ndim(sc[k]) == 0:
                    out[k] = sc[k]
            for k in ("precision", "recall", "f1"):
                out[k] = float(sc[k][1])
        return out

    def history(self, model_name: str | None = None):
        """The training history of a model (a DataFrame by epoch), or None when there is none."""
        name = model_name or self.model_name
        if name not in self.histories:
            return None
        src = self.histories[name]
        if not hasattr(src, "columns"):
            src = self.histories[name] = load_history(src)
        return src

    @T.observe("compare_model", "evaluation")
    @_guarded
    def _on_compare(self, change):
        other = self.compare_model
        if other is None or self.evaluation is None:
            self.comparison = None
            return
        if other == self.model_name:
            self.comparison = None
            self.set_status("Choose a different model to compare with.")
            return
        try:
            ev_b = self.evaluate(other, self.dataset_name)
            self.comparison = Comparison(self.evaluation, ev_b)
        except Exception:
            self.comparison = None
            raise

    def select_agreement(self, a_right: bool, b_right: bool) -> None:
        """Show the samples where the chosen model is right/wrong and the compared one right/wrong."""
        cmp_ = self.comparison
        idx = cmp_.agreement_indices(a_right, b_right)
        na, nb = cmp_.names
        self.selected_cell = None
        self.selection_label = (f"{na} {'right' if a_right else 'wrong'}, "
                                f"{nb} {'right' if b_right else 'wrong'} ({len(idx)})")
        self.selected_indices = idx

    def predicted_labels(self) -> np.ndarray:
        """Class predictions as shown (binary: at the current threshold)."""
        ev = self.evaluation
        if ev.task == "binary":
            return (ev.y_proba[:, 1] >= self.threshold).astype(np.int64)
        return ev.y_pred

    def show_default_samples(self) -> None:
        """With no cell chosen: the most confident mistakes (classification)."""
        ev = self.evaluation
        if ev is None or not ev.is_classification or ev.task == "multilabel":
            self.selected_indices = None
            self.selection_label = ""
            return
        if ev.task == "binary":
            # the two mistake cells are already sorted by confidence: a stable sort merges
            # the two runs in linear time
            cells = ev.cells_at_threshold(self.threshold)
            fp, fn = cells[(0, 1)], cells[(1, 0)]
            wrong = np.concatenate([fp, fn])
            conf = np.concatenate([ev.y_proba[fp, 1], ev.y_proba[fn, 0]])
            wrong = wrong[np.argsort(-conf, kind="stable")]
        else:
            wrong = ev.most_confident_mistakes(None)
        self.selection_label = f"Most confident mistakes ({len(wrong)})"
        self.selected_indices = wrong

    @T.observe("selected_cell")
    @_guarded
    def _on_cell(self, change):
        cell = change["new"]
        if cell is None:
            self.show_default_samples()
            return
        self._select_cell(cell)

    def _select_cell(self, cell):
        ev = self.evaluation
        i, j = int(cell[0]), int(cell[1])
        if not (0 <= i < ev.n_classes and 0 <= j < ev.n_classes):
            raise ValueError(f"Cell {cell} is outside the {ev.n_classes}x{ev.n_classes} matrix.")
        idx = self.cell_samples(i, j)
        self.selected_sample = None
        # the label first: views redraw when the indices change
        self.selection_label = f"true {ev.classes[i]} · predicted {ev.classes[j]} ({len(idx)})"
        self.selected_indices = idx

    @T.observe("threshold")
    @_guarded
    def _on_threshold(self, change):
        if self.evaluation is None or self.evaluation.task != "binary":
            return
        if self.selected_cell is not None:
            self._select_cell(self.selected_cell)
        else:
            self.show_default_samples()

    @T.validate("threshold")
    def _valid_threshold(self, proposal):
        t = float(proposal["value"])
        if not np.isfinite(t):
            raise T.TraitError(f"threshold must be a finite number; got {t}.")
        return min(max(t, 0.0), 1.0)


def _holds_model(path: Path) -> bool:
    """True for .keras archives and for .h5 files with a model config (not data files)."""
    if path.suffix.lower() == ".keras":
        return True
    try:
        import h5py

        with h5py.File(path, "r") as f:
            return "model_config" in f.attrs or "layer_names" in f.attrs
    except OSError:
        return True  # let loading report what is wrong with it
