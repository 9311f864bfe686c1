"""The engine stays free of widget libraries, and TensorFlow is imported only when needed."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

CORE = Path(__file__).resolve().parent.parent / "h5eval_widgets" / "core"


def test_importing_core_loads_no_widgets_and_no_tensorflow():
    """Check in a fresh interpreter that importing the engine imports neither ipywidgets, bqplot nor TF."""
    code = (
        "import sys, h5eval_widgets.core as c; "
        "bad = [m for m in ('ipywidgets', 'bqplot', 'tensorflow', 'keras') if m in sys.modules]; "
        "print(','.join(bad))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_no_module_under_core_imports_widget_libraries():
    """Check every import statement under core/ (even inside functions) for ipywidgets and bqplot."""
    offenders = []
    for path in CORE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [f"{path.name}: {n}" for n in names if n.split(".")[0] in ("ipywidgets", "bqplot")]
    assert offenders == []


def test_results_hold_no_loading_code():
    """Check that the results module imports no loading code (model files, datasets, prediction):
    ``Evaluation.from_model`` calls into the pipeline module, which does that."""
    loading = {"datasets", "models", "predict", "feed", "sources", "cache", "demo"}
    imported = set()
    for node in ast.walk(ast.parse((CORE / "evaluation.py").read_text())):
        if isinstance(node, ast.ImportFrom) and node.level == 1 and node.module:
            imported.add(node.module.split(".")[0])
    assert imported & loading == set() and "pipeline" in imported
