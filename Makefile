# On a fresh machine:
#   make        (= make start) install everything and open the tutorial notebooks in JupyterLab;
#               with no display (or HEADLESS=1) run them all headless and say where the results are
#   make demo   install the core and run a short end-to-end tour script on the embedded model
#   make test   install everything and run every test: pytest (incl. real-browser tests), the
#               notebooks under strict nbval, and the docs build
# The first install compiles llama-cpp-python from source (8-25 min on 2 cores), portably
# (GGML_NATIVE=OFF: the same model text on every x86-64 CPU with AVX2), once per machine into
# ~/.cache/llamabook/wheels/ (ci/llama-cpp-wheel.sh); every later venv installs that wheel.

PYTHON ?= python3
VENV ?= .venv
# Llama Stack 0.7 needs Python >= 3.12: pyenv's, or python3.12 on PATH
PYENV_ROOT ?= $(or $(shell pyenv root 2>/dev/null),$(HOME)/.pyenv)
PY312 ?= $(firstword $(wildcard $(PYENV_ROOT)/versions/3.12*/bin/python3.12 /root/.pyenv/versions/3.12*/bin/python3.12) $(shell command -v python3.12 2>/dev/null))
LLS_VENV ?= .lls-venv
OGX_VENV ?= .ogx-venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check -q

.PHONY: start demo test test-python test-browser bench install install-test install-browser lls-venv llama-cpp-wheel clean

start: $(VENV)/.installed-notebooks $(if $(PY312),$(OGX_VENV)/.installed)
	@if [ -z "$(HEADLESS)" ] && [ -n "$$DISPLAY$$WAYLAND_DISPLAY" ]; then \
	  echo "Opening JupyterLab on notebooks/ (Ctrl-C to stop; HEADLESS=1 make runs them without a browser)"; \
	  $(VENV)/bin/jupyter lab notebooks/ $(if $(filter 0,$(shell id -u)),--allow-root); \
	else \
	  echo "No display (or HEADLESS=1): running every notebook headless"; \
	  $(PY) notebooks/run_headless.py; \
	  echo "Open them later with: $(VENV)/bin/jupyter lab notebooks/"; \
	fi

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --upgrade pip

# llama-cpp-python, portable, from the per-machine wheel cache (built there on first use). pip's
# own wheel cache is not used for it: its key ignores CMAKE_ARGS and could hand back a native build.
$(VENV)/.installed-llama-cpp: ci/llama-cpp-wheel.sh | $(PY)
	$(PIP) install "$$(PYTHON=$(PY) bash ci/llama-cpp-wheel.sh)"
	touch $@

llama-cpp-wheel:
	@PYTHON=$(PYTHON) bash ci/llama-cpp-wheel.sh

$(VENV)/.installed-demo: pyproject.toml $(VENV)/.installed-llama-cpp | $(PY)
	$(PIP) install -e '.[embedded,frames]'
	touch $@

# Everything `make test` runs. Without rfc3987-syntax/lark (see .installed-notebooks below).
$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed-llama-cpp | $(PY)
	$(PIP) install -e '.[embedded,frames,openai,test,widgets,browser,notebooks,docs]'
	$(PIP) uninstall -y rfc3987-syntax lark
	touch $@

# Browser tests: JupyterLab and Notebook 7 + Playwright driving the OS's Chromium (never `playwright install`).
$(VENV)/.installed-browser: pyproject.toml $(VENV)/.installed-llama-cpp | $(PY)
	$(PIP) install -e '.[embedded,widgets,browser]'
	touch $@

CHROMIUM ?= /usr/bin/chromium
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)
$(CHROMIUM):
	$(SUDO) apt-get update -q
	DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q chromium fonts-dejavu-core

# The real Llama Stack server the contract tests start: slim pinned install (no Oracle/Postgres extras).
$(LLS_VENV)/.installed: ci/llama-stack-requirements.txt ci/llama-stack-constraints.txt
	@test -n "$(PY312)" || { echo "Llama Stack needs Python 3.12: install it (e.g. pyenv install 3.12) or set PY312=/path/to/python3.12"; exit 1; }
	$(PY312) -m venv $(LLS_VENV)
	$(LLS_VENV)/bin/python -m pip --disable-pip-version-check -q install --upgrade pip
	$(LLS_VENV)/bin/python -m pip --disable-pip-version-check -q install --no-deps llama-stack==0.7.3 llama-stack-api==0.7.3
	$(LLS_VENV)/bin/python -m pip --disable-pip-version-check -q install -r ci/llama-stack-requirements.txt -c ci/llama-stack-constraints.txt
	touch $@

lls-venv: $(LLS_VENV)/.installed

# The real OGX 1.5 server (Llama Stack's new name) the contract tests also start: slim pinned install.
$(OGX_VENV)/.installed: ci/ogx-requirements.txt ci/ogx-constraints.txt
	@test -n "$(PY312)" || { echo "OGX needs Python 3.12: install it (e.g. pyenv install 3.12) or set PY312=/path/to/python3.12"; exit 1; }
	$(PY312) -m venv $(OGX_VENV)
	$(OGX_VENV)/bin/python -m pip --disable-pip-version-check -q install --upgrade pip
	$(OGX_VENV)/bin/python -m pip --disable-pip-version-check -q install --no-deps ogx==1.5.0 ogx-api==1.5.0
	$(OGX_VENV)/bin/python -m pip --disable-pip-version-check -q install -r ci/ogx-requirements.txt -c ci/ogx-constraints.txt
	touch $@

.PHONY: ogx-venv
ogx-venv: $(OGX_VENV)/.installed

install: $(VENV)/.installed-demo

install-test: $(VENV)/.installed-test

install-browser: $(VENV)/.installed-browser $(CHROMIUM)

demo: $(VENV)/.installed-demo
	$(PY) examples/demo.py

test: test-python test-notebooks notebooks-live binder-check docs

# The pytest suite, real-browser tests included (a missing browser piece fails, never skips).
test-python: $(VENV)/.installed-test $(LLS_VENV)/.installed $(OGX_VENV)/.installed $(CHROMIUM)
	LLAMABOOK_REQUIRE_BROWSER=1 LLAMABOOK_CHROMIUM=$(CHROMIUM) $(PY) -m pytest

# One JupyterLab (and one Notebook 7 for test_notebook7.py's smoke subset) + one headless Chromium;
# screenshots and logs in test-artifacts/browser/.
# LLAMABOOK_REQUIRE_BROWSER=1: a missing piece fails the run instead of skipping it.
test-browser: $(VENV)/.installed-browser $(CHROMIUM)
	LLAMABOOK_REQUIRE_BROWSER=1 LLAMABOOK_CHROMIUM=$(CHROMIUM) $(PY) -m pytest tests/browser

# docs/img/*.png, taken in the browser tests' JupyterLab + Chromium (not part of `make test`).
.PHONY: screenshots
screenshots: $(VENV)/.installed-test $(CHROMIUM)
	LLAMABOOK_REQUIRE_BROWSER=1 LLAMABOOK_CHROMIUM=$(CHROMIUM) $(PY) -m pytest tests/browser/docs_screenshots.py -p no:cacheprovider -q

bench: $(VENV)/.installed-test $(LLS_VENV)/.installed
	$(PY) bench/bench_import.py
	$(PY) bench/bench_tokens.py
	$(PY) bench/bench_http.py
	$(PY) bench/bench_load_ext.py
	$(PY) bench/bench_grid.py
	$(PY) bench/bench_structured.py
	$(PY) bench/bench_embedded_grid.py
	$(PY) bench/bench_significance.py

# Bad inputs, faults, crashes (SIGKILL), security and load: runs those tests, then writes
# bench/results/reliability.json and prints the summary table (see docs/reliability.md).
.PHONY: reliability
reliability: $(VENV)/.installed-test $(LLS_VENV)/.installed
	$(PY) bench/reliability.py

# ---- Tutorial notebooks, Binder and docs ---------------------------------------------------
.PHONY: install-notebooks notebooks test-notebooks notebooks-headless binder-check docs

# The notebooks extra, then without rfc3987-syntax/lark: jsonschema compiles a lark grammar at
# import (2-3 s in every nbval/nbclient process) and loses only its "iri" format check without it.
$(VENV)/.installed-notebooks: pyproject.toml $(VENV)/.installed-llama-cpp | $(PY)
	$(PIP) install -e '.[notebooks]'
	$(PIP) uninstall -y rfc3987-syntax lark
	touch $@

$(VENV)/.installed-docs: pyproject.toml | $(PY)
	$(PIP) install -e '.[docs]'
	touch $@

install-notebooks: $(VENV)/.installed-notebooks

# Regenerate notebooks/*.ipynb from notebooks/src/ and save them with their outputs: record every
# model and server call again into notebooks/cassettes/ (live: real model, real OGX server), then
# build once more replaying them, so the saved outputs are what `make test-notebooks` sees.
notebooks: $(VENV)/.installed-notebooks $(OGX_VENV)/.installed
	LLAMABOOK_RECORD=all $(PY) notebooks/build.py
	env -u LLAMABOOK_BASE_URL -u LLAMABOOK_CASSETTE LLAMABOOK_RECORD=none $(PY) notebooks/build.py

# nbval in strict mode, replaying the cassettes (no model, no server): the same on every machine.
# Every stored output must match (ids, times, latencies, ports and the record mode sanitized).
test-notebooks: $(VENV)/.installed-notebooks
	env -u LLAMABOOK_BASE_URL -u LLAMABOOK_CASSETTE LLAMABOOK_RECORD=none $(PY) -m pytest --nbval --nbval-current-env --nbval-sanitize-with notebooks/nbval_sanitize.cfg notebooks/*.ipynb -p no:cacheprovider

# Every notebook live (real model; a real OGX server for 05) on a copy: fails only if a cell
# fails; reports how many model answers differ from the committed cassettes.
.PHONY: notebooks-live
notebooks-live: $(VENV)/.installed-notebooks $(OGX_VENV)/.installed
	env -u LLAMABOOK_BASE_URL -u LLAMABOOK_CASSETTE $(PY) notebooks/live_check.py

# Run every notebook without a display into build/notebooks/ (.ipynb + .html). Notebook 05 uses
# $$LLAMABOOK_BASE_URL, else a local OGX server (.ogx-venv, built when Python 3.12 is found),
# else replays its recorded session.
notebooks-headless: $(VENV)/.installed-notebooks $(if $(PY312),$(OGX_VENV)/.installed)
	$(PY) notebooks/run_headless.py

# A fresh venv from binder/ alone (as mybinder.org would build it), then every notebook under strict nbval, replaying its cassette.
binder-check:
	PYTHON=$(PYTHON) bash binder/verify.sh

# The documentation site, built strictly into site/ (the magics, errors and columns pages are generated).
docs: $(VENV)/.installed-docs
	NO_MKDOCS_2_WARNING=1 $(PY) -m mkdocs build --strict --site-dir site

clean:
	rm -rf $(VENV) $(LLS_VENV) $(OGX_VENV) .llamabook-demo .pytest_cache

print-%:
	@echo $($*)
