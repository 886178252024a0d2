# Account & Billing service. `make dev` runs it locally; `make test` checks everything.
SHELL := /bin/bash
PYTHON ?= python3.13
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 3000
USER ?= alice
STAMP := $(VENV)/.installed

.DEFAULT_GOAL := help
.PHONY: help venv dev token run-schedule advance usage test lint typecheck template-check bench bench-record capacity openapi build build-check clean fuzz

help:
	@echo "make dev          run the whole service locally (http://127.0.0.1:$(PORT)); PORT=3001 to move it, RESET=1 to start empty"
	@echo "make token        print a token for the local stack (USER=alice; AUTH_AGE=900: signed in 15 min ago)"
	@echo "make advance      move the running stack's clock (DAYS=31, HOURS=0): renewals, plan changes, hold releases, TTL"
	@echo "make usage        publish UsageRecorded for an account of the running stack (USER=alice CENTS=1250)"
	@echo "make run-schedule run a schedule of the running stack now (NAME=release-<hold id>, NAME=HourlySweep)"
	@echo "make test         lint, type checks, template checks and every test"
	@echo "make lint         ruff check and ruff format --check"
	@echo "make typecheck    mypy --strict"
	@echo "make template-check  cfn-lint template.yaml"
	@echo "make fuzz         a long schemathesis campaign over the local stack (FUZZ_EXAMPLES=200 to change it)"
	@echo "make bench        cold-start and DynamoDB request benchmarks, the capacity model (CAPACITY_PROFILE=file)"
	@echo "make capacity     the capacity model alone, a few minutes (CAPACITY_PROFILE=file, CAPACITY_RUNS=3)"
	@echo "make bench-record record again what AWS and Stripe answer the cold-start scenarios (SCENARIOS=\"profile emails\" for some)"
	@echo "make openapi      regenerate docs/openapi.json"
	@echo "make build        sam build (needs the SAM CLI, installed outside this venv), then check its bytecode"
	@echo "make build-check  build every artifact as sam build does (for this machine) and run each alone"
	@echo "make venv         create .venv with the pinned requirements (every target does it first)"
	@echo "make clean        remove .venv, build output, caches and .local (the local stack's key and saved state)"

$(STAMP): layers/common/requirements.txt requirements-dev.txt
	@command -v $(PYTHON) >/dev/null 2>&1 && $(PYTHON) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 13))' \
	  || { echo "error: $(PYTHON) (Python 3.13) is required; install it or pass PYTHON=/path/to/python3.13" >&2; exit 1; }
	@echo "Installing the pinned requirements into $(VENV) (once; about a minute and a half)..."
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --disable-pip-version-check --progress-bar on -r requirements-dev.txt \
	  | grep --line-buffered -v '^Requirement already satisfied'; test $${PIPESTATUS[0]} -eq 0
	touch $(STAMP)

venv: $(STAMP)

# RESET=1 starts empty (the data kept in .local/state from the last run is forgotten).
dev: $(STAMP)
	$(BIN)/python -m local --port $(PORT) $(if $(filter 1 yes true,$(RESET)),--reset)

advance: $(STAMP)
	@$(BIN)/python -m local.clock advance --days $(or $(DAYS),0) --hours $(or $(HOURS),0)

usage: $(STAMP)
	@$(BIN)/python -m local.events $(USER) $(or $(CENTS),1250)

token: $(STAMP)
	@$(BIN)/python -m local.token $(USER) $(if $(AUTH_AGE),--auth-age $(AUTH_AGE))

run-schedule: $(STAMP)
	@$(BIN)/python -m local.schedule $(NAME)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

template-check: $(STAMP)
	$(BIN)/cfn-lint template.yaml

test: lint typecheck template-check
	$(BIN)/python -m pytest -n 2 --dist loadgroup

# The same suite CI runs bounded (tests/fuzz), longer: same seed unless FUZZ_SEED says otherwise.
fuzz: $(STAMP)
	FUZZ_EXAMPLES=$${FUZZ_EXAMPLES:-100} FUZZ_STATEFUL_RUNS=$${FUZZ_STATEFUL_RUNS:-200} FUZZ_STATEFUL_STEPS=$${FUZZ_STATEFUL_STEPS:-25} \
	  $(BIN)/python -m pytest tests/fuzz

bench: $(STAMP)
	POWERTOOLS_SERVICE_NAME=account-billing POWERTOOLS_METRICS_NAMESPACE=AccountBilling PYTHONPATH=layers/common $(BIN)/python -m bench

capacity: $(STAMP)
	POWERTOOLS_SERVICE_NAME=account-billing POWERTOOLS_METRICS_NAMESPACE=AccountBilling PYTHONPATH=layers/common $(BIN)/python -m bench.capacity

# After a function's AWS or Stripe calls change (the bench stops on a call it has no answer for).
bench-record: $(STAMP)
	POWERTOOLS_SERVICE_NAME=account-billing POWERTOOLS_METRICS_NAMESPACE=AccountBilling PYTHONPATH=layers/common $(BIN)/python -m bench.record $(SCENARIOS)

openapi: $(STAMP)
	PYTHONPATH=layers/common $(BIN)/python -m docs.openapi

# sam build runs build/Makefile for every artifact (BuildMethod: makefile); then every module
# in .aws-sam/build must carry hash-based bytecode (a cached build included: SAM's cache follows
# each CodeUri and build/Makefile, not build/lambda_artifact.py; after changing that script,
# run `sam build --no-cached`).
build:
	@command -v sam >/dev/null 2>&1 || { echo "error: the SAM CLI is not on PATH (install it in its own virtualenv: pipx install aws-sam-cli)" >&2; exit 1; }
	PYENV_VERSION=3.13 sam build
	PYENV_VERSION=3.13 $(PYTHON) build/lambda_artifact.py verify $$(find .aws-sam/build -mindepth 1 -maxdepth 1 -type d)

# The artifacts built by build/lambda_artifact.py from this venv's packages (offline), each
# answering a sample event alone with the layer, as in Lambda. `make test` runs it too.
build-check: $(STAMP)
	$(BIN)/python -m pytest tests/template/test_build.py

clean:
	rm -rf $(VENV) .aws-sam .pytest_cache .mypy_cache .ruff_cache .local
