# Two commands for a fresh machine:
#   make demo   install everything and run the end-to-end tour on the embedded model
#   make test   install everything and run the whole test suite
# The first install compiles llama-cpp-python from source (10-25 min on 2 cores); pip caches the wheel.

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check -q

.PHONY: demo test bench install install-test clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --upgrade pip

$(VENV)/.installed-demo: pyproject.toml | $(PY)
	$(PIP) install -e '.[embedded,frames]'
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(PY)
	$(PIP) install -e '.[embedded,frames,openai,test]'
	touch $@

install: $(VENV)/.installed-demo

install-test: $(VENV)/.installed-test

demo: $(VENV)/.installed-demo
	$(PY) examples/demo.py

test: $(VENV)/.installed-test
	$(PY) -m pytest

bench: $(VENV)/.installed-test
	$(PY) bench/bench_import.py
	$(PY) bench/bench_tokens.py

clean:
	rm -rf $(VENV) .llamabook-demo .pytest_cache
