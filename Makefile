# Two commands do everything on a fresh machine with Python 3.11+:
#   make run    create .venv if needed, install, run the default scenario (disruptor)
#   make test   create .venv if needed, install with test extras, run the whole suite
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test
ARGS ?=

.PHONY: run test test-fast lint bench validate baseline clean-venv help

help:
	@echo "make run [ARGS='scenario=baseline seed=3']   run a scenario, write results/, print a summary"
	@echo "make test                                     install test extras and run the whole suite"
	@echo "make lint                                     ruff check"
	@echo "make baseline                                 recompute tests/data/baseline_summary.json after an intended model change"
	@echo "make validate                                 rerun the validation cases, rewrite docs/VALIDATION.md and its figures"
	@echo "make bench                                    performance suite (~10 min): benchmarks/results.md and results.json"

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e .
	touch $(STAMP)

# The test extras include the cluster launchers (Ray, submitit) and Zarr, so that their tests run.
$(TEST_STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e ".[test,ray,slurm,zarr]"
	touch $(STAMP) $(TEST_STAMP)

run: $(STAMP)
	$(PY) -m sim $(ARGS)

test: $(TEST_STAMP)
	$(PY) -m pytest -n 2 --dist loadfile $(ARGS)

test-fast: $(TEST_STAMP)
	$(PY) -m pytest -n 2 --dist loadfile -m "not slow" $(ARGS)

# The stored regression baseline (default scenario, seed 0, 20,000 customers). Refresh it only
# when the model changes on purpose, and commit the new file together with that change.
baseline: $(TEST_STAMP)
	$(PY) -m tests.test_reproducibility

# Validation against known results (logit, price equilibrium, Bass, trust, tenure, NPS):
# reruns the cases of tests/validation/ and regenerates docs/VALIDATION.md from
# docs/validation/VALIDATION.template.md, with its figures in docs/validation/.
validate: $(TEST_STAMP)
	$(PY) docs/validation/make_validation.py

# Performance suite (see benchmarks/README.md): step time against customers, steps and
# threads, the memory floor, NumPy and per-agent Mesa versions, cold and warm starts; then
# sweep throughput (200 runs end to end, per-job overhead) and the cold start's compiles.
# Run it on a quiet machine; ARGS="--quick" for a one-minute smoke run.
bench: $(STAMP)
	$(PY) benchmarks/run.py $(ARGS)
	$(PY) benchmarks/sweep.py $(ARGS)

lint: $(TEST_STAMP)
	$(VENV)/bin/ruff check sim tests benchmarks

clean-venv:
	rm -rf $(VENV)
