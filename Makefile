# Two entry points for a fresh machine: `make demo` and `make test` (see README.md).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: demo test lint typecheck bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.runtime: $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install -q -e .
	touch $@

# the tests install the optional plottr extra too: tests/test_plottr.py opens a run with it
$(VENV)/.dev: $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install -q -e ".[dev,plottr]"
	touch $(VENV)/.runtime $@

demo: $(VENV)/.runtime
	$(BIN)/labctl demo

test: $(VENV)/.dev
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest -q

# The fast checks first; then the type check (about a minute).
lint: $(VENV)/.dev
	$(BIN)/ruff check . && $(BIN)/ruff format --check . && $(BIN)/lint-imports
	$(MAKE) --no-print-directory typecheck

# Protocols against the role contracts (run.station.gate is a GateSource): pyright, standard
# mode, configured in pyproject.toml (also run by tests/test_typecheck.py).
typecheck: $(VENV)/.dev
	$(BIN)/pyright

bench: $(VENV)/.dev
	$(BIN)/python scripts/bench_all.py

clean:
	rm -rf $(VENV) labdata
