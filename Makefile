# The two commands of the README: `make demo` and `make test`. Both create the environment.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CORES ?= 2

.PHONY: demo test lint format bench env clean browser

env: $(STAMP)

# The virtualenv is rebuilt when the pins or the package metadata change.
$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -c constraints.txt -e ".[dev,slurm]"
	touch $(STAMP)

# The rules call `vitbias`: put the environment's scripts first on PATH.
demo: $(STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/snakemake --cores $(CORES) --configfile config/config.yaml

test: $(STAMP) browser
	$(BIN)/python -m pytest -n $(CORES) --dist loadfile

# The report test opens the HTML in Debian's headless Chromium; install it where we can.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	  else echo "chromium not found and not root: the browser test will skip"; fi; }

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
