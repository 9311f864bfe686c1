"""Trust view: conformal prediction sets against a chosen calibration set (coverage per class
against the target, set sizes, each linked to its samples) and temperature scaling's
reliability diagram beside the original one."""

from __future__ import annotations

import html

import bqplot as bq
import ipywidgets as W
import numpy as np

from ..core.results.names import fmt
from ..core.results.palette import NEUTRAL, SERIES
from ..trust_sets import positions, trust_results
from ._a11y import ChartNumbers
from ._base import View, guarded, set_visible
from ._draw import axes, figure, html_table
from ._reliability import draw_reliability, reliability_figure

#: Shown until a calibration set is chosen.
INTRO = (
    "<b>Which predictions to trust.</b> Conformal prediction turns the model's probabilities into a "
    "<i>set</i> of classes per sample that holds the true class at least 1 - alpha of the time, "
    "<i>if</i> the calibration samples and the test samples are exchangeable (drawn the same way). "
    "Choose a calibration set: held-out data the model was not trained on (the split of this test "
    "set is the honest choice when there is none). See docs/trust.md."
)


class TrustView(View):
    """Conformal sets (LAC) of the current evaluation against ``state.calibration`` at
    ``state.alpha``.

    A click on a class's coverage bar shows its uncovered samples (the set misses the true
    class), a click on a size bar the samples whose sets have that size; the cards show each
    sample's set (``state.card_line``). Beside the reliability diagram, the same samples'
    temperature-scaled one.
    """

    redraw_on = ("calibration",)
    update_on = {"alpha": "_on_alpha", "dataset_names": "_fill_choices"}
    lazy = True

    def __init__(self, state, *, n_bins: int = 10, **kwargs):
        self.n_bins = n_bins
        self.classes_shown = np.arange(0)
        #: The last bar clicked, ``(mark, index)``, and the samples it showed (shown again at a new alpha).
        self._clicked: tuple | None = None
        super().__init__(state, **kwargs)

    def build(self) -> list[W.Widget]:
        self.intro = W.HTML(INTRO)
        self.choice = W.Dropdown(
            options=[("none", None)],
            description="calibration",
            style={"description_width": "initial"},
            layout=W.Layout(width="460px"),
        )
        self._syncing = False
        self.choice.observe(self._on_choice, names="value")
        self.alpha = W.FloatSlider(
            value=self.state.alpha,
            min=0.005,
            max=0.3,
            step=0.005,
            description="alpha",
            readout_format=".3f",
            tooltip="the error rate allowed: the sets' coverage target is 1 - alpha",
            layout=W.Layout(width="360px"),
        )
        self.link((self.alpha, "value"), (self.state, "alpha"))
        self.message = W.HTML()
        self.summary = W.HTML()
        # the bars' clicks from the keyboard: each class's uncovered samples, each size's samples
        self.pick = W.Dropdown(
            options=[("choose", None)],
            description="show samples",
            style={"description_width": "initial"},
            layout=W.Layout(width="360px"),
        )
        self.pick.observe(self._on_pick, names="value")

        cx, cy = bq.OrdinalScale(), bq.LinearScale(min=0.0, max=1.0)
        self.coverage_bars = bq.Bars(x=[], y=[], scales={"x": cx, "y": cy}, colors=[SERIES[0]], labels=["coverage"])
        self.target_line = bq.Lines(
            x=[0.0, 1.0],
            y=[0.9, 0.9],
            scales={"x": bq.LinearScale(min=0.0, max=1.0), "y": cy},
            colors=[SERIES[5]],
            line_style="dashed",
            labels=["target 1 - alpha"],
        )
        self.on_click(self.coverage_bars, self._on_class_click)
        self.coverage_fig = figure(
            [self.coverage_bars, self.target_line],
            axes(cx, cy, "true class", "coverage", y_format=".0%"),
            title="Coverage per class",
            width=480,
        )
        sx, sy = bq.OrdinalScale(), bq.LinearScale(min=0.0)
        self.size_bars = bq.Bars(x=[], y=[], scales={"x": sx, "y": sy}, colors=[SERIES[2]], labels=["samples"])
        self.on_click(self.size_bars, self._on_size_click)
        self.size_fig = figure([self.size_bars], axes(sx, sy, "set size", "samples"), title="Set sizes", width=360)

        self.before_fig, self.before_curve = reliability_figure("Reliability", width=360)
        self.after_fig, self.after_curve = reliability_figure("Scaled", color=SERIES[2], width=360)
        self.change = W.HTML()
        self.body_children = [
            self.alpha,
            self.summary,
            self.pick,
            W.HBox(
                _described((self.coverage_fig, self.coverage_bars), (self.size_fig, self.size_bars)),
                layout=W.Layout(flex_flow="row wrap"),
            ),
            W.HBox(
                _described((self.before_fig, self.before_curve), (self.after_fig, self.after_curve)),
                layout=W.Layout(flex_flow="row wrap"),
            ),
            self.change,
        ]
        self.body = W.VBox()
        return [self.intro, self.choice, self.message, self.body]

    # ------------------------------------------------------------------ drawing
    def refresh(self) -> None:
        ev = self.session.evaluation
        self._fill_choices()
        if not ev.single_label:
            what = "regression" if ev.is_regression else ev.task
            self.message.value = (
                f"<i>The Trust tab draws conformal sets of single-label classifiers; this is a {html.escape(what)} "
                "evaluation. In code: ev.conformal(calibration, alpha) (intervals for regression; see docs/trust.md).</i>"
            )
            set_visible(self.body, False, self.body_children)
            return
        if self.state.calibration is None:
            self.message.value = ""
            set_visible(self.body, False, self.body_children)
            return
        if not self._draw_sets():
            return
        scaled = trust_results(self.session).scaled(self.state.calibration)
        res = self.state.conformal()
        draw_reliability(self.before_fig, self.before_curve, res.evaluation, self.n_bins, "Reliability")
        draw_reliability(self.after_fig, self.after_curve, scaled, self.n_bins, f"Scaled, T = {scaled.temperature:.3g}")
        table = scaled.calibration_change
        self.change.value = "<b>Temperature scaling</b>, on the same samples" + html_table(
            ["metric", "before", "after"],
            [[html.escape(str(m)), fmt(r["before"]), fmt(r["after"])] for m, r in table.iterrows()],
            css_class="h5eval-temperature",
        )

    def _fill_choices(self) -> None:
        """The dropdown's options (the session's datasets) and its value (the state's choice)."""
        if self.session.evaluation is None:
            return
        options = [("none", None), *trust_results(self.session).choices()]
        self._syncing = True  # the box follows the state here; only the user's choice writes back
        try:
            if list(self.choice.options) != options:
                self.choice.options = options
            chosen = self.state.calibration
            self.choice.value = chosen if chosen in [v for _, v in options] else None
        finally:
            self._syncing = False

    def _draw_sets(self) -> bool:
        """Draw the sets at the state's ``alpha``: the summary, coverage per class against the
        target, the set sizes. False (with the reason shown) when there are none."""
        try:
            res = self.state.conformal()
        except Exception as exc:  # noqa: BLE001 - said in the tab, whose choices stay
            self.message.value = f"<span class='h5eval-error'>{html.escape(str(exc))}</span>"
            set_visible(self.body, False, self.body_children)
            return False
        if res is None:
            return False
        self.message.value = "".join(f"<div style='font-size:12px'>{html.escape(n)}</div>" for n in res.notes)
        set_visible(self.body, True, self.body_children)
        ev = res.evaluation
        per_class = res.per_class
        self.classes_shown = np.flatnonzero(per_class["n"].to_numpy() > 0)
        self.summary.value = self.sliced(
            f"Coverage <b>{res.coverage:.1%}</b> against a target of {res.target:.0%} (alpha = {res.alpha:g}) · mean "
            f"set size {res.mean_set_size:.2f} · {res.singleton_rate:.1%} single-class sets, {res.empty_rate:.1%} "
            f"empty · {res.n_samples:,} samples, {res.n_calibration:,} calibrated on. "
            "Click a class's bar for its uncovered samples, a size's bar for its samples."
        )
        if res.empty_rate > 0:
            error = float(np.mean(ev.y_pred != ev.y_true))
            self.summary.value += (
                f"<br><span style='font-size:12px'>Empty sets: alpha is above what the model gets wrong "
                f"({error:.1%} here), so the sets may leave out even its top class; a lower alpha gives sets "
                "that hold the true class more often, larger where the model hesitates.</span>"
            )
        with self.coverage_bars.hold_sync():
            self.coverage_bars.x = [str(ev.classes[c]) for c in self.classes_shown]
            self.coverage_bars.y = per_class["coverage"].to_numpy()[self.classes_shown]
        self.target_line.y = [res.target, res.target]
        self.coverage_fig.title = f"Coverage per class · dashed: target {res.target:.0%}"
        sizes = res.coverage_by_size()["n"].to_numpy()
        with self.size_bars.hold_sync():
            self.size_bars.x = [str(s) for s in range(len(sizes))]
            self.size_bars.y = sizes.astype(np.float64)
        self.size_bars.colors = [SERIES[2]] if sizes.any() else [NEUTRAL]
        uncovered = np.bincount(np.asarray(ev.y_true)[~res.covered], minlength=ev.n_classes)
        options = [("choose", None)]
        options += [
            (f"true {ev.classes[c]}: {int(uncovered[c])} uncovered", ("class", n))
            for n, c in enumerate(self.classes_shown)
        ]
        options += [(f"sets of {s} classes: {int(k)} samples", ("size", s)) for s, k in enumerate(sizes) if k]
        self._syncing = True  # the box follows the numbers here; only the user's choice shows samples
        try:
            kept = self.pick.value if self.pick.value in [v for _, v in options] else None
            self.pick.options = options
            self.pick.value = kept
        finally:
            self._syncing = False
        return True

    def _on_alpha(self) -> None:
        """A new ``alpha``: the sets drawn again, and the samples of the last bar clicked, while
        they are the ones shown, chosen again at the new alpha."""
        if self._draw_sets() and self._clicked is not None:
            mark, index, shown = self._clicked
            if self.state.selected_indices is shown:
                self.click(mark, index=index)

    def _show(self, mark, index: int, indices: np.ndarray, label: str) -> None:
        self.state.show_samples(indices, label)
        self._clicked = (mark, index, self.state.selected_indices)

    # ------------------------------------------------------------------ choices and clicks
    @guarded
    def _on_choice(self, change) -> None:
        if not self._syncing:
            self.state.calibration = change["new"]

    @guarded
    def _on_pick(self, change) -> None:
        """A choice in "show samples" (the keyboard's way to the bars): as a click on that bar."""
        if not self._syncing and change["new"] is not None:
            kind, index = change["new"]
            self.click(self.coverage_bars if kind == "class" else self.size_bars, index=index)

    @guarded
    def _on_class_click(self, data: dict) -> None:
        """A click on a class's coverage bar (``index``: the bar): its uncovered samples."""
        res = self.state.conformal()
        cls = int(self.classes_shown[int(data["index"])])
        idx = positions(res, res.uncovered(cls))
        name = res.evaluation.classes[cls]
        self._show(
            self.coverage_bars,
            int(data["index"]),
            idx,
            f"true {name}, not in its set at alpha {res.alpha:g} ({len(idx)})",
        )

    @guarded
    def _on_size_click(self, data: dict) -> None:
        """A click on a set size's bar (``index``: the size): the samples with sets of that size."""
        res = self.state.conformal()
        size = int(data["index"])
        idx = positions(res, res.with_size(size))
        what = f"sets of {size} class{'es' if size != 1 else ''}" if size else "empty sets"
        self._show(self.size_bars, size, idx, f"{what} at alpha {res.alpha:g} ({len(idx)})")

    def click_class(self, cls: int) -> None:
        """Act as if the user clicked class ``cls``'s coverage bar in the browser."""
        self.click(self.coverage_bars, index=int(np.flatnonzero(self.classes_shown == cls)[0]))

    def click_size(self, size: int) -> None:
        """Act as if the user clicked the bar of set size ``size`` in the browser."""
        self.click(self.size_bars, index=int(size))


def _described(*charts: tuple[bq.Figure, bq.Mark]) -> list[W.Widget]:
    """Each figure followed by the numbers of its mark, for a screen reader (see ChartNumbers)."""
    return [w for fig, mark in charts for w in (fig, ChartNumbers(fig, marks=[mark]).html)]
