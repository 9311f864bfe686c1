"""Slices view: metrics per group of samples, worst first, and the weak slices a shallow tree finds;
a click on one filters every view to it."""

from __future__ import annotations

import html

import ipywidgets as W
import numpy as np

from ..core.results.names import fmt
from ._base import View, guarded

#: Rows of a table (slices or rules) shown.
MAX_ROWS = 15
#: Slices smaller than this are listed after the others (their metrics are too noisy to rank).
MIN_SLICE = 10


def _metric(row, name: str) -> str:
    """``0.912 [0.88, 0.94]``, or the value alone when there is no interval, or "—"."""
    v = row.get(name)
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return "—"
    lo, hi = row.get(f"{name}_low"), row.get(f"{name}_high")
    if lo is None or hi is None or np.isnan(lo) or np.isnan(hi):
        return fmt(v)
    return f"{fmt(v)} <span style='color:var(--jp-ui-font-color2, #666)'>[{fmt(lo)}, {fmt(hi)}]</span>"


class _SliceRow:
    """A row of a slices table ("show", then the cells), made once and filled again on each
    redraw; ``rows`` and ``name`` are the slice its button shows."""

    def __init__(self, show):
        self.rows, self.name = None, None
        self.button = W.Button(description="show", layout=W.Layout(width="60px", height="24px", padding="0 2px"))
        self.button.on_click(lambda b: show(self.rows, self.name))
        self.cells = W.HTML()
        self.box = W.HBox([self.button, self.cells], layout=W.Layout(align_items="center"))


class SlicesView(View):
    """Metrics by slice of a metadata column (or bins of a numeric one), worst first, and the
    weak slices found without naming a column (the leaves of a shallow tree fit to "is this
    sample wrong?"). "show" on a row filters the dashboard to its samples; "all samples" undoes it.

    Slices are always cut from the whole dataset's evaluation (``session.full_evaluation``).
    """

    lazy = True  # a projection / bootstrap intervals: only once its tab is opened
    redraw_on = ("slice_name",)

    def build(self) -> list[W.Widget]:
        self.column = W.Dropdown(options=[], description="slice by", layout=W.Layout(width="260px"))
        self.bins = W.BoundedIntText(value=4, min=2, max=20, description="bins", layout=W.Layout(width="140px"))
        self.column.observe(lambda c: self._draw(self._render_slices), names="value")
        self.bins.observe(lambda c: self._draw(self._render_slices), names="value")
        self.weak_btn = W.Button(
            description="find weak slices",
            icon="search",
            layout=W.Layout(width="160px"),
            tooltip="a shallow decision tree over the metadata (and a table's features)",
        )
        self.weak_btn.on_click(lambda b: self._draw(self._render_weak))
        self.all_btn = W.Button(description="all samples", layout=W.Layout(width="120px"))
        self.all_btn.on_click(lambda b: self.show(None))
        self.current = W.HTML()
        self.table = W.VBox()
        self.weak = W.VBox()
        # the tables' widgets, made once: a redraw fills them again (new rows per redraw would
        # each stay alive in the kernel and the browser)
        self.no_metadata = W.HTML(
            "<i>No metadata to slice by: give a table with feature_columns=[...] (its other "
            "columns become metadata), an image folder with sub-folders, or "
            "Evaluation.from_predictions(..., metadata=...).</i>"
        )
        self.table_header, self.weak_header, self.weak_title = W.HTML(), W.HTML(), W.HTML()
        self.table_rows: list[_SliceRow] = []  # made as the tables first need them
        self.weak_rows: list[_SliceRow] = []
        return [W.HBox([self.column, self.bins, self.weak_btn, self.all_btn]), self.current, self.table, self.weak]

    @property
    def full(self):
        return self.session.full_evaluation or self.session.evaluation

    def refresh(self) -> None:
        ev = self.full
        name = self.session.slice_name
        self.current.value = (
            "<i>Showing every sample.</i>"
            if name is None
            else f"Showing the slice <b>{html.escape(name)}</b> in every view."
        )
        self.all_btn.disabled = name is None
        columns = [] if ev.metadata is None else list(ev.metadata.columns)
        if list(self.column.options) != columns:
            self.column.options = columns
            self.column.value = columns[0] if columns else None  # draws the table (observer)
        else:
            self._render_slices()
        self.weak.children = []

    def _render_slices(self) -> None:
        ev, col = self.full, self.column.value
        if col is None:
            self.table.children = [self.no_metadata]
            return
        frame = ev.slices(col, bins=self.bins.value)
        frame = frame.iloc[np.argsort(frame["size"].to_numpy() < MIN_SLICE, kind="stable")]
        main = "mae" if "mae" in frame.columns else "accuracy"
        extra = [m for m in ("f1_macro", "roc_auc", "rmse") if m in frame.columns]
        header = ["slice", "size", main, *extra]
        slots = self._slots(self.table_rows, len(frame))
        rows = [
            self._row(slot, str(name), rec, [str(rec["size"]), _metric(rec, main), *(_metric(rec, m) for m in extra)])
            for slot, name, rec in zip(slots, frame.index[:MAX_ROWS], frame.to_dict("records")[:MAX_ROWS])
        ]
        self.table.children = [self._header(self.table_header, header), *rows]

    def _render_weak(self) -> None:
        ev, data = self.full, self.session.get_dataset(self.session.pair[1]) if self.session.pair else None
        features = data if data is not None and data.kind == "tabular" else None
        frame = ev.weak_slices(features)
        rate = "mae" if "mae" in frame.columns else "error_rate"
        slots = self._slots(self.weak_rows, len(frame))
        rows = [
            self._row(
                slot,
                str(rule),
                rec,
                [
                    str(rec["size"]),
                    f"{rec[rate]:.1%}" if rate == "error_rate" else f"{rec[rate]:.3g}",
                    f"{rec.get('error_share', np.nan):.0%}",
                ],
            )
            for slot, rule, rec in zip(slots, frame.index[:MAX_ROWS], frame.to_dict("records")[:MAX_ROWS])
        ]
        base = frame.attrs.get("baseline")
        note = "" if base is None else f" (all samples: {base:.1%} wrong)" if rate == "error_rate" else ""
        self.weak_title.value = f"<b>Weak slices</b>{note}"
        self.weak.children = [
            self.weak_title,
            self._header(self.weak_header, ["rule", "size", "wrong" if rate == "error_rate" else "MAE", "of errors"]),
            *rows,
        ]

    def _slots(self, pool: list[_SliceRow], n: int) -> list[_SliceRow]:
        """The first ``min(n, MAX_ROWS)`` rows of a table's pool, made when first needed."""
        while len(pool) < min(n, MAX_ROWS):
            pool.append(_SliceRow(self.show))
        return pool

    @staticmethod
    def _header(header: W.HTML, names) -> W.HTML:
        cells = "".join(
            f"<span style='display:inline-block;width:{_width(i)}px'>{html.escape(n)}</span>"
            for i, n in enumerate(names)
        )
        header.value = f"<div style='font-size:12px;font-weight:bold;margin-left:64px;white-space:nowrap'>{cells}</div>"
        return header

    @staticmethod
    def _row(slot: _SliceRow, name: str, rec: dict, values: list[str]) -> W.Widget:
        slot.rows, slot.name = rec["rows"], name
        slot.button.tooltip = f"filter every view to {name}"
        cells = "".join(
            f"<span style='display:inline-block;width:{_width(i)}px;overflow:hidden;"
            f"text-overflow:ellipsis;white-space:nowrap;vertical-align:top'>{v}</span>"
            for i, v in enumerate([html.escape(name), *values])
        )
        slot.cells.value = (
            f"<div class='h5eval-slice-row' style='font-size:12px;line-height:24px;white-space:nowrap'>{cells}</div>"
        )
        return slot.box

    @guarded
    def show(self, rows, name: str | None = None) -> None:
        """Filter every view to ``rows`` of the whole dataset (None: every sample), as a click
        on a row's "show" (or on "all samples") does."""
        self.session.filter(rows, name)


def _width(i: int) -> int:
    """Pixels of table column ``i``: the name (or rule) is wide."""
    return 260 if i == 0 else 150
