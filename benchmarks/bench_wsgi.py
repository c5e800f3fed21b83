"""The app exactly as `wsgi.py` serves it, plus one bare route: the page benchmark's baseline.

    gunicorn --workers 2 benchmarks.bench_wsgi:app     (from the project folder)

The bare route goes through the same server, WSGI stack, session and access check as every
page, and returns a short string without touching the database.
"""

from cohort.web.access import public
from wsgi import app


@public
def bare() -> str:
    return "ok"


app.add_url_rule("/bench/bare", "bench_bare", bare)
