# llmarch developer tasks. `make test` is the one command a newcomer (and CI) runs.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: install test parity lint docs bench startup clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

install: $(BIN)/python
	$(BIN)/pip install -q -e .

# Installs the test dependencies and runs every test (the parity tier skips without torch).
test: $(BIN)/python
	$(BIN)/pip install -q -e '.[test]'
	$(BIN)/ruff check llmarch_cli tests bench
	$(BIN)/pytest

# The parity tier: torch's CPU wheel first, pinned, so nothing pulls a CUDA build.
parity: $(BIN)/python
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e '.[test,parity]'
	$(BIN)/pytest -m parity

lint: $(BIN)/python
	$(BIN)/pip install -q -e '.[test]'
	$(BIN)/ruff check llmarch_cli tests bench

# Rewrites the documented output of every example in README.md and docs/ that changed
# (tests/test_docs.py fails until the docs show what the examples print).
docs: install
	$(BIN)/python tests/doc_examples.py

bench: install
	$(BIN)/python bench/run.py

startup: install
	$(BIN)/python -X importtime -m llmarch_cli --version 2>&1 | sort -t'|' -k2 -n | tail -20

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache
