"""The code's layout holds: the engine stays free of widget libraries and imports TensorFlow only
when needed; imports run one way, down the stages, with no circle; task code lives with its task."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "h5eval_widgets"
CORE = PACKAGE / "core"

#: The stages in the order data flows, lowest first: a module may import its own stage and the
#: stages before it, never one after it. Keys are module names under ``h5eval_widgets``; a
#: module belongs to the longest key it starts with.
STAGES = [
    ("core._lazy", "core.errors", "core.cache"),
    ("core.metrics",),
    ("core.data",),
    # the backend seam sits in inference/ but below the models: loading asks it what the
    # backend can run (and it imports nothing of the package but the errors)
    ("core.inference.backend",),
    ("core.models",),
    ("core.inference",),
    ("core.scale",),
    ("core.insight",),
    ("core.pipeline",),
    ("core.results",),
    ("core.demo", "core.training"),
    ("core",),  # the engine's public names, re-exported
    ("activity",),
    ("session", "epochs", "checks", "trust_sets", "training_sets"),
    ("state",),
    ("views",),
    ("app", "cli", "serve", "recorder"),
    ("",),  # the package's public names
]


def _modules() -> dict[str, tuple[Path, bool]]:
    out = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(PACKAGE).with_suffix("").parts)
        is_pkg = parts[-1] == "__init__"
        out[".".join(parts[:-1] if is_pkg else parts)] = (path, is_pkg)
    return out


MODULES = _modules()


def _type_checking_nodes(tree: ast.AST) -> set[int]:
    """Nodes under ``if TYPE_CHECKING:`` (never run, so exempt)."""
    skip = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skip.update(id(n) for n in ast.walk(node))
    return skip


def imports_of(module: str) -> set[str]:
    """The package's modules that ``module`` imports anywhere in its text, inside functions too
    (``from . import x`` counts as importing ``x`` when ``x`` is a module, else the package)."""
    path, is_pkg = MODULES[module]
    tree = ast.parse(path.read_text())
    skip = _type_checking_nodes(tree)
    found = set()
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        targets = []
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".") if is_pkg else module.split(".")[:-1]
                base = base[: len(base) - (node.level - 1)]
                target = ".".join([p for p in base + [node.module or ""] if p])
            else:
                target = node.module or ""
            targets = [
                f"{target}.{a.name}".strip(".") if f"{target}.{a.name}".strip(".") in MODULES else target
                for a in node.names
            ]
        for t in targets:
            if node.__class__ is ast.Import or not getattr(node, "level", 0):
                if not t.startswith("h5eval_widgets"):
                    continue
                t = t[len("h5eval_widgets") :].lstrip(".")
            while t not in MODULES and "." in t:
                t = t.rsplit(".", 1)[0]
            if t in MODULES and t != module:
                found.add(t)
    return found


def stage_of(module: str) -> int:
    best, rank = -1, None
    for i, keys in enumerate(STAGES):
        for key in keys:
            if (module == key or module.startswith(key + ".") or key == "") and len(key) > best:
                best, rank = len(key), i
    return rank


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


def test_the_import_walker_sees_imports_inside_functions_and_skips_type_checking():
    """Check the walker on real modules: the results import the pipeline inside a function, and
    the slices name the Evaluation only under TYPE_CHECKING."""
    assert "core.pipeline" in imports_of("core.results.evaluation")
    assert "core.insight.slices" in imports_of("core.results.subsets")
    assert not any(m.startswith("core.results") for m in imports_of("core.insight.slices"))


def import_circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The circles of an import graph (module -> the modules it imports): its strongly connected
    components of more than one module (Tarjan), each sorted."""
    index, low, stack, on_stack, circles = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                circles.append(sorted(comp))

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 5000))
    for m in graph:
        if m not in index:
            visit(m)
    return circles


def test_no_import_circle_between_the_packages_modules():
    """Check with ``ast`` that no module imports (even inside a function) one that imports it back,
    directly or through others; ``if TYPE_CHECKING:`` imports are exempt. The detector is first
    shown a planted circle (a -> b -> c -> a, with d importing into it), which it must find."""
    planted = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": set()}
    assert import_circles(planted) == [["a", "b", "c"]]
    assert import_circles({m: imports_of(m) for m in MODULES}) == []


def test_imports_run_down_the_stages():
    """Check that every module imports only its own stage and the stages before it (data before
    models before inference ... before the results, the session, the state, the views, the app)."""
    assert all(stage_of(m) is not None for m in MODULES)
    upward = [f"{m} -> {t}" for m in MODULES for t in imports_of(m) if stage_of(t) > stage_of(m)]
    assert upward == []


def test_results_read_and_predict_only_through_the_pipeline():
    """Check that no results module imports data reading or inference: ``Evaluation.from_model``
    hands off to the pipeline, which loads, reads and predicts."""
    reaching = [
        f"{m} -> {t}"
        for m in MODULES
        if m.startswith("core.results")
        for t in imports_of(m)
        if t.startswith(("core.data", "core.inference"))
    ]
    assert reaching == []


def test_core_is_split_into_stage_packages():
    """Check that at most 8 modules sit directly in core/ and each stage package says in its
    docstring what it takes and gives."""
    direct = sorted(p.name for p in CORE.glob("*.py"))
    assert len(direct) <= 8, direct
    for stage in ("data", "models", "inference", "scale", "metrics", "results", "insight"):
        doc = ast.get_docstring(ast.parse((CORE / stage / "__init__.py").read_text()))
        assert doc and "Takes" in doc and "Gives" in doc, stage


def test_every_module_says_what_it_does_and_stays_small():
    """Check that every module starts with a docstring and has at most 420 lines, and state.py
    (the selection, its checks and the actions that set it) at most 320."""
    missing = [m for m, (p, _) in MODULES.items() if not ast.get_docstring(ast.parse(p.read_text()))]
    long = {m: n for m, (p, _) in MODULES.items() if (n := len(p.read_text().splitlines())) > 420}
    assert missing == [] and long == {}
    assert len((PACKAGE / "state.py").read_text().splitlines()) <= 320


def test_task_code_lives_in_the_result_classes():
    """Check that at most 2 branches on the task's name (``task ==``, ``task in``...) stand outside
    the results classes: what differs per task is a method or attribute of its result class."""
    pattern = re.compile(r"\btask\s*(==|!=|\bin\b|\bnot in\b)")
    branches = [
        f"{p.relative_to(PACKAGE)}:{i}"
        for p in PACKAGE.rglob("*.py")
        if "results" not in p.relative_to(PACKAGE).parts
        for i, line in enumerate(p.read_text().splitlines(), 1)
        if pattern.search(line.split("#")[0])
    ]
    assert len(branches) <= 2, branches


#: A backend's own API for running or differentiating a model: only the seam may call it.
BACKEND_CALLS = {("tf", "function"), ("tf", "GradientTape"), ("tensorflow", "function"), ("jax", "jit")}
BACKEND_CALLS |= {("jax", "grad"), ("jax", "vjp"), ("jax", "value_and_grad"), ("torch", "no_grad")}
BACKEND_CALLS |= {("torch", "autograd"), ("torch", "inference_mode")}


def backend_calls(source: str) -> list[str]:
    """The backend-API uses in ``source``: ``tf.function``, ``tf.GradientTape``, ``jax.jit``,
    ``jax.grad``/``vjp``, ``torch.no_grad``/``autograd``, and any import of jax or torch."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            if (node.value.id, node.attr) in BACKEND_CALLS:
                found.append(f"{node.value.id}.{node.attr} (line {node.lineno})")
        elif isinstance(node, ast.Import):
            found += [
                f"import {a.name} (line {node.lineno})" for a in node.names if a.name.split(".")[0] in ("jax", "torch")
            ]
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] in ("jax", "torch"):
            found.append(f"from {node.module} import ... (line {node.lineno})")
    return found


def test_only_the_backend_seam_calls_a_backends_own_api():
    """Check every module of the package: tf.function, GradientTape, jax.jit/grad, torch appear
    only in core/inference/backend.py (and the walker finds them there, so the check can fail)."""
    seam = CORE / "inference" / "backend.py"
    offenders = {
        str(path.relative_to(PACKAGE)): calls
        for path in PACKAGE.rglob("*.py")
        if path != seam and (calls := backend_calls(path.read_text()))
    }
    assert offenders == {}
    in_seam = " ".join(backend_calls(seam.read_text()))
    for call in ("tf.function", "tf.GradientTape", "jax.jit", "jax.grad", "import torch", "torch.no_grad"):
        assert call in in_seam
    assert backend_calls("import tensorflow as tf\n@tf.function\ndef f(x):\n    return x\n") == ["tf.function (line 2)"]
