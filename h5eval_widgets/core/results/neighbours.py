"""The training samples nearest to test samples, and near-duplicates leaking between splits.

:class:`Neighbours` is mixed into :class:`~h5eval_widgets.core.Evaluation` (through
:class:`~h5eval_widgets.core.results.linked.Linked`): :meth:`~Neighbours.nearest_training`,
:meth:`~Neighbours.near_duplicates`, :meth:`~Neighbours.without` and
:meth:`~Neighbours.leakage_report`. Neighbours are found in the model's embedding, the one the
embedding map shows (:attr:`Evaluation.embedding`); the training set is another evaluation of the
same model (its embedding computed in the same pass as its outputs and cached with them), or a
dataset, evaluated here with this evaluation's model. The search itself is in
:mod:`h5eval_widgets.core.insight.neighbours`; its index is built once per training evaluation
and kept on it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from .._lazy import pd
from ..errors import EmbeddingError, LabelError
from ..insight.neighbours import DUPLICATE_FRACTION, NeighbourIndex, typical_distance
from .subsets import as_rows

if TYPE_CHECKING:  # pragma: no cover
    from .evaluation import Evaluation

__all__ = ["Neighbours"]


def _fingerprint(ev: "Evaluation") -> str | None:
    explainer = ev.explainer
    return None if explainer is None else explainer.loaded.fingerprint


def _check_embedding(ev: "Evaluation", what: str) -> None:
    if ev.embeddings is None:
        raise EmbeddingError(
            f"{what} has no embedding for this model, and neighbours are searched in it: build it "
            "with Evaluation.from_model(model, X, y, embeddings=True) (the default; not "
            "from_predictions or embeddings=False)."
        )


def _where(emb) -> str:
    return "the input features" if emb.source == "input" else f"layer {emb.layer!r} ({emb.source})"


def _check_train(ev: "Evaluation", train: "Evaluation") -> None:
    """Refuse a training evaluation of another task, other classes, or another model's embedding."""
    _check_embedding(ev, "This evaluation")
    _check_embedding(train, "The training evaluation")
    if train.task != ev.task:
        raise LabelError(
            f"The training evaluation is {train.task} but this one is {ev.task}; evaluate the "
            "training set with the same model."
        )
    if ev.is_classification and tuple(train.classes) != tuple(ev.classes):
        raise LabelError(
            f"The training set's classes {list(train.classes)[:20]} differ from this evaluation's "
            f"{list(ev.classes)[:20]}; evaluate the training set with the same model and the same "
            "classes, in the same order (Evaluation.from_model(model, X_train, y_train, classes=[...]))."
        )
    mine, theirs = ev.embeddings, train.embeddings
    why = []
    if mine.vectors.shape[1] != theirs.vectors.shape[1] or mine.width != theirs.width:
        why.append(f"{theirs.width} values per sample, not {mine.width}")
    if (mine.source, mine.layer) != (theirs.source, theirs.layer):
        why.append(f"read from {_where(theirs)}, not {_where(mine)}")
    fa, fb = _fingerprint(ev), _fingerprint(train)
    if fa is not None and fb is not None and fa != fb:
        why.append("another model file")
    if why:
        raise EmbeddingError(
            f"The training evaluation's embedding comes from another model or layer ({'; '.join(why)}); "
            "distances between two models' embeddings mean nothing: evaluate the training set with "
            "this model and the same embeddings= (or pass the training dataset itself, and this "
            "evaluation's model evaluates it)."
        )


def _labels(ev: "Evaluation", idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The samples' labels and the model's predictions, as a reader reads them."""
    if ev.is_regression:
        return np.asarray(ev.y_true, dtype=np.float64)[idx], np.asarray(ev.y_pred, dtype=np.float64)[idx]
    names = np.asarray(ev.classes, dtype=object)
    if ev.single_label:
        return names[np.asarray(ev.y_true)[idx]], names[np.asarray(ev.y_pred)[idx]]

    def sets(m):
        return np.array([", ".join(names[np.flatnonzero(r)]) for r in np.asarray(m)[idx]], dtype=object)

    return sets(ev.y_true), sets(ev.y_pred)


def _same_label(a: "Evaluation", ia: np.ndarray, b: "Evaluation", ib: np.ndarray) -> np.ndarray:
    ya, yb = np.asarray(a.y_true)[ia], np.asarray(b.y_true)[ib]
    return (ya == yb).all(axis=1) if ya.ndim > 1 else ya == yb


class Neighbours:
    """Nearest training samples and near-duplicates (mixed into :class:`~h5eval_widgets.core.Evaluation`)."""

    def _neighbour_index(self: "Evaluation") -> NeighbourIndex:
        """This evaluation's embedding as a searchable index (built once, kept)."""
        _check_embedding(self, "This evaluation")
        index = self.__dict__.get("_neighbours")  # a frozen dataclass: its dict
        if index is None:
            index = self.__dict__["_neighbours"] = NeighbourIndex(self.embeddings.vectors)
        return index

    def _training(self: "Evaluation", train) -> "Evaluation":
        """``train`` as an evaluation of this model (a dataset is evaluated once and kept)."""
        if isinstance(train, Neighbours):  # an Evaluation
            _check_train(self, train)
            return train
        kept = self.__dict__.setdefault("_training_evaluations", [])
        for data, ev in kept:
            if data is train:
                return ev
        _check_embedding(self, "This evaluation")
        if self.explainer is None:
            raise EmbeddingError(
                "This evaluation does not hold its model, so it cannot evaluate a training dataset: "
                "pass the training set's Evaluation instead (Evaluation.from_model(model, X_train, y_train))."
            )
        src = self.embeddings.source
        embeddings = src[len("layer:") :] if src.startswith("layer:") else src
        ev = type(self).from_model(
            self.explainer.loaded,
            train,
            classes=list(self.classes) if self.is_classification else None,
            task=self.task,
            threshold=self.threshold,
            embeddings=embeddings,
            progress=False,
        )
        _check_train(self, ev)
        kept.append((train, ev))
        return ev

    def nearest_training(self: "Evaluation", indices, train, k: int = 5) -> "pd.DataFrame":
        """The ``k`` training samples nearest to some test samples, in the model's embedding.

        Parameters
        ----------
        indices : int, array-like of int or bool mask, or None
            Samples of this evaluation (None: all).
        train : Evaluation or dataset
            The training set's evaluation with the same model and classes; or a dataset
            (anything :meth:`Evaluation.from_model` reads), evaluated once with this
            evaluation's model and kept.
        k : int, default=5

        Returns
        -------
        DataFrame
            One row per (test sample, rank): ``test_index``, ``rank`` (1 = nearest),
            ``train_index`` (a sample of ``train``), ``distance`` (Euclidean, in the
            embedding), ``train_label`` and ``train_prediction`` (the model's prediction on the
            training sample). ``attrs['method']`` says whether the search was exact.

        Raises
        ------
        EmbeddingError
            No embedding for this model, or a training embedding of another model or layer.
        LabelError
            A training set with other classes.
        """
        train_ev = self._training(train)
        rows = np.arange(self.n_samples) if indices is None else as_rows(np.atleast_1d(indices), self.n_samples)
        index = train_ev._neighbour_index()
        dist, idx = index.query(self.embeddings.vectors[rows], k=k)
        flat = idx.ravel()
        label, pred = _labels(train_ev, flat)
        out = pd.DataFrame(
            {
                "test_index": np.repeat(rows, k),
                "rank": np.tile(np.arange(1, k + 1), len(rows)),
                "train_index": flat,
                "distance": dist.ravel(),
                "train_label": label,
                "train_prediction": pred,
            }
        )
        out.attrs["method"] = index.last_method
        return out

    def near_duplicates(self: "Evaluation", train=None, threshold: float | None = None) -> "pd.DataFrame":
        """Test samples with a training sample (or, without ``train``, another test sample)
        closer than ``threshold`` in the model's embedding.

        Parameters
        ----------
        train : Evaluation or dataset, default=None
            As in :meth:`nearest_training`; None looks for near-duplicates within this set.
        threshold : float, default=None
            A distance in the embedding. None: :data:`~h5eval_widgets.core.insight.neighbours.DUPLICATE_FRACTION`
            (0.3) of the median distance from a sample of the searched set (the training set,
            or this set) to its nearest other sample: a copy with a little noise is far closer
            to its original than distinct samples are to each other (see docs/neighbours.md).

        Returns
        -------
        DataFrame
            One row per test sample that has a near-duplicate, nearest first:
            ``test_index``, ``train_index`` (without ``train``: ``other_index``, another sample
            of this set), ``distance``, ``labels_agree``. ``attrs`` holds ``threshold``,
            ``typical_distance`` (None when a threshold was given) and ``method``.
        """
        if train is None:
            other, index = self, self._neighbour_index()
            dist, idx = index.query(self.embeddings.vectors, k=1, exclude_self=True)
            name = "other_index"
        else:
            other = self._training(train)
            index = other._neighbour_index()
            dist, idx = index.query(self.embeddings.vectors, k=1)
            name = "train_index"
        method = index.last_method
        typical = None
        if threshold is None:
            typical = typical_distance(index)
            threshold = DUPLICATE_FRACTION * typical
        elif not np.isfinite(threshold) or threshold < 0:
            raise ValueError(f"threshold must be a distance >= 0 in the embedding, or None; got {threshold!r}.")
        dist, idx = dist[:, 0], idx[:, 0]
        rows = np.flatnonzero(dist < threshold)
        rows = rows[np.argsort(dist[rows], kind="stable")]
        out = pd.DataFrame(
            {
                "test_index": rows,
                name: idx[rows],
                "distance": dist[rows],
                "labels_agree": _same_label(self, rows, other, idx[rows]),
            }
        )
        out.attrs.update(threshold=float(threshold), typical_distance=typical, method=method)
        return out

    def without(self: "Evaluation", indices, name: str | None = None) -> "Evaluation":
        """This evaluation without some samples (near-duplicates of training samples, say):
        :meth:`subset` of the others, named ``'without N samples'`` unless ``name`` is given."""
        drop = np.unique(as_rows(np.atleast_1d(np.asarray(indices)), self.n_samples))
        keep = np.setdiff1d(np.arange(self.n_samples), drop)
        return self.subset(keep, name or f"without {len(drop):,} samples")

    def leakage_report(
        self: "Evaluation",
        train=None,
        *,
        threshold: float | None = None,
        n_boot: int = 1000,
        confidence: float = 0.95,
        seed: int = 0,
    ) -> "pd.DataFrame":
        """The headline metrics with and without the test samples that have a near-duplicate,
        side by side, each with its bootstrap interval (:meth:`bootstrap`).

        Parameters
        ----------
        train, threshold
            As in :meth:`near_duplicates`.
        n_boot, confidence, seed
            As in :meth:`bootstrap`.

        Returns
        -------
        DataFrame
            Indexed by metric: ``all``, ``all_low``, ``all_high``, ``without``,
            ``without_low``, ``without_high``, ``difference`` (without - all).
            ``attrs['duplicates']`` is the :meth:`near_duplicates` table; ``attrs['n_all']`` and
            ``attrs['n_without']`` count the samples.
        """
        dups = self.near_duplicates(train, threshold)
        rest: Any = self.without(dups["test_index"].to_numpy(), "without near-duplicates") if len(dups) else self
        a = self.bootstrap(n_boot, confidence=confidence, seed=seed)
        b = rest.bootstrap(n_boot, confidence=confidence, seed=seed)
        out = pd.DataFrame(
            {
                "all": a["value"],
                "all_low": a["low"],
                "all_high": a["high"],
                "without": b["value"].reindex(a.index),
                "without_low": b["low"].reindex(a.index),
                "without_high": b["high"].reindex(a.index),
            }
        )
        out["difference"] = out["without"] - out["all"]
        out.attrs.update(duplicates=dups, n_all=self.n_samples, n_without=rest.n_samples)
        return out
