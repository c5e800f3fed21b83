"""The Flask application factory."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from flask import Flask, request
from flask_babel import Babel
from werkzeug.middleware.proxy_fix import ProxyFix

from . import db
from .mail.dispatch import config_from_env as outbox_config_from_env

PROJECT_ROOT = Path(__file__).resolve().parent.parent
LANGUAGES = ("da", "nb", "en")
# Browsers say "no" or "nn" for Norwegian; the catalogs are Bokmål.
_LANGUAGE_ALIASES = {"no": "nb", "nn": "nb", "nb": "nb"}


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
        LANGUAGES=LANGUAGES,
        SESSION_COOKIE_SECURE=os.environ.get("COHORT_HTTPS_ONLY") == "1",
        TRUST_PROXY=os.environ.get("COHORT_TRUST_PROXY") == "1",
        MAX_CONTENT_LENGTH=5 * 1024 * 1024,  # participant CSV uploads
        # Days after a cohort ends before its participants' personal data is erased (the
        # scheduler applies it daily; unset: only `cohort purge --older-than` does).
        RETENTION_DAYS=int(os.environ["COHORT_RETENTION_DAYS"])
        if os.environ.get("COHORT_RETENTION_DAYS") else None,
    )
    app.config.from_mapping(outbox_config_from_env(app.instance_path))  # mail, outbox, links
    if test_config:
        app.config.update(test_config)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = os.environ.get("COHORT_SECRET_KEY") or _instance_secret(app)
    if app.config["TRUST_PROXY"]:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)

    app.extensions["cohort.engine"] = db.make_engine(app.config["DATABASE_URL"])
    Babel(app, locale_selector=_select_locale)

    from . import cli
    from .web import register_web

    register_web(app)
    app.cli.add_command(cli.cohort)
    return app


def _select_locale() -> str:
    """The user's own setting, else the browser's Accept-Language, else Danish."""
    from .web.auth import locale_preference

    preferred = locale_preference()
    if preferred:
        return preferred
    for language, _quality in request.accept_languages:
        primary = language.lower().replace("_", "-").split("-")[0]
        primary = _LANGUAGE_ALIASES.get(primary, primary)
        if primary in LANGUAGES:
            return primary
    return "da"


def _instance_secret(app: Flask) -> str:
    """A per-installation secret kept in instance/, so sessions survive restarts."""
    path = Path(app.instance_path) / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


def engine_of(app: Flask):
    return app.extensions["cohort.engine"]
