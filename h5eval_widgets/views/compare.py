"""Comparison view: a second model on the same data, where the two disagree, and how much."""

from __future__ import annotations

import html

import ipywidgets as W
import numpy as np

from ..core.results.names import fmt
from ._base import View, guarded
from ._draw import html_table


class ComparisonView(View):
    """A "compare with" dropdown; then the side-by-side metrics with paired intervals, McNemar's
    test, and a clickable agreement table whose cells show their samples."""

    redraw_on = ("comparison",)
    update_on = {"model_names": "_on_models"}
    needs_evaluation = False

    def build(self) -> list[W.Widget]:
        self.other = W.Dropdown(description="compare with", options=[("—", None)])
        self.other.observe(self._on_other, names="value")
        self.cells = {(a, b): W.Button(layout=W.Layout(width="150px")) for a in (True, False) for b in (True, False)}
        for key, btn in self.cells.items():
            btn.on_click(lambda b, key=key: self._on_cell(*key))
        self.col_heads = [W.HTML(), W.HTML()]
        self.row_heads = [W.HTML(), W.HTML()]
        self.table = W.HTML()
        self.test = W.HTML()
        grid = W.GridBox(
            [
                W.HTML(""),
                *self.col_heads,
                self.row_heads[0],
                self.cells[(True, True)],
                self.cells[(True, False)],
                self.row_heads[1],
                self.cells[(False, True)],
                self.cells[(False, False)],
            ],
            layout=W.Layout(grid_template_columns="140px 150px 150px"),
        )
        self.body = W.VBox([grid, self.test, self.table])
        self._on_models()
        return [self.other, self.body]

    def _on_models(self) -> None:
        self.other.options = [("—", None)] + [(m, m) for m in self.session.model_names]

    @guarded
    def _on_other(self, change):
        self.state.compare_model = change["new"]

    @guarded
    def _on_cell(self, a_right: bool, b_right: bool):
        cmp_ = self.session.comparison
        idx = cmp_.agreement_indices(a_right, b_right)
        na, nb = cmp_.names
        self.state.show_samples(
            idx, f"{na} {'right' if a_right else 'wrong'}, {nb} {'right' if b_right else 'wrong'} ({len(idx)})"
        )

    def refresh(self) -> None:
        cmp_ = self.session.comparison
        if cmp_ is None:
            self.body.layout.display = "none"
            return
        self.body.layout.display = None
        na, nb = cmp_.names
        ea, eb = html.escape(na), html.escape(nb)
        agree = cmp_.agreement()
        self.col_heads[0].value, self.col_heads[1].value = f"<b>{eb}</b> right", f"<b>{eb}</b> wrong"
        self.row_heads[0].value, self.row_heads[1].value = f"<b>{ea}</b> right", f"<b>{ea}</b> wrong"
        for (a, b), btn in self.cells.items():
            btn.description = str(int(agree.iloc[0 if a else 1, 0 if b else 1]))
            btn.button_style = "success" if a and b else ("danger" if not a and not b else "warning")
        m = cmp_.mcnemar()
        self.test.value = (
            f"McNemar's test: {m['only_a']} samples only {ea} gets right, {m['only_b']} only "
            f"{eb}; exact p = {m['p_value_exact']:.3g} (χ² = {m['statistic']:.2f}, p = {m['p_value']:.3g})"
        )
        rows = [
            [
                html.escape(name),
                fmt(r[na]),
                fmt(r[nb]),
                f"{r['difference']:+.4f}",
                (
                    "" if np.isnan(r["low"]) else f"[{r['low']:+.3f}, {r['high']:+.3f}]",
                    "style='color:var(--jp-ui-font-color2, #666)'",
                ),
            ]
            for name, r in cmp_.metrics().iterrows()
        ]
        self.table.value = html_table(
            ["metric", ea, eb, "difference", "95% paired interval"], rows, css_class="h5eval-comparison"
        )
