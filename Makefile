# The two commands: `make run` and `make test`. Everything else is what they need.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: run test install install-test system-test-deps lint bench clean

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
	$(BIN)/ruff check cohort tests benchmarks wsgi.py

# Browser tests need chromium; PDF tests need poppler-utils; WeasyPrint wants libharfbuzz-subset0.
system-test-deps:
	@missing=""; \
	command -v chromium >/dev/null || missing="$$missing chromium"; \
	command -v pdftotext >/dev/null || missing="$$missing poppler-utils"; \
	ls /usr/lib/*/libharfbuzz-subset.so.0 >/dev/null 2>&1 || missing="$$missing libharfbuzz-subset0"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "Installing Debian packages:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else \
	    echo "Missing Debian packages:$$missing (run: sudo apt-get install$$missing)"; exit 1; \
	  fi; \
	fi

clean:
	rm -rf $(VENV) instance/cohort.sqlite3* .pytest_cache
