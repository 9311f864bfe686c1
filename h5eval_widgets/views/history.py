"""Training history view: loss and each metric per epoch, training and validation."""

from __future__ import annotations

import bqplot as bq
import ipywidgets as W
import numpy as np

from ..state import EvalState
from ._base import View, guarded


class HistoryView(View):
    """Per-epoch curves of the chosen model's training history, shown when one was given."""

    def __init__(self, state: EvalState, **kwargs):
        super().__init__(state, **kwargs)
        self.figures = W.HBox()
        self.note = W.HTML()
        state.observe(self._on_model, names="model_name")
        self.children = [self.note, self.figures]
        self._render()

    def refresh(self) -> None:
        self._render()

    @guarded
    def _on_model(self, change):
        self._render()

    def _render(self) -> None:
        df = self.state.history()
        if df is None:
            self.layout.display = "none"
            self.figures.children = []
            return
        self.layout.display = None
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
            figs.append(bq.Figure(
                marks=[line], title=f"{base} per epoch",
                axes=[bq.Axis(scale=xs, label="epoch"), bq.Axis(scale=ys, orientation="vertical")],
                layout=W.Layout(width="330px", height="280px"), legend_location="top-right",
                fig_margin={"top": 40, "bottom": 45, "left": 55, "right": 10},
            ))
        self.figures.children = figs
        last = df.iloc[-1]
        parts = [f"{c} {last[c]:.4f}" for c in df.columns[:6]]
        self.note.value = f"<b>Training history</b> of {self.state.model_name}, last epoch: " + ", ".join(parts)
