# The two commands: `make run` and `make test`. Everything else is what they need.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: run test install install-test system-test-deps lint bench bench-deps clean translations

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Re-install only when the project's dependencies change.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(VENV)/.installed $@

install: $(VENV)/.installed

install-test: $(VENV)/.installed-test

## make run: install, create the SQLite database with a demo cohort, serve on http://127.0.0.1:5000
## (with the outbox scheduler in the same single process; emails land in instance/mail/)
run: install
	$(BIN)/cohort demo
	COHORT_RUN_SCHEDULER=1 COHORT_BASE_URL=$${COHORT_BASE_URL:-http://$(HOST):$(PORT)} \
	  $(BIN)/flask --app wsgi run --host $(HOST) --port $(PORT)

## make test: install what the tests need (Python packages and Debian packages), run everything
test: install-test system-test-deps lint
	$(BIN)/python -m pytest

lint: install-test
	$(BIN)/ruff check cohort tests benchmarks tools migrations wsgi.py

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
## same run (not part of make test; about five minutes; pages need gunicorn and wrk: bench-deps)
bench: install-test bench-deps
	$(BIN)/python -m benchmarks.create_cohort
	$(BIN)/python -m benchmarks.pages
	$(BIN)/python -m benchmarks.calendar_feed
	$(BIN)/python -m benchmarks.outbox_throughput
	$(BIN)/python -m benchmarks.grouping --repeat 1
	$(BIN)/python -m benchmarks.report --repeat 1

# gunicorn comes with the project's Python packages; wrk is a Debian package.
bench-deps: install-test
	@test -x $(BIN)/gunicorn || $(BIN)/pip install --quiet gunicorn
	@command -v wrk >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "Installing Debian package: wrk"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; \
	  else echo "Missing Debian package: wrk (run: sudo apt-get install wrk)"; exit 1; fi; }

clean:
	rm -rf $(VENV) instance/cohort.sqlite3* .pytest_cache
