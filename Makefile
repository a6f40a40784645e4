# The two commands: `make run` and `make test`. Everything installs into .venv.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check -q

.PHONY: run test e2e lint format migrate seed worker clean bench

$(VENV)/.runtime: pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --upgrade pip
	$(PIP) install -e .
	@touch $@

$(VENV)/.test: $(VENV)/.runtime
	$(PIP) install -e '.[test]'
	@touch $@

## run: install, migrate, load the demo data, serve the portal with a Celery worker and beat
run: $(VENV)/.runtime
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo
	$(PY) scripts/run.py

## test: install what the tests need and run the whole suite
test: $(VENV)/.test
	$(PY) -m pytest

## e2e: the browser journeys only (Playwright driving Debian's chromium; screenshots in docs/screenshots/)
e2e: $(VENV)/.test
	$(PY) -m pytest tests/e2e

## lint: ruff, kept clean
lint: $(VENV)/.test
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(VENV)/.test
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

migrate: $(VENV)/.runtime
	$(PY) manage.py migrate --noinput

seed: migrate
	$(PY) manage.py seed_demo

worker: $(VENV)/.runtime
	$(PY) -m celery -A portal worker -l info

## bench: PDF render, pages, certificates, bulk import and batch debit against PostgreSQL (DATABASE_URL), table in docs/performance.md
bench: $(VENV)/.runtime
	DATABASE_URL=$${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/shebao_bench} REDIS_URL=$${REDIS_URL:-redis://127.0.0.1:6379/0} $(PY) bench/report.py

clean:
	rm -rf $(VENV) var/celery var/staticfiles
