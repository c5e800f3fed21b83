"""A staff member's own settings: language and password."""

from __future__ import annotations

from flask import Blueprint, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_user
from werkzeug.security import check_password_hash
from wtforms import PasswordField, SelectField, SubmitField
from wtforms.validators import DataRequired, EqualTo, Length

from ..core.participants import normalise_email
from ..models import Role
from ..services import accounts
from .access import requires
from .auth import SignedInUser, client_address, password_throttle
from .common import read_session, transaction
from .formatting import LANGUAGE_NAMES
from .forms import CohortForm, options

bp = Blueprint("account", __name__, url_prefix="/account")


class LanguageSettingForm(CohortForm):
    locale = SelectField(_l("Language"), choices=options(
        [("", _l("As my browser says")), *LANGUAGE_NAMES.items()]))
    save_language = SubmitField(_l("Save the language"))


class PasswordForm(CohortForm):
    current = PasswordField(_l("Current password"), validators=[DataRequired()])
    new = PasswordField(_l("New password (at least 10 characters)"),
                        validators=[DataRequired(), Length(min=10, max=1024)])
    repeat = PasswordField(_l("New password again"),
                           validators=[DataRequired(), EqualTo("new", _l("The passwords differ."))])
    save_password = SubmitField(_l("Change the password"))


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
