"""Tags a user gives samples ("label wrong", "blurry"...), kept per (model, dataset) on disk.

A :class:`TagStore` lives in ``tags/`` of the cache folder (see
:func:`~h5eval_widgets.core.cache.default_cache_dir`), one JSON file per evaluation, keyed by
what identifies it: the model's and the dataset's names and the evaluation's own labels and
outputs. Opening the same model on the same data again, in a new kernel, finds the same tags.
Every change is written at once, atomically (a temporary file renamed into place).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Iterable

import numpy as np

from ..cache import cache_key, default_cache_dir
from ..errors import TagsError

__all__ = ["TagStore", "evaluation_key"]

#: Rows of the outputs read for the key (evenly spaced): enough to tell evaluations apart
#: without hashing a large output array whole.
KEY_ROWS = 4096


def evaluation_key(ev) -> str:
    """What identifies an evaluation across sessions: its names, labels and (a sample of) outputs."""
    h = hashlib.sha256()
    h.update(np.ascontiguousarray(ev.y_true).tobytes())
    proba = np.asarray(ev.y_proba if ev.y_proba is not None else ev.y_pred)  # regression: the values
    rows = np.unique(np.linspace(0, len(proba) - 1, min(len(proba), KEY_ROWS)).astype(np.int64))
    h.update(np.ascontiguousarray(proba[rows]).tobytes())
    return cache_key("tags", ev.model_name or "", ev.dataset_name or "", proba.shape, h.hexdigest())


class TagStore:
    """Free-text tags of samples (by index), saved on every change.

    Parameters
    ----------
    path : path-like
        The JSON file (created on the first tag; its folder too).

    Examples
    --------
    >>> store = TagStore.for_evaluation(ev)            # doctest: +SKIP
    >>> store.add(17, "label wrong"); store.tagged()   # doctest: +SKIP
    array([17])
    """

    def __init__(self, path: str | os.PathLike, *, unreadable: str | None = None):
        self.path = Path(path)
        #: Why the file could not be read (then nothing is written to it): see :meth:`opened`.
        self.unreadable = unreadable
        self._tags: dict[int, list[str]] = {} if unreadable else self._read()

    @classmethod
    def opened(cls, path: str | os.PathLike) -> "TagStore":
        """The store at ``path``; an unreadable file gives an empty store that shows no tags and
        refuses new ones (with the reason), so that the file is never overwritten."""
        try:
            return cls(path)
        except TagsError as exc:
            return cls(path, unreadable=str(exc))

    @classmethod
    def for_evaluation(cls, ev, directory: str | os.PathLike | None = None) -> "TagStore":
        """The store of an evaluation, in ``directory`` (default: ``tags/`` of the cache folder)."""
        folder = Path(directory) if directory is not None else default_cache_dir() / "tags"
        return cls.opened(folder / f"{evaluation_key(ev)}.json")

    def _read(self) -> dict[int, list[str]]:
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
            return {int(i): [str(t) for t in tags] for i, tags in raw["tags"].items() if tags}
        except FileNotFoundError:
            return {}
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise TagsError(
                f"The tags file {self.path} cannot be read ({exc}); move it away to start "
                "with no tags (nothing else depends on it)."
            ) from None

    def _writable(self) -> None:
        if self.unreadable:
            raise TagsError(self.unreadable)

    def _write(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".partial", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump({"tags": {str(i): t for i, t in sorted(self._tags.items())}}, fh, indent=1)
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def tags(self, i: int) -> list[str]:
        """The tags of sample ``i`` (in the order given)."""
        return list(self._tags.get(int(i), ()))

    def add(self, i: int, tag: str) -> None:
        """Give sample ``i`` a tag (surrounding spaces dropped; an empty tag is refused)."""
        self._writable()
        tag = " ".join(str(tag).split())
        if not tag:
            raise TagsError("A tag needs some text, such as 'label wrong' or 'blurry'.")
        current = self._tags.setdefault(int(i), [])
        if tag not in current:
            current.append(tag)
            self._write()

    def remove(self, i: int, tag: str | None = None) -> None:
        """Take a tag (every tag when None) off sample ``i``."""
        self._writable()
        i = int(i)
        if i not in self._tags:
            return
        if tag is None:
            del self._tags[i]
        else:
            self._tags[i] = [t for t in self._tags[i] if t != tag]
            if not self._tags[i]:
                del self._tags[i]
        self._write()

    def tagged(self, tag: str | None = None) -> np.ndarray:
        """Indices of the samples with any tag (or with ``tag``), ascending."""
        return np.array(sorted(i for i, t in self._tags.items() if tag is None or tag in t), dtype=np.int64)

    def names(self) -> list[str]:
        """Every tag in use, most used first."""
        counts: dict[str, int] = {}
        for tags in self._tags.values():
            for t in tags:
                counts[t] = counts.get(t, 0) + 1
        return sorted(counts, key=lambda t: (-counts[t], t))

    def column(self, indices: Iterable[int]) -> list[str]:
        """The tags of each of ``indices`` joined by ``'; '`` (for a table)."""
        return ["; ".join(self._tags.get(int(i), ())) for i in indices]

    def __len__(self) -> int:
        return len(self._tags)

    def __repr__(self) -> str:
        return f"TagStore({str(self.path)!r}, {len(self)} tagged samples)"
