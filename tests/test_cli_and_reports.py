"""The h5eval command line, the bundled demo and the reports."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys

import numpy as np
import pytest
from sklearn import metrics as skm

from h5eval_widgets.cli import main
from tests.helpers import digests, readline_within, run_dashboard_cell, wait_until_no_process_mentions


def test_demo_models_are_real_h5_files_with_their_test_splits(demo):
    """Check the bundled demo: four .h5 models, three test splits, expected tasks and quality."""
    assert set(demo.models) == {"digits_cnn", "digits_weak_mlp", "breast_cancer_mlp", "diabetes_mlp"}
    for path in demo.models.values():
        assert path.suffix == ".h5" and path.read_bytes()[:8] == b"\x89HDF\r\n\x1a\n"
    cnn = demo.evaluate("digits_cnn", progress=False)
    weak = demo.evaluate("digits_weak_mlp", progress=False)
    assert cnn.task == "multiclass" and cnn.n_classes == 10
    assert cnn.scores["accuracy"] > weak.scores["accuracy"] + 0.1
    bc = demo.evaluate("breast_cancer_mlp", progress=False)
    assert bc.task == "binary" and bc.classes == ("benign", "malignant")
    reg = demo.evaluate("diabetes_mlp", progress=False)
    assert reg.task == "regression"
    y = demo.dataset("digits_test").y
    assert cnn.scores["f1_macro"] == pytest.approx(skm.f1_score(y, cnn.y_pred, average="macro"))


def test_cli_report_on_model_and_data_prints_the_metrics(tmp_path, capsys, demo):
    """Check `h5eval report MODEL DATA` prints accuracy equal to scikit-learn's, leaving the files as they were."""
    model, data = demo.models["breast_cancer_mlp"], demo.datasets["breast_cancer_test"]
    before = digests([model, data])
    assert main(["report", str(model), str(data), "-q"]) == 0
    out = capsys.readouterr().out
    ev = demo.evaluate("breast_cancer_mlp", progress=False)
    y = demo.dataset("breast_cancer_test").y
    acc = skm.accuracy_score(y, ev.y_pred)
    assert f"accuracy            {acc:.4f}" in out
    assert "Confusion matrix" in out and "malignant" in out
    assert digests([model, data]) == before


def test_cli_json_and_html_outputs(tmp_path, demo):
    """Check --format json parses with the metrics and --format html -o writes a standalone page."""
    model, data = demo.models["digits_cnn"], demo.datasets["digits_test"]
    out = subprocess.run(
        [sys.executable, "-m", "h5eval_widgets.cli", "report", str(model), str(data), "--format", "json", "-q"],
        capture_output=True,
        text=True,
        check=True,
    )
    d = json.loads(out.stdout)
    assert d["task"] == "multiclass" and len(d["confusion_matrix"]) == 10
    assert 0.9 < d["metrics"]["accuracy"] <= 1
    target = tmp_path / "r.html"
    assert main(["report", str(model), str(data), "--format", "html", "-o", str(target), "-q"]) == 0
    page = target.read_text()
    assert page.startswith("<!DOCTYPE html>") and "<script src" not in page and "<link" not in page
    assert "Confusion matrix" in page and "bootstrap" in page


def test_cli_report_demo_covers_every_demo_model(capsys):
    """Check `h5eval report --demo` reports all four demo models."""
    assert main(["report", "--demo", "-q"]) == 0
    out = capsys.readouterr().out
    for name in ("digits_cnn", "digits_weak_mlp", "breast_cancer_mlp", "diabetes_mlp"):
        assert f"h5eval report: {name} on " in out
    assert "rmse" in out


def test_cli_errors_are_one_clear_line(tmp_path, capsys, demo):
    """Check that a bad path ends with exit code 1 and a one-line message, not a traceback."""
    assert main(["report", str(tmp_path / "missing.h5"), str(demo.datasets["digits_test"]), "-q"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("h5eval: error: Model path") and "Traceback" not in err


def test_outputs_of_an_evaluation(demo):
    """Check metrics()/per_class() DataFrames, to_dict/to_json, _repr_html_ and the text report agree."""
    ev = demo.evaluate("digits_weak_mlp", progress=False)
    m = ev.metrics()
    assert list(m.columns) == ["value"] and m.loc["accuracy", "value"] == ev.scores["accuracy"]
    pc = ev.per_class()
    assert list(pc.index) == [str(i) for i in range(10)]
    assert pc["support"].sum() == ev.n_samples
    d = json.loads(ev.to_json())
    assert d["metrics"]["accuracy"] == pytest.approx(ev.scores["accuracy"])
    assert np.array(d["confusion_matrix"]).sum() == ev.n_samples
    assert "<table>" in ev._repr_html_()
    assert "Per class" in ev.to_text()
    assert "digits_weak_mlp" in repr(ev)


def test_dashboard_command_notebook_names_the_given_files(tmp_path, demo):
    """Check the page `h5eval dashboard MODEL --data DATA` serves: its cell builds that dashboard."""
    from h5eval_widgets.serve import _by_name, dashboard_notebook

    model, data = demo.models["digits_cnn"], demo.datasets["digits_test"]
    dash = run_dashboard_cell(dashboard_notebook(_by_name([str(model)]), _by_name([str(data)])))
    assert dash.state.model_names == ["digits_cnn"] and dash.state.dataset_names == ["digits_test"]
    assert dash.state.evaluation.n_samples == 719


def test_dashboard_command_refuses_missing_paths(tmp_path, capsys):
    """Check that `h5eval dashboard` with a missing file stops with a one-line error."""
    assert main(["dashboard", str(tmp_path / "nope.h5"), "--data", str(tmp_path / "x.npz")]) == 1
    assert "does not exist" in capsys.readouterr().err


def test_dashboard_command_stopped_by_sigterm_leaves_no_server_or_kernel():
    """Check that `kill` on `h5eval dashboard --demo` stops Voila and its kernel, as Ctrl-C does."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "h5eval_widgets.cli", "dashboard", "--demo"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        line = readline_within(proc.stdout, 120, what="the 'serving on' line of h5eval dashboard --demo")
        port = re.search(r"127\.0\.0\.1:(\d+)", line).group(1)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 0
    finally:
        proc.kill()
    wait_until_no_process_mentions(f"--port={port}", owner="server or kernel")
