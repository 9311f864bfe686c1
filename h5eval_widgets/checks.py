"""Each trait of the selection checked: what :class:`~h5eval_widgets.state.EvalState` accepts.

A value a view or a user sets that the current evaluation cannot take (a cell outside the matrix,
a focus class of a regression, indices past the last sample) raises a ``TraitError`` that names
the trait, the value and what would be accepted; the selection stays as it was.
"""

from __future__ import annotations

import numpy as np
import traitlets as T

from .core.metrics.queries import sort_keys
from .trust_sets import SPLIT

__all__ = ["SelectionChecks", "NORMALIZE"]

#: How the confusion matrix may be normalized: counts, by true class, by predicted class.
NORMALIZE = (None, "true", "pred")


class SelectionChecks(T.HasTraits):
    """The ``@validate`` methods of :class:`~h5eval_widgets.state.EvalState`'s traits (defined
    there); they read ``self.session``, ``self.evaluation`` and ``self.dataset``."""

    @T.validate("model_name", "compare_model", "dataset_name")
    def _valid_name(self, proposal):
        value, trait = proposal["value"], proposal["trait"].name
        names = self.session.dataset_names if trait == "dataset_name" else self.session.model_names
        if value is not None and value not in names:
            raise T.TraitError(
                f"{trait} must be one of the session's names {names[:20]}; got {value!r}. "
                "Add it to the session (models=/datasets=) or choose one of those."
            )
        return value

    @T.validate("focus_class")
    def _valid_focus_class(self, proposal):
        c, ev = proposal["value"], self.evaluation
        if c is None or ev is None:
            return c
        if not ev.is_classification:
            raise T.TraitError(f"focus_class must be None for a {ev.task} evaluation; got {c}.")
        if not 0 <= c < ev.n_classes:
            raise T.TraitError(
                f"focus_class must be a class index in [0, {ev.n_classes - 1}]; got {c}. "
                "Use ev.class_index(name) to find a class by name."
            )
        return c

    @T.validate("threshold")
    def _valid_threshold(self, proposal):
        t = float(proposal["value"])
        if not np.isfinite(t):
            raise T.TraitError(f"threshold must be a finite number; got {t}.")
        return min(max(t, 0.0), 1.0)

    @T.validate("normalize")
    def _valid_normalize(self, proposal):
        value = proposal["value"]
        if value not in NORMALIZE:
            raise T.TraitError(
                f"normalize must be one of {list(NORMALIZE)}; got {value!r} "
                "(None shows counts, 'true' rates per true class, 'pred' per predicted class)."
            )
        return value

    @T.validate("selected_cell")
    def _valid_cell(self, proposal):
        cell, ev = proposal["value"], self.evaluation
        if cell is None or ev is None:
            return cell
        if len(cell) != 2:
            raise T.TraitError(f"selected_cell must be a (true, predicted) pair of class indices; got {cell}.")
        i, j = int(cell[0]), int(cell[1])
        k = ev.n_classes if ev.is_classification else 0
        if not (0 <= i < k and 0 <= j < k):
            raise T.TraitError(f"Cell {cell} is outside the {k}x{k} matrix; both indices must be in [0, {k - 1}].")
        return (i, j)

    @T.validate("selected_indices")
    def _valid_indices(self, proposal):
        idx = proposal["value"]
        if idx is None:
            return None
        idx = np.asarray(idx)
        if idx.size == 0:
            return idx.astype(np.int64, copy=False)
        if idx.ndim != 1 or idx.dtype.kind not in "iu":
            raise T.TraitError(
                "selected_indices must be a 1-D array of sample indices (or None); got "
                f"shape {idx.shape}, dtype {idx.dtype}. Turn a mask into indices with np.flatnonzero."
            )
        n = None if self.evaluation is None else self.evaluation.n_samples
        if n is not None and (idx.min() < 0 or idx.max() >= n):
            raise T.TraitError(f"selected_indices must lie in [0, {n - 1}]; got {idx.min()}..{idx.max()}.")
        return idx

    @T.validate("selection_label")
    def _valid_label(self, proposal):  # one line: it heads the samples view
        return " ".join(proposal["value"].splitlines())

    @T.validate("sort_by")
    def _valid_sort_by(self, proposal):
        by, ev = proposal["value"], self.evaluation
        if by is None or ev is None:
            return by
        keys = sort_keys(ev, self.dataset)
        if by not in keys:
            raise T.TraitError(f"sort_by must be None (as selected) or one of {keys}; got {by!r}.")
        return by

    @T.validate("selected_sample")
    def _valid_sample(self, proposal):
        i, ev = proposal["value"], self.evaluation
        if i is not None and ev is not None and not 0 <= i < ev.n_samples:
            raise T.TraitError(f"selected_sample must be a sample index in [0, {ev.n_samples - 1}]; got {i}.")
        return i

    @T.validate("calibration")
    def _valid_calibration(self, proposal):
        value = proposal["value"]
        if value is not None and value != SPLIT and value not in self.session.dataset_names:
            raise T.TraitError(
                f"calibration={value!r} is neither a dataset of the session {self.session.dataset_names} "
                f"nor {SPLIT!r} (a seeded half of the test set); choose one of those, or None."
            )
        return value

    @T.validate("training_dataset")
    def _valid_training(self, proposal):
        value = proposal["value"]
        if value is not None and value not in self.session.dataset_names:
            raise T.TraitError(
                f"training_dataset={value!r} is not a dataset of the session {self.session.dataset_names}; "
                "choose one of those, or None (a dataset named like training data)."
            )
        return value

    @T.validate("alpha")
    def _valid_alpha(self, proposal):
        if not 0 < proposal["value"] < 1:
            raise T.TraitError(f"alpha={proposal['value']!r} must lie strictly between 0 and 1 (0.1: 90% coverage).")
        return proposal["value"]
