# Two commands do all set-up on a fresh machine with Python 3.11+:
#   make run    creates .venv, installs pinned dependencies, migrates the database, runs one pass
#   make test   the same set-up, then lint, import contracts, type checks, migration drift check and the tests
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test lint typecheck migrations-check bench clean

$(STAMP): requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip   # the machine's pip 23 cannot resolve lxml[html-clean]
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/mediamon db upgrade
	$(BIN)/mediamon run --once

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports   # the one-way import contracts in pyproject.toml

typecheck: $(STAMP)
	$(BIN)/mypy

migrations-check: $(STAMP)
	rm -f .migrations-check.db
	MEDIAMON_DATABASE_URL=sqlite:///.migrations-check.db $(BIN)/alembic upgrade head
	MEDIAMON_DATABASE_URL=sqlite:///.migrations-check.db $(BIN)/alembic check
	rm -f .migrations-check.db

test: lint typecheck migrations-check
	$(BIN)/pytest -n 2 --dist loadgroup

bench: $(STAMP)
	$(BIN)/python -m bench.pipeline
	$(BIN)/python -m bench.matching

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
