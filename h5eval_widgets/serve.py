"""Serve the dashboard as a standalone page with Voila on 127.0.0.1."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Sequence

__all__ = ["dashboard_notebook", "free_port", "VoilaServer"]


def dashboard_notebook(
    models: dict | None,
    datasets: dict | None,
    *,
    demo: bool = False,
    trust_code: bool = False,
    dataset_options: dict | None = None,
    predictions: dict | None = None,
    scheduler: str | None = None,
) -> dict:
    """A one-cell notebook (nbformat 4 JSON) that shows the dashboard.

    ``predictions``: keyword arguments of ``Evaluation.from_predictions_file`` (with
    ``path_or_glob``, and ``data`` for the test set), for predictions made elsewhere.
    ``scheduler``: the address of a Dask scheduler (``tcp://host:8786``) the dashboard runs
    inference on (``Dashboard(..., client=Client(scheduler))``).
    """
    if predictions is not None:
        kwargs = ", ".join(f"{k}={v!r}" for k, v in predictions.items())
        code = (
            "from h5eval_widgets import Dashboard, Evaluation\n"
            f"result = Evaluation.from_predictions_file({kwargs})\n"
            "ev, data = result if isinstance(result, tuple) else (result, None)\n"
            "dashboard = Dashboard.from_evaluations({ev.model_name: ev}, "
            "None if data is None else {ev.dataset_name: data}, progress=False)\ndashboard"
        )
    elif demo:
        code = "from h5eval_widgets import demo_dashboard\ndashboard = demo_dashboard(progress=False)\ndashboard"
    else:
        cluster = (f"from distributed import Client\nclient = Client({scheduler!r})\n") if scheduler else ""
        code = (
            "from h5eval_widgets import Dashboard\n"
            + cluster
            + f"dashboard = Dashboard(models={json.dumps(models)}, datasets={json.dumps(datasets)}, "
            f"progress=False, trust_code={bool(trust_code)}, "
            f"dataset_options={json.dumps(dataset_options or {})}"
            f"{', client=client' if scheduler else ''})\ndashboard"
        )
    return {
        "cells": [
            {
                "cell_type": "code",
                "execution_count": None,
                "id": "dashboard",
                "metadata": {},
                "outputs": [],
                "source": code,
            }
        ],
        "metadata": {
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python"},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


#: JupyterLab extensions Voila is told not to load in the dashboard's page: Notebook 7's and
#: jupytext's (which mkdocs-jupyter brings) fail to load there ("getter for the shared module
#: is not a function", a console error) and add nothing to a dashboard.
VOILA_SKIPPED_EXTENSIONS = ("@jupyter-notebook/lab-extension", "jupyterlab-jupytext")
#: The Voila template the page is rendered with, found in this package's Jupyter data folder
#: (``jupyter/voila/templates/h5eval``): Voila's lab template without CDN stylesheets.
VOILA_TEMPLATE = "h5eval"
JUPYTER_DATA = Path(__file__).resolve().parent / "jupyter"


class VoilaServer:
    """A Voila process serving one notebook on 127.0.0.1; a context manager that stops it.

    Parameters
    ----------
    notebook : dict
        The notebook to serve (written to a private temporary folder, not next to user files).
    port : int, default=None
        A free port is chosen when None.
    """

    def __init__(self, notebook: dict, *, port: int | None = None):
        self.port = port or free_port()
        self._dir = tempfile.TemporaryDirectory(prefix="h5eval-voila-")
        self.path = Path(self._dir.name) / "h5eval_dashboard.ipynb"
        self.path.write_text(json.dumps(notebook), encoding="utf-8")
        self.proc: subprocess.Popen | None = None
        self.log = Path(self._dir.name) / "voila.log"
        self.runtime_dir = Path(self._dir.name) / "runtime"
        self.folder = Path(self._dir.name)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def start(self, timeout: float = 60.0) -> "VoilaServer":
        cmd = [
            sys.executable,
            "-m",
            "voila",
            str(self.path),
            "--no-browser",
            f"--port={self.port}",
            "--Voila.ip=127.0.0.1",
            "--VoilaConfiguration.show_tracebacks=True",
            # Notebook 7's JupyterLab extension, where installed, fails to load in Voila's page
            # (a console error, "getter for the shared module is not a function") and adds
            # nothing to a dashboard
            f"--VoilaConfiguration.extension_denylist={json.dumps(list(VOILA_SKIPPED_EXTENSIONS))}",
            # Voila's lab template without its Font Awesome links to a CDN (the icons come with
            # Voila's own bundle): the page asks nothing of the internet
            f"--template={VOILA_TEMPLATE}",
        ]
        # kernels' connection files go to the private folder, so a leftover kernel is findable
        env = dict(
            os.environ,
            TF_CPP_MIN_LOG_LEVEL="3",
            JUPYTER_RUNTIME_DIR=str(self.runtime_dir),
            JUPYTER_PATH=os.pathsep.join(filter(None, [str(JUPYTER_DATA), os.environ.get("JUPYTER_PATH")])),
        )
        self._log_fh = open(self.log, "wb")
        self.proc = subprocess.Popen(cmd, stdout=self._log_fh, stderr=subprocess.STDOUT, cwd=self._dir.name, env=env)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"voila exited early:\n{self.log.read_text()[-3000:]}")
            try:
                # any HTTP answer (even 404) means the server is up; rendering "/" would
                # start a kernel, so probe a path that does not
                with urllib.request.urlopen(self.url + "h5eval-ping", timeout=2):
                    return self
            except urllib.error.HTTPError:
                return self
            except OSError:
                time.sleep(0.3)
        self.stop()
        raise TimeoutError(f"voila did not answer on {self.url} within {timeout:.0f} s")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if getattr(self, "_log_fh", None):
            self._log_fh.close()
        self._dir.cleanup()

    def __enter__(self) -> "VoilaServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def _by_name(paths: Sequence[str]) -> dict:
    """Absolute paths keyed by the name shown in the dropdowns (file stem, or folder name);
    fsspec URLs (``s3://bucket/test/``) as they are, named by their last part."""
    out = {}
    for p in paths:
        if "://" in str(p):
            stem = str(p).rstrip("/").rsplit("/", 1)[-1]
            out[stem.split(".")[0] if "." in stem and "*" not in stem else stem] = str(p)
        else:
            out[Path(p).name if Path(p).is_dir() else Path(p).stem] = str(Path(p).resolve())
    return out


def serve(
    models: Sequence[str],
    datasets: Sequence[str],
    *,
    demo: bool,
    port: int | None,
    trust_code: bool,
    dataset_options: dict | None = None,
    predictions: dict | None = None,
    scheduler: str | None = None,
) -> int:
    """Run the server in the foreground until interrupted (the ``h5eval dashboard`` command;
    ``predictions`` and ``scheduler`` as in :func:`dashboard_notebook`)."""
    if predictions is not None:
        nb = dashboard_notebook(None, None, predictions=predictions)
    elif demo:
        nb = dashboard_notebook(None, None, demo=True)
    else:
        nb = dashboard_notebook(
            _by_name(models),
            _by_name(datasets),
            trust_code=trust_code,
            dataset_options=dataset_options,
            scheduler=scheduler,
        )

    def interrupted(signum, frame):
        raise KeyboardInterrupt

    # `kill` or a closed terminal stops the server and its kernel as Ctrl-C does
    for name in ("SIGTERM", "SIGHUP"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), interrupted)
    server = VoilaServer(nb, port=port)
    try:  # the print too: a signal right after it (as soon as the URL is read) is caught here
        server.start()
        print(f"h5eval dashboard: serving on {server.url}  (Ctrl-C to stop)", flush=True)
        while server.proc.poll() is None:
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0
