"""Nearest training samples and near-duplicates at scale (run by hand).

    python benchmarks/neighbours.py                       # 1,000,000 train x 100,000 test, 128 wide
    python benchmarks/neighbours.py --n-train 200000 --n-test 20000 --dim 256

Embeddings are clustered float32 rows, as a model's penultimate layer gives them: ``--clusters``
Gaussian clusters (centres spread with sd 1, each cluster its own spread between 0.15 and 0.35
per axis); 1% of the test rows are copies of training rows with noise of 1% of the clusters'
spread (planted near-duplicates). They are put on two evaluations (labels: the cluster mod 10;
outputs: random) with :class:`~h5eval_widgets.core.inference.embeddings.Embedding`, and timed
through the public API:

- the index: ``tr._neighbour_index()`` and its approximate graph (pynndescent ``NNDescent``
  plus ``prepare()``), built once per training evaluation. numba compiles pynndescent's code
  once per process: that compile is timed apart, on a small graph built first;
- one sample's neighbours: ``ev.nearest_training([i], tr, k=5)``, median of 20 samples after a
  warm-up (with the graph built, a query whose exact search would take over ~30 ms uses it),
  and the same with exact search forced (median of 5);
- all near-duplicates: ``ev.near_duplicates(tr)`` (1 neighbour for every test row, and the
  typical distance from 2,000 training rows), timed once;
- recall@5 of the approximate search against scikit-learn's exact ``NearestNeighbors`` on a
  seeded sample of 1,000 test rows, and the planted copies' recall and precision.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from h5eval_widgets.core import Evaluation  # noqa: E402
from h5eval_widgets.core.inference.embeddings import Embedding  # noqa: E402
from h5eval_widgets.core.insight import neighbours  # noqa: E402
from h5eval_widgets.core.insight.neighbours import SEARCH_EPSILON, NeighbourIndex  # noqa: E402


def once(f) -> tuple[float, object]:
    start = time.perf_counter()
    out = f()
    return time.perf_counter() - start, out


def clustered(n_train: int, n_test: int, dim: int, clusters: int, seed: int = 0):
    """Training and test embeddings, their clusters, and the training rows copied into the test set."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((clusters, dim)).astype(np.float32)
    spread = rng.uniform(0.15, 0.35, clusters).astype(np.float32)

    def draw(n):
        c = rng.integers(0, clusters, n)
        x = rng.standard_normal((n, dim), dtype=np.float32)
        x *= spread[c, None]
        x += centres[c]
        return x, c

    xt, ct = draw(n_train)
    xq, cq = draw(n_test)
    n_copies = n_test // 100
    copied = rng.choice(n_train, n_copies, replace=False)
    at = rng.choice(n_test, n_copies, replace=False)
    xq[at] = xt[copied] + 0.01 * spread[ct[copied], None] * rng.standard_normal((n_copies, dim), dtype=np.float32)
    cq[at] = ct[copied]
    return xt, ct, xq, cq, at, copied


def evaluation(x: np.ndarray, c: np.ndarray, name: str, seed: int) -> Evaluation:
    y = c % 10
    proba = np.random.default_rng(seed).dirichlet(np.ones(10), len(y)).astype(np.float32)
    ev = Evaluation.from_predictions(y, proba, classes=[str(i) for i in range(10)], dataset_name=name)
    return dataclasses.replace(ev, embeddings=Embedding(x, "penultimate", "dense", x.shape[1]))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n-train", type=int, default=1_000_000)
    p.add_argument("--n-test", type=int, default=100_000)
    p.add_argument("--dim", type=int, default=128)
    p.add_argument("--clusters", type=int, default=2000)
    p.add_argument(
        "--graph-neighbours", type=int, default=None, help="pynndescent's n_neighbors (default: the module's)"
    )
    args = p.parse_args()
    if args.graph_neighbours:
        neighbours.GRAPH_NEIGHBOURS = args.graph_neighbours
    print(f"{args.n_train:,} training x {args.n_test:,} test embeddings, {args.dim} wide, {args.clusters} clusters")
    print(
        f"cores: {os.cpu_count()}, load average {os.getloadavg()[0]:.1f}; graph: {neighbours.GRAPH_NEIGHBOURS} neighbours"
    )
    xt, ct, xq, cq, at, copied = clustered(args.n_train, args.n_test, args.dim, args.clusters)
    tr, ev = evaluation(xt, ct, "train", 1), evaluation(xq, cq, "test", 2)

    t, _ = once(lambda: NeighbourIndex(xt[:5000], method="approximate").query(xq[:10], k=5))
    print(f"numba compiling pynndescent (a 5,000-row graph, once per process): {t:.1f} s")
    index = tr._neighbour_index()
    t, _ = once(index._graph_index)
    print(f"index build (NNDescent + prepare): {t:.1f} s   [target < 60 s]")

    ev.nearest_training([0], tr, k=5)
    rows = np.random.default_rng(3).choice(args.n_test, 20, replace=False)
    times = [once(lambda i=i: ev.nearest_training([i], tr, k=5))[0] for i in rows]
    print(
        f"one sample's 5 neighbours ({index.last_method}): median {np.median(times) * 1e3:.2f} ms, "
        f"max {np.max(times) * 1e3:.2f} ms   [target < 50 ms]"
    )
    index.method = "exact"
    times = [once(lambda i=i: ev.nearest_training([i], tr, k=5))[0] for i in rows[:5]]
    index.method = "auto"
    print(f"one sample's 5 neighbours, exact search forced: median {np.median(times) * 1e3:.0f} ms")

    t, dups = once(lambda: ev.near_duplicates(tr))
    print(
        f"all test near-duplicates ({dups.attrs['method']}): {t:.1f} s   [target < 60 s]; "
        f"threshold {dups.attrs['threshold']:.3f} (typical distance {dups.attrs['typical_distance']:.3f})"
    )
    planted = set(at.tolist())
    found = set(dups["test_index"].tolist()) & planted
    print(
        f"planted copies: {len(planted):,}; found {len(dups):,} rows, recall {len(found) / len(planted):.3f}, "
        f"precision {len(found) / max(len(dups), 1):.3f}"
    )

    from sklearn.neighbors import NearestNeighbors

    sample = np.random.default_rng(4).choice(args.n_test, 1000, replace=False)
    t, (_, exact) = once(lambda: NearestNeighbors(n_neighbors=5, algorithm="brute").fit(xt).kneighbors(xq[sample]))
    print(f"(exact search of 1,000 test rows for the recall: {t:.1f} s)")
    for eps in sorted({0.2, 0.3, SEARCH_EPSILON, 0.5}):
        t, (approx, _) = once(lambda e=eps: index._graph_index().query(xq[sample], k=5, epsilon=e))
        recall = np.mean([len(set(a) & set(b)) / 5 for a, b in zip(approx, exact)])
        used = " (the one used)" if eps == SEARCH_EPSILON else ""
        print(
            f"recall@5 against exact search on 1,000 test rows, epsilon {eps}{used}: {recall:.4f} "
            f"({t * 1e3:.0f} ms)   [target >= 0.95]"
        )


if __name__ == "__main__":
    main()
