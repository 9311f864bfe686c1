"""Regression results: predicted values against targets."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from ..metrics import functions as M
from ..errors import LabelError
from ..insight.slices import regression_scores
from .evaluation import Evaluation
from ..metrics.resampling import resample_means
from .trust import RegressionTrust

__all__ = ["RegressionEvaluation"]


@dataclass(frozen=True, eq=False, repr=False)
class RegressionEvaluation(Evaluation, RegressionTrust, task="regression"):
    """Numeric targets; ``y_pred`` holds the model's predicted values, ``y_proba`` is None."""

    is_classification = False
    is_regression = True

    @classmethod
    def _check_outputs(cls, raw: np.ndarray, y: np.ndarray) -> None:
        if y.dtype.kind not in "OUS" and raw.shape[1] > 1:
            n_targets = 1 if y.ndim == 1 else y.shape[1]
            if n_targets != raw.shape[1]:
                raise LabelError(
                    f"The model has {raw.shape[1]} outputs but the targets have {n_targets} "
                    "column(s); for a classifier pass task='multiclass', for a multi-output "
                    "regressor pass targets with one column per output."
                )

    @classmethod
    def _decide(cls, proba: np.ndarray, threshold: float):
        return (proba[:, 0] if proba.shape[1] == 1 else proba), None

    @cached_property
    def scores(self) -> dict[str, float]:
        return M.regression_metrics(self.y_true, self.y_pred, sample_weight=self.sample_weight)

    def sample_columns(self, indices, *, y_pred: np.ndarray | None = None, top: int = 3) -> dict:
        """Table columns of some samples: target, prediction and residual (prediction - target)."""
        idx = np.asarray(indices, dtype=np.int64)
        pred = np.asarray(self.y_pred if y_pred is None else y_pred)[idx]
        true = np.asarray(self.y_true)[idx]
        return {"true": true, "predicted": pred, "residual": pred - true}

    def report_views(self, per_cell: int = 48) -> dict:
        """Predicted against true values and the largest and smallest errors' samples (see
        :meth:`Evaluation.report_views`)."""
        from .report_data import regression_view

        return regression_view(self, per_cell)

    @property
    def residuals(self) -> np.ndarray:
        """``y_pred - y_true``."""
        return np.asarray(self.y_pred, dtype=np.float64) - self.y_true

    def _replicates(self, n_boot: int, seed: int) -> dict[str, np.ndarray]:
        err = self.residuals
        if err.ndim > 1:
            err = err.mean(axis=1)
        means = resample_means(np.stack([err**2, np.abs(err)], axis=1), n_boot, seed=seed)
        return {"rmse": np.sqrt(means[:, 0]), "mae": means[:, 1]}

    # ------------------------------------------------------------------ slices
    SLICE_METRICS = ("mae", "rmse", "bias")
    DEFAULT_SLICE_METRICS = ("mae", "rmse", "bias")
    SLICE_WORST_IS_HIGH = True
    HEADLINE_METRICS = ("rmse", "mae", "r2", "mape")

    def slice_scores(self, codes, rows_of, *, n_boot: int, seed: int, confidence: float):
        """Every slice's MAE, RMSE and bias with bootstrap intervals (none with sample weights;
        see :func:`~h5eval_widgets.core.insight.slices.regression_scores`)."""
        return regression_scores(self, codes, rows_of, n_boot, seed, confidence)

    def sample_errors(self) -> np.ndarray:
        """Each sample's absolute error (mean over outputs): what :meth:`weak_slices` learns."""
        err = np.abs(self.residuals)
        return err.mean(axis=1) if err.ndim > 1 else err
