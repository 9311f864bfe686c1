"""What an evaluation keeps of its model and data, and building one from prediction files.

:class:`Linked` is mixed into :class:`~h5eval_widgets.core.Evaluation`: the embedding map of
its samples (:mod:`h5eval_widgets.core.inference.embeddings`), the :class:`~h5eval_widgets.core.insight.explain.Explainer` that holds its model for
saliency (:mod:`h5eval_widgets.core.insight.explain`), and :meth:`~Linked.from_predictions_file` (:mod:`h5eval_widgets.core.scale.predictions_eval`).
The methods are thin; the work is done in those modules.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from ..errors import EmbeddingError
from .neighbours import Neighbours

__all__ = ["Linked"]


class Linked(Neighbours):
    """The embedding, the explainer and prediction files of an evaluation (and, from
    :class:`~h5eval_widgets.core.results.neighbours.Neighbours`, the training samples nearest in
    the embedding)."""

    @classmethod
    def from_predictions_file(
        cls,
        path_or_glob,
        *,
        label_column: str,
        proba_columns: Sequence[str] | None = None,
        proba_prefix: str | None = None,
        id_column: str | None = None,
        **options,
    ):
        """Evaluate predictions written by a batch job (Spark, Ray Data, a warehouse export):
        Parquet or CSV files (one, a glob, or a folder of part files, in sorted path order) read
        in chunks, never written; equal to :meth:`from_predictions` on the same arrays.

        Parameters
        ----------
        path_or_glob : path-like, glob such as ``'out/part-*.parquet'``, folder, or a list of them
        label_column : str
        proba_columns : sequence of str, default=None
            One probability column per class, in class order (a single one: binary).
        proba_prefix : str, default=None
            Else the columns starting with this (``'p_'``); the class names are their names
            without it, unless ``classes`` is given.
        id_column : str, default=None
            Rows sorted by id, ids unique, kept as :attr:`sample_ids`.
        **options
            ``pred_column`` (regression), ``classes``, ``task``, ``threshold``, ``chunk_rows``,
            ``model_name``, ``dataset_name``, ``data`` (the test set, returned reordered to
            match), ``data_id_column``, ``data_ids``, ``dataset_options``: see
            :func:`~h5eval_widgets.core.scale.predictions_eval.evaluation_from_file`.

        Returns
        -------
        Evaluation, or (Evaluation, Dataset) when ``data`` is given
        """
        from ..scale.predictions_eval import evaluation_from_file

        return evaluation_from_file(
            path_or_glob,
            label_column=label_column,
            proba_columns=proba_columns,
            proba_prefix=proba_prefix,
            id_column=id_column,
            build=cls.from_predictions,
            **options,
        )

    # ------------------------------------------------------------------ embedding map
    @property
    def embedding(self) -> np.ndarray | None:
        """Each sample's embedding (n_samples, d <= 256), float32, or None (see
        :class:`~h5eval_widgets.core.inference.embeddings.Embedding`; ``from_model(embeddings=...)``)."""
        return None if self.embeddings is None else self.embeddings.vectors

    def projection(self, method: str = "pca", *, seed: int = 0, **options) -> np.ndarray:
        """The embedding in 2-D, ``(n_samples, 2)`` float32, computed once per (model, dataset,
        layer, method) and cached in memory and on disk (see
        :meth:`~h5eval_widgets.core.inference.embeddings.Embedding.projection`)."""
        if self.embeddings is None:
            raise EmbeddingError(
                "This evaluation has no embedding: build it with Evaluation.from_model(..., embeddings=True)."
            )
        return self.embeddings.projection(method, seed=seed, **options)

    @property
    def explainer(self):
        """The :class:`~h5eval_widgets.core.insight.explain.Explainer` of an evaluation built from a
        model (it holds the model and the dataset, for saliency), else None."""
        return self.__dict__.get("_explainer")

    def attach_explainer(self, explainer) -> None:
        """Keep ``explainer`` (the model and data behind this evaluation) for saliency."""
        self.__dict__["_explainer"] = explainer  # a frozen dataclass: its dict
