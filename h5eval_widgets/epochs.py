"""A session over training recorders: the evaluation shown is the chosen epoch's.

:class:`EpochSession` lists each :class:`~h5eval_widgets.core.training.TrainingRecorder` as a
model on its validation data and publishes the evaluation of the epoch in :attr:`epoch`; every
view follows it as it follows any new evaluation. While ``fit`` runs it follows the newest epoch
(when the newest was shown) as each one is recorded.
"""

from __future__ import annotations

import functools
from typing import Any, Mapping

import traitlets as T

from .core import Evaluation, H5EvalError
from .session import Session

__all__ = ["EpochSession"]


class EpochSession(Session):
    """Models that are training recorders (or evaluations), one dataset each: their validation data.

    Parameters
    ----------
    recorders : mapping of str to TrainingRecorder
        Listed under these names as models.
    **kwargs
        As for :class:`~h5eval_widgets.session.Session` (``progress``, ``tags_dir``...).
    """

    epoch = T.Int(None, allow_none=True, help="The recorded epoch shown (None: the newest).")
    epochs = T.List(T.Int(), help="The recorded epochs of the model shown.")

    def __init__(self, recorders: Mapping[str, Any], **kwargs):
        self.recorders = dict(recorders)
        datasets = {rec.data.name: rec.data for rec in self.recorders.values()}
        super().__init__({name: None for name in self.recorders}, datasets, **kwargs)
        self._listeners = {}
        for name, rec in self.recorders.items():
            self._listeners[name] = listener = functools.partial(self._recorded, name)
            rec.add_listener(listener)
        first = next(iter(self.recorders.values()), None)
        self.epochs = [] if first is None else list(first.epochs)

    def default_dataset(self, model_name: str) -> str:
        rec = self.recorders.get(model_name)
        return super().default_dataset(model_name) if rec is None else rec.data.name

    def evaluate(self, model_name: str, dataset_name: str) -> Evaluation:
        """The evaluation of the shown epoch (:attr:`epoch`, else the newest recorded)."""
        rec = self.recorders.get(model_name)
        if rec is None:
            return super().evaluate(model_name, dataset_name)
        if dataset_name != rec.data.name:
            raise H5EvalError(
                f"{model_name} records its epochs on {rec.data.name!r}, not on {dataset_name!r}; choose that dataset."
            )
        if not rec.epochs:
            raise H5EvalError(f"{model_name}: no epoch has been recorded yet; each one is shown here when it ends.")
        return rec.evaluation(self.epoch if self.epoch in rec.epochs else None)

    def open(self, model_name: str, dataset_name: str) -> Evaluation:
        rec = self.recorders.get(model_name)
        if rec is not None:
            self.epochs = list(rec.epochs)
        ev = super().open(model_name, dataset_name)
        if self.shown_epoch is not None:  # the status says which epoch the views show
            self.set_status(f"{self.status.rstrip('.')} · epoch {self.shown_epoch} of {len(self.epochs)}.")
        return ev

    @property
    def shown_epoch(self) -> int | None:
        """The epoch the published evaluation belongs to (None: not a recorder's)."""
        rec = None if self.pair is None else self.recorders.get(self.pair[0])
        if rec is None or not rec.epochs:
            return None
        return self.epoch if self.epoch in rec.epochs else rec.epochs[-1]

    def history(self, model_name: str):
        """A recorder's Keras logs per recorded epoch (``loss``, ``accuracy``, ``val_loss``...,
        the layout of ``model.fit``'s History), else the given history; None when there is none."""
        rec = self.recorders.get(model_name)
        if rec is None:
            return super().history(model_name)
        logs = {e: rec.logs[e] for e in rec.epochs if rec.logs.get(e)}
        if not logs:
            return None
        from .core._lazy import pd

        df = pd.DataFrame.from_dict(logs, orient="index").rename_axis("epoch")
        return df[sorted(df.columns, key=lambda c: c.removeprefix("val_") != "loss")]  # the loss first

    def cartography(self):
        """The shown recorder's :meth:`~h5eval_widgets.core.training.TrainingRecorder.cartography`
        (None: no recorder shown, a slice shown, or a model with no single true class)."""
        rec = None if self.pair is None else self.recorders.get(self.pair[0])
        if rec is None or not rec.epochs or self.slice_name is not None:
            return None
        try:
            return rec.cartography()
        except H5EvalError:
            return None

    @T.observe("epoch")
    def _on_epoch(self, change) -> None:
        pair = self.pair
        if pair is None:  # built before the first epoch ended: open the first recorder's data
            name = next(iter(self.recorders), None)
            pair = None if name is None else (name, self.recorders[name].data.name)
        if pair is not None and pair[0] in self.recorders:
            self.keeps_selection = self.pair == pair
            try:
                with self.report_errors():
                    self.open(*pair)
            finally:
                self.keeps_selection = False

    def _recorded(self, name: str, epoch: int) -> None:
        """A recorder kept a new epoch: list it, and show it when the newest was shown."""
        if self.closing.is_set() or (self.pair is not None and self.pair[0] != name):
            return
        newest_shown = self.epoch is None or not self.epochs or self.epoch == self.epochs[-1]
        self.epochs = list(self.recorders[name].epochs)
        if newest_shown:
            if self.epoch == epoch:  # recorded again (same number): publish it anew
                self._on_epoch(None)
            else:
                self.epoch = epoch

    def close(self, timeout: float | None = 60.0) -> None:
        """Stop following the recorders, then close as a :class:`Session` does."""
        for name, listener in self._listeners.items():
            self.recorders[name].remove_listener(listener)
        self._listeners.clear()
        super().close(timeout)
