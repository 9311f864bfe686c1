"""The one palette of the dashboard and the reports: Okabe and Ito's eight colours, told apart
with every common colour-vision deficiency, each given one role.

The selection colour marks only what is selected (a clicked cell, a chosen threshold's point);
titles and text keep the theme's colours. Series (curves of several classes, training and
validation) take :data:`SERIES` in order.
"""

from __future__ import annotations

__all__ = [
    "CORRECT_RAMP",
    "ERROR_RAMP",
    "OKABE_ITO",
    "SERIES",
    "SELECTION",
    "FOCUS",
    "CORRECT",
    "ERROR",
    "NEUTRAL",
    "EXPLAINED",
    "series_color",
]

#: Okabe & Ito (2008), "Color Universal Design": black, orange, sky blue, bluish green, yellow,
#: blue, vermillion, reddish purple
OKABE_ITO = ("#000000", "#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7")
#: curves and bars of several series, in this order (yellow, too pale on white, is left out)
SERIES = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#000000")
#: what is selected: a clicked cell's thick outline (a curve's chosen point)
SELECTION = "#000000"
#: the class in focus (its row and column dashed, its row of a table marked)
FOCUS = "#CC79A7"
#: right answers (a matrix's diagonal) and wrong ones (its other cells), and the ramps of their
#: counts, light to full (see :func:`tint`); a count of 0 stays white
CORRECT = "#0072B2"
ERROR = "#E69F00"
#: the cells an explained metric is counted in (its TP cell solid, its FP column and FN row dotted)
EXPLAINED = "#009E73"
#: lines that are not data (a diagonal of chance, a rule at the shown epoch)
NEUTRAL = "#555555"


def series_color(i: int) -> str:
    """The colour of series ``i`` (cycling through :data:`SERIES`)."""
    return SERIES[i % len(SERIES)]


# ------------------------------------------------------- shades and contrast (the report's)
__all__ += ["WHITE", "BLACK", "tint", "contrast", "text_on", "relative_luminance"]

WHITE, BLACK = "#ffffff", "#000000"


def _rgb(colour: str) -> tuple[int, int, int]:
    h = colour.lstrip("#")
    return int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16)


def relative_luminance(colour: str) -> float:
    """WCAG 2 relative luminance of a ``#rrggbb`` colour."""
    lin = [c / 255 / 12.92 if c / 255 <= 0.03928 else ((c / 255 + 0.055) / 1.055) ** 2.4 for c in _rgb(colour)]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def contrast(a: str, b: str) -> float:
    """WCAG 2 contrast ratio of two ``#rrggbb`` colours (1 to 21)."""
    la, lb = sorted((relative_luminance(a), relative_luminance(b)))
    return (lb + 0.05) / (la + 0.05)


def text_on(background: str) -> str:
    """Black or white, whichever contrasts more with ``background`` (at least 4.58:1)."""
    return BLACK if contrast(background, BLACK) >= contrast(background, WHITE) else WHITE


def tint(hue: str, t: float) -> str:
    """``hue`` mixed with white: 0 white, 1 the hue itself (linear in sRGB)."""
    return "#" + "".join(f"{round(255 + (c - 255) * t):02x}" for c in _rgb(hue))


#: the dashboard's matrices shade counts along these (the report with :func:`tint` of the same hues)
CORRECT_RAMP = tuple(tint(CORRECT, t) for t in (0.3, 0.44, 0.58, 0.72, 0.86, 1.0))
ERROR_RAMP = tuple(tint(ERROR, t) for t in (0.3, 0.44, 0.58, 0.72, 0.86, 1.0))
