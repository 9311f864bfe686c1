"""The dashboard: dropdowns, status, and the linked views, composed around one state object."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Mapping

import ipywidgets as W

from .epochs import EpochSession
from .session import Session
from .state import EvalState
from .views.cartography import CartographyView
from .views.epochs import EpochView
from .views.detection import DetectionView
from .views.notes import DataNotesView
from .views.trust import TrustView
from .views._a11y import PageNames
from .views.theme import stylesheet
from .views._base import close_widgets, owned_widgets, unobserve
from .views import (
    CalibrationView,
    ComparisonView,
    HistoryView,
    IoUBarsView,
    MaskGalleryView,
    PixelMatrixView,
    SplitsView,
    ConfusedPairsView,
    ConfusionMatrixView,
    CurvesView,
    EmbeddingView,
    ExplanationView,
    PerClassView,
    RegressionView,
    SamplesView,
    SlicesView,
    StatusView,
    SummaryView,
    TagView,
)

__all__ = ["Dashboard", "demo_dashboard", "TAB_TITLES"]

#: the dashboard's tabs, in order
TAB_TITLES = (
    "Per class",
    "Curves & threshold",
    "Calibration",
    "Trust",
    "Embedding map",
    "Slices",
    "Compare models",
    "Splits",
)


class Dashboard(W.VBox):
    """Evaluate models on datasets in one notebook cell.

    Parameters
    ----------
    models : mapping of str to model, or a folder path
        Names mapped to model files (``.h5``, ``.keras``, SavedModel folders), keras models or
        loaded models. A folder path is scanned for model and data files.
    datasets : mapping of str to dataset, default=None
        Names mapped to data files, :class:`~h5eval_widgets.core.Dataset` objects, ``(X, y)``
        tuples or DataFrames. Not needed when ``models`` is a folder.
    progress : bool, default=True
        Show a progress bar while predicting.
    trust_code : bool, default=False
        Allow models that carry code (Lambda layers) to load.
    export_dir : path-like, default="."
        Where "export HTML report" writes.
    dataset_options : mapping, default=None
        Options for reading the datasets given as paths or objects (see
        :func:`~h5eval_widgets.core.load_dataset`): ``label_column``, ``image_size``,
        ``color_mode``, ``preprocess``, ...
    tags_dir : path-like, default=None
        Where the samples' tags are kept (default: ``tags/`` in the cache folder).
    client : dask.distributed.Client, default=None
        Run inference on this Dask cluster, as ``Evaluation.from_model(..., client=...)`` does;
        the samples are shown where the data is readable from the notebook (see
        :class:`~h5eval_widgets.session.Session`).

    Attributes
    ----------
    state : EvalState
        The shared selection every view observes; set its traits to drive the dashboard.
    session : Session
        ``state.session``: the models, datasets, loading, status and the current results.

    Notes
    -----
    A redraw reuses the views' widgets (a page of cards, the table's rows, the figures), so a
    long session does not pile them up; :meth:`close` closes every widget of the dashboard and
    stops its session's background work.

    Examples
    --------
    >>> from h5eval_widgets import Dashboard, load_demo          # doctest: +SKIP
    >>> demo = load_demo()                                        # doctest: +SKIP
    >>> Dashboard(models=demo.models, datasets=demo.datasets)     # doctest: +SKIP
    """

    def __init__(
        self,
        models: Mapping[str, Any] | str | os.PathLike | None = None,
        datasets: Mapping[str, Any] | None = None,
        *,
        progress: bool = True,
        trust_code: bool = False,
        export_dir=".",
        state: EvalState | None = None,
        histories: Mapping[str, Any] | None = None,
        dataset_options: Mapping[str, Any] | None = None,
        tags_dir=None,
        client=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        #: Whether the state (and its session) was made here, and so is closed with the dashboard.
        self.owns_state = state is None
        if state is not None:
            self.state = state
        elif isinstance(models, (str, os.PathLike)) and Path(models).is_dir() and datasets is None:
            self.state = EvalState(
                session=Session.from_folder(
                    models,
                    progress=progress,
                    trust_code=trust_code,
                    histories=histories,
                    dataset_options=dataset_options,
                    tags_dir=tags_dir,
                    client=client,
                )
            )
        else:
            self.state = EvalState(
                models,
                datasets or {},
                progress=progress,
                trust_code=trust_code,
                histories=histories,
                dataset_options=dataset_options,
                tags_dir=tags_dir,
                client=client,
            )
        st = self.state
        self.session = st.session
        #: Views added by a constructor (the epoch slider and cartography of ``from_training``).
        self.extra_views: list = []
        self.model_dd = W.Dropdown(options=st.model_names, description="model")
        self.dataset_dd = W.Dropdown(options=st.dataset_names, description="dataset")
        self.class_dd = W.Dropdown(options=[], description="focus class")
        self._links = [
            W.link((self.model_dd, "value"), (st, "model_name")),
            W.link((self.dataset_dd, "value"), (st, "dataset_name")),
        ]
        self.class_dd.observe(self._on_class_dd, names="value")
        st.session.observe(self._sync_class_dd, names="evaluation")
        st.observe(self._sync_class_dd, names="focus_class")

        self.status = StatusView(st)
        self.stylesheet = stylesheet()
        self.page_names = PageNames()  # names for pictures, sliders and charts (views/_a11y.py)
        self.data_notes = DataNotesView(st, layout=W.Layout(flex="1 1 auto"))
        self.summary = SummaryView(st, export_dir=export_dir)
        self.explanation = ExplanationView(st)
        self.confusion = ConfusionMatrixView(st)
        self.pairs = ConfusedPairsView(st)
        self.samples = SamplesView(st)
        self.tags = TagView(st, export_dir=export_dir)
        self.per_class = PerClassView(st)
        self.curves = CurvesView(st)
        self.calibration = CalibrationView(st)
        self.trust = TrustView(st)
        self.regression = RegressionView(st)
        self.comparison = ComparisonView(st)
        self.splits = SplitsView(st)
        self.history = HistoryView(st)
        self.slices = SlicesView(st)
        self.embedding = EmbeddingView(st)
        self.detection = DetectionView(st)
        # segmentation (per-pixel results): the pixel matrix, IoU bars and the masks of a cell
        self.pixel_matrix = PixelMatrixView(st)
        self.iou_bars = IoUBarsView(st)
        self.mask_gallery = MaskGalleryView(st)

        # each tab's view enters the page when its tab is first opened: a bqplot figure drawn
        # in a hidden tab measures no size and logs console errors
        self.tab_views = [
            self.per_class,
            self.curves,
            self.calibration,
            self.trust,
            self.embedding,
            self.slices,
            self.comparison,
            self.splits,
        ]
        self.tabs = W.Tab(children=[W.VBox() for _ in self.tab_views])
        for i, title in enumerate(TAB_TITLES):
            self.tabs.set_title(i, title)
        self.tabs.observe(self._open_tab, names="selected_index")
        self._open_tab()
        # one layout for every task: what a click selects in (the matrix of a classifier, a
        # detector or a segmentation model, a regression's scatter) on the left, and beside it,
        # in the first screen height, the one samples place (cards, boxes on images, masks over
        # images) under the headline numbers. A column of hidden views takes no room (no fixed
        # width), and the samples column shrinks, or wraps under the left one in a narrow window.
        self.panels = W.HBox(
            [
                W.VBox(
                    [
                        self.confusion,
                        self.detection.matrix_panel,
                        self.pixel_matrix,
                        self.regression,
                        self.pairs,
                        self.iou_bars,
                    ],
                    layout=W.Layout(flex="0 0 auto", max_width="100%", margin="0 12px 0 0"),
                ),
                W.VBox(
                    [
                        self.summary,
                        self.explanation,
                        self.samples,
                        self.detection.samples_panel,
                        self.mask_gallery,
                        self.tags,
                    ],
                    layout=W.Layout(flex="1 1 320px", min_width="0"),
                ).add_class("h5eval-samples-column"),
            ],
            layout=W.Layout(flex_flow="row wrap", align_items="flex-start"),
        )
        self.children = [
            W.HBox([self.model_dd, self.dataset_dd, self.class_dd, self.stylesheet, self.page_names]),
            W.HBox([self.status, self.data_notes], layout=W.Layout(align_items="flex-start", flex_flow="row wrap")),
            self.panels,
            self.detection,  # its AP bars, box sizes, slices and precision-recall curve
            self.tabs,
            self.history,
        ]
        self.add_class("h5eval-dashboard")
        self._sync_class_dd()

    @classmethod
    def from_evaluations(
        cls, evaluations: Mapping[str, Any], datasets: Mapping[str, Any] | None = None, **kwargs
    ) -> "Dashboard":
        """A dashboard over evaluations already computed (for example with ``from_predictions``)."""
        export_dir = kwargs.pop("export_dir", ".")
        dash = cls(
            state=EvalState(session=Session.from_evaluations(evaluations, datasets, **kwargs)), export_dir=export_dir
        )
        dash.owns_state = True
        return dash

    @classmethod
    def from_training(cls, recorders, **kwargs) -> "Dashboard":
        """A dashboard over training recorders: an epoch slider (and play button) that every view
        follows, the loss and metrics per epoch (Keras's logs) marking the epoch shown, and the
        dataset cartography under the matrix. Built before ``fit``, it shows each epoch as it ends.

        Parameters
        ----------
        recorders : TrainingRecorder or mapping of str to TrainingRecorder
            One recorder (listed under its model's name once training began, else ``'model'``)
            or several by name.
        **kwargs
            ``export_dir`` and the options of :class:`~h5eval_widgets.session.Session`.
        """
        if not isinstance(recorders, Mapping):
            recorders = {recorders.name or getattr(recorders.model, "name", None) or "model": recorders}
        export_dir = kwargs.pop("export_dir", ".")
        dash = cls(state=EvalState(session=EpochSession(recorders, **kwargs)), export_dir=export_dir)
        dash.owns_state = True
        dash.epochs = EpochView(dash.state)
        dash.cartography = CartographyView(dash.state)
        dash.cartography.activate()  # shown from the start, under the matrix
        dash.extra_views += [dash.epochs, dash.cartography]
        top, status, panels, *rest = dash.children
        left, right = panels.children
        left.children = (*left.children[:1], dash.cartography, *left.children[1:])
        rest = [w for w in rest if w is not dash.history]
        dash.children = (top, dash.epochs, status, dash.history, panels, *rest)
        return dash

    @property
    def views(self) -> list:
        """Every view of the dashboard (shown or not)."""
        return self.extra_views + [
            self.status,
            self.data_notes,
            self.summary,
            self.explanation,
            self.confusion,
            self.pairs,
            self.samples,
            self.tags,
            self.per_class,
            self.curves,
            self.calibration,
            self.trust,
            self.regression,
            self.comparison,
            self.splits,
            self.history,
            self.slices,
            self.embedding,
            self.detection,
        ]

    def close(self) -> None:
        """Close the dashboard: every widget it made (its views', shown or kept for later, with
        their layouts and styles) leaves the kernel and the page, its observers and links are
        removed, and, when it made its state (not given ``state=``), the session's background
        work is stopped and waited for (:meth:`Session.close`) and the state's observers are
        removed. The results stay readable in ``session``. Closing again does nothing."""
        if self.comm is None:
            return
        st = self.state
        unobserve(self.session, self._sync_class_dd, "evaluation")
        unobserve(st, self._sync_class_dd, "focus_class")
        for ln in self._links:
            ln.unlink()
        self._links = []
        for view in self.views:
            view.close()
        close_widgets(w for w in owned_widgets(self) if w is not self)
        super().close()
        if self.owns_state:
            self.session.close()
            st.unobserve_all()

    def selection(self, *, tagged: bool = False):
        """The selected samples (``tagged=True``: every tagged sample) as a DataFrame: index,
        file, true, predicted, confidence, top classes, tags, features or text (see
        :meth:`Session.samples`)."""
        return self.state.selection(tagged=tagged)

    def export_csv(self, path, *, tagged: bool = False):
        """Write :meth:`selection` to a CSV file at ``path`` (no index column); returns the path."""
        self.selection(tagged=tagged).to_csv(Path(path), index=False)
        return Path(path)

    def _sync_class_dd(self, change=None):
        ev = self.session.evaluation
        if ev is None or not ev.is_classification:
            self.class_dd.options = []
            self.class_dd.layout.display = "none"
            self.tabs_display(ev)
            return
        self.class_dd.layout.display = None
        opts = [(name, i) for i, name in enumerate(ev.classes)]
        if list(self.class_dd.options) != opts:
            self.class_dd.options = opts
        self.class_dd.value = self.state.focus_class
        self.tabs_display(ev)

    def _open_tab(self, change=None) -> None:
        i = self.tabs.selected_index
        if i is not None and not self.tabs.children[i].children:
            self.tabs.children[i].children = [self.tab_views[i]]
            self.tab_views[i].activate()

    def tabs_display(self, ev) -> None:
        if hasattr(self, "tabs"):
            shown = ev is not None and ev.is_classification and not ev.per_pixel
            self.tabs.layout.display = None if shown else "none"
        if hasattr(self, "samples"):
            # segmentation shows its images with their masks instead, detection with their boxes
            # (in the same place); a detection result has no samples to tag
            detection = ev is not None and bool(getattr(type(ev), "is_detection", False))
            self.samples.set_visible(ev is None or not (ev.per_pixel or detection))
            self.tags.set_visible(not detection)

    def _on_class_dd(self, change):
        with self.session.report_errors():
            if change["new"] is not None:
                self.state.focus_class = change["new"]


def demo_dashboard(**kwargs) -> Dashboard:
    """The dashboard on the bundled demo models and test splits."""
    from .core import load_demo

    demo = load_demo()
    return Dashboard(models=demo.models, datasets=demo.datasets, histories=demo.histories, **kwargs)
