"""The one palette of the dashboard and the reports: Okabe and Ito's eight colours, told apart
with every common colour-vision deficiency, each given one role.

The selection colour marks only what is selected (a clicked cell, a chosen threshold's point);
titles and text keep the theme's colours. Series (curves of several classes, training and
validation) take :data:`SERIES` in order.
"""

from __future__ import annotations

__all__ = ["OKABE_ITO", "SERIES", "SELECTION", "FOCUS", "CORRECT", "ERROR", "NEUTRAL", "series_color"]

#: Okabe & Ito (2008), "Color Universal Design": black, orange, sky blue, bluish green, yellow,
#: blue, vermillion, reddish purple
OKABE_ITO = ("#000000", "#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7")
#: curves and bars of several series, in this order (yellow, too pale on white, is left out)
SERIES = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#000000")
#: what is selected: a clicked cell's outline, the chosen point of a curve
SELECTION = "#D55E00"
#: the class in focus (the focus class's row and column, its bar)
FOCUS = "#0072B2"
#: right answers (a matrix's diagonal) and wrong ones (its other cells)
CORRECT = "#0072B2"
ERROR = "#CC79A7"
#: lines that are not data (a diagonal of chance, a rule at the shown epoch)
NEUTRAL = "#555555"


def series_color(i: int) -> str:
    """The colour of series ``i`` (cycling through :data:`SERIES`)."""
    return SERIES[i % len(SERIES)]
