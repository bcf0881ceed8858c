# Everything runs from a project-local virtualenv built from pyproject.toml, so a fresh clone needs
# nothing but python3 (3.10+).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup bytecode demo test lint typecheck unit sandbox clean browser bench

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)

# pip compiles what it installs, but this package is installed editable, and where the environment sets
# PYTHONDONTWRITEBYTECODE (CI machines do) every provider host would compile it from source again: ~25 ms of
# CPU per process, hundreds of processes in the tests. Compile it once, as a wheel install would (compileall
# skips what is up to date; Python reads the bytecode whatever PYTHONDONTWRITEBYTECODE says).
bytecode: $(STAMP)
	@$(BIN)/python -m compileall -q pulumi_webhooks tests benchmarks examples

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

# tests/sandbox/test_dashboard.py drives headless Chromium: Debian's chromium and chromium-driver (about 130
# packages with their dependencies), installed once with apt-get (sudo when not root). Where they cannot be
# installed the suite still runs, and the dashboard's browser tests fail quoting apt-get's answer (BROWSER_LOG).
BROWSER_LOG := .browser-install.log
browser:
	@test -x /usr/bin/chromium && test -x /usr/bin/chromedriver || { \
	  echo "make browser: installing Debian's chromium and chromium-driver with apt-get (for the dashboard test)"; \
	  sudo=$$(test "$$(id -u)" -eq 0 || echo sudo); \
	  { $$sudo apt-get update -qq && \
	    $$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver; } \
	    >$(BROWSER_LOG) 2>&1 && rm -f $(BROWSER_LOG) || \
	  echo "make browser: could not install them (see $(BROWSER_LOG)): tests/sandbox/test_dashboard.py will fail"; }

# Four workers on two cores: the tests mostly wait (on provider hosts starting, on the sandbox's latency
# and pacing), so two per core finish sooner than one. A module's tests stay on one worker (they share
# module-scoped fixtures).
unit: bytecode browser
	$(BIN)/python -m pytest -q -n 4 --dist loadfile

# lint and typecheck run beside the tests (-O: each one's output printed whole when it ends).
test: $(STAMP)
	@$(MAKE) --no-print-directory -j 3 -O lint typecheck unit

# `make demo EXAMPLE=shopline` runs examples/shopline instead (any folder of examples/ with a __main__.py).
EXAMPLE ?= all-platforms
demo: bytecode
	$(BIN)/python examples/demo.py $(EXAMPLE)

bench: bytecode
	$(BIN)/python -m benchmarks

sandbox: bytecode
	$(BIN)/pulumi-webhooks sandbox

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache $(BROWSER_LOG)
	find pulumi_webhooks tests benchmarks examples -name __pycache__ -type d -prune -exec rm -rf {} +
