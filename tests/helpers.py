"""Helpers shared by the tests (fixtures live in conftest.py): test dependencies required under CI,
waiting with a deadline, leftover processes, file digests, scikit-learn called quietly, random
scores, the served dashboard's cell."""

from __future__ import annotations

import importlib
import os
import time
import warnings
from pathlib import Path
from typing import Callable, Iterable

import numpy as np
import pytest

from h5eval_widgets.core.cache import file_digest


# ------------------------------------------------------------------ test dependencies
def in_ci() -> bool:
    """Whether the tests run under CI (``CI`` set to anything but empty, 0 or false)."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def require(module: str):
    """Import and return ``module``, a dependency of some tests (the ``[test]`` extra installs it).
    Without it the calling test (or module, at import) is skipped, but under CI it fails: a broken
    install must not turn tests into skips while the run passes."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        why = f"{module} is not installed ({exc})"
        if in_ci():
            pytest.fail(f"CI needs {module} for these tests; `make test` installs it: {why}", pytrace=False)
        pytest.skip(why, allow_module_level=True)


# ------------------------------------------------------------------ waiting
def wait_for(
    predicate: Callable[[], object],
    timeout: float = 10.0,
    interval: float = 0.1,
    *,
    what: str | Callable[[], str] | None = None,
):
    """Call ``predicate`` every ``interval`` seconds until it returns something true, and return
    that; after ``timeout`` seconds fail, naming what was awaited (``what``: a text, or a function
    giving one at that moment, for example with what is still left)."""
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() >= deadline:
            awaited = what() if callable(what) else what
            awaited = awaited or getattr(predicate, "__doc__", None) or getattr(predicate, "__name__", "?")
            pytest.fail(f"gave up after {timeout:g} s waiting for {awaited}", pytrace=False)
        time.sleep(interval)


def readline_within(stream, timeout: float, *, what: str = "a line") -> str:
    """The next line of ``stream`` (a process's stdout), read in a helper thread; fail after
    ``timeout`` seconds instead of hanging when the process prints nothing."""
    import queue
    import threading

    got: queue.Queue = queue.Queue()
    threading.Thread(target=lambda: got.put(stream.readline()), daemon=True).start()
    try:
        return got.get(timeout=timeout)
    except queue.Empty:
        pytest.fail(f"gave up after {timeout:g} s waiting for {what}", pytrace=False)


def processes_mentioning(text: str) -> list[str]:
    """Command lines of running processes that contain ``text`` (for leftover servers and kernels)."""
    out = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                cmd = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            if text in cmd:
                out.append(cmd)
    return out


def wait_until_no_process_mentions(text: str, timeout: float = 15.0, *, owner: str = "process") -> None:
    """Wait until no running process has ``text`` in its command line; fail listing those left."""
    wait_for(
        lambda: not processes_mentioning(text),
        timeout,
        0.1,
        what=lambda: f"every {owner} mentioning {text!r} to exit; still running: {processes_mentioning(text)}",
    )


# ------------------------------------------------------------------ calls
def record_calls(monkeypatch, owner, name: str, record: Callable = lambda *args, **kwargs: args) -> list:
    """Replace ``owner.name`` (a module's function or a class's method) for the test with one that
    appends ``record(*args, **kwargs)`` to the list returned (a method's args start with self),
    then calls the original and returns what it returns."""
    original = getattr(owner, name)
    calls: list = []

    def recording(*args, **kwargs):
        calls.append(record(*args, **kwargs))
        return original(*args, **kwargs)

    monkeypatch.setattr(owner, name, recording)
    return calls


# ------------------------------------------------------------------ files
def digests(paths: Iterable) -> dict:
    """Each file's (or folder's) SHA-256, by path: compare before and after to prove nothing was written."""
    return {p: file_digest(p) for p in paths}


def write_image_folder(
    root: Path,
    classes: Iterable[str] = ("a", "b"),
    per_class: int = 3,
    *,
    size=(8, 8),
    mode: str = "L",
    suffix: str = "png",
    name: str = "{i}",
    seed: int = 0,
    **save,
) -> Path:
    """Images of random pixels, one sub-folder of ``root`` per class (made when missing), each
    with ``per_class`` files ``name.format(i=..., c=...)`` + ``.suffix``, of ``size`` (width,
    height) and Pillow ``mode`` ("L", "RGB" or "RGBA"); ``save`` goes to ``Image.save`` (JPEG
    quality, say). Returns ``root``."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    channels = {"L": (), "RGB": (3,), "RGBA": (4,)}[mode]
    w, h = size
    for c in classes:
        (root / c).mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            pixels = rng.integers(0, 256, (h, w, *channels), dtype=np.uint8)
            Image.fromarray(pixels, mode).save(root / c / f"{name.format(i=i, c=c)}.{suffix}", **save)
    return root


def run_dashboard_cell(notebook: dict):
    """Run the code cell a served dashboard page runs in its kernel; return the dashboard it builds."""
    scope: dict = {}
    exec(notebook["cells"][0]["source"], scope)
    return scope["dashboard"]


# ------------------------------------------------------------------ scikit-learn, quietly
def sk(fn, *args, **kwargs):
    """A scikit-learn metric with its warnings (undefined values, zero division) silenced."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args, **kwargs)


def sk_or_nan(fn, *args, **kwargs) -> float:
    """A scikit-learn metric as a float, nan where scikit-learn has no value (it raises, or warns and gives nan)."""
    try:
        return float(sk(fn, *args, **kwargs))
    except ValueError:
        return float("nan")


def same(ours, theirs, name: str) -> None:
    """Assert our value equals scikit-learn's, or both are undefined (nan)."""
    if np.isnan(theirs):
        assert np.isnan(ours), f"{name}: scikit-learn has no value, we gave {ours}"
    else:
        assert ours == pytest.approx(theirs, rel=1e-6, abs=1e-9), name


# ------------------------------------------------------------------ evaluations
def assert_same_evaluation(ev, ref, *, exact: bool = True) -> None:
    """Assert that ``ev`` is the evaluation ``ref`` is: result class, task and classes, labels,
    predictions and outputs (dtype included), the confusion matrix, every metric and the per-class
    table. ``exact``: metrics equal to the last bit (or both undefined); else within 1e-6
    relative (as :func:`same`), for results computed another way (a subset, say)."""
    assert type(ev) is type(ref) and ev.task == ref.task and ev.classes == ref.classes
    np.testing.assert_array_equal(ev.y_true, ref.y_true)
    np.testing.assert_array_equal(ev.y_pred, ref.y_pred)
    if getattr(ref, "y_proba", None) is not None:
        np.testing.assert_array_equal(ev.y_proba, ref.y_proba)
        assert ev.y_proba.dtype == ref.y_proba.dtype
    if ev.is_classification:
        np.testing.assert_array_equal(ev.confusion_matrix(), ref.confusion_matrix())
    assert ev.scores.keys() == ref.scores.keys()
    for key, value in ref.scores.items():
        if exact:
            assert ev.scores[key] == value or (np.isnan(value) and np.isnan(ev.scores[key])), key
        else:
            same(ev.scores[key], value, key)
    if hasattr(ref, "per_class"):
        import pandas as pd

        pd.testing.assert_frame_equal(ev.per_class(), ref.per_class(), check_exact=exact, rtol=1e-6)


# ------------------------------------------------------------------ random predictions
def softmax_scores(rng: np.random.Generator, n: int, k: int, signal: float = 1.5, dtype=np.float32):
    """Labels of ``n`` samples in ``k`` classes and softmax scores leaning ``signal`` towards the truth."""
    y = rng.integers(0, k, n)
    z = rng.normal(size=(n, k))
    z[np.arange(n), y] += signal
    np.exp(z, out=z)
    z /= z.sum(1, keepdims=True)
    return y, z.astype(dtype)


def binary_scores(rng: np.random.Generator, n, lean: float = 0.3, decimals: int | None = None):
    """Labels of ``n`` samples (a count, or a shape for multi-label) in 2 classes and scores in [0, 1] that lean ``lean`` towards the positives
    (rounded to ``decimals`` when given, so ties happen)."""
    y = rng.integers(0, 2, n)
    score = lean * y + (1 - lean) * rng.random(n)
    if decimals is not None:
        score = np.round(score, decimals)
    return y, np.clip(score, 0, 1)
