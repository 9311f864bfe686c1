"""Splits view: the chosen model on every dataset side by side, with a train-test gap check."""

from __future__ import annotations

import html

import ipywidgets as W
import numpy as np

from ..core.compare import SplitReport
from ..state import EvalState
from ._base import View, guarded

SHOWN = ("accuracy", "balanced_accuracy", "f1_macro", "cohen_kappa", "log_loss", "roc_auc", "roc_auc_ovr_macro",
         "rmse", "mae", "r2")


class SplitsView(View):
    """The chosen model's metrics on each dataset it fits (train, validation, test ...)."""

    def __init__(self, state: EvalState, *, tolerance: float = 0.05, **kwargs):
        super().__init__(state, **kwargs)
        self.tolerance = tolerance
        self.run = W.Button(description="evaluate on every dataset", layout=W.Layout(width="220px"))
        self.run.on_click(lambda b: self.compute())
        self.table = W.HTML()
        self.verdict = W.HTML()
        self.report: SplitReport | None = None
        state.observe(lambda c: self._clear(), names="model_name")
        self.children = [self.run, self.verdict, self.table]
        self.layout.display = None if len(state.dataset_names) > 1 else "none"

    def refresh(self) -> None:
        self.layout.display = None if len(self.state.dataset_names) > 1 else "none"

    def _clear(self):
        self.report = None
        self.table.value = self.verdict.value = ""

    @guarded
    def compute(self) -> SplitReport:
        st = self.state
        evals, errors = {}, {}
        for d in st.dataset_names:
            try:
                evals[d] = st.evaluate(st.model_name, d)
            except Exception as exc:  # noqa: BLE001 - a dataset this model does not fit
                errors[d] = str(exc)
        self.report = SplitReport.from_evaluations(evals, errors=errors, tolerance=self.tolerance)
        df = self.report.metrics()
        rows = [r for r in SHOWN if r in df.index]
        head = "".join(f"<th>{html.escape(c)}</th>" for c in df.columns)
        body = "".join(
            f"<tr><td>{r}</td>" + "".join(
                f"<td>{'—' if np.isnan(v) else f'{v:.4f}'}</td>" for v in df.loc[r]) + "</tr>" for r in rows)
        skipped = "".join(f"<div style='color:#666;font-size:11px'>{html.escape(d)}: not evaluated "
                          f"({html.escape(e[:120])})</div>" for d, e in errors.items())
        self.table.value = (f"<table class='h5eval-splits' style='font-size:12px'><tr><th>metric</th>{head}</tr>"
                            f"{body}</table>{skipped}")
        color = "#b00020" if self.report.overfitting else "#333"
        self.verdict.value = f"<div style='color:{color}'>{html.escape(self.report.summary())}</div>"
        return self.report
