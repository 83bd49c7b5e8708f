# Two commands a new user needs: `make serve` and `make test`. Both set everything up first.
# The first interpreter that really runs and is 3.11 or 3.12 (pyenv shims may exist without working).
PYTHON ?= $(shell for p in python3.11 python3.12 python3; do \
	$$p -c 'import sys; sys.exit(not (3, 11) <= sys.version_info[:2] < (3, 13))' 2>/dev/null && { echo $$p; break; }; done)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup serve test lint typecheck bench clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	@test -n "$(PYTHON)" || { echo "Python 3.11 or 3.12 is needed (durable-rules does not build on 3.13); set PYTHON=..."; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

serve: setup
	$(BIN)/cds serve --no-auth

lint: setup
	$(BIN)/ruff check cds tests
	$(BIN)/ruff format --check cds tests

typecheck: setup
	$(BIN)/mypy

test: lint typecheck
	$(BIN)/pytest

bench: setup
	$(BIN)/cds bench

clean:
	rm -rf $(VENV) var .mypy_cache .ruff_cache .pytest_cache
