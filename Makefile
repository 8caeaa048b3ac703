# clientzone: `make demo` to try it, `make test` to check everything.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed

.PHONY: install demo serve test lint typecheck schema bench clean

$(INSTALLED): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(INSTALLED)

install: $(INSTALLED)

## Migrate the embedded SQLite file, load demo data, print logins, serve GraphiQL.
demo: $(INSTALLED)
	$(BIN)/clientzone demo

serve: $(INSTALLED)
	$(BIN)/clientzone serve

lint: $(INSTALLED)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(INSTALLED)
	$(BIN)/mypy

## Write schema.graphql from the code.
schema: $(INSTALLED)
	$(BIN)/clientzone export-schema -o schema.graphql

## Lint, types, then the suite on SQLite and, when TEST_DATABASE_URL is set, on PostgreSQL.
test: lint typecheck
	env -u TEST_DATABASE_URL $(BIN)/python -m pytest
	@if [ -n "$$TEST_DATABASE_URL" ]; then \
		echo "--- again on PostgreSQL ($$TEST_DATABASE_URL)"; \
		$(BIN)/python -m pytest; \
	else \
		echo "--- TEST_DATABASE_URL not set: PostgreSQL run skipped"; \
	fi

bench: $(INSTALLED)
	$(BIN)/python bench/graphql_load.py

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
