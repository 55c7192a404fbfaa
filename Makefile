# rflesson: two commands do everything.
#   make lab    set up .venv (once) and open the course in JupyterLab
#   make test   set up .venv (once) and run every check
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# The course's tested PyTorch.  On these machines this pin takes the CPU wheel
# that is already on disk; a bare range would pull a multi-GB CUDA build.
TORCH_PIN ?= torch==2.13.0
STAMP := $(VENV)/.rflesson-installed
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root,)
TEST_TIMEOUT ?= 3000
LAB_SETTINGS := $(VENV)/share/jupyter/lab/settings/overrides.json
NBVAL := --nbval --nbval-current-env --nbval-sanitize-with tests/sanitize.cfg

.PHONY: setup lab test lint unit nbval notebooks student bench clean

setup: $(STAMP)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Re-runs only when pyproject.toml changes: a second `make` installs nothing.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --disable-pip-version-check "$(TORCH_PIN)" -e ".[course,dev]"
	mkdir -p $(dir $(LAB_SETTINGS))
	printf '%s\n' '{"@jupyterlab/apputils-extension:notification": {"fetchNews": "false", "checkForUpdates": false}}' > $(LAB_SETTINGS)
	touch $@

lab: setup
	$(BIN)/jupyter lab notebooks/00_start_here.ipynb $(ROOT_FLAG)

test: setup lint
	timeout $(TEST_TIMEOUT) $(BIN)/pytest tests notebooks $(NBVAL)

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

unit: setup
	$(BIN)/pytest tests

nbval: setup
	timeout $(TEST_TIMEOUT) $(BIN)/pytest notebooks $(NBVAL)

# Re-execute every notebook in place, top to bottom in a fresh kernel.
notebooks: setup
	$(BIN)/python -m rflesson.course execute notebooks/*.ipynb

# Learner copies (solutions replaced by stubs) in student/.
student: setup
	$(BIN)/python -m rflesson.course student notebooks student

bench: setup
	$(BIN)/python benchmarks/run.py

clean:
	rm -rf student .pytest_cache .ruff_cache .hypothesis
