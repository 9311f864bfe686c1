"""Comparison view: a second model on the same data, where the two disagree, and how much."""

from __future__ import annotations

import html

import ipywidgets as W
import numpy as np

from ..state import EvalState
from ._base import View, guarded


class ComparisonView(View):
    """A "compare with" dropdown; then the side-by-side metrics with paired intervals, McNemar's
    test, and a clickable agreement table whose cells show their samples."""

    def __init__(self, state: EvalState, **kwargs):
        super().__init__(state, **kwargs)
        self.other = W.Dropdown(description="compare with", options=[("—", None)])
        self.other.observe(self._on_other, names="value")
        self.cells = {(a, b): W.Button(layout=W.Layout(width="150px")) for a in (True, False) for b in (True, False)}
        for key, btn in self.cells.items():
            btn.on_click(lambda b, key=key: self._on_cell(*key))
        self.header_a = W.HTML()
        self.col_heads = [W.HTML(), W.HTML()]
        self.table = W.HTML()
        self.test = W.HTML()
        grid = W.GridBox(
            [W.HTML(""), *self.col_heads,
             W.HTML(), self.cells[(True, True)], self.cells[(True, False)],
             W.HTML(), self.cells[(False, True)], self.cells[(False, False)]],
            layout=W.Layout(grid_template_columns="140px 150px 150px"),
        )
        self.row_heads = [grid.children[3], grid.children[6]]
        self.body = W.VBox([grid, self.test, self.table])
        state.observe(self._on_comparison, names="comparison")
        state.observe(self._on_models, names="model_names")
        self.children = [self.other, self.body]
        self._on_models()
        self._render()

    def refresh(self) -> None:
        self._render()

    def _on_models(self, change=None):
        self.other.options = [("—", None)] + [(m, m) for m in self.state.model_names]

    @guarded
    def _on_other(self, change):
        self.state.compare_model = change["new"]

    @guarded
    def _on_comparison(self, change):
        self._render()

    @guarded
    def _on_cell(self, a_right: bool, b_right: bool):
        self.state.select_agreement(a_right, b_right)

    def _render(self) -> None:
        cmp_ = self.state.comparison
        if cmp_ is None:
            self.body.layout.display = "none"
            return
        self.body.layout.display = None
        na, nb = cmp_.names
        agree = cmp_.agreement()
        self.col_heads[0].value = f"<b>{html.escape(nb)}</b> right"
        self.col_heads[1].value = f"<b>{html.escape(nb)}</b> wrong"
        self.row_heads[0].value = f"<b>{html.escape(na)}</b> right"
        self.row_heads[1].value = f"<b>{html.escape(na)}</b> wrong"
        for (a, b), btn in self.cells.items():
            btn.description = str(int(agree.iloc[0 if a else 1, 0 if b else 1]))
            btn.button_style = "success" if a and b else ("danger" if not a and not b else "warning")
        m = cmp_.mcnemar()
        self.test.value = (
            f"McNemar's test: {m['only_a']} samples only {html.escape(na)} gets right, {m['only_b']} only "
            f"{html.escape(nb)}; exact p = {m['p_value_exact']:.3g} (χ² = {m['statistic']:.2f}, p = {m['p_value']:.3g})"
        )
        df = cmp_.metrics()
        rows = []
        for name, r in df.iterrows():
            ci = "" if np.isnan(r["low"]) else f"[{r['low']:+.3f}, {r['high']:+.3f}]"
            rows.append(f"<tr><td>{html.escape(name)}</td><td>{r[na]:.4f}</td><td>{r[nb]:.4f}</td>"
                        f"<td>{r['difference']:+.4f}</td><td style='color:#666'>{ci}</td></tr>")
        self.table.value = (
            "<table class='h5eval-comparison' style='font-size:12px'><tr><th>metric</th>"
            f"<th>{html.escape(na)}</th><th>{html.escape(nb)}</th><th>difference</th>"
            "<th>95% paired interval</th></tr>" + "".join(rows) + "</table>"
        )
