# Two commands on a fresh machine:  make demo  |  make test
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
SCALE  ?= 1
SEED   ?= 42

.PHONY: demo test install lint bench dashboard clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,spark]'
	touch $@

install: $(BIN)/.installed

## demo: install, generate the default data set into data/sales.duckdb, build views, summarise
demo: install
	$(BIN)/sales-analytics build --scale $(SCALE) --seed $(SEED) --replace
	$(BIN)/sales-analytics info
	@echo
	@echo "Open the dashboard with:  $(BIN)/sales-analytics dashboard"

## test: the whole test suite (PostgreSQL tests skip when no server answers, unless SA_REQUIRE_POSTGRES=1)
test: install
	$(BIN)/python -m pytest

lint: install
	$(BIN)/ruff check src tests benchmarks

bench: install
	$(BIN)/python -m benchmarks.run

dashboard: install
	$(BIN)/sales-analytics dashboard

clean:
	rm -rf $(VENV) data .pytest_cache
