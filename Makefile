# skyshare: `make demo` runs three partner nodes sharing synthetic traffic over a local
# NATS server; `make test` runs every check.
# Both create the virtual environment (.venv) and install what they need.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-dev
# numba's on-disk cache only notices edits to the file that holds a kernel, not to the
# modules it inlines; keying the cache folder on all package sources makes any edit
# recompile instead of silently running a stale kernel.
NUMBA_CACHE_DIR ?= $(CURDIR)/.cache/numba/$(shell cat $$(find skyshare -name '*.py' | sort) | cksum | cut -d' ' -f1)
export NUMBA_CACHE_DIR

.PHONY: venv demo test lint typecheck jstest pytest system-deps map-deps web-assets bench clean help

help:
	@echo "make demo   - install and start three partner nodes sharing over NATS (prints URLs)"
	@echo "make test   - install and run lint, type checks and the test suite"
	@echo "make bench  - run the benchmarks against peer decoders (minutes)"
	@echo "make clean  - remove the virtual environment and caches"

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

venv: $(STAMP)

demo: $(STAMP) web-assets
	$(BIN)/skyshare federation demo

system-deps:
	@scripts/install-system-deps.sh test

map-deps:
	@scripts/install-system-deps.sh map

# The live map's browser libraries: npm installs the versions pinned in package-lock.json,
# then skyshare.web.assets copies the files the page loads into skyshare/web/static/vendor
# (no bundler).  Without npm the map page shows "map library not installed: run make".
VENDOR_STAMP := skyshare/web/static/vendor/.installed
web-assets: $(VENDOR_STAMP)

$(VENDOR_STAMP): package.json $(wildcard package-lock.json) skyshare/web/assets.py | $(STAMP) map-deps
	@if ! command -v npm >/dev/null 2>&1; then \
	  echo "note: npm not found; the live map needs it (apt-get install npm), the API does not" >&2; \
	else \
	  { if [ -f package-lock.json ]; then npm ci --no-audit --no-fund --loglevel=error; \
	    else npm install --no-audit --no-fund --loglevel=error; fi; } \
	  && $(BIN)/python -m skyshare.web.assets && touch $@ \
	  || echo "warning: could not install the map's npm packages; the map page will say so" >&2; \
	fi

lint: $(STAMP)
	$(BIN)/ruff check skyshare tests bench

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP) system-deps web-assets
	$(BIN)/pytest -q

# the map's own modules, unit-tested by Node's built-in runner (no npm packages)
jstest: map-deps
	@if command -v node >/dev/null 2>&1; then node --test tests/js/; \
	else echo "error: node not found; install nodejs (make does so as root)" >&2; exit 1; fi

test: lint typecheck jstest pytest

bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	$(BIN)/python bench/bench_decode.py
	$(BIN)/python bench/bench_fusion.py
	$(BIN)/python bench/bench_radar.py
	$(BIN)/python bench/bench_end_to_end.py
	$(BIN)/python bench/bench_alerts.py
	$(BIN)/python bench/bench_egress.py
	$(BIN)/python bench/bench_partners.py
	$(BIN)/python bench/bench_readiness.py
	$(BIN)/python bench/bench_federation.py

clean:
	rm -rf $(VENV) node_modules skyshare/web/static/vendor .cache .pytest_cache .mypy_cache .ruff_cache .hypothesis
	find . -name __pycache__ -type d -prune -not -path './$(VENV)/*' -exec rm -rf {} +
