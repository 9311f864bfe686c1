"""The epoch slider of a training dashboard: scrub (or play) the recorded epochs; every view
follows the evaluation of the epoch chosen, and the newest epoch is shown as ``fit`` records it."""

from __future__ import annotations

import ipywidgets as W

from ._base import View, guarded


class EpochView(View):
    """A slider over the recorded epochs and a play button, bound to the session's ``epoch``
    (an :class:`~h5eval_widgets.epochs.EpochSession`). Hidden until an epoch is recorded."""

    redraw_on = ("epochs",)
    update_on = {"epoch": "_follow"}
    needs_evaluation = False

    def build(self) -> list[W.Widget]:
        self._quiet = False
        self.play = W.Play(min=0, max=0, step=1, interval=900, description="play the epochs")
        self.slider = W.SelectionSlider(
            options=["-"], description="epoch", continuous_update=False, layout=W.Layout(width="420px")
        )
        # kernel-side, so that an epoch set here (the newest, while fit runs) moves the play button too
        self._links.append(W.link((self.play, "value"), (self.slider, "index")))
        self.slider.observe(self._on_slider, names="index")
        self.note = W.HTML()
        return [W.HBox([self.play, self.slider, self.note])]

    def refresh(self) -> None:
        epochs = list(self.session.epochs)
        self.set_visible(bool(epochs))
        if not epochs:
            return
        self._quiet = True
        try:
            options = [str(e) for e in epochs]
            if list(self.slider.options) != options:
                self.slider.options = options
            self.play.max = len(epochs) - 1
        finally:
            self._quiet = False
        self._follow()

    def _follow(self) -> None:
        """Put the slider on the epoch shown (the session moved it: the newest while fit runs)."""
        shown, epochs = self.session.shown_epoch, list(self.session.epochs)
        if shown not in epochs:
            return
        self._quiet = True
        try:
            self.slider.index = epochs.index(shown)
        finally:
            self._quiet = False
        newest = " (the newest)" if shown == epochs[-1] else ""
        self.note.value = f"<span style='font-size:12px'>epoch {shown}{newest} of {len(epochs)} recorded</span>"

    @guarded
    def _on_slider(self, change) -> None:
        if self._quiet or change["new"] is None:
            return
        self.session.epoch = int(self.session.epochs[change["new"]])
