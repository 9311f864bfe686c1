"""Subsets of an evaluation, and the per-sample metadata they are cut by.

:class:`Sliceable` is the part of :class:`~h5eval_widgets.core.Evaluation` that cuts it:
:meth:`~Sliceable.subset` (an evaluation of some rows), :meth:`~Sliceable.slices` (metrics per
group, in :mod:`h5eval_widgets.core.insight.slices`) and :meth:`~Sliceable.weak_slices` (groups where the model errs most,
found by a shallow tree, in :mod:`h5eval_widgets.core.insight.weak_slices`). The methods here are thin; the work is done
in those modules.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any, Sequence

import numpy as np

from .._lazy import pd
from ..errors import DatasetError

if TYPE_CHECKING:  # pragma: no cover
    from .evaluation import Evaluation

__all__ = ["Sliceable", "as_metadata", "as_rows"]


def as_metadata(metadata: Any, n: int) -> "pd.DataFrame | None":
    """``metadata`` as a DataFrame of ``n`` rows with the index 0..n-1 (None stays None).

    Accepts a DataFrame, a Series (one column, named by the series) or a dict of arrays.
    """
    if metadata is None:
        return None
    if isinstance(metadata, pd.Series):
        metadata = metadata.to_frame(name=metadata.name if metadata.name is not None else "group")
    elif not isinstance(metadata, pd.DataFrame):
        try:
            metadata = pd.DataFrame(metadata)
        except (TypeError, ValueError) as exc:
            raise DatasetError(
                f"metadata could not be read as a table ({exc}); pass a DataFrame or a dict of "
                "equal-length arrays, one row per sample."
            ) from None
    if len(metadata) != n:
        raise DatasetError(
            f"metadata has {len(metadata)} rows but there are {n} samples; give one row per "
            "sample, in the order of the labels."
        )
    metadata = metadata.reset_index(drop=True)
    metadata.columns = [str(c) for c in metadata.columns]
    return metadata


def as_rows(rows: Any, n: int) -> np.ndarray:
    """Row indices (int64, into ``n`` samples) from a boolean mask of length ``n`` or indices."""
    arr = np.asarray(rows.to_numpy() if hasattr(rows, "to_numpy") else rows)
    if arr.ndim != 1:
        raise ValueError(f"rows must be a 1-D boolean mask or indices; got shape {arr.shape}.")
    if arr.dtype == bool:
        if len(arr) != n:
            raise ValueError(f"A boolean mask of rows needs one value per sample ({n}); it has {len(arr)}.")
        return np.flatnonzero(arr)
    if arr.size == 0:
        return np.empty(0, dtype=np.int64)
    if arr.dtype.kind not in "iu":
        raise ValueError(f"rows must be a boolean mask or integer indices; got dtype {arr.dtype}.")
    idx = arr.astype(np.int64)
    if idx.min() < 0 or idx.max() >= n:
        raise ValueError(f"Row indices must be in [0, {n - 1}]; got values from {idx.min()} to {idx.max()}.")
    return idx


def _take(a: np.ndarray | None, idx: np.ndarray) -> np.ndarray | None:
    if a is None:
        return None
    out = np.asarray(a)[idx]
    out.flags.writeable = False
    return out


class Sliceable:
    """Subsets and slices of an evaluation (mixed into :class:`~h5eval_widgets.core.Evaluation`)."""

    def subset(self: "Evaluation", rows, name: str | None = None) -> "Evaluation":
        """An evaluation of the same task, model and classes over some of the samples.

        Equal to :meth:`Evaluation.from_predictions` on the sliced labels and probabilities
        with the same classes, threshold and weights (nothing is re-inferred or re-converted),
        and it remembers where its samples came from.

        Parameters
        ----------
        rows : array-like of bool (n_samples,) or of int
            A mask over this evaluation's samples, or indices into them (in the order wanted;
            duplicates are kept).
        name : str, default=None
            The slice's name, for titles (e.g. ``'city = north'``). A subset of a named subset
            is named ``'<parent> and <name>'``.

        Returns
        -------
        Evaluation
            Of the same class, with :attr:`slice_name`, :attr:`source_rows` (indices into the
            full dataset: composed through subsets of subsets) and the matching
            :attr:`metadata` rows (index reset).

        Raises
        ------
        DatasetError
            When the rows select no sample.
        """
        idx = as_rows(rows, self.n_samples)
        if len(idx) == 0:
            raise DatasetError(
                f"The subset{'' if name is None else ' ' + repr(name)} has no samples; choose "
                "rows that select at least one."
            )
        source = np.array(idx if self.source_rows is None else np.asarray(self.source_rows)[idx], dtype=np.int64)
        source.flags.writeable = False
        names = [n for n in (self.slice_name, name) if n]
        meta = None if self.metadata is None else self.metadata.iloc[idx].reset_index(drop=True)
        sub = dataclasses.replace(
            self,
            y_true=_take(self.y_true, idx),
            y_pred=_take(self.y_pred, idx),
            y_proba=_take(self.y_proba, idx),
            sample_weight=_take(self.sample_weight, idx),
            sample_ids=_take(self.sample_ids, idx),
            metadata=meta,
            embeddings=None if self.embeddings is None else self.embeddings.take(idx),
            slice_name=" and ".join(names) or None,
            source_rows=source,
        )
        if self.explainer is not None:  # the same model and dataset: maps by dataset row
            sub.attach_explainer(self.explainer)
        return sub

    def dataset_rows(self: "Evaluation", indices=None) -> np.ndarray:
        """The dataset rows of samples ``indices`` of this evaluation (all when None): the
        same indices for a whole dataset, ``source_rows[indices]`` for a subset."""
        idx = np.arange(self.n_samples) if indices is None else np.asarray(indices, dtype=np.int64)
        return idx if self.source_rows is None else np.asarray(self.source_rows)[idx]

    def slices(
        self: "Evaluation",
        column: str | None = None,
        *,
        groups=None,
        bins: int = 4,
        n_boot: int = 200,
        seed: int = 0,
        confidence: float = 0.95,
        metrics: Sequence[str] | None = None,
    ) -> "pd.DataFrame":
        """Metrics per slice (group of samples), with intervals, worst slice first.

        See :func:`~h5eval_widgets.core.insight.slices.slice_table` for the parameters and the
        columns. ``ev.subset(frame.at[name, 'rows'], name)`` is the evaluation of one slice.
        A table by metadata column is computed once per set of arguments and kept (a copy
        is returned); one of ``groups=`` is computed each time.
        """
        from ..insight.slices import slice_table

        key = (column, bins, n_boot, seed, confidence, None if metrics is None else tuple(metrics))
        cache = self.__dict__.setdefault("_slice_tables", {})  # a frozen dataclass: its dict
        if groups is not None or key not in cache:
            table = slice_table(
                self, column, groups=groups, bins=bins, n_boot=n_boot, seed=seed, confidence=confidence, metrics=metrics
            )
            if groups is not None:
                return table
            cache[key] = table
        return cache[key].copy()

    def weak_slices(
        self: "Evaluation",
        features=None,
        *,
        max_depth: int = 3,
        min_samples: int | None = None,
        top: int = 10,
        max_levels: int = 30,
        seed: int = 0,
    ) -> "pd.DataFrame":
        """Readable rules for the groups where the model is wrong most often, worst first.

        A shallow decision tree fit to "is this sample wrong?" over :attr:`metadata` (and
        ``features``). See :func:`~h5eval_widgets.core.insight.weak_slices.find_weak_slices` for the
        parameters and the columns; ``ev.subset(frame.at[rule, 'rows'], rule)`` is the
        evaluation of one rule's samples.
        """
        from ..insight.weak_slices import find_weak_slices

        return find_weak_slices(
            self, features, max_depth=max_depth, min_samples=min_samples, top=top, max_levels=max_levels, seed=seed
        )
