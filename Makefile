# Berth. `make demo` shows it working; `make test` runs the whole suite.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
PYTEST := $(VENV)/bin/pytest

.PHONY: deps demo demo-clean test lint unit integration sanity molecule bench clean

deps:
	@bash scripts/install-deps.sh

demo: deps
	@bash scripts/demo.sh

demo-clean:
	@bash scripts/demo.sh clean

lint: deps
	$(VENV)/bin/ruff check engine tests bench pulumi_provider

unit: deps
	$(PYTEST) -q tests/unit

integration: deps
	$(PYTEST) -q tests/integration

test: deps lint
	$(PYTEST) -q -p no:cacheprovider tests
	@if [ -f scripts/sanity.sh ]; then bash scripts/sanity.sh; fi
	@if [ -f scripts/molecule.sh ]; then bash scripts/molecule.sh; fi

bench: deps
	@bash bench/run.sh

clean:
	rm -rf build .pytest_cache
