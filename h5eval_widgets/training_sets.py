"""The dashboard's look at the training data: a sample's nearest training samples ("details")
and the test samples that have a near-duplicate in training (the summary's leakage line).

The training set is another of the session's datasets, evaluated by the current model through the
session's cache: the one the state's ``training_dataset`` names, else the first whose name says
it is training data (:func:`~h5eval_widgets.trust_sets.looks_like_training`) and whose inputs have
the current dataset's shape. One :class:`TrainingResults` per session (:func:`training_results`);
the work is done when asked (a sample's details opened, the leakage line's button pressed), with
the session's status saying so, and kept per evaluation.
"""

from __future__ import annotations

import weakref

import numpy as np

from .core import Evaluation, H5EvalError
from .session import Session
from .trust_sets import looks_like_training

__all__ = ["K_NEIGHBOURS", "TrainingResults", "training_results"]

#: How many training samples "details" shows.
K_NEIGHBOURS = 5


class TrainingResults:
    """Nearest training samples and the leakage report of a session's current evaluation.

    Parameters
    ----------
    session : Session

    Attributes
    ----------
    threshold : float or None
        The near-duplicate distance (None: the engine's default, see
        :meth:`~h5eval_widgets.core.Evaluation.near_duplicates`).
    n_boot : int
        Bootstrap resamples of the leakage report's intervals.
    """

    def __init__(self, session: Session):
        self.session = session
        self.threshold: float | None = None
        self.n_boot = 500
        self._kept: "weakref.WeakKeyDictionary[Evaluation, dict]" = weakref.WeakKeyDictionary()

    def training_name(self, chosen: str | None = None) -> str | None:
        """The training set's dataset name: ``chosen`` (the state's ``training_dataset``) when
        given, else the first other dataset named like training data with the current inputs'
        shape; None when there is none (or no evaluation with embeddings)."""
        pair, here, ev = self.session.pair, self.session.dataset, self.session.evaluation
        if pair is None or ev is None or ev.embeddings is None:
            return None
        if chosen is not None:
            return chosen if chosen != pair[1] else None
        shape = None if here is None else np.shape(here.X)[1:]
        for name in self.session.dataset_names:
            if name == pair[1] or not looks_like_training(name):
                continue
            try:
                data = self.session.get_dataset(name)
            except Exception:  # noqa: BLE001 - a dataset that cannot be read is not offered
                continue
            if data is not None and (shape is None or np.shape(data.X)[1:] == shape):
                return name
        return None

    def training(self, name: str) -> Evaluation:
        """The current model's evaluation of dataset ``name`` (through the session's cache)."""
        pair = self.session.pair
        if pair is None:
            raise H5EvalError("There is no evaluation yet; choose a model and a dataset first.")
        if name not in self.session.dataset_names:
            raise H5EvalError(f"No dataset is named {name!r}; choose one of {self.session.dataset_names}.")
        with self.session.working(f"evaluating {pair[0]} on {name}"):
            return self.session.evaluate(pair[0], name)

    def _entry(self, name: str) -> dict:
        ev = self.session.evaluation
        if ev is None:
            raise H5EvalError("There is no evaluation yet; choose a model and a dataset first.")
        return self._kept.setdefault(ev, {}).setdefault(name, {})

    def nearest(self, i: int, name: str, k: int = K_NEIGHBOURS):
        """Sample ``i``'s ``k`` nearest training samples in ``name`` (``ev.nearest_training``)."""
        entry = self._entry(name).setdefault("nearest", {})
        if (i, k) not in entry:
            train = self.training(name)
            with self.session.working("finding the nearest training samples"):
                entry[(i, k)] = self.session.evaluation.nearest_training([i], train, k=k)
        return entry[(i, k)]

    def leakage(self, name: str, *, compute: bool = True):
        """The current evaluation's ``leakage_report`` against ``name`` at :attr:`threshold`
        (its ``attrs['duplicates']`` lists the near-duplicates), or None when not computed yet
        and ``compute`` is False."""
        entry = self._entry(name).setdefault("leakage", {})
        key = (self.threshold, self.n_boot)
        if key not in entry:
            if not compute:
                return None
            train = self.training(name)
            with self.session.working(f"looking for near-duplicates of {name} samples"):
                entry[key] = self.session.evaluation.leakage_report(train, threshold=self.threshold, n_boot=self.n_boot)
        return entry[key]


_RESULTS: "weakref.WeakKeyDictionary[Session, TrainingResults]" = weakref.WeakKeyDictionary()


def training_results(session: Session) -> TrainingResults:
    """The session's :class:`TrainingResults` (made once)."""
    if session not in _RESULTS:
        _RESULTS[session] = TrainingResults(session)
    return _RESULTS[session]
