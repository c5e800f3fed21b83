"""The Flask application factory."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from flask import Flask, request
from flask_babel import Babel

from . import db
from .outbox import config_from_env as outbox_config_from_env

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def create_app(test_config: dict | None = None) -> Flask:
    app = Flask(
        __name__,
        instance_path=os.environ.get("COHORT_INSTANCE_PATH", str(PROJECT_ROOT / "instance")),
        template_folder=str(PROJECT_ROOT / "templates"),
    )
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    app.config.from_mapping(
        DATABASE_URL=os.environ.get(
            "COHORT_DATABASE_URL", f"sqlite:///{Path(app.instance_path) / 'cohort.sqlite3'}"
        ),
        PROGRAMMES_DIR=os.environ.get("COHORT_PROGRAMMES_DIR", str(PROJECT_ROOT / "programmes")),
        BABEL_DEFAULT_LOCALE="da",
        BABEL_DEFAULT_TIMEZONE="Europe/Copenhagen",
        LANGUAGES=("da", "nb", "en"),
    )
    app.config.from_mapping(outbox_config_from_env(app.instance_path))  # mail, outbox, links
    if test_config:
        app.config.update(test_config)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = os.environ.get("COHORT_SECRET_KEY") or _instance_secret(app)

    app.extensions["cohort.engine"] = db.make_engine(app.config["DATABASE_URL"])
    Babel(app, locale_selector=_select_locale)

    from . import cli
    from .web import outbox, overview, participant

    app.register_blueprint(overview.bp)
    app.register_blueprint(participant.bp)
    app.register_blueprint(outbox.bp)  # facilitator only: refuses all until staff login exists
    _register_filters(app)
    app.cli.add_command(cli.cohort)
    return app


def _select_locale() -> str | None:
    from flask import current_app

    return request.accept_languages.best_match(current_app.config["LANGUAGES"])


def _instance_secret(app: Flask) -> str:
    """A per-installation secret kept in instance/, so sessions survive restarts."""
    path = Path(app.instance_path) / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


def engine_of(app: Flask):
    return app.extensions["cohort.engine"]


def _register_filters(app: Flask) -> None:
    """Dates in the viewer's language, times in the cohort's own time zone."""
    from zoneinfo import ZoneInfo

    from babel.dates import format_date, format_datetime
    from flask_babel import get_locale

    @app.template_filter("localtime")
    def localtime(value, timezone: str, fmt: str = "medium") -> str:
        return format_datetime(value, fmt, tzinfo=ZoneInfo(timezone), locale=get_locale())

    @app.template_filter("isolocal")
    def isolocal(value: str, timezone: str, fmt: str = "medium") -> str:
        from datetime import datetime

        return localtime(datetime.fromisoformat(value), timezone, fmt)

    @app.template_filter("localdate")
    def localdate(value, fmt: str = "long") -> str:
        return format_date(value, fmt, locale=get_locale())

    app.jinja_env.globals["current_locale"] = lambda: str(get_locale() or "da")
