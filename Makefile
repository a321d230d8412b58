# Connex: `make demo` and `make test` work from nothing (a fresh clone, no venv).
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | sha1sum | cut -c1-12)

.PHONY: install demo test test-fast lint bench bench-peers proto system-deps clean

$(STAMP): pyproject.toml setup.py src/connex/book/_fastbook.pyx src/connex/exchanges/mexc/_fastpb.pyx
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -U pip
	$(PY) -m pip install -q --disable-pip-version-check -e '.[dev]'
	@rm -f $(VENV)/.installed-*
	@touch $(STAMP)

install: $(STAMP) proto

proto: $(STAMP)
	@if [ -f scripts/gen_proto.py ]; then $(PY) scripts/gen_proto.py; fi

# Debian packages the browser tests need (Chromium). Installed only when missing.
system-deps:
	@if ! command -v chromium >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing Debian chromium for the browser tests"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "chromium missing and cannot be installed here: browser tests will skip"; fi; \
	fi

demo: install
	$(VENV)/bin/connex demo

test: install system-deps
	$(PY) -m pytest -q -p no:cacheprovider

test-fast: install
	$(PY) -m pytest -q -m "not browser and not slow"

lint: install
	$(VENV)/bin/ruff check src tests
	$(VENV)/bin/ruff format --check src tests

bench-peers: $(STAMP)
	$(PY) -m pip install -q --disable-pip-version-check -e '.[peers]'

bench: install bench-peers
	$(VENV)/bin/connex bench --exchange binance

clean:
	rm -rf $(VENV) build dist src/*.egg-info .pytest_cache .ruff_cache
