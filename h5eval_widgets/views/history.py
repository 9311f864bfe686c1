"""Training history view: loss and each metric per epoch, training and validation."""

from __future__ import annotations

import bqplot as bq
import ipywidgets as W
import numpy as np

from ._base import View
from ._draw import axes, figure


class HistoryView(View):
    """Per-epoch curves of the chosen model's training history, shown when one was given."""

    redraw_on = ("model_name",)
    needs_evaluation = False

    def build(self) -> list[W.Widget]:
        self.figures = W.HBox()
        self.note = W.HTML()
        return [self.note, self.figures]

    def refresh(self) -> None:
        df = self.session.history(self.state.model_name) if self.state.model_name else None
        if df is None:
            self.set_visible(False)
            self.figures.children = []
            return
        self.set_visible(True)
        bases = [c for c in df.columns if not c.startswith("val_")]
        figs = []
        for base in bases[:3]:
            xs, ys = bq.LinearScale(), bq.LinearScale()
            series = [df[base].to_numpy(dtype=float)]
            labels = ["training"]
            if f"val_{base}" in df.columns:
                series.append(df[f"val_{base}"].to_numpy(dtype=float))
                labels.append("validation")
            line = bq.Lines(x=np.asarray(df.index, dtype=float), y=np.vstack(series),
                            scales={"x": xs, "y": ys}, labels=labels, display_legend=True,
                            colors=["#1f77b4", "#ff7f0e"])
            figs.append(figure([line], axes(xs, ys, "epoch"), title=f"{base} per epoch", height=280,
                               margin={"left": 55}, legend_location="top-right"))
        self.figures.children = figs
        last = df.iloc[-1]
        parts = [f"{c} {last[c]:.4f}" for c in df.columns[:6]]
        self.note.value = f"<b>Training history</b> of {self.state.model_name}, last epoch: " + ", ".join(parts)
