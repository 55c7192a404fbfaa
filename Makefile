# rflesson: two commands do everything.
#   make lab    set up .venv (once) and open the course in JupyterLab
#   make test   set up .venv (once, plus the maintainers' tools) and run every check
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PIP := $(BIN)/pip install --disable-pip-version-check
# The course's tested PyTorch.  On these machines this pin takes the CPU wheel
# that is already on disk; a bare range would pull a multi-GB CUDA build.
TORCH_PIN ?= torch==2.13.0
# torchvision's model code, for the tests that compare with its models.  --no-deps:
# its wheel wants another torch, and its compiled ops do not load beside the CPU one.
TORCHVISION_PIN ?= torchvision==0.28.0
# One stamp per set: what a learner needs (the course and JupyterLab), then what
# only the maintainers' checks need (pytest, nbval, ruff, hypothesis, playwright).
LAB_STAMP := $(VENV)/.rflesson-lab
TEST_STAMP := $(VENV)/.rflesson-test
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root,)
TEST_TIMEOUT ?= 3000
LAB_SETTINGS := $(VENV)/share/jupyter/lab/settings/overrides.json
START_PAGE := notebooks/00_start_here.ipynb
# More JupyterLab options, e.g. make lab LAB_ARGS="--port=8890 --no-browser"
LAB_ARGS ?=
NBVAL := --nbval --nbval-current-env --nbval-sanitize-with tests/sanitize.cfg

.PHONY: setup setup-test lab test lint unit nbval nbval-portable notebooks catalogs student bench clean

setup: $(LAB_STAMP)

setup-test: $(TEST_STAMP)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Each stamp re-runs only when pyproject.toml changes: a second `make` installs nothing.
$(LAB_STAMP): pyproject.toml | $(BIN)/python
	$(PIP) "$(TORCH_PIN)" -e ".[course]"
	mkdir -p $(dir $(LAB_SETTINGS))
	printf '%s\n' '{"@jupyterlab/apputils-extension:notification": {"fetchNews": "false", "checkForUpdates": false}}' > $(LAB_SETTINGS)
	touch $@

$(TEST_STAMP): $(LAB_STAMP)
	$(PIP) "$(TORCH_PIN)" -e ".[course,dev]"
	$(PIP) --no-deps "$(TORCHVISION_PIN)" pillow
	touch $@

# Serves the repository root (so student/ is in the file browser) and opens the start page.
# Writes the learner's copies to student/ only when there is no student/ yet.
lab: setup
	test -d student || { $(BIN)/python -m rflesson.course student notebooks student && \
		$(BIN)/python -m rflesson.course student notebooks/vi student/vi; }
	@echo "rflesson: to stop JupyterLab, press Ctrl-C twice here (or run '$(BIN)/jupyter server stop' elsewhere)"
	$(BIN)/jupyter lab --ServerApp.root_dir=. $(START_PAGE) $(ROOT_FLAG) $(LAB_ARGS)

# Strict nbval on every notebook twice: with oneDNN off (a stand-in for another CPU:
# stored outputs must not depend on the convolution kernels), then as is, with the rest.
test: lint nbval-portable
	timeout $(TEST_TIMEOUT) $(BIN)/pytest tests notebooks $(NBVAL)

lint: setup-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

unit: setup-test
	$(BIN)/pytest tests

nbval: setup-test
	timeout $(TEST_TIMEOUT) $(BIN)/pytest notebooks $(NBVAL)

nbval-portable: setup-test
	timeout $(TEST_TIMEOUT) $(BIN)/pytest notebooks $(NBVAL) --onednn-off

# Re-execute every notebook in place, top to bottom in a fresh kernel; then build the
# Vietnamese edition from the English notebooks and the catalogs, and execute it too.
notebooks: setup-test
	$(BIN)/python -m rflesson.course execute notebooks/*.ipynb
	$(BIN)/python -m rflesson.course translate
	$(BIN)/python -m rflesson.course execute notebooks/vi/*.ipynb

# Bring the Vietnamese catalogs up to date with the English sources (prints what is left
# to translate) and compile rflesson's catalog.
catalogs: setup-test
	$(BIN)/python -m rflesson.course catalogs

# Learner copies (solutions replaced by stubs) in student/ and student/vi/, overwriting
# what is there.
student: setup
	$(BIN)/python -m rflesson.course student notebooks student
	$(BIN)/python -m rflesson.course student notebooks/vi student/vi

# The demos' timings, and the RF engine beside torchscan (the `bench` extra, pinned).
bench: setup-test
	$(PIP) "$(TORCH_PIN)" -e ".[course,bench]"
	$(BIN)/python benchmarks/run.py

# Keeps student/: it holds a learner's work (`rm -rf student` to start afresh).
clean:
	rm -rf .pytest_cache .ruff_cache .hypothesis
