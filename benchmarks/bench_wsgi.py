"""The app exactly as `wsgi.py` serves it, plus one bare route: the page benchmark's baseline.

    gunicorn --workers 2 benchmarks.bench_wsgi:app     (from the project folder)

The bare route goes through the same server, WSGI stack, session and access check as every
page, and returns a short string without touching the database. The statements route does the
same after two one-row reads through the app's read session, as a kept landing page makes
them (the signed-in user, then the page): what the database's round trips alone cost, the
floor under a page that reads two statements, on each database.
"""

from sqlalchemy import literal_column, select

from cohort.web.access import public
from cohort.web.common import read_session
from wsgi import app

ONE_ROW = select(literal_column("1"))


@public
def bare() -> str:
    return "ok"


@public
def statements() -> str:
    with read_session() as session:
        session.execute(ONE_ROW).one()
        session.execute(ONE_ROW).one()
    return "ok"


app.add_url_rule("/bench/bare", "bench_bare", bare)
app.add_url_rule("/bench/statements", "bench_statements", statements)
