"""The HTML report's section on conformal prediction sets (``ev.to_html(conformal=res)``): the
sets at the result's alpha, their coverage against the target, mean size, the per-class table
and the set-size histogram (inline SVG with its numbers in a table). Static: no script, no
network."""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

import numpy as np

from .html_assets import scroll
from .names import fmt
from .palette import SERIES

if TYPE_CHECKING:  # pragma: no cover
    from .conformal import ConformalResult

__all__ = ["conformal_section", "size_histogram_svg"]


def size_histogram_svg(counts, *, width: int = 360, height: int = 220, title: str = "Set sizes") -> str:
    """An inline SVG bar chart of ``counts[s]`` samples with sets of ``s`` classes, each bar
    titled with its numbers (a screen reader also gets the table beside it)."""
    counts = np.asarray(counts, dtype=np.int64)
    left, bottom, top, right = 50, 36, 22, 10
    w, h = width - left - right, height - top - bottom
    top_count = max(int(counts.max()), 1) if counts.size else 1
    step = w / max(len(counts), 1)
    parts = [
        f"<svg class='curve conformal-sizes' xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height}' "
        f"viewBox='0 0 {width} {height}' role='img' aria-label='{html.escape(title)}'>",
        f"<text x='{left}' y='14' font-weight='bold'>{html.escape(title)}</text>",
        f"<line x1='{left}' y1='{top + h}' x2='{left + w}' y2='{top + h}' stroke='#999'/>",
        f"<text x='{left - 4}' y='{top + 4}' text-anchor='end'>{top_count:,}</text>",
        f"<text x='{left - 4}' y='{top + h + 4}' text-anchor='end'>0</text>",
        f"<text x='{left + w / 2}' y='{height - 4}' text-anchor='middle'>set size (classes)</text>",
        f"<text transform='translate(11,{top + h / 2}) rotate(-90)' text-anchor='middle'>samples</text>",
    ]
    for s, n in enumerate(counts):
        bh = h * n / top_count
        x = left + s * step + step * 0.15
        parts.append(
            f"<rect class='bar' data-size='{s}' x='{x:.1f}' y='{top + h - bh:.1f}' width='{step * 0.7:.1f}' "
            f"height='{bh:.1f}' fill='{SERIES[2]}'><title>size {s}: {n:,} samples</title></rect>"
            f"<text x='{x + step * 0.35:.1f}' y='{top + h + 13}' text-anchor='middle'>{s}</text>"
        )
    return "".join(parts) + "</svg>"


def _per_class_table(res: "ConformalResult") -> str:
    table = res.per_class
    rows = []
    for name, row in table.iterrows():
        n = int(row["n"])
        below = n > 0 and row["coverage"] < res.target
        flag = " class='below'" if below else ""
        rows.append(
            f"<tr{flag}><th class='l'>{html.escape(str(name))}</th><td>{n:,}</td>"
            f"<td>{html.escape(fmt(row['coverage'], missing='no samples'))}{' (below target)' if below else ''}</td>"
            f"<td>{html.escape(fmt(row['mean_set_size'], missing='—'))}</td>"
            f"<td>{html.escape(fmt(row['empty_rate'], missing='—'))}</td></tr>"
        )
    return scroll(
        "<table class='conformal-per-class'><thead><tr><th class='l'>true class</th><th>samples</th>"
        "<th>coverage</th><th>mean set size</th><th>empty sets</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def _size_table(res: "ConformalResult") -> str:
    by_size = res.coverage_by_size()
    rows = "".join(
        f"<tr><th class='l'>{s}</th><td>{int(r['n']):,}</td><td>{html.escape(fmt(r['coverage'], missing='—'))}</td></tr>"
        for s, r in by_size.iterrows()
        if r["n"] > 0
    )
    return (
        "<table class='conformal-sizes'><thead><tr><th class='l'>set size</th><th>samples</th>"
        f"<th>coverage</th></tr></thead><tbody>{rows}</tbody></table>"
    )


def conformal_section(res: "ConformalResult | None") -> list[str]:
    """The report's "Prediction sets" section for ``res`` at its current ``alpha`` ([] for None)."""
    if res is None:
        return []
    kind = "class-conditional " if res.mondrian else ""
    head = (
        f"{kind}{res.method.upper()} sets at alpha = {res.alpha:g}: coverage <b>{res.coverage:.1%}</b> against a "
        f"target of {res.target:.1%}, mean set size {res.mean_set_size:.2f}, {res.singleton_rate:.1%} single-class "
        f"and {res.empty_rate:.1%} empty sets, over {res.n_samples:,} samples ({res.n_calibration:,} calibrated on)."
    )
    notes = "".join(f"<li>{html.escape(n)}</li>" for n in res.notes)
    sizes = res.coverage_by_size()["n"].to_numpy()
    return [
        "<h2 id='conformal'>Prediction sets (conformal)</h2>",
        f"<p>{head}</p>",
        f"<ul class='note'>{notes}</ul>" if notes else "",
        "<p class='note'>A set holds every class whose score is within the calibration set's "
        f"{res.target:.0%} quantile; it holds the true class at least {res.target:.0%} of the time on average if "
        "the calibration and test samples are exchangeable (drawn the same way). The guarantee is marginal: "
        "single classes may fall below it"
        + ("" if res.mondrian else " (class-conditional calibration, mondrian=True, covers each class)")
        + ".</p>",
        "<h3>Per true class</h3>",
        _per_class_table(res),
        "<h3>Set sizes</h3>",
        f"<div class='row'>{size_histogram_svg(sizes)}{_size_table(res)}</div>",
    ]
