# The two commands of the README: `make demo` and `make test`. Both create the environment.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CORES ?= 2

.PHONY: demo test lint format bench env clean

env: $(STAMP)

# The virtualenv is rebuilt when the pins or the package metadata change.
$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -c constraints.txt -e ".[dev,slurm]"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/snakemake --cores $(CORES) --configfile config/config.yaml

test: $(STAMP)
	$(BIN)/python -m pytest -n $(CORES) --dist loadfile

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/snakefmt --check Snakefile workflow/rules

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .
	$(BIN)/snakefmt Snakefile workflow/rules

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_association.py
	$(BIN)/python benchmarks/bench_embed.py

clean:
	rm -rf results reports/index.html reports/figures .snakemake
