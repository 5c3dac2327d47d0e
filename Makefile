# Two commands on a fresh machine:  make demo  |  make test
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
SCALE  ?= 1
SEED   ?= 42

LOCK   := requirements.lock
# uv resolves the lock file (make lock); it lives in its own venv, outside the project's
UV_VERSION := 0.13.9
LOCK_TOOLS ?= /tmp/sales-analytics-uv-$(UV_VERSION)
LOCK_CMD   := uv pip compile pyproject.toml --extra dev --extra spark --python-version 3.11 \
	--python-platform x86_64-manylinux_2_28 -o $(LOCK)

.PHONY: demo test install lock chromium lint bench dashboard report clean

## install: the exact versions of requirements.lock, then the project itself (editable, no resolving)
$(BIN)/.installed: pyproject.toml $(LOCK)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r $(LOCK)
	$(BIN)/python -m pip install --quiet --no-deps -e '.[dev,spark]'
	touch $@

install: $(BIN)/.installed

## lock: re-resolve requirements.lock after a dependency change in pyproject.toml (pins that still
## fit are kept; UPGRADE=1 moves every package to the newest version the ranges allow)
lock:
	@[ -x $(LOCK_TOOLS)/bin/uv ] || { $(PYTHON) -m venv $(LOCK_TOOLS) && \
		$(LOCK_TOOLS)/bin/python -m pip install --quiet uv==$(UV_VERSION); }
	$(LOCK_TOOLS)/bin/$(LOCK_CMD) $(if $(UPGRADE),--upgrade) --quiet \
		--custom-compile-command 'make lock  ($(LOCK_CMD))'

## demo: install, generate the default data set into data/sales.duckdb, build views, summarise
demo: install
	$(BIN)/sales-analytics build --scale $(SCALE) --seed $(SEED) --replace
	$(BIN)/sales-analytics info
	@echo
	@echo "Open the dashboard with:  $(BIN)/sales-analytics dashboard"

## chromium: Debian chromium for the real-browser dashboard test and the PDF report (apt, as root)
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
		echo "installing Debian chromium (browser tests, PDF report)"; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null || \
		echo "could not install chromium: the browser tests skip (and fail under CI=true)"; }

## test: lint, then the whole test suite (PostgreSQL tests skip when no server answers, unless SA_REQUIRE_POSTGRES=1)
test: install chromium
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/python -m pytest

lint: install
	$(BIN)/ruff check src tests benchmarks

bench: install
	$(BIN)/python -m benchmarks.run

dashboard: install
	$(BIN)/sales-analytics dashboard

## report: the executive report of the last 12 months (out/report.html, and a PDF with chromium)
report: install
	$(BIN)/sales-analytics report --out out/report.html --pdf

clean:
	rm -rf $(VENV) data .pytest_cache
