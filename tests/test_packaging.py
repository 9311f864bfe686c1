"""The package as users get it: the built wheel installs into a fresh virtual environment outside
the source tree and `h5eval report --demo` runs there (package data and the entry point); the
version is kept in one place; ruff's lint passes; LICENSE and CHANGELOG exist."""

from __future__ import annotations

import os
import re
import shutil
import site
import subprocess
import sys
import tomllib
from pathlib import Path


import h5eval_widgets
from tests.helpers import require

ROOT = Path(__file__).resolve().parent.parent


def test_the_version_lives_in_one_place():
    """Check pyproject's version is dynamic, read from h5eval_widgets.__version__, and the
    changelog and license are there."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "version" not in project["project"] and project["project"]["dynamic"] == ["version"]
    assert project["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "h5eval_widgets.__version__"}
    assert re.fullmatch(r"\d+\.\d+\.\d+", h5eval_widgets.__version__)
    assert "BSD 3-Clause" in (ROOT / "LICENSE").read_text()
    assert "the h5eval-widgets authors" in (ROOT / "LICENSE").read_text()
    assert "Keep a Changelog" in (ROOT / "CHANGELOG.md").read_text()


def test_ruff_lint_passes():
    """Check `ruff check .` with pyproject's rules passes on the whole tree (as make test runs it)."""
    require("ruff")  # the Python package that ships the binary: skipped by hand, failed in CI
    ruff = shutil.which("ruff", path=str(Path(sys.executable).parent)) or shutil.which("ruff")
    assert ruff is not None, "the ruff package is installed but its binary is not on the venv's path"
    out = subprocess.run([ruff, "check", "."], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout[-3000:]


def test_the_wheel_installs_in_a_fresh_venv_and_reports_the_demo(tmp_path):
    """Check the wheel built from this tree, installed with --no-deps into a new venv (whose only
    link to the test environment is its site-packages for the dependencies), gives
    `h5eval report --demo` from a folder outside the source tree, imported from the venv."""
    dist = tmp_path / "dist"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}  # nothing from the source tree
    env.update(H5EVAL_CACHE_DIR=str(tmp_path / "cache"), TF_CPP_MIN_LOG_LEVEL="3")
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(dist)],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    (wheel,) = dist.glob("h5eval_widgets-*.whl")
    assert wheel.name.startswith(f"h5eval_widgets-{h5eval_widgets.__version__}-")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)], check=True)
    py = venv / "bin" / "python"
    venv_site = Path(
        subprocess.run(
            [py, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    )
    subprocess.run(
        [py, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index", str(wheel)],
        check=True,
        capture_output=True,
        cwd=tmp_path,
        env=env,
    )
    assert list(venv_site.glob("h5eval_widgets-*.dist-info"))
    # then the dependencies from this environment's site-packages, after the venv's own (added
    # after installing, or pip would find the test environment's copy and install nothing)
    (venv_site / "zz_test_env.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    where = subprocess.run(
        [py, "-c", "import h5eval_widgets as h; print(h.__file__)"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert Path(where).is_relative_to(venv), where
    out = subprocess.run(
        [venv / "bin" / "h5eval", "report", "--demo", "-q"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    for name in ("digits_cnn", "digits_weak_mlp", "breast_cancer_mlp", "diabetes_mlp"):
        assert f"h5eval report: {name} on " in out.stdout
    template = Path(where).parent / "jupyter" / "voila" / "templates" / "h5eval" / "index.html.j2"
    assert template.exists()
