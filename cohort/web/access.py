"""Who may use which route: every endpoint declares a rule, and unruled endpoints are refused.

A view declares its rule with a decorator::

    @bp.get("/cohorts/<int:cohort_id>")
    @requires(Role.FACILITATOR, cohort_access=True)
    def dashboard(cohort_id): ...

    @bp.get("/p/<token>")
    @public            # anyone; the view checks its own token
    def personal_page(token): ...

Endpoints that are not plain views (Flask's `static`) are declared with `declare()`. The rule is
checked in one `before_request` hook, before the view runs; an endpoint with no rule is
refused with 403 (and the authorisation-matrix test fails for it).

Identities and the rules they pass:
- anonymous: public routes only; staff routes redirect to the login page, participant routes 403.
- participant: a personal-link session (`sign_in_participant`), no account. Passes rules that
  list `Role.PARTICIPANT`; with `cohort_access` only for their own cohort's `cohort_id`.
- evaluator / facilitator: rules that list their role; with `cohort_access=True` only for
  cohorts they are attached to (facilitators as owner or co-facilitator, evaluators as
  evaluator); with `cohort_access="owner"` only as owner.
- admin: passes every rule that lists any staff role, for every cohort; not participant-only
  rules.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from flask import Flask, abort, current_app, g, redirect, request, session, url_for
from flask_login import current_user
from sqlmodel import Session

from .. import db
from ..models import STAFF_ROLES, CohortRole, Participant, Role
from ..services import accounts, participant_access

PARTICIPANT_SESSION_KEY = "participant"
# The personal link the participant signed in with (its id): the participant pages re-check it.
LINK_SESSION_KEY = "participant_link_id"
CohortAccess = bool | Literal["owner"]


@dataclass(frozen=True)
class AccessRule:
    roles: frozenset[Role] = frozenset()
    public: bool = False
    cohort_access: CohortAccess = False

    def describe(self) -> str:
        if self.public:
            return "public"
        who = ", ".join(sorted(self.roles | ({Role.ADMIN} if self.roles & set(STAFF_ROLES)
                                              else set())))
        scope = {False: "", True: " (own cohort)", "owner": " (cohort owner)"}[self.cohort_access]
        return who + scope


PUBLIC = AccessRule(public=True)


def requires(*roles: Role, cohort_access: CohortAccess = False) -> Callable:
    """Declare who may use a view (admins implied for staff roles; see module docstring)."""
    if not roles:
        raise ValueError("name at least one role, or use @public")
    rule = AccessRule(frozenset(roles), cohort_access=cohort_access)

    def decorate(view: Callable) -> Callable:
        view.access_rule = rule
        return view
    return decorate


def public(view: Callable) -> Callable:
    """Anyone may use this view, signed in or not."""
    view.access_rule = PUBLIC
    return view


def declare(app: Flask, endpoint: str, rule: AccessRule) -> None:
    """A rule for an endpoint whose view function cannot carry one (e.g. `static`)."""
    app.extensions.setdefault("cohort.access_rules", {})[endpoint] = rule


def rule_for(app: Flask, endpoint: str) -> AccessRule | None:
    declared = app.extensions.get("cohort.access_rules", {}).get(endpoint)
    if declared is not None:
        return declared
    view = app.view_functions.get(endpoint)
    return getattr(view, "access_rule", None)


# --- identities ----------------------------------------------------------------------------

def sign_in_participant(participant: Participant) -> None:
    """Start a personal-link session (used by the participant pages' link handler). It carries
    the participant's session version, so logging out ends it on the server as well."""
    session.clear()
    session[PARTICIPANT_SESSION_KEY] = {"id": participant.id, "cohort_id": participant.cohort_id,
                                        "version": participant.session_version}


def sign_out_participant() -> None:
    session.pop(PARTICIPANT_SESSION_KEY, None)


def end_participant_sessions() -> None:
    """Log the signed-in participant out everywhere: every copy of their session cookie stops
    working, not only this browser's."""
    signed_in = current_participant()
    if signed_in is not None:
        with Session(_engine()) as db_session, db_session.begin():
            participant_access.end_participant_sessions(db_session, signed_in["id"])
    sign_out_participant()
    g.cohort_participant = None
    g.participant_checked = None


def current_participant() -> dict | None:
    """{'id', 'cohort_id'} of the participant this browser signed in as, if they still exist.

    Checked against the database once per request, so a removed participant's link session
    stops working at once, and so does a session of before their last logout (its version is
    older than the participant's). The same statement reads what the participant pages check
    next (their link, its end): `checked_participant` keeps it for them; and their cohort's
    revision, before the view reads any of the cohort's data, for the parts of their pages
    kept per revision (`checked_cohort_revision`).
    """
    if "cohort_participant" in g:
        return g.cohort_participant
    with db.read_session(_engine()) as db_session:
        checked = check_participant_session(db_session)
    if checked is None and PARTICIPANT_SESSION_KEY in session:
        sign_out_participant()
    g.participant_checked = checked
    if checked is not None:
        g.cohort_revision_checked = (checked.participant.cohort_id, checked.revision)
    g.cohort_participant = None if checked is None else {
        "id": checked.participant.id, "cohort_id": checked.participant.cohort_id}
    return g.cohort_participant


def check_participant_session(db_session: Session) -> participant_access.SignedIn | None:
    """The personal-link session of this browser checked in `db_session` (one statement), or
    None when there is none or it no longer lets anyone in."""
    value = session.get(PARTICIPANT_SESSION_KEY)
    if not (isinstance(value, dict) and isinstance(value.get("id"), int)):
        return None
    return participant_access.signed_in(db_session, value["id"], value.get("cohort_id"),
                                        value.get("version"), session.get(LINK_SESSION_KEY))


def checked_participant() -> participant_access.SignedIn | None:
    """What this request's access check read about the signed-in participant (their row, their
    link, the cohort's end), or None when it read nothing (not a participant request)."""
    if current_participant() is None:
        return None
    return g.get("participant_checked")


def current_role() -> Role | None:
    if current_user.is_authenticated:
        return Role(current_user.role)
    if current_participant() is not None:
        return Role.PARTICIPANT
    return None


# --- enforcement ---------------------------------------------------------------------------

def init_access(app: Flask) -> None:
    app.before_request(_enforce)
    app.add_template_global(may_use)


def may_use(endpoint: str) -> bool:
    """Whether the signed-in identity's role passes `endpoint`'s rule.

    For links on a cohort page to another page of the same cohort: the reader already passed
    this cohort's check in their role, so only the role part of the target's rule is left to
    decide (e.g. free-text answers are for evaluators, not for the cohort's facilitators).
    Owner-only rules need the cohort itself: use `may_manage_staff` for those.
    """
    rule = rule_for(current_app, endpoint)
    if rule is None:
        return False
    if rule.public:
        return True
    if rule.cohort_access == "owner":
        raise ValueError(f"{endpoint} is for the cohort's owner: may_use cannot decide it")
    role = current_role()
    return role is not None and _role_allowed(rule, role)


def sees_words(cohort_id: int) -> bool:
    """Whether the signed-in staff member gets the cohort's words (the evaluators' coded
    quotes and the participants' free-text answers) and not only its figures: admins and the
    cohort's evaluators do, its owner and co-facilitators do not. Decided by the cohort role,
    as the words-only pages are."""
    if not current_user.is_authenticated:
        return False
    if Role(current_user.role) == Role.ADMIN:
        return True
    with db.read_session(_engine()) as db_session:
        return accounts.cohort_role(db_session, current_user.id,
                                    cohort_id) == CohortRole.EVALUATOR


def _engine():
    return current_app.extensions["cohort.engine"]


def _enforce():
    endpoint = request.endpoint
    if endpoint is None:  # no route matched: Flask answers 404/405 itself
        return None
    rule = rule_for(current_app, endpoint)
    if rule is None:
        current_app.logger.error("endpoint %s declares no access rule; refused", endpoint)
        abort(403)
    if rule.public:
        return None
    role = current_role()
    if role is None:
        if rule.roles <= {Role.PARTICIPANT}:
            abort(403)
        return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
    if not _role_allowed(rule, role):
        abort(403)
    if rule.cohort_access:
        _check_cohort(rule, role, (request.view_args or {}).get("cohort_id"))
    return None


def checked_cohort_role(cohort_id: int) -> tuple[str | None] | None:
    """(the signed-in staff member's link to the cohort,) as this GET's access check read it,
    or None when it did not (another cohort, an admin, or a POST, which may change it): the
    cohort tabs ask for the owner's Staff tab without reading the link again."""
    checked = g.get("cohort_role_checked")
    if request.method not in ("GET", "HEAD") or checked is None \
            or checked[:2] != (current_user.id, cohort_id):
        return None
    return (checked[2],)


def checked_cohort_revision(cohort_id: int) -> tuple[int | None] | None:
    """(the cohort's revision,) as this request's access check read it, before the view read
    any of the cohort's data; None when it did not check this cohort."""
    checked = g.get("cohort_revision_checked")
    if checked is None or checked[0] != cohort_id:
        return None
    return (checked[1],)


def _role_allowed(rule: AccessRule, role: Role) -> bool:
    if role == Role.ADMIN:
        return bool(rule.roles & set(STAFF_ROLES))
    return role in rule.roles


def _check_cohort(rule: AccessRule, role: Role, cohort_id: int | None) -> None:
    if cohort_id is None:
        raise RuntimeError(f"{request.endpoint}: cohort_access needs a <cohort_id> in the URL")
    if role == Role.PARTICIPANT:
        _check_own_cohort(cohort_id)
        return
    staff = role != Role.ADMIN
    with db.read_session(_engine()) as db_session:
        found = accounts.check_cohort(db_session, cohort_id,
                                      current_user.id if staff else None)
    if found is None:
        abort(404)
    g.cohort_revision_checked = (cohort_id, found.revision)
    if role == Role.ADMIN:
        return
    link = found.link
    g.cohort_role_checked = (current_user.id, cohort_id, link)
    if rule.cohort_access == "owner":
        allowed = {CohortRole.OWNER}
    elif role == Role.EVALUATOR:
        allowed = {CohortRole.EVALUATOR}
    else:
        allowed = {CohortRole.OWNER, CohortRole.CO_FACILITATOR}
    if link not in allowed:
        abort(403)


def _check_own_cohort(cohort_id: int) -> None:
    """A participant reaches their own cohort only. Their cohort exists (the access check
    joined it): no statement for it. Another cohort's id is 404 if there is no such cohort,
    else 403, as for staff."""
    if current_participant()["cohort_id"] == cohort_id:
        return
    with db.read_session(_engine()) as db_session:
        found = accounts.check_cohort(db_session, cohort_id, None)
    abort(404 if found is None else 403)
