# Two commands do everything: `make run` and `make test` (see README.md).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# `make run` installs what running needs; `make test` adds the test and lint tools.
RUN_STAMP := $(VENV)/.installed-run
DEV_STAMP := $(VENV)/.installed-dev
# Where scripts/with-postgres finds a PostgreSQL server to start for the tests.
POSTGRES_INITDB ?= /usr/lib/postgresql/*/bin/initdb

.PHONY: run test suite lint check clean bench bench-quick

$(RUN_STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e .
	$(BIN)/python -m compileall -q bot handlers models
	touch $(RUN_STAMP)

$(DEV_STAMP): $(RUN_STAMP)
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(DEV_STAMP)

run: $(RUN_STAMP)
	$(BIN)/wishbot migrate
	$(BIN)/wishbot run

# The suite runs on SQLite always, and again on PostgreSQL when WISHBOT_TEST_POSTGRES_URL
# names a server; with none named but PostgreSQL installed, scripts/with-postgres starts a
# throwaway one. Tests that need what is missing (Chromium, PostgreSQL) are skipped with one
# line each saying how to run them; WISHBOT_TEST_REQUIRE_ALL=1 (.ci/run) makes those failures.
test: $(DEV_STAMP) lint
	@if [ -z "$$WISHBOT_TEST_POSTGRES_URL" ] && ls $(POSTGRES_INITDB) >/dev/null 2>&1; then \
		exec scripts/with-postgres $(MAKE) --no-print-directory suite; \
	else \
		exec $(MAKE) --no-print-directory suite; \
	fi

suite: $(DEV_STAMP)
	$(BIN)/pytest -q
	@if [ -n "$$WISHBOT_TEST_POSTGRES_URL" ]; then \
		echo "== the same suite on PostgreSQL =="; \
		WISHBOT_TEST_DATABASE_URL="$$WISHBOT_TEST_POSTGRES_URL" $(BIN)/pytest -q; \
	elif [ -n "$$WISHBOT_TEST_REQUIRE_ALL" ]; then \
		echo "WISHBOT_TEST_REQUIRE_ALL is set but no PostgreSQL: install postgresql (apt-get install postgresql) or set WISHBOT_TEST_POSTGRES_URL" >&2; \
		exit 1; \
	else \
		echo "SKIPPED the suite on PostgreSQL: no server (apt-get install postgresql and make test runs it, or set WISHBOT_TEST_POSTGRES_URL)"; \
	fi

# Small sizes of every benchmark scenario; fails on a lost or doubled reply or a broken
# invariant (timings are printed, never asserted). PostgreSQL too when WISHBOT_TEST_POSTGRES_URL is set.
bench-quick: $(DEV_STAMP)
	$(BIN)/python -m bench --quick

# The full benchmark (SQLite and PostgreSQL: about 11 minutes on an idle 2-core machine,
# 22 on a shared one); writes docs/BENCHMARKS.md.
# scripts/with-postgres make bench runs it on PostgreSQL as well.
bench: $(DEV_STAMP)
	$(BIN)/python -m bench --write docs/BENCHMARKS.md

lint: $(DEV_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

clean:
	rm -rf $(VENV) data
