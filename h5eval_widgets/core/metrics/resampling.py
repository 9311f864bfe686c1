"""Every bootstrap in one place: resampling samples with replacement, drawn as counts per group.

Resampling n samples with replacement gives each sample a count; metrics that depend on the
samples only through a group code (a confusion-matrix cell, a joint cell of two models) need
only the counts of the groups, which are multinomial over the non-empty groups. So a replicate
costs one multinomial draw over the groups, not a pass over the samples, and the replicates are
drawn in blocks whose size is bounded by :data:`BLOCK_BYTES`, whatever ``n_boot`` and the number
of groups are.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

__all__ = ["BLOCK_BYTES", "DENSE_CODES", "resample_groups", "resample_means", "percentile_interval"]

#: Memory for one block of replicates' group counts (float64): the draws never hold more.
BLOCK_BYTES = 16 * 2**20
#: Group codes below this are counted with ``bincount``; sparser codes go through ``unique``.
DENSE_CODES = 2**20

Scorer = Callable[[np.ndarray, np.ndarray], dict[str, np.ndarray]]


def resample_groups(
    codes: np.ndarray,
    n_boot: int,
    score: Scorer,
    *,
    seed: int = 0,
    sample_weight: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """Bootstrap replicates of metrics that depend on the samples only through group counts.

    Parameters
    ----------
    codes : ndarray of int, shape (n_samples,)
        The group of each sample (e.g. ``true * k + predicted`` for a confusion matrix).
    n_boot : int
        Number of replicates.
    score : callable
        ``score(groups, counts)`` with ``groups`` the (n_groups,) codes present and ``counts``
        a (block, n_groups) float array of (weighted) counts; returns a dict of (block,) arrays.
    seed : int, default=0
    sample_weight : ndarray of shape (n_samples,), default=None
        With weights, each replicate draws sample indices and sums their weights per group
        (zero-weight samples still count as drawn, as in a weighted resample).

    Returns
    -------
    dict of ndarray of shape (n_boot,)
    """
    codes = np.asarray(codes, dtype=np.int64)
    n = len(codes)
    if codes.size and codes.max() < DENSE_CODES:
        counts = np.bincount(codes)
        groups = np.flatnonzero(counts)
        inverse = None
    else:
        groups, inverse = np.unique(codes, return_inverse=True)
        counts = np.bincount(inverse, minlength=len(groups))
    rng = np.random.default_rng(seed)
    block = max(1, min(n_boot, BLOCK_BYTES // (8 * max(len(groups), 1))))
    parts: dict[str, list[np.ndarray]] = {}
    for start in range(0, n_boot, block):
        size = min(block, n_boot - start)
        if sample_weight is None:
            draws = rng.multinomial(n, counts[groups] / n, size=size).astype(np.float64)
        else:
            if inverse is None:
                inverse = np.searchsorted(groups, codes)
            draws = np.empty((size, len(groups)))
            for b in range(size):
                idx = rng.integers(0, n, size=n)
                draws[b] = np.bincount(inverse[idx], weights=sample_weight[idx], minlength=len(groups))
        for name, values in score(groups, draws).items():
            parts.setdefault(name, []).append(np.asarray(values, dtype=np.float64))
    return {name: np.concatenate(v) for name, v in parts.items()}


def resample_means(values: np.ndarray, n_boot: int, *, seed: int = 0) -> np.ndarray:
    """Bootstrap replicates of the column means of ``values`` (n_samples, m): shape (n_boot, m).

    For per-sample quantities with no grouping to exploit (regression errors): each replicate
    draws n sample indices; replicates are drawn in blocks of at most :data:`BLOCK_BYTES`.
    """
    values = np.asarray(values, dtype=np.float64)
    values = values[:, None] if values.ndim == 1 else values
    n = len(values)
    rng = np.random.default_rng(seed)
    block = max(1, min(n_boot, BLOCK_BYTES // (8 * max(n, 1))))
    out = np.empty((n_boot, values.shape[1]))
    for start in range(0, n_boot, block):
        size = min(block, n_boot - start)
        idx = rng.integers(0, n, size=(size, n))
        for j in range(values.shape[1]):
            out[start : start + size, j] = values[idx, j].mean(axis=1)
    return out


def percentile_interval(values: np.ndarray, confidence: float = 0.95) -> tuple[float, float]:
    """The percentile interval of bootstrap replicates (nan replicates ignored; all nan: nan)."""
    values = np.asarray(values, dtype=np.float64)
    if values.size == 0 or np.all(np.isnan(values)):
        return float("nan"), float("nan")
    alpha = (1 - confidence) / 2
    lo, hi = np.nanquantile(values, [alpha, 1 - alpha])
    return float(lo), float(hi)
