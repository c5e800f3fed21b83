# The two commands: `make run` and `make test`. Everything else is what they need.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: run test lock fuzz install install-test system-test-deps lint bench bench-deps clean translations

# Exact versions (with hashes) of everything installed live in two lock files made by `make lock`
# from the ranges in pyproject.toml: requirements.lock for `make run` (the runtime) and
# requirements-dev.lock for `make test`, `make lint` and `make bench` (runtime, the test extra,
# the build backend). Installs never resolve anything: a fresh clone gets exactly what CI tested.
LOCK := requirements.lock
DEV_LOCK := requirements-dev.lock
UV_VERSION := 0.13.9
# --no-deps: the lock already lists every dependency; --no-build-isolation: build the editable
# project with the locked setuptools instead of whatever the index has today.
LOCKED_INSTALL := $(BIN)/pip install --quiet --require-hashes --no-deps -r
PROJECT_INSTALL := $(BIN)/pip install --quiet --no-deps --no-build-isolation -e .

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Re-install only when the lock changes. The runtime lock is a subset of the dev lock (same
# versions), so a venv installed for the tests serves `make run` as well.
$(VENV)/.installed: $(LOCK) | $(BIN)/python
	$(LOCKED_INSTALL) $(LOCK)
	$(PROJECT_INSTALL)
	touch $@

$(VENV)/.installed-test: $(DEV_LOCK) | $(BIN)/python
	$(LOCKED_INSTALL) $(DEV_LOCK)
	$(PROJECT_INSTALL)
	$(BIN)/pip check
	touch $(VENV)/.installed $@

## make lock: resolve the newest versions pyproject.toml allows and write both lock files. Run it
## on purpose (a new dependency, a range changed, a security release), then `make test` and commit
## the locks with the change that needed them.
LOCK_FLAGS := --quiet --generate-hashes --universal --python-version 3.11 --no-header
lock: | $(BIN)/python
	$(BIN)/pip install --quiet uv==$(UV_VERSION)
	echo "setuptools>=77" | $(BIN)/uv pip compile pyproject.toml - --extra test $(LOCK_FLAGS) \
	  -o $(DEV_LOCK)
	echo "setuptools>=77" | $(BIN)/uv pip compile pyproject.toml - $(LOCK_FLAGS) \
	  --constraint $(DEV_LOCK) -o $(LOCK)
	$(BIN)/pip uninstall --quiet --yes uv

install: $(VENV)/.installed

install-test: $(VENV)/.installed-test

## make run: install, create the SQLite database with a demo cohort, serve on http://127.0.0.1:5000
## (with the outbox scheduler in the same single process; emails land in instance/mail/)
run: install
	$(BIN)/cohort demo
	COHORT_RUN_SCHEDULER=1 COHORT_BASE_URL=$${COHORT_BASE_URL:-http://$(HOST):$(PORT)} \
	  $(BIN)/flask --app wsgi run --host $(HOST) --port $(PORT)

## make test: install what the tests need (Python packages and Debian packages), run everything on
## TEST_WORKERS processes (each with its own PostgreSQL server), property tests derandomized
## (the same examples on every run, as in CI), their scratch files in memory when the machine
## has room (tools/with-scratch-in-memory says why). Locally, `.venv/bin/pytest -m "not slow"`
## skips the tests that start processes, servers or a browser.
TEST_WORKERS ?= $(shell n=$$(nproc 2>/dev/null || echo 2); [ $$n -gt 4 ] && n=4; echo $$n)
test: install-test system-test-deps lint
	HYPOTHESIS_PROFILE=$${HYPOTHESIS_PROFILE:-ci} tools/with-scratch-in-memory \
	  $(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile --durations=10

## make fuzz: the property tests only, with random examples and FUZZ_FACTOR times as many of
## each. A failure prints its example: add it to the test as an explicit @example.
FUZZ_FACTOR ?= 20
fuzz: install-test
	HYPOTHESIS_PROFILE=fuzz COHORT_FUZZ_FACTOR=$(FUZZ_FACTOR) $(BIN)/python -m pytest -m property \
	  -n $(TEST_WORKERS)

## make lint: ruff, and the architecture's import contracts (pyproject.toml, docs/architecture.md)
lint: install-test
	$(BIN)/ruff check cohort tests benchmarks tools migrations wsgi.py
	$(BIN)/lint-imports

# Browser tests need chromium; PDF tests need poppler-utils; WeasyPrint wants libharfbuzz-subset0;
# calendar tests import our .ics files into khal and calcurse; the report's fonts are DejaVu.
system-test-deps:
	@missing=""; \
	command -v chromium >/dev/null || missing="$$missing chromium"; \
	command -v pdftotext >/dev/null || missing="$$missing poppler-utils"; \
	ls /usr/lib/*/libharfbuzz-subset.so.0 >/dev/null 2>&1 || missing="$$missing libharfbuzz-subset0"; \
	command -v khal >/dev/null || missing="$$missing khal"; \
	command -v calcurse >/dev/null || missing="$$missing calcurse"; \
	fc-list 2>/dev/null | grep -q "DejaVu Sans" || missing="$$missing fonts-dejavu-core"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "Installing Debian packages:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else \
	    echo "Missing Debian packages:$$missing (run: sudo apt-get install$$missing)"; exit 1; \
	  fi; \
	fi

## make translations: extract UI strings, update the da/nb/en catalogs, compile them (.mo files
## are committed so a fresh clone shows Danish). Translate new da/nb entries, then run it again.
BABEL_KEYWORDS := -k _l -k lazy_ngettext:1,2
translations: install-test
	$(BIN)/pybabel extract -F babel.cfg $(BABEL_KEYWORDS) --no-location --sort-output \
	  --project Cohort --copyright-holder "Cohort contributors" -o cohort/translations/messages.pot .
	$(BIN)/pybabel update -i cohort/translations/messages.pot -d cohort/translations \
	  --ignore-obsolete --width 100
	$(BIN)/python tools/fill_english_catalog.py cohort/translations/en/LC_MESSAGES/messages.po
	$(BIN)/pybabel extract -F cohort/translations/emails-babel.cfg -k _ -k ngettext:1,2 \
	  --no-location --sort-output -o cohort/translations/emails.pot .
	$(BIN)/pybabel update -D emails -i cohort/translations/emails.pot -d cohort/translations \
	  -l da --ignore-obsolete --width 100
	$(BIN)/pybabel update -D emails -i cohort/translations/emails.pot -d cohort/translations \
	  -l nb --ignore-obsolete --width 100
	$(BIN)/pybabel compile -d cohort/translations --statistics

## make bench: every benchmark in benchmarks/, each figure printed beside its baseline from the
## same run (not part of make test; the better part of an hour; pages need gunicorn and wrk:
## bench-deps)
bench: install-test bench-deps
	$(BIN)/python -m benchmarks.create_cohort
	$(BIN)/python -m benchmarks.create_cohort --participants 20000 --memory-only
	$(BIN)/python -m benchmarks.participant_import
	$(BIN)/python -m benchmarks.pages
	$(BIN)/python -m benchmarks.progress_grid
	$(BIN)/python -m benchmarks.regional
	$(BIN)/python -m benchmarks.postgres_plans
	$(BIN)/python -m benchmarks.calendar_feed
	$(BIN)/python -m benchmarks.outbox_throughput
	$(BIN)/python -m benchmarks.scheduler_tick
	$(BIN)/python -m benchmarks.grouping --repeat 1
	$(BIN)/python -m benchmarks.report --repeat 1
	$(BIN)/python -m benchmarks.cli_startup

# gunicorn is in the lock with the project's runtime; wrk is a Debian package.
bench-deps: install-test
	@command -v wrk >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "Installing Debian package: wrk"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; \
	  else echo "Missing Debian package: wrk (run: sudo apt-get install wrk)"; exit 1; fi; }

clean:
	rm -rf $(VENV) instance/cohort.sqlite3* .pytest_cache
