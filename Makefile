# Two commands for a fresh machine:
#   make demo   install everything and run the end-to-end tour on the embedded model
#   make test   install everything and run the whole test suite
# The first install compiles llama-cpp-python from source (10-25 min on 2 cores); pip caches the wheel.

PYTHON ?= python3
VENV ?= .venv
# Llama Stack 0.7 needs Python >= 3.12: pyenv's, or python3.12 on PATH
PYENV_ROOT ?= $(or $(shell pyenv root 2>/dev/null),$(HOME)/.pyenv)
PY312 ?= $(firstword $(wildcard $(PYENV_ROOT)/versions/3.12*/bin/python3.12 /root/.pyenv/versions/3.12*/bin/python3.12) $(shell command -v python3.12 2>/dev/null))
LLS_VENV ?= .lls-venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check -q

.PHONY: demo test bench install install-test lls-venv clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --upgrade pip

$(VENV)/.installed-demo: pyproject.toml | $(PY)
	$(PIP) install -e '.[embedded,frames]'
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(PY)
	$(PIP) install -e '.[embedded,frames,openai,test]'
	touch $@

# The real Llama Stack server the contract tests start: slim pinned install (no Oracle/Postgres extras).
$(LLS_VENV)/.installed: ci/llama-stack-requirements.txt ci/llama-stack-constraints.txt
	@test -n "$(PY312)" || { echo "Llama Stack needs Python 3.12: install it (e.g. pyenv install 3.12) or set PY312=/path/to/python3.12"; exit 1; }
	$(PY312) -m venv $(LLS_VENV)
	$(LLS_VENV)/bin/python -m pip --disable-pip-version-check -q install --upgrade pip
	$(LLS_VENV)/bin/python -m pip --disable-pip-version-check -q install --no-deps llama-stack==0.7.3 llama-stack-api==0.7.3
	$(LLS_VENV)/bin/python -m pip --disable-pip-version-check -q install -r ci/llama-stack-requirements.txt -c ci/llama-stack-constraints.txt
	touch $@

lls-venv: $(LLS_VENV)/.installed

install: $(VENV)/.installed-demo

install-test: $(VENV)/.installed-test

demo: $(VENV)/.installed-demo
	$(PY) examples/demo.py

test: $(VENV)/.installed-test $(LLS_VENV)/.installed
	$(PY) -m pytest

bench: $(VENV)/.installed-test $(LLS_VENV)/.installed
	$(PY) bench/bench_import.py
	$(PY) bench/bench_tokens.py
	$(PY) bench/bench_http.py
	$(PY) bench/bench_load_ext.py
	$(PY) bench/bench_grid.py

clean:
	rm -rf $(VENV) $(LLS_VENV) .llamabook-demo .pytest_cache

print-%:
	@echo $($*)
