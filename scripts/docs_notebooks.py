"""Execute the notebooks in notebooks/ and write them, with their outputs, to docs/notebooks/
for the docs site (the site's build does not execute them). Run it after changing a notebook:

    python scripts/docs_notebooks.py
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent


def main(names: list[str]) -> None:
    out = ROOT / "docs" / "notebooks"
    out.mkdir(parents=True, exist_ok=True)
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        if names and path.stem not in names:
            continue
        nb = nbformat.read(path, as_version=4)
        with tempfile.TemporaryDirectory() as work:  # files a notebook writes land here
            NotebookClient(nb, timeout=900, kernel_name="python3", resources={"metadata": {"path": work}}).execute()
        nbformat.write(nb, out / path.name)
        print(f"wrote {out / path.name}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
