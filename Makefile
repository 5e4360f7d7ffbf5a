# Every target creates .venv on demand, so a fresh clone needs no separate install step.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
SUBMISSION ?= exercises
JOBS ?= 2

.PHONY: setup test grade check exercises release gradescope lint bench screenshots clean

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

test: setup
	$(PY) -m pytest -n $(JOBS)

grade: setup
	$(PY) -m grader grade $(SUBMISSION)

check: setup
	$(PY) -m grader check $(SUBMISSION)

release: setup
	$(PY) -m grader release $(or $(OUT),release)

gradescope: setup
	$(PY) -m grader autograder-zip autograder.zip

exercises: setup
	$(PY) -m grader exercises

lint: setup
	$(PY) -m ruff check grader tests bench
	$(PY) -m ruff format --check grader tests bench

bench: setup
	$(PY) bench/run.py

# The README's pictures, taken by the browser tests.
screenshots: setup
	GRADER_SCREENSHOTS=docs $(PY) -m pytest -q tests/test_browser.py

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
