# MediaSpace: `make run` serves the demo, `make test` runs every test.
# Both need only Python >= 3.12 (3.13 preferred, see .python-version) and make.

SHELL := /bin/bash
PYTHON ?= $(shell for p in python3.13 python3.12 python3; do \
	command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null \
	&& echo $$p && break; done)
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
# The demo's own secret key, made once per checkout; SECRET_KEY in the environment wins.
KEY_FILE := .secret-key
WITH_KEY = SECRET_KEY="$${SECRET_KEY:-$$(cat $(KEY_FILE))}"
# `make run DEBUG=1` shows Django's debug pages instead of the project's own.
DEBUG ?=

.PHONY: install run test lint format bench clean

$(INSTALLED): requirements.lock
	@test -n "$(PYTHON)" || { echo "MediaSpace needs Python 3.12 or newer (3.13 preferred)."; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
	@touch $@

install: $(INSTALLED)

$(KEY_FILE): | $(INSTALLED)
	@umask 077 && $(BIN)/python -c 'import secrets; print(secrets.token_urlsafe(64))' > $@

run: $(INSTALLED) $(KEY_FILE)
	$(WITH_KEY) $(BIN)/python manage.py migrate --no-input
	$(WITH_KEY) $(BIN)/python manage.py seed_demo
	@# The background worker beside the web server, stopped with it.
	$(WITH_KEY) DEBUG=$(DEBUG) $(BIN)/python manage.py db_worker & worker=$$!; \
	trap 'kill $$worker 2>/dev/null' EXIT; \
	$(WITH_KEY) DEBUG=$(DEBUG) $(BIN)/python manage.py runserver $(HOST):$(PORT)

test: $(INSTALLED) $(KEY_FILE)
	$(WITH_KEY) $(BIN)/python manage.py check --fail-level WARNING
	$(WITH_KEY) $(BIN)/python manage.py makemigrations --check --dry-run --no-input
	$(WITH_KEY) $(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(INSTALLED) $(KEY_FILE)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(WITH_KEY) $(BIN)/mypy

format: $(INSTALLED)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: $(INSTALLED) $(KEY_FILE)
	$(WITH_KEY) $(BIN)/python manage.py bench $(BENCH_ARGS)

clean:
	rm -rf $(VENV) staticfiles bench-results.json
