# Everything runs from a project-local virtualenv built from pyproject.toml, so a fresh clone needs
# nothing but python3 (3.10+).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup demo test lint typecheck unit sandbox clean browser bench

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

# tests/sandbox/test_dashboard.py drives headless Chromium: the Debian packages, installed once (sudo when not root).
browser:
	@test -x /usr/bin/chromium && test -x /usr/bin/chromedriver || { \
	  sudo=$$(test "$$(id -u)" -eq 0 || echo sudo); \
	  $$sudo apt-get update -qq && \
	  $$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver; }

unit: $(STAMP) browser
	$(BIN)/python -m pytest -q

test: lint typecheck unit

demo: $(STAMP)
	$(BIN)/python examples/demo.py

bench: $(STAMP)
	$(BIN)/python -m benchmarks

sandbox: $(STAMP)
	$(BIN)/pulumi-webhooks sandbox

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
