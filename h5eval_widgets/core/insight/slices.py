"""Metrics per slice: one row per group of samples, with intervals, worst first.

The groups come from a metadata column or an explicit array; numeric columns are cut into
quantile bins. Every slice's confusion matrix comes from one ``bincount`` over
``group * k * k + true * k + predicted``, and the matrix metrics of all slices at once from
:func:`~h5eval_widgets.core.metrics.functions.scores_from_cell_draws`; the bootstrap draws each slice's
cell counts (:func:`~h5eval_widgets.core.metrics.resampling.resample_groups`), so no slice is
scanned per replicate. ROC AUC sorts each slice's score columns once (with DeLong's
interval). Called through :meth:`Evaluation.slices <h5eval_widgets.core.Evaluation.slices>`.

What each task reports per slice is its result class's: ``SLICE_METRICS``,
``DEFAULT_SLICE_METRICS`` and ``slice_scores`` (which calls the scorers here for its task),
and ``slice_auc_columns`` for ROC AUC.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any, Sequence

import numpy as np

from ..metrics import functions as M
from .._lazy import pd
from ..errors import DatasetError
from ..metrics.resampling import percentile_interval, resample_groups, resample_means

if TYPE_CHECKING:  # pragma: no cover
    from ..results.evaluation import Evaluation

__all__ = [
    "slice_table",
    "slice_groups",
    "single_label_scores",
    "multilabel_scores",
    "regression_scores",
    "auc_with_interval",
]


# ---------------------------------------------------------------------------------- groups
def _no_column_error(ev: "Evaluation", column: Any) -> DatasetError:
    if ev.metadata is None or not len(ev.metadata.columns):
        return DatasetError(
            f"This evaluation has no metadata{'' if column is None else f' (no column {column!r})'}"
            "; pass the groups as groups=array (one value per sample), or give metadata: a "
            "DataFrame/CSV/Parquet test set with feature_columns=[...] (the other columns become "
            "metadata), an image folder with sub-folders inside the class folders, or "
            "Evaluation.from_predictions(..., metadata=DataFrame)."
        )
    cols = list(ev.metadata.columns)
    if column is None:
        return DatasetError(f"Name the column to slice by, one of {cols[:30]}, or pass groups=.")
    return DatasetError(
        f"The metadata has no column {column!r}; its columns are {cols[:30]}. Pass one of them, "
        "or the groups themselves as groups=array."
    )


def _fmt(x: float) -> str:
    return f"{x:.6g}"


def _codes_of(values: Any, label: str | None, bins: int) -> tuple[np.ndarray, list[str]]:
    """Group codes (0..S-1, every group non-empty) and names of one column of values."""
    s = values if isinstance(values, pd.Series) else pd.Series(np.asarray(values))
    s = s.reset_index(drop=True)
    numeric = pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s)
    if numeric and s.nunique(dropna=True) > bins:
        if bins < 1:
            raise ValueError(f"bins must be at least 1; got {bins}.")
        codes, edges = pd.qcut(s, bins, labels=False, retbins=True, duplicates="drop")
        codes = pd.Series(codes).to_numpy(dtype=np.float64, na_value=np.nan)
        codes = np.where(np.isnan(codes), -1, codes).astype(np.int64)
        names = [
            (f"{label} in " if label else "") + ("[" if i == 0 else "(") + f"{_fmt(lo)}, {_fmt(hi)}]"
            for i, (lo, hi) in enumerate(zip(edges[:-1], edges[1:]))
        ]
    else:
        try:
            codes, uniques = pd.factorize(s, sort=True, use_na_sentinel=True)
        except TypeError:  # values that do not sort together (str and int): first-seen order
            codes, uniques = pd.factorize(s, sort=False, use_na_sentinel=True)
        codes = np.asarray(codes, dtype=np.int64)
        shown = [_fmt(u) if isinstance(u, (float, np.floating)) else str(u) for u in list(uniques)]
        names = [f"{label} = {u}" if label else u for u in shown]
    if (codes < 0).any():
        codes = np.where(codes < 0, len(names), codes)
        names.append(f"{label} missing" if label else "missing")
    # drop empty groups (unused bins or categories), keep the order of the rest
    counts = np.bincount(codes, minlength=len(names))
    keep = np.flatnonzero(counts)
    if len(keep) < len(names):
        remap = np.full(len(names), -1, dtype=np.int64)
        remap[keep] = np.arange(len(keep))
        codes, names = remap[codes], [names[i] for i in keep]
    seen: dict[str, int] = {}
    for i, nm in enumerate(names):  # two values that print alike (1 and '1') stay apart
        if nm in seen:
            names[i] = f"{nm} ({seen[nm] + 1})"
        seen[nm] = seen.get(nm, 0) + 1
    return codes, names


def slice_groups(
    ev: "Evaluation", column: str | None = None, *, groups=None, bins: int = 4
) -> tuple[np.ndarray, list[str], str | None]:
    """The slice of every sample: ``(codes, names, label)``.

    ``codes`` is an int64 array (n_samples,) with values 0..len(names)-1, every slice
    non-empty; ``label`` is the column (or the groups Series' name), None for an unnamed array.
    """
    if (column is None) == (groups is None):
        if column is None:
            raise _no_column_error(ev, None)
        raise ValueError("Pass either a metadata column or groups=, not both.")
    if groups is not None:
        label = getattr(groups, "name", None)
        label = None if label is None else str(label)
        if np.ndim(groups) != 1 or len(groups) != ev.n_samples:
            raise DatasetError(f"groups must hold one value per sample ({ev.n_samples}); got shape {np.shape(groups)}.")
        values = groups
    else:
        if ev.metadata is None or column not in ev.metadata.columns:
            raise _no_column_error(ev, column)
        label, values = str(column), ev.metadata[column]
    codes, names = _codes_of(values, label, int(bins))
    return codes, names, label


# ---------------------------------------------------------------------------------- metrics
_MATRIX_METRICS = ("accuracy", "balanced_accuracy", "f1_macro", "cohen_kappa", "mcc")


def _matrix_scores(sc: dict, positive: int | None) -> dict[str, np.ndarray]:
    out = {name: sc[name] for name in _MATRIX_METRICS}
    if positive is not None:
        out.update({name: sc[name][:, positive] for name in ("precision", "recall", "f1")})
    return out


def _single_label(ev, codes: np.ndarray, n_slices: int, positive: int | None) -> dict[str, np.ndarray]:
    """Matrix metrics of every slice from one bincount of per-slice confusion cells."""
    k = ev.n_classes
    cell = ev.y_true.astype(np.int64) * k + ev.y_pred
    cm = np.bincount(codes * (k * k) + cell, weights=ev.sample_weight, minlength=n_slices * k * k).reshape(
        n_slices, k * k
    )
    used = np.flatnonzero(cm.any(axis=0))
    rows, cols = np.divmod(used, k)
    out = _matrix_scores(M.scores_from_cell_draws(cm[:, used], rows, cols, k), positive)
    out["errors"] = cm.sum(axis=1) - cm[:, (np.arange(k) * (k + 1))].sum(axis=1)
    return out


def _single_label_boot(ev, rows: np.ndarray, n_boot: int, seed: int, positive: int | None) -> dict[str, np.ndarray]:
    k = ev.n_classes

    def score(groups, counts):
        t, p = np.divmod(groups, k)
        return _matrix_scores(M.scores_from_cell_draws(counts, t, p, k), positive)

    w = None if ev.sample_weight is None else ev.sample_weight[rows]
    return resample_groups(
        ev.y_true[rows].astype(np.int64) * k + ev.y_pred[rows], n_boot, score, seed=seed, sample_weight=w
    )


def _multilabel_scores(tp, fp, fn, exact, mism, total) -> dict[str, np.ndarray]:
    """Subset accuracy, hamming loss and macro F1 of (m, k) counts (nan F1 of unseen labels
    left out of the mean, as for single-label)."""
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a slice with no label at all
        denom = 2 * tp + fp + fn
        f1 = np.where(denom == 0, np.nan, 2 * tp / np.where(denom == 0, 1, denom))
        return {"accuracy": exact / total, "hamming_loss": mism / total, "f1_macro": np.nanmean(f1, axis=-1)}


def single_label_scores(
    ev,
    codes: np.ndarray,
    rows_of: list[np.ndarray],
    n_boot: int,
    seed: int,
    confidence: float,
    *,
    positive: int | None = None,
):
    """Point values and bootstrap intervals of the matrix metrics of every slice of a
    single-label evaluation (and the ``positive`` class's precision, recall and F1 when given)."""
    point = _single_label(ev, codes, len(rows_of), positive)
    bounds: dict[str, list] = {}
    if n_boot:
        for s, rows in enumerate(rows_of):
            for name, v in _single_label_boot(ev, rows, n_boot, seed + s, positive).items():
                bounds.setdefault(name, []).append(percentile_interval(v, confidence))
    return point, bounds


def multilabel_scores(ev, codes: np.ndarray, rows_of: list[np.ndarray], n_boot: int, seed: int, confidence: float):
    """Point values and intervals of the multi-label metrics of every slice: the bootstrap
    draws counts of each slice's distinct (truth, prediction) rows."""
    point: dict[str, list] = {}
    bounds: dict[str, list] = {}
    for s, rows in enumerate(rows_of):
        t, p = ev.y_true[rows], ev.y_pred[rows]
        w = None if ev.sample_weight is None else ev.sample_weight[rows]
        bits = np.packbits(np.concatenate([t, p], axis=1), axis=1)
        _, first, inverse = np.unique(bits, axis=0, return_index=True, return_inverse=True)
        inverse = inverse.ravel()
        tp_, fp_, fn_ = (
            np.asarray(m, dtype=np.float64) for m in (t[first] & p[first], ~t[first] & p[first], t[first] & ~p[first])
        )
        exact_ = np.all(t[first] == p[first], axis=1).astype(np.float64)
        mism_ = np.mean(t[first] != p[first], axis=1)
        counts = np.bincount(inverse, weights=w, minlength=len(first)).astype(np.float64)

        def score(groups, draws, tp_=tp_, fp_=fp_, fn_=fn_, exact_=exact_, mism_=mism_):
            return _multilabel_scores(
                draws @ tp_[groups],
                draws @ fp_[groups],
                draws @ fn_[groups],
                draws @ exact_[groups],
                draws @ mism_[groups],
                draws.sum(1),
            )

        one = score(np.arange(len(first)), counts[None, :])
        one["errors"] = np.array([counts.sum() - counts @ exact_])
        for name, v in one.items():
            point.setdefault(name, []).append(float(v[0]))
        if n_boot:
            reps = resample_groups(inverse, n_boot, score, seed=seed + s, sample_weight=w)
            for name, v in reps.items():
                bounds.setdefault(name, []).append(percentile_interval(v, confidence))
    return {n: np.array(v) for n, v in point.items()}, bounds


def regression_scores(ev, codes: np.ndarray, rows_of: list[np.ndarray], n_boot: int, seed: int, confidence: float):
    """Point values of every slice's MAE, RMSE and bias, and bootstrap intervals (none with
    sample weights)."""
    err = ev.residuals
    if err.ndim > 1:
        err = err.mean(axis=1)
    point: dict[str, list] = {}
    bounds: dict[str, list] = {}
    for s, rows in enumerate(rows_of):
        e = err[rows]
        w = None if ev.sample_weight is None else ev.sample_weight[rows]
        vals = {
            "mae": np.average(np.abs(e), weights=w),
            "rmse": np.sqrt(np.average(e**2, weights=w)),
            "bias": np.average(e, weights=w),
        }
        for name, v in vals.items():
            point.setdefault(name, []).append(float(v))
        if n_boot and w is None:
            means = resample_means(np.stack([np.abs(e), e**2, e], axis=1), n_boot, seed=seed + s)
            reps = {"mae": means[:, 0], "rmse": np.sqrt(means[:, 1]), "bias": means[:, 2]}
            for name, v in reps.items():
                bounds.setdefault(name, []).append(percentile_interval(v, confidence))
    return {n: np.array(v) for n, v in point.items()}, bounds


def auc_with_interval(ev, rows: np.ndarray, confidence: float) -> tuple[float, float, float]:
    """ROC AUC of one slice and its interval: the mean over the columns the result names
    (``ev.slice_auc_columns(rows)``: binary the positive class, else every class against the
    rest; nan when a class lacks positives or negatives in the slice). DeLong's interval for
    one column; for several the mean of their DeLong intervals, a conservative bound (it
    assumes their errors fully correlated). No interval with sample weights."""
    w = None if ev.sample_weight is None else ev.sample_weight[rows]
    proba = ev.y_proba[rows]
    aucs, lows, highs = [], [], []
    for c, truth in ev.slice_auc_columns(rows):
        order, s_sorted = M.sort_descending(proba[:, c])
        curve = M.sorted_curve(truth[order], s_sorted, None if w is None else w[order])
        aucs.append(M.roc_auc_binary(curve))
        lo, hi = M.roc_auc_delong_interval(curve, confidence) if w is None else (float("nan"), float("nan"))
        lows.append(lo)
        highs.append(hi)
    if np.isnan(aucs).any():
        return float("nan"), float("nan"), float("nan")
    return float(np.mean(aucs)), float(np.mean(lows)), float(np.mean(highs))


# ---------------------------------------------------------------------------------- table
def slice_table(
    ev: "Evaluation",
    column: str | None = None,
    *,
    groups=None,
    bins: int = 4,
    n_boot: int = 200,
    seed: int = 0,
    confidence: float = 0.95,
    metrics: Sequence[str] | None = None,
) -> "pd.DataFrame":
    """Metrics of each slice of an evaluation, with intervals, worst first.

    Parameters
    ----------
    ev : Evaluation
    column : str, default=None
        A column of ``ev.metadata``. Numeric columns with more than ``bins`` distinct values
        are cut into quantile bins (``pd.qcut``, equal bins merged), named like
        ``'age in (40, 61]'`` (the first bin closed: ``'age in [18, 40]'``); other columns
        give one slice per value (``'city = north'``); missing values form the slice
        ``'<column> missing'``.
    groups : array-like of shape (n_samples,), default=None
        The groups themselves, instead of a column (binned the same way when numeric); a
        named Series is labelled by its name, an unnamed array by the values alone.
    bins : int, default=4
        Number of quantile bins for numeric groups.
    n_boot : int, default=200
        Bootstrap replicates for the intervals (0: none, the bounds are nan). Each slice is
        resampled on its own (percentile intervals; seeded by ``seed`` and the slice's place).
    seed : int, default=0
    confidence : float, default=0.95
    metrics : sequence of str, default=None
        Metric columns (default ``accuracy, f1_macro, roc_auc, error_rate``; regression
        ``mae, rmse, bias``); see :data:`METRICS`. ``accuracy`` (regression: ``mae``) is
        always included: it orders the rows. Multi-label ``accuracy`` is the subset accuracy
        (every label right); ``roc_auc`` is the positive class's (binary) or the macro mean
        over classes, nan when a class is missing from the slice; leaving it out skips the
        score sorts.

    Returns
    -------
    DataFrame
        One row per slice, indexed by the slice's name (index name ``'slice'``), worst first
        (lowest accuracy, or highest MAE; ties: larger first). Columns: ``size`` (samples),
        ``share`` (of all samples), ``errors`` and ``error_share`` (wrong samples, and their
        share of all wrong ones; classification only), then each metric with ``<m>_low`` and
        ``<m>_high``, and ``rows``: the int64 sample indices of the slice, ascending, for
        ``ev.subset(frame.at[name, 'rows'], name)``. ``frame.attrs`` holds ``column``,
        ``n_boot``, ``confidence``, ``sort_by`` and ``interval`` (how each metric's interval
        was computed).

    Raises
    ------
    DatasetError
        No metadata and no ``groups``, an unknown column (the message lists the columns), or
        groups of the wrong length.
    """
    known = ev.SLICE_METRICS
    first = known[0]
    wanted = list(ev.DEFAULT_SLICE_METRICS if metrics is None else metrics)
    unknown = [m for m in wanted if m not in known]
    if unknown:
        raise ValueError(f"Unknown metric(s) {unknown} for a {ev.task} evaluation; choose from {list(known)}.")
    wanted = [first] + [m for m in dict.fromkeys(wanted) if m != first]
    codes, names, label = slice_groups(ev, column, groups=groups, bins=bins)
    n_slices = len(names)
    order = np.argsort(codes, kind="stable")
    rows_of = np.split(order, np.cumsum(np.bincount(codes, minlength=n_slices))[:-1])
    w = ev.sample_weight
    size = np.array([len(r) for r in rows_of], dtype=np.int64)
    nan2 = (float("nan"), float("nan"))
    interval: dict[str, str] = {}
    point, bounds = ev.slice_scores(codes, rows_of, n_boot=n_boot, seed=seed, confidence=confidence)
    if n_boot and w is not None and not bounds:
        interval.update({m: "none (sample weights)" for m in known})
    for m in point:
        interval.setdefault(m, "bootstrap" if n_boot else "none")
    if "accuracy" in point:
        point["error_rate"] = 1 - point["accuracy"]
        bounds["error_rate"] = [(1 - hi, 1 - lo) for lo, hi in bounds.get("accuracy", [])]
        interval["error_rate"] = interval["accuracy"]
    if "roc_auc" in wanted:
        auc = np.array([auc_with_interval(ev, rows, confidence) for rows in rows_of]).reshape(-1, 3)
        point["roc_auc"] = auc[:, 0]
        bounds["roc_auc"] = [tuple(r) for r in auc[:, 1:]]
        interval["roc_auc"] = "none (sample weights)" if w is not None else ev.SLICE_AUC_INTERVAL

    data: dict[str, Any] = {"size": size, "share": size / ev.n_samples}
    if "errors" in point:
        errors = np.asarray(point["errors"])
        data["errors"] = errors.astype(np.int64) if w is None else errors
        total = errors.sum()
        data["error_share"] = errors / total if total else np.zeros(n_slices)
    for m in wanted:
        b = bounds.get(m) or [nan2] * n_slices
        data[m] = np.asarray(point[m], dtype=np.float64)
        data[f"{m}_low"] = np.array([lo for lo, _ in b], dtype=np.float64)
        data[f"{m}_high"] = np.array([hi for _, hi in b], dtype=np.float64)
    key = data[first] if ev.SLICE_WORST_IS_HIGH else -data[first]
    ranked = np.lexsort((-size, -key))  # worst first, then larger first
    frame = pd.DataFrame(
        {c: np.asarray(v)[ranked] for c, v in data.items()},
        index=pd.Index([names[i] for i in ranked], dtype=object, name="slice"),
    )
    rows_col = np.empty(n_slices, dtype=object)
    for j, i in enumerate(ranked):
        rows_of[i].flags.writeable = False
        rows_col[j] = rows_of[i]
    frame["rows"] = rows_col
    frame.attrs.update(
        {
            "column": label,
            "n_boot": int(n_boot),
            "confidence": float(confidence),
            "sort_by": first,
            "interval": {m: interval.get(m, "none") for m in wanted},
        }
    )
    return frame
