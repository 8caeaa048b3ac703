# clientzone: `make demo` to try it, `make test` to check everything.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed

.PHONY: install demo serve test browser lint typecheck schema bench fuzz clean explorer-assets

$(INSTALLED): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(INSTALLED)

install: $(INSTALLED)

## Migrate the embedded SQLite file, load demo data, print logins, serve the explorer
## (`make demo PORT=8001` for another port; `make demo INVITATION_ONLY=1` with sign-up off).
demo: $(INSTALLED)
	$(BIN)/clientzone demo --port $(or $(PORT),8000) $(if $(INVITATION_ONLY),--invitation-only)

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
## Both database runs always run; the target fails if either does.
test: lint typecheck browser
	@sqlite=0; postgres=0; \
	env -u TEST_DATABASE_URL $(BIN)/python -m pytest || sqlite=$$?; \
	if [ -n "$$TEST_DATABASE_URL" ]; then \
		echo "--- again on PostgreSQL ($$TEST_DATABASE_URL)"; \
		$(BIN)/python -m pytest || postgres=$$?; \
	else \
		echo "--- TEST_DATABASE_URL not set: PostgreSQL run skipped"; \
	fi; \
	echo "--- SQLite: $$([ $$sqlite = 0 ] && echo passed || echo FAILED)$$([ -n "$$TEST_DATABASE_URL" ] && { [ $$postgres = 0 ] && echo ', PostgreSQL: passed' || echo ', PostgreSQL: FAILED'; })"; \
	[ $$sqlite = 0 ] && [ $$postgres = 0 ]

## The browser tests drive Debian's Chromium (Playwright cannot download one here).
browser:
	@if [ ! -x /usr/bin/chromium ]; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			echo "installing Chromium for the browser tests"; \
			{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } \
			|| { echo "could not install chromium: the browser tests need /usr/bin/chromium (apt-get install chromium)" >&2; exit 1; }; \
		else \
			echo "the browser tests need /usr/bin/chromium: run 'sudo apt-get install chromium'" >&2; exit 1; \
		fi; \
	fi

## Generated inputs over every operation, longer than in `make test` (no INTERNAL, no 5xx).
fuzz: $(INSTALLED)
	GENERATED_EXAMPLES=500 GENERATED_RANDOM=1 $(BIN)/python -m pytest -q tests/test_generated_inputs.py

## Build the explorer page's bundle (GraphiQL, React, fonts) into the package, from
## explorer/package-lock.json. The result is committed: installing needs no Node.
explorer-assets:
	cd explorer && npm ci --no-audit --no-fund && node build.mjs

bench: $(INSTALLED)
	$(BIN)/python bench/graphql_load.py

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
