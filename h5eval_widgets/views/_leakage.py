"""The summary's leakage line: how many test samples have a near-duplicate in the training set,
and the headline metrics without them; a button lists them in the samples view. Looked for when
asked (its button), as it costs a search of the training set (see
:mod:`h5eval_widgets.training_sets`)."""

from __future__ import annotations

import html

import ipywidgets as W

from ..core.results.names import fmt, metric_name
from ..training_sets import training_results


def leakage_words(report, name: str) -> str:
    """The line in words: ``'3 of 1,000 test samples have a near-duplicate in digits_train
    (distance < 0.707); without them: accuracy 0.975 (all 0.976), ...'``."""
    dups, n = report.attrs["duplicates"], report.attrs["n_all"]
    head = (
        f"{len(dups):,} of {n:,} test samples have a near-duplicate in {name} "
        f"(distance &lt; {report.attrs['duplicates'].attrs['threshold']:.3g} in the model's embedding)"
    )
    if not len(dups):
        return head + "."
    parts = [f"{html.escape(metric_name(m))} {fmt(r['without'])} (all {fmt(r['all'])})" for m, r in report.iterrows()]
    return f"{head}; without them: " + ", ".join(parts) + "."


class LeakageLine:
    """The leakage line under the summary's table (made once; :meth:`refresh` on a new evaluation).

    Parameters
    ----------
    state : EvalState
    """

    def __init__(self, state):
        self.state = state
        self.session = state.session
        self.check = W.Button(
            description="check for training near-duplicates",
            icon="search",
            tooltip="look for test samples that have a near-copy in the training set (a search of its embedding)",
            layout=W.Layout(width="280px"),
        )
        self.check.on_click(lambda b: self.run())
        self.line = W.HTML()
        self.show_btn = W.Button(description="show them", icon="list", layout=W.Layout(width="140px"))
        self.show_btn.on_click(lambda b: self.show())
        self.box = W.HBox([], layout=W.Layout(align_items="center", flex_flow="row wrap", display="none"))
        self.box.add_class("h5eval-leakage")
        #: The leakage report shown (``ev.leakage_report``), or None.
        self.report = None

    def _name(self) -> str | None:
        return training_results(self.session).training_name(self.state.training_dataset)

    def refresh(self) -> None:
        """Show the button (or the line, when already looked for) when there is a training set."""
        self.report, name = None, self._name()
        if name is None:
            self.box.layout.display = "none"
            return
        with self.session.report_errors():
            self.report = training_results(self.session).leakage(name, compute=False)
        self._draw(name)

    def run(self) -> None:
        """Look for the near-duplicates (the check button)."""
        name = self._name()
        if name is None:
            return
        with self.session.report_errors():
            self.report = training_results(self.session).leakage(name)
        self._draw(name)

    def _draw(self, name: str) -> None:
        self.check.description = f"check for near-duplicates in {name}"
        if self.report is None:
            self.box.children = [self.check]
        else:
            n = len(self.report.attrs["duplicates"])
            self.line.value = f"<div style='font-size:12px'><b>Leakage:</b> {leakage_words(self.report, name)}</div>"
            self.show_btn.description = f"show the {n:,}"
            self.show_btn.tooltip = f"list the {n:,} test samples with a training near-duplicate"
            self.box.children = [self.line, self.show_btn] if n else [self.line]
        self.box.layout.display = None

    def show(self) -> None:
        """List the test samples that have a training near-duplicate (nearest first) in the samples view."""
        if self.report is None:
            return
        dups = self.report.attrs["duplicates"]
        self.state.show_samples(dups["test_index"].to_numpy(), "test samples with a training near-duplicate")
