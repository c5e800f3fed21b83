"""The application: the Flask factory that wires settings, database, web and CLI together, and
the `cohort` console script. Wiring only: what the application does lives in the layers below
(docs/architecture.md)."""

from __future__ import annotations

import secrets
import sys
from pathlib import Path

from flask import Flask, request
from flask_babel import Babel
from werkzeug.middleware.proxy_fix import ProxyFix

from . import db
from .config import (
    LANGUAGES,
    PROJECT_ROOT,
    SettingError,
    instance_path_from_env,
    is_example_secret,
    settings_from_env,
)

# Browsers say "no" or "nn" for Norwegian; the catalogs are Bokmål.
_LANGUAGE_ALIASES = {"no": "nb", "nn": "nb", "nb": "nb"}


def create_app(test_config: dict | None = None) -> Flask:
    app = Flask(__name__, instance_path=instance_path_from_env(),
                template_folder=str(PROJECT_ROOT / "templates"))
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    app.config.from_mapping(settings_from_env(app.instance_path))
    if test_config:
        app.config.update(test_config)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _instance_secret(app)
    _refuse_example_secret(app)
    if app.config["TRUST_PROXY"]:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)

    app.extensions["cohort.engine"] = db.make_engine(app.config["DATABASE_URL"])
    Babel(app, locale_selector=_select_locale)

    from . import cli
    from .web import register_web

    register_web(app)
    app.cli.add_command(cli.cohort)
    return app


def _refuse_example_secret(app: Flask) -> None:
    """Outside debug and testing, the secret key must not be one printed in the project's
    examples: it signs sessions and derives every personal link and calendar feed."""
    if app.debug or app.testing or not is_example_secret(app.config["SECRET_KEY"]):
        return
    raise SettingError(
        "COHORT_SECRET_KEY is the example value from the documentation. Set it to a long "
        "random secret, e.g. the output of: python3 -c 'import secrets; "
        "print(secrets.token_urlsafe(48))' -- or leave it unset to use the key generated "
        "in the instance folder (instance/secret_key).")


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


def main() -> None:
    """Console entry point: `cohort ...` without needing `flask --app`."""
    from .cli import cohort

    try:
        app = create_app()
    except SettingError as error:
        sys.exit(f"Error: {error}")
    with app.app_context():
        cohort.main(prog_name="cohort")
