"""Text and self-contained HTML reports of an :class:`~h5eval_widgets.core.Evaluation`.

The layout is shared; what each task adds (a per-class table, a confusion matrix or the most
confused pairs, a binary threshold's line) comes from the result's own
:meth:`~h5eval_widgets.core.Evaluation.report_parts` and
:meth:`~h5eval_widgets.core.Evaluation.report_lines`.
"""

from __future__ import annotations

import html
import json
import math
from typing import TYPE_CHECKING

from .html_assets import backend_note, confusion_table, data_notes_html, fmt_number, html_table

if TYPE_CHECKING:  # pragma: no cover
    from .evaluation import Evaluation

__all__ = ["Reportable", "text_report", "html_report", "html_summary"]

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:1.5em;color:#222}
table{border-collapse:collapse;margin:.5em 0 1.2em}
th,td{border:1px solid #ccc;padding:3px 8px;text-align:right;font-variant-numeric:tabular-nums}
th{background:#f3f3f3}
td.l,th.l{text-align:left}
.note{color:#555;font-size:.9em}
.cm td{min-width:2.5em}
"""


def _title(ev: "Evaluation") -> str:
    return f"{ev.model_name or 'model'} on {ev.dataset_name or 'dataset'}"


def text_report(ev: "Evaluation") -> str:
    """Plain-text report: metrics, per-class table, confusion matrix, notes."""
    lines = [
        f"h5eval report: {_title(ev)}",
        f"task: {ev.task}   samples: {ev.n_samples}" + (f"   classes: {ev.n_classes}" if ev.is_classification else ""),
    ]
    lines += ev.report_lines()
    lines += ["", "Metrics"]
    width = max(len(k) for k in ev.scores)
    for k, v in ev.scores.items():
        lines.append(f"  {k:<{width}}  {fmt_number(v)}")
    for kind, title, frame in ev.report_parts(pairs=15):
        if kind == "confusion":
            lines += ["", f"{title} (rows = true, columns = predicted)"]
            text = frame.to_string()
        elif kind == "pairs":
            lines += ["", title]
            text = frame.to_string(index=False)
        else:
            lines += ["", title]
            text = frame.to_string(float_format=lambda x: f"{x:.4f}")
        lines += ["  " + line for line in text.splitlines()]
    for k, why in ev.undefined.items():
        lines.append(f"undefined {k}: {why}")
    for note in ev.notes:
        lines.append(f"note: {note}")
    return "\n".join(lines) + "\n"


def html_summary(ev: "Evaluation") -> str:
    """Compact HTML for notebooks (``_repr_html_``): headline metrics and notes."""
    m = ev.metrics()
    parts = [
        f"<div><b>Evaluation</b> · {html.escape(_title(ev))} · {ev.task} · "
        f"{ev.n_samples} samples" + (f" · {ev.n_classes} classes" if ev.is_classification else ""),
        html_table(m, index_label="metric"),
    ]
    parts += [f"<div class='note'>note: {html.escape(n)}</div>" for n in ev.notes]
    parts.append("</div>")
    return "".join(parts)


def html_report(ev: "Evaluation", *, bootstrap: bool = True) -> str:
    """A complete static HTML page: no scripts, no external files."""
    body = [
        f"<h1>{html.escape(_title(ev))}</h1>",
        f"<p>task: {ev.task} · samples: {ev.n_samples}"
        + (f" · classes: {ev.n_classes}" if ev.is_classification else "")
        + "</p>",
    ]
    body += ["<h2>Metrics</h2>", html_table(ev.metrics(), index_label="metric")]
    if bootstrap:
        ci = ev.bootstrap()
        if len(ci):
            body += ["<h2>95% intervals (bootstrap; DeLong for ROC AUC)</h2>", html_table(ci, index_label="metric")]
    for kind, title, frame in ev.report_parts(pairs=20):
        if kind == "confusion":
            body += [f"<h2>{html.escape(title)}</h2>", confusion_table(frame)]
        elif kind == "pairs":
            body += [f"<h2>{html.escape(title)}</h2>", html_table(frame.set_index("true"), index_label="true")]
        else:
            body += [f"<h2>{html.escape(title)}</h2>", html_table(frame, index_label=frame.index.name or "")]
    body += [f"<p>{html.escape(line)}</p>" for line in ev.report_lines()]
    for k, why in ev.undefined.items():
        body.append(f"<p class='note'>undefined {html.escape(k)}: {html.escape(why)}</p>")
    body.append(data_notes_html(ev.notes))
    if backend_note(ev.notes):
        body.append(f"<p class='note'>{html.escape(backend_note(ev.notes))}</p>")
    return (
        "<!DOCTYPE html><html><head><meta charset='utf-8'>"
        f"<title>h5eval report: {html.escape(_title(ev))}</title><style>{_CSS}</style></head>"
        f"<body>{''.join(body)}</body></html>"
    )


class Reportable:
    """Reports of an evaluation (mixed into :class:`~h5eval_widgets.core.Evaluation`): JSON,
    text and HTML, with the parts each task adds."""

    def report_parts(self, *, pairs: int = 15) -> list:
        """The tables this task adds to a report, in order, as ``(kind, title, frame)``.

        ``kind`` is ``'table'`` (a frame indexed by its first column), ``'confusion'`` (counts,
        rows = true, columns = predicted) or ``'pairs'`` (the ``pairs`` most confused pairs, as
        :meth:`most_confused_pairs` gives them). None for a regression: its metrics say it all.
        """
        return []

    def report_lines(self) -> list[str]:
        """Lines this task adds under a report's title (a binary threshold's), else none."""
        return []

    def to_dict(self) -> dict:
        """Plain-Python summary: task, classes, notes, metrics, per-class table, confusion matrix."""
        return {
            "model": self.model_name,
            "dataset": self.dataset_name,
            "task": self.task,
            "n_samples": self.n_samples,
            "classes": list(self.classes) if self.is_classification else None,
            "threshold": None,
            "metrics": {k: _clean(float(v)) for k, v in self.scores.items()},
            "undefined": dict(self.undefined),
            "notes": list(self.notes),
            **({"slice": self.slice_name} if self.slice_name is not None else {}),
        }

    def to_json(self, **kwargs) -> str:
        """:meth:`to_dict` as JSON (nan written as null)."""
        kwargs.setdefault("indent", 2)
        return json.dumps(self.to_dict(), **kwargs)

    def to_text(self) -> str:
        """A plain-text report for terminals and logs."""
        return text_report(self)

    def report_views(self, per_cell: int = 48) -> dict:
        """What this task's interactive HTML report shows, as JSON-ready data: ``matrices``
        (each with its cells' most confident samples, at most ``per_cell``), ``lists`` of
        samples, ``curves`` and, for a binary task, ``threshold`` (the matrix at every threshold
        of a grid). See :mod:`~h5eval_widgets.core.results.report_data`. None here."""
        return {}

    def to_html(
        self,
        data=None,
        *,
        bootstrap: bool = True,
        per_cell: int = 48,
        static: bool = False,
        conformal=None,
        leakage=None,
    ) -> str:
        """A self-contained, interactive HTML report: one file that works from ``file://``
        with no kernel and no network (style, script, pictures and curves inline).

        It holds the headline metrics with their intervals (each with a folded "How ... is
        made": its formula with this evaluation's numbers and its counts, as :meth:`explain`
        gives them), the confusion matrix (a click on a
        cell lists its samples, most confident first, as thumbnails, table rows or text, with
        true and predicted class, confidence and top-3, a page at a time), the per-class table,
        ROC, PR and reliability curves (inline SVG), a threshold slider for a binary model, the
        slices of the metadata columns; a regression shows predicted against true values and
        its largest errors, a multi-label model a matrix per label.

        Parameters
        ----------
        data : Dataset, optional
            The test set, to show the samples (thumbnails of images, features of table rows,
            text). Default: the dataset of the evaluation's explainer (an evaluation built
            with :meth:`from_model` keeps it). Without either, samples are listed by index
            with their true and predicted values only: no pictures, no features.
        bootstrap : bool, default=True
            Show the 95% intervals of the headline metrics.
        per_cell : int, default=48
            Samples listed per matrix cell (the most confident; stated on the page), fewer
            when many cells would make the file large.
        static : bool, default=False
            The earlier page of tables only, with no script (and no samples).
        conformal : ConformalResult, default=None
            Conformal prediction sets of these samples (``ev.conformal(...)``): a "Prediction
            sets" section with the sets at its current ``alpha``: coverage against the target,
            mean set size, the per-class table and the set-size histogram.
        leakage : DataFrame, default=None
            ``ev.leakage_report(train)``: a "Training near-duplicates" section saying how many
            test samples have one and the headline metrics with and without them.
        """
        if static:
            return html_report(self, bootstrap=bootstrap)
        from .html_report import interactive_report

        return interactive_report(
            self, data, per_cell=per_cell, bootstrap=bootstrap, conformal=conformal, leakage=leakage
        )

    def _repr_html_(self) -> str:
        return html_summary(self)


def _clean(v):
    """nan as None, for JSON."""
    return None if isinstance(v, float) and math.isnan(v) else v
