"""Conformal prediction sets of a classifier: what :meth:`ev.conformal <h5eval_widgets.core.results.trust.ClassTrust.conformal>` returns.

A :class:`ConformalResult` keeps every label's score on the evaluated samples and the calibration
scores sorted (:mod:`h5eval_widgets.core.metrics.conformal`); setting :attr:`~ConformalResult.alpha`
moves one threshold (one per class, class-conditional) and the sets, coverage and tables follow.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any

import numpy as np

from .._lazy import class_index, pd
from ..errors import DatasetError
from ..metrics.conformal import ClassConditionalScores, SortedScores, smallest_calibration
from ..metrics.resampling import percentile_interval, resample_means

if TYPE_CHECKING:  # pragma: no cover
    from .evaluation import Evaluation

__all__ = ["ConformalResult", "check_alpha", "too_small_error"]


def check_alpha(alpha: float) -> float:
    """``alpha`` as a float in (0, 1), or a ValueError naming the range."""
    a = float(alpha)
    if not 0 < a < 1:
        raise ValueError(
            f"alpha={alpha!r} must lie strictly between 0 and 1: it is the error rate allowed, "
            "so alpha=0.1 asks for sets holding the true class 90% of the time."
        )
    return a


def too_small_error(calibrator, alpha: float, classes) -> DatasetError:
    """The error for a calibration set too small for ``alpha``, naming the fix."""
    need = smallest_calibration(alpha)
    if isinstance(calibrator, ClassConditionalScores):
        counts = calibrator.counts
        few = [f"{classes[c]!r} ({counts[c]})" for c in np.flatnonzero(counts < need)][:10]
        return DatasetError(
            f"Class-conditional calibration at alpha={alpha:g} needs at least {need} calibration "
            f"samples of every class (1/alpha - 1); these classes have fewer: {', '.join(few)}. Give a "
            f"calibration set with more of them, use mondrian=False, or a larger alpha "
            f"(at least {1 / (counts.min() + 1):.3g})."
        )
    n = calibrator.n if isinstance(calibrator, SortedScores) else int(calibrator)
    return DatasetError(
        f"The calibration set has {n} samples, too few for alpha={alpha:g}: at least {need} "
        f"(1/alpha - 1) are needed before a set can leave any label out. Give a larger calibration "
        f"set, or a larger alpha (at least {1 / (n + 1):.3g})."
    )


class ConformalResult:
    """Split conformal prediction sets on an evaluation's samples, at a settable ``alpha``.

    Built by ``ev.conformal(calibration, alpha, method, mondrian)``. A label is in a sample's
    set when its p-value (crepes' non-smoothed one) is above ``alpha``; if calibration and test
    samples are exchangeable, the set holds the true class with probability at least
    ``1 - alpha`` (class-conditional: within every true class).

    Attributes
    ----------
    evaluation : Evaluation
        The samples the sets are for (the rest of the test set after a fraction split).
    scores : ndarray of shape (n_samples, n_classes)
        Every label's non-conformity score.
    calibrator : SortedScores or ClassConditionalScores
        The calibration scores, sorted.
    method : {'lac', 'aps'}
    mondrian : bool
        Class-conditional calibration.
    rows : ndarray of int64 or None
        The rows of the evaluation ``conformal`` was called on that :attr:`evaluation` holds
        (None when it is that evaluation).
    n_calibration : int
    notes : tuple of str
        How the calibration set was made and what to know about the numbers.
    """

    def __init__(
        self,
        evaluation: "Evaluation",
        scores: np.ndarray,
        calibrator: SortedScores | ClassConditionalScores,
        *,
        alpha: float,
        method: str,
        mondrian: bool,
        n_calibration: int,
        rows: np.ndarray | None = None,
        notes: tuple[str, ...] = (),
    ):
        self.evaluation = evaluation
        self.scores = scores
        self.calibrator = calibrator
        self.method = method
        self.mondrian = mondrian
        self.n_calibration = int(n_calibration)
        self.rows = rows
        self.notes = tuple(notes)
        self._true_scores = scores[np.arange(len(scores)), np.asarray(evaluation.y_true)]
        self._alpha = check_alpha(alpha)
        self._threshold = calibrator.threshold(self._alpha)
        self._kept: dict[str, Any] = {}

    # ------------------------------------------------------------------ alpha
    @property
    def alpha(self) -> float:
        """The error rate allowed (coverage target ``1 - alpha``); setting it moves the sets."""
        return self._alpha

    @alpha.setter
    def alpha(self, value: float) -> None:
        a = check_alpha(value)
        if a == self._alpha:
            return
        threshold = self.calibrator.threshold(a)
        if np.any(np.isinf(threshold)):
            raise too_small_error(self.calibrator, a, self.evaluation.classes)
        self._alpha, self._threshold = a, threshold
        self._kept.clear()

    @property
    def threshold(self) -> float | np.ndarray:
        """The largest score a label may have to be in a set (one per class when class-conditional)."""
        return self._threshold

    @property
    def target(self) -> float:
        """The coverage promised, ``1 - alpha``."""
        return 1 - self._alpha

    # ------------------------------------------------------------------ sets
    def _keep(self, name: str, make):
        if name not in self._kept:
            self._kept[name] = make()
        return self._kept[name]

    @property
    def sets(self) -> np.ndarray:
        """Which labels are in each sample's set: bool, shape (n_samples, n_classes)."""

        def make():
            out = self.scores <= self._threshold
            out.flags.writeable = False
            return out

        return self._keep("sets", make)

    @property
    def p_values(self) -> np.ndarray:
        """Every label's p-value, ``(#calibration scores >= s + 1) / (n + 1)`` (class-conditional:
        among its own class's), as crepes' ``predict_p(smoothing=False)``."""
        return self.calibrator.p_values(self.scores)

    @property
    def set_sizes(self) -> np.ndarray:
        """How many labels each set holds, shape (n_samples,)."""
        return self._keep("sizes", lambda: np.count_nonzero(self.sets, axis=1))

    @property
    def covered(self) -> np.ndarray:
        """True where the set holds the sample's true class."""
        t = self._threshold

        def make():
            return self._true_scores <= (t[np.asarray(self.evaluation.y_true)] if np.ndim(t) else t)

        return self._keep("covered", make)

    @property
    def n_samples(self) -> int:
        return len(self.scores)

    @property
    def coverage(self) -> float:
        """Fraction of samples whose set holds the true class."""
        return float(np.mean(self.covered))

    @property
    def mean_set_size(self) -> float:
        return float(np.mean(self.set_sizes))

    @property
    def empty_rate(self) -> float:
        """Fraction of empty sets (the model is unsure of every class)."""
        return float(np.mean(self.set_sizes == 0))

    @property
    def singleton_rate(self) -> float:
        """Fraction of sets with exactly one class."""
        return float(np.mean(self.set_sizes == 1))

    # ------------------------------------------------------------------ samples
    def uncovered(self, cls: int | str | None = None) -> np.ndarray:
        """Indices (into :attr:`evaluation`) of the samples whose set misses their true class,
        of true class ``cls`` only when given."""
        miss = ~self.covered
        if cls is not None:
            miss &= np.asarray(self.evaluation.y_true) == self.evaluation.class_index(cls)
        return np.flatnonzero(miss)

    def with_size(self, size: int) -> np.ndarray:
        """Indices of the samples whose set holds ``size`` classes."""
        return np.flatnonzero(self.set_sizes == int(size))

    def set_labels(self, indices) -> list[str]:
        """Each sample's set written out, as ``'{cat, dog}'`` (``'{}'`` when empty)."""
        names = self.evaluation.classes
        return [
            "{" + ", ".join(names[j] for j in np.flatnonzero(row)) + "}" for row in self.sets[np.atleast_1d(indices)]
        ]

    # ------------------------------------------------------------------ tables
    def _table(self, codes: np.ndarray, n_groups: int) -> dict[str, np.ndarray]:
        n = np.bincount(codes, minlength=n_groups)
        with np.errstate(invalid="ignore", divide="ignore"):
            return {
                "n": n,
                "coverage": np.bincount(codes, weights=self.covered, minlength=n_groups) / n,
                "mean_set_size": np.bincount(codes, weights=self.set_sizes, minlength=n_groups) / n,
                "empty_rate": np.bincount(codes, weights=self.set_sizes == 0, minlength=n_groups) / n,
            }

    @property
    def per_class(self) -> pd.DataFrame:
        """Per true class: ``n``, ``coverage``, ``mean_set_size`` and ``empty_rate`` (nan where the
        class has no sample), indexed by class name."""
        ev = self.evaluation
        table = self._table(np.asarray(ev.y_true), ev.n_classes)
        return pd.DataFrame(table, index=class_index(ev.classes, "class"))

    def by_slice(self, column: str | None = None, *, groups=None, bins: int = 4) -> pd.DataFrame:
        """Coverage per slice: ``n``, ``coverage``, ``mean_set_size``, ``empty_rate``, lowest
        coverage first.

        The slices are those of :meth:`Evaluation.slices <h5eval_widgets.core.Evaluation.slices>`:
        a metadata column (numeric ones cut into ``bins`` quantile bins) or ``groups=`` (one value
        per sample of :attr:`evaluation`).
        """
        from ..insight.slices import slice_groups

        codes, names, _ = slice_groups(self.evaluation, column, groups=groups, bins=bins)
        out = pd.DataFrame(self._table(codes, len(names)), index=pd.Index(names, name="slice"))
        return out.sort_values("coverage", kind="stable")

    def coverage_by_size(self) -> pd.DataFrame:
        """Size-stratified coverage (MAPIE's ``classification_ssc``): for every set size 0..k,
        ``n`` samples and the fraction covered (nan for sizes no set has)."""
        k = self.evaluation.n_classes
        out = pd.DataFrame(self._table(self.set_sizes, k + 1)).drop(columns=["mean_set_size", "empty_rate"])
        out.index = pd.RangeIndex(k + 1, name="set_size")
        return out

    def bootstrap(self, n_boot: int = 1000, *, confidence: float = 0.95, seed: int = 0) -> pd.DataFrame:
        """Percentile intervals of coverage, mean set size, empty and singleton rates over
        resampled test samples (the calibration set held fixed): ``value``, ``low``, ``high``."""
        sizes = self.set_sizes
        values = np.stack([self.covered, sizes, sizes == 0, sizes == 1], axis=1).astype(np.float64)
        reps = resample_means(values, n_boot, seed=seed)
        names = ["coverage", "mean_set_size", "empty_rate", "singleton_rate"]
        bounds = [percentile_interval(reps[:, j], confidence) for j in range(len(names))]
        return pd.DataFrame(
            {"value": values.mean(axis=0), "low": [b[0] for b in bounds], "high": [b[1] for b in bounds]},
            index=pd.Index(names, name="metric"),
        )

    def summary(self) -> pd.DataFrame:
        """The headline numbers as a one-column DataFrame (``value``) indexed by name."""
        values = {
            "alpha": self.alpha,
            "target_coverage": self.target,
            "coverage": self.coverage,
            "mean_set_size": self.mean_set_size,
            "empty_rate": self.empty_rate,
            "singleton_rate": self.singleton_rate,
            "n_samples": self.n_samples,
            "n_calibration": self.n_calibration,
        }
        return pd.DataFrame({"value": pd.Series(values, dtype="float64")}).rename_axis("metric")

    def to_crepes(self):
        """The same calibration as a fitted ``crepes.ConformalClassifier`` (its ``predict_p``
        with ``smoothing=False`` on :attr:`scores` gives :attr:`p_values`; class-conditional:
        call it per class with ``bins`` of that class). Needs ``pip install h5eval-widgets[trust]``."""
        try:
            from crepes import ConformalClassifier
        except ImportError:
            from ..errors import MissingDependencyError

            raise MissingDependencyError(
                "to_crepes needs crepes: pip install 'h5eval-widgets[trust]' (or pip install crepes)."
            ) from None
        cal = self.calibrator
        if isinstance(cal, SortedScores):
            return ConformalClassifier().fit(cal.sorted)
        bins = np.concatenate([np.full(s.n, c) for c, s in enumerate(cal.by_class)])
        return ConformalClassifier().fit(np.concatenate([s.sorted for s in cal.by_class]), bins=bins)

    def __repr__(self) -> str:
        kind = "class-conditional " if self.mondrian else ""
        return (
            f"<ConformalResult {kind}{self.method} alpha={self.alpha:g} n={self.n_samples} "
            f"coverage={self.coverage:.4f} mean_set_size={self.mean_set_size:.3f}>"
        )

    def _repr_html_(self) -> str:
        kind = "class-conditional " if self.mondrian else ""
        head = (
            f"<b>Conformal sets</b> ({kind}{self.method.upper()}, alpha = {self.alpha:g}): coverage "
            f"{self.coverage:.1%} against a target of {self.target:.0%}, mean set size "
            f"{self.mean_set_size:.2f}, {self.n_samples:,} samples, {self.n_calibration:,} for calibration"
        )
        notes = "".join(f"<li>{html.escape(n)}</li>" for n in self.notes)
        return head + (f"<ul>{notes}</ul>" if notes else "") + self.per_class.to_html(float_format=lambda x: f"{x:.4f}")
