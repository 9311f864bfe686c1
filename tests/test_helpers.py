"""The shared test helpers themselves: a missing test dependency skips its tests on a developer's
machine but fails them under CI; reading a process's output gives up at a deadline."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from tests.helpers import readline_within, require


@pytest.mark.parametrize("ci", ["true", "1"])
def test_a_missing_dependency_fails_under_ci(monkeypatch, ci):
    """Check that require() of a module that is not installed fails (not skips) when CI is set."""
    monkeypatch.setenv("CI", ci)
    with pytest.raises(pytest.fail.Exception, match="CI needs no_such_module_h5eval"):
        require("no_such_module_h5eval")


@pytest.mark.parametrize("ci", [None, "", "false"])
def test_a_missing_dependency_skips_outside_ci(monkeypatch, ci):
    """Check that require() of a module that is not installed skips when CI is unset or false."""
    if ci is None:
        monkeypatch.delenv("CI", raising=False)
    else:
        monkeypatch.setenv("CI", ci)
    with pytest.raises(pytest.skip.Exception, match="no_such_module_h5eval is not installed"):
        require("no_such_module_h5eval")


def test_an_installed_dependency_is_returned():
    """Check that require() gives the imported module itself."""
    import json

    assert require("json") is json


def test_readline_within_gives_the_line_or_fails_at_the_deadline():
    """Check that a printed line is returned, and that a silent process fails the read after the
    timeout instead of hanging."""
    code = "import sys, time; print('serving on 127.0.0.1:1', flush=True); time.sleep(30)"
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert readline_within(proc.stdout, 30) == "serving on 127.0.0.1:1\n"
        t0 = time.monotonic()
        with pytest.raises(pytest.fail.Exception, match="gave up after 0.5 s waiting for the second line"):
            readline_within(proc.stdout, 0.5, what="the second line")
        assert time.monotonic() - t0 < 5
    finally:
        proc.kill()
        proc.wait()
