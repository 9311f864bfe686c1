"""Arrays kept per epoch by the training recorder: the newest in memory up to a bound, older
ones written once as ``.npy`` files and read back memory-mapped, so a hundred epochs of a large
validation set take no more RAM than the bound."""

from __future__ import annotations

import shutil
import tempfile
import uuid
from collections import OrderedDict
from pathlib import Path

import numpy as np

from ..cache import default_cache_dir

__all__ = ["DEFAULT_MEMORY_LIMIT", "KeptOutputs"]

#: Outputs kept in memory before older epochs go to disk (bytes).
DEFAULT_MEMORY_LIMIT = 256 * 2**20


class KeptOutputs:
    """Each recorded epoch's outputs: the newest in memory up to ``limit`` bytes, older ones
    written once to ``folder`` and read back memory-mapped (they take no RAM until read)."""

    def __init__(self, limit: int, folder: Path | None):
        self.limit = int(limit)
        self._folder = folder
        self._arrays: OrderedDict[int, np.ndarray] = OrderedDict()
        self._files: dict[int, Path] = {}
        self._made = False

    @property
    def folder(self) -> Path:
        if self._folder is None:  # ours: removed whole by remove_files
            root = default_cache_dir() / "training"
            root.mkdir(parents=True, exist_ok=True)
            self._folder = Path(tempfile.mkdtemp(prefix="run-", dir=root))
            self._made = True
        self._folder.mkdir(parents=True, exist_ok=True)
        return self._folder

    @property
    def in_memory(self) -> int:
        """Bytes of outputs held in memory."""
        return sum(a.nbytes for a in self._arrays.values())

    @property
    def on_disk(self) -> list[int]:
        """The epochs whose outputs live in files."""
        return sorted(k for k in self._files if isinstance(k, int))

    def put(self, key, array: np.ndarray) -> None:
        """Keep ``array`` under ``key`` (an epoch: its outputs; ``(epoch, 'embedding')``: its embedding)."""
        self._arrays[key] = array
        while self._arrays and self.in_memory > self.limit:
            old, arr = self._arrays.popitem(last=False)
            name = f"epoch-{old:05d}" if isinstance(old, int) else f"epoch-{old[0]:05d}-{old[1]}"
            path = self.folder / f"{name}-{uuid.uuid4().hex[:8]}.npy"
            np.save(path, arr)
            self._files[old] = path

    def get(self, epoch: int) -> np.ndarray:
        if epoch in self._arrays:
            return self._arrays[epoch]
        return np.load(self._files[epoch], mmap_mode="r")

    def __contains__(self, epoch: int) -> bool:
        return epoch in self._arrays or epoch in self._files

    def remove_files(self) -> None:
        """Delete the files written (and the folder, when it was made here)."""
        for path in self._files.values():
            path.unlink(missing_ok=True)
        if self._made and self._folder is not None:
            shutil.rmtree(self._folder, ignore_errors=True)
        self._files.clear()
