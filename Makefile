# SensorGrid developer commands. `make demo` runs the platform, `make test` tests it.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PG_TEST_URL ?= postgres://postgres@127.0.0.1:5432/sensorgrid
# The extras this checkout's venv gets: `test` pulls `geo` (open-data pipelines) and
# `demo` (the embedded MQTT broker) besides the test tools, so `make demo` and `make test`
# find all they run. A server takes only what it runs: pip install sensorgrid, or with
# [geo] (docs/deployment.md); tests/test_core_install.py proves the core needs no extra.
EXTRAS ?= test

.PHONY: demo test test-sqlite test-postgres lint format install assets clean

$(BIN)/sensorgrid: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[$(EXTRAS)]'
	touch $@

# Browser libraries from the npm registry (package-lock.json), copied into static files:
# nothing is loaded from a CDN at run time (docs/dashboard.md).
VENDOR := src/sensorgrid/dashboard/static/dashboard/vendor
$(VENDOR)/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	rm -rf $(VENDOR) && mkdir -p $(VENDOR)/images
	cp node_modules/leaflet/dist/leaflet-src.esm.js node_modules/leaflet/dist/leaflet.css $(VENDOR)/
	cp node_modules/leaflet/dist/images/*.png $(VENDOR)/images/
	cp node_modules/leaflet/LICENSE $(VENDOR)/LICENSE.leaflet
	cp node_modules/uplot/dist/uPlot.esm.js node_modules/uplot/dist/uPlot.min.css $(VENDOR)/
	cp node_modules/uplot/LICENSE $(VENDOR)/LICENSE.uplot
	sed "s#from 'kdbush'#from './kdbush.js'#" node_modules/supercluster/index.js > $(VENDOR)/supercluster.js
	cp node_modules/kdbush/index.js $(VENDOR)/kdbush.js
	cp node_modules/supercluster/LICENSE $(VENDOR)/LICENSE.supercluster
	cp node_modules/kdbush/LICENSE $(VENDOR)/LICENSE.kdbush
	node tools/basemap.cjs $(VENDOR)/basemap.json
	cp node_modules/world-atlas/LICENSE $(VENDOR)/LICENSE.world-atlas
	touch $@

assets: $(VENDOR)/.installed

install: $(BIN)/sensorgrid assets

demo: install
	$(BIN)/sensorgrid demo

# The two database passes run side by side: one pytest process keeps about one core busy
# and spends much of its time waiting on the servers, brokers and browsers it starts (one
# after the other they took 81 of CI's 90 minutes). Each pass's output comes in one piece
# when it ends (-O), with its 20 slowest tests.
test: install lint
	$(MAKE) --no-print-directory -j2 -O test-sqlite test-postgres PYTEST_ARGS="--durations=20 $(PYTEST_ARGS)"

# Static checks: style, types ([tool.mypy] in pyproject.toml: strict on the ingest
# library), the app layers ([tool.importlinter]) and models without a migration (on
# SQLite: no database server needed).
lint: install
	$(BIN)/ruff check src tests
	$(BIN)/ruff format --check src tests
	$(BIN)/mypy
	$(BIN)/lint-imports
	SENSORGRID_DATABASE_URL= $(BIN)/sensorgrid makemigrations --check --dry-run

test-sqlite: install
	SENSORGRID_DATABASE_URL= $(BIN)/pytest $(PYTEST_ARGS)

test-postgres: install
	SENSORGRID_DATABASE_URL=$(PG_TEST_URL) $(BIN)/pytest $(PYTEST_ARGS)

format: install
	$(BIN)/ruff check --fix src tests
	$(BIN)/ruff format src tests

clean:
	rm -rf $(VENV) var .pytest_cache node_modules $(VENDOR)
