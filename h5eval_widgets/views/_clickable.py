"""An HTML widget whose buttons tell Python which was pressed (an anywidget; no CDN).

:class:`ClickableHTML` shows ``value`` as :class:`ipywidgets.HTML` does. Each
``<button data-choice="...">`` in it is a real button (Tab reaches it, Enter or Space presses
it); a press sets ``pressed`` to ``{"choice": ..., "n": <a counter>}``, so pressing the same
button twice is two changes. :meth:`press` does in Python what the browser does.
"""

from __future__ import annotations

import anywidget
import traitlets as T

__all__ = ["ClickableHTML"]

_ESM = """
function render({ model, el }) {
  el.classList.add("h5eval-clickable");
  const draw = () => { el.innerHTML = model.get("value"); };
  el.addEventListener("click", (event) => {
    const button = event.target.closest("button[data-choice]");
    if (!button || !el.contains(button)) return;
    const n = (model.get("pressed").n || 0) + 1;
    model.set("pressed", { choice: button.dataset.choice, n: n });
    model.save_changes();
  });
  model.on("change:value", () => {
    const had = document.activeElement && el.contains(document.activeElement)
      ? document.activeElement.dataset.choice : null;
    draw();
    if (had) {  // the redraw keeps the keyboard where it was
      const again = el.querySelector(`button[data-choice="${CSS.escape(had)}"]`);
      if (again) again.focus();
    }
  });
  draw();
}
export default { render };
"""

_CSS = """
.h5eval-clickable button[data-choice] {
  font: inherit; color: inherit; background: none; border: none; padding: 0 2px; margin: 0;
  cursor: pointer; text-align: left; text-decoration: underline dotted; text-underline-offset: 3px;
}
.h5eval-clickable button[data-choice]:hover { text-decoration-style: solid; }
.h5eval-clickable button[data-choice]:focus-visible { outline: 2px solid currentColor; outline-offset: 1px; }
.h5eval-clickable button[data-choice][aria-pressed="true"] { font-weight: bold; text-decoration-style: solid; }
"""


class ClickableHTML(anywidget.AnyWidget):
    """HTML (``value``) whose ``<button data-choice="...">`` presses reach Python (``pressed``)."""

    _esm = T.Unicode(_ESM).tag(sync=True)
    _css = T.Unicode(_CSS).tag(sync=True)
    value = T.Unicode("", help="The HTML shown.").tag(sync=True)
    pressed = T.Dict({}, help="The last press: {'choice': the button's data-choice, 'n': a counter}.").tag(sync=True)

    def press(self, choice: str) -> None:
        """Press the button ``choice`` as the browser would."""
        self.pressed = {"choice": str(choice), "n": int(self.pressed.get("n", 0)) + 1}
