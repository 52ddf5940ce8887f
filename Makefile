# `make run` and `make test` bootstrap .venv on a fresh machine, then do their job.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: run test lint check bench demo clean system-packages

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/python -m bot

check: $(STAMP)
	$(BIN)/python -m bot check

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# PostgreSQL and Chromium for the tests that start a real one (installed when root with apt).
system-packages:
	@bash tools/system-packages.sh

test: system-packages lint
	$(BIN)/pytest

# Benchmarks print tables and write bench/results/*.json; never part of `make test`.
bench: $(STAMP)
	$(BIN)/python -m bench

demo: $(STAMP)
	$(BIN)/python -m demo

clean:
	rm -rf $(VENV) build *.egg-info
