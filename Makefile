# Every target that needs the environment builds it first: `make test` and
# `make report` work on a fresh clone with nothing but python3 installed.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DATA   ?= datasets/ucdp_ged_iraq_isis.csv
OUT    ?= reports/report.html

.PHONY: install test report bench lint clean

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

test: $(STAMP)
	$(BIN)/python -m pytest -n 2 -q

report: $(STAMP)
	$(BIN)/casualtystats report $(DATA) -o $(OUT)

bench: $(STAMP)
	$(BIN)/python benchmarks/run_all.py

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

clean:
	rm -rf $(VENV) reports/*.html .pytest_cache
