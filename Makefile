# Set-up, run, tests and benchmarks. Each target builds what it needs that is missing.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed

.PHONY: run test bench lint clean

$(INSTALLED): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[server,test]'
	touch $(INSTALLED)

# Opens the till with a demo programme in the user's data folder.
run: $(INSTALLED)
	$(BIN)/posloyalty till --demo

# Starts a throwaway PostgreSQL cluster on 127.0.0.1, runs the whole suite with
# Qt offscreen, and stops the cluster whatever the outcome.
test: $(INSTALLED)
	@pgdir=$$(mktemp -d /tmp/posloyalty-pg.XXXXXX) && chmod 755 $$pgdir; \
	url=$$(tools/pg-throwaway.sh start $$pgdir/cluster) || { rm -rf $$pgdir; exit 1; }; \
	QT_QPA_PLATFORM=offscreen POSLOYALTY_TEST_POSTGRES_URL=$$url \
		$(BIN)/python -m pytest $(PYTEST_ARGS); status=$$?; \
	tools/pg-throwaway.sh stop $$pgdir/cluster; rm -rf $$pgdir; exit $$status

bench: $(INSTALLED)
	$(BIN)/python -m bench.run

lint: $(INSTALLED)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

clean:
	rm -rf $(VENV) .pytest_cache bench/results.json
