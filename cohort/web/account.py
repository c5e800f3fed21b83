"""A staff member's own settings (language and password), and activating an invited account.

`/account/activate/<token>` is where a colleague a cohort's owner invited (services/staff.py)
sets their password: the token is the credential, so the page is public, throttled per address
like the login (a wrong or expired link counts as a failed attempt), and answers 404 with an
explanation for a link that is unknown, used or expired.
"""

from __future__ import annotations

from flask import (
    Blueprint,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask import session as session_store
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_user
from werkzeug.security import check_password_hash
from wtforms import PasswordField, SelectField, SubmitField
from wtforms.validators import DataRequired, EqualTo, Length

from ..core.participants import normalise_email
from ..models import Role
from ..services import accounts, staff
from .access import public, requires
from .auth import SignedInUser, client_address, password_throttle
from .common import now, read_session, transaction
from .formatting import LANGUAGE_NAMES
from .forms import CohortForm, options
from .ratelimit import Throttle

bp = Blueprint("account", __name__, url_prefix="/account")


class LanguageSettingForm(CohortForm):
    locale = SelectField(_l("Language"), choices=options(
        [("", _l("As my browser says")), *LANGUAGE_NAMES.items()]))
    save_language = SubmitField(_l("Save the language"))


class NewPasswordForm(CohortForm):
    """A new password typed twice, under the account rules (`accounts.MIN_PASSWORD_LENGTH`)."""

    new = PasswordField(_l("New password (at least 10 characters)"),
                        validators=[DataRequired(),
                                    Length(min=accounts.MIN_PASSWORD_LENGTH, max=1024)])
    repeat = PasswordField(_l("New password again"),
                           validators=[DataRequired(), EqualTo("new", _l("The passwords differ."))])


class PasswordForm(NewPasswordForm):
    current = PasswordField(_l("Current password"), validators=[DataRequired()])
    save_password = SubmitField(_l("Change the password"))


class ActivationForm(NewPasswordForm):
    activate = SubmitField(_l("Activate my account"))


ACTIVATION_THROTTLE = "cohort.activation_throttle"


@bp.route("/", methods=["GET", "POST"])
@requires(Role.ADMIN, Role.FACILITATOR, Role.EVALUATOR)
def settings():
    language_form = LanguageSettingForm(prefix="lang")
    password_form = PasswordForm(prefix="pw")
    status, retry_after = 200, 0
    if request.method == "GET":
        language_form.locale.data = current_user.locale or ""
    elif language_form.save_language.data:
        if language_form.validate():
            with transaction() as session:
                user = accounts.get_user(session, current_user.id)
                user.locale = language_form.locale.data or None
            flash(_("Your language was saved."), "success")
            return redirect(url_for("account.settings"))
        status = 400
    elif password_form.save_password.data:
        status = 400
        if password_form.validate():
            # The current-password check is a password guess like a login: the same count.
            throttle = password_throttle()
            attempt = throttle.begin(normalise_email(current_user.email), client_address())
            if attempt.refused:
                password_form.current.errors.append(
                    _("Too many failed attempts. Wait a minute and try again."))
                status, retry_after = 429, attempt.retry_after
            else:
                with transaction() as session:
                    user = accounts.get_user(session, current_user.id)
                    if check_password_hash(user.password_hash, password_form.current.data):
                        accounts.set_password(session, user, password_form.new.data)
                        signed_in = SignedInUser.from_row(user)
                    else:
                        signed_in = None
                if signed_in is not None:
                    throttle.succeeded(attempt)
                    login_user(signed_in)  # the new session version; other sessions end
                    flash(_("Your password was changed."), "success")
                    return redirect(url_for("account.settings"))
                password_form.current.errors.append(_("That is not your current password."))
    else:
        status = 400
    with read_session() as session:
        user = accounts.get_user(session, current_user.id)
    response = make_response(render_template(
        "account/settings.html", user=user, language_form=language_form,
        password_form=password_form), status)
    if retry_after:
        response.headers["Retry-After"] = str(retry_after)
    return response


def activation_throttle() -> Throttle:
    app = current_app._get_current_object()
    if ACTIVATION_THROTTLE not in app.extensions:
        app.extensions[ACTIVATION_THROTTLE] = Throttle(
            app.extensions["cohort.engine"], "activation",
            max_failures=app.config["LOGIN_FAILURES_PER_MINUTE"])
    return app.extensions[ACTIVATION_THROTTLE]


@bp.route("/activate/<token>", methods=["GET", "POST"])
@public  # the token is the credential
def activate(token: str):
    """An invited colleague chooses their password; the account is activated and signed in."""
    throttle = activation_throttle()
    # Per address: every guess is another token, so an account count would never fill up.
    attempt = throttle.begin(client_address())
    if attempt.refused:
        response = make_response(render_template("errors/error.html", code=429, csrf=False),
                                 429)
        response.headers["Retry-After"] = str(attempt.retry_after)
        return response
    form = ActivationForm()
    try:
        with transaction() as session:
            user = staff.activation_account(session, token, now())
            signed_in = None
            if request.method == "POST" and form.validate():
                try:
                    user = staff.activate(session, token, form.new.data, now())
                    signed_in = SignedInUser.from_row(user)
                except accounts.AccountError:  # the form checks the same rules first
                    form.new.errors.append(_("Choose a password of at least 10 characters."))
    except staff.ActivationRefused:
        return render_template("account/activation_invalid.html",
                               days=f"{current_app.config['STAFF_ACTIVATION_DAYS']:g}"), 404
    throttle.succeeded(attempt)
    if signed_in is not None:
        session_store.clear()  # nothing from before survives the sign-in
        login_user(signed_in)
        flash(_("Your account is active. Welcome!"), "success")
        return redirect(url_for("cohorts.dashboard"))
    status = 400 if request.method == "POST" else 200
    return render_template("account/activate.html", form=form, email=user.email,
                           token=token), status
