# Every target creates .venv on demand, so a fresh clone needs no separate install step.
# PYTHON=python3.12 (any of 3.10-3.13) works in an environment of its own, .venv-3.12.
PYTHON ?= python3
ifeq ($(origin PYTHON),file)
VENV ?= .venv
else
PYTHON_VERSION := $(shell $(PYTHON) -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null)
VENV ?= .venv-$(PYTHON_VERSION)
endif
PY := $(VENV)/bin/python
SUBMISSION ?= exercises
JOBS ?= 2
# The PyTorch edition's packages: auto installs them on Python 3.11 (whose CPU build of torch
# is at hand here), yes everywhere (a CUDA build is several GB), no nowhere.
PYTORCH ?= auto

.PHONY: setup test grade check exercises release gradescope classroom50 prairielearn lint bench gpu-check screenshots clean

setup: $(VENV)/.installed

# requirements.txt has the pins of each Python version. Where numpy 2 is used, mxnet (which
# declares numpy<2) comes from requirements-mxnet.txt without its dependencies, like the book's
# packages; the start-up hook lets every process of the environment import MXNet on numpy 2.
$(VENV)/.installed: pyproject.toml requirements.txt requirements-mxnet.txt requirements-book.txt requirements-pytorch.txt Makefile
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 10), sys.version' 2>/dev/null || \
	  { echo "make: $(PYTHON) is not a Python 3.10 or newer (set PYTHON=python3.X)"; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	$(PY) -m pip install --quiet --no-deps -r requirements-mxnet.txt
	$(PY) -m pip install --quiet --no-deps -r requirements-book.txt
	if [ "$(PYTORCH)" = yes ] || { [ "$(PYTORCH)" = auto ] && \
	    $(PY) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; }; then \
	  $(PY) -m pip install --quiet -r requirements-pytorch.txt; fi
	$(PY) -m grader.frameworks.mxnet_compat
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

# Classroom 50's per-assignment autograder folder (OUT=folder, default classroom50/).
classroom50: setup
	$(PY) -m grader classroom50 $(or $(OUT),classroom50)

# PrairieLearn's external grader: image/ and serverFilesCourse/ (OUT=folder).
prairielearn: setup
	$(PY) -m grader prairielearn $(or $(OUT),prairielearn)

exercises: setup
	$(PY) -m grader exercises

lint: setup
	$(PY) -m ruff check grader tests bench
	$(PY) -m ruff format --check grader tests bench

bench: setup
	$(PY) bench/run.py

# On a machine with NVIDIA GPUs: the PyTorch edition graded on every GPU in the sandbox.
gpu-check: setup
	$(PY) bench/gpu_check.py

# The README's pictures, taken by the browser tests.
screenshots: setup
	GRADER_SCREENSHOTS=docs $(PY) -m pytest -q tests/test_browser.py

clean:
	rm -rf $(VENV) .pytest_cache build dist *.egg-info
