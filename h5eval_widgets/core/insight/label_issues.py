"""Likely label errors among the test samples: cleanlab's confident learning on the predicted
probabilities (cleanlab is an optional dependency: ``pip install h5eval-widgets[insight]``)."""

from __future__ import annotations

import numpy as np

from .._lazy import pd
from ..errors import H5EvalError

__all__ = ["find_label_issues", "HELD_OUT_WARNING"]

#: Said wherever the scores are shown: on training data a model has learnt the given labels.
HELD_OUT_WARNING = (
    "Label-issue scores are only trustworthy on held-out data the model was not "
    "trained on (on its training data a model agrees with the given labels)."
)


def _cleanlab():
    try:
        import cleanlab.filter
        import cleanlab.rank
    except ImportError:
        raise H5EvalError(
            "Finding likely label errors uses cleanlab, which is not installed; "
            "pip install 'h5eval-widgets[insight]' (or pip install cleanlab)."
        ) from None
    return cleanlab


def find_label_issues(
    y_true: np.ndarray, y_proba: np.ndarray, classes, *, filter_by: str = "prune_by_noise_rate"
) -> pd.DataFrame:
    """The samples whose given label is probably wrong, most likely first.

    ``cleanlab.filter.find_label_issues`` decides which samples are issues (confident learning:
    a sample is flagged when the model is confidently sure of another class, counted against
    the estimated noise between each pair of classes), ranked by cleanlab's self-confidence
    (the probability of the given label: the lower, the likelier an error).

    Parameters
    ----------
    y_true : ndarray of shape (n_samples,)
        The given labels, as class indices.
    y_proba : ndarray of shape (n_samples, n_classes)
        Out-of-sample predicted probabilities (see :data:`HELD_OUT_WARNING`).
    classes : sequence of str
    filter_by : str, default='prune_by_noise_rate'
        cleanlab's method (``'prune_by_class'``, ``'both'``, ``'confident_learning'``, ...).

    Returns
    -------
    DataFrame
        ``index``, ``given`` and ``suggested`` class (the most probable one), ``self_confidence``
        and ``suggested_confidence``, one row per likely label error.
    """
    cl = _cleanlab()
    labels = np.asarray(y_true, dtype=np.int64)
    proba = np.asarray(y_proba, dtype=np.float64)
    if len(np.unique(labels)) < 2:
        raise H5EvalError("Label issues need at least two classes among the given labels.")
    idx = cl.filter.find_label_issues(
        labels, proba, filter_by=filter_by, return_indices_ranked_by="self_confidence", n_jobs=1
    )
    idx = np.asarray(idx, dtype=np.int64)
    quality = cl.rank.get_label_quality_scores(labels, proba, method="self_confidence")
    names = np.asarray(classes, dtype=object)
    suggested = proba[idx].argmax(axis=1)
    return pd.DataFrame(
        {
            "index": idx,
            "given": names[labels[idx]],
            "suggested": names[suggested],
            "self_confidence": quality[idx],
            "suggested_confidence": proba[idx, suggested],
        }
    )
