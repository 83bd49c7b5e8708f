# Two commands a new user needs: `make serve` and `make test`. Both set everything up first.
# The first interpreter that really runs and is 3.11 or 3.12 (pyenv shims may exist without working).
PYTHON ?= $(shell for p in python3.11 python3.12 python3; do \
	$$p -c 'import sys; sys.exit(not (3, 11) <= sys.version_info[:2] < (3, 13))' 2>/dev/null && { echo $$p; break; }; done)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup postgres chromium serve test lint typecheck bench clean

setup: $(STAMP)

$(STAMP): pyproject.toml setup.py cds/fhir/_nesting.c
	@test -n "$(PYTHON)" || { echo "Python 3.11 or 3.12 is needed (durable-rules does not build on 3.13); set PYTHON=..."; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

# The tests start a throw-away PostgreSQL server (tests/postgres_server.py); CI is a fresh machine.
postgres:
	@command -v initdb >/dev/null || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || \
	  { test "$$(id -u)" = 0 || { echo "PostgreSQL is needed for the tests: apt-get install postgresql"; exit 1; }; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; }

# The shadow report's HTML page is checked in headless Chromium (tests/shadow/test_shadow_page.py).
chromium:
	@command -v chromium >/dev/null || \
	  { test "$$(id -u)" = 0 || { echo "Chromium is needed for the tests: apt-get install chromium"; exit 1; }; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

serve: setup
	$(BIN)/cds serve --no-auth

lint: setup
	$(BIN)/ruff check cds tests
	$(BIN)/ruff format --check cds tests

typecheck: setup
	$(BIN)/mypy

test: lint typecheck postgres chromium
	$(BIN)/pytest

bench: setup
	$(BIN)/cds bench

clean:
	rm -rf $(VENV) var .mypy_cache .ruff_cache .pytest_cache
