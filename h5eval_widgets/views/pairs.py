"""Most confused pairs and a class search: how to move around an evaluation with many classes."""

from __future__ import annotations

import ipywidgets as W

from ..core.insight.label_issues import HELD_OUT_WARNING
from ..state import EvalState
from ._base import View, guarded


class ConfusedPairsView(View):
    """A list of the most confused (true, predicted) pairs, a search box for the focus class,
    and the two lists of samples worth a look: the most confident mistakes and the samples
    whose label is likely wrong (cleanlab).

    Choosing a pair selects that cell; choosing a class makes it the focus class.
    """

    def __init__(self, state: EvalState, *, n_pairs: int = 15, **kwargs):
        self.n_pairs = n_pairs
        super().__init__(state, **kwargs)

    def build(self) -> list[W.Widget]:
        self.pairs = W.Select(options=[], rows=8, description="confused", layout=W.Layout(width="330px"))
        self.pairs.observe(self._on_pair, names="value")
        self.search = W.Combobox(
            placeholder="type a class name",
            description="find class",
            ensure_option=True,
            layout=W.Layout(width="330px"),
        )
        self.search.observe(self._on_search, names="value")
        self.mistakes_btn = W.Button(description="most confident mistakes", layout=W.Layout(width="190px"))
        self.issues_btn = W.Button(
            description="likely mislabelled", tooltip=HELD_OUT_WARNING, layout=W.Layout(width="140px")
        )
        self.mistakes_btn.on_click(lambda b: self._show(self._mistakes))
        self.issues_btn.on_click(lambda b: self._show(self._label_issues))
        self.issues_note = W.HTML(
            f"<small style='color:var(--jp-ui-font-color2, #666)'>{HELD_OUT_WARNING}</small>",
            layout=W.Layout(width="330px"),
        )
        return [self.search, self.pairs, W.HBox([self.mistakes_btn, self.issues_btn]), self.issues_note]

    def _label_issues(self) -> None:
        """The samples whose given label is likely wrong, likeliest first (see
        :meth:`~h5eval_widgets.core.results.SingleLabelEvaluation.label_issues`)."""
        idx = self.session.evaluation.label_issues()["index"].to_numpy()
        self.state.show_samples(idx, f"Likely mislabelled ({len(idx)})")

    def refresh(self) -> None:
        ev = self.shown_for("single_label")
        if ev is None:
            return
        df = ev.most_confused_pairs(self.n_pairs)
        index = {c: i for i, c in enumerate(ev.classes)}
        self.pairs.value = None
        self.pairs.options = [
            (f"{r.true} → {r.predicted}: {int(r['count'])}", (index[r.true], index[r.predicted]))
            for _, r in df.iterrows()
        ]
        self.search.options = list(ev.classes)

    @guarded
    def _show(self, action):
        action()

    def _mistakes(self):
        if self.state.selected_cell is None:
            self.state.show_default_samples()
        else:
            self.state.selected_cell = None  # which shows them

    @guarded
    def _on_pair(self, change):
        if change["new"] is not None:
            self.state.selected_cell = tuple(change["new"])

    @guarded
    def _on_search(self, change):
        ev = self.session.evaluation
        if ev is not None and change["new"] in ev.classes:
            self.state.focus_class = ev.classes.index(change["new"])
