"""On-disk cache of model outputs, keyed by model and data content (file digests); writes are atomic."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

import numpy as np

__all__ = ["PredictionCache", "default_cache_dir", "cache_key", "file_digest"]

#: Bumped whenever what is stored (or how it is computed) changes.
CACHE_FORMAT = "1"
DEFAULT_MAX_BYTES = 2 << 30


def default_cache_dir() -> Path:
    """``$H5EVAL_CACHE_DIR``, else ``$XDG_CACHE_HOME/h5eval-widgets``, else ``~/.cache/...``."""
    env = os.environ.get("H5EVAL_CACHE_DIR")
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "h5eval-widgets"


def cache_key(*parts: str) -> str:
    """One hex key from the model fingerprint, the data fingerprint and anything else."""
    h = hashlib.sha256(CACHE_FORMAT.encode())
    for p in parts:
        h.update(b"\0" + str(p).encode())
    return h.hexdigest()


def _digest(arr: np.ndarray) -> str:
    return hashlib.sha256(memoryview(np.ascontiguousarray(arr)).cast("B")).hexdigest()


class PredictionCache:
    """A folder of ``<key>.npz`` files, each holding outputs and their own checksum.

    An entry is written to a temporary file in the same folder and renamed into place, so a
    process killed mid-write leaves at most a stray temporary file, never a half entry under a
    real key. An entry whose checksum does not match (or that cannot be read) is deleted and
    reported as a miss.

    Parameters
    ----------
    directory : path-like, default=None
        Where entries live (see :func:`default_cache_dir`).
    max_bytes : int, default=2 GiB
        After a write, the oldest entries are removed until the folder fits.
    """

    def __init__(self, directory: str | os.PathLike | None = None, *, max_bytes: int = DEFAULT_MAX_BYTES):
        self.directory = Path(directory) if directory is not None else default_cache_dir()
        self.max_bytes = int(max_bytes)

    def _path(self, key: str) -> Path:
        return self.directory / f"{key}.npz"

    def get(self, key: str) -> np.ndarray | None:
        """The stored outputs, or None when absent or found corrupt (then removed)."""
        path = self._path(key)
        if not path.exists():
            return None
        try:
            with np.load(path, allow_pickle=False) as z:
                outputs = z["outputs"]
                digest = str(z["digest"])
            if _digest(outputs) != digest:
                raise ValueError("checksum mismatch")
        except Exception:  # noqa: BLE001 - any unreadable entry is a miss
            path.unlink(missing_ok=True)
            return None
        os.utime(path)  # most recently used
        return outputs

    def put(self, key: str, outputs: np.ndarray) -> Path:
        """Store outputs atomically; returns the entry's path."""
        self.directory.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".partial", dir=self.directory)
        try:
            with os.fdopen(fd, "wb") as fh:
                np.savez(fh, outputs=outputs, digest=np.array(_digest(outputs)))
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self._path(key))
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        self.prune()
        return self._path(key)

    def entries(self) -> list[Path]:
        if not self.directory.exists():
            return []
        return sorted(self.directory.glob("*.npz"), key=lambda p: p.stat().st_mtime)

    def size_bytes(self) -> int:
        return sum(p.stat().st_size for p in self.entries())

    def prune(self) -> None:
        """Remove the least recently used entries beyond ``max_bytes``."""
        entries = self.entries()
        total = sum(p.stat().st_size for p in entries)
        for p in entries:
            if total <= self.max_bytes:
                break
            total -= p.stat().st_size
            p.unlink(missing_ok=True)

    def clear(self) -> int:
        """Delete every entry, the remembered model facts (``models/``) and stray temporary
        files; returns how many prediction entries went."""
        n = 0
        for p in self.entries():
            p.unlink(missing_ok=True)
            n += 1
        if self.directory.exists():
            facts = self.directory / "models"
            for p in [*self.directory.glob(".tmp-*"), *facts.glob("*.json"), *facts.glob(".tmp-*")]:
                p.unlink(missing_ok=True)
        return n


def file_digest(path: str | os.PathLike) -> str:
    """SHA-256 of a file's bytes, or of every file under a directory (names included)."""
    h = hashlib.sha256()
    p = Path(path)
    files = sorted(f for f in p.rglob("*") if f.is_file()) if p.is_dir() else [p]
    for f in files:
        if p.is_dir():
            h.update(str(f.relative_to(p)).encode())
        with open(f, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
    return h.hexdigest()
