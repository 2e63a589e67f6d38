# One command to install and run, one to install and test (README).
PYTHON ?= python3.11
VENV := .venv
STAMP := $(VENV)/.installed

.PHONY: install run test lint system-deps bench

$(STAMP): pyproject.toml
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip setuptools wheel
	$(VENV)/bin/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

HOST ?= 127.0.0.1
PORT ?= 8000

run: install
	$(VENV)/bin/hotline serve --host $(HOST) --port $(PORT)

# Debian packages the tests use: Chromium for browser tests and a CJK font for the pages it draws
# (charts bring their own font through pip).
system-deps:
	@bash scripts/system-deps

test: install system-deps
	$(VENV)/bin/pytest -q

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy tickets nlu bot web hotline

bench: install
	$(VENV)/bin/python benchmarks/run_all.py
