"""A missing test dependency skips its tests on a developer's machine but fails them under CI."""

from __future__ import annotations

import pytest

from tests.helpers import require


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
