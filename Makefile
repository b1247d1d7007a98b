# SensorGrid developer commands. `make demo` runs the platform, `make test` tests it.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PG_TEST_URL ?= postgres://postgres@127.0.0.1:5432/sensorgrid

.PHONY: demo test test-sqlite test-postgres lint format install clean

$(BIN)/sensorgrid: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

install: $(BIN)/sensorgrid

demo: install
	$(BIN)/sensorgrid demo

test: install lint test-sqlite test-postgres

lint: install
	$(BIN)/ruff check src tests
	$(BIN)/ruff format --check src tests

test-sqlite: install
	SENSORGRID_DATABASE_URL= $(BIN)/pytest $(PYTEST_ARGS)

test-postgres: install
	SENSORGRID_DATABASE_URL=$(PG_TEST_URL) $(BIN)/pytest $(PYTEST_ARGS)

format: install
	$(BIN)/ruff check --fix src tests
	$(BIN)/ruff format src tests

clean:
	rm -rf $(VENV) var .pytest_cache
