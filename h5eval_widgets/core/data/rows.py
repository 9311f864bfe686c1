"""Some rows of a dataset or of a tag store, numbered from 0 as a slice's evaluation numbers its
samples (see :meth:`~h5eval_widgets.core.Evaluation.subset`), reading the full one underneath."""

from __future__ import annotations

from typing import Any, Iterable

import numpy as np

__all__ = ["RowsOf", "TagsOfRows"]


class RowsOf:
    """Rows ``rows`` of an input source (image files, an HDF5 array, Parquet rows, named
    columns): item ``i`` is the source's row ``rows[i]``; nothing is read until asked."""

    def __init__(self, source: Any, rows: np.ndarray):
        self.source = source
        self.rows = np.asarray(rows, dtype=np.int64)
        for name in ("files", "file_paths"):
            files = getattr(source, name, None)
            if files:
                setattr(self, name, [files[int(r)] for r in self.rows])

    def __len__(self) -> int:
        return len(self.rows)

    @property
    def shape(self) -> tuple:
        return (len(self.rows), *tuple(getattr(self.source, "shape", (0,)))[1:])

    @property
    def dtype(self):
        return getattr(self.source, "dtype", None)

    def __getitem__(self, item):
        if isinstance(item, (int, np.integer)):
            return self.source[int(self.rows[int(item)])]
        picked = self.rows[item]
        return (
            np.stack([np.asarray(self.source[int(r)]) for r in picked])
            if len(picked)
            else np.zeros((0, *self.shape[1:]))
        )

    def row_values(self, i: int) -> list[tuple[str, Any]]:
        return self.source.row_values(int(self.rows[int(i)]))

    def __repr__(self) -> str:
        return f"RowsOf({self.source!r}, {len(self.rows)} rows)"


class TagsOfRows:
    """The tags of rows ``rows`` of a :class:`~h5eval_widgets.core.insight.tags.TagStore`, numbered from
    0: a slice's samples keep the tags of the full dataset's samples they are."""

    def __init__(self, store, rows: np.ndarray):
        self.store = store
        self.rows = np.asarray(rows, dtype=np.int64)
        self._local = {int(r): i for i, r in enumerate(self.rows)}

    @property
    def unreadable(self):
        return self.store.unreadable

    def tags(self, i: int) -> list[str]:
        return self.store.tags(int(self.rows[int(i)]))

    def add(self, i: int, tag: str) -> None:
        self.store.add(int(self.rows[int(i)]), tag)

    def remove(self, i: int, tag: str | None = None) -> None:
        self.store.remove(int(self.rows[int(i)]), tag)

    def tagged(self, tag: str | None = None) -> np.ndarray:
        """This slice's samples with any tag (or with ``tag``), ascending."""
        return np.array(
            sorted(self._local[int(r)] for r in self.store.tagged(tag) if int(r) in self._local), dtype=np.int64
        )

    def names(self) -> list[str]:
        return self.store.names()

    def column(self, indices: Iterable[int]) -> list[str]:
        return self.store.column(self.rows[np.asarray(list(indices), dtype=np.int64)])

    def __len__(self) -> int:
        return len(self.tagged())

    def __repr__(self) -> str:
        return f"TagsOfRows({self.store!r}, {len(self.rows)} rows)"
