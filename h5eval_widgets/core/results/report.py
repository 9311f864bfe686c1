"""Text and self-contained HTML reports of an :class:`~h5eval_widgets.core.Evaluation`."""

from __future__ import annotations

import html
import math
from typing import TYPE_CHECKING

import numpy as np

from . import BinaryEvaluation, SingleLabelEvaluation

if TYPE_CHECKING:  # pragma: no cover
    from .evaluation import Evaluation

__all__ = ["text_report", "html_report", "html_summary"]

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:1.5em;color:#222}
table{border-collapse:collapse;margin:.5em 0 1.2em}
th,td{border:1px solid #ccc;padding:3px 8px;text-align:right;font-variant-numeric:tabular-nums}
th{background:#f3f3f3}
td.l,th.l{text-align:left}
.note{color:#555;font-size:.9em}
.cm td{min-width:2.5em}
"""


def _fmt(v) -> str:
    if v is None:
        return "—"
    if isinstance(v, str):
        return html.escape(v)
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    v = float(v)
    if math.isnan(v):
        return "undefined"
    if v == round(v) and abs(v) >= 1:
        return str(int(v))
    return f"{v:.4f}"


def _title(ev: "Evaluation") -> str:
    return f"{ev.model_name or 'model'} on {ev.dataset_name or 'dataset'}"


def text_report(ev: "Evaluation") -> str:
    """Plain-text report: metrics, per-class table, confusion matrix, notes."""
    lines = [
        f"h5eval report: {_title(ev)}",
        f"task: {ev.task}   samples: {ev.n_samples}"
        + (f"   classes: {ev.n_classes}" if ev.is_classification else ""),
    ]
    if isinstance(ev, BinaryEvaluation):
        lines.append(
            f"threshold: {ev.threshold:g} (best F1 at {_fmt(ev.best_threshold('f1'))}, "
            f"best Youden's J at {_fmt(ev.best_threshold('youden'))})"
        )
    lines += ["", "Metrics"]
    width = max(len(k) for k in ev.scores)
    for k, v in ev.scores.items():
        lines.append(f"  {k:<{width}}  {_fmt(v)}")
    if ev.is_classification:
        pc = ev.per_class()
        lines += ["", "Per class"]
        lines += ["  " + line for line in pc.to_string(float_format=lambda x: f"{x:.4f}").splitlines()]
        if isinstance(ev, SingleLabelEvaluation) and ev.n_classes <= 30:
            lines += ["", "Confusion matrix (rows = true, columns = predicted)"]
            cm = ev.confusion_frame()
            lines += ["  " + line for line in cm.to_string().splitlines()]
        elif isinstance(ev, SingleLabelEvaluation):
            lines += ["", "Most confused pairs"]
            lines += ["  " + l for l in ev.most_confused_pairs(15).to_string(index=False).splitlines()]
    for k, why in ev.undefined.items():
        lines.append(f"undefined {k}: {why}")
    for note in ev.notes:
        lines.append(f"note: {note}")
    return "\n".join(lines) + "\n"


def _table(df, *, index_label: str = "") -> str:
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in df.columns)
    rows = []
    for idx, row in df.iterrows():
        cells = "".join(f"<td>{_fmt(v)}</td>" for v in row.values)
        rows.append(f"<tr><th class='l'>{html.escape(str(idx))}</th>{cells}</tr>")
    return (
        f"<table><thead><tr><th class='l'>{html.escape(index_label)}</th>{head}</tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def _cm_table(ev: "Evaluation") -> str:
    cm = np.asarray(ev.confusion_matrix())
    norm = ev.confusion_matrix("true")
    head = "".join(f"<th>{html.escape(c)}</th>" for c in ev.classes)
    rows = []
    for i, name in enumerate(ev.classes):
        cells = []
        for j in range(ev.n_classes):
            shade = int(255 - 180 * float(norm[i, j]))
            color = "#fff" if shade < 140 else "#222"
            cells.append(
                f"<td style='background:rgb({shade},{shade},255);color:{color}'>{_fmt(cm[i, j])}</td>"
            )
        rows.append(f"<tr><th class='l'>{html.escape(name)}</th>{''.join(cells)}</tr>")
    return (
        "<table class='cm'><thead><tr><th class='l'>true \\ predicted</th>"
        f"{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )


def html_summary(ev: "Evaluation") -> str:
    """Compact HTML for notebooks (``_repr_html_``): headline metrics and notes."""
    m = ev.metrics()
    parts = [
        f"<div><b>Evaluation</b> · {html.escape(_title(ev))} · {ev.task} · "
        f"{ev.n_samples} samples" + (f" · {ev.n_classes} classes" if ev.is_classification else ""),
        _table(m, index_label="metric"),
    ]
    parts += [f"<div class='note'>note: {html.escape(n)}</div>" for n in ev.notes]
    parts.append("</div>")
    return "".join(parts)


def html_report(ev: "Evaluation", *, bootstrap: bool = True) -> str:
    """A complete static HTML page: no scripts, no external files."""
    body = [f"<h1>{html.escape(_title(ev))}</h1>",
            f"<p>task: {ev.task} · samples: {ev.n_samples}"
            + (f" · classes: {ev.n_classes}" if ev.is_classification else "") + "</p>"]
    body += ["<h2>Metrics</h2>", _table(ev.metrics(), index_label="metric")]
    if bootstrap:
        ci = ev.bootstrap()
        if len(ci):
            body += ["<h2>95% intervals (bootstrap; DeLong for ROC AUC)</h2>",
                     _table(ci, index_label="metric")]
    if ev.is_classification:
        body += ["<h2>Per class</h2>", _table(ev.per_class(), index_label="class")]
        if isinstance(ev, SingleLabelEvaluation) and ev.n_classes <= 30:
            body += ["<h2>Confusion matrix</h2>", _cm_table(ev)]
        elif isinstance(ev, SingleLabelEvaluation):
            body += ["<h2>Most confused pairs</h2>",
                     _table(ev.most_confused_pairs(20).set_index("true"), index_label="true")]
    if isinstance(ev, BinaryEvaluation):
        body.append(
            f"<p>threshold {ev.threshold:g}; best F1 at {_fmt(ev.best_threshold('f1'))}; "
            f"best Youden's J at {_fmt(ev.best_threshold('youden'))}</p>"
        )
    for k, why in ev.undefined.items():
        body.append(f"<p class='note'>undefined {html.escape(k)}: {html.escape(why)}</p>")
    body += [f"<p class='note'>note: {html.escape(n)}</p>" for n in ev.notes]
    return (
        "<!DOCTYPE html><html><head><meta charset='utf-8'>"
        f"<title>h5eval report: {html.escape(_title(ev))}</title><style>{_CSS}</style></head>"
        f"<body>{''.join(body)}</body></html>"
    )
