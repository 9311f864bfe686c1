"""Rows per forward call, from a memory budget and the model's per-row activation size.

A small MLP keeps large chunks (per-call overhead is its cost); a CNN gets CNN-sized batches
(its activations are): :func:`rows_per_call` takes the smaller of the input cap and what the
budget of :func:`memory_budget` (the GPU's free memory when TensorFlow sees one, else the
host's) allows for the model's largest layer output.
"""

from __future__ import annotations

import os

__all__ = ["rows_per_call", "memory_budget", "DEFAULT_CHUNK_BYTES", "FILE_ROWS", "MAX_ROWS"]

#: Upper bound on one chunk of in-memory input; large chunks amortize per-call overhead
#: (see benchmarks/engine.py).
DEFAULT_CHUNK_BYTES = 16 << 20
#: Rows per call at most for inputs read from files (images, HDF5, Parquet, tf.data): reading,
#: not the per-call overhead, is their cost, so a batch below Keras's default of 32 is enough
#: and keeps peak memory under the plain way's (see benchmarks/real_models.py).
FILE_ROWS = 24
#: Upper bound on rows per forward call.
MAX_ROWS = 1 << 18
#: Live activations are taken as this many times the largest layer output (a layer's input,
#: its output and a residual branch can be alive at once).
ACTIVATION_FACTOR = 3
#: Largest budget for one call's activations and input copies on the host, whatever memory is
#: free (measured: peak RSS grows by about 3x the largest layer output per row).
HOST_BUDGET_CAP = 384 << 20


def _host_available() -> int:
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return 4 << 30


def _gpu_free() -> int | None:
    """Free memory of the first GPU the Keras backend sees (None without one)."""
    from .backend import sees_gpu

    if not sees_gpu():
        return None
    import shutil
    import subprocess

    if shutil.which("nvidia-smi") is None:
        return 4 << 30  # a GPU without the tool to ask: assume a small one
    try:
        out = subprocess.run(
            ["nvidia-smi", "--query-gpu=memory.free", "--format=csv,noheader,nounits"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout
        return int(out.split()[0]) << 20
    except (OSError, ValueError, IndexError, subprocess.SubprocessError):
        return 4 << 30


def memory_budget() -> tuple[int, str]:
    """Bytes the activations of one forward call may take, and where (``'GPU'``/``'host'``).

    A quarter of the GPU's free memory when the Keras backend sees a GPU; else an eighth of the
    host's available memory, at most 384 MiB.
    """
    gpu = _gpu_free()
    if gpu is not None:
        return gpu // 4, "GPU"
    return min(_host_available() // 8, HOST_BUDGET_CAP), "host"


def rows_per_call(
    row_bytes: int, activation_bytes: int | None, batch_size: int | None = None, max_rows: int = MAX_ROWS
) -> int:
    """Rows per forward call: at most 16 MiB of input and ``max_rows``, and the call's
    activations (``ACTIVATION_FACTOR`` times the largest layer output) plus two copies of its
    input within :func:`memory_budget`.

    Parameters
    ----------
    row_bytes : int
        Bytes of one prepared input row.
    activation_bytes : int or None
        The model's largest layer output per row, in bytes (None when unknown).
    batch_size : int, default=None
        Given by the user: used as it is.
    max_rows : int, default=MAX_ROWS
        Rows per call at most (``FILE_ROWS`` for inputs read from files).
    """
    if batch_size:
        return int(batch_size)
    row_bytes = max(1, row_bytes)
    budget, _ = memory_budget()
    per_row = ACTIVATION_FACTOR * (activation_bytes or 0) + 2 * row_bytes
    rows = min(DEFAULT_CHUNK_BYTES // row_bytes, budget // per_row, max_rows)
    return int(max(1, rows))
