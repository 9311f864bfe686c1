"""Which predictions to trust: conformal sets and intervals, and temperature scaling.

Mixed into the task classes: :class:`ClassTrust` (binary and multi-class: ``conformal`` sets,
``temperature_scaled``), :class:`LabelTrust` (multi-label: a temperature per label) and
:class:`RegressionTrust` (``conformal`` intervals). The calibration data is another evaluation
of the same model and classes, or a fraction of this one (a seeded random split).
"""

from __future__ import annotations

import dataclasses
from numbers import Real
from typing import TYPE_CHECKING, Any, Callable

import numpy as np

from .._lazy import pd
from ..errors import DatasetError, LabelError
from ..metrics import calibration as C
from ..metrics import functions as M
from ..metrics.conformal import (
    METHODS,
    ClassConditionalScores,
    SortedScores,
    label_scores,
    regression_radius,
)
from .conformal import ConformalResult, check_alpha, too_small_error
from .conformal_regression import ConformalIntervals

if TYPE_CHECKING:  # pragma: no cover
    from .evaluation import Evaluation

__all__ = ["ClassTrust", "LabelTrust", "RegressionTrust", "split_calibration", "check_same_model"]


def _model_id(ev: "Evaluation") -> tuple[str, Any] | None:
    explainer = ev.explainer
    if explainer is not None:
        return "fingerprint", explainer.loaded.fingerprint
    return None


def check_same_model(ev: "Evaluation", cal: "Evaluation") -> None:
    """Refuse a calibration evaluation of another task, other classes or another model."""
    if cal.task != ev.task:
        raise LabelError(
            f"The calibration evaluation is {cal.task} but this one is {ev.task}; calibrate with "
            "the same model's predictions on held-out data of the same task."
        )
    if ev.is_classification and tuple(cal.classes) != tuple(ev.classes):
        raise LabelError(
            f"The calibration evaluation's classes {list(cal.classes)[:20]} differ from this "
            f"evaluation's {list(ev.classes)[:20]}; evaluate the calibration data with the same model "
            "and the same classes, in the same order (classes=[...])."
        )
    why = []
    mine, theirs = _model_id(ev), _model_id(cal)
    if mine is not None and theirs is not None and mine != theirs:
        why.append("the model files differ")
    if None not in (ev.model_name, cal.model_name) and ev.model_name != cal.model_name:
        why.append(f"model {cal.model_name!r}, not {ev.model_name!r}")
    if None not in (ev.model_info, cal.model_info) and ev.model_info != cal.model_info:
        why.append("the models' inputs, outputs or sizes differ")
    if why:
        raise DatasetError(
            f"The calibration evaluation comes from another model ({'; '.join(why)}); conformal sets "
            "and temperatures hold only for the model they were calibrated on: evaluate the "
            "held-out data with this model, Evaluation.from_model(model, X_cal, y_cal), and pass that."
        )


def split_calibration(
    ev: "Evaluation", calibration, seed: int
) -> tuple["Evaluation", "Evaluation", np.ndarray | None, list[str]]:
    """``(calibration, evaluated, rows, notes)`` from an evaluation or a fraction of ``ev``.

    A fraction ``f`` takes a seeded random ``round(f * n)`` of ``ev``'s samples to calibrate on
    and evaluates the rest (``rows``: their indices in ``ev``, ascending)."""
    from .evaluation import Evaluation

    if isinstance(calibration, Evaluation):
        check_same_model(ev, calibration)
        where = calibration.dataset_name or calibration.slice_name or "a separate evaluation"
        return calibration, ev, None, [f"Calibrated on {where} ({calibration.n_samples:,} samples)."]
    if isinstance(calibration, Real) and not isinstance(calibration, bool):
        f, n = float(calibration), ev.n_samples
        n_cal = int(round(f * n))
        if not 0 < f < 1 or not 0 < n_cal < n:
            raise ValueError(
                f"calibration={calibration!r} must be an Evaluation of held-out data or a fraction in "
                f"(0, 1) of these {n} samples that leaves samples on both sides (0.5 splits them in two)."
            )
        perm = np.random.default_rng(seed).permutation(n)
        cal_rows, rows = np.sort(perm[:n_cal]), np.sort(perm[n_cal:])
        note = (
            f"Calibrated on a random {f:.0%} of this test set ({n_cal:,} samples, seed {seed}); the "
            f"numbers are for the other {n - n_cal:,} samples."
        )
        return ev.subset(cal_rows), ev.subset(rows), rows, [note]
    raise TypeError(
        f"calibration must be an Evaluation of held-out data (same model, same classes) or a "
        f"fraction such as 0.5; got {type(calibration).__name__}."
    )


def _frozen(a: np.ndarray) -> np.ndarray:
    a = np.array(a)
    a.flags.writeable = False
    return a


def _scaled(ev: "Evaluation", proba: np.ndarray, temperature, table_of, **changes) -> "Evaluation":
    """A copy of ``ev`` with new probabilities, its temperature and the before/after table."""
    what = "one per label" if np.ndim(temperature) else f"T = {temperature:.4g}"
    note = f"Temperature-scaled probabilities, softmax(log p / T), {what}: fitted on the calibration set's log loss."
    new = dataclasses.replace(ev, y_proba=_frozen(proba), notes=tuple(ev.notes) + (note,), **changes)
    if ev.explainer is not None:
        new.attach_explainer(ev.explainer)
    new.__dict__["_temperature"] = temperature
    before, after = table_of(ev), table_of(new)
    new.__dict__["_calibration_change"] = pd.DataFrame(
        {"before": pd.Series(before), "after": pd.Series(after)}
    ).rename_axis("metric")
    return new


class _Scaled:
    @property
    def temperature(self) -> float | np.ndarray | None:
        """The temperature of a :meth:`temperature_scaled` evaluation (an array, one per label,
        for multi-label); None for an evaluation that was not scaled."""
        return self.__dict__.get("_temperature")

    @property
    def calibration_change(self) -> "pd.DataFrame | None":
        """For a :meth:`temperature_scaled` evaluation: ECE, MCE, Brier score, log loss and
        accuracy of its samples before and after scaling (columns ``before``, ``after``)."""
        table = self.__dict__.get("_calibration_change")
        return None if table is None else table.copy()


def _single_label_table(ev) -> dict[str, float]:
    ece, mce = C.calibration_errors(ev._calib_event(), ev._calib_conf())
    return {
        "ece": ece,
        "mce": mce,
        "brier_score": M.brier_score(ev.y_true, ev.y_proba, sample_weight=ev.sample_weight),
        "log_loss": M.log_loss(ev.y_true, ev.y_proba, sample_weight=ev.sample_weight),
        "accuracy": float(np.average(ev.y_true == ev.y_pred, weights=ev.sample_weight)),
    }


class ClassTrust(_Scaled):
    """Conformal sets and temperature scaling of binary and multi-class evaluations."""

    def conformal(
        self: Any, calibration, alpha: float = 0.1, method: str = "lac", mondrian: bool = False, *, seed: int = 0
    ) -> ConformalResult:
        """Split conformal prediction sets from the model's probabilities.

        Parameters
        ----------
        calibration : Evaluation or float
            An evaluation of held-out data by the same model with the same classes, or a
            fraction such as 0.5: a random split of this evaluation (seeded by ``seed``) whose
            first part calibrates and whose rest gets the sets.
        alpha : float, default=0.1
            The error rate allowed: sets hold the true class at least ``1 - alpha`` of the time
            when calibration and test data are exchangeable. Settable on the result.
        method : {'lac', 'aps'}, default='lac'
            The score of a label: ``1 - p`` (LAC: the smallest sets on average) or the
            probability of the labels ranked at or above it (APS: sets that grow where the model
            hesitates).
        mondrian : bool, default=False
            Calibrate every class on its own samples (crepes' class-conditional conformal
            classifier): coverage of ``1 - alpha`` within each true class.
        seed : int, default=0
            The split's seed when ``calibration`` is a fraction.

        Returns
        -------
        ConformalResult

        Raises
        ------
        LabelError
            A calibration evaluation of another task or other classes.
        DatasetError
            One from another model, or fewer than ``1/alpha - 1`` calibration samples (of some
            class, when ``mondrian``).
        """
        alpha = check_alpha(alpha)
        if method not in METHODS:
            raise ValueError(f"method={method!r} is not one of {METHODS}; use 'lac' (1 - p) or 'aps' (adaptive sets).")
        cal, test, rows, notes = split_calibration(self, calibration, seed)
        true = np.asarray(cal.y_true)
        cal_scores = label_scores(cal.y_proba, method)[np.arange(cal.n_samples), true]
        if mondrian:
            calibrator = ClassConditionalScores.from_scores(cal_scores, true, self.n_classes)
        else:
            calibrator = SortedScores(cal_scores)
        if np.any(np.isinf(calibrator.threshold(alpha))):
            raise too_small_error(calibrator, alpha, self.classes)
        if test.sample_weight is not None or cal.sample_weight is not None:
            notes.append("Sample weights are not used: every sample counts once in the sets' coverage.")
        return ConformalResult(
            test,
            label_scores(test.y_proba, method),
            calibrator,
            alpha=alpha,
            method=method,
            mondrian=bool(mondrian),
            n_calibration=cal.n_samples,
            rows=rows,
            notes=tuple(notes),
        )

    def temperature_scaled(self: Any, calibration, *, seed: int = 0, bounds=C.TEMPERATURE_BOUNDS) -> "Evaluation":
        """A new evaluation whose probabilities are ``softmax(log p / T)``, ``T`` minimising the
        calibration set's log loss (:func:`scipy.optimize.minimize_scalar`, bounded).

        The ranking of the classes in every sample is kept, so the decisions and the accuracy
        are unchanged (a binary threshold is moved by the same map). The result has
        :attr:`temperature` and :attr:`calibration_change` (ECE, MCE, Brier score, log loss and
        accuracy before and after, on its samples).

        Parameters
        ----------
        calibration : Evaluation or float
            As in :meth:`conformal`; with a fraction the new evaluation covers the other samples.
        seed : int, default=0
        bounds : tuple of float, default=(0.05, 20.0)
            Where ``T`` is searched.
        """
        cal, test, _, _ = split_calibration(self, calibration, seed)
        t = C.fit_temperature(cal.y_proba, cal.y_true, sample_weight=cal.sample_weight, bounds=bounds)
        changes = {}
        if self.positive_class is not None:  # binary: the same decisions at the moved threshold
            edge = C.apply_temperature(np.array([[1 - test.threshold, test.threshold]]), t)[0, 1]
            changes["threshold"] = float(edge)
        return _scaled(test, C.apply_temperature(test.y_proba, t), t, _single_label_table, **changes)


def _label_table(ev) -> dict[str, float]:
    y, p, w = np.asarray(ev.y_true, dtype=bool), np.asarray(ev.y_proba, dtype=np.float64), ev.sample_weight
    ece, mce = C.calibration_errors(y.ravel(), p.ravel())
    ww = None if w is None else np.repeat(w, y.shape[1])
    return {
        "ece": ece,
        "mce": mce,
        "brier_score": float(np.average(((p - y) ** 2).mean(axis=1), weights=w)),
        "log_loss": C.binary_log_loss(y.ravel(), p.ravel(), sample_weight=ww),
        "subset_accuracy": float(np.average(np.all(y == ev.y_pred, axis=1), weights=w)),
    }


class LabelTrust(_Scaled):
    """Temperature scaling of multi-label evaluations, one temperature per label."""

    def conformal(self: Any, calibration, alpha: float = 0.1, method: str = "lac", mondrian: bool = False, **_):
        """Not built for multi-label tasks (see :class:`NotImplementedError`'s message)."""
        raise NotImplementedError(
            "Conformal sets are built for binary and multi-class evaluations, and intervals for "
            "regression; for a multi-label task, take one label as a binary task: "
            "Evaluation.from_predictions(y_true[:, j], y_proba[:, j]).conformal(...)."
        )

    def temperature_scaled(self: Any, calibration, *, seed: int = 0, bounds=C.TEMPERATURE_BOUNDS) -> "Evaluation":
        """A new evaluation whose label j has probabilities ``sigmoid(logit p_j / T_j)``, each
        ``T_j`` minimising that label's log loss on the calibration set; ``temperature`` is the
        array of them. Decisions at the threshold 0.5 are unchanged (logit 0 stays 0).

        Parameters
        ----------
        calibration : Evaluation or float
            As in :meth:`ClassTrust.conformal`.
        seed : int, default=0
        bounds : tuple of float, default=(0.05, 20.0)
        """
        cal, test, _, _ = split_calibration(self, calibration, seed)
        temps = C.fit_label_temperatures(cal.y_proba, cal.y_true, sample_weight=cal.sample_weight, bounds=bounds)
        proba = C.apply_label_temperatures(test.y_proba, temps)
        return _scaled(test, proba, temps, _label_table, y_pred=_frozen(proba >= test.threshold))


class RegressionTrust:
    """Conformal prediction intervals of regression evaluations."""

    def conformal(
        self: Any,
        calibration,
        alpha: float = 0.1,
        *,
        difficulty: str | Callable[["Evaluation"], Any] | None = None,
        seed: int = 0,
    ) -> ConformalIntervals:
        """Split conformal intervals around the predictions (crepes' ``ConformalRegressor``).

        Parameters
        ----------
        calibration : Evaluation or float
            An evaluation of held-out data by the same model, or a fraction of this one.
        alpha : float, default=0.1
            The error rate allowed (intervals hold the truth ``1 - alpha`` of the time).
        difficulty : str or callable, default=None
            Normalised intervals, ``y_pred -/+ r * sigma``: a metadata column holding each
            sample's difficulty estimate ``sigma > 0``, or a function of an evaluation returning
            them (called on the calibration and the evaluated samples).
        seed : int, default=0

        Returns
        -------
        ConformalIntervals
        """
        alpha = check_alpha(alpha)
        if np.ndim(self.y_pred) > 1:
            raise NotImplementedError(
                "Conformal intervals are built for one regression output; evaluate each output on "
                "its own: Evaluation.from_predictions(y_true[:, j], y_pred[:, j], task='regression')."
            )
        cal, test, rows, notes = split_calibration(self, calibration, seed)
        res = np.abs(np.asarray(cal.y_true, dtype=np.float64) - np.asarray(cal.y_pred, dtype=np.float64))
        sig_cal = sig_test = None
        if difficulty is not None:
            sig_cal, sig_test = _sigmas(cal, difficulty), _sigmas(test, difficulty)
            res = res / sig_cal
            notes.append("Intervals normalised by the difficulty estimate: y_pred -/+ r * sigma.")
        sorted_desc = np.sort(res)[::-1]
        if np.isinf(regression_radius(sorted_desc, alpha)):
            raise too_small_error(len(res), alpha, None)
        return ConformalIntervals(test, sorted_desc, alpha=alpha, sigmas=sig_test, rows=rows, notes=tuple(notes))


def _sigmas(ev: "Evaluation", difficulty) -> np.ndarray:
    if isinstance(difficulty, str):
        if ev.metadata is None or difficulty not in ev.metadata.columns:
            cols = [] if ev.metadata is None else list(ev.metadata.columns)[:30]
            raise DatasetError(
                f"difficulty={difficulty!r} is not a metadata column (columns: {cols}); name a column "
                "of difficulty estimates, or pass a function of an evaluation returning them."
            )
        sig = ev.metadata[difficulty].to_numpy(dtype=np.float64)
    else:
        sig = np.asarray(difficulty(ev), dtype=np.float64)
    if sig.shape != (ev.n_samples,) or not np.all(np.isfinite(sig) & (sig > 0)):
        raise ValueError(
            f"The difficulty estimates must be {ev.n_samples} finite values > 0, one per sample; "
            f"got shape {sig.shape}, smallest {np.nanmin(sig) if sig.size else 'none'}."
        )
    return sig
