"""Weak slices found for the user: readable rules for where the model is wrong most often.

A shallow :class:`sklearn.tree.DecisionTreeClassifier` is fit to "is this sample wrong?"
(regression: a :class:`~sklearn.tree.DecisionTreeRegressor` to the absolute error) over the
evaluation's metadata and, for tabular data, the input features. Each leaf is a slice; its
path through the tree is read back from ``tree_`` as a rule (``'age > 61.5 and city =
north'``), one-hot splits turned into ``city = north`` / ``city != north``. This is what the
Responsible AI toolbox's error analysis does, without a server. Called through
:meth:`Evaluation.weak_slices <h5eval_widgets.core.Evaluation.weak_slices>`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from .._lazy import pd
from ..errors import DatasetError

if TYPE_CHECKING:  # pragma: no cover
    from ..results.evaluation import Evaluation

__all__ = ["find_weak_slices", "FIT_SAMPLES"]

#: The tree is fit on at most this many samples (a seeded random choice); every sample is then
#: put in its leaf, so sizes and rates are exact (measured, 1M samples with a 20-value column
#: and ages: 4.1 s fitting on all of them).
FIT_SAMPLES = 200_000


@dataclass(frozen=True)
class _Column:
    """One column of the tree's matrix: a number, a missing-value flag or one category."""

    source: str
    kind: str  # 'num', 'missing' or 'level'
    value: Any = None
    #: for a two-valued categorical column without missing values: the other value
    other: Any = None


def _feature_frame(features: Any) -> "pd.DataFrame":
    """The input features as a DataFrame: from a DataFrame or a tabular Dataset."""
    if isinstance(features, pd.DataFrame):
        return features.reset_index(drop=True)
    X = getattr(features, "X", None)
    if X is None:
        raise TypeError(
            f"features must be a DataFrame or a Dataset (load_dataset(...)); got {type(features).__name__}."
        )
    if getattr(features, "kind", None) != "tabular":
        raise DatasetError(
            f"features= takes tabular inputs; {getattr(features, 'name', 'the dataset')} holds "
            f"{getattr(features, 'kind', '?')} inputs. Slice by its metadata alone (features=None)."
        )
    cols = getattr(X, "columns", None)
    if isinstance(cols, dict):  # named inputs: keep the one-dimensional ones
        return pd.DataFrame({k: np.asarray(v) for k, v in cols.items() if np.ndim(v) == 1})
    raw = X if isinstance(X, np.ndarray) else X[:]  # Parquet rows: read whole
    names = features.feature_names or ()
    if isinstance(raw, dict):
        return pd.DataFrame({k: np.asarray(v) for k, v in raw.items()})
    arr = np.asarray(raw)
    if arr.ndim != 2:
        raise DatasetError("features= needs a table of one column per feature.")
    names = names if len(names) == arr.shape[1] else tuple(f"x{j}" for j in range(arr.shape[1]))
    return pd.DataFrame(arr, columns=list(names))


def _columns(ev: "Evaluation", features: Any) -> "pd.DataFrame":
    parts = []
    meta = ev.metadata
    if meta is None and features is not None and getattr(features, "metadata", None) is not None:
        meta = features.metadata  # a Dataset evaluated without keeping its metadata
    if meta is not None:
        parts.append(meta.reset_index(drop=True))
    if features is not None:
        feats = _feature_frame(features)
        if len(feats) != ev.n_samples:
            hint = (
                f" This evaluation is a subset of {len(ev.source_rows)} rows: pass features.iloc[ev.source_rows]."
                if ev.source_rows is not None
                else ""
            )
            raise DatasetError(
                f"features has {len(feats)} rows but the evaluation has {ev.n_samples} samples; "
                f"give the features of the evaluated samples, in order.{hint}"
            )
        taken = set(parts[0].columns) if parts else set()
        parts.append(feats[[c for c in feats.columns if c not in taken]])
    if not parts or sum(p.shape[1] for p in parts) == 0:
        raise DatasetError(
            "There are no columns to search for weak slices: this evaluation has no metadata and "
            "no features were given. Pass features=DataFrame (or the tabular Dataset), or give "
            "metadata: a DataFrame/CSV/Parquet test set with feature_columns=[...] (the other "
            "columns become metadata), an image folder with sub-folders inside the class "
            "folders, or Evaluation.from_predictions(..., metadata=DataFrame)."
        )
    return pd.concat(parts, axis=1) if len(parts) > 1 else parts[0]


def _encode(frame: "pd.DataFrame", max_levels: int) -> tuple[np.ndarray, list[_Column]]:
    """A float32 matrix for the tree: numbers as they are (missing ones at the median, with a
    flag column), categories one-hot (the ``max_levels`` most frequent values)."""
    blocks, specs = [], []
    for name in frame.columns:
        s = frame[name]
        src = str(name)
        if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
            v = s.to_numpy(dtype=np.float64, na_value=np.nan)
            missing = np.isnan(v)
            if missing.all():
                continue
            if missing.any():
                blocks.append(missing[:, None])
                specs.append(_Column(src, "missing"))
                v = np.where(missing, np.nanmedian(v), v)
            blocks.append(v[:, None])
            specs.append(_Column(src, "num"))
            continue
        codes, uniques = pd.factorize(s, use_na_sentinel=True)
        counts = np.bincount(codes[codes >= 0], minlength=len(uniques))
        if len(uniques) < 2 and not (codes < 0).any():
            continue  # constant: nothing to split on
        levels = list(np.argsort(-counts, kind="stable")[:max_levels])
        two = len(uniques) == 2 and not (codes < 0).any()
        if two:
            levels = levels[:1]
        for j in levels:
            blocks.append((codes == j)[:, None])
            other = uniques[1 - j] if two else None
            specs.append(_Column(src, "level", uniques[j], other))
        if (codes < 0).any():
            blocks.append((codes < 0)[:, None])
            specs.append(_Column(src, "missing"))
    if not blocks:
        raise DatasetError("Every column to search is constant or empty: there is nothing to split on.")
    return np.hstack([np.asarray(b, dtype=np.float32) for b in blocks]), specs


def _fmt(x: float) -> str:
    return f"{x:.6g}"


def _rule(conditions: list[tuple[int, bool, float]], specs: list[_Column]) -> str:
    """Readable text of a path: per source column, bounds of numbers, ``=``/``!=`` of values."""
    by_source: dict[str, dict] = {}
    for j, right, thr in conditions:
        spec = specs[j]
        d = by_source.setdefault(spec.source, {"lo": None, "hi": None, "eq": None, "ne": [], "missing": None})
        if spec.kind == "num":
            if right:
                d["lo"] = thr if d["lo"] is None else max(d["lo"], thr)
            else:
                d["hi"] = thr if d["hi"] is None else min(d["hi"], thr)
        elif spec.kind == "missing":
            d["missing"] = right
        elif right:
            d["eq"] = spec.value
        elif spec.other is not None:
            d["eq"] = spec.other  # not the one value: the other one
        else:
            d["ne"].append(spec.value)
    parts = []
    for src, d in by_source.items():
        if d["missing"]:
            parts.append(f"{src} is missing")
            continue
        if d["eq"] is not None:
            parts.append(f"{src} = {d['eq']}")
        elif len(d["ne"]) == 1:
            parts.append(f"{src} != {d['ne'][0]}")
        elif d["ne"]:
            parts.append(f"{src} not in {{{', '.join(str(v) for v in d['ne'])}}}")
        if d["lo"] is not None and d["hi"] is not None:
            parts.append(f"{_fmt(d['lo'])} < {src} <= {_fmt(d['hi'])}")
        elif d["lo"] is not None:
            parts.append(f"{src} > {_fmt(d['lo'])}")
        elif d["hi"] is not None:
            parts.append(f"{src} <= {_fmt(d['hi'])}")
        if d["missing"] is False and d["eq"] is None and d["lo"] is None and d["hi"] is None and not d["ne"]:
            parts.append(f"{src} is not missing")
    return " and ".join(parts) or "all samples"


def _leaf_rules(tree, specs: list[_Column]) -> dict[int, str]:
    """The rule of every leaf of a fitted ``tree_``: the path's splits read back as text."""
    t = tree.tree_
    rules: dict[int, str] = {}
    stack = [(0, [])]
    while stack:
        node, conds = stack.pop()
        left, right = t.children_left[node], t.children_right[node]
        if left == right:  # a leaf
            rules[node] = _rule(conds, specs)
            continue
        j, thr = int(t.feature[node]), float(t.threshold[node])
        stack.append((right, conds + [(j, True, thr)]))
        stack.append((left, conds + [(j, False, thr)]))
    return rules


def find_weak_slices(
    ev: "Evaluation",
    features=None,
    *,
    max_depth: int = 3,
    min_samples: int | None = None,
    top: int = 10,
    max_levels: int = 30,
    seed: int = 0,
) -> "pd.DataFrame":
    """The leaves of a shallow tree fit to "is this sample wrong?", worst first, as rules.

    Parameters
    ----------
    ev : Evaluation
    features : DataFrame or Dataset, default=None
        Input features to search as well as ``ev.metadata`` (a tabular Dataset gives its
        feature columns; a DataFrame all its columns), one row per evaluated sample in order.
        Columns already in the metadata are taken from it.
    max_depth : int, default=3
        Depth of the tree: at most this many conditions per rule.
    min_samples : int, default=None
        The fewest samples in a leaf (``min_samples_leaf``); default
        ``max(20, n_samples // 100)``, so a rule never describes a handful of samples.
    top : int, default=10
        Number of rules returned (None: every leaf).
    max_levels : int, default=30
        A categorical column is one-hot encoded over its ``max_levels`` most frequent values
        (a rule on a rarer value reads ``city not in {...}``).
    seed : int, default=0
        ``random_state`` of the tree (ties between equally good splits).

    Returns
    -------
    DataFrame
        One row per leaf, indexed by its rule (index name ``'slice'``, e.g.
        ``'age > 61.5 and city = north'``; ``'all samples'`` when the tree found no split),
        sorted by error rate (regression: by mean absolute error), larger leaves first among
        ties. Columns: ``size``, ``share`` (of all samples), ``errors`` (wrong samples),
        ``error_rate``, ``error_share`` (share of all wrong samples), ``lift`` (error rate over
        the overall one) and ``rows`` (int64 sample indices, ascending, for
        ``ev.subset(frame.at[rule, 'rows'], rule)``). Regression has ``mae`` in place of
        ``errors`` and ``error_rate``, and ``error_share`` is the share of the total absolute
        error. ``frame.attrs``: ``baseline`` (overall error rate or MAE), ``max_depth``,
        ``min_samples``, ``columns`` (searched).

    Notes
    -----
    Numeric missing values are put at the column's median with a ``<col> is missing`` flag
    the tree can split on; a rule's numeric bounds then also cover those imputed rows (the
    ``rows``, sizes and rates are always those of the leaf itself). Above
    :data:`FIT_SAMPLES` samples the tree is fit on a seeded random sample of that many (then
    ``min_samples`` bounds that sample's leaves) and every sample is put in its leaf.
    """
    from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

    frame = _columns(ev, features)
    X, specs = _encode(frame, int(max_levels))
    target = ev.sample_errors()  # True where wrong; a regression's absolute errors
    n = ev.n_samples
    min_samples = max(20, n // 100) if min_samples is None else int(min_samples)
    min_samples = max(1, min(min_samples, n))
    w = ev.sample_weight
    regression = target.dtype.kind == "f"
    Tree = DecisionTreeRegressor if regression else DecisionTreeClassifier
    tree = Tree(max_depth=int(max_depth), min_samples_leaf=min_samples, random_state=seed)
    y_fit = target.astype(np.float64) if regression else target
    if n > FIT_SAMPLES:
        pick = np.sort(np.random.default_rng(seed).choice(n, FIT_SAMPLES, replace=False))
        tree.fit(X[pick], y_fit[pick], sample_weight=None if w is None else w[pick])
    else:
        tree.fit(X, y_fit, sample_weight=w)
    leaf = tree.apply(X)
    rules = _leaf_rules(tree, specs)
    ids = np.array(sorted(rules))
    pos = np.searchsorted(ids, leaf)
    ones = np.ones(n) if w is None else w
    weight = np.bincount(pos, weights=ones, minlength=len(ids))
    bad = np.bincount(pos, weights=ones * target, minlength=len(ids))
    size = np.bincount(pos, minlength=len(ids))
    rate = bad / weight
    total_bad = bad.sum()
    baseline = total_bad / weight.sum()
    order = np.lexsort((-size, -rate))
    keep = [i for i in order if size[i] >= min_samples][: None if top is None else int(top)]
    by_leaf = np.argsort(pos, kind="stable")
    rows_all = np.split(by_leaf, np.cumsum(size)[:-1])
    rows_col = np.empty(len(keep), dtype=object)
    for j, i in enumerate(keep):
        rows_all[i].flags.writeable = False
        rows_col[j] = rows_all[i]
    data: dict[str, Any] = {"size": size[keep], "share": size[keep] / n}
    if regression:
        data["mae"] = rate[keep]
    else:
        data["errors"] = bad[keep].astype(np.int64) if w is None else bad[keep]
        data["error_rate"] = rate[keep]
    data["error_share"] = bad[keep] / total_bad if total_bad else np.zeros(len(keep))
    data["lift"] = rate[keep] / baseline if baseline else np.full(len(keep), np.nan)
    out = pd.DataFrame(data, index=pd.Index([rules[ids[i]] for i in keep], dtype=object, name="slice"))
    out["rows"] = rows_col
    out.attrs.update(
        {
            "baseline": float(baseline),
            "max_depth": int(max_depth),
            "min_samples": min_samples,
            "columns": [str(c) for c in frame.columns],
        }
    )
    return out
