# The two commands a new user needs: `make demo`, then `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
NBVAL  := --nbval --nbval-current-env --nbval-sanitize-with notebooks/sanitize.cfg
CASSETTES ?= cassettes
# The venv is this project's own: Python may cache the bytecode of what it imports there. A shell or an
# image that sets PYTHONDONTWRITEBYTECODE=1 would otherwise have every kernel, run worker and test
# process compile ipykernel, IPython, httpx … again (about 1 s of CPU per kernel). Empty = unset.
export PYTHONDONTWRITEBYTECODE :=

.PHONY: demo test test-fast lab notebooks handouts record replay clean

# (Re)install only when the venv is missing or the package metadata changed. uv (pip-installed into the
# venv, so Python and make are still all it takes) installs in seconds: it skips the bytecode compilation
# of ~18,000 `oci` files that pip does; Python writes bytecode lazily for the modules actually imported.
$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo "installing locus-nb and its dependencies into $(VENV)…"
	@if $(BIN)/python -m pip install --quiet --disable-pip-version-check uv > $(VENV)/pip-install.log 2>&1; then \
		$(BIN)/uv pip install --quiet --python $(BIN)/python -e '.[dev]' 2>> $(VENV)/pip-install.log; \
	else \
		echo "uv could not be installed (see $(VENV)/pip-install.log): installing with pip, about a minute"; \
		$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip >/dev/null 2>&1; \
		$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]' 2>> $(VENV)/pip-install.log; \
	fi || { cat $(VENV)/pip-install.log; exit 1; }
	@touch $(STAMP)

demo: $(STAMP)  ## run every notebook against the embedded mock server; executed copies go to out/
	$(BIN)/locus-nb run --mock --out out

# tests/ includes the record → replay loop: a signed recording of all four notebooks (store False and
# True) against a signature-verifying mock, then nbval replaying it in a network namespace (unshare -n).
# pytest-xdist, one worker more than there are cores (part of each test is spent waiting on a kernel, a
# subprocess or a socket: on 2 cores, 3 workers took 98–109 s where 2 took 117–123 s). --dist loadscope
# keeps each module (and each notebook's nbval cells, in order, in one kernel) on one worker, so a
# module's shared runs happen once (the openai SDK's modules are one unit: tests/work_units.py); the
# longest modules are handed out first (conftest.py: LONG_MODULES), not reordered by their number of tests.
# -p tests.lean_imports: each pytest process skips a ~2 s import nothing here uses (tests/lean_imports.py).
test: $(STAMP)  ## unit tests, mock-server tests, the record/replay loop and nbval over notebooks/ (installs Chromium if it may)
	@scripts/ensure-chromium.sh
	$(BIN)/python -m pytest -p tests.lean_imports -n $$(($$(nproc) + 1)) --dist loadscope --no-loadscope-reorder $(NBVAL) tests notebooks

# The part of tests/ that starts no kernel, browser or other process (conftest.py fails a test that does
# without its e2e mark): for a developer's edit-and-check loop. make test runs everything.
test-fast: $(STAMP)  ## the tests without the e2e mark: no kernel, browser or subprocess
	$(BIN)/python -m pytest -p tests.lean_imports -n $$(($$(nproc) + 1)) --dist loadscope -m "not e2e" tests

lab: $(STAMP)  ## open JupyterLab on notebooks/
	$(BIN)/jupyter lab notebooks/

notebooks: $(STAMP)  ## re-record the committed notebook outputs from a mock run
	LOCUS_NB_MOCK_TOKEN_DELAY=0 $(BIN)/locus-nb run --mock --in-place

record: $(STAMP)  ## with OCI credentials set: re-record notebooks/ and their cassettes in $(CASSETTES)/ (README: CI workflow)
	$(BIN)/locus-nb run --record $(CASSETTES) --in-place

replay: $(STAMP)  ## nbval over notebooks/, every kernel replaying $(CASSETTES)/: no network, no credentials
	$(BIN)/python -m pytest -p tests.lean_imports $(NBVAL) --replay-cassettes $(CASSETTES) notebooks

# Both editions: the learner's pages (out/ as demo ran it, no solutions) and the instructor's (out/instructor/,
# each exercise run with its solution).
handouts: demo  ## offline HTML pages of both editions: out/handouts/learner/ and out/handouts/instructor/
	$(BIN)/locus-nb run --mock --no-progress --edition instructor --out out/instructor
	$(BIN)/locus-nb handouts --edition learner --from out --out out/handouts/learner
	$(BIN)/locus-nb handouts --edition instructor --from out/instructor --out out/handouts/instructor

.PHONY: bench
bench: $(STAMP)  ## measure, write docs/BENCHMARKS.md and its charts (BENCH_ARGS=--quick for a short run)
	$(BIN)/python benchmarks/run.py $(BENCH_ARGS)

clean:
	rm -rf out .pytest_cache

# The adversarial tries, counted (fault matrix, raw-server faults, bad input, property test,
# secret scan, ZDR, signature attacks, load and soak): writes docs/RELIABILITY.md, ≤ ~5 min.
.PHONY: reliability
reliability: $(STAMP)  ## run the reliability tries and write docs/RELIABILITY.md (exit 1 if any failed)
	$(BIN)/python scripts/reliability.py
