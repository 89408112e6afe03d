# make book   -- build the HTML report from the committed results (no training)
# make test   -- lint + the test suite (includes the browser test of the built site)
# See README.md for every target.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PROFILE ?=
JOBS ?= 1
ARMS ?=
SEEDS ?=

.PHONY: setup data browser test lint book serve runs campaign campaign-status campaign-commit bench info clean

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

# Debian's chromium for the browser test of the site (tests/test_book.py), like `make data`.
browser:
	@if ! command -v chromium >/dev/null; then \
		if command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ]; then \
			apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium; \
		else echo "The browser test needs Debian's chromium: run 'apt-get install chromium' as root"; \
			exit 1; fi; \
	fi

lint: setup
	$(VENV)/bin/ruff check lib tests book
	$(VENV)/bin/ruff format --check lib tests book

test: setup data browser lint
	$(VENV)/bin/pytest -q -n 2  # two workers (tests/conftest.py: the book tests share one)

runs: setup data
	$(PY) -m lib runs --profile $(or $(PROFILE),smoke) --jobs $(JOBS) \
		$(if $(ARMS),--arms $(ARMS)) $(if $(SEEDS),--seeds $(SEEDS))

# The paper campaign in chunks: each `make campaign` checks HEAD out into .campaign/worktree
# and runs the plan's next runs there in the background for BUDGET (no training step starts
# that cannot end within it; paused runs resume next time). Records land in results/paper/.
# RUNS_AT_ONCE=1 gives one run both cores (a long run that must end within the chunk).
# ACROSS_CHUNKS=1 also starts runs longer than the chunk: they pause with their checkpoint
# and resume in the next chunk, where the checkout (and its git-ignored checkpoints) lasts.
BUDGET ?= 150m
RUNS_AT_ONCE ?= 2
campaign: setup data
	$(PY) -m lib campaign start --budget $(BUDGET) --jobs $(RUNS_AT_ONCE) \
		$(if $(filter 1,$(ACROSS_CHUNKS)),--across-chunks)

campaign-status: setup
	$(PY) -m lib campaign status

# Commit the complete records of clean commits that are not committed yet (never a partial one).
campaign-commit: setup
	$(PY) -m lib campaign commit

# The site, from the records under results/ (RESULTS_DIR=... to read another folder).
# PROFILE=paper|cpu|smoke picks the profile; empty = paper > cpu > smoke, whichever exists.
# Freshness: Sphinx and jupyter-cache cannot see that a result file changed, so every build
# wipes the execution cache and executes every chapter again (book/execute.py, one kernel
# per core); jupyter-book then renders from that cache (--all: fresh environment, -W: any
# warning fails the build). A chapter that raises fails the build before rendering.
# Invalid or malformed records are left out and named on the site, with a warning here;
# STRICT=1 fails the build on them instead.
BOOK_OUT ?= .
STRICT ?=
book: setup
	@start=$$(date +%s); \
	export BOOK_PROFILE="$(PROFILE)"; \
	$(PY) book/execute.py --out "$(BOOK_OUT)" $(if $(filter 1,$(STRICT)),--strict) || exit $$?; \
	$(VENV)/bin/jupyter-book build . --all -W --keep-going --path-output "$(BOOK_OUT)" \
		|| exit $$?; \
	echo "Built $(BOOK_OUT)/_build/html/index.html in $$(( $$(date +%s) - start )) s"

HOST ?= 127.0.0.1
PORT ?= 8000
serve:
	@test -f "$(BOOK_OUT)/_build/html/index.html" || { echo "No site yet: run 'make book' first"; exit 1; }
	@echo "Serving $(BOOK_OUT)/_build/html at http://$(HOST):$(PORT)/  (Ctrl-C stops)"
	@$(if $(wildcard $(PY)),$(PY),python3) -m http.server $(PORT) --bind $(HOST) \
		--directory "$(BOOK_OUT)/_build/html"

# Training images/s of lib's trainer vs a naive DataLoader loop, side by side
# (JSON under results/bench/). BENCH_ARGS passes options, e.g. BENCH_ARGS="--repetitions 3".
BENCH_ARGS ?=
bench: setup data
	$(PY) -m lib bench $(BENCH_ARGS)

info: setup
	$(PY) -m lib info

clean:
	rm -rf _build
