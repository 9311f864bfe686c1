"""What the user chose and selected: the one traitlets object the views write to.

The models, datasets, loading, caches, status and the results of the current choice belong to
the :class:`~h5eval_widgets.session.Session` (``state.session``); ``EvalState`` holds only the
selection, each trait checked by a ``@validate``, and reads the results from its session.
"""

from __future__ import annotations

import functools
from typing import Any, Callable, Mapping

import numpy as np
import traitlets as T

from .core import DecisionResult, H5EvalError
from .core.results.cells_used import CellsUsed, cells_used
from .checks import NORMALIZE, SelectionChecks
from .core.insight.explain import METHODS
from .session import DATA_SUFFIXES, MODEL_SUFFIXES, Session
from .trust_sets import SPLIT, set_line, trust_results

__all__ = ["EvalState", "Session", "MODEL_SUFFIXES", "DATA_SUFFIXES", "NORMALIZE"]

#: Keyword arguments of EvalState that configure the session it builds.
_SESSION_OPTIONS = ("trust_code", "evaluations", "histories", "dataset_options", "tags_dir", "client")


def _guarded(method: Callable) -> Callable:
    """Run an observer so that an error lands in ``status`` instead of killing the UI."""

    @functools.wraps(method)
    def wrapper(self: "EvalState", *args, **kwargs):
        with self.session.report_errors():
            return method(self, *args, **kwargs)

    return wrapper


def _from_session(name: str) -> property:
    """A read-only attribute of the state that is the session's (``state.evaluation``...)."""
    return property(lambda self: getattr(self.session, name), doc=f"The session's ``{name}``.")


class EvalState(SelectionChecks):
    """What the user chose and what is selected, over a :class:`Session`.

    Views observe these traits (and the session's ``evaluation``, ``dataset``, ``comparison``,
    ``status``) and write to the traits here; they never call each other. Choosing a model or a
    dataset asks the session to open the pair; a new evaluation resets the selection.

    Parameters
    ----------
    models : mapping of str to path, keras.Model or LoadedModel, default=None
    datasets : mapping of str to path, Dataset, (X, y) tuple or DataFrame, default=None
    session : Session, default=None
        The session to select in; built from ``models``, ``datasets`` and the options below
        when None.
    progress, trust_code, evaluations, histories, dataset_options, tags_dir, client
        Passed to :class:`Session` (build one with ``Session.from_folder`` or
        ``Session.from_evaluations`` for a folder or computed evaluations).
    """

    model_name = T.Unicode(None, allow_none=True, help="The chosen model.")
    dataset_name = T.Unicode(None, allow_none=True, help="The chosen dataset.")
    focus_class = T.Int(None, allow_none=True, help="Class in focus (curves, highlights).")
    threshold = T.Float(0.5, help="Decision threshold of the focus class (binary: of the positive class).")
    normalize = T.Unicode(
        None, allow_none=True, help="Confusion matrix display: None (counts), 'true' or 'pred' (normalized by)."
    )
    selected_cell = T.Tuple(None, allow_none=True, help="(true, predicted) of the clicked cell.")
    selected_indices = T.Any(None, help="Sample indices shown in the samples view (None: nothing chosen).")
    selection_label = T.Unicode("", help="What the selected samples are, in words (one line).")
    selected_sample = T.Int(None, allow_none=True, help="One sample chosen for its full distribution.")
    sort_by = T.Unicode(
        None, allow_none=True, help="Column the selected samples are shown in order of (None: as selected)."
    )
    sort_descending = T.Bool(False, help="Show the selected samples in descending order of sort_by.")
    compare_model = T.Unicode(None, allow_none=True, help="Second model, for comparison mode.")
    brushed = T.Any(None, help="Samples chosen on the embedding map (the matrix counts them); None: none.")
    count_label_issues = T.Bool(False, help="The matrix counts each cell's likely label errors.")
    show_saliency = T.Bool(False, help="Draw what the model looked at over image samples.")
    explained_metric = T.Unicode(
        None, allow_none=True, help="The metric whose explanation is shown, its cells marked (a key of ev.scores)."
    )
    calibration = T.Unicode(
        None,
        allow_none=True,
        help=f"What the Trust tab calibrates on: another dataset's name or {SPLIT!r} (None: none).",
    )
    training_dataset = T.Unicode(
        None, allow_none=True, help="The training set's dataset (None: one named like training data, if any)."
    )
    alpha = T.Float(0.1, help="The Trust tab's error rate allowed: the sets' coverage target is 1 - alpha.")
    saliency_method = T.Enum(
        METHODS, default_value="gradcam", help="Saliency method: Grad-CAM or integrated gradients."
    )

    def __init__(
        self,
        models: Mapping[str, Any] | None = None,
        datasets: Mapping[str, Any] | None = None,
        *,
        session: Session | None = None,
        progress: bool = True,
        **kwargs,
    ):
        options = {k: kwargs.pop(k) for k in list(kwargs) if k in _SESSION_OPTIONS}
        if session is None:
            session = Session(models or {}, datasets or {}, progress=progress, **options)
        self.session = session
        super().__init__(**kwargs)
        # registered before any view exists: the selection is reset before views redraw
        session.observe(self._on_results, names="evaluation")
        if session.model_names and session.dataset_names:
            # pick the pair: a dataset whose name the model's name starts with, else the first
            self.dataset_name = session.default_dataset(session.model_names[0])
            self.model_name = session.model_names[0]

    # ------------------------------------------------------------------ choice -> results
    @T.observe("model_name", "dataset_name")
    def _on_choice(self, change):
        if self.model_name is None or self.dataset_name is None:
            return
        try:
            self.session.open(self.model_name, self.dataset_name)
        except Exception as exc:  # noqa: BLE001 - shown; the last good views stay
            if change["name"] == "model_name":
                # a model that does not fit the current data: try the data named like it
                alt = self.session.default_dataset(self.model_name)
                if alt != self.dataset_name:
                    self.dataset_name = alt
                    return
            with self.session.report_errors():
                raise exc

    def _on_results(self, change):
        """A new evaluation: clear the cell and sample (the session may keep the cell: another
        epoch), set the focus class (and the binary threshold), show the default samples, and
        compare with ``compare_model`` again."""
        ev, cell = change["new"], self.selected_cell if self.session.keeps_selection else None
        if ev is not None:
            with self.hold_trait_notifications():
                self.selected_cell = None
                self.selected_sample = None
                self.brushed = None
                if ev.positive_class is not None:
                    self.focus_class = ev.positive_class
                    self.threshold = ev.threshold
                elif ev.is_classification:
                    if self.focus_class is None or self.focus_class >= ev.n_classes:
                        self.focus_class = 0
                else:
                    self.focus_class = None
            self.show_default_samples()
            if cell is not None and max(cell) < ev.n_classes:  # the same samples at another epoch
                self.selected_cell = cell
        self._on_compare()

    @T.observe("compare_model")
    @_guarded
    def _on_compare(self, change=None):
        self.session.compare(self.compare_model)

    def show_samples(self, indices, label: str) -> None:
        """Show ``indices`` (no cell chosen) in the samples view, headed by ``label``."""
        self.selected_cell = None
        self.selection_label = label
        self.selected_indices = indices

    # ------------------------------------------------------------------ the engine's answers
    @property
    def decisions(self) -> DecisionResult | None:
        """The class decisions as shown (binary: at the current threshold), with their matrix,
        metrics, cells and mistakes; None for multi-label and regression results."""
        ev = self.evaluation
        return ev.decisions(self.threshold) if ev is not None and ev.single_label else None

    def explanation(self):
        """``ev.explain(explained_metric)`` as shown (binary: at the current threshold), or None
        when no metric is explained; a ValueError when the metric has no explanation."""
        ev, metric = self.evaluation, self.explained_metric
        if ev is None or metric is None or metric not in ev.scores:
            return None
        if ev.positive_class is not None and self.threshold != ev.threshold:
            ev = ev.with_threshold(self.threshold)
        return ev.explain(metric)

    def conformal(self):
        """The current evaluation's conformal sets at ``alpha``, calibrated on ``calibration``
        (see :mod:`h5eval_widgets.trust_sets`), or None when no calibration is chosen or the
        results are not single-label classification; errors propagate."""
        ev = self.evaluation
        if self.calibration is None or ev is None or not ev.single_label:
            return None
        return trust_results(self.session).conformal(self.calibration, self.alpha)

    def card_line(self, i: int) -> str:
        """The extra line on sample ``i``'s card: its conformal set (``'set {3, 8}'``) when a
        calibration is chosen, else ``''`` (also when the sets cannot be made: the Trust tab says why)."""
        try:
            res = self.conformal()
        except (H5EvalError, ValueError):
            return ""
        return "" if res is None else set_line(res, i)

    def explained_cells(self) -> CellsUsed | None:
        """The matrix cells the explained metric counts (its class: the positive or the focus
        class), or None when nothing is explained or the results have no class matrix."""
        ev, metric = self.evaluation, self.explained_metric
        if ev is None or metric is None or metric not in ev.scores or not ev.is_classification:
            return None
        cls = ev.positive_class if ev.positive_class is not None else self.focus_class
        return cells_used(metric, ev.n_classes, cls, ev.classes)

    def selection(self, *, tagged: bool = False):
        """The selected samples in the order shown (``tagged=True``: every tagged sample) as a
        DataFrame, predicted as shown (see :meth:`Session.samples`)."""
        dec = self.decisions
        return self.session.samples(self.ordered_indices, y_pred=None if dec is None else dec.y_pred, tagged=tagged)

    def brush_samples(self, indices, label: str) -> None:
        """Show ``indices`` chosen on the embedding map in the samples view, and count them in
        the matrix (``brushed``) until another selection is made."""
        self.show_samples(indices, label)
        self.brushed = np.asarray(indices, dtype=np.int64)  # after: see _on_indices

    @T.observe("selected_indices")
    def _on_indices(self, change):
        """Any other selection ends the map's: the matrix counts every sample again."""
        self.brushed = None

    @property
    def ordered_indices(self) -> np.ndarray | None:
        """``selected_indices`` in the order shown: sorted by ``sort_by`` when it is set (see
        :meth:`Session.sorted_samples`)."""
        idx, dec = self.selected_indices, self.decisions
        if idx is None or self.sort_by is None:
            return idx
        return self.session.sorted_samples(
            idx, self.sort_by, descending=self.sort_descending, y_pred=None if dec is None else dec.y_pred
        )

    def step_sample(self, step: int) -> None:
        """Choose the sample ``step`` places after the chosen one among the selected samples,
        in the order shown (the first one when none is chosen), as arrow keys would."""
        idx = self.ordered_indices
        if idx is None or len(idx) == 0:
            return
        pos = np.flatnonzero(idx == self.selected_sample)
        at = (int(pos[0]) + step) if len(pos) else 0
        self.selected_sample = int(idx[min(max(at, 0), len(idx) - 1)])

    def show_default_samples(self) -> None:
        """With no cell chosen: the most confident mistakes (single-label classification)."""
        wrong = None if self.decisions is None else self.decisions.mistakes()
        self.selection_label = "" if wrong is None else f"Most confident mistakes ({len(wrong)})"
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
        ev, (i, j) = self.evaluation, cell  # in the matrix: checked by _valid_cell
        idx = ev.cell_indices(i, j) if self.decisions is None else self.decisions.cell(i, j)
        self.selected_sample = None
        # the label first: views redraw when the indices change
        self.selection_label = f"true {ev.classes[i]} · predicted {ev.classes[j]} ({len(idx)})"
        self.selected_indices = idx

    @T.observe("threshold")
    @_guarded
    def _on_threshold(self, change):
        if getattr(self.evaluation, "positive_class", None) is None:
            return
        if self.selected_cell is not None:
            self._select_cell(self.selected_cell)
        else:
            self.show_default_samples()


# the session's results and lists, read here too (``state.evaluation`` is ``state.session.evaluation``)
_SESSION_NAMES = "evaluation dataset comparison status status_level busy model_names dataset_names models"
for _name in (*_SESSION_NAMES.split(), "datasets", "histories", "dataset_options", "progress", "trust_code"):
    setattr(EvalState, _name, _from_session(_name))
