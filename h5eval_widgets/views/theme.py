"""The dashboard's own stylesheet, scoped to ``.h5eval-dashboard``: text readable in the light
and the dark theme (WCAG 2.1 AA, 4.5:1), titles and axis titles in the theme's text colour.

JupyterLab's themes draw unselected tab labels at 4.45:1 (light) and 4.22:1 (dark), and
bqplot's dark theme fills chart titles and axis titles orange, the colour this dashboard keeps for the
selection. The rules below take the theme's own text colour instead. The keyboard's focus is drawn
in it too, 2px wide (ipywidgets draws it 1px in #64b5f6, 2.2:1 on white: under WCAG's 3:1).
"""

from __future__ import annotations

import ipywidgets as W

from ..core.results.palette import FOCUS

CSS = f"""
.h5eval-dashboard .lm-TabBar-tab:not(.lm-mod-current) > .lm-TabBar-tabLabel {{
  color: var(--jp-ui-font-color1, #1f2328);
}}
.h5eval-dashboard .bqplot text.mainheading,
.h5eval-dashboard .bqplot text.axislabel {{ fill: var(--jp-ui-font-color1, #1f2328) !important; }}
.h5eval-dashboard tr.h5eval-focus > td {{
  background: var(--jp-layout-color2, #eeeeee);
  color: var(--jp-ui-font-color0, #000000);
  font-weight: bold;
}}
.h5eval-dashboard tr.h5eval-focus > td:first-child {{ box-shadow: inset 4px 0 0 {FOCUS}; }}
.h5eval-dashboard :is(button, select, input, textarea, summary, audio, [tabindex]):focus-visible {{
  outline: 2px solid var(--jp-ui-font-color0, #000000) !important;
  outline-offset: 1px;
}}
"""


def stylesheet() -> W.HTML:
    """A widget holding :data:`CSS` (it takes no room on the page)."""
    return W.HTML(value=f"<style>{CSS}</style>", layout=W.Layout(display="none"))
