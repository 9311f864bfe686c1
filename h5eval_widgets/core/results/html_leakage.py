"""The HTML report's leakage line (``ev.to_html(leakage=ev.leakage_report(train))``): how many
test samples have a near-duplicate in the training set, and the headline metrics with and without
them, each with its bootstrap interval. Static: no script, no network."""

from __future__ import annotations

import html

from .names import fmt, fmt_interval, metric_name

__all__ = ["leakage_section"]


def leakage_section(report) -> list[str]:
    """The report's "Training near-duplicates" section for a ``leakage_report`` ([] for None)."""
    if report is None:
        return []
    dups = report.attrs["duplicates"]
    n_all, n_without = report.attrs["n_all"], report.attrs["n_without"]
    agree = int(dups["labels_agree"].sum()) if len(dups) else 0
    head = (
        f"<b>{len(dups):,}</b> of {n_all:,} test samples have a near-duplicate in the training set "
        f"(distance below {fmt(dups.attrs['threshold'])} in the model's embedding; {agree:,} of them with the "
        "same label). The metrics without them, over "
        f"{n_without:,} samples:"
    )
    rows = "".join(
        f"<tr><th scope='row'>{html.escape(metric_name(m))}</th>"
        f"<td>{fmt_interval(r['all'], r['all_low'], r['all_high'])}</td>"
        f"<td>{fmt_interval(r['without'], r['without_low'], r['without_high'])}</td>"
        f"<td>{fmt(r['difference'])}</td></tr>"
        for m, r in report.iterrows()
    )
    listed = ", ".join(str(int(i)) for i in dups["test_index"].to_numpy()[:50])
    more = f" and {len(dups) - 50:,} more" if len(dups) > 50 else ""
    return [
        "<h2 id='leakage'>Training near-duplicates (leakage)</h2>",
        f"<p class='leakage-line'>{head}</p>",
        "<table class='leakage'><thead><tr><th scope='col'>metric</th><th scope='col'>all (95% interval)</th>"
        "<th scope='col'>without near-duplicates</th><th scope='col'>difference</th></tr></thead>"
        f"<tbody>{rows}</tbody></table>",
        f"<p class='note'>The test samples with a near-duplicate (nearest first): {listed}{more}.</p>"
        if listed
        else "",
    ]
