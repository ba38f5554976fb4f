# wahdx-tui: every set-up step lives here so a fresh clone needs only Python 3.11+ and make.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint bench soak clean pg

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

demo: $(STAMP)
	$(BIN)/wahdx-tui demo

test: $(STAMP) lint pg
	$(BIN)/python -m pytest

# The PostgreSQL store tests start a throwaway server from Debian's postgresql package:
# installed here when missing and we are root; otherwise those tests skip and say how.
pg:
	@if ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "installing PostgreSQL for the store tests (apt-get install postgresql)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; \
	else \
		echo "note: no PostgreSQL here: its store tests will skip (apt-get install postgresql)"; \
	fi

lint: $(STAMP)
	$(BIN)/ruff check wahdx_tui tests bench
	$(BIN)/ruff format --check wahdx_tui tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports

bench: $(STAMP)
	$(BIN)/python -m bench

soak: $(STAMP)
	WAHDX_SOAK=long $(BIN)/python -m pytest tests/e2e/test_soak.py -q

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
