# Two commands on a fresh machine with Python 3.11: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: run test eval bench clean

$(BIN)/cmclassify: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $@

run: $(BIN)/cmclassify  ## analyse the bundled sample ads: tables and HTML report in out/
	$(BIN)/cmclassify analyse data/sample_ads.jsonl -o out
	$(BIN)/cmclassify report data/sample_ads.jsonl -o out/report.html

test: $(BIN)/cmclassify  ## run the test suite
	$(BIN)/python -m pytest

eval: $(BIN)/cmclassify  ## score on the shared gold ads
	$(BIN)/cmclassify evaluate ../shared/eval/dev.jsonl

clean:
	rm -rf out build *.egg-info .pytest_cache
