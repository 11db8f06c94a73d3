# The two commands a newcomer runs: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
PO_FILES := $(wildcard locales/*/LC_MESSAGES/messages.po)
MO_FILES := $(PO_FILES:.po=.mo)

.PHONY: run test lint format install bootstrap catalogs extract update-catalogs bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# Compiled catalogs come from the .po files, never edited by hand.
locales/%/LC_MESSAGES/messages.mo: locales/%/LC_MESSAGES/messages.po | $(STAMP)
	$(BIN)/pybabel compile -d locales -l $* -D messages

catalogs: $(MO_FILES)

extract: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k t -k tn:1,2 -k N_ --no-location --sort-output \
		-o locales/messages.pot core outbox bot sms office buonispesa

update-catalogs: extract
	$(BIN)/pybabel update -i locales/messages.pot -d locales -D messages --no-fuzzy-matching --ignore-obsolete -w 100

# Migrate the embedded database and seed the demo town when it is empty.
bootstrap: install catalogs
	$(BIN)/buonispesa migrate
	$(BIN)/buonispesa demo --if-empty

run: bootstrap
	exec $(BIN)/buonispesa serve

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# pytest exits 5 when it collects no test: make fails on it, so an empty run never passes
# (pytest-xdist keeps that exit code). One worker per core; worksteal evens out the slow files.
test: bootstrap lint
	$(BIN)/pytest -n auto --dist worksteal

bench: bootstrap
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) data .pytest_cache .mypy_cache .ruff_cache .import_linter_cache
