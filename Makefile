# make book   -- build the HTML report from the committed results (no training)
# make test   -- lint + the test suite (includes the browser test of the built site)
# See README.md for every target.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PROFILE ?=
JOBS ?= 1
ABLATIONS ?=
SEEDS ?=

.PHONY: setup data test lint book serve runs bench info clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || python3.11 -m venv $(VENV) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

# Fashion-MNIST from Debian's package when it is missing and apt is usable.
data:
	@if [ -z "$$FASHION_MNIST_DIR" ] && [ ! -e /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ]; then \
		if command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ]; then \
			apt-get update -qq && apt-get install -y -qq dataset-fashion-mnist; \
		else echo "Install dataset-fashion-mnist (apt) or set FASHION_MNIST_DIR"; fi; \
	fi

lint: setup
	$(VENV)/bin/ruff check lib tests
	$(VENV)/bin/ruff format --check lib tests

test: setup data lint
	$(VENV)/bin/pytest -q

runs: setup data
	$(PY) -m lib runs --profile $(or $(PROFILE),smoke) --jobs $(JOBS) \
		$(if $(ABLATIONS),--ablations $(ABLATIONS)) $(if $(SEEDS),--seeds $(SEEDS))

info: setup
	$(PY) -m lib info

clean:
	rm -rf _build
