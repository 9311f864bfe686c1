"""The keyboard's way into a confusion matrix: one focusable element over the bqplot figure.

A :class:`GridKeys` is a small anywidget laid over the cells of a :class:`~._matrix.MatrixPlot`
(in the same box, positioned from the figure's margins). It is the matrix's one tab stop: the
arrow keys move a cursor between cells (Home and End to a row's ends, PageUp and PageDown to the
column's ends, Ctrl+Home and Ctrl+End to the corners), Enter or Space opens the cell as a click
does, and Tab leaves. Nothing in it takes the pointer (``pointer-events: none``): clicks reach the
heatmap below.

For screen readers it is a WAI-ARIA grid of which only the current cell is in the page (a
"virtual" grid: ``aria-rowcount`` and ``aria-colcount`` give the size, ``aria-rowindex`` and
``aria-colindex`` the position, ``aria-activedescendant`` the cell), so a matrix of hundreds of
classes is a handful of elements, not one per cell. The cell's name is made in the page from the
names and the numbers Python sends once per drawing ("true 8, predicted 1: 14 samples"), so
moving says it at once, without a round trip to the kernel.

The JavaScript is inline (works offline, no CDN). ``cursor`` and ``opened`` are synced: the
browser sets ``cursor`` as the keys move and adds one to ``opened`` on Enter, and Python calls
the handlers of :meth:`GridKeys.on_open` with the data a click on the heatmap sends.

A :class:`KeyRelay` does the same for the samples view: it sends Python the arrows and Escape
pressed on a card's button (or under the pointer), and leaves every other key, Tab above all, to
the page.
"""

from __future__ import annotations

from typing import Callable, Sequence

import anywidget
import numpy as np
import traitlets as T

from ..core.results import palette

__all__ = ["GridKeys", "KeyRelay", "cell_name"]

#: The cursor and the focus ring: a dark line inside a white one (or the other way round), so
#: that one of the two contrasts at least 4.5:1 with any cell colour and with the page.
RING_DARK = palette.BLACK
RING_LIGHT = palette.WHITE

#: A cell's name ({true}, {pred} and {value} filled in), and its name when it holds 1.
DEFAULT_TEMPLATE = ("true {true}, predicted {pred}: {value} samples", "true {true}, predicted {pred}: {value} sample")

_ESM = """
function fmt(v, spec) {
  const m = /\\.(\\d+)f/.exec(spec || '.0f');
  const d = m ? Number(m[1]) : 0;
  if (v === null || v === undefined || Number.isNaN(v)) return 'no value';
  return Number(v).toLocaleString('en-US', {minimumFractionDigits: d, maximumFractionDigits: d});
}
function fill(template, names, values, n, spec, i, j) {
  const v = values[i * n + j];
  let t = (v === 1 && spec.endsWith('0f')) ? template[1] : template[0];
  if (v === null || v === undefined || Number.isNaN(v)) t = t.split('{value}')[0] + '{value}';  // no unit
  return t.replaceAll('{true}', names[i]).replaceAll('{pred}', names[j]).replaceAll('{value}', fmt(v, spec));
}
let counter = 0;
function render({ model, el }) {
  const id = `h5eval-grid-${++counter}-${Math.random().toString(36).slice(2, 8)}`;
  el.classList.add('h5eval-grid-keys');
  const grid = document.createElement('div');
  grid.className = 'h5eval-grid';
  grid.tabIndex = 0;
  grid.setAttribute('role', 'grid');
  grid.setAttribute('aria-readonly', 'true');
  const hint = document.createElement('span');
  hint.id = id + '-hint';
  hint.className = 'h5eval-sr-only';
  hint.textContent = 'Arrow keys move between cells; Enter or Space shows the cell\\'s samples.';
  const row = document.createElement('div');
  row.setAttribute('role', 'row');
  row.className = 'h5eval-grid-row';
  const cell = document.createElement('div');
  cell.id = id + '-cell';
  cell.setAttribute('role', 'gridcell');
  cell.className = 'h5eval-grid-cursor';
  const text = document.createElement('span');
  text.className = 'h5eval-sr-only';
  cell.appendChild(text);
  row.appendChild(cell);
  grid.append(row, hint);
  grid.setAttribute('aria-describedby', hint.id);
  grid.setAttribute('aria-activedescendant', cell.id);
  el.appendChild(grid);

  const place = () => {
    const box = el.parentElement;
    const fig = box && box.querySelector('.h5eval-matrix');
    if (!fig) return;
    const m = model.get('margin') || {};
    const r = fig.getBoundingClientRect(), b = box.getBoundingClientRect();
    const left = r.left - b.left + (m.left || 0), top = r.top - b.top + (m.top || 0);
    const w = r.width - (m.left || 0) - (m.right || 0), h = r.height - (m.top || 0) - (m.bottom || 0);
    Object.assign(grid.style, {left: `${left}px`, top: `${top}px`, width: `${Math.max(w, 0)}px`,
                               height: `${Math.max(h, 0)}px`});
    const n = Math.max(model.get('n'), 1);
    const [i, j] = model.get('cursor');
    Object.assign(cell.style, {left: `${(100 * j) / n}%`, top: `${(100 * i) / n}%`,
                               width: `${100 / n}%`, height: `${100 / n}%`});
  };
  const describe = () => {
    const n = model.get('n'), [i, j] = model.get('cursor');
    grid.setAttribute('aria-label', model.get('label'));
    grid.setAttribute('aria-rowcount', String(n));
    grid.setAttribute('aria-colcount', String(n));
    row.setAttribute('aria-rowindex', String(i + 1));
    cell.setAttribute('aria-colindex', String(j + 1));
    const names = model.get('names'), values = model.get('values');
    text.textContent = n > 0 && names.length === n
      ? fill(model.get('template'), names, values, n, model.get('value_format'), i, j) : '';
    place();
  };
  const move = (i, j) => {
    const n = model.get('n');
    if (n < 1) return;
    i = Math.min(Math.max(i, 0), n - 1);
    j = Math.min(Math.max(j, 0), n - 1);
    model.set('cursor', [i, j]);
    model.save_changes();
    describe();
  };
  grid.addEventListener('keydown', (e) => {
    const n = model.get('n'), [i, j] = model.get('cursor');
    const go = {
      ArrowUp: [i - 1, j], ArrowDown: [i + 1, j], ArrowLeft: [i, j - 1], ArrowRight: [i, j + 1],
      Home: e.ctrlKey ? [0, 0] : [i, 0], End: e.ctrlKey ? [n - 1, n - 1] : [i, n - 1],
      PageUp: [0, j], PageDown: [n - 1, j],
    }[e.key];
    if (go && !e.altKey && !e.metaKey) {
      e.preventDefault();
      e.stopPropagation();
      move(go[0], go[1]);
    } else if ((e.key === 'Enter' || e.key === ' ') && !e.ctrlKey && !e.altKey && !e.metaKey) {
      e.preventDefault();
      e.stopPropagation();
      model.set('opened', model.get('opened') + 1);
      model.save_changes();
    }
  });
  const changed = () => describe();
  for (const name of ['cursor', 'n', 'names', 'values', 'template', 'value_format', 'label', 'margin']) {
    model.on(`change:${name}`, changed);
  }
  const resize = new ResizeObserver(() => place());
  const fig = () => el.parentElement && el.parentElement.querySelector('.h5eval-matrix');
  // the figure is drawn after this widget is attached: watch it once it is there
  const attach = () => { const f = fig(); if (f) { resize.observe(f); describe(); } else setTimeout(attach, 200); };
  attach();
  grid.addEventListener('focus', place);
  return () => {
    resize.disconnect();
    for (const name of ['cursor', 'n', 'names', 'values', 'template', 'value_format', 'label', 'margin']) {
      model.off(`change:${name}`, changed);
    }
  };
}
export default { render };
"""

_CSS = f"""
.h5eval-matrix-box {{ position: relative; }}
.h5eval-grid-keys {{ position: absolute; inset: 0; pointer-events: none; overflow: visible; }}
.h5eval-grid {{ position: absolute; pointer-events: none; box-sizing: border-box; outline: none; }}
.h5eval-grid:focus-visible, .h5eval-grid:focus {{
  outline: 2px solid {RING_DARK}; outline-offset: 2px; box-shadow: 0 0 0 2px {RING_LIGHT};
}}
.h5eval-grid-row {{ position: absolute; inset: 0; }}
.h5eval-grid-cursor {{
  position: absolute; box-sizing: border-box; opacity: 0;
  border: 2px solid {RING_DARK}; box-shadow: inset 0 0 0 2px {RING_LIGHT}, 0 0 0 2px {RING_LIGHT};
}}
/* drawn while the grid has the focus; transparent (not hidden: the cell stays in the
   accessibility tree, the grid's row needs it) otherwise */
.h5eval-grid:focus .h5eval-grid-cursor {{ opacity: 1; }}
.h5eval-sr-only {{
  position: absolute; width: 1px; height: 1px; padding: 0; margin: -1px; overflow: hidden;
  clip: rect(0, 0, 0, 0); white-space: nowrap; border: 0;
}}
"""


def _fmt(value: float, spec: str) -> str:
    """``value`` as the page writes it (``spec``'s decimals, thousands separated)."""
    if value != value:
        return "no value"
    decimals = int(spec.rsplit(".", 1)[-1].rstrip("f") or 0) if "." in spec else 0
    return f"{value:,.{decimals}f}"


def cell_name(keys: "GridKeys", i: int, j: int) -> str:
    """What a screen reader hears on cell ``(i, j)`` of ``keys``: the same text the page makes."""
    n = keys.n
    v = keys.values[i * n + j]
    v = float("nan") if v is None else float(v)
    one = v == 1 and keys.value_format.endswith("0f")
    template = keys.template[1] if one else keys.template[0]
    if v != v:  # no number (a rate of no samples): no unit either
        template = template.split("{value}")[0] + "{value}"
    names = keys.names
    return (
        template.replace("{true}", names[i]).replace("{pred}", names[j]).replace("{value}", _fmt(v, keys.value_format))
    )


class GridKeys(anywidget.AnyWidget):
    """The matrix's tab stop, cursor and cell names (see the module's docstring).

    Python sets what is drawn with :meth:`show`; the page sets ``cursor`` and ``opened``.
    """

    _esm = _ESM
    _css = _CSS

    n = T.Int(0, help="Cells a side.").tag(sync=True)
    names = T.List(T.Unicode(), help="Each row's (and column's) class name.").tag(sync=True)
    values = T.List(T.Float(allow_none=True), help="The numbers shown, row by row (rows true).").tag(sync=True)
    value_format = T.Unicode(".0f", help="How the numbers are written ('.0f', '.2f'...).").tag(sync=True)
    template = T.List(
        T.Unicode(),
        default_value=list(DEFAULT_TEMPLATE),
        help="A cell's name, and its name when its count is 1: {true}, {pred} and {value} filled in.",
    ).tag(sync=True)
    label = T.Unicode("confusion matrix", help="The grid's accessible name.").tag(sync=True)
    margin = T.Dict(help="The figure's margins (pixels): where the cells are.").tag(sync=True)
    cursor = T.List(T.Int(), default_value=[0, 0], minlen=2, maxlen=2, help="(row, column) of the cursor.").tag(
        sync=True
    )
    opened = T.Int(0, help="How many times Enter or Space opened a cell (the page adds one).").tag(sync=True)

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._open_handlers: list[Callable[[dict], None]] = []
        self.observe(self._on_opened, names="opened")

    def show(
        self,
        values: np.ndarray,
        names: Sequence[str],
        *,
        value_format: str,
        margin: dict,
        label: str,
        template: Sequence[str] | None = None,
    ) -> None:
        """Send a drawing's numbers (rows true, columns predicted), names and margins; the cursor
        stays where it was when it is still inside."""
        n = len(names)
        flat = np.asarray(values, np.float64).ravel()
        with self.hold_sync():
            self.n = n
            self.names = [str(c) for c in names]
            self.values = [None if v != v else float(v) for v in flat]
            self.value_format = value_format
            self.margin = dict(margin)
            self.label = label
            self.template = list(template) if template is not None else list(DEFAULT_TEMPLATE)
            i, j = self.cursor
            if not (i < n and j < n):
                self.cursor = [0, 0]

    def move_to(self, cell: tuple[int, int] | None) -> None:
        """Put the cursor on ``cell`` (a click's cell, so the keys go on from there)."""
        if cell is not None and 0 <= cell[0] < self.n and 0 <= cell[1] < self.n:
            self.cursor = [int(cell[0]), int(cell[1])]

    def on_open(self, handler: Callable[[dict], None]) -> None:
        """Call ``handler(data)`` when a cell is opened from the keyboard, with the data a click
        on the heatmap sends (``{'rowNum': i, 'columnNum': j}``)."""
        self._open_handlers.append(handler)

    def _on_opened(self, change) -> None:
        i, j = self.cursor
        if 0 <= i < self.n and 0 <= j < self.n:
            for handler in self._open_handlers:
                handler({"rowNum": int(i), "columnNum": int(j)})

    @property
    def current_name(self) -> str:
        """The current cell's name, as a screen reader hears it."""
        return cell_name(self, *self.cursor) if self.n else ""


_RELAY_ESM = """
function editable(t) {
  return t && (t.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(t.tagName));
}
function render({ model, el }) {
  el.classList.add('h5eval-key-relay');
  const down = (e) => {
    // the box holding this widget (it is put in its place after render: looked up at each key)
    const scope = el.parentElement;
    if (!scope || e.defaultPrevented || e.ctrlKey || e.altKey || e.metaKey) return;
    if (!model.get('relayed').includes(e.key) || editable(e.target)) return;
    if (!(scope.contains(e.target) || scope.matches(':hover'))) return;
    e.preventDefault();
    model.send({ key: e.key });
  };
  document.addEventListener('keydown', down);
  return () => document.removeEventListener('keydown', down);
}
export default { render };
"""


class KeyRelay(anywidget.AnyWidget):
    """Sends Python the keys listed in ``relayed`` pressed in the box that holds it, or anywhere
    while the pointer is over that box (as ipyevents did), except while typing in a field. Every
    other key (Tab above all) is left to the page: the box is never a keyboard trap. Put it among
    the box's children; it draws nothing.
    """

    _esm = _RELAY_ESM
    relayed = T.List(T.Unicode(), help="The keys sent ('ArrowRight', 'Escape'...).").tag(sync=True)

    def __init__(self, handler: Callable[[dict], None], **kwargs):
        super().__init__(**kwargs)
        self.on_msg(lambda _widget, content, _buffers: handler({"type": "keydown", **content}))
