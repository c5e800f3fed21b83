# The two commands: `make run` and `make test`. Everything else is what they need.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: run test install install-test system-test-deps lint bench clean translations messages

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

# Compiled message catalogs (.mo) are built from the .po files and not committed.
MO_FILES := $(patsubst %.po,%.mo,$(wildcard cohort/translations/*/LC_MESSAGES/messages.po))

translations: $(MO_FILES)

%.mo: %.po | $(BIN)/python
	$(BIN)/pybabel compile --statistics -i $< -o $@

## make messages: extract UI strings (English source) and merge them into the da/nb catalogs
messages: install
	$(BIN)/pybabel extract -F babel.cfg -k lazy_gettext -k _l --no-location --sort-output \
	  --project=cohort -o cohort/translations/messages.pot .
	$(BIN)/pybabel update -i cohort/translations/messages.pot -d cohort/translations \
	  --no-location --width 100

## make run: install, create the SQLite database with a demo cohort, serve on http://127.0.0.1:5000
run: install translations
	$(BIN)/cohort demo
	$(BIN)/flask --app wsgi run --host $(HOST) --port $(PORT)

## make test: install what the tests need (Python packages and Debian packages), run everything
test: install-test system-test-deps lint translations
	$(BIN)/python -m pytest

lint: install-test
	$(BIN)/ruff check cohort tests benchmarks wsgi.py

# Browser tests need chromium; PDF tests need poppler-utils; WeasyPrint wants libharfbuzz-subset0;
# the report's fonts are DejaVu (fonts-dejavu-core).
system-test-deps:
	@missing=""; \
	command -v chromium >/dev/null || missing="$$missing chromium"; \
	command -v pdftotext >/dev/null || missing="$$missing poppler-utils"; \
	ls /usr/lib/*/libharfbuzz-subset.so.0 >/dev/null 2>&1 || missing="$$missing libharfbuzz-subset0"; \
	fc-list 2>/dev/null | grep -q "DejaVu Sans" || missing="$$missing fonts-dejavu-core"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "Installing Debian packages:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else \
	    echo "Missing Debian packages:$$missing (run: sudo apt-get install$$missing)"; exit 1; \
	  fi; \
	fi

clean:
	rm -rf $(VENV) instance/cohort.sqlite3* .pytest_cache $(MO_FILES)
