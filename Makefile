# Two commands a new user needs: `make run` and `make test` (see README.md).
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV ?= .venv
PORT ?= 8000
PY := $(VENV)/bin/python
# pyenv picks 3.12 from .python-version; elsewhere python3.12 is tried first.
SYSTEM_PYTHON ?= $(shell command -v python3.12 2>/dev/null || command -v python3 2>/dev/null)
PG_TEST_URL ?= postgres://postgres@127.0.0.1:5432/postgres
export PIP_BUILD_CONSTRAINT := $(CURDIR)/build-constraints.txt
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: help run test test-sqlite test-postgres venv lint format seed check-python clean pdf-libs

help:
	@echo "make run    set up everything and serve the demo on http://127.0.0.1:$(PORT)"
	@echo "make test   run the whole test suite (SQLite, then PostgreSQL when reachable)"
	@echo "make lint   ruff check and format check"

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

run: venv pdf-libs
	DEBUG=1 DEMO_MODE=1 $(PY) manage.py migrate --no-input
	DEBUG=1 DEMO_MODE=1 $(PY) manage.py seed_demo
	DEBUG=1 DEMO_MODE=1 $(PY) manage.py runserver 127.0.0.1:$(PORT)

test: venv pdf-libs
	@bash .ci/test-databases

test-sqlite: venv
	env -u DATABASE_URL $(PY) -m pytest

test-postgres: venv
	DATABASE_URL=$(PG_TEST_URL) $(PY) -m pytest

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: venv
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

clean:
	rm -rf $(VENV) var/static
