"""Seeded random actions on a dashboard, set the way the browser sets them (traits of
``dash.state`` and its widgets, button clicks), for the lifecycle test and ``benchmarks/lifecycle.py``;
and how to count live widgets and the process's resident memory."""

from __future__ import annotations

import gc
from pathlib import Path

import numpy as np

#: Tags a user might type (a few, so the tag lists stay short).
TAGS = ("label wrong", "ambiguous", "blurry")


def live_widgets() -> int:
    """How many widgets are alive in this kernel (open comms), after a garbage collection."""
    from ipywidgets.widgets.widget import _instances

    gc.collect()
    return len(_instances)


def live_widget_types() -> dict[str, int]:
    """Live widgets by class name (to see what leaks)."""
    from collections import Counter

    from ipywidgets.widgets.widget import _instances

    gc.collect()
    return dict(Counter(type(w).__name__ for w in list(_instances.values())).most_common())


def rss_mb() -> float:
    """This process's resident memory in MB (Linux: /proc/self/statm)."""
    import os

    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


class RandomActions:
    """Applies seeded random actions to a dashboard, as a user clicking in the browser would:
    a matrix cell, a threshold, a focus class, a sample's details, a page turn, an arrow key, a
    model or a dataset, a tab, a tag, a comparison and its agreement cells, a slice, the weak
    slices, a confused pair, the matrix's display modes, the table's sort order, a box on the
    embedding map, saliency on or off (and its method).

    ``counts`` tells how often each action ran (and ``errors`` how many ended in the status
    line as an error: a model switched to a dataset it does not fit, which the dashboard reports).
    """

    WEIGHTS = {
        "cell": 30,
        "threshold": 8,
        "focus": 8,
        "details": 14,
        "page": 6,
        "arrow": 4,
        "model": 3,
        "dataset": 2,
        "tab": 4,
        "tag": 4,
        "compare": 2,
        "agreement": 2,
        "slice": 2,
        "pair": 3,
        "normalize": 2,
        "issues": 1,
        "sort": 2,
        "brush": 2,
        "mistakes": 2,
        "weak": 1,
        "saliency": 1,
    }

    def __init__(self, dash, seed: int = 0):
        self.dash = dash
        self.rng = np.random.default_rng(seed)
        self.names = list(self.WEIGHTS)
        w = np.array([self.WEIGHTS[n] for n in self.names], dtype=float)
        self.p = w / w.sum()
        self.counts = {n: 0 for n in self.names}
        self.errors = 0

    def run(self, n: int) -> None:
        """Apply ``n`` actions."""
        for _ in range(n):
            name = self.names[self.rng.choice(len(self.names), p=self.p)]
            getattr(self, "_" + name)()
            self.counts[name] += 1
            if self.dash.session.status_level == "error":
                self.errors += 1
                self.dash.session.set_status("")

    # ------------------------------------------------------------------ helpers
    @property
    def st(self):
        return self.dash.state

    @property
    def ev(self):
        return self.dash.session.evaluation

    def _pick(self, seq):
        return seq[int(self.rng.integers(len(seq)))] if len(seq) else None

    def _classes(self) -> bool:
        return self.ev is not None and self.ev.task in ("binary", "multiclass")

    # ------------------------------------------------------------------ the actions
    def _cell(self):
        if self._classes():
            k = self.ev.n_classes
            i = int(self.rng.integers(k))
            j = i if self.rng.random() < 0.3 else int(self.rng.integers(k))  # diagonal: many pages
            self.st.selected_cell = (i, j)

    def _threshold(self):
        self.st.threshold = float(np.round(self.rng.uniform(0.05, 0.95), 3))

    def _focus(self):
        if self._classes():
            self.st.focus_class = int(self.rng.integers(self.ev.n_classes))

    def _details(self):
        idx = self.st.ordered_indices
        if idx is not None and len(idx):
            self.st.selected_sample = int(self._pick(idx))

    def _page(self):
        btn = self.dash.samples.next_btn if self.rng.random() < 0.7 else self.dash.samples.prev_btn
        btn.click()

    def _arrow(self):
        self.dash.samples.press(self._pick(["ArrowRight", "ArrowLeft"]))

    def _model(self):
        self.st.model_name = self._pick(self.st.model_names)

    def _dataset(self):
        self.st.dataset_name = self._pick(self.st.dataset_names)

    def _tab(self):
        self.dash.tabs.selected_index = int(self.rng.integers(len(self.dash.tabs.children)))

    def _tag(self):
        if self.st.selected_sample is None:
            return
        if self.rng.random() < 0.7:
            self.dash.tags.text.value = self._pick(TAGS)
            self.dash.tags.add_btn.click()
        else:
            self.dash.tags.clear_btn.click()

    def _compare(self):
        self.dash.comparison.other.value = self._pick([None, *self.st.model_names])

    def _agreement(self):
        if self.dash.session.comparison is not None:
            self._pick(list(self.dash.comparison.cells.values())).click()

    def _slice(self):
        view = self.dash.slices
        if self.rng.random() < 0.4 or not view.active:
            if self.dash.session.slice_name is not None:
                view.all_btn.click()
            return
        rows = [w for w in view.table.children if hasattr(w, "children") and w.children]
        if rows:
            self._pick(rows).children[0].click()

    def _pair(self):
        opts = list(self.dash.pairs.pairs.options)
        if self._classes() and opts:
            self.dash.pairs.pairs.value = self._pick(opts)[1]

    def _normalize(self):
        self.st.normalize = self._pick([None, "true", "pred"])

    def _issues(self):
        if self._classes():
            self.st.count_label_issues = not self.st.count_label_issues

    def _sort(self):
        opts = list(self.dash.samples.sort_by.options)
        if len(opts) > 1:
            self.dash.samples.sort_by.value = self._pick(opts)

    def _brush(self):
        ev = self.ev
        if ev is not None and ev.n_samples:
            idx = np.sort(self.rng.choice(ev.n_samples, int(self.rng.integers(1, 40)), replace=False))
            self.st.brush_samples(idx, f"Chosen on the map ({len(idx)})")

    def _mistakes(self):
        if self._classes():
            self.dash.pairs.mistakes_btn.click()

    def _weak(self):
        if self.dash.slices.active:
            self.dash.slices.weak_btn.click()

    def _saliency(self):
        if self.dash.samples.can_explain:
            if self.rng.random() < 0.5:
                self.dash.samples.saliency_toggle.value = not self.dash.samples.saliency_toggle.value
            else:
                self.dash.samples.saliency_method.value = self._pick(["gradcam", "integrated_gradients"])
