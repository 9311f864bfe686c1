"""The interactive, self-contained HTML report: one file that works from ``file://`` with no
kernel and no network.

Everything is inline: the stylesheet and script (:mod:`.html_assets`), the data the script
reads (JSON), the thumbnails (PNG data URIs) and the curves (SVG). What a task shows comes from
its result's ``report_views`` (:mod:`.report_data`), ``report_parts`` and ``report_lines``; this
module only lays the page out.
"""

from __future__ import annotations

import html
import json
from typing import TYPE_CHECKING

import numpy as np

from .names import fmt, metric_name
from .html_assets import CSS, SCRIPT, backend_note, confusion_table, data_notes_html, fmt_number, html_table
from .report_data import PER_CELL, THUMB_PX, sample_records


if TYPE_CHECKING:  # pragma: no cover
    from .evaluation import Evaluation

__all__ = ["interactive_report", "PAGE_SIZE"]

#: Sample cards per page of the samples panel.
PAGE_SIZE = 12
#: Metadata columns whose slices the report lists (the first ones).
MAX_SLICE_COLUMNS = 3
COLORS = ["#0969da", "#d1242f", "#1a7f37", "#8250df", "#bf8700", "#1b7c83", "#cf222e", "#6e7781", "#953800", "#0550ae"]


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
    return (
        "<table class='metrics'><thead><tr><th class='l'>metric</th><th>value</th>"
        f"<th class='l'>95% interval</th></tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )


def _matrix_table(m: int, view: dict) -> str:
    counts = np.asarray(view["counts"])
    share = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    head = "".join(f"<th>{html.escape(c)}</th>" for c in view["cols"])
    rows = []
    for i, name in enumerate(view["rows"]):
        cells = []
        for j, col in enumerate(view["cols"]):
            s = int(255 - 180 * float(share[i, j]))
            cells.append(
                f"<td class='cell' tabindex='0' data-m='{m}' data-i='{i}' data-j='{j}' "
                f"data-true='{html.escape(name)}' data-predicted='{html.escape(col)}' "
                f"style='background:rgb({s},{s},255);color:{'#fff' if s < 140 else '#1f2328'}'>"
                f"{fmt_number(counts[i, j])}</td>"
            )
        rows.append(f"<tr><th class='l'>{html.escape(name)}</th>{''.join(cells)}</tr>")
    return (
        f"<h3>{html.escape(view['title'])}</h3><table class='cm' data-matrix='{m}'><thead><tr>"
        f"<th class='l'>true \\ predicted</th>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )


def svg_plot(curve: dict, *, width: int = 340, height: int = 280) -> str:
    """An inline SVG line (or dot) plot of ``curve['series']`` (``(name, x, y)`` triples), with
    axes, the ``diagonal`` from ``(lo, lo)`` to ``(hi, hi)`` when given, and a legend."""
    xs = [v for _, x, _ in curve["series"] for v in x]
    ys = [v for _, _, y in curve["series"] for v in y]
    diag = curve.get("diagonal")
    lo = min([0.0] + xs + ys) if diag is None or diag == [0, 1] else min(diag)
    hi = max([1.0] + xs + ys) if diag is None or diag == [0, 1] else max(diag)
    span = (hi - lo) or 1.0
    left, bottom, top, right = 44, 36, 22, 10
    w, h = width - left - right, height - top - bottom

    def px(x: float, y: float) -> str:
        return f"{left + (x - lo) / span * w:.1f},{top + h - (y - lo) / span * h:.1f}"

    parts = [
        f"<svg class='curve' xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height}' "
        f"viewBox='0 0 {width} {height}' role='img' aria-label='{html.escape(curve['title'])}'>",
        f"<text x='{left}' y='14' font-weight='bold'>{html.escape(curve['title'])}</text>",
        f"<rect x='{left}' y='{top}' width='{w}' height='{h}' fill='none' stroke='#999'/>",
    ]
    for t in (lo, lo + span / 2, hi):
        x0, y0 = px(t, lo).split(",")
        x1, y1 = px(lo, t).split(",")
        parts += [
            f"<text x='{x0}' y='{top + h + 13}' text-anchor='middle'>{t:.3g}</text>",
            f"<text x='{left - 4}' y='{float(y1) + 4:.1f}' text-anchor='end'>{t:.3g}</text>",
        ]
    parts += [
        f"<text x='{left + w / 2}' y='{height - 4}' text-anchor='middle'>{html.escape(curve['x'])}</text>",
        f"<text transform='translate(11,{top + h / 2}) rotate(-90)' text-anchor='middle'>"
        f"{html.escape(curve['y'])}</text>",
    ]
    if diag is not None:
        parts.append(
            f"<polyline points='{px(diag[0], diag[0])} {px(diag[1], diag[1])}' "
            "stroke='#aaa' stroke-dasharray='4 3' fill='none'/>"
        )
    for n, (name, x, y) in enumerate(curve["series"]):
        color = COLORS[n % len(COLORS)]
        if curve.get("dots"):
            r = 2.5 if len(x) > 200 else 3.5
            parts += [
                f"<circle cx='{p.split(',')[0]}' cy='{p.split(',')[1]}' r='{r}' fill='{color}' fill-opacity='0.6'/>"
                for p in (px(a, b) for a, b in zip(x, y))
            ]
            if len(x) <= 200:
                parts.append(
                    f"<polyline points='{' '.join(px(a, b) for a, b in zip(x, y))}' stroke='{color}' fill='none'/>"
                )
        else:
            parts.append(
                f"<polyline points='{' '.join(px(a, b) for a, b in zip(x, y))}' "
                f"stroke='{color}' stroke-width='1.5' fill='none'><title>{html.escape(name)}</title></polyline>"
            )
        if len(curve["series"]) > 1:
            ly = top + 12 + 12 * n
            parts.append(
                f"<text x='{left + w - 4}' y='{ly}' text-anchor='end' fill='{color}'>{html.escape(name)}</text>"
            )
    return "".join(parts) + "</svg>"


def _slices(ev: "Evaluation") -> list[str]:
    meta = getattr(ev, "metadata", None)
    if meta is None or not len(meta.columns):
        return []
    out = [
        "<h2>Slices</h2>",
        "<p class='note'>Metrics per slice of each metadata column (numeric columns cut by "
        "quantiles), worst first, with 95% bootstrap intervals.</p>",
    ]
    for column in list(meta.columns)[:MAX_SLICE_COLUMNS]:
        table = ev.slices(column).drop(columns=["rows"], errors="ignore")
        out.append(f"<h3>{html.escape(str(column))}</h3>" + html_table(table, table.index.name or "slice"))
    return out


def interactive_report(
    ev: "Evaluation", data=None, *, per_cell: int = PER_CELL, thumb_px: int = THUMB_PX, bootstrap: bool = True
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
        f"<p>task: {html.escape(ev.task)} · samples: {ev.n_samples}"
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
            f"<button data-threshold='{int(np.argmin(np.abs(np.asarray(thr['thresholds']) - t)))}'>"
            f"{label} ({t:.4f})</button>"
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
            f"<b id='threshold-value'>{thr['thresholds'][k]:.4f}</b></label> "
            f"<input type='range' id='threshold' min='0' max='{len(thr['thresholds']) - 1}' "
            f"step='1' value='{k}'> {best}</p>",
            f"<p class='note'>The slider moves over a grid of {thr['grid']:,} evenly spaced "
            "thresholds from 0 to 1 plus the model's, best-F1 and best-Youden thresholds; the "
            "matrix (sample counts) and these metrics are exact at each of them. A sample is "
            "predicted positive when its score is at least the threshold.</p>",
            "<table class='metrics'><tbody>"
            + "".join(f"<tr><th class='l'>{n}</th><td data-threshold-metric='{n}'>—</td></tr>" for n in names)
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
        body.append("<div class='row'><div>" + "".join(_matrix_table(i, m) for i, m in enumerate(matrices)) + "</div>")
        if lists:
            body.append(
                "<div class='lists'>"
                + "".join(
                    f"<button data-list='{i}'>{html.escape(lst['title'])}</button>" for i, lst in enumerate(lists)
                )
                + "</div>"
            )
        body.append(
            "<div id='samples-panel' style='flex:1;min-width:320px'>"
            "<p class='note'>Click a cell of the matrix.</p></div></div>"
        )
    for kind, part_title, frame in ev.report_parts(pairs=20):
        if kind == "table":
            body += [f"<h2>{html.escape(part_title)}</h2>", html_table(frame, frame.index.name or "")]
        elif kind == "pairs":
            body += [f"<h2>{html.escape(part_title)}</h2>", html_table(frame.set_index("true"), "true")]
        elif kind == "confusion" and not matrices:  # a task without clickable cells here
            body += [f"<h2>{html.escape(part_title)}</h2>", confusion_table(frame)]
    curves = views.get("curves", [])
    if curves:
        body += ["<h2>Curves</h2>", "<div class='row'>" + "".join(svg_plot(c) for c in curves) + "</div>"]
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
    }
    blob = json.dumps(payload, separators=(",", ":"), allow_nan=False).replace("</", "<\\/")
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width,initial-scale=1'>"
        f"<title>h5eval report: {html.escape(title)}</title><style>{CSS}</style></head>"
        f"<body>{''.join(body)}<script type='application/json' id='h5eval-data'>{blob}</script>"
        f"<script>{SCRIPT}</script></body></html>"
    )
