# Each target creates .venv when it is missing and installs what it needs.
# torch is pinned to the CPU wheel this machine serves from disk: a bare
# "torch" requirement would resolve to a multi-GB CUDA build.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
TORCH  ?= torch==2.13.0
PYTEST_ARGS ?=
SPHINXOPTS ?=

.PHONY: test demo bench docs install clean

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
	$(PY) benchmarks/speed.py --sections fit gemm inference
	$(PY) benchmarks/reconstruction.py

# The documentation site, gallery included, built offline with warnings as errors.
# SKAUTOENCODER_INTERSPHINX=1 links to the Python, numpy, scikit-learn, PyTorch and
# matplotlib docs (needs the network).
$(VENV)/.docs: $(VENV)/.installed
	$(PY) -m pip install --quiet "$(TORCH)" -e ".[test,doc]"
	touch $@

docs: $(VENV)/.docs
	$(PY) -m sphinx -W --keep-going -b html $(SPHINXOPTS) doc doc/_build/html
	@echo "HTML pages: doc/_build/html/index.html"

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache doc/_build doc/auto_examples doc/generated doc/sg_execution_times.rst
