# The two set-up commands of the README: `make demo` and `make test`.
# Each creates .venv (again when pyproject.toml changes), installs the package with its test
# extra, then runs the job. `make test` also installs Debian's chromium for the browser tests,
# and runs the tests marked `backends` a second time on Keras's JAX backend (docs/backends.md).
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: demo test test-jax test-torch lint docs report chromium clean-venv

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $@

# The main job: the report of the bundled demo, then its dashboard served on 127.0.0.1.
demo: $(VENV)/.installed
	$(VENV)/bin/h5eval report --demo --quiet
	$(VENV)/bin/h5eval dashboard --demo

report: $(VENV)/.installed
	$(VENV)/bin/h5eval report --demo --quiet

# Debian's chromium for the end-to-end tests (installed when missing and we are root).
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else \
	    echo "chromium is missing: run 'sudo apt-get install chromium' for the browser tests"; \
	  fi; }

# Lint and format check (ruff's rules and line length are in pyproject.toml), then the whole suite.
# `ruff format .` formats the code as the check wants it.
lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

test: $(VENV)/.installed chromium lint
	$(PY) -m pytest -q
	$(MAKE) --no-print-directory test-jax

# The marked subset on JAX, each case compared with the TensorFlow backend's numbers.
test-jax: $(VENV)/.installed
	KERAS_BACKEND=jax $(PY) -m pytest -q -m backends

# The same subset on PyTorch, in a venv of its own (PyTorch is large, so not in `make test`).
# TORCH names the wheel: torch==2.13.0 is the CPU build on this project's machines; elsewhere
# use e.g. TORCH='torch --index-url https://download.pytorch.org/whl/cpu'.
TORCH_VENV ?= .venv-torch
TORCH ?= torch==2.13.0
$(TORCH_VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(TORCH_VENV)
	$(TORCH_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -e '.[test]' $(TORCH)
	touch $@

test-torch: $(TORCH_VENV)/.installed chromium
	KERAS_BACKEND=torch $(TORCH_VENV)/bin/python -m pytest -q -m backends

# The docs site (mkdocs.yml), with --strict: a broken reference or link fails the build.
docs: $(VENV)/.installed
	$(VENV)/bin/mkdocs build --strict --site-dir site

clean-venv:
	rm -rf $(VENV) $(TORCH_VENV)
