"""Conformal prediction intervals of a regression: what :meth:`ev.conformal
<h5eval_widgets.core.results.trust.RegressionTrust.conformal>` returns for a regressor.

The calibration residuals (divided by a difficulty estimate when normalised) are sorted once;
:attr:`ConformalIntervals.alpha` picks one of them as the half-width, as crepes'
``ConformalRegressor`` does.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

import numpy as np

from .._lazy import pd
from ..metrics.conformal import regression_radius
from ..metrics.resampling import percentile_interval, resample_means
from .conformal import check_alpha, too_small_error

if TYPE_CHECKING:  # pragma: no cover
    from .evaluation import Evaluation

__all__ = ["ConformalIntervals"]


class ConformalIntervals:
    """Split conformal intervals ``y_pred -/+ radius * sigma`` at a settable ``alpha``.

    If calibration and test samples are exchangeable, an interval holds the true value with
    probability at least ``1 - alpha``.

    Attributes
    ----------
    evaluation : Evaluation
        The samples the intervals are for.
    residuals_sorted : ndarray
        Calibration ``|y - y_pred| / sigma``, largest first (crepes' ``ConformalRegressor.alphas``).
    sigmas : ndarray of shape (n_samples,) or None
        The difficulty of each evaluated sample (normalised intervals), else None.
    rows, n_calibration, notes
        As in :class:`~h5eval_widgets.core.results.conformal.ConformalResult`.
    """

    def __init__(
        self,
        evaluation: "Evaluation",
        residuals_sorted: np.ndarray,
        *,
        alpha: float,
        sigmas: np.ndarray | None = None,
        rows: np.ndarray | None = None,
        notes: tuple[str, ...] = (),
    ):
        self.evaluation = evaluation
        self.residuals_sorted = residuals_sorted
        self.sigmas = sigmas
        self.rows = rows
        self.notes = tuple(notes)
        self.n_calibration = len(residuals_sorted)
        self._alpha = check_alpha(alpha)
        self._radius = regression_radius(residuals_sorted, self._alpha)

    @property
    def alpha(self) -> float:
        """The error rate allowed (coverage target ``1 - alpha``); setting it moves the intervals."""
        return self._alpha

    @alpha.setter
    def alpha(self, value: float) -> None:
        a = check_alpha(value)
        radius = regression_radius(self.residuals_sorted, a)
        if np.isinf(radius):
            raise too_small_error(self.n_calibration, a, None)
        self._alpha, self._radius = a, radius

    @property
    def target(self) -> float:
        return 1 - self._alpha

    @property
    def radius(self) -> float:
        """The half-width, in units of the difficulty when normalised."""
        return self._radius

    @property
    def intervals(self) -> np.ndarray:
        """Lower and upper bounds, shape (n_samples, 2)."""
        y_hat = np.asarray(self.evaluation.y_pred, dtype=np.float64)
        half = self._radius if self.sigmas is None else self._radius * self.sigmas
        return np.stack([y_hat - half, y_hat + half], axis=1)

    @property
    def widths(self) -> np.ndarray:
        b = self.intervals
        return b[:, 1] - b[:, 0]

    @property
    def covered(self) -> np.ndarray:
        """True where the interval holds the true value."""
        b, y = self.intervals, np.asarray(self.evaluation.y_true, dtype=np.float64)
        return (b[:, 0] <= y) & (y <= b[:, 1])

    @property
    def n_samples(self) -> int:
        return self.evaluation.n_samples

    @property
    def coverage(self) -> float:
        return float(np.mean(self.covered))

    @property
    def mean_width(self) -> float:
        return float(np.mean(self.widths))

    def uncovered(self) -> np.ndarray:
        """Indices of the samples whose interval misses the true value."""
        return np.flatnonzero(~self.covered)

    def by_slice(self, column: str | None = None, *, groups=None, bins: int = 4) -> pd.DataFrame:
        """Per slice (as :meth:`Evaluation.slices <h5eval_widgets.core.Evaluation.slices>`): ``n``,
        ``coverage`` and ``mean_width``, lowest coverage first."""
        from ..insight.slices import slice_groups

        codes, names, _ = slice_groups(self.evaluation, column, groups=groups, bins=bins)
        n = np.bincount(codes, minlength=len(names))
        out = pd.DataFrame(
            {
                "n": n,
                "coverage": np.bincount(codes, weights=self.covered, minlength=len(names)) / n,
                "mean_width": np.bincount(codes, weights=self.widths, minlength=len(names)) / n,
            },
            index=pd.Index(names, name="slice"),
        )
        return out.sort_values("coverage", kind="stable")

    def bootstrap(self, n_boot: int = 1000, *, confidence: float = 0.95, seed: int = 0) -> pd.DataFrame:
        """Percentile intervals of coverage and mean width over resampled test samples."""
        values = np.stack([self.covered.astype(np.float64), self.widths], axis=1)
        reps = resample_means(values, n_boot, seed=seed)
        bounds = [percentile_interval(reps[:, j], confidence) for j in range(2)]
        return pd.DataFrame(
            {"value": values.mean(axis=0), "low": [b[0] for b in bounds], "high": [b[1] for b in bounds]},
            index=pd.Index(["coverage", "mean_width"], name="metric"),
        )

    def summary(self) -> pd.DataFrame:
        """The headline numbers as a one-column DataFrame (``value``) indexed by name."""
        values = {
            "alpha": self.alpha,
            "target_coverage": self.target,
            "coverage": self.coverage,
            "mean_width": self.mean_width,
            "radius": self.radius,
            "n_samples": self.n_samples,
            "n_calibration": self.n_calibration,
        }
        return pd.DataFrame({"value": pd.Series(values, dtype="float64")}).rename_axis("metric")

    def __repr__(self) -> str:
        return (
            f"<ConformalIntervals alpha={self.alpha:g} n={self.n_samples} coverage={self.coverage:.4f} "
            f"mean_width={self.mean_width:.4g}>"
        )

    def _repr_html_(self) -> str:
        kind = "normalised " if self.sigmas is not None else ""
        notes = "".join(f"<li>{html.escape(n)}</li>" for n in self.notes)
        return (
            f"<b>Conformal {kind}intervals</b> (alpha = {self.alpha:g}): coverage {self.coverage:.1%} "
            f"against a target of {self.target:.0%}, mean width {self.mean_width:.4g}, "
            f"{self.n_samples:,} samples, {self.n_calibration:,} for calibration"
            + (f"<ul>{notes}</ul>" if notes else "")
            + self.summary().to_html(float_format=lambda x: f"{x:.4g}")
        )
