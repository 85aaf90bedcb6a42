# Golden Thread — `make run` sets up and runs everything; `make test` runs the whole suite, `make test-fast` its fast part.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
GT_DATA_DIR ?= $(CURDIR)/data
DAGSTER_HOME ?= $(GT_DATA_DIR)/dagster_home
PORT ?= 8501

export GT_DATA_DIR DAGSTER_HOME
export DO_NOT_TRACK := 1
export GX_ANALYTICS_ENABLED := false
export DAGSTER_DISABLE_TELEMETRY := 1

DBT := $(VENV)/bin/dbt --no-use-colors
DBT_DIRS := --project-dir dbt_project --profiles-dir dbt_project

.PHONY: help setup manifest data pipeline run demo-users serve ui test test-fast lint sql-fix clean browser docs dq-report share share-list bench

help: ## list the targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $@

setup: $(VENV)/.installed ## create .venv and install the pinned dependencies

# Dagster's @dbt_assets reads dbt's manifest when the code location is imported. Parsed again only
# when a file dbt reads is newer than it (a parse is about 8 s of CPU, paid by every test-fast run
# when this target was phony).
DBT_FILES := $(shell find dbt_project/models dbt_project/macros dbt_project/tests seeds -type f 2>/dev/null) \
	dbt_project/dbt_project.yml dbt_project/profiles.yml
MANIFEST := dbt_project/target/manifest.json

manifest: $(MANIFEST) ## parse the dbt project (target/manifest.json) if a file of it changed

$(MANIFEST): $(VENV)/.installed $(DBT_FILES)
	$(DBT) parse $(DBT_DIRS) --quiet
	@touch $@

# Browser tests drive Debian's Chromium; install it once if it is missing.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
		echo "installing chromium for the browser tests"; \
		(apt-get update -qq && apt-get install -y -qq chromium >/dev/null) || \
		echo "could not install chromium: browser tests will be skipped"; }

data: setup ## write simulated source extracts into data/landing if it is empty
	$(PY) -m orchestration.cli demo-data

pipeline: data manifest ## run the whole pipeline without serving (non-zero exit on failure)
	$(PY) -m orchestration.cli pipeline

run: pipeline demo-users serve ## set up, run the pipeline, print the demo sign-ins, serve the app on http://127.0.0.1:$(PORT)

demo-users: setup ## create the demo accounts (one per role) if missing and print how to sign in
	$(PY) -m orchestration.cli users demo

serve: setup ## serve the Streamlit app (reads data/serving.duckdb read-only)
	$(VENV)/bin/streamlit run apps/streamlit/streamlit_app.py --server.address 127.0.0.1 \
		--server.port $(PORT) --server.headless true --browser.gatherUsageStats false

ui: manifest ## open the Dagster UI on http://127.0.0.1:3000
	mkdir -p $(DAGSTER_HOME)
	cd $(CURDIR) && $(VENV)/bin/dg dev --host 127.0.0.1 --port 3000

test: manifest browser ## run the whole test suite
	$(PY) -m pytest

# Tests marked slow run the pipeline or read what it built (tests/conftest.py marks them), or
# each take over 0.7 s of CPU (an ingestion run, a GX validation, a publish: marked where they
# are defined). What is left, with dbt's unit tests, is about a minute of CPU.
test-fast: manifest ## unit tests and dbt unit tests, no pipeline run (about a minute of CPU)
	$(PY) -m pytest -m "not slow and not browser"

bench: manifest ## benchmarks at 1x1, 1x5 and national (~75 min): phases, monthly close, DQ, pages, memory, baselines (BENCH_ARGS=--sizes 1x1,3x5)
	$(PY) -m bench.run $(BENCH_ARGS)

dq-report: setup ## inject faults of every class and print what ingestion and the data-quality suites caught
	$(PY) -m orchestration.dq_report

share: setup ## partner extract under data/shared (PARTNER="Essex Police"; make share-list for partners)
	@test -n "$(PARTNER)" || { echo 'usage: make share PARTNER="<partner name>"  (make share-list)'; exit 2; }
	$(PY) -m orchestration.sharing --partner "$(PARTNER)"

share-list: setup ## list information sharing agreements and their status
	$(PY) -m orchestration.sharing --list

docs: manifest ## build dbt docs (catalog from the warehouse) under dbt_project/target
	GT_DATA_DIR=$(GT_DATA_DIR) $(DBT) docs generate $(DBT_DIRS)

# sqlfluff's dbt templater compiles each model with dbt (.sqlfluff): against a scratch warehouse, so
# linting never takes the lock on the pipeline's. Two processes: about 90 CPU-seconds in all.
SQLFLUFF_DATA := $(CURDIR)/dbt_project/target/sqlfluff
SQLFLUFF := GT_DATA_DIR=$(SQLFLUFF_DATA) $(VENV)/bin/sqlfluff
SQL_DIRS := dbt_project/models dbt_project/tests

lint: setup ## ruff, then sqlfluff over the dbt models and tests
	$(VENV)/bin/ruff check orchestration expectations apps tests bench
	@mkdir -p $(SQLFLUFF_DATA)
	$(SQLFLUFF) lint $(SQL_DIRS) --processes 2

# The rules .sqlfluff leaves out, and those it only warns of (a person mends them): not fixed.
SQL_NOT_FIXED := AM04,AL03,AL08,LT09,LT11,LT14,ST06,RF04,LT02,LT05,AM06,RF02,ST05

sql-fix: setup ## let sqlfluff mend what it can in the dbt models and tests (then read the diff)
	@mkdir -p $(SQLFLUFF_DATA)
	@# sqlfluff exits 1 while warnings are left for a person; make lint reports them, and any error.
	-$(SQLFLUFF) fix $(SQL_DIRS) --processes 2 --exclude-rules $(SQL_NOT_FIXED)

clean: ## remove run-time data (keeps .venv)
	rm -rf $(GT_DATA_DIR)
