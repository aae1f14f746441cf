# Developer entry points. A fresh machine needs only Python 3.11+ and make: the first target run
# creates .venv (python -m venv), installs uv into it from PyPI with pip, then installs the locked
# dependencies with `uv sync --frozen`. Later runs reuse .venv until pyproject.toml or uv.lock change.
#
#   make run     the main job on the embedded sample set (data/sample -> data/)
#   make test    the test suite (what CI runs)
#   make lint    ruff
#   make bench   the extraction benchmark (results in data/bench/)

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c

PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3 2>/dev/null)
VENV := .venv
UV_VERSION ?= 0.13.8
UV := $(VENV)/bin/uv
STAMP := $(VENV)/.synced
# `make test PYTEST_ARGS="-x -k flows"`, `make run XXGK_ARGS="--data-dir /tmp/x"`
PYTEST_ARGS ?=
XXGK_ARGS ?=

export UV_PROJECT_ENVIRONMENT := $(VENV)
export UV_PYTHON_DOWNLOADS := never
# No usage telemetry from Prefect (flows/settings.py sets the rest of its defaults).
export DO_NOT_TRACK := 1

.PHONY: run test lint bench setup clean help

help:
	@sed -n '1,9p' Makefile | sed 's/^# \{0,1\}//'

$(UV):
	@test -n "$(PYTHON)" || { echo "error: python3.11 (or python3 >= 3.11) not found on PATH" >&2; exit 1; }
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "error: Python >= 3.11 needed, found " + sys.version.split()[0])'
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip --version >/dev/null 2>&1 || $(VENV)/bin/python -m ensurepip --default-pip >/dev/null
	$(VENV)/bin/python -m pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"

# uv keeps itself and pip in the environment it syncs, so .venv/bin/uv survives `uv sync`.
$(STAMP): pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen
	@touch $@

setup: $(STAMP)

run: $(STAMP)
	$(VENV)/bin/xxgk run $(XXGK_ARGS)

# Test files run in parallel (one per worker at a time: the end-to-end Prefect tests of a file share
# one API server); measured on 2 cores: 58 s vs 88 s for plain pytest.
test: $(STAMP)
	$(VENV)/bin/python -m pytest -q -n auto --dist loadfile $(PYTEST_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check .

bench: $(STAMP)
	$(VENV)/bin/xxgk bench

clean:
	rm -rf $(VENV) data/warehouse data/validation data/staging data/archive data/.prefect
