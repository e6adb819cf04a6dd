# The two commands a new machine needs: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: run test install lint openapi bench screenshot clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(INSTALLED): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	rm -f $(VENV)/.installed-*
	touch $@

install: $(INSTALLED)

## Serve the hub on the embedded default (SQLite + local disk under ./var) with demo data.
run: install
	$(BIN)/nguon db upgrade
	$(BIN)/nguon demo
	$(BIN)/nguon serve

## The whole suite (SQLite; set NGUON_TEST_DATABASE_URL to run it on PostgreSQL).
test: install
	$(BIN)/python -m pytest

lint: install
	$(BIN)/ruff check src tests migrations bench scripts
	$(BIN)/ruff format --check src tests migrations bench scripts
	$(BIN)/mypy

## Regenerate openapi/openapi.json from the app.
openapi: install
	$(BIN)/python -m nguon.openapi_export openapi/openapi.json

bench: install
	$(BIN)/python bench/auth_overhead.py
	$(BIN)/python bench/media_upload.py
	$(BIN)/python bench/renditions.py
	$(BIN)/python bench/playlist_poll.py
	$(BIN)/python bench/commune_queue.py
	$(BIN)/python bench/console.py
	$(BIN)/python bench/speech.py
	$(BIN)/python bench/backup.py
	$(BIN)/python bench/advertising_limit.py

## Rewrite docs/console.png, the README's screenshot of the console (needs /usr/bin/chromium).
screenshot: install
	$(BIN)/python -m scripts.console_screenshot

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
