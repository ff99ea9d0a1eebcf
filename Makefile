# Two commands a new user needs: `make run` and `make test` (see README.md).
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV ?= .venv
PORT ?= 8000
MLLP_PORT ?= 2575
PY := $(VENV)/bin/python
# pyenv picks 3.12 from .python-version; elsewhere python3.12 is tried first.
SYSTEM_PYTHON ?= $(shell command -v python3.12 2>/dev/null || command -v python3 2>/dev/null)
PG_TEST_URL ?= postgres://postgres@127.0.0.1:5432/postgres
export PIP_BUILD_CONSTRAINT := $(CURDIR)/build-constraints.txt
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: help run test audit bench loadtest test-sqlite test-postgres venv lint typecheck format seed check-python clean pg-roles pdf-libs

help:
	@echo "make run    set up everything and serve the demo on http://127.0.0.1:$(PORT), monitors on MLLP port $(MLLP_PORT),"
	@echo "            with the background-task worker beside it"
	@echo "make test   static checks, security checks, then the whole suite (SQLite, then PostgreSQL when reachable)"
	@echo "make lint   static checks: ruff check and format, mypy, makemigrations --check, linear migrations"
	@echo "make typecheck  mypy only"
	@echo "make pg-roles  create the PostgreSQL owner and application roles, migrate, grant (see README)"
	@echo "make audit  security lint (ruff S rules) and dependency audit (pip-audit)"
	@echo "make bench  scale and speed benchmarks on PostgreSQL, each figure beside its goal (BENCH_YEARS=0.05)"
	@echo "make loadtest  50 nurses charting and 5 physicians reviewing against gunicorn on PostgreSQL, on loopback,"
	@echo "            then every reading and the audit chain checked (LOADTEST_SECONDS=60)"

check-python:
	@if [ -z "$(SYSTEM_PYTHON)" ]; then echo "Python 3.12 or newer is required; none found on PATH." >&2; exit 1; fi
	@$(SYSTEM_PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' || { \
	  echo "Python 3.12 or newer is required; $(SYSTEM_PYTHON) is $$($(SYSTEM_PYTHON) --version 2>&1)." >&2; \
	  echo "Install Python 3.12 (e.g. 'pyenv install 3.12') or run: make SYSTEM_PYTHON=/path/to/python3.12 ..." >&2; exit 1; }

$(VENV)/.created: | check-python
	$(SYSTEM_PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	touch $@

$(VENV)/.installed: $(VENV)/.created requirements.txt requirements-test.txt build-constraints.txt
	$(PY) -m pip install --quiet -r requirements-test.txt
	touch $@

venv: $(VENV)/.installed

# WeasyPrint (PDF prints) loads these Debian libraries at run time.
PDF_LIBS := libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 libfontconfig1 fonts-dejavu-core
pdf-libs:
	@missing=$$(for p in $(PDF_LIBS); do dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	  else echo "PDF prints need: sudo apt-get install $$missing" >&2; fi; \
	fi

# The monitor listener (MLLP, README "Bedside monitors") and the background-task worker
# (README "Production") run beside the web server and stop with it.
run: venv pdf-libs
	DEBUG=1 DEMO_MODE=1 $(PY) manage.py migrate --no-input
	DEBUG=1 DEMO_MODE=1 $(PY) manage.py createcachetable
	DEBUG=1 DEMO_MODE=1 $(PY) manage.py seed_demo
	@export DEBUG=1 DEMO_MODE=1; \
	  $(PY) manage.py monitor_listener --port $(MLLP_PORT) & listener=$$!; \
	  $(PY) manage.py task_worker --no-reload & worker=$$!; \
	  trap 'kill $$listener $$worker 2>/dev/null; wait $$listener $$worker 2>/dev/null' EXIT INT TERM; \
	  echo "Background-task worker started (audit verification, FHIR exports)."; \
	  echo "Monitor listener (MLLP) on 127.0.0.1:$(MLLP_PORT). Demo readings for Chair 4:" \
	    "$(PY) manage.py simulate_monitor --chair 'Chair 4' --port $(MLLP_PORT)"; \
	  $(PY) manage.py runserver 127.0.0.1:$(PORT)

# The static and security checks run beside the suites (the dependency audit mostly waits on the network);
# their output is printed after the suites'.
test: venv pdf-libs
	@checks=$$(mktemp); \
	  (status=0; bash .ci/static-checks || status=1; bash .ci/security-checks || status=1; exit $$status) \
	    >"$$checks" 2>&1 & pid=$$!; \
	  status=0; bash .ci/test-databases || status=1; \
	  wait $$pid || status=1; cat "$$checks"; rm -f "$$checks"; exit $$status

audit: venv
	@bash .ci/security-checks

test-sqlite: venv
	env -u DATABASE_URL $(PY) -m pytest

test-postgres: venv
	DATABASE_URL=$(PG_TEST_URL) $(PY) -m pytest

# Run on purpose, never by `make test`: builds two databases on PG_ADMIN_URL's server, measures, drops them.
BENCH_YEARS ?= 0.05
bench: venv pdf-libs
	$(PY) benchmarks/scale.py run --clinic-years $(BENCH_YEARS) --admin-url $(PG_ADMIN_URL)

# Run on purpose, never by `make test`: builds a database on PG_ADMIN_URL's server, serves it with gunicorn
# on 127.0.0.1, runs locust for LOADTEST_SECONDS, checks, drops it (README "Load test"). Locust is pinned
# in requirements-load.txt, which only this target installs.
LOADTEST_SECONDS ?= 60
loadtest: venv
	$(PY) -m pip install --quiet -r requirements-load.txt
	$(PY) benchmarks/loadtest/run.py run --seconds $(LOADTEST_SECONDS) --admin-url $(PG_ADMIN_URL)

lint: venv
	@bash .ci/static-checks

# Importing the settings needs a key; mypy never signs anything with it.
typecheck: venv
	SECRET_KEY="$${SECRET_KEY:-static-checks-only-not-secret}" DATABASE_URL=sqlite://:memory: $(VENV)/bin/mypy

format: venv
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

clean:
	rm -rf $(VENV) var/static

# PostgreSQL role separation (README, "PostgreSQL roles"). Safe to run again, and
# to be run again after every migration: it migrates as the owner, then re-grants.
PG_ADMIN_URL ?= postgres://postgres@127.0.0.1:5432/postgres
PG_HOST ?= 127.0.0.1
PG_PORT ?= 5432
PG_DB ?= clinic
PG_OWNER ?= clinic_owner
PG_APP ?= clinic_app
PG_OWNER_PASSWORD ?=
PG_APP_PASSWORD ?=
PG_OWNER_URL = postgres://$(PG_OWNER)$(if $(PG_OWNER_PASSWORD),:$(PG_OWNER_PASSWORD))@$(PG_HOST):$(PG_PORT)/$(PG_DB)

pg-roles: venv
	psql "$(PG_ADMIN_URL)" -q -v ON_ERROR_STOP=1 -v owner=$(PG_OWNER) -v app=$(PG_APP) -v db=$(PG_DB) \
	  -v owner_password="$(PG_OWNER_PASSWORD)" -v app_password="$(PG_APP_PASSWORD)" -f deploy/postgres/roles.sql
	DATABASE_URL="$(PG_OWNER_URL)" SECRET_KEY="$${SECRET_KEY:-pg-roles-migrate-only}" $(PY) manage.py migrate --no-input
	DATABASE_URL="$(PG_OWNER_URL)" SECRET_KEY="$${SECRET_KEY:-pg-roles-migrate-only}" $(PY) manage.py createcachetable
	psql "$(PG_OWNER_URL)" -q -v ON_ERROR_STOP=1 -c "SET clinic.app_role = '$(PG_APP)'" -f deploy/postgres/grants.sql
	@echo "Roles ready. The application connects as $(PG_APP):"
	@echo "  DATABASE_URL=postgres://$(PG_APP):PASSWORD@$(PG_HOST):$(PG_PORT)/$(PG_DB)"
