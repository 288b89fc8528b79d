# The README's two commands: `make run` and `make test`. Both set up everything they need.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export DAGSTER_HOME := $(CURDIR)/.aiwatch/dagster
# `dagster dev` reads [tool.dagster] in pyproject.toml; `dagster asset materialize` (1.13) reads
# only flags or this variable, so set it for both.
export DAGSTER_MODULE_NAME := pipelines.definitions

.PHONY: run test lint bench ui clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

$(DAGSTER_HOME)/dagster.yaml: dagster.yaml
	mkdir -p $(DAGSTER_HOME)
	cp dagster.yaml $(DAGSTER_HOME)/dagster.yaml

# Materializes every asset once: live when AIWATCH_SEC_USER_AGENT is set, else on the bundled snapshot.
run: $(STAMP) $(DAGSTER_HOME)/dagster.yaml
	$(BIN)/dagster asset materialize --select '*'

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/pytest -q

lint: $(STAMP)
	$(BIN)/ruff check .

# Every benchmark, ~10 min (a SYNTHETIC universe is generated once under $TMPDIR/aiwatch-bench):
# JSON in benchmarks/results/, then a summary table with each target beside its figure.
bench: $(STAMP)
	$(BIN)/pip install --quiet -e '.[bench]'  # edgartools, the parser benchmark 1 compares with
	$(BIN)/python benchmarks/run_all.py

ui: $(STAMP) $(DAGSTER_HOME)/dagster.yaml
	$(BIN)/dagster dev

clean:
	rm -rf $(VENV) .aiwatch
