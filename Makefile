# The two commands of the README: `make demo` and `make test`. Both set up what they need.
SHELL := /bin/bash
VENV ?= .venv
PYTHON ?= python3
BIN := $(CURDIR)/$(VENV)/bin
export PATH := $(BIN):$(PATH)
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg

.PHONY: help setup system-deps demo demo-down tui bench bench-variants lint test clean

help:
	@echo "make demo       deploy the example apps onto local throwaway containers"
	@echo "make demo-down  remove the demo containers"
	@echo "make tui        the admin console on the demo inventory"
	@echo "make bench      throughput of the demo deployments (wrk), next to the reference figures"
	@echo "make bench-variants  deployed defaults vs hand-tuned variants in own containers (scripts/bench)"
	@echo "make test       the whole test suite (lint, unit, apps, Molecule scenarios)"
	@echo "make lint       yamllint, ansible-lint (production profile), ruff"

$(VENV)/.installed: requirements.txt constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -r requirements.txt -c constraints.txt
	@if [ -f tui/pyproject.toml ]; then $(BIN)/pip install -q --no-deps -e tui; fi
	touch $@

system-deps:
	@scripts/system-deps.sh

setup: system-deps $(VENV)/.installed

demo: setup
	scripts/containers.sh demo-up
	ansible-playbook site.yml -i inventory/demo
	@ansible-playbook playbooks/demo_info.yml -i inventory/demo

tui: setup
	wsgi-console -i inventory/demo

bench: setup
	@command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
	$(BIN)/python scripts/bench_stacks.py

# Deployed defaults against hand-tuned variants of the same stack, in the same containers
# (wsgi-bench-*), alternated rounds (README "Benchmark"). BENCH_ARGS: e.g. --only serve.
bench-variants: setup
	@command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
	$(BIN)/python -m scripts.bench $(BENCH_ARGS)

demo-down:
	scripts/containers.sh demo-down

lint: setup
	yamllint .
	ansible-lint
	ruff check .
	ruff format --check .

test: setup
	scripts/test.sh

clean: demo-down
	rm -rf $(VENV)
