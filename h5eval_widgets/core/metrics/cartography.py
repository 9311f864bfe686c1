"""Training dynamics of each sample over the recorded epochs: dataset cartography and forgetting.

Dataset cartography (Swayamdipta et al., *Dataset Cartography*, EMNLP 2020) places each sample by
the mean and the spread of the probability its true class gets over the epochs; forgetting events
(Toneva et al., *An Empirical Study of Example Forgetting*, ICLR 2019) count the times a sample
that was right becomes wrong at the next recorded epoch. Both read two arrays of shape
``(n_epochs, n_samples)``: the true class's probability and whether the prediction was right.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from .._lazy import pd

__all__ = ["cartography", "forgetting_events", "first_learned", "cartography_regions", "REGIONS"]

#: The regions, in the order the views list them.
REGIONS = ("easy", "ambiguous", "hard")


def forgetting_events(correct: np.ndarray) -> np.ndarray:
    """Times each sample goes from right at one recorded epoch to wrong at the next.

    Parameters
    ----------
    correct : ndarray of bool, shape (n_epochs, n_samples)

    Returns
    -------
    ndarray of int64, shape (n_samples,)
    """
    correct = np.asarray(correct, dtype=bool)
    if len(correct) < 2:
        return np.zeros(correct.shape[1], dtype=np.int64)
    return (correct[:-1] & ~correct[1:]).sum(axis=0, dtype=np.int64)


def first_learned(correct: np.ndarray, epochs: Sequence[int]) -> np.ndarray:
    """The first recorded epoch from which each sample stays right to the last one.

    Parameters
    ----------
    correct : ndarray of bool, shape (n_epochs, n_samples)
    epochs : sequence of int
        The epoch number of each row.

    Returns
    -------
    ndarray of float64, shape (n_samples,)
        The epoch, or NaN for a sample wrong at the last recorded epoch.
    """
    correct = np.asarray(correct, dtype=bool)
    epochs = np.asarray(epochs, dtype=np.float64)
    # rows after the last wrong one: the last wrong row, searched from the end
    wrong = ~correct[::-1]
    any_wrong = wrong.any(axis=0)
    last_wrong = len(correct) - 1 - np.argmax(wrong, axis=0)  # row index of the last wrong epoch
    start = np.where(any_wrong, last_wrong + 1, 0)
    out = np.full(correct.shape[1], np.nan)
    learned = start < len(correct)
    out[learned] = epochs[start[learned]]
    return out


def cartography_regions(
    confidence: np.ndarray, variability: np.ndarray, *, ambiguous_quantile: float = 2 / 3, easy_confidence: float = 0.5
) -> np.ndarray:
    """Cut the confidence-variability map into easy, ambiguous and hard-to-learn samples.

    A sample is *ambiguous* when its variability is at or above the ``ambiguous_quantile``
    quantile of all samples' variability (the top third by default, as the paper's figures
    shade it) and above zero; of the rest, *easy* when its confidence is at least
    ``easy_confidence`` and *hard* (hard to learn) otherwise.

    Returns
    -------
    ndarray of str, shape (n_samples,)
    """
    variability = np.asarray(variability, dtype=np.float64)
    confidence = np.asarray(confidence, dtype=np.float64)
    cut = np.quantile(variability, ambiguous_quantile) if len(variability) else 0.0
    ambiguous = (variability >= cut) & (variability > 0)
    easy = ~ambiguous & (confidence >= easy_confidence)
    return np.where(ambiguous, "ambiguous", np.where(easy, "easy", "hard"))


def cartography(
    true_proba: np.ndarray,
    correct: np.ndarray,
    epochs: Sequence[int],
    *,
    ambiguous_quantile: float = 2 / 3,
    easy_confidence: float = 0.5,
):
    """Each sample's training dynamics over the recorded epochs.

    Parameters
    ----------
    true_proba : ndarray of shape (n_epochs, n_samples)
        The probability the model gave each sample's true class after each recorded epoch.
    correct : ndarray of bool, shape (n_epochs, n_samples)
        Whether the prediction was the true class.
    epochs : sequence of int
        The epoch of each row (counted from 1).
    ambiguous_quantile, easy_confidence : float
        How the regions are cut (see :func:`cartography_regions`).

    Returns
    -------
    DataFrame
        One row per sample: ``confidence`` (mean true-class probability), ``variability``
        (its standard deviation over the epochs, ``ddof=0`` as in the paper), ``correctness``
        (share of epochs right), ``forgetting_events``, ``first_learned`` (NaN: wrong at the
        last epoch) and ``region``.
    """
    true_proba = np.asarray(true_proba, dtype=np.float64)
    correct = np.asarray(correct, dtype=bool)
    if true_proba.ndim != 2 or true_proba.shape != correct.shape or len(true_proba) != len(epochs):
        raise ValueError(
            f"true_proba {true_proba.shape} and correct {correct.shape} must both be (n_epochs, "
            f"n_samples) with one row per epoch ({len(epochs)} epochs given)."
        )
    confidence = true_proba.mean(axis=0)
    variability = true_proba.std(axis=0)
    return pd.DataFrame(
        {
            "confidence": confidence,
            "variability": variability,
            "correctness": correct.mean(axis=0),
            "forgetting_events": forgetting_events(correct),
            "first_learned": first_learned(correct, epochs),
            "region": cartography_regions(
                confidence, variability, ambiguous_quantile=ambiguous_quantile, easy_confidence=easy_confidence
            ),
        }
    )
