# asr-billing: `make run` starts the demo billing, `make test` runs the whole suite.
PYTHON ?= python3
VENV ?= .venv
BILLING_HOME ?= $(CURDIR)/demo-home
BIND ?= 127.0.0.1:8082
# Empty: tests on SQLite. A PostgreSQL URL runs them there (CI does both), e.g.
# make test TEST_DB=postgresql://postgres@127.0.0.1:5432/test
TEST_DB ?=
# A streaming replica of TEST_DB's server for tests/scaleout (.ci/pg-replica start makes one):
# make test TEST_DB=postgresql://postgres@127.0.0.1:5432/test TEST_REPLICA=postgresql://postgres@127.0.0.1:5433
TEST_REPLICA ?=
PYTEST_ARGS ?=

.PHONY: run test lint migrations-check messages clean-demo

$(VENV)/.runtime: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q -U pip
	$(VENV)/bin/pip install -q -e .
	touch $@

$(VENV)/.test: $(VENV)/.runtime
	$(VENV)/bin/pip install -q -e '.[test]'
	touch $@

run: $(VENV)/.runtime
	@test -f "$(BILLING_HOME)/cfg/config" || $(VENV)/bin/asr-billing init --demo --home "$(BILLING_HOME)"
	$(VENV)/bin/asr-billing serve --home "$(BILLING_HOME)" --bind $(BIND)

test: $(VENV)/.test
	ASR_BILLING_TEST_DB_URL="$(TEST_DB)" ASR_BILLING_TEST_REPLICA_URL="$(TEST_REPLICA)" \
	  $(VENV)/bin/pytest -n 2 --dist loadgroup -q $(PYTEST_ARGS)

lint: $(VENV)/.test
	$(VENV)/bin/ruff check src tests bench

migrations-check: $(VENV)/.test
	@tmp=$$(mktemp -d) && $(VENV)/bin/asr-billing init --home "$$tmp" >/dev/null && \
	  $(VENV)/bin/asr-billing --home "$$tmp" manage makemigrations --check --dry-run; \
	  status=$$?; rm -rf "$$tmp"; exit $$status

messages: $(VENV)/.test
	@tmp=$$(mktemp -d) && $(VENV)/bin/asr-billing init --home "$$tmp" >/dev/null && \
	  cd src/asr_billing && ASR_BILLING_HOME="$$tmp" ../../$(VENV)/bin/django-admin makemessages \
	  --settings=asr_billing.settings -l ru -l en --no-obsolete && \
	  ASR_BILLING_HOME="$$tmp" ../../$(VENV)/bin/django-admin compilemessages --settings=asr_billing.settings; \
	  status=$$?; rm -rf "$$tmp"; exit $$status

clean-demo:
	rm -rf "$(BILLING_HOME)"
