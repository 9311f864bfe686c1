"""pandas imported on first use: it takes about a quarter of a second, a large part of a
command-line run's start-up, and a cached evaluation may never build a DataFrame."""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["pd"]


class _Lazy:
    def __init__(self, name: str):
        self._name = name

    def __getattr__(self, attr: str) -> Any:
        module = importlib.import_module(self._name)
        return getattr(module, attr)


pd: Any = _Lazy("pandas")
