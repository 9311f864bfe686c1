"""Training history view: loss and each metric per epoch, training and validation."""

from __future__ import annotations

import bqplot as bq
import ipywidgets as W
import numpy as np

from ..core.results.palette import NEUTRAL, SERIES
from ..core.results.names import fmt
from ._a11y import described
from ._base import View
from ._draw import axes, figure

#: Quantities drawn at most (loss and the first metrics), one figure each.
MAX_FIGURES = 3


class HistoryView(View):
    """Per-epoch curves of the chosen model's training history, shown when one was given: a
    Keras History, or a training recorder's logs (then redrawn as each epoch ends, with a
    dashed rule at the epoch the dashboard shows).

    Its figures (one per quantity, at most :data:`MAX_FIGURES`) are made once and drawn again
    for each model (new figures per model switch would each stay alive, with their marks, axes
    and scales, in the kernel and in the browser)."""

    redraw_on = ("model_name",)
    needs_evaluation = False

    def __init__(self, state, **kwargs):
        super().__init__(state, **kwargs)
        if self.session.has_trait("epochs"):  # a training dashboard: each epoch's logs as it ends
            self._watch("epochs", self.refresh)

    def build(self) -> list[W.Widget]:
        self.figures = W.HBox()
        self.note = W.HTML()
        self._pool: list[tuple] = []  # (figure, lines), made as histories first need them
        self._boxes: dict = {}  # each figure with its numbers (see _described)
        return [self.note, self.figures]

    def _figure(self, n: int):
        while len(self._pool) <= n:
            xs, ys = bq.LinearScale(), bq.LinearScale()
            line = bq.Lines(
                x=np.zeros(1),
                y=np.zeros(1),
                scales={"x": xs, "y": ys},
                display_legend=True,
                colors=list(SERIES[:2]),
            )
            rule = bq.Lines(
                x=np.zeros(2), y=np.zeros(2), scales={"x": xs, "y": ys}, colors=[NEUTRAL], line_style="dashed"
            )
            self._pool.append(
                (
                    figure(
                        [line, rule],
                        axes(xs, ys, "epoch", x_format="d"),
                        height=280,
                        margin={"left": 55},
                        legend_location="top-right",
                    ),
                    line,
                    rule,
                )
            )
        return self._pool[n]

    def _described(self, fig: bq.Figure) -> W.VBox:
        """``fig`` with its numbers for a screen reader (see :func:`described`), made once."""
        if fig.model_id not in self._boxes:
            self._boxes[fig.model_id] = described(fig, marks=[fig.marks[0]])
        return self._boxes[fig.model_id]

    def refresh(self) -> None:
        df = self.session.history(self.state.model_name) if self.state.model_name else None
        if df is None:
            self.set_visible(False)
            self.figures.children = []
            return
        self.set_visible(True)
        bases = [c for c in df.columns if not c.startswith("val_")]
        shown = getattr(self.session, "shown_epoch", None)  # a training dashboard's chosen epoch
        figs = []
        for n, base in enumerate(bases[:MAX_FIGURES]):
            fig, line, rule = self._figure(n)
            series = [df[base].to_numpy(dtype=float)]
            labels = ["training"]
            if f"val_{base}" in df.columns:
                series.append(df[f"val_{base}"].to_numpy(dtype=float))
                labels.append("validation")
            with line.hold_sync():
                line.x = np.asarray(df.index, dtype=float)
                line.y = np.vstack(series)
                line.labels = labels
            values = np.concatenate(series)
            values = values[np.isfinite(values)]
            with rule.hold_sync():
                marked = shown is not None and shown in df.index
                rule.x = np.full(2, float(shown) if marked else 0.0)
                rule.y = np.array([values.min(), values.max()]) if len(values) else np.zeros(2)
                rule.visible = bool(marked)
            epochs = np.asarray(df.index, dtype=float)
            fig.axes[0].tick_values = epochs if len(epochs) <= 12 else None  # whole epochs only
            fig.title = f"{base} per epoch"
            figs.append(self._described(fig))
        self.figures.children = figs
        last = df.iloc[-1]
        parts = [f"{c} {fmt(last[c])}" for c in df.columns[:6]]
        marked = f" · dashed: epoch {shown}, the epoch shown" if shown is not None and shown in df.index else ""
        self.note.value = (
            f"<b>Training history</b> of {self.state.model_name}, last epoch: " + ", ".join(parts) + marked
        )
