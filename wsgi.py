"""WSGI entry point: `gunicorn wsgi:app` or `flask --app wsgi ...`."""

from cohort.app import create_app

app = create_app()
