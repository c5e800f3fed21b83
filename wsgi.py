"""WSGI entry point: `gunicorn wsgi:app` or `flask --app wsgi ...`.

COHORT_RUN_SCHEDULER=1 also starts the outbox scheduler in this process: `make run` sets it for
the single-process demo server. Never set it for gunicorn or other multi-worker servers (each
worker would run a scheduler); run `cohort scheduler` as its own process there instead.
"""

import logging
import os

from cohort.app import create_app

app = create_app()

if os.environ.get("COHORT_RUN_SCHEDULER") == "1":
    from cohort.mail.scheduler import start_scheduler

    logging.basicConfig(level=logging.INFO)
    start_scheduler(app)
