# Everyday commands. Run inside the virtualenv (README.md: python -m pip install -e ".[dev]").
PYTHON ?= python

.PHONY: lint audit test bench

## lint: ruff (lint and format check) and mypy --strict on the package
lint:
	ruff check .
	ruff format --check .
	mypy --strict async_guard

## audit: the static audit of this repository (the reference project), with the Django index
audit:
	$(PYTHON) manage.py audit_async

## test: the test suite (SQLite; DATABASE_URL=postgres://... for PostgreSQL)
test:
	$(PYTHON) -m pytest

## bench: every runnable script in benchmarks/ (modules without a __main__ block are helpers)
bench:
	@set -e; for script in $$(grep -l "__name__ == \"__main__\"" benchmarks/*.py); do \
		echo "== $$script"; $(PYTHON) $$script; \
	done
