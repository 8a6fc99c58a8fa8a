# Two commands for people (`make run`, `make test`) and a few for CI. Everything lives in
# .venv, created on first use from whichever Python 3.11+ PYTHON names.

PYTHON ?= python3
PORT ?= 8000
PYTEST_ARGS ?=

VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
# Stamps remember the pyproject.toml that was last installed, so an unchanged project is not
# reinstalled on every run.
STAMP_RUN := $(VENV)/.installed-run
STAMP_DEV := $(VENV)/.installed-dev

.DEFAULT_GOAL := help
.PHONY: help run test lint check clean

help:
	@echo "make run    serve the registry with demo data on http://127.0.0.1:$(PORT)/"
	@echo "make test   run the test suite (extra pytest options: PYTEST_ARGS='...')"
	@echo "make lint   ruff check and ruff format --check"
	@echo "make check  migrations up to date, and Django's deployment checks"
	@echo "make clean  remove .venv, caches and test artefacts (keeps var/, your data)"

$(PY):
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { \
		echo "The registry needs Python 3.11 or newer; '$(PYTHON)' is older." >&2; \
		echo "Point PYTHON at another interpreter, e.g. make run PYTHON=python3.12" >&2; \
		exit 1; }
	@$(PYTHON) -m venv $(VENV) || { \
		echo "Could not create $(VENV). On Debian/Ubuntu: apt-get install python3-venv" >&2; \
		rm -rf $(VENV); exit 1; }

$(STAMP_RUN): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e .
	@touch $@

$(STAMP_DEV): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $@ $(STAMP_RUN)

run: $(STAMP_RUN)
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo
	@echo
	@echo "  Model registry on http://127.0.0.1:$(PORT)/"
	@echo "  Demo logins, all with the password 'demo':"
	@echo "    admin     superuser; the Django admin is at http://127.0.0.1:$(PORT)/admin/"
	@echo "    engineer  contributor: registers models and versions"
	@echo "    lead      ML-lead reviewer"
	@echo "    risk      risk and compliance reviewer"
	@echo "    viewer    read-only"
	@echo
	$(PY) manage.py runserver 127.0.0.1:$(PORT)

test: $(STAMP_DEV)
	@$(BIN)/pytest $(PYTEST_ARGS); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests (exit code 5)" >&2; fi; \
	exit $$rc

# Both linters always run, so one CI log shows every finding.
lint: $(STAMP_DEV)
	@status=0; \
	echo "$(BIN)/ruff check ."; $(BIN)/ruff check . || status=1; \
	echo "$(BIN)/ruff format --check ."; $(BIN)/ruff format --check . || status=1; \
	exit $$status

# The deployment checks run with the values a production process would have; the secret is
# made up on the spot so that none is ever written down.
check: $(STAMP_RUN)
	$(PY) manage.py makemigrations --check --dry-run
	@secret=$$($(PY) -c 'import secrets; print(secrets.token_urlsafe(50))') && \
	DEBUG=false SECRET_KEY="$$secret" ALLOWED_HOSTS=registry.example.com \
		$(PY) manage.py check --deploy --fail-level WARNING

clean:
	rm -rf $(VENV) build test-artifacts .pytest_cache .ruff_cache *.egg-info
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
