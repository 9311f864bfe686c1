"""The stylesheet and the script inlined in the interactive HTML report (no file fetched), and
the HTML pieces both reports write (numbers, tables).

The script reads the page's data from ``<script type="application/json" id="h5eval-data">``:
a click (or Enter) on a matrix cell lists that cell's samples, most confident first, a page at
a time; the binary threshold slider redraws the matrix and its metrics from the counts stored
for each threshold of the grid, and re-decides the samples listed.

Colours are the dashboard's (:mod:`.palette`) and numbers are written by
:func:`~.names.fmt` in the interactive page (:func:`fmt_cell`; the script has the same
``fmt``). A matrix cell is shaded by :func:`cell_fill`: the diagonal (right answers) in
:data:`~.palette.CORRECT`'s hue, the other cells (errors) in :data:`~.palette.ERROR`'s, each
on its own log scale starting at :data:`FIRST_SHADE` (so a 1 stands out from a white 0), with
black or white text, whichever contrasts more (:func:`text_on`, at least 4.5:1). Wide tables
scroll inside their own box (:func:`scroll`) and pictures shrink to the page's width.
"""

from __future__ import annotations

import html
import math
import re
from typing import Any

import numpy as np

from .._lazy import BACKEND_NOTE
from .names import fmt
from .palette import CORRECT, ERROR, FOCUS, NEUTRAL, SELECTION, WHITE, text_on, tint

__all__ = [
    "CSS",
    "SCRIPT",
    "fmt_number",
    "fmt_cell",
    "html_table",
    "scroll",
    "cell_fill",
    "cell_fills",
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


def fmt_cell(v: Any) -> str:
    """A table cell's text in the interactive report: :func:`~.names.fmt` (NaN "undefined"),
    HTML-escaped."""
    return html.escape(fmt(v, missing="undefined")) if v is not None else "—"


def html_table(df, index_label: str = "", *, number=fmt_number, name=str) -> str:
    """A frame as a ``<table>``; numbers written by ``number``, a column's header by ``name``
    (the key in a tooltip when it differs)."""

    def head_cell(c) -> str:
        key = html.escape(str(c))
        shown = html.escape(name(str(c)))
        return f"<th title='{key}'>{shown}</th>" if shown != key else f"<th>{key}</th>"

    head = "".join(head_cell(c) for c in df.columns)
    rows = "".join(
        f"<tr><th class='l'>{html.escape(str(idx))}</th>{''.join(f'<td>{number(v)}</td>' for v in row)}</tr>"
        for idx, row in zip(df.index, df.itertuples(index=False))
    )
    return (
        f"<table><thead><tr><th class='l'>{html.escape(index_label)}</th>{head}</tr></thead>"
        f"<tbody>{rows}</tbody></table>"
    )


def scroll(inner: str) -> str:
    """``inner`` (a table) in a box that scrolls sideways when it is wider than the page."""
    return f"<div class='scroll'>{inner}</div>"


# ---------------------------------------------------------------------- colours
#: The shade of the smallest non-zero count of a matrix's scale (0 is white, the largest 1).
FIRST_SHADE = 0.3


def cell_fill(value: float, top: float, diagonal: bool) -> str:
    """A matrix cell's colour: white for 0, else the diagonal's :data:`~.palette.CORRECT` or
    an error's :data:`~.palette.ERROR` hue at :data:`FIRST_SHADE` plus the rest along
    ``log(1 + value) / log(1 + top)`` (``top``: the largest value of the cell's group)."""
    if not value > 0:
        return WHITE
    share = math.log1p(value) / math.log1p(top) if top > 0 else 1.0
    return tint(CORRECT if diagonal else ERROR, FIRST_SHADE + (1 - FIRST_SHADE) * min(share, 1.0))


def cell_fills(counts) -> np.ndarray:
    """:func:`cell_fill` of every cell of a square matrix: the diagonal and the other cells each
    on their own scale."""
    c = np.asarray(counts, dtype=np.float64)
    eye = np.eye(*c.shape, dtype=bool)
    tops = {True: float(c[eye].max(initial=0)), False: float(c[~eye].max(initial=0))}
    out = np.empty(c.shape, dtype=object)
    for (i, j), v in np.ndenumerate(c):
        out[i, j] = cell_fill(float(v), tops[i == j], i == j)
    return out


def matrix_legend() -> str:
    """What a matrix's colours and outline mean."""
    box = "<span class='swatch' style='background:{}'></span>"
    return (
        "<p class='note legend'>"
        f"<span>{box.format(tint(CORRECT, 1))}right (diagonal, log scale)</span> "
        f"<span>{box.format(tint(ERROR, 1))}errors (off the diagonal, their own log scale)</span> "
        f"<span>{box.format(WHITE)}0</span> "
        f"<span><span class='swatch sel-swatch'></span>selected cell</span></p>"
    )


def data_notes(notes) -> list[str]:
    """The notes on the data and how it was read (images resized, boxes past their image, a
    likely format mistake...): every note but those the status line says (the Keras backend,
    a training recorder's "epoch 3")."""
    return [n for n in notes if not n.startswith(BACKEND_NOTE) and not re.fullmatch(r"epoch \d+", n)]


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
:root{--fg:#1f2328;--muted:NEUTRAL;--line:#d1d9e0;--head:#f6f8fa;--accent:FOCUS;--sel:SELECTION;
 --right:CORRECT;--wrong:ERROR;--neutral:NEUTRAL}
*,*::before,*::after{box-sizing:border-box}
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:1.5em auto;
 max-width:1200px;padding:0 1em;color:var(--fg)}
img,svg{max-width:100%}
.scroll{overflow-x:auto;max-width:100%}
.scroll>table{margin-right:1px}
h1{font-size:1.5em}h2{font-size:1.2em;margin-top:1.6em;border-bottom:1px solid var(--line)}
table{border-collapse:collapse;margin:.5em 0 1.2em}
th,td{border:1px solid var(--line);padding:3px 8px;text-align:right;font-variant-numeric:tabular-nums}
th{background:var(--head)}td.l,th.l{text-align:left}td{white-space:nowrap}
.note{color:var(--muted);font-size:.9em}
details.data-notes{margin:.4em 0 1em;font-size:.95em}details.data-notes summary{cursor:pointer;font-weight:600}
details.data-notes ul{margin:.3em 0 0 1.2em;padding:0}
tr.explain>td{white-space:normal;text-align:left;border-top:none;padding:0 8px 3px;min-width:min(44em,calc(100vw - 4em))}
tr.explain>td>details{width:0;min-width:min(100%,calc(100vw - 3em))}
details.explain summary{cursor:pointer;font-size:.9em}details.explain[open]{padding-bottom:.4em}
.h5e-explanation table{margin:0}
table.cm td.cell{min-width:2.6em;cursor:pointer;text-align:center}
table.cm td.cell:hover,table.cm td.cell:focus{outline:2px solid var(--accent);outline-offset:-2px}
table.cm td.cell.sel{outline:4px solid var(--sel);outline-offset:-4px}
.legend span{white-space:nowrap;margin-right:.8em}
.swatch{display:inline-block;width:14px;height:11px;border:1px solid #999;margin-right:4px;vertical-align:middle}
.swatch.sel-swatch{border:3px solid var(--sel)}
.row{display:flex;flex-wrap:wrap;gap:1.5em;align-items:flex-start}
.row>*{min-width:0;max-width:100%}
.curve{border:1px solid var(--line);background:#fff;height:auto}
.curve text{font-size:11px;fill:var(--fg)}
#samples-panel{border:1px solid var(--line);padding:.6em;min-height:3em}
.cards{display:flex;flex-wrap:wrap;gap:8px}
.card{border:1px solid var(--line);border-radius:4px;padding:4px;width:150px;font-size:12px;line-height:1.3;
 overflow-wrap:break-word}
table.slices{font-size:.88em}table.slices th.l{white-space:nowrap}
.legend{max-width:32em}
.card.wrong{border:2px solid var(--wrong)}.card.right{border:2px solid var(--right)}
.card img{width:96px;height:96px;object-fit:contain;image-rendering:pixelated;display:block;margin:0 auto 3px}
.card .text{max-height:7em;overflow:auto;white-space:pre-wrap;background:var(--head);padding:2px}
.card table{margin:2px 0;font-size:11px}.card td,.card th{padding:0 3px}
.pager button,.lists button{margin-right:.4em}
input[type=range]{width:420px;max-width:100%;vertical-align:middle}
"""
for _name, _colour in (
    ("SELECTION", SELECTION),
    ("FOCUS", FOCUS),
    ("CORRECT", CORRECT),
    ("ERROR", ERROR),
    ("NEUTRAL", NEUTRAL),
):
    CSS = CSS.replace(_name, _colour)

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
  // names.fmt of a count: whole, with thousands separators
  function count(v) { return Math.round(v).toLocaleString("en-US"); }
  // names.fmt of a float: 3 decimals below 10, 3 significant digits below 0.1, 4 up to 1,000
  function fmt(v) {
    if (v === null || v === undefined || isNaN(v)) return "undefined";
    var a = Math.abs(v);
    if (a === 0) return "0";
    if (!isFinite(v)) return v > 0 ? "∞" : "-∞";
    if (a < 0.001) {
      return v.toExponential(2).replace(/e([+-])(\d)$/, function (_, sign, d) { return "e" + sign + "0" + d; });
    }
    if (a < 0.1) return v.toPrecision(3);
    if (a < 10) return v.toFixed(3);
    if (a < 1000) return v.toPrecision(4);
    return Math.round(v).toLocaleString("en-US");
  }

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
    var alt = "sample " + id + ": true " + r["true"] + ", predicted " + r.predicted;  // the picture's name
    if (r.img) h += "<img alt='" + esc(alt + (r.confidence === undefined ? "" : ", confidence " + r.confidence.toFixed(2))) + "' src='" + r.img + "'>";
    h += "#" + id + (r.file ? " · " + esc(r.file) : "") + "<br>true <b>" + esc(r["true"]) + "</b>";
    h += "<br>pred <b>" + esc(r.predicted) + "</b>";
    if (r.confidence !== undefined) h += " (" + pct(r.confidence) + ")";
    if (r.residual !== undefined) h += "<br>residual " + esc(typeof r.residual === "number" ? fmt(r.residual) : r.residual);
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
         td.dataset.predicted, cellIds(m, i, j), Number(td.dataset.count));
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

  // html_assets.cell_fill and text_on: the diagonal in the right answers' hue, the errors in
  // theirs, each on its own log scale; black or white text by contrast
  var P = D.palette;
  function rgb(h) { return [1, 3, 5].map(function (k) { return parseInt(h.substr(k, 2), 16); }); }
  function hex(c) { return "#" + c.map(function (v) { return ("0" + v.toString(16)).slice(-2); }).join(""); }
  function fill(v, top, diagonal) {
    if (!(v > 0)) return "#ffffff";
    var share = top > 0 ? Math.min(Math.log1p(v) / Math.log1p(top), 1) : 1;
    var t = P.first + (1 - P.first) * share;
    return hex(rgb(diagonal ? P.right : P.wrong).map(function (c) { return Math.round(255 + (c - 255) * t); }));
  }
  function lum(h) {
    var l = rgb(h).map(function (c) {
      c /= 255;
      return c <= 0.03928 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4);
    });
    return 0.2126 * l[0] + 0.7152 * l[1] + 0.0722 * l[2];
  }
  function textOn(bg) {
    var l = lum(bg);
    return (l + 0.05) / 0.05 >= 1.05 / (l + 0.05) ? "#000000" : "#ffffff";
  }
  function shade(td, v, top, diagonal) {
    var bg = fill(v, top, diagonal);
    td.style.background = bg;
    td.style.color = textOn(bg);
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
    var shown = document.getElementById("threshold-value");
    shown.textContent = fmt(T.thresholds[k]);
    shown.title = String(T.thresholds[k]);
    var topRight = Math.max(c[0][0], c[1][1]), topWrong = Math.max(c[0][1], c[1][0]);
    document.querySelectorAll("td.cell[data-m='0']").forEach(function (td) {
      var i = Number(td.dataset.i), j = Number(td.dataset.j);
      td.textContent = count(c[i][j]);
      td.dataset.count = c[i][j];
      shade(td, c[i][j], i === j ? topRight : topWrong, i === j);
    });
    var m = thresholdMetrics(c);
    document.querySelectorAll("[data-threshold-metric]").forEach(function (el) {
      el.textContent = fmt(m[el.dataset.thresholdMetric]);
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


def confusion_table(frame, *, number=fmt_number) -> str:
    """A confusion matrix (a frame of counts, rows = true), shaded by :func:`cell_fills`."""
    cm = frame.to_numpy()
    fills = cell_fills(cm)
    names = [str(c) for c in frame.index]
    head = "".join(f"<th>{html.escape(c)}</th>" for c in names)
    rows = []
    for i, name in enumerate(names):
        cells = []
        for j in range(len(names)):
            bg = fills[i, j]
            cells.append(f"<td style='background:{bg};color:{text_on(bg)}'>{number(cm[i, j])}</td>")
        rows.append(f"<tr><th class='l'>{html.escape(name)}</th>{''.join(cells)}</tr>")
    return (
        "<table class='cm'><thead><tr><th class='l'>true \\ predicted</th>"
        f"{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )
