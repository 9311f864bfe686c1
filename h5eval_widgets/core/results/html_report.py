"""The interactive, self-contained HTML report: one file that works from ``file://`` with no
kernel and no network.

Everything is inline: the stylesheet and script (:mod:`.html_assets`), the data the script
reads (JSON), the thumbnails (PNG data URIs) and the curves (SVG). What a task shows comes from
its result's ``report_views`` (:mod:`.report_data`), ``report_parts`` and ``report_lines``; this
module only lays the page out. Under each row of the metrics table, a folded ``<details>`` explains
the metric as ``ev.explain`` does (formula typeset as MathML, the text formula, the terms table).

The page is never wider than the window: tables scroll sideways inside their own box, the
curves and pictures shrink. Colours come from :mod:`.palette` and numbers from
:func:`~.names.fmt` / :func:`~.names.fmt_interval`, as in the dashboard; the slices table
writes each metric with its interval in one column, and its bin edges with 3 significant
digits (the labels :mod:`~h5eval_widgets.core.insight.slices` makes carry 6; they are
rewritten here, for display only).
"""

from __future__ import annotations

import contextlib
import html
import json
import re
from typing import TYPE_CHECKING

import numpy as np

from .html_assets import (
    CSS,
    FIRST_SHADE,
    SCRIPT,
    backend_note,
    cell_fills,
    confusion_table,
    data_notes_html,
    fmt_cell,
    html_table,
    matrix_legend,
    scroll,
)
from .explanation_math import explanation_details
from .html_numbers import described_plot
from .html_conformal import conformal_section
from .html_leakage import leakage_section
from .names import fmt, fmt_interval, metric_name
from .palette import CORRECT, ERROR, NEUTRAL, SERIES, text_on
from .report_data import PER_CELL, THUMB_PX, sample_records


if TYPE_CHECKING:  # pragma: no cover
    from .evaluation import Evaluation

__all__ = ["interactive_report", "PAGE_SIZE", "svg_plot", "bin_label", "slice_table", "column_name"]

#: Sample cards per page of the samples panel.
PAGE_SIZE = 12
#: Metadata columns whose slices the report lists (the first ones).
MAX_SLICE_COLUMNS = 3
#: Names of the report's columns that are not metrics of :data:`~.names.METRIC_NAMES`.
COLUMN_NAMES = {
    "size": "Samples",
    "share": "Share",
    "errors": "Errors",
    "error_share": "Share of errors",
    "error_rate": "Error rate",
    "bias": "Bias",
    "specificity": "Specificity",
    "support": "Support",
    "predicted": "Predicted",
    "count": "Count",
    "iou": "IoU",
    "dice": "Dice",
}


def column_name(key: str) -> str:
    """A column's name as the report shows it: :func:`~.names.metric_name`, or
    :data:`COLUMN_NAMES`' for the other columns."""
    return COLUMN_NAMES.get(key) or metric_name(key)


#: The dash of a series past the palette's colours (series 8 to 14 repeat the colours, dashed).
DASHES = ("", "6 3", "2 2")


def _metrics_table(ev: "Evaluation", bootstrap: bool) -> str:
    m = ev.metrics()["value"]
    ci = ev.bootstrap() if bootstrap else None
    rows = []
    for name, v in m.items():
        interval = "—"
        if ci is not None and name in ci.index:
            lo, hi, how = ci.loc[name, "low"], ci.loc[name, "high"], ci.loc[name, "method"]
            interval = f"[{fmt(lo)}, {fmt(hi)}] <span class='note'>{html.escape(how)}</span>"
        key = html.escape(str(name))
        rows.append(
            f"<tr><th class='l' title='{key}'>{html.escape(metric_name(str(name)))}</th>"
            f"<td data-metric='{key}'>{fmt(v, missing='undefined')}</td><td class='l'>{interval}</td></tr>"
        )
        with contextlib.suppress(ValueError):  # a metric without an explanation keeps its row alone
            rows.append(f"<tr class='explain'><td colspan='3'>{explanation_details(ev.explain(str(name)))}</td></tr>")
    return scroll(
        "<table class='metrics'><thead><tr><th class='l'>metric</th><th>value</th>"
        f"<th class='l'>95% interval</th></tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )


def _matrix_table(m: int, view: dict) -> str:
    counts = np.asarray(view["counts"])
    fills = cell_fills(counts)
    head = "".join(f"<th>{html.escape(c)}</th>" for c in view["cols"])
    rows = []
    for i, name in enumerate(view["rows"]):
        cells = []
        for j, col in enumerate(view["cols"]):
            bg = fills[i, j]
            cells.append(
                f"<td class='cell' tabindex='0' data-m='{m}' data-i='{i}' data-j='{j}' "
                f"data-true='{html.escape(name)}' data-predicted='{html.escape(col)}' "
                f"data-count='{int(counts[i, j])}' style='background:{bg};color:{text_on(bg)}'>"
                f"{fmt(int(counts[i, j]))}</td>"
            )
        rows.append(f"<tr><th class='l'>{html.escape(name)}</th>{''.join(cells)}</tr>")
    return f"<h3>{html.escape(view['title'])}</h3>" + scroll(
        f"<table class='cm' data-matrix='{m}'><thead><tr>"
        f"<th class='l'>true \\ predicted</th>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )


def series_style(n: int) -> tuple[str, str]:
    """The colour (:data:`~.palette.SERIES`, in order) and dash of series ``n``."""
    return SERIES[n % len(SERIES)], DASHES[(n // len(SERIES)) % len(DASHES)]


def svg_plot(curve: dict, *, width: int = 340, height: int = 280) -> str:
    """An inline SVG line (or dot) plot of ``curve['series']`` (``(name, x, y)`` triples), with
    axes, the ``diagonal`` from ``(lo, lo)`` to ``(hi, hi)`` when given (named
    ``curve['diagonal_name']``), and a legend right of the plot: a swatch of each series'
    colour (and dash) before its name."""
    xs = [v for _, x, _ in curve["series"] for v in x]
    ys = [v for _, _, y in curve["series"] for v in y]
    diag = curve.get("diagonal")
    lo = min([0.0] + xs + ys) if diag is None or diag == [0, 1] else min(diag)
    hi = max([1.0] + xs + ys) if diag is None or diag == [0, 1] else max(diag)
    span = (hi - lo) or 1.0
    left, bottom, top, right = 58, 36, 22, 10
    w, h = width - left - right, height - top - bottom
    items = [(name, *series_style(n), bool(curve.get("dots"))) for n, (name, _, _) in enumerate(curve["series"])]
    if diag is not None:
        items.append((curve.get("diagonal_name", "x = y"), NEUTRAL, "4 3", False))
    legend_w = 34 + int(6.5 * max(len(str(name)) for name, *_ in items))
    full = width + legend_w

    def px(x: float, y: float) -> str:
        return f"{left + (x - lo) / span * w:.1f},{top + h - (y - lo) / span * h:.1f}"

    parts = [
        f"<svg class='curve' xmlns='http://www.w3.org/2000/svg' width='{full}' height='{height}' "
        f"viewBox='0 0 {full} {height}' role='img' aria-label='{html.escape(curve['title'])}'>",
        f"<text x='{left}' y='14' font-weight='bold'>{html.escape(curve['title'])}</text>",
        f"<rect x='{left}' y='{top}' width='{w}' height='{h}' fill='none' stroke='#999'/>",
    ]
    for t in (lo, lo + span / 2, hi):
        x0, y0 = px(t, lo).split(",")
        x1, y1 = px(lo, t).split(",")
        parts += [
            f"<text x='{x0}' y='{top + h + 13}' text-anchor='middle'>{fmt(float(t))}</text>",
            f"<text x='{left - 4}' y='{float(y1) + 4:.1f}' text-anchor='end'>{fmt(float(t))}</text>",
        ]
    parts += [
        f"<text x='{left + w / 2}' y='{height - 4}' text-anchor='middle'>{html.escape(curve['x'])}</text>",
        f"<text transform='translate(11,{top + h / 2}) rotate(-90)' text-anchor='middle'>"
        f"{html.escape(curve['y'])}</text>",
    ]
    if diag is not None:
        parts.append(
            f"<polyline class='diagonal' points='{px(diag[0], diag[0])} {px(diag[1], diag[1])}' "
            f"stroke='{NEUTRAL}' stroke-dasharray='4 3' fill='none'/>"
        )
    for n, (name, x, y) in enumerate(curve["series"]):
        color, dash = series_style(n)
        dashed = f" stroke-dasharray='{dash}'" if dash else ""
        if curve.get("dots"):
            r = 2.5 if len(x) > 200 else 3.5
            parts += [
                f"<circle cx='{p.split(',')[0]}' cy='{p.split(',')[1]}' r='{r}' fill='{color}' fill-opacity='0.6'/>"
                for p in (px(a, b) for a, b in zip(x, y))
            ]
            if len(x) <= 200:
                parts.append(
                    f"<polyline points='{' '.join(px(a, b) for a, b in zip(x, y))}' stroke='{color}'{dashed} "
                    "fill='none'/>"
                )
        else:
            parts.append(
                f"<polyline points='{' '.join(px(a, b) for a, b in zip(x, y))}' "
                f"stroke='{color}' stroke-width='1.5'{dashed} fill='none'><title>{html.escape(name)}</title></polyline>"
            )
    parts.append("<g class='legend'>")
    lx = width + 4
    for k, (name, color, dash, dots) in enumerate(items):
        ly = top + 8 + 15 * k
        swatch = (
            f"<circle class='swatch' cx='{lx + 9}' cy='{ly}' r='4' fill='{color}'/>"
            if dots
            else f"<line class='swatch' x1='{lx}' y1='{ly}' x2='{lx + 18}' y2='{ly}' stroke='{color}' "
            f"stroke-width='3'{f' stroke-dasharray={chr(39)}{dash}{chr(39)}' if dash else ''}/>"
        )
        parts.append(
            f"<g class='legend-item'>{swatch}<text x='{lx + 24}' y='{ly + 4}'>{html.escape(str(name))}</text></g>"
        )
    parts.append("</g>")
    return "".join(parts) + "</svg>"


_BIN = re.compile(r"^(.* in )?([\[(])([^,\[\]()]+), ([^,\[\]()]+)\]$")


def _sig3(x: float) -> str:
    """``x`` with 3 significant digits (thousands separators above 1,000)."""
    r = float(f"{x:.3g}")
    return f"{r:,.0f}" if abs(r) >= 1000 else f"{x:.3g}"


def bin_label(label: str) -> str:
    """A slice's name with its bin edges at 3 significant digits: ``'ink in (0.27832, 0.305664]'``
    -> ``'ink in (0.278, 0.306]'``; other names are returned as they are."""
    m = _BIN.match(str(label))
    if not m:
        return str(label)
    try:
        lo, hi = float(m[3]), float(m[4])
    except ValueError:
        return str(label)
    return f"{m[1] or ''}{m[2]}{_sig3(lo)}, {_sig3(hi)}]"


def slice_table(frame, index_label: str = "slice") -> str:
    """A frame of :meth:`~h5eval_widgets.core.Evaluation.slices` as a table: one column per
    metric, its interval in the same cell (``0.976 [0.964, 0.986]``), named as people name it
    (the key in a tooltip), bin edges with 3 significant digits."""
    cols = [c for c in frame.columns if c != "rows"]
    bounds = {c for c in cols if c.endswith(("_low", "_high"))}
    shown = [c for c in cols if c not in bounds]
    head = "".join(f"<th title='{html.escape(str(c))}'>{html.escape(column_name(str(c)))}</th>" for c in shown)
    rows = []
    for idx, row in frame.iterrows():
        cells = []
        for c in shown:
            if f"{c}_low" in bounds and f"{c}_high" in bounds:
                text = fmt_interval(row[c], row[f"{c}_low"], row[f"{c}_high"], missing="undefined")
            else:
                text = fmt(row[c], missing="undefined")
            cells.append(f"<td>{html.escape(text)}</td>")
        label = str(idx)
        title = f" title='{html.escape(label)}'" if bin_label(label) != label else ""
        rows.append(f"<tr><th class='l'{title}>{html.escape(bin_label(label))}</th>{''.join(cells)}</tr>")
    return scroll(
        f"<table class='slices'><thead><tr><th class='l'>{html.escape(index_label)}</th>{head}</tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def _slices(ev: "Evaluation") -> list[str]:
    meta = getattr(ev, "metadata", None)
    if meta is None or not len(meta.columns):
        return []
    out = [
        "<h2>Slices</h2>",
        "<p class='note'>Metrics per slice of each metadata column (numeric columns cut by "
        "quantiles), worst first, each with its 95% bootstrap interval.</p>",
    ]
    for column in list(meta.columns)[:MAX_SLICE_COLUMNS]:
        table = ev.slices(column)
        out.append(f"<h3>{html.escape(str(column))}</h3>" + slice_table(table, table.index.name or "slice"))
    return out


def interactive_report(
    ev: "Evaluation",
    data=None,
    *,
    per_cell: int = PER_CELL,
    thumb_px: int = THUMB_PX,
    bootstrap: bool = True,
    conformal=None,
    leakage=None,
) -> str:
    """The report page of ``ev`` (see :meth:`~h5eval_widgets.core.Evaluation.to_html`)."""
    views = ev.report_views(per_cell)
    matrices, lists, thr = views.get("matrices", []), views.get("lists", []), views.get("threshold")
    ids: set[int] = set()
    for m in matrices:
        ids.update(i for cell in m["cells"].values() for i in cell)
    for lst in lists:
        ids.update(lst["ids"])
    if thr is not None:
        ids.update(int(i) for i in thr["scores"])
    if data is None:
        explainer = getattr(ev, "explainer", None)
        data = getattr(explainer, "data", None)
    records = sample_records(ev, sorted(ids), data, size=thumb_px)
    title = f"{ev.model_name or 'model'} on {ev.dataset_name or 'dataset'}"
    caps = sorted({m["cap"] for m in matrices} | ({thr["cap"]} if thr else set()))
    body = [
        f"<h1>{html.escape(title)}</h1>",
        f"<p>task: {html.escape(ev.task)} · samples: {fmt(int(ev.n_samples))}"
        + (f" · classes: {ev.n_classes}" if ev.is_classification else "")
        + (f" · {html.escape(backend_note(ev.notes))}" if backend_note(ev.notes) else "")
        + "</p>",
        data_notes_html(ev.notes),
    ]
    body += [f"<p>{html.escape(line)}</p>" for line in ev.report_lines()]
    body += ["<h2>Metrics</h2>", _metrics_table(ev, bootstrap)]
    if bootstrap:
        body.append(
            "<p class='note'>Intervals: 95% bootstrap percentile intervals (1,000 "
            "seeded resamples); DeLong's interval for a binary ROC AUC.</p>"
        )
    if thr is not None:
        k = thr["start"]
        names = ("accuracy", "precision", "recall", "specificity", "f1", "balanced_accuracy")
        best = "".join(
            f"<button data-threshold='{int(np.argmin(np.abs(np.asarray(thr['thresholds']) - t)))}' "
            f"title='{float(t)!r}'>{label} ({fmt(float(t))})</button>"
            for label, t in (
                ("model's threshold", ev.threshold),
                ("best F1", ev.best_threshold("f1")),
                ("best Youden's J", ev.best_threshold("youden")),
            )
            if np.isfinite(t)
        )
        body += [
            "<h2>Threshold</h2>",
            f"<p><label for='threshold'>threshold of {html.escape(thr['names'][1])}: "
            f"<b id='threshold-value' title='{thr['thresholds'][k]!r}'>{fmt(thr['thresholds'][k])}</b></label> "
            f"<input type='range' id='threshold' min='0' max='{len(thr['thresholds']) - 1}' "
            f"step='1' value='{k}'> {best}</p>",
            f"<p class='note'>The slider moves over a grid of {thr['grid']:,} evenly spaced "
            "thresholds from 0 to 1 plus the model's, best-F1 and best-Youden thresholds; the "
            "matrix (sample counts) and these metrics are exact at each of them. A sample is "
            "predicted positive when its score is at least the threshold.</p>",
            "<table class='metrics'><tbody>"
            + "".join(
                f"<tr><th class='l' title='{n}'>{html.escape(column_name(n))}</th>"
                f"<td data-threshold-metric='{n}'>—</td></tr>"
                for n in names
            )
            + "</tbody></table>",
        ]
    if matrices or lists:
        body.append("<h2>Samples</h2>")
        if matrices:
            body.append(
                f"<p class='note'>Click a cell to list its samples, most confident first, "
                f"{PAGE_SIZE} to a page. Each cell lists at most {'/'.join(map(str, caps))} "
                "samples (its most confident) to keep this file small."
                + (
                    ""
                    if data is not None
                    else " The test set was not given: samples are shown by index, without pictures or features."
                )
                + "</p>"
            )
        legend = matrix_legend() if matrices else ""
        body.append(
            "<div class='row'><div>" + "".join(_matrix_table(i, m) for i, m in enumerate(matrices)) + legend + "</div>"
        )
        if lists:
            body.append(
                "<div class='lists'>"
                + "".join(
                    f"<button data-list='{i}'>{html.escape(lst['title'])}</button>" for i, lst in enumerate(lists)
                )
                + "</div>"
            )
        body.append(
            "<div id='samples-panel' style='flex:1 1 320px'><p class='note'>Click a cell of the matrix.</p></div></div>"
        )
    for kind, part_title, frame in ev.report_parts(pairs=20):
        if kind == "table":
            table = html_table(frame, frame.index.name or "", number=fmt_cell, name=column_name)
            body += [f"<h2>{html.escape(part_title)}</h2>", scroll(table)]
        elif kind == "pairs":
            table = html_table(frame.set_index("true"), "true", number=fmt_cell, name=column_name)
            body += [f"<h2>{html.escape(part_title)}</h2>", scroll(table)]
        elif kind == "confusion" and not matrices:  # a task without clickable cells here
            body += [f"<h2>{html.escape(part_title)}</h2>", scroll(confusion_table(frame, number=fmt_cell))]
    curves = views.get("curves", [])
    if curves:
        plots = "".join(described_plot(svg_plot(c), c) for c in curves)  # each with its numbers
        body += ["<h2>Curves</h2>", f"<div class='row'>{plots}</div>"]
    body += conformal_section(conformal)  # the sets at the result's alpha (ev.to_html(conformal=res))
    body += leakage_section(leakage)  # training near-duplicates (ev.to_html(leakage=report))
    body += _slices(ev)
    for key, why in ev.undefined.items():
        body.append(f"<p class='note'>undefined {html.escape(key)}: {html.escape(why)}</p>")
    body.append("<p class='note'>Written by h5eval-widgets: one self-contained file (no network, no kernel).</p>")
    payload = {
        "samples": records,
        "matrices": [{"cells": m["cells"], "prefix": ""} for m in matrices],
        "lists": lists,
        "threshold": thr,
        "page_size": PAGE_SIZE,
        "palette": {"right": CORRECT, "wrong": ERROR, "first": FIRST_SHADE},
    }
    blob = json.dumps(payload, separators=(",", ":"), allow_nan=False).replace("</", "<\\/")
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width,initial-scale=1'>"
        f"<title>h5eval report: {html.escape(title)}</title><style>{CSS}</style></head>"
        f"<body>{''.join(body)}<script type='application/json' id='h5eval-data'>{blob}</script>"
        f"<script>{SCRIPT}</script></body></html>"
    )
