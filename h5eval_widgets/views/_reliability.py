"""The reliability diagram, drawn the same way wherever it is shown (the Calibration tab, the
Trust tab's before and after temperature scaling)."""

from __future__ import annotations

import bqplot as bq

from ..core.results.names import fmt
from ..core.results.palette import NEUTRAL, SERIES
from ._draw import axes, figure

__all__ = ["draw_reliability", "reliability_figure"]


def reliability_figure(title: str = "Reliability", *, color: str = SERIES[0], **options) -> tuple[bq.Figure, bq.Lines]:
    """A reliability diagram with nothing drawn yet: the diagonal of perfect calibration and
    the curve :func:`draw_reliability` fills. Returns ``(figure, curve)``; ``options`` go to
    :func:`~h5eval_widgets.views._draw.figure` (``width``, ``height``...)."""
    xs, ys = bq.LinearScale(min=0.0, max=1.0), bq.LinearScale(min=0.0, max=1.0)
    diagonal = bq.Lines(x=[0, 1], y=[0, 1], scales={"x": xs, "y": ys}, colors=[NEUTRAL], line_style="dashed")
    curve = bq.Lines(
        x=[0.0], y=[0.0], scales={"x": xs, "y": ys}, marker="circle", colors=[color], labels=["reliability"]
    )
    fig = figure(
        [diagonal, curve],
        axes(xs, ys, "mean predicted probability", "observed frequency", x_format=".1f", y_format=".1f"),
        title=title,
        **options,
    )
    return fig, curve


def draw_reliability(fig: bq.Figure, curve: bq.Lines, ev, n_bins: int = 10, title: str = "Reliability") -> None:
    """Draw ``ev.calibration(n_bins)`` (observed frequency against mean predicted probability
    per confidence bin) on ``curve``, titled ``'{title} · ECE {ev.ece}'``."""
    cal = ev.calibration(n_bins)
    with curve.hold_sync():
        curve.x, curve.y = cal["prob_pred"].to_numpy(), cal["prob_true"].to_numpy()
    fig.title = f"{title} · ECE {fmt(ev.ece)}"
