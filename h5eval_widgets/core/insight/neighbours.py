"""Nearest neighbours in an embedding: exact while it is cheap, approximate beyond.

:class:`NeighbourIndex` holds the rows searched (a training set's embedding, or a test set's)
and answers :meth:`~NeighbourIndex.query` with the ``k`` nearest rows of each query by Euclidean
distance. It decides per call, by size:

- **exact** (scikit-learn's brute-force ``NearestNeighbors``) while its cost,
  ``n_rows * width * max(n_queries, QUERY_FLOOR)``, is at most :data:`EXACT_BUDGET`. On the
  2-core machine this was written on, scikit-learn took about 8.5e-11 s per unit of that cost
  (1,000 queries against 1,000,000 rows of width 128: 10.9 s; one query: 0.55 s, as much as
  about 50 queries: a pass over every row), so the budget, 2e10, keeps an exact answer under
  about 2 s;
- **approximate** beyond: a pynndescent ``NNDescent`` graph, built once on first need and kept
  in the object (its recall@5 against exact search is measured by ``benchmarks/neighbours.py``).
  Once the graph is built, it also answers the searches whose exact cost is above
  :data:`QUICK_BUDGET` (about 30 ms): one sample's neighbours among a million rows come back in
  about a millisecond instead of half a second. ``method='exact'`` always searches exactly.

:func:`typical_distance` is the median distance of a row to its nearest other row (on a seeded
sample of rows): the yardstick of the default near-duplicate threshold
(:data:`DUPLICATE_FRACTION` of it). Nothing here knows about evaluations; the results call it
with arrays (:mod:`h5eval_widgets.core.results.neighbours`).
"""

from __future__ import annotations

import threading

import numpy as np

from ..errors import EmbeddingError, MissingDependencyError

__all__ = [
    "NeighbourIndex",
    "typical_distance",
    "EXACT_BUDGET",
    "QUICK_BUDGET",
    "QUERY_FLOOR",
    "DUPLICATE_FRACTION",
    "TYPICAL_SAMPLE",
]

#: Largest cost ``n_rows * width * max(n_queries, QUERY_FLOOR)`` searched exactly (about 2 s).
EXACT_BUDGET = 2e10
#: What one query costs in scikit-learn's brute force, in queries (a pass over every row).
QUERY_FLOOR = 50
#: Largest cost searched exactly once the approximate graph is built (about 30 ms).
QUICK_BUDGET = 2e8
#: The default near-duplicate threshold, as a fraction of :func:`typical_distance`: a copy with
#: a little noise sits far closer to its original than distinct samples sit to each other (on
#: the demo digits, planted copies at 0.0-0.2 of the typical distance, genuine test samples'
#: nearest training samples at 0.5 and above; see docs/neighbours.md).
DUPLICATE_FRACTION = 0.3
#: Rows sampled (seeded) to measure the typical nearest-neighbour distance.
TYPICAL_SAMPLE = 2000
#: Neighbours per node of the approximate graph, and the search's breadth (pynndescent's
#: ``n_neighbors`` and ``epsilon``).
GRAPH_NEIGHBOURS = 20
SEARCH_EPSILON = 0.4


class NeighbourIndex:
    """The ``k`` nearest rows of ``vectors`` to each query (Euclidean), exact or approximate.

    Parameters
    ----------
    vectors : array-like of shape (n_rows, width)
        The rows searched (converted to float32, C order).
    method : {'auto', 'exact', 'approximate'}, default='auto'
        ``'auto'`` searches exactly while the cost stays within :data:`EXACT_BUDGET` (and,
        once the approximate graph is built, within :data:`QUICK_BUDGET`).
    seed : int, default=0
        Seeds the approximate graph (the same rows give the same graph).

    Attributes
    ----------
    approximate_built : bool
        Whether the approximate graph has been built (it is built once, on first need).
    last_method : str or None
        ``'exact'`` or ``'approximate'``: how the last query was answered.
    """

    def __init__(self, vectors, *, method: str = "auto", seed: int = 0):
        if method not in ("auto", "exact", "approximate"):
            raise ValueError(f"method must be 'auto', 'exact' or 'approximate'; got {method!r}.")
        x = np.ascontiguousarray(vectors, dtype=np.float32)
        if x.ndim != 2 or len(x) == 0:
            raise EmbeddingError(f"An embedding to search has shape (n_rows > 0, width); got {x.shape}.")
        if not np.isfinite(x).all():
            raise EmbeddingError(
                "The embedding holds NaN or infinite values (the layer overflowed); "
                "name another layer with embeddings='layer_name'."
            )
        self.vectors = x
        self.method = method
        self.seed = int(seed)
        self.last_method: str | None = None
        self._exact = None
        self._graph = None
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self.vectors)

    @property
    def width(self) -> int:
        return int(self.vectors.shape[1])

    @property
    def approximate_built(self) -> bool:
        return self._graph is not None

    def __repr__(self) -> str:
        return (
            f"NeighbourIndex({len(self):,} rows x {self.width}, method={self.method!r}, graph={self.approximate_built})"
        )

    def chooses_exact(self, n_queries: int) -> bool:
        """Whether ``n_queries`` queries are answered exactly (see the module's text)."""
        if self.method != "auto":
            return self.method == "exact"
        cost = float(len(self)) * float(self.width) * max(float(n_queries), QUERY_FLOOR)
        return cost <= (QUICK_BUDGET if self._graph is not None else EXACT_BUDGET)

    def query(self, queries, k: int = 5, *, exclude_self: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """The ``k`` nearest rows of each query, nearest first.

        Parameters
        ----------
        queries : array-like of shape (n_queries, width)
        k : int, default=5
            At most the number of rows (one less with ``exclude_self``).
        exclude_self : bool, default=False
            The queries are the rows themselves (query ``i`` is row ``i``): row ``i`` is left out
            of query ``i``'s neighbours.

        Returns
        -------
        distances : ndarray of shape (n_queries, k), float64
        indices : ndarray of shape (n_queries, k), int64
        """
        q = np.ascontiguousarray(queries, dtype=np.float32)
        if q.ndim != 2 or q.shape[1] != self.width:
            raise EmbeddingError(
                f"The queries have shape {q.shape} but the rows searched are {self.width} wide; "
                "embed both with the same model and layer."
            )
        if exclude_self and len(q) != len(self):
            raise ValueError("exclude_self needs one query per row, the rows themselves.")
        limit = len(self) - int(exclude_self)
        if not isinstance(k, (int, np.integer)) or isinstance(k, bool) or not 1 <= k <= limit:
            raise ValueError(f"k must be an integer in [1, {limit}] (the rows searched); got {k!r}.")
        if len(q) == 0:
            return np.empty((0, k)), np.empty((0, k), dtype=np.int64)
        want = int(k) + int(exclude_self)
        if self.chooses_exact(len(q)):
            self.last_method = "exact"
            dist, idx = self._exact_index().kneighbors(q, n_neighbors=want)
        else:
            self.last_method = "approximate"
            idx, dist = self._graph_index().query(q, k=want, epsilon=SEARCH_EPSILON)
        dist, idx = np.asarray(dist, dtype=np.float64), np.asarray(idx, dtype=np.int64)
        if exclude_self:
            dist, idx = _drop_self(dist, idx, k)
        return dist, idx

    def _exact_index(self):
        from sklearn.neighbors import NearestNeighbors

        with self._lock:
            if self._exact is None:
                self._exact = NearestNeighbors(algorithm="brute").fit(self.vectors)
            return self._exact

    def _graph_index(self):
        with self._lock:
            if self._graph is None:
                try:
                    from pynndescent import NNDescent
                except ImportError:
                    raise MissingDependencyError(
                        f"Searching {len(self):,} rows approximately needs pynndescent: "
                        "pip install 'h5eval-widgets[insight]' (or pip install pynndescent)."
                    ) from None
                graph = NNDescent(
                    self.vectors,
                    metric="euclidean",
                    n_neighbors=min(GRAPH_NEIGHBOURS, len(self) - 1),
                    random_state=self.seed,
                    low_memory=True,
                )
                graph.prepare()
                self._graph = graph
            return self._graph


def _drop_self(dist: np.ndarray, idx: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Each row's neighbours without the row itself (the first ``k`` others, in order)."""
    own = idx == np.arange(len(idx))[:, None]
    # a row not found among its own neighbours (an exact duplicate ranked first): drop the last
    own[~own.any(axis=1), -1] = True
    keep = ~own
    return dist[keep].reshape(len(idx), -1)[:, :k], idx[keep].reshape(len(idx), -1)[:, :k]


def typical_distance(index: NeighbourIndex, *, sample: int = TYPICAL_SAMPLE, seed: int = 0) -> float:
    """The median distance of a row to its nearest other row, over a seeded sample of rows.

    Parameters
    ----------
    index : NeighbourIndex
        The rows (at least two).
    sample : int, default=TYPICAL_SAMPLE
        Rows sampled (all when fewer).
    seed : int, default=0

    Returns
    -------
    float
    """
    n = len(index)
    if n < 2:
        raise ValueError("A typical nearest-neighbour distance needs at least two rows.")
    rows = np.arange(n) if n <= sample else np.sort(np.random.default_rng(seed).choice(n, sample, replace=False))
    dist, idx = index.query(index.vectors[rows], k=2)
    own = idx == rows[:, None]
    # the nearest other row: the first neighbour that is not the row itself
    nearest = np.where(own[:, 0], dist[:, 1], dist[:, 0])
    return float(np.median(nearest))
