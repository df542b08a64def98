# hubspot-unsubscribe-all: every task starts from a fresh machine; the first one builds .venv.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV := .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed
CHECKOV_VENV := .venv-checkov
# The SAM CLI reports usage unless told not to; this workplace is offline.
export SAM_CLI_TELEMETRY := 0
# The venv's bin holds python3.13, which `sam build` needs for the python3.13 runtime.
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)

PYTEST_WORKERS ?= auto
LINT_PATHS := functions local operator_cli bench tests

.PHONY: help run test lint validate checkov bench soak build deploy clean venv

help: ## list the tasks
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(INSTALLED): requirements-dev.txt functions/unsubscribe_all/requirements.txt pyproject.toml
	@test -x $(PY) || $$(local/find-python.sh) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt -e .
	@touch $@

venv: $(INSTALLED) ## create .venv and install everything (the other tasks do it on first use)

run: $(INSTALLED) ## the service on one machine: moto + HubSpot sandbox + Lambda runners (ONCE=1 exits after the demo)
	$(PY) -m local.run $(if $(ONCE),--once)

test: $(INSTALLED) ## the whole test suite
	$(PY) -m pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

lint: $(INSTALLED) ## ruff and mypy
	$(VENV)/bin/ruff check $(LINT_PATHS)
	$(VENV)/bin/ruff format --check $(LINT_PATHS)
	$(VENV)/bin/mypy $(LINT_PATHS)

clean: ## remove the virtual environments and build output
	rm -rf $(VENV) $(CHECKOV_VENV) $(SDK_VENV) .aws-sam .run .pytest_cache .mypy_cache .ruff_cache .hypothesis

# checkov pins boto3/botocore versions that clash with ours, so it lives in a venv of its own;
# --skip-download and BC_SKIP_MAPPING keep it from calling its vendor's platform (offline here).
CHECKOV_VERSION := 3.3.30
SAM_BUILD_DIR := .aws-sam/build/UnsubscribeAllFunction

validate: $(INSTALLED) ## sam validate --lint and cfn-lint on template.yaml (offline)
	$(VENV)/bin/sam validate --lint --region $${AWS_REGION:-us-east-1}
	$(VENV)/bin/cfn-lint template.yaml

$(CHECKOV_VENV)/bin/checkov:
	@test -x $(CHECKOV_VENV)/bin/python || $$(local/find-python.sh) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --quiet --disable-pip-version-check checkov==$(CHECKOV_VERSION)

checkov: $(INSTALLED) $(CHECKOV_VENV)/bin/checkov ## checkov security scan of template.yaml (own venv, installed on first use)
	BC_SKIP_MAPPING=TRUE $(CHECKOV_VENV)/bin/checkov --quiet --compact --skip-download \
		--framework cloudformation --file template.yaml

build: $(INSTALLED) ## sam build, with the bytecode a cold start needs (Lambda cannot write it), and the package size
	$(VENV)/bin/sam build --cached --parallel
	python3.13 local/precompile.py $(SAM_BUILD_DIR)
	@echo "package: $$(du -sh --apparent-size $(SAM_BUILD_DIR) | cut -f1) unzipped;" \
		"without boto3/botocore: $$(du -sh --apparent-size --exclude='boto3*' --exclude='botocore*' $(SAM_BUILD_DIR) | cut -f1)"

deploy: build ## sam build and sam deploy (CONFIG_ENV=prod for samconfig's prod; none: guided)
	$(VENV)/bin/sam deploy $(if $(CONFIG_ENV),--config-env $(CONFIG_ENV),--guided)

# The hubspot-sdk baseline (a pre-release, pinned) gets a venv of its own, beside the function's
# dependencies; if it cannot be installed, the benchmark says so in its table instead of failing.
SDK_VENV := .venv-bench-sdk

$(SDK_VENV)/.installed: bench/requirements-sdk.txt functions/unsubscribe_all/requirements.txt
	@test -x $(SDK_VENV)/bin/python || $$(local/find-python.sh) -m venv $(SDK_VENV)
	$(SDK_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r bench/requirements-sdk.txt \
		&& touch $@ || echo "hubspot-sdk could not be installed: its benchmark figures will read n/a"

bench: $(INSTALLED) $(SDK_VENV)/.installed $(if $(QUICK),,build) ## figures against the baselines: a table and bench/results.json (QUICK=1: under a minute)
	$(PY) -m bench $(if $(QUICK),--quick) $(if $(BENCH_OUTPUT),--output $(BENCH_OUTPUT))

soak: $(INSTALLED) ## the queue soak (5,000 messages, faults) and the API under load (5,000 requests); SOAK_MESSAGES=N, SOAK_REQUESTS=N scale them
	$(PY) -m local.soak $(if $(SOAK_MESSAGES),--messages $(SOAK_MESSAGES)) $(if $(SOAK_REQUESTS),--requests $(SOAK_REQUESTS))
