"""The dashboard's session: which models and datasets there are, loading them, and the results.

A :class:`Session` owns everything that is not a user's choice: the model and dataset lists
(given, or found by scanning a folder), the loaded datasets and evaluations (cached in memory,
on top of the engine's disk cache), training histories, the status line, and the results it
publishes for the current choice (``evaluation``, ``dataset``, ``comparison``). What the user
chose and selected lives in :class:`~h5eval_widgets.state.EvalState`.
"""

from __future__ import annotations

import os
from typing import Any, Mapping

import numpy as np
import traitlets as T

from .activity import Activity
from .core import Dataset, Evaluation, H5EvalError, load_dataset, load_model
from .core.results.compare import Comparison, SplitReport, compare_splits, load_history
from .core.results import ClassEvaluation
from .core.insight.tags import TagStore
from .core._lazy import BACKEND_NOTE
from .core.metrics.queries import samples_frame, sort_samples
from .core.pipeline import DATA_SUFFIXES, MODEL_SUFFIXES, scan_folder
from .core.scale.cluster_inputs import arrays_to_send, read_here, workers_read

__all__ = ["Session", "scan_folder", "MODEL_SUFFIXES", "DATA_SUFFIXES"]

#: Probabilities (samples x classes) from which the ranking metrics are computed in the
#: background, after the first view (100k x 10 takes ~40 ms; 1M x 100, seconds).
RANK_IN_BACKGROUND = 4_000_000


class Session(Activity):
    """Models, datasets, loading and caches; publishes the results of the current pair.

    Prediction runs only here (:meth:`evaluate`), through the engine's disk cache and an
    in-memory one, so switching back to a pair is immediate.

    Parameters
    ----------
    models : mapping of str to path, keras.Model, LoadedModel or None
        None for a model known only by the evaluations given.
    datasets : mapping of str to path, Dataset, (X, y) tuple, DataFrame or None
        None for data not at hand (no samples are drawn).
    progress : bool, default=True
        Show a progress bar while predicting.
    trust_code : bool, default=False
        Allow models that carry code (Lambda layers) to load.
    evaluations : mapping of (model name, dataset name) to Evaluation, default=None
        Results already computed.
    histories : mapping of str to history, default=None
        Training histories by model name (see :func:`~h5eval_widgets.core.load_history`).
    dataset_options : mapping, default=None
        Passed to :func:`~h5eval_widgets.core.load_dataset` for every dataset read here.
    tags_dir : path-like, default=None
        Where sample tags are kept (default: ``tags/`` in the cache folder); see :meth:`tags`.
    client : dask.distributed.Client, default=None
        Run inference on this Dask cluster, as ``Evaluation.from_model(..., client=...)`` does
        (see :mod:`h5eval_widgets.core.scale.cluster_inputs`: what the workers read, and the
        samples shown from here).
    """

    model_names = T.List(T.Unicode(), help="Names of the models to choose from.")
    dataset_names = T.List(T.Unicode(), help="Names of the datasets to choose from.")

    evaluation = T.Instance(Evaluation, allow_none=True, help="Result for the current pair.")
    dataset = T.Instance(Dataset, allow_none=True, help="The current dataset (for showing samples).")
    comparison = T.Instance(Comparison, allow_none=True, help="The current model against another one.")

    ranking_ready = T.Bool(True, help="False while a large evaluation's ROC AUC and AP are computed in the background.")
    slice_name = T.Unicode(None, allow_none=True, help="The slice the results are filtered to (None: every sample).")
    tags_changed = T.Int(0, help="Counts tag changes (views showing tags redraw on it).")
    #: True while a new evaluation shows the same samples as the last (keep the chosen cell).
    keeps_selection = False

    def __init__(
        self,
        models: Mapping[str, Any],
        datasets: Mapping[str, Any],
        *,
        progress: bool = True,
        trust_code: bool = False,
        evaluations: Mapping[tuple[str, str], Evaluation] | None = None,
        histories: Mapping[str, Any] | None = None,
        dataset_options: Mapping[str, Any] | None = None,
        tags_dir: str | os.PathLike | None = None,
        client=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        #: The Dask client inference runs on (None: in this process).
        self.client = client
        self.models, self.datasets = dict(models), dict(datasets)
        self.progress, self.trust_code = progress, trust_code
        self.histories = dict(histories or {})
        self.dataset_options = dict(dataset_options or {})
        self._eval_cache: dict[tuple[str, str], Evaluation] = dict(evaluations or {})
        self._data_cache: dict[str, Dataset] = {}
        self._unseen: dict[str, str] = {}  # datasets whose samples are not shown here, and why
        self._tag_stores: dict[Evaluation, TagStore] = {}
        self._last_order = None
        #: Where tags are kept (None: ``tags/`` of the cache folder, read when first needed).
        self.tags_dir = tags_dir
        #: The (model, dataset) names ``evaluation`` belongs to.
        self.pair: tuple[str, str] | None = None
        self.model_names = list(self.models)
        self.dataset_names = list(self.datasets)

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_folder(cls, folder: str | os.PathLike, **kwargs) -> "Session":
        """A session over the model and data files found in a folder (see :func:`scan_folder`)."""
        models, datasets = scan_folder(folder)
        return cls(models, datasets, **kwargs)

    @classmethod
    def from_evaluations(
        cls, evaluations: Mapping[str, Evaluation], datasets: Mapping[str, Any] | None = None, **kwargs
    ) -> "Session":
        """A session over evaluations already computed (no model files needed).

        Parameters
        ----------
        evaluations : mapping of str to Evaluation
            Listed under these names as models.
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

    def default_dataset(self, model_name: str) -> str:
        """The dataset to show a model on: one it was evaluated on, else one whose name starts
        like the model's (``digits_cnn`` -> ``digits_test``), else the first."""
        for m, d in self._eval_cache:
            if m == model_name:
                return d
        for d in self.dataset_names:
            if model_name.split("_")[0] == d.split("_")[0]:
                return d
        return self.dataset_names[0]

    # ------------------------------------------------------------------ loading
    def get_dataset(self, name: str) -> Dataset | None:
        """The dataset by name, read once (None when only its evaluations were given)."""
        if name not in self._data_cache:
            src = self.datasets[name]
            if src is None:  # evaluations given without their data: no samples to draw
                return None
            if self.client is not None and self._workers_read(src):
                self._data_cache[name] = data = read_here(src, name, self.dataset_options)
                if data is None:  # said in the status line each time the dataset is opened
                    self._unseen[name] = (
                        f"{name}: the images are read by the cluster's workers from {src}; "
                        "they are not shown here (only images on this machine's disk are)."
                    )
            else:
                self._data_cache[name] = (
                    src if isinstance(src, Dataset) else load_dataset(src, name=name, **self.dataset_options)
                )
        return self._data_cache[name]

    def _workers_read(self, src) -> bool:
        return isinstance(src, (str, os.PathLike)) and workers_read(src, self.dataset_options.get("storage_options"))

    def evaluate(self, model_name: str, dataset_name: str) -> Evaluation:
        """The evaluation of a pair: from memory, else through the engine (and its disk cache)."""
        key = (model_name, dataset_name)
        if key not in self._eval_cache:
            if self.models.get(model_name) is None:
                raise H5EvalError(
                    f"No evaluation of {model_name} on {dataset_name} was given, and there is no "
                    "model file to compute it; choose the dataset it was evaluated on."
                )
            if self.client is not None:
                src = self.datasets[dataset_name]
                X, y = (
                    (str(src), None)
                    if self._workers_read(src)
                    else arrays_to_send(self.get_dataset(dataset_name), dataset_name)
                )
                options = {k: v for k, v in self.dataset_options.items() if k != "name"}
                with self.working("predicting on the Dask cluster"):
                    self._eval_cache[key] = Evaluation.from_model(
                        self.models[model_name],
                        X,
                        y,
                        client=self.client,
                        progress=self.progress,
                        trust_code=self.trust_code,
                        dataset_name=dataset_name,
                        **options,
                    )
                return self._eval_cache[key]
            data = self.get_dataset(dataset_name)
            loaded = load_model(self.models[model_name], trust_code=self.trust_code, name=model_name)
            with self.working("predicting"):
                self._eval_cache[key] = Evaluation.from_model(
                    loaded, data, progress=self.progress, dataset_name=dataset_name
                )
        return self._eval_cache[key]

    def open(self, model_name: str, dataset_name: str) -> Evaluation:
        """Evaluate a pair and publish it as ``dataset`` and ``evaluation`` (errors propagate,
        and the last published results stay)."""
        ev = self.evaluate(model_name, dataset_name)
        data = self.get_dataset(dataset_name)
        self.pair = (model_name, dataset_name)
        self.slice_name = None
        self.dataset = data  # before the evaluation: views redraw on it and show samples
        background = self._rank_in_background(ev)
        self.ranking_ready = not background
        self.evaluation = ev
        said = "".join(f" · {n}" for n in ev.notes if n.startswith(BACKEND_NOTE)) or "."
        unseen = f" {self._unseen[dataset_name]}" if dataset_name in self._unseen else ""
        self.set_status(f"{model_name} on {dataset_name}: {ev.in_words()}{said}{unseen}")
        return ev

    @property
    def full_evaluation(self) -> Evaluation | None:
        """The current pair's evaluation over every sample (``evaluation`` may be a slice of it)."""
        return None if self.pair is None else self.evaluate(*self.pair)

    def filter(self, rows=None, name: str | None = None) -> Evaluation:
        """Publish the current pair restricted to some samples: ``evaluation`` becomes
        ``full_evaluation.subset(rows, name)`` and ``dataset`` the same rows, numbered from 0,
        so every view shows the slice; ``rows=None`` shows every sample again.

        Parameters
        ----------
        rows : array-like of int or bool, default=None
            Rows of the whole dataset (as :meth:`~h5eval_widgets.core.Evaluation.slices` gives them).
        name : str, default=None
            The slice's name, shown in the titles.
        """
        full = self.full_evaluation
        if full is None:
            raise H5EvalError("There is no evaluation to filter yet; choose a model and a dataset.")
        data = self.get_dataset(self.pair[1])
        if rows is None:
            ev = full
        else:
            ev = full.subset(rows, name)
            data = None if data is None else data.take(ev.source_rows)
        self.slice_name = ev.slice_name
        self.dataset = data
        self.evaluation = ev
        what = "every sample" if rows is None else f"the slice {ev.slice_name!r}"
        self.set_status(f"{self.pair[0]} on {self.pair[1]}: {ev.in_words()}, {what}.")
        return ev

    def _rank_in_background(self, ev: Evaluation) -> bool:
        """Sort a large evaluation's score columns in a thread, so that the first view (the
        matrix and its metrics) does not wait for them; ``ranking_ready`` turns True when done.
        Returns False (nothing started) for small or already ranked evaluations."""
        if not isinstance(ev, ClassEvaluation) or ev.ranking_ready or ev.y_proba.size < RANK_IN_BACKGROUND:
            return False

        def rank():
            with self.report_errors():
                ev.scores  # noqa: B018 - sorts each class's column once
            if self.evaluation is ev and not self.closing.is_set():
                self.ranking_ready = True

        self.run_in_background(rank, name="h5eval-ranking")
        return True

    # ------------------------------------------------------------------ saliency
    def saliency(self, indices, target="predicted", *, method: str = "gradcam"):
        """Saliency maps of samples of the current evaluation (see
        :meth:`~h5eval_widgets.core.results.SingleLabelEvaluation.saliency`), computed while
        ``busy`` and kept by the evaluation; errors propagate."""
        ev = self.evaluation
        if not hasattr(ev, "saliency"):
            raise H5EvalError("Saliency explains one class per sample: it is for binary and multi-class image models.")
        with self.working("computing saliency"):
            return ev.saliency(indices, target=target, method=method, progress=self.progress)

    # ------------------------------------------------------------------ tags
    def tags(self, ev: Evaluation | None = None) -> TagStore:
        """The tags of an evaluation's samples (default: the current one), kept on disk per
        (model, dataset), so that they are there again in a new kernel."""
        ev = self.evaluation if ev is None else ev
        if ev is None:
            raise H5EvalError("There is no evaluation yet, so no samples to tag; choose a model and a dataset.")
        if ev not in self._tag_stores and ev.source_rows is not None and self.pair is not None:
            # a slice: the tags of the whole dataset's samples it holds (a view of the whole
            # store: only the newest slice's is kept, or every slice shown would stay in memory)
            from .core.data.rows import TagsOfRows

            for old in [e for e in self._tag_stores if e.source_rows is not None]:
                del self._tag_stores[old]
            self._tag_stores[ev] = TagsOfRows(self.tags(self.full_evaluation), ev.source_rows)
        if ev not in self._tag_stores:  # by identity: results compare by identity
            store = self._tag_stores[ev] = TagStore.for_evaluation(ev, self.tags_dir)
            if store.unreadable:  # the samples are shown all the same, without tags
                self.set_status(store.unreadable, "error")
        return self._tag_stores[ev]

    # ------------------------------------------------------------------ samples as tables
    def samples(self, indices, *, y_pred=None, tagged: bool = False):
        """Samples of the current evaluation (``tagged=True``: every tagged sample instead) as a
        DataFrame, one row per sample in the order given: index, file, true, predicted (``y_pred``:
        decisions at another threshold), confidence, top classes, tags, then the features or the
        text (see :func:`~h5eval_widgets.core.metrics.queries.samples_frame`)."""
        if self.evaluation is None:
            raise ValueError("There is no evaluation yet; choose a model and a dataset first.")
        store = self.tags()
        idx = store.tagged() if tagged else indices
        return samples_frame(
            self.evaluation,
            self.dataset,
            np.zeros(0, dtype=np.int64) if idx is None else idx,
            y_pred=y_pred,
            tags=store,
        )

    def sorted_samples(self, indices, by: str, *, descending: bool = False, y_pred=None):
        """``indices`` ordered by the column ``by`` of :meth:`samples` (see
        :func:`~h5eval_widgets.core.metrics.queries.sort_samples`); the last order is kept, so
        that stepping through a sorted selection sorts it once."""
        # the selection and the results by identity (an id could be reused once one is freed);
        # decisions made again at one threshold are equal arrays
        last = self._last_order
        if not (
            last
            and last[0] is indices
            and last[1] is self.evaluation
            and last[3] == (by, descending)
            and (last[2] is y_pred or (last[2] is not None and y_pred is not None and np.array_equal(last[2], y_pred)))
        ):
            order = sort_samples(self.evaluation, self.dataset, indices, by, descending=descending, y_pred=y_pred)
            self._last_order = last = (indices, self.evaluation, y_pred, (by, descending), order)
        return last[4]

    def tag(self, i: int, text: str) -> None:
        """Tag sample ``i`` of the current evaluation (see :meth:`TagStore.add`)."""
        self.tags().add(i, text)
        self.tags_changed += 1

    def untag(self, i: int, text: str | None = None) -> None:
        """Take a tag (every tag when None) off sample ``i`` of the current evaluation."""
        self.tags().remove(i, text)
        self.tags_changed += 1

    def history(self, model_name: str):
        """The training history of a model (a DataFrame by epoch), or None when there is none."""
        if model_name not in self.histories:
            return None
        src = self.histories[model_name]
        if not hasattr(src, "columns"):
            src = self.histories[model_name] = load_history(src)
        return src

    # ------------------------------------------------------------------ comparisons
    def compare(self, other: str | None) -> Comparison | None:
        """Publish the current evaluation against model ``other`` on the same dataset as
        ``comparison`` (None: no comparison). Errors propagate, with ``comparison`` None."""
        if other is None or self.evaluation is None:
            self.comparison = None
            return None
        model_name, dataset_name = self.pair
        if other == model_name:
            self.comparison = None
            self.set_status("Choose a different model to compare with.")
            return None
        try:
            other_ev = self.evaluate(other, dataset_name)
            if self.evaluation.source_rows is not None:  # the same slice of the other model's results
                other_ev = other_ev.subset(self.evaluation.source_rows)
            self.comparison = Comparison(self.evaluation, other_ev)
        except Exception:
            self.comparison = None
            raise
        return self.comparison

    def split_report(self, model_name: str, *, tolerance: float = 0.05) -> SplitReport:
        """One model on every dataset, side by side (:func:`~h5eval_widgets.core.compare_splits`).

        The new evaluations are kept in memory. A model known only by its evaluations is
        reported on the datasets it was evaluated on.

        Parameters
        ----------
        model_name : str
        tolerance : float, default=0.05
            A train - test gap above this is flagged.
        """
        if self.models.get(model_name) is None:
            known = {
                d: self._eval_cache[(model_name, d)] for d in self.dataset_names if (model_name, d) in self._eval_cache
            }
            errors = {d: "no model file to evaluate it" for d in self.dataset_names if d not in known}
            return SplitReport.from_evaluations(known, errors=errors, tolerance=tolerance)
        splits, errors = {}, {}
        for d in self.dataset_names:
            try:
                data = self.get_dataset(d)
            except Exception as exc:  # noqa: BLE001 - a dataset that cannot be read is listed
                errors[d] = str(exc)
                continue
            if data is None:
                errors[d] = "its data was not given"
            else:
                splits[d] = data
        loaded = load_model(self.models[model_name], trust_code=self.trust_code, name=model_name)
        with self.working("predicting"):
            report = compare_splits(loaded, splits, tolerance=tolerance, progress=self.progress)
        report.errors.update(errors)
        for d, ev in report.evaluations.items():
            self._eval_cache.setdefault((model_name, d), ev)
        return report
