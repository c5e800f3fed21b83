"""Administrators manage staff accounts: create, change role, deactivate, set a password."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms import BooleanField, EmailField, PasswordField, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, Length, Optional

from ..models import STAFF_ROLES, Role
from ..services import accounts
from .access import requires
from .common import or_404, read_session, transaction
from .formatting import ROLES
from .forms import CohortForm, SingleLine, options

bp = Blueprint("admin", __name__, url_prefix="/admin")


def _role_choices():
    return options((str(role), ROLES[role]) for role in STAFF_ROLES)


class NewUserForm(CohortForm):
    email = EmailField(_l("Email"), validators=[DataRequired(), SingleLine(254)])
    name = StringField(_l("Name"), validators=[Optional(), SingleLine(200)])
    role = SelectField(_l("Role"), choices=_role_choices, default="facilitator")
    password = PasswordField(_l("Password (at least 10 characters)"),
                             validators=[DataRequired(), Length(min=10, max=1024)])
    submit = SubmitField(_l("Create the account"))


class EditUserForm(CohortForm):
    name = StringField(_l("Name"), validators=[Optional(), SingleLine(200)])
    role = SelectField(_l("Role"), choices=_role_choices)
    active = BooleanField(_l("Active (may log in)"))
    may_create_cohorts = BooleanField(_l("May start cohorts of their own"))
    password = PasswordField(_l("New password (leave empty to keep the current one)"),
                             validators=[Optional(), Length(min=10, max=1024)])
    submit = SubmitField(_l("Save"))


@bp.route("/users", methods=["GET", "POST"])
@requires(Role.ADMIN)
def users():
    form = NewUserForm()
    status = 200
    if request.method == "POST":
        if form.validate():
            try:
                with transaction() as session:
                    user = accounts.create_user(session, form.email.data, form.role.data,
                                                form.password.data, name=form.name.data or "")
            except accounts.AccountError:
                form.email.errors.append(_("There is already an account with that email."))
            else:
                flash(_("The account for %(email)s was created.", email=user.email), "success")
                return redirect(url_for("admin.users"))
        status = 400
    with read_session() as session:
        everyone = accounts.list_users(session)
    return render_template("admin/users.html", users=everyone, form=form), status


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@requires(Role.ADMIN)
def edit_user(user_id: int):
    with read_session() as session:
        user = or_404(accounts.get_user(session, user_id))
    form = EditUserForm(obj=user if request.method == "GET" else None)
    status = 200
    if request.method == "POST":
        if form.validate():
            if user.id == current_user.id and (form.role.data != Role.ADMIN
                                               or not form.active.data):
                form.role.errors.append(_("You cannot take away your own administrator access."))
            else:
                with transaction() as session:
                    row = accounts.get_user(session, user_id)
                    accounts.update_user(session, row, role=form.role.data,
                                         active=form.active.data, name=form.name.data or "",
                                         may_create_cohorts=form.may_create_cohorts.data)
                    if form.password.data:
                        accounts.set_password(session, row, form.password.data)
                flash(_("The changes were saved."), "success")
                return redirect(url_for("admin.users"))
        status = 400
    return render_template("admin/edit_user.html", user=user, form=form), status
