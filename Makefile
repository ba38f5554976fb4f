# wahdx-tui: every set-up step lives here so a fresh clone needs only Python 3.11+ and make.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SETUP_LOG := $(VENV)/setup.log

.PHONY: demo test lint bench soak clean pg browser

# Quiet unless something is wrong: pip's and the build backend's chatter (warnings included)
# go to $(SETUP_LOG), shown in full only when the set-up fails.
$(STAMP): pyproject.toml
	@echo "setting up $(VENV) (about a minute the first time)"
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@{ $(BIN)/python -m pip install --upgrade pip \
		&& $(BIN)/python -m pip install -e '.[dev]'; } >$(SETUP_LOG) 2>&1 \
		|| { cat $(SETUP_LOG) >&2; echo "set-up failed: the log above is kept in $(SETUP_LOG)" >&2; exit 1; }
	@touch $(STAMP)

demo: $(STAMP)
	$(BIN)/wahdx-tui demo

test: $(STAMP) lint pg browser
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

# The wall page's browser tests drive Debian's chromium headless through Debian's chromedriver
# (Selenium never downloads one): installed here when missing and we are root; otherwise those
# tests skip and say how.
browser:
	@if command -v chromium >/dev/null 2>&1 && [ -x /usr/bin/chromedriver ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "installing chromium for the wall's browser tests (apt-get install chromium chromium-driver)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null; \
	else \
		echo "note: no chromium here: the wall's browser tests will skip (apt-get install chromium chromium-driver)"; \
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
