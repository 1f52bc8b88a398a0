# Each target creates .venv when it is missing and installs what it needs.
# torch is pinned to the CPU wheel this machine serves from disk: a bare
# "torch" requirement would resolve to a multi-GB CUDA build.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
TORCH  ?= torch==2.13.0
PYTEST_ARGS ?=

.PHONY: test demo bench install clean

$(VENV)/.installed: pyproject.toml setup.cfg
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet "$(TORCH)" -e ".[test]"
	touch $@

install: $(VENV)/.installed

test: $(VENV)/.installed
	$(PY) -m pytest $(PYTEST_ARGS)

demo: $(VENV)/.installed
	$(PY) benchmarks/demo.py

$(VENV)/.bench: $(VENV)/.installed
	$(PY) -m pip install --quiet "$(TORCH)" -e ".[test,bench]"
	touch $@

bench: $(VENV)/.bench
	$(PY) benchmarks/fit_time.py
	$(PY) benchmarks/reconstruction.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
