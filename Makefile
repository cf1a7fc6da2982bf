# Two commands do everything: `make run` and `make test` (see README.md).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint check clean bench bench-quick

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/wishbot migrate
	$(BIN)/wishbot run

# The suite runs on SQLite always, and again on PostgreSQL when
# WISHBOT_TEST_POSTGRES_URL names a server (scripts/with-postgres starts one).
test: $(STAMP) lint
	$(BIN)/pytest -q
	@if [ -n "$$WISHBOT_TEST_POSTGRES_URL" ]; then \
		echo "== the same suite on PostgreSQL =="; \
		WISHBOT_TEST_DATABASE_URL="$$WISHBOT_TEST_POSTGRES_URL" $(BIN)/pytest -q; \
	else \
		echo "WISHBOT_TEST_POSTGRES_URL is not set: PostgreSQL run skipped (scripts/with-postgres make test runs it)"; \
	fi

# Small sizes of every benchmark scenario; fails on a lost or doubled reply or a broken
# invariant (timings are printed, never asserted). PostgreSQL too when WISHBOT_TEST_POSTGRES_URL is set.
bench-quick: $(STAMP)
	$(BIN)/python -m bench --quick

# The full benchmark (SQLite and PostgreSQL: about 11 minutes on an idle 2-core machine,
# 22 on a shared one); writes docs/BENCHMARKS.md.
# scripts/with-postgres make bench runs it on PostgreSQL as well.
bench: $(STAMP)
	$(BIN)/python -m bench --write docs/BENCHMARKS.md

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

clean:
	rm -rf $(VENV) data
