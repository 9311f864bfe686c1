"""The Trust tab's results: conformal sets and temperature scaling of the session's evaluation,
calibrated on another dataset (evaluated by the same model through the session's cache) or on a
seeded half of the test set, kept per evaluation so that moving ``alpha`` recomputes nothing
but the sets.

One :class:`TrustResults` per session (:func:`trust_results`); the state asks it for the
current choice (:meth:`EvalState.conformal <h5eval_widgets.state.EvalState.conformal>`).
"""

from __future__ import annotations

import re
import weakref

import numpy as np

from .core import Evaluation, H5EvalError
from .core.results import ConformalResult
from .session import Session

__all__ = ["SPLIT", "SPLIT_FRACTION", "TrustResults", "looks_like_training", "positions", "set_line", "trust_results"]

#: The calibration choice "split this test set": a seeded random half calibrates, the rest gets sets.
SPLIT = "split"
#: The fraction of the test set the split calibrates on.
SPLIT_FRACTION = 0.5


def looks_like_training(name: str) -> bool:
    """Whether a dataset's name says it is training data (``digits_train``, ``train-set``...)."""
    return "train" in re.split(r"[^a-z]+", name.lower())


class TrustResults:
    """Conformal sets and temperature-scaled evaluations of a session's current evaluation.

    Parameters
    ----------
    session : Session

    Notes
    -----
    Results are kept per evaluation (by identity, dropped with it) and per calibration choice;
    a :class:`~h5eval_widgets.core.results.ConformalResult` is made once and its ``alpha`` set,
    which moves a threshold over sorted calibration scores.
    """

    def __init__(self, session: Session):
        self.session = session
        self._kept: "weakref.WeakKeyDictionary[Evaluation, dict]" = weakref.WeakKeyDictionary()

    def choices(self) -> list[tuple[str, str]]:
        """``(label, value)`` of the calibration sets to choose from: the split of this test
        set, then the session's other datasets whose inputs have the current dataset's shape
        (their classes are checked when chosen); training data is labelled as not exchangeable."""
        out = [(f"split {SPLIT_FRACTION:.0%} of this test set (held out, seeded)", SPLIT)]
        pair, here = self.session.pair, self.session.dataset
        if pair is None:
            return out
        shape = None if here is None else np.shape(here.X)[1:]
        for name in self.session.dataset_names:
            if name == pair[1]:
                continue
            try:
                data = self.session.get_dataset(name)
            except Exception:  # noqa: BLE001 - a dataset that cannot be read is not offered
                continue
            if data is not None and shape is not None and np.shape(data.X)[1:] != shape:
                continue
            note = " (training data: not exchangeable with the test set)" if looks_like_training(name) else ""
            out.append((f"{name}{note}", name))
        return out

    def calibration(self, choice: str) -> Evaluation | float:
        """What ``ev.conformal`` is given for ``choice``: the same model's evaluation of that
        dataset, or :data:`SPLIT_FRACTION`."""
        if choice == SPLIT:
            return SPLIT_FRACTION
        pair = self.session.pair
        if pair is None:
            raise H5EvalError("There is no evaluation yet; choose a model and a dataset first.")
        if choice == pair[1]:
            raise H5EvalError(
                f"{choice} is the test set itself: calibrating on the samples the sets are judged on "
                "breaks the guarantee; choose another held-out dataset or the split."
            )
        if choice not in self.session.dataset_names:
            raise H5EvalError(
                f"No dataset is named {choice!r}; choose one of {self.session.dataset_names} or {SPLIT!r}."
            )
        return self.session.evaluate(pair[0], choice)

    def _entry(self, choice: str) -> dict:
        ev = self.session.evaluation
        if ev is None:
            raise H5EvalError("There is no evaluation yet; choose a model and a dataset first.")
        return self._kept.setdefault(ev, {}).setdefault(choice, {})

    def conformal(self, choice: str, alpha: float) -> ConformalResult:
        """The current evaluation's conformal sets (LAC) calibrated on ``choice``, at ``alpha``."""
        entry = self._entry(choice)
        if "conformal" not in entry:
            ev = self.session.evaluation
            with self.session.working("calibrating conformal sets"):
                entry["conformal"] = ev.conformal(self.calibration(choice), alpha=alpha)
            if looks_like_training(choice):
                res = entry["conformal"]
                res.notes = (
                    *res.notes,
                    f"{choice} is training data: the model has fitted it, so its scores are lower "
                    "than on new data and the sets too small (not exchangeable with the test set).",
                )
        res = entry["conformal"]
        res.alpha = alpha
        return res

    def scaled(self, choice: str) -> Evaluation:
        """The evaluated samples (the split's other half for :data:`SPLIT`) with temperature-scaled
        probabilities fitted on ``choice`` (``.temperature``, ``.calibration_change``)."""
        entry = self._entry(choice)
        if "scaled" not in entry:
            with self.session.working("fitting a temperature"):
                entry["scaled"] = self.session.evaluation.temperature_scaled(self.calibration(choice))
        return entry["scaled"]


def positions(res: ConformalResult, indices) -> np.ndarray:
    """Indices into ``res.evaluation`` as positions in the evaluation ``conformal`` was called
    on (``res.rows`` after a split)."""
    idx = np.asarray(indices, dtype=np.int64)
    return idx if res.rows is None else np.asarray(res.rows, dtype=np.int64)[idx]


def set_line(res: ConformalResult, i: int) -> str:
    """Sample ``i``'s (a position in the evaluation ``conformal`` was called on) set, as
    ``'set {3, 8}'``, or ``'calibration sample'`` when the split calibrated on it."""
    if res.rows is None:
        return f"set {res.set_labels([i])[0]}"
    rows = np.asarray(res.rows)
    at = int(np.searchsorted(rows, i))
    if at < len(rows) and rows[at] == i:
        return f"set {res.set_labels([at])[0]}"
    return "calibration sample (no set)"


_RESULTS: "weakref.WeakKeyDictionary[Session, TrustResults]" = weakref.WeakKeyDictionary()


def trust_results(session: Session) -> TrustResults:
    """The session's :class:`TrustResults` (made once)."""
    if session not in _RESULTS:
        _RESULTS[session] = TrustResults(session)
    return _RESULTS[session]
