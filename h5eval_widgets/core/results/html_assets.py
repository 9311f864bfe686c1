"""The stylesheet and the script inlined in the interactive HTML report (no file fetched), and
the HTML pieces both reports write (numbers, tables).

The script reads the page's data from ``<script type="application/json" id="h5eval-data">``:
a click (or Enter) on a matrix cell lists that cell's samples, most confident first, a page at
a time; the binary threshold slider redraws the matrix and its metrics from the counts stored
for each threshold of the grid, and re-decides the samples listed.
"""

from __future__ import annotations

import html
import math
from typing import Any

import numpy as np

from .._lazy import BACKEND_NOTE
from ..metrics.functions import normalize_confusion

__all__ = [
    "CSS",
    "SCRIPT",
    "fmt_number",
    "html_table",
    "confusion_table",
    "data_notes",
    "backend_note",
    "data_notes_html",
]


def fmt_number(v: Any) -> str:
    if v is None:
        return "—"
    if isinstance(v, str):
        return html.escape(v)
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    v = float(v)
    if math.isnan(v):
        return "undefined"
    return str(int(v)) if v == round(v) and abs(v) >= 1 else f"{v:.4f}"


def html_table(df, index_label: str = "") -> str:
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in df.columns)
    rows = "".join(
        f"<tr><th class='l'>{html.escape(str(idx))}</th>{''.join(f'<td>{fmt_number(v)}</td>' for v in row)}</tr>"
        for idx, row in zip(df.index, df.itertuples(index=False))
    )
    return (
        f"<table><thead><tr><th class='l'>{html.escape(index_label)}</th>{head}</tr></thead>"
        f"<tbody>{rows}</tbody></table>"
    )


def data_notes(notes) -> list[str]:
    """The notes on the data and how it was read (images resized, boxes past their image, a
    likely format mistake...): every note but the one naming the Keras backend."""
    return [n for n in notes if not n.startswith(BACKEND_NOTE)]


def backend_note(notes) -> str:
    """The note naming the Keras backend ('' when the evaluation ran no model here)."""
    return next((n for n in notes if n.startswith(BACKEND_NOTE)), "")


def data_notes_html(notes, *, open_: bool = True) -> str:
    """A "Data notes (n)" disclosure listing :func:`data_notes` ('' when there is none)."""
    kept = data_notes(notes)
    if not kept:
        return ""
    items = "".join(f"<li>{html.escape(n)}</li>" for n in kept)
    return (
        f"<details class='data-notes'{' open' if open_ else ''}><summary>Data notes ({len(kept)})</summary>"
        f"<ul>{items}</ul></details>"
    )


CSS = """
:root{--fg:#1f2328;--muted:#59636e;--line:#d1d9e0;--head:#f6f8fa;--accent:#0969da}
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:1.5em auto;
 max-width:1200px;padding:0 1em;color:var(--fg)}
h1{font-size:1.5em}h2{font-size:1.2em;margin-top:1.6em;border-bottom:1px solid var(--line)}
table{border-collapse:collapse;margin:.5em 0 1.2em}
th,td{border:1px solid var(--line);padding:3px 8px;text-align:right;font-variant-numeric:tabular-nums}
th{background:var(--head)}td.l,th.l{text-align:left}
.note{color:var(--muted);font-size:.9em}
details.data-notes{margin:.4em 0 1em;font-size:.95em}details.data-notes summary{cursor:pointer;font-weight:600}
details.data-notes ul{margin:.3em 0 0 1.2em;padding:0}
table.cm td.cell{min-width:2.6em;cursor:pointer;text-align:center}
table.cm td.cell:hover,table.cm td.cell:focus{outline:2px solid var(--accent)}
table.cm td.cell.sel{outline:3px solid #d1242f}
.row{display:flex;flex-wrap:wrap;gap:1.5em;align-items:flex-start}
.curve{border:1px solid var(--line);background:#fff}
.curve text{font-size:11px;fill:var(--fg)}
#samples-panel{border:1px solid var(--line);padding:.6em;min-height:3em}
.cards{display:flex;flex-wrap:wrap;gap:8px}
.card{border:1px solid var(--line);border-radius:4px;padding:4px;width:150px;font-size:12px;line-height:1.3}
.card.wrong{border-color:#d1242f}.card.right{border-color:#1a7f37}
.card img{width:96px;height:96px;object-fit:contain;image-rendering:pixelated;display:block;margin:0 auto 3px}
.card .text{max-height:7em;overflow:auto;white-space:pre-wrap;background:var(--head);padding:2px}
.card table{margin:2px 0;font-size:11px}.card td,.card th{padding:0 3px}
.pager button,.lists button{margin-right:.4em}
input[type=range]{width:420px;vertical-align:middle}
"""

SCRIPT = r"""
(function () {
  "use strict";
  var D = JSON.parse(document.getElementById("h5eval-data").textContent);
  var S = D.samples, PAGE = D.page_size, T = D.threshold;
  var shown = {title: "", ids: [], page: 0, total: 0};
  var tIndex = T ? T.start : 0;

  function esc(s) {
    return String(s).replace(/[&<>"']/g, function (c) {
      return {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[c];
    });
  }
  function pct(v) { return (100 * v).toFixed(1) + "%"; }

  // A binary sample is re-decided at the slider's threshold.
  function decided(id) {
    var r = S[id];
    if (!T || T.scores[id] === undefined) return r;
    var p = T.scores[id], t = T.thresholds[tIndex], pos = p >= t ? 1 : 0;
    var out = Object.assign({}, r);
    out.predicted = T.names[pos];
    out.confidence = pos ? p : 1 - p;
    out.correct = out.predicted === r["true"];
    return out;
  }

  function card(id) {
    var r = decided(id), cls = r.correct === undefined ? "" : (r.correct ? "right" : "wrong");
    var h = "<div class='card " + cls + "' data-sample='" + id + "'>";
    if (r.img) h += "<img alt='sample " + id + "' src='" + r.img + "'>";
    h += "#" + id + (r.file ? " · " + esc(r.file) : "") + "<br>true <b>" + esc(r["true"]) + "</b>";
    h += "<br>pred <b>" + esc(r.predicted) + "</b>";
    if (r.confidence !== undefined) h += " (" + pct(r.confidence) + ")";
    if (r.residual !== undefined) h += "<br>residual " + esc(r.residual);
    if (r.top_classes) h += "<br><span class='note'>" + esc(r.top_classes) + "</span>";
    if (r.text) h += "<div class='text'>" + esc(r.text) + "</div>";
    if (r.row) {
      h += "<table>" + r.row.map(function (kv) {
        return "<tr><th class='l'>" + esc(kv[0]) + "</th><td>" + esc(kv[1]) + "</td></tr>";
      }).join("") + "</table>";
    }
    return h + "</div>";
  }

  function render() {
    var n = shown.ids.length, pages = Math.max(1, Math.ceil(n / PAGE));
    shown.page = Math.min(Math.max(shown.page, 0), pages - 1);
    var head = "<b>" + esc(shown.title) + "</b> · " + shown.total + " samples";
    if (shown.total > n) head += ", the " + n + " most confident listed";
    var pager = n > PAGE ? "<div class='pager'><button data-go='-1'>◀ previous</button>" +
      "<span>page " + (shown.page + 1) + " of " + pages + "</span> " +
      "<button data-go='1'>next ▶</button></div>" : "";
    var ids = shown.ids.slice(shown.page * PAGE, (shown.page + 1) * PAGE);
    var body = n ? "<div class='cards'>" + ids.map(card).join("") + "</div>" : "<p class='note'>No samples.</p>";
    document.getElementById("samples-panel").innerHTML = "<p>" + head + "</p>" + pager + body;
  }

  function show(title, ids, total) {
    shown = {title: title, ids: ids.map(String), page: 0, total: total};
    render();
  }

  document.getElementById("samples-panel").addEventListener("click", function (e) {
    var go = e.target.getAttribute && e.target.getAttribute("data-go");
    if (go) { shown.page += Number(go); render(); }
  });

  function cellIds(m, i, j) {
    if (T && m === 0) {
      var t = T.thresholds[tIndex];
      var pool = j === 1 ? T.high[i] : T.low[i];
      return pool.filter(function (id) {
        var p = T.scores[String(id)];
        return j === 1 ? p >= t : p < t;
      }).slice(0, T.cap);
    }
    return D.matrices[m].cells[i + "," + j] || [];
  }

  function openCell(td) {
    document.querySelectorAll("td.cell.sel").forEach(function (c) { c.classList.remove("sel"); });
    td.classList.add("sel");
    var m = Number(td.dataset.m), i = Number(td.dataset.i), j = Number(td.dataset.j);
    show((D.matrices[m].prefix || "") + "true " + td.dataset["true"] + " · predicted " +
         td.dataset.predicted, cellIds(m, i, j), Number(td.textContent));
  }

  document.querySelectorAll("td.cell").forEach(function (td) {
    td.addEventListener("click", function () { openCell(td); });
    td.addEventListener("keydown", function (e) { if (e.key === "Enter") openCell(td); });
  });
  document.querySelectorAll("button[data-list]").forEach(function (b) {
    b.addEventListener("click", function () {
      var l = D.lists[Number(b.dataset.list)];
      show(l.title, l.ids, l.ids.length);
    });
  });

  function shade(td, share) {
    var s = Math.round(255 - 180 * share);
    td.style.background = "rgb(" + s + "," + s + ",255)";
    td.style.color = s < 140 ? "#fff" : "#1f2328";
  }

  function thresholdMetrics(c) {
    var tn = c[0][0], fp = c[0][1], fn = c[1][0], tp = c[1][1], n = tn + fp + fn + tp;
    var div = function (a, b) { return b ? a / b : NaN; };
    var prec = div(tp, tp + fp), rec = div(tp, tp + fn), spec = div(tn, tn + fp);
    return {accuracy: div(tp + tn, n), precision: prec, recall: rec, specificity: spec,
            f1: div(2 * tp, 2 * tp + fp + fn), balanced_accuracy: (rec + spec) / 2};
  }

  function setThreshold(k) {
    tIndex = k;
    var c = T.counts[k];
    document.getElementById("threshold-value").textContent = T.thresholds[k].toFixed(4);
    document.querySelectorAll("td.cell[data-m='0']").forEach(function (td) {
      var i = Number(td.dataset.i), j = Number(td.dataset.j), row = c[i][0] + c[i][1];
      td.textContent = c[i][j];
      shade(td, row ? c[i][j] / row : 0);
    });
    var m = thresholdMetrics(c);
    document.querySelectorAll("[data-threshold-metric]").forEach(function (el) {
      var v = m[el.dataset.thresholdMetric];
      el.textContent = isNaN(v) ? "undefined" : v.toFixed(4);
    });
    var sel = document.querySelector("td.cell.sel[data-m='0']");
    if (sel) openCell(sel);
  }

  if (T) {
    var slider = document.getElementById("threshold");
    slider.addEventListener("input", function () { setThreshold(Number(slider.value)); });
    document.querySelectorAll("button[data-threshold]").forEach(function (b) {
      b.addEventListener("click", function () {
        slider.value = b.dataset.threshold;
        setThreshold(Number(b.dataset.threshold));
      });
    });
    setThreshold(tIndex);
  }
  var first = D.lists.length ? document.querySelector("button[data-list]") : null;
  if (first) first.click();
})();
"""


def confusion_table(frame) -> str:
    """A confusion matrix (a frame of counts, rows = true) with each cell shaded by its row share."""
    cm = frame.to_numpy()
    norm = normalize_confusion(cm, "true")
    names = [str(c) for c in frame.index]
    head = "".join(f"<th>{html.escape(c)}</th>" for c in names)
    rows = []
    for i, name in enumerate(names):
        cells = []
        for j in range(len(names)):
            shade = int(255 - 180 * float(norm[i, j]))
            color = "#fff" if shade < 140 else "#222"
            cells.append(f"<td style='background:rgb({shade},{shade},255);color:{color}'>{fmt_number(cm[i, j])}</td>")
        rows.append(f"<tr><th class='l'>{html.escape(name)}</th>{''.join(cells)}</tr>")
    return (
        "<table class='cm'><thead><tr><th class='l'>true \\ predicted</th>"
        f"{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )
