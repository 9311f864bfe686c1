"""Embeddings to 2-D maps, and the samples a brush or a lasso drawn on a map takes in.

:func:`project` runs PCA (scikit-learn; a fraction of a second for 100,000 rows) or UMAP
(``umap-learn``, the optional ``[insight]`` extra; seconds to minutes, so
:func:`project_in_background` runs it in a thread and calls back when it is ready, for a view
that shows PCA at once and swaps UMAP in). :func:`points_in_box` and :func:`points_in_polygon`
turn a selection on the map into sample indices. Nothing here imports widgets.
"""

from __future__ import annotations

import threading
import warnings
from concurrent.futures import Future
from typing import Any, Callable

import numpy as np

from ..errors import EmbeddingError, MissingDependencyError

__all__ = ["project", "project_in_background", "points_in_box", "points_in_polygon", "METHODS"]

METHODS = ("pca", "umap")


def _standardized(x: np.ndarray) -> np.ndarray:
    sd = x.std(axis=0)
    return (x - x.mean(axis=0)) / np.where(sd > 0, sd, 1)


def _pca(x: np.ndarray, seed: int) -> np.ndarray:
    from sklearn.decomposition import PCA

    # scikit-learn's choice: for n >= 10 d and d <= 1000 (every embedding here, d <= 256) the
    # eigendecomposition of the d x d covariance (exact, and measured 5-10x faster than
    # randomized SVD on 100,000 x 128); randomized SVD for larger, wider arrays
    return PCA(n_components=2, svd_solver="auto", random_state=seed).fit_transform(x)


def _umap(x: np.ndarray, seed: int, progress: bool, **options) -> np.ndarray:
    try:
        import umap
    except ImportError:
        raise MissingDependencyError(
            "UMAP needs the umap-learn package: pip install 'h5eval-widgets[insight]' (or "
            "pip install umap-learn), or use method='pca'."
        ) from None
    options.setdefault("n_neighbors", min(15, len(x) - 1))
    reducer = umap.UMAP(
        n_components=2, random_state=seed, verbose=progress, tqdm_kwds={"disable": not progress}, **options
    )
    with warnings.catch_warnings():  # a seed makes umap-learn single-threaded, and it says so
        warnings.filterwarnings("ignore", message="n_jobs value", category=UserWarning)
        return reducer.fit_transform(x)


def project(
    embedding: np.ndarray,
    method: str = "pca",
    *,
    seed: int = 0,
    standardize: bool = False,
    progress: bool = False,
    **options,
) -> np.ndarray:
    """Project an embedding to 2-D.

    Parameters
    ----------
    embedding : array-like of shape (n_samples, d)
    method : {'pca', 'umap'}, default='pca'
        PCA: the first two principal components (scikit-learn's solver choice: the
        covariance eigendecomposition for tall arrays, randomized SVD for large wide ones). UMAP: ``umap.UMAP(n_components=2)``, seeded (and
        therefore single-threaded in umap-learn).
    seed : int, default=0
    standardize : bool, default=False
        Scale every column to zero mean and unit variance first (for input features on
        different scales).
    progress : bool, default=False
        UMAP's progress bar (its epochs) and log.
    **options
        Passed to ``umap.UMAP`` (``n_neighbors``, ``min_dist``, ``n_epochs``, ...).

    Returns
    -------
    ndarray of shape (n_samples, 2), float32

    Raises
    ------
    EmbeddingError
        Not a 2-D array of finite numbers, or an unknown method.
    MissingDependencyError
        UMAP without ``umap-learn`` (the message names ``pip install 'h5eval-widgets[insight]'``).
    """
    if method not in METHODS:
        raise EmbeddingError(f"method must be one of {METHODS}; got {method!r}.")
    x = np.asarray(embedding, dtype=np.float32)
    if x.ndim != 2:
        raise EmbeddingError(f"An embedding has shape (n_samples, d); got {x.shape}.")
    if not np.isfinite(x).all():
        raise EmbeddingError(
            "The embedding holds NaN or infinite values (the layer overflowed); "
            "name another layer with embeddings='layer_name'."
        )
    n, d = x.shape
    if method == "pca" and options:
        raise EmbeddingError(f"PCA takes no options; got {sorted(options)}.")
    if standardize:
        x = _standardized(x)
    if n < 2 or d < 2:  # nothing to reduce: the values themselves, centred, in two columns
        out = np.zeros((n, 2), np.float32)
        if n:
            out[:, : min(d, 2)] = (x - x.mean(axis=0))[:, :2]
        return out
    # UMAP needs a few neighbours per point; a handful of points get PCA's map
    xy = _umap(x, seed, progress, **options) if method == "umap" and n > 4 else _pca(x, seed)
    return np.ascontiguousarray(xy, dtype=np.float32)


def _embedding_of(source) -> Any:
    emb = getattr(source, "embeddings", source)
    if emb is None or not hasattr(emb, "projection"):
        raise EmbeddingError(
            "This evaluation has no embedding: build it with Evaluation.from_model(..., embeddings=True)."
        )
    return emb


def project_in_background(
    source,
    callback: Callable[[np.ndarray], Any],
    *,
    method: str = "umap",
    seed: int = 0,
    on_error: Callable[[BaseException], Any] | None = None,
    progress: bool = False,
    **options,
) -> Future:
    """Compute a projection in a daemon thread and call ``callback(xy)`` when it is ready.

    The projection goes through :meth:`~h5eval_widgets.core.inference.embeddings.Embedding.projection`,
    so it is cached in memory and on disk like one computed in the foreground (a cached one
    calls back at once, from the thread). Callbacks run in the worker thread: a view should
    only set traits there (ipywidgets sends them from any thread).

    Parameters
    ----------
    source : Evaluation or Embedding
    callback : callable
        Called with the ``(n_samples, 2)`` float32 array.
    method : {'pca', 'umap'}, default='umap'
    seed : int, default=0
    on_error : callable, default=None
        Called with the exception if the projection fails (it is also set on the future).
    progress : bool, default=False
    **options
        As in :func:`project`.

    Returns
    -------
    concurrent.futures.Future
        Its result is the projection (``future.result(timeout)`` waits for it).
    """
    emb = _embedding_of(source)
    future: Future = Future()
    future.set_running_or_notify_cancel()

    def work():
        try:
            xy = emb.projection(method, seed=seed, progress=progress, **options)
        except BaseException as exc:  # noqa: BLE001 - handed to the caller, never lost in a thread
            future.set_exception(exc)
            if on_error is not None:
                on_error(exc)
            return
        future.set_result(xy)
        callback(xy)

    threading.Thread(target=work, name=f"h5eval-{method}", daemon=True).start()
    return future


# ---------------------------------------------------------------------------- selections
def _points(xy) -> np.ndarray:
    xy = np.asarray(xy, dtype=np.float64)
    if xy.ndim != 2 or xy.shape[1] != 2:
        raise EmbeddingError(f"Points have shape (n, 2); got {xy.shape}.")
    return xy


def points_in_box(xy, x0: float, x1: float, y0: float, y1: float) -> np.ndarray:
    """Indices of the points inside a rectangle (edges included), in increasing order.

    Parameters
    ----------
    xy : array-like of shape (n, 2)
    x0, x1, y0, y1 : float
        The rectangle's sides, in either order (a brush dragged leftwards gives x0 > x1).

    Returns
    -------
    ndarray of int64
        NaN points are never inside.
    """
    xy = _points(xy)
    (xa, xb), (ya, yb) = sorted((x0, x1)), sorted((y0, y1))
    inside = (xy[:, 0] >= xa) & (xy[:, 0] <= xb) & (xy[:, 1] >= ya) & (xy[:, 1] <= yb)
    return np.flatnonzero(inside).astype(np.int64)


def points_in_polygon(xy, polygon) -> np.ndarray:
    """Indices of the points inside a polygon (a lasso), in increasing order.

    Even-odd rule by ray casting, vectorized over the points (one step per edge: about 10 ms
    for 100,000 points and a 100-vertex lasso). The polygon is closed implicitly; a
    self-crossing lasso keeps the regions enclosed an odd number of times. Points exactly on
    an edge may fall on either side.

    Parameters
    ----------
    xy : array-like of shape (n, 2)
    polygon : array-like of shape (m, 2)
        Its vertices in order (m >= 3; the first need not be repeated at the end).

    Returns
    -------
    ndarray of int64
    """
    xy = _points(xy)
    poly = np.asarray(polygon, dtype=np.float64)
    if poly.ndim != 2 or poly.shape[1] != 2:
        raise EmbeddingError(f"A polygon has shape (m, 2); got {poly.shape}.")
    if len(poly) < 3:
        return np.zeros(0, np.int64)
    x, y = xy[:, 0], xy[:, 1]
    inside = np.zeros(len(xy), dtype=bool)
    # bounding box first: most points of a map are far from a lasso
    near = np.flatnonzero(
        (x >= poly[:, 0].min()) & (x <= poly[:, 0].max()) & (y >= poly[:, 1].min()) & (y <= poly[:, 1].max())
    )
    px, py = x[near], y[near]
    hit = np.zeros(len(near), dtype=bool)
    for (ax, ay), (bx, by) in zip(poly, np.roll(poly, -1, axis=0)):
        if ay == by:
            continue  # a horizontal edge never crosses a horizontal ray
        crosses = (ay > py) != (by > py)
        x_cross = ax + (py - ay) * (bx - ax) / (by - ay)
        hit ^= crosses & (px < x_cross)
    inside[near[hit]] = True
    return np.flatnonzero(inside).astype(np.int64)
