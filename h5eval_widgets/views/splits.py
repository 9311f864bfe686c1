"""Splits view: the chosen model on every dataset side by side, with a train-test gap check."""

from __future__ import annotations

import html

import ipywidgets as W

from ..core.results.compare import SplitReport
from ..state import EvalState
from ..core.results.names import fmt
from ._base import View, guarded
from ._draw import html_table

SHOWN = (
    "accuracy",
    "balanced_accuracy",
    "f1_macro",
    "cohen_kappa",
    "log_loss",
    "roc_auc",
    "roc_auc_ovr_macro",
    "rmse",
    "mae",
    "r2",
)


class SplitsView(View):
    """The chosen model's metrics on each dataset it fits (train, validation, test ...), from
    :func:`~h5eval_widgets.core.compare_splits` run by the session."""

    update_on = {"model_name": "_clear"}
    needs_evaluation = False

    def __init__(self, state: EvalState, *, tolerance: float = 0.05, **kwargs):
        self.tolerance = tolerance
        self.report: SplitReport | None = None
        super().__init__(state, **kwargs)

    def build(self) -> list[W.Widget]:
        self.run = W.Button(description="evaluate on every dataset", layout=W.Layout(width="220px"))
        self.run.on_click(lambda b: self.compute())
        self.table = W.HTML()
        self.verdict = W.HTML()
        return [self.run, self.verdict, self.table]

    def refresh(self) -> None:
        self.set_visible(len(self.session.dataset_names) > 1)

    def _clear(self):
        self.report = None
        self.table.value = self.verdict.value = ""

    @guarded
    def compute(self) -> SplitReport:
        self.report = rep = self.session.split_report(self.state.model_name, tolerance=self.tolerance)
        df = rep.metrics()
        rows = [[name] + [fmt(v) for v in df.loc[name]] for name in SHOWN if name in df.index]
        skipped = "".join(
            f"<div style='color:var(--jp-ui-font-color2, #666);font-size:11px'>{html.escape(d)}: not evaluated "
            f"({html.escape(e[:120])})</div>"
            for d, e in rep.errors.items()
        )
        self.table.value = (
            html_table(["metric", *map(html.escape, df.columns)], rows, css_class="h5eval-splits") + skipped
        )
        color = "#b00020" if rep.overfitting else "#333"
        self.verdict.value = f"<div style='color:{color}'>{html.escape(rep.summary())}</div>"
        return rep
