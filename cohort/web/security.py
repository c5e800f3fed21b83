"""Security basics every response gets: headers, cookie flags, and friendly error pages."""

from __future__ import annotations

from flask import Flask, render_template, request, session
from flask.sessions import SecureCookieSessionInterface
from flask_babel import force_locale
from flask_login import current_user
from flask_wtf.csrf import CSRFError, CSRFProtect
from werkzeug.exceptions import HTTPException, NotFound

from .. import services
from .access import PARTICIPANT_SESSION_KEY, PUBLIC, checked_participant, declare
from .auth import chosen_language
from .common import ControlCharacterInAddress

# No inline script or style anywhere: everything comes from /static.
CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
    "object-src 'none'",
])
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
    "Cross-Origin-Opener-Policy": "same-origin",
}
ERROR_PAGES = (400, 403, 404, 405, 413, 429, 500)


class HttpsAwareSessionInterface(SecureCookieSessionInterface):
    """The session cookie is Secure whenever the request came over HTTPS (or config says so)."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(app.config["SESSION_COOKIE_SECURE"] or (request and request.is_secure))


def init_security(app: Flask) -> None:
    app.config.setdefault("SESSION_COOKIE_HTTPONLY", True)
    app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", None)  # tied to the session instead
    app.session_interface = HttpsAwareSessionInterface()
    app.before_request(_upload_limit)  # before CSRF reads the form
    CSRFProtect(app)
    declare(app, "static", PUBLIC)
    app.after_request(_add_headers)
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(ControlCharacterInAddress, _control_character_error)
    for code in ERROR_PAGES:
        app.register_error_handler(code, _error_page)
    # A cohort, meeting or participant that is not there (or not in this cohort): 404.
    app.register_error_handler(services.NotFound, lambda _error: _error_page(NotFound()))


def _upload_limit():
    """A material upload may be larger than the app's MAX_CONTENT_LENGTH (CSV files): only
    that form's request, and only from a signed-in staff member, gets the larger limit."""
    if request.endpoint == "materials.index" and request.method == "POST" \
            and current_user.is_authenticated:
        from .materials import upload_limit

        request.max_content_length = upload_limit()


def _add_headers(response):
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    if request.is_secure:
        response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    if request.endpoint != "static":
        response.headers.setdefault("Cache-Control", "no-store")
    return response


def _csrf_error(error: CSRFError):
    return _render_error(400, csrf=True)


def _control_character_error(error: ControlCharacterInAddress):
    return _render_error(400, csrf=False, address=True)


def _error_page(error):
    code = error.code if isinstance(error, HTTPException) else 500
    return _render_error(code, csrf=False)


def _render_error(code: int, **context):
    """The error page in the reader's language: a signed-in participant's is the language of
    their pages (`participant.page_language`), not the browser's, or the page between two of
    theirs reads as another site's."""
    language = _participant_language()
    if language is None:
        return render_template("errors/error.html", code=code, **context), code
    with force_locale(language):
        return render_template("errors/error.html", code=code, **context), code


def _participant_language() -> str | None:
    """A signed-in participant's page language, else None (the locale selector decides).
    The session holds their choice from the language switcher, if any (no statement); else
    the language is their record's, as this request's access check read it, or (a 404 of no
    route: no check ran) one statement. Staff have their own setting: never read here."""
    if PARTICIPANT_SESSION_KEY not in session or current_user.is_authenticated:
        return None
    chosen = chosen_language()
    if chosen is not None:
        return chosen
    signed_in = checked_participant()
    return None if signed_in is None else signed_in.participant.language
