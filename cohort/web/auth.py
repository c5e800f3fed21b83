"""Staff sign-in: Flask-Login sessions, the login form with throttling, sign-out, language.

Participants never log in here; see `access.sign_in_participant` for their personal-link
session.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import lazy_gettext as _l
from flask_login import LoginManager, current_user, login_user, logout_user
from wtforms import EmailField, HiddenField, PasswordField, SelectField, SubmitField
from wtforms.validators import DataRequired, Length

from .. import db
from ..core.links import same_site_path
from ..core.participants import normalise_email
from ..models import CohortRole, Role, User
from ..services import accounts, staff
from .access import checked_cohort_role, end_participant_sessions, public, requires
from .common import plain_query
from .forms import CohortForm, SingleLine, options
from .ratelimit import Throttle

bp = Blueprint("auth", __name__)
THROTTLE = "cohort.login_throttle"
LANGUAGE_NAMES = {"da": "Dansk", "nb": "Norsk bokmål", "en": "English"}


@dataclass
class SignedInUser:
    """What a request knows about its staff user: a plain copy, not a live database row."""

    id: int
    email: str
    name: str
    role: str
    locale: str | None
    session_version: int
    is_active: bool = True
    # False for a colleague a cohort's owner invited: they start no cohorts of their own.
    may_create_cohorts: bool = True
    is_authenticated: bool = True
    is_anonymous: bool = False

    @classmethod
    def from_row(cls, user: User) -> SignedInUser:
        return cls(user.id, user.email, user.name, user.role, user.locale,
                   user.session_version, user.active, user.may_create_cohorts)

    def get_id(self) -> str:
        # The version makes old sessions invalid after a password change or deactivation.
        return f"{self.id}.{self.session_version}"

    @property
    def display_name(self) -> str:
        return self.name or self.email

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN


def init_auth(app) -> None:
    manager = LoginManager(app)
    manager.session_protection = "basic"
    manager.user_loader(_load_user)
    # One count for /login and the current-password check in /account/: a stolen session
    # gets no extra guesses at the password.
    app.extensions[THROTTLE] = Throttle(
        app.extensions["cohort.engine"], "login",
        max_failures=app.config["LOGIN_FAILURES_PER_MINUTE"])
    app.add_template_global(language_form, "header_language_form")
    app.add_template_global(may_manage_staff)


def _load_user(session_id: str) -> SignedInUser | None:
    user_id, _, version = session_id.partition(".")
    if not user_id.isdigit() or not version.isdigit():
        return None
    with db.read_session(current_app.extensions["cohort.engine"]) as db_session:
        user = accounts.get_user(db_session, int(user_id))
        if user is None or not user.active or user.session_version != int(version):
            return None
        return SignedInUser.from_row(user)


class LoginForm(CohortForm):
    email = EmailField(_l("Email"), validators=[DataRequired(), SingleLine(254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=1024)])
    next = HiddenField()
    submit = SubmitField(_l("Log in"))


class LanguageForm(CohortForm):
    """The header's language switcher (templates/_site_header.html, kept per kind of viewer
    by web/page_cache.site_header)."""

    language = SelectField(_l("Language"), choices=options(LANGUAGE_NAMES.items()))
    next = HiddenField()
    submit = SubmitField(_l("Change language"))


def password_throttle() -> Throttle:
    return current_app.extensions[THROTTLE]


def client_address() -> str:
    return request.remote_addr or "unknown"


def safe_next(target: str | None, default: str) -> str:
    """Only same-site paths (`core.links.same_site_path`), so a crafted ?next= cannot send
    people elsewhere; anything else goes to `default`."""
    return same_site_path(target) or default


@bp.get("/")
@public
def landing():
    """The front door: staff go to their dashboard, everyone else to the login page."""
    if current_user.is_authenticated:
        return redirect(url_for("cohorts.dashboard"))
    return redirect(url_for("auth.login"))


@bp.route("/login", methods=["GET", "POST"])
@public
@plain_query  # ?next= becomes a redirect's Location
def login():
    form = LoginForm()
    if request.method == "GET":
        if current_user.is_authenticated:
            return redirect(safe_next(request.args.get("next"), url_for("cohorts.dashboard")))
        form.next.data = request.args.get("next", "")
        return render_template("auth/login.html", form=form)
    if not form.validate():
        return render_template("auth/login.html", form=form), 400
    throttle = password_throttle()
    attempt = throttle.begin(normalise_email(form.email.data), client_address())
    if attempt.refused:
        response = current_app.make_response(
            (render_template("auth/login.html", form=form, throttled=True), 429))
        response.headers["Retry-After"] = str(attempt.retry_after)
        return response
    with db.transaction(current_app.extensions["cohort.engine"]) as db_session:
        user = accounts.authenticate(db_session, form.email.data, form.password.data)
        signed_in = SignedInUser.from_row(user) if user else None
    if signed_in is None:
        current_app.logger.info("failed login from %s", client_address())
        # The same words whether the email has an account or not.
        flash(_l("The email or password is not correct."), "error")
        return render_template("auth/login.html", form=form)
    throttle.succeeded(attempt)
    session.clear()  # nothing from before the login survives it (fixation, participant link)
    login_user(signed_in)
    return redirect(safe_next(form.next.data, url_for("cohorts.dashboard")))


@bp.post("/logout")
@requires(Role.ADMIN, Role.FACILITATOR, Role.EVALUATOR, Role.PARTICIPANT)
def logout():
    """Ends the session on the server too: the account's session version moves on, so a copy
    of the cookie (taken before the logout) no longer signs anyone in. For a participant the
    same happens to their personal-link session (`access.end_participant_sessions`)."""
    if current_user.is_authenticated:
        with db.transaction(current_app.extensions["cohort.engine"]) as db_session:
            accounts.end_sessions(db_session, current_user.id)
    else:
        end_participant_sessions()
    logout_user()
    session.clear()
    flash(_l("You are signed out."), "info")
    return redirect(url_for("auth.login"))


@bp.post("/language")
@public
def language():
    """Switch language; saved on the account for staff, in the session for everyone else."""
    form = LanguageForm()
    back = safe_next(form.next.data, url_for("auth.landing"))
    if form.validate() and form.language.data in LANGUAGE_NAMES:
        if current_user.is_authenticated:
            with db.transaction(current_app.extensions["cohort.engine"]) as db_session:
                user = accounts.get_user(db_session, current_user.id)
                user.locale = form.language.data
        else:
            session["locale"] = form.language.data
    return redirect(back)


def language_form(next_path: str) -> LanguageForm:
    """The header's language switcher, pre-filled with the page's language; it returns to
    `next_path` (the kept header passes a stand-in for `page_path`)."""
    from flask_babel import get_locale

    form = LanguageForm(formdata=None)
    form.language.data = str(get_locale())
    form.next.data = next_path
    return form


def page_path() -> str:
    """The page's path and query, where the language switcher returns to."""
    return request.full_path.rstrip("?") if request else "/"


def locale_preference() -> str | None:
    """The signed-in user's setting, else the anonymous visitor's choice."""
    if current_user.is_authenticated and current_user.locale:
        return current_user.locale
    return chosen_language()


def chosen_language() -> str | None:
    """The language chosen with the header's switcher by someone without an account (a
    visitor, a participant), kept in their session."""
    choice = session.get("locale")
    return choice if choice in LANGUAGE_NAMES else None


def may_manage_staff(cohort_id: int) -> bool:
    """Owners and admins manage who works on a cohort (the Staff tab)."""
    if not current_user.is_authenticated:
        return False
    checked = checked_cohort_role(cohort_id)
    if checked is not None and Role(current_user.role) != Role.ADMIN:
        return checked[0] == CohortRole.OWNER  # staff.may_manage_staff's rule, link known
    with db.transaction(current_app.extensions["cohort.engine"]) as db_session:
        return staff.may_manage_staff(db_session, current_user, cohort_id)
