"""Embedding map: the samples' embeddings in 2-D (PCA at once, UMAP when asked, in the
background), every point drawn with WebGL, coloured by class or by right/wrong; linked both ways
to the matrix and the samples.

The map is a `jupyter-scatter <https://jupyter-scatter.dev>`_ widget (``jscatter``: anywidget +
regl-scatterplot). Its points travel to the browser as one N x 4 float32 buffer (16 MB per
million), so no sampling is needed: a million points are drawn. The samples shown in the samples
view are the widget's *selection* (highlighted, the others dimmed); a lasso drawn on the map (or
a click on a point) sets that selection in the browser, which comes back here and selects those
samples (shown in the samples view and counted in the matrix, ``state.brushed``).
"""

from __future__ import annotations

import html
import threading
import time

import ipywidgets as W
import numpy as np
import pandas as pd

from ..core.inference.projection import points_in_box, points_in_polygon
from ..core.results.palette import CORRECT, ERROR, SERIES, tint
from ._base import View, guarded, set_visible
from ._scatter_style import SCOPE, scoped_scatter_class
from ..training_sets import training_results

#: Colours of the classes (cycled), and of right / wrong (the other views' colours): Okabe and
#: Ito's, told apart with every common colour-vision deficiency (see core/results/palette.py);
#: the legend names each colour, and a class is named in the matrix and the samples too.
CLASS_COLORS = list(SERIES)
RIGHT_WRONG = [tint(CORRECT, 0.45), ERROR]
#: The colourings offered, by the column of the map's frame that holds them.
COLOR_BY = {"right / wrong": "correct", "true class": "true", "predicted class": "predicted"}
#: The colouring offered when a training set is among the datasets (its near-duplicates looked for when chosen).
LEAK = "training near-duplicate"
LEAK_COLORS = [tint(SERIES[0], 0.45), SERIES[1]]
#: The map's height, and its largest width, in pixels: it takes its tab's width up to that (the
#: toolbar, 36 px, included).
HEIGHT, MAX_WIDTH = 460, 900
#: The toolbar of the map: pan/zoom, the lasso (and its kind), full screen, reset.
BUTTONS = ["pan_zoom", "lasso", "lasso_type", "divider", "full_screen", "reset"]


def _distinct(indices, n: int) -> np.ndarray:
    """The distinct indices in [0, n) among ``indices``, increasing, as int64: one pass through a
    mask (``np.unique``'s hashing took 60 ms for a 60,000-point lasso among 100,000)."""
    idx = np.asarray(indices, dtype=np.int64)
    mask = np.zeros(n, dtype=bool)
    mask[idx[(idx >= 0) & (idx < n)]] = True
    return np.flatnonzero(mask)


def _categories(codes: np.ndarray, n: int) -> pd.Categorical:
    return pd.Categorical.from_codes(np.asarray(codes, dtype=np.int64), categories=list(range(n)))


class EmbeddingView(View):
    """The samples as points of their embedding's 2-D map (``Evaluation.projection``), drawn
    with WebGL (jupyter-scatter): every point, up to millions.

    The samples shown in the samples view (a clicked cell, a focus class's errors...) are the
    map's selection: highlighted, the other points dimmed. A lasso on the map (the toolbar's lasso
    button, or a long press then drag) or a click on a point selects those samples: they are shown
    in the samples view and counted in the matrix (``state.brushed``). "UMAP" computes that map in
    a background thread, its progress and time in the status line, and swaps it in when ready
    (PCA is there at once). The widget is built once, when the tab is first opened; a new model,
    dataset, slice or threshold replaces its points.

    Attributes
    ----------
    scatter : jscatter.Scatter or None
        The map (None until the tab is first opened); ``scatter.widget`` is the widget.
    frame : pandas.DataFrame
        What the map draws: x, y and the colourings, one row per sample of the evaluation.
    umap_seconds : float or None
        How long the last UMAP map took to compute.
    """

    lazy = True  # a projection and a WebGL widget: only once its tab is opened
    redraw_on = ("threshold",)
    update_on = {"selected_indices": "_highlight"}

    def prepare(self) -> None:
        """While the tab waits to be opened: import jupyter-scatter, compute the PCA map and build
        the (not yet shown) scatter of its points in the background, once per evaluation, so
        that opening the tab only sends and draws them. At 1,000,000 points the import, the
        projection and the scatter's own preparation of its points took 2.2 s of the 5-6 s until
        drawn. A failure here is left for the tab's own drawing to report."""
        ev = self.session.evaluation
        if ev is None or getattr(ev, "embeddings", None) is None or self.session.closing.is_set():
            return
        if self._prepared_for is ev:  # a threshold move: the tab rebuilds the colours if it must
            return
        self._prepared_for = ev
        closing, colour = self.session.closing, self.color_by.value
        threshold, dec = self.state.threshold, self.state.decisions

        def work():
            scoped_scatter_class()  # jscatter imported once, before the tab needs it

            if closing.is_set():
                return
            frame = self._frame(ev, ev.projection("pca"), dec)  # the projection is kept by the embedding
            if closing.is_set() or self.session.evaluation is not ev:
                return
            column, colours = self._colouring(frame, colour)
            self._ready = (ev, threshold, colour, frame, self._new_scatter(frame, column, colours))

        self.session.run_in_background(work, name="h5eval-map-prepare")

    def build(self) -> list[W.Widget]:
        self._ready = None  # (evaluation, threshold, colouring, frame, scatter) made by prepare
        self._prepared_for = None
        self.scatter = None
        self.widget = None
        self.frame = None
        self.xy = None
        self.umap_seconds = None
        self._shown = np.zeros(0, np.uint32)  # the selection set from here (the samples shown)
        # jupyter-scatter's stylesheet applies only inside this box (see _scatter_style)
        self.figure = W.Box(layout=W.Layout(width="100%", max_width=f"{MAX_WIDTH}px", min_height=f"{HEIGHT}px"))
        self.figure.add_class(SCOPE)
        self.title = W.HTML()
        self.color_by = W.Dropdown(
            options=list(COLOR_BY), value="right / wrong", description="colour", layout=W.Layout(width="240px")
        )
        self.color_by.observe(lambda c: self._draw(self._colour), names="value")
        self.method = W.ToggleButtons(
            options=[("PCA", "pca"), ("UMAP", "umap")], value="pca", style={"button_width": "70px"}
        )
        self.method.observe(lambda c: self._draw(self.refresh), names="value")
        self.note = W.HTML()
        self.about = W.HTML()
        self.key = W.HTML()  # the colours' legend
        return [W.HBox([self.method, self.color_by]), self.note, self.title, self.figure, self.key, self.about]

    # ------------------------------------------------------------------ drawing
    def refresh(self) -> None:
        ev = self.session.evaluation
        if ev.embeddings is None or not hasattr(ev, "correct"):
            # the tab says why it is empty (results predicted on a cluster, or read from a file)
            self.note.value = (
                "<i>No map: these results hold no embedding (the activations of the model's "
                "penultimate layer), as results predicted on a Dask cluster or read from a "
                "predictions file do. Evaluate the model in the notebook to see the map.</i>"
            )
            set_visible(self, True, [self.note])
            return
        self.set_visible(True)
        self._offer_leak()
        if self.method.value == "umap" and not self._umap_ready(ev):
            self.note.value = (
                "<i>UMAP is computed in the background (see the status line); the PCA map is shown meanwhile.</i>"
            )
            self._start_umap(ev)
            self._plot(ev, "pca")
            return
        self.note.value = ""
        self._plot(ev, self.method.value)

    def _umap_ready(self, ev) -> bool:
        return getattr(self, "_umap_done", None) is ev

    def _start_umap(self, ev) -> None:
        if getattr(self, "_umap_for", None) is ev:
            return  # already running for this evaluation
        self._umap_for = ev
        n, start, finished = ev.n_samples, time.perf_counter(), threading.Event()
        closing = self.session.closing

        def tick():  # the status line says UMAP is running, and for how long
            while not finished.wait(1.0) and not closing.is_set():
                if self.session.evaluation is ev:
                    self.session.set_status(
                        f"UMAP map of {n:,} points: computing in the background, "
                        f"{time.perf_counter() - start:.0f} s so far (PCA shown meanwhile)."
                    )

        def work():  # in the session's background work: closing the dashboard waits for it
            try:
                ev.projection("umap")  # kept by the evaluation: refresh draws it
            except Exception as exc:  # noqa: BLE001 - shown in the status line
                finished.set()
                self._umap_for = None
                if not closing.is_set():
                    self.session.set_status(f"UMAP failed: {exc}", "error")
                return
            finished.set()
            if closing.is_set():
                return
            self.umap_seconds = time.perf_counter() - start
            self._umap_done = ev
            self.session.set_status(f"UMAP map of {n:,} points ready in {self.umap_seconds:.1f} s.")
            if self.session.evaluation is ev and self.method.value == "umap":
                self._draw(self.refresh)

        self.session.set_status(f"UMAP map of {n:,} points: computing in the background (PCA shown meanwhile).")
        self.session.run_in_background(tick, name="h5eval-umap-status")
        self.session.run_in_background(work, name="h5eval-umap")

    def _frame(self, ev, xy: np.ndarray, dec) -> pd.DataFrame:
        """x, y and the three colourings (categories numbered as the colours), one row per sample,
        at the decisions ``dec`` (the state's, at its threshold)."""
        k = len(ev.classes)
        return pd.DataFrame(
            {
                "x": xy[:, 0],
                "y": xy[:, 1],
                "correct": _categories(ev.y_true != dec.y_pred, 2),
                "true": _categories(ev.y_true, k),
                "predicted": _categories(dec.y_pred, k),
                "leak": _categories(self._leak_mask(ev), 2),
            }
        )

    def _training(self) -> str | None:
        return training_results(self.session).training_name(self.state.training_dataset)

    def _offer_leak(self) -> None:
        """The "training near-duplicate" colouring is offered when there is a training set."""
        options = [*COLOR_BY, *([LEAK] if self._training() is not None else [])]
        if list(self.color_by.options) != options:
            value = self.color_by.value
            self.color_by.options = options
            self.color_by.value = value if value in options else options[0]

    def _leak_mask(self, ev, compute: bool = False) -> np.ndarray:
        """Whether each sample has a training near-duplicate (all False until looked for, or
        without a training set)."""
        mask = np.zeros(ev.n_samples, dtype=np.int64)
        name = self._training() if ev is self.session.evaluation else None
        if name is not None:
            report = training_results(self.session).leakage(name, compute=compute)
            if report is not None:
                mask[report.attrs["duplicates"]["test_index"].to_numpy()] = 1
        return mask

    @staticmethod
    def _new_scatter(frame: pd.DataFrame, column: str, colours: list[str]):
        return scoped_scatter_class()(
            data=frame,
            x="x",
            y="y",
            color_by=column,
            color_map=colours,
            width="auto",  # the figure's width: the map and its toolbar fit the tab
            height=HEIGHT,
            size=3 if len(frame) < 100_000 else 2,
            opacity_by="density",
            axes=False,
            lasso_initiator=False,
            tooltip=False,
        )

    def _plot(self, ev, method: str) -> None:
        dec, colour = self.state.decisions, self.color_by.value
        ready, self._ready = self._ready, None
        self.xy = ev.projection(method)
        if (
            self.scatter is None
            and method == "pca"
            and ready
            and ready[0] is ev
            and ready[1:3] == (self.state.threshold, colour)
        ):
            frame, scatter = ready[3:]  # prepared in the background while the tab was unopened
        else:
            frame, scatter = self._frame(ev, self.xy, dec), None
        self.frame = frame
        column, colours = self._colouring(frame, colour)
        if self.scatter is None:
            self.scatter = scatter if scatter is not None else self._new_scatter(frame, column, colours)
            # the selection in the widget's first state: set just after it, the browser's
            # first drawing of the points can miss it
            self._shown = self._to_show()
            self.scatter.selection(self._shown)
            self.widget = self.scatter.show(BUTTONS)
            self.widget.layout.width = "100%"  # in the figure's row, not shrunk to its toolbar
            self.widget.observe(self._on_map_selection, names="selection")
            self.figure.children = [self.widget]
        else:
            self._shown = np.zeros(0, np.uint32)
            with self.widget.hold_sync():  # the points go once, with their colours
                self.scatter.data(frame, reset_scales=True, zoom_view=True)
                self.scatter.color(by=column, map=colours)
                self.scatter.selection(None)
        n = len(self.xy)
        self.title.value = f"<b class='h5eval-map-title'>{html.escape(self.sliced(f'Embedding map · {method.upper()} · {n:,} points'))}</b>"
        self.about.value = (
            f"<small style='color:var(--jp-ui-font-color2, #666)'>"
            f"{html.escape(ev.embeddings.description)} Every point is drawn. Draw a lasso "
            f"(the toolbar's lasso, or press and hold, then drag) or click a point to "
            f"choose samples; the samples shown are highlighted.</small>"
        )
        self._legend()
        self._highlight()

    @staticmethod
    def _colouring(frame: pd.DataFrame, colour: str) -> tuple[str, list[str]]:
        """The frame's column to colour by (``colour``, a key of COLOR_BY), and the colours of the
        categories present (in order)."""
        column = COLOR_BY.get(colour, "leak")
        palette = {"correct": RIGHT_WRONG, "leak": LEAK_COLORS}.get(column, CLASS_COLORS)
        present = frame[column].cat.remove_unused_categories().cat.categories
        return column, [palette[int(c) % len(palette)] for c in present]

    def _colour(self) -> None:
        ev = self.session.evaluation
        if self.scatter is None or self.frame is None or len(self.frame) != ev.n_samples:
            return
        if self.color_by.value == LEAK:  # looked for now (under a second on the demo), the points sent again
            with self.session.working("looking for training near-duplicates"):
                self.frame["leak"] = _categories(self._leak_mask(ev, compute=True), 2)
            column, colours = self._colouring(self.frame, LEAK)
            with self.widget.hold_sync():
                self.scatter.data(self.frame)
                self.scatter.color(by=column, map=colours)
        else:
            column, colours = self._colouring(self.frame, self.color_by.value)
            self.scatter.color(by=column, map=colours)  # re-sends the points (their colour codes)
        self._legend()

    def _legend(self) -> None:
        ev = self.session.evaluation
        if self.color_by.value == LEAK:
            colors, names = LEAK_COLORS, ["no training near-duplicate", "training near-duplicate"]
        elif COLOR_BY[self.color_by.value] == "correct":
            colors, names = RIGHT_WRONG, ["right", "wrong"]
        else:
            colors, names = CLASS_COLORS, list(ev.classes)
        self.key.value = (
            "<div class='h5eval-map-legend' style='font-size:12px'>"
            + " ".join(
                f"<span style='white-space:nowrap;margin-right:8px'><span style='display:inline-block;"
                f"width:10px;height:10px;background:{colors[i % len(colors)]};margin-right:3px'></span>"
                f"{html.escape(str(name))}</span>"
                for i, name in enumerate(names)
            )
            + "</div>"
        )

    # ------------------------------------------------------------------ selection, both ways
    @property
    def highlighted(self) -> np.ndarray:
        """The samples highlighted on the map (the widget's selection), in increasing order."""
        if self.widget is None or self.widget.selection is None:
            return np.zeros(0, np.int64)
        return np.sort(np.asarray(self.widget.selection, dtype=np.int64))

    def _to_show(self) -> np.ndarray:
        idx, ev = self.state.selected_indices, self.session.evaluation
        return np.zeros(0, np.uint32) if idx is None else _distinct(idx, ev.n_samples).astype(np.uint32)

    def _highlight(self) -> None:
        """The samples shown in the samples view, as the map's selection."""
        ev = self.session.evaluation
        if self.scatter is None or ev is None or self.frame is None or len(self.frame) != ev.n_samples:
            return  # no map drawn yet, or the new evaluation's map is drawn next (refresh)
        shown = self._to_show()
        if np.array_equal(shown, self._shown) and np.array_equal(self.highlighted, shown):
            return
        self._shown = shown  # first: the widget's observer sees it is ours
        self.scatter.selection(shown)

    @guarded
    def _on_map_selection(self, change) -> None:
        """A selection made in the browser (lasso, click on a point) selects those samples."""
        new = change["new"]
        if new is None or len(new) == 0:
            return  # a click beside the points clears the map's selection: the samples stay
        idx = _distinct(new, self.session.evaluation.n_samples)
        if np.array_equal(idx, self._shown):
            return  # the samples shown, set from here (or echoed back by the browser)
        self._shown = idx.astype(np.uint32)
        self.state.brush_samples(idx, f"Chosen on the map ({len(idx)})")

    def select(self, indices) -> np.ndarray:
        """Select samples on the map as a lasso drawn in the browser does (the widget's
        selection): they are shown in the samples view and counted in the matrix. Returns
        them, in increasing order."""
        idx = np.unique(np.asarray(indices, dtype=np.int64))
        self.widget.selection = idx.astype(np.uint32)
        return idx

    def select_box(self, x0: float, x1: float, y0: float, y1: float) -> np.ndarray:
        """Select the points in a box of the map (its coordinates, as ``xy``)."""
        return self.select(points_in_box(self.xy, x0, x1, y0, y1))

    def select_lasso(self, polygon) -> np.ndarray:
        """Select the points inside a polygon of the map's coordinates (a lasso)."""
        return self.select(points_in_polygon(self.xy, polygon))
