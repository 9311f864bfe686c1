"""Evaluations generated without a model, with an embedding: for the embedding map's tests and
benchmarks at 100,000 to 1,000,000 samples (importable in a Voila kernel as ``tests.generated``)."""

from __future__ import annotations

import dataclasses

import numpy as np


def generated_evaluation(n: int, k: int = 10, d: int = 8, seed: int = 0, name: str = "gen"):
    """A k-class evaluation of ``n`` samples with a ``d``-wide embedding: each sample is its
    class's centre plus noise, and the "model" gives the softmax of minus the squared distances
    to the centres (about 85% right at the defaults, the near classes confused).

    Returns
    -------
    MulticlassEvaluation
        ``model_name`` ``name``, ``dataset_name`` ``f"{name}{n}"``; ``embeddings`` set.
    """
    from h5eval_widgets import Evaluation
    from h5eval_widgets.core.inference.embeddings import Embedding

    rng = np.random.default_rng(seed)
    centres = rng.normal(scale=1.2, size=(k, d)).astype(np.float32)
    y = rng.integers(0, k, n)
    emb = centres[y] + rng.normal(size=(n, d)).astype(np.float32)
    proba = np.empty((n, k), np.float32)
    for a in range(0, n, 100_000):  # in chunks: n x k x d floats at once would be large
        logits = -((emb[a : a + 100_000, None, :] - centres[None]) ** 2).sum(-1) / 4
        p = np.exp(logits - logits.max(1, keepdims=True))
        proba[a : a + 100_000] = p / p.sum(1, keepdims=True)
    ev = Evaluation.from_predictions(
        y, proba, classes=[f"c{i}" for i in range(k)], model_name=name, dataset_name=f"{name}{n}"
    )
    return dataclasses.replace(ev, embeddings=Embedding(emb, "penultimate", "dense", d))
