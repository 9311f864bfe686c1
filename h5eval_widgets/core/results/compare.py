"""Two models on one test set, one model on several splits, and training histories."""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from .._lazy import pd
from ..metrics import functions as M
from ..errors import H5EvalError, LabelError
from .evaluation import Evaluation
from ..metrics.resampling import percentile_interval, resample_groups

__all__ = ["Comparison", "compare_splits", "SplitReport", "load_history", "mcnemar"]

#: Metrics of the confusion matrix whose difference gets a paired bootstrap interval.
PAIRED = ("accuracy", "balanced_accuracy", "f1_macro", "cohen_kappa", "mcc")


def mcnemar(only_a: int, only_b: int) -> dict:
    """McNemar's test on the discordant counts of a paired correct/wrong table.

    Returns the exact two-sided binomial p-value and the chi-square statistic with continuity
    correction and its p-value (1 degree of freedom).
    """
    from scipy import stats

    n = only_a + only_b
    if n == 0:
        return {"only_a": 0, "only_b": 0, "statistic": 0.0, "p_value": 1.0, "p_value_exact": 1.0}
    stat = (abs(only_a - only_b) - 1) ** 2 / n
    exact = min(1.0, 2 * stats.binom.cdf(min(only_a, only_b), n, 0.5))
    return {
        "only_a": int(only_a),
        "only_b": int(only_b),
        "statistic": float(stat),
        "p_value": float(stats.chi2.sf(stat, 1)),
        "p_value_exact": float(exact),
    }


@dataclass(eq=False)
class Comparison:
    """Model A against model B on the same samples.

    Parameters
    ----------
    a, b : Evaluation
        Classification evaluations of the same labels, in the same order.
    n_boot : int, default=1000
        Paired bootstrap replicates for the intervals of the differences.
    seed : int, default=0
    """

    a: Evaluation
    b: Evaluation
    n_boot: int = 1000
    seed: int = 0
    _cache: dict = field(default_factory=dict, repr=False)

    def __post_init__(self):
        for ev in (self.a, self.b):
            if ev.task not in ("binary", "multiclass"):
                raise LabelError(f"Comparison needs classification evaluations; got a {ev.task} one.")
        if self.a.n_samples != self.b.n_samples or not np.array_equal(self.a.y_true, self.b.y_true):
            raise LabelError(
                f"The two evaluations are not of the same samples ({self.a.n_samples} and "
                f"{self.b.n_samples} samples, or different labels); compare models on one dataset."
            )
        if self.a.classes != self.b.classes:
            raise LabelError(f"The models have different classes: {self.a.classes} and {self.b.classes}.")

    @property
    def names(self) -> tuple[str, str]:
        a = self.a.model_name or "A"
        b = self.b.model_name or "B"
        return (a, b) if a != b else (f"{a} (A)", f"{b} (B)")

    # ------------------------------------------------------------------ agreement
    def agreement(self) -> pd.DataFrame:
        """2x2 counts: rows = A right/wrong, columns = B right/wrong."""
        ra, rb = self.a.correct, self.b.correct
        na, nb = self.names
        return pd.DataFrame(
            [[int(np.sum(ra & rb)), int(np.sum(ra & ~rb))], [int(np.sum(~ra & rb)), int(np.sum(~ra & ~rb))]],
            index=pd.Index([f"{na} right", f"{na} wrong"]),
            columns=pd.Index([f"{nb} right", f"{nb} wrong"]),
        )

    def agreement_indices(self, a_right: bool, b_right: bool) -> np.ndarray:
        """Samples where A is right (or wrong) and B is right (or wrong), B's most confident first."""
        key = ("cell", bool(a_right), bool(b_right))
        if key not in self._cache:
            mask = (self.a.correct == a_right) & (self.b.correct == b_right)
            idx = np.flatnonzero(mask)
            self._cache[key] = idx[np.argsort(-self.b.confidence[idx], kind="stable")]
        return self._cache[key]

    def mcnemar(self) -> dict:
        """McNemar's test of "A and B are equally often right" on these samples."""
        return mcnemar(int(np.sum(self.a.correct & ~self.b.correct)), int(np.sum(~self.a.correct & self.b.correct)))

    # ------------------------------------------------------------------ metrics
    def _paired_bootstrap(self) -> dict[str, np.ndarray]:
        """Replicates of A - B, both scored on the same resampled samples: the samples are
        grouped by (true, A's prediction, B's prediction) and the groups resampled."""
        if "boot" in self._cache:
            return self._cache["boot"]
        k = self.a.n_classes

        def score(groups, counts):
            ct, rest = np.divmod(groups, k * k)
            ca, cb = np.divmod(rest, k)
            sa = M.scores_from_cell_draws(counts, ct, ca, k)
            sb = M.scores_from_cell_draws(counts, ct, cb, k)
            return {m: sa[m] - sb[m] for m in PAIRED}

        joint = (self.a.y_true * k + self.a.y_pred) * k + self.b.y_pred
        self._cache["boot"] = resample_groups(joint, self.n_boot, score, seed=self.seed)
        return self._cache["boot"]

    def metrics(self, confidence: float = 0.95) -> pd.DataFrame:
        """Every headline metric of A and B, the difference A - B and, for the metrics of the
        confusion matrix, a paired bootstrap interval of the difference (same resampled samples
        for both models)."""
        na, nb = self.names
        sa, sb = self.a.scores, self.b.scores
        keys = [k for k in sa if k in sb]
        boot = self._paired_bootstrap()
        rows = []
        for k in keys:
            lo, hi = percentile_interval(boot[k], confidence) if k in boot else (np.nan, np.nan)
            rows.append(
                {"metric": k, na: sa[k], nb: sb[k], "difference": sa[k] - sb[k], "low": float(lo), "high": float(hi)}
            )
        return pd.DataFrame(rows).set_index("metric")

    def per_class(self) -> pd.DataFrame:
        """F1 (and precision, recall) of every class for both models, with the F1 difference."""
        na, nb = self.names
        pa, pb = self.a.per_class(), self.b.per_class()
        out = pd.DataFrame({f"f1 {na}": pa["f1"], f"f1 {nb}": pb["f1"]})
        out["f1 difference"] = out.iloc[:, 0] - out.iloc[:, 1]
        out[f"precision {na}"], out[f"precision {nb}"] = pa["precision"], pb["precision"]
        out[f"recall {na}"], out[f"recall {nb}"] = pa["recall"], pb["recall"]
        return out

    def _repr_html_(self) -> str:
        m = self.mcnemar()
        return (
            f"<b>{self.names[0]} vs {self.names[1]}</b> · McNemar p = {m['p_value_exact']:.3g}"
            + self.agreement().to_html()
            + self.metrics().to_html(float_format=lambda x: f"{x:.4f}")
        )


@dataclass(eq=False)
class SplitReport:
    """One model's metrics on several named datasets, with a train/test gap check.

    Attributes
    ----------
    evaluations : dict of str to Evaluation
    tolerance : float
        A gap in the watched metric (train - test) above this is flagged.
    errors : dict of str to str
        Datasets that could not be evaluated, with why.
    """

    evaluations: dict
    train: str | None = None
    test: str | None = None
    metric: str = "accuracy"
    tolerance: float = 0.05
    errors: dict = field(default_factory=dict)

    @classmethod
    def from_evaluations(
        cls,
        evaluations: dict,
        *,
        errors: dict | None = None,
        train: str | None = None,
        test: str | None = None,
        metric: str | None = None,
        tolerance: float = 0.05,
    ) -> "SplitReport":
        """A report over evaluations already made; train/test guessed from the split names
        ("train" / "test") and the metric from the task (accuracy, or r2 for regression)."""
        train = train or _guess(evaluations, ("train",))
        test = test or _guess(evaluations, ("test",))
        if metric is None:
            first = next(iter(evaluations.values()), None)
            metric = "r2" if first is not None and not first.is_classification else "accuracy"
        return cls(evaluations, train=train, test=test, metric=metric, tolerance=tolerance, errors=dict(errors or {}))

    def metrics(self) -> pd.DataFrame:
        """Metrics (rows) by split (columns)."""
        return pd.DataFrame({name: ev.scores for name, ev in self.evaluations.items()})

    @property
    def gap(self) -> float:
        """``metric`` on the train split minus on the test split (nan without both)."""
        if self.train in self.evaluations and self.test in self.evaluations:
            return float(
                self.evaluations[self.train].scores[self.metric] - self.evaluations[self.test].scores[self.metric]
            )
        return float("nan")

    @property
    def overfitting(self) -> bool:
        """True when the train-test gap is larger than the tolerance."""
        return not math.isnan(self.gap) and self.gap > self.tolerance

    def summary(self) -> str:
        if math.isnan(self.gap):
            return "Name a train and a test split to check for overfitting."
        verdict = "possible overfitting" if self.overfitting else "no sign of overfitting"
        return (
            f"{self.metric}: {self.train} {self.evaluations[self.train].scores[self.metric]:.4f}, "
            f"{self.test} {self.evaluations[self.test].scores[self.metric]:.4f}, gap {self.gap:+.4f} "
            f"(tolerance {self.tolerance:g}): {verdict}."
        )


def _guess(names, words):
    for n in names:
        if any(w in n.lower() for w in words):
            return n
    return None


def compare_splits(
    model,
    splits: Mapping[str, Any],
    *,
    train: str | None = None,
    test: str | None = None,
    metric: str | None = None,
    tolerance: float = 0.05,
    **kwargs,
) -> SplitReport:
    """Evaluate one model on several named datasets (for example train, validation, test).

    Parameters
    ----------
    model : path, keras.Model or LoadedModel
    splits : mapping of str to dataset
        Anything :func:`~h5eval_widgets.core.load_dataset` reads, by name.
    train, test : str, default=None
        Names of the train and test splits (guessed from names containing "train" / "test").
    metric : str, default=None
        Metric whose train - test gap is checked (accuracy, or r2 for regression).
    tolerance : float, default=0.05
    **kwargs
        Passed to :meth:`Evaluation.from_model`.
    """
    from ..models.loading import load_model

    loaded = load_model(model, trust_code=kwargs.pop("trust_code", False))
    evals, errors = {}, {}
    for name, data in splits.items():
        try:
            evals[name] = Evaluation.from_model(loaded, data, dataset_name=name, **kwargs)
        except H5EvalError as exc:
            errors[name] = str(exc)
    return SplitReport.from_evaluations(
        evals, errors=errors, train=train, test=test, metric=metric, tolerance=tolerance
    )


def load_history(source) -> pd.DataFrame:
    """A training history as a DataFrame indexed by epoch (columns ``loss``, ``val_loss``, ...).

    Parameters
    ----------
    source : keras History, dict, or path
        A ``History`` returned by ``fit`` (or its ``.history`` dict), a CSV written by
        ``keras.callbacks.CSVLogger``, or a JSON file of ``{metric: [values per epoch]}``.
    """
    if hasattr(source, "history") and isinstance(source.history, dict):
        source = source.history
    if isinstance(source, Mapping):
        df = pd.DataFrame({k: list(v) for k, v in source.items()})
    elif isinstance(source, (str, os.PathLike)):
        path = Path(source)
        if not path.exists():
            raise H5EvalError(f"History file {str(path)!r} does not exist.")
        if path.suffix.lower() == ".json":
            data = json.loads(path.read_text())
            df = pd.DataFrame(data.get("history", data))
        elif path.suffix.lower() in (".csv", ".log", ".txt"):
            df = pd.read_csv(path)
        else:
            raise H5EvalError(f"{path.name}: a history is a CSVLogger .csv or a .json file.")
    else:
        raise H5EvalError(f"Cannot read a training history from {type(source).__name__}.")
    if "epoch" in df.columns:
        df = df.set_index("epoch")
    else:
        df.index = pd.RangeIndex(len(df), name="epoch")
    if df.empty:
        raise H5EvalError("The training history is empty.")
    return df
