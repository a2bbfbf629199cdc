# PodNex: `make run` starts everything on embedded defaults; `make test` runs the suite.
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(abspath $(VENV))/bin
export PATH := $(BIN):$(PATH)
PORT ?= 8000
# Links the API hands out (download URLs) point at the port this run serves.
export BETTER_AUTH_URL ?= http://127.0.0.1:$(PORT)
# Web and worker processes add up their Prometheus counters in this folder (emptied below).
METRICS_DIR := $(abspath var/prometheus)

.PHONY: run test install lint format bench clean

$(VENV)/.installed: requirements.txt requirements-dev.txt
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "$(PYTHON) not found; set PYTHON=python3"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed

run: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py collectstatic --noinput --verbosity 0
	$(BIN)/python manage.py demo_user
	rm -rf $(METRICS_DIR) && mkdir -p $(METRICS_DIR)
	@echo "PodNex on http://127.0.0.1:$(PORT)  (API docs: /api/docs/, admin: /admin/)"
	PROMETHEUS_MULTIPROC_DIR=$(METRICS_DIR) $(BIN)/honcho start --port $(PORT)

# The layers (pyproject.toml [tool.importlinter]) are checked before the tests. Locally the
# test database is kept between runs (--reuse-db); CI (CI set) always builds a fresh one.
REUSE_DB := $(if $(CI),,--reuse-db)

test: install
	$(BIN)/lint-imports
	$(BIN)/python -m pytest $(REUSE_DB) $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: install
	for b in bench/*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

clean:
	rm -rf var .pytest_cache
