"""Summary panel: headline metrics with bootstrap intervals, and the static report export."""

from __future__ import annotations

import html
import re
from pathlib import Path

import ipywidgets as W
import numpy as np

from ..core.results.names import fmt, metric_name
from ..state import EvalState
from ._base import View, guarded
from ._clickable import ClickableHTML
from ._draw import html_table
from ._leakage import LeakageLine


class SummaryView(View):
    """Headline numbers (with 95% bootstrap intervals) and an "export report" button.

    Each metric's name is a button: pressing it (a click, or Enter) sets the state's
    ``explained_metric`` (pressing it again clears it), whose explanation the
    :class:`~h5eval_widgets.views.explanation.ExplanationView` shows.

    Parameters
    ----------
    state : EvalState
    export_dir : path-like, default="."
        Where exported reports are written (never over a model or data file: the name is
        ``h5eval-report-<model>-<dataset>.html``).
    n_boot : int, default=500
    """

    redraw_on = ("ranking_ready",)
    update_on = {"threshold": "_on_threshold", "explained_metric": "refresh", "training_dataset": "refresh"}

    def __init__(self, state: EvalState, *, export_dir=".", n_boot: int = 500, **kwargs):
        self.export_dir = Path(export_dir)
        self.n_boot = n_boot
        super().__init__(state, **kwargs)

    def build(self) -> list[W.Widget]:
        self.table = ClickableHTML()
        self.table.observe(self._on_press, names="pressed")
        self.export = W.Button(description="export HTML report", icon="download", layout=W.Layout(width="200px"))
        self.export.on_click(self._on_export)
        self.exported = W.HTML()
        self.leakage = LeakageLine(self.state)  # training near-duplicates, when a training set is there
        return [self.table, self.leakage.box, W.HBox([self.export, self.exported])]

    def refresh(self) -> None:
        st, ev = self.state, self.session.evaluation
        dec = st.decisions
        ready = self.session.ranking_ready  # else: the matrix's metrics now, the rest when sorted
        source = dec if dec is not None else ev
        scores = source.scores if ready else source.matrix_scores
        at_default = dec is None or dec.is_own
        ci = ev.bootstrap(self.n_boot) if at_default else None
        rows = []
        for name in ev.HEADLINE_METRICS:
            if name not in scores:
                if not ready:
                    rows.append(
                        [
                            html.escape(metric_name(name)),
                            ("computing…", "style='color:var(--jp-ui-font-color2, #666)'"),
                            "",
                        ]
                    )
                continue
            interval = ""
            if ci is not None and name in ci.index and not np.isnan(ci.loc[name, "low"]):
                interval = f"[{fmt(ci.loc[name, 'low'])}, {fmt(ci.loc[name, 'high'])}]"
            pressed = "true" if name == st.explained_metric else "false"
            rows.append(
                [
                    f"<button type='button' data-choice='{html.escape(name)}' aria-pressed='{pressed}' "
                    f"title='{html.escape(name)}: how it is made from the counts'>"
                    f"{html.escape(metric_name(name))}</button>",
                    (fmt(scores[name], missing="undefined"), f"class='h5eval-value' data-metric='{name}'"),
                    (interval, "style='color:var(--jp-ui-font-color2, #666)'"),
                ]
            )
        note = (
            ""
            if at_default
            else (
                f"<div style='color:var(--jp-ui-font-color2, #666);font-size:11px'>at threshold {st.threshold:.3f}; "
                "intervals are shown at the model's default threshold</div>"
            )
        )
        self.table.value = (
            f"<b>{html.escape(str(st.model_name))}</b> on <b>{html.escape(str(st.dataset_name))}</b> · "
            f"{ev.in_words()}"
            + html_table(["metric", "value", "95% interval"], rows, css_class="h5eval-summary", style="font-size:13px")
            + note
        )
        self.leakage.refresh()

    @guarded
    def _on_press(self, change) -> None:
        """A metric's button pressed: explain it, or stop explaining it when it was explained."""
        name = change["new"].get("choice")
        self.state.explained_metric = None if name == self.state.explained_metric else name

    def explain(self, metric: str) -> None:
        """Press ``metric``'s button as the browser would."""
        self.table.press(metric)

    def _on_threshold(self) -> None:
        if self.session.evaluation.positive_class is not None:
            self.refresh()

    def report_path(self) -> Path:
        safe = lambda s: re.sub(r"[^A-Za-z0-9_.-]+", "_", str(s))  # noqa: E731
        return self.export_dir / f"h5eval-report-{safe(self.state.model_name)}-{safe(self.state.dataset_name)}.html"

    @guarded
    def _on_export(self, button=None):
        path = self.report_path()
        sets = self.state.conformal()  # the Trust tab's sets, when a calibration is chosen
        leak = self.leakage.report  # the leakage line, when looked for
        html_page = self.session.evaluation.to_html(data=self.session.dataset, conformal=sets, leakage=leak)
        path.write_text(html_page, encoding="utf-8")
        self.exported.value = f"wrote <code>{html.escape(str(path))}</code>"
        self.session.set_status(f"Report written to {path}.")
