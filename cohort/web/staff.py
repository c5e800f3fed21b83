"""Who may open facilitator pages (the outbox, the digest).

Staff accounts and roles come from the web app's Flask-Login setup. Until a LoginManager is
installed on the app, these pages refuse everyone (403): deny by default, never open.
When the staff module lands, adapt `is_facilitator` to its user model (role names, cohort
ownership) in this one place.
"""

from __future__ import annotations

from flask import abort, current_app
from flask_login import current_user

STAFF_ROLES = ("facilitator", "admin")


def is_facilitator(user, cohort_id: int | None) -> bool:
    if getattr(user, "role", None) not in STAFF_ROLES:
        return False
    can_manage = getattr(user, "can_manage_cohort", None)
    return can_manage(cohort_id) if callable(can_manage) and cohort_id is not None else True


def require_facilitator(cohort_id: int | None = None):
    """Call first in every facilitator view; returns a response to send instead, or None."""
    manager = getattr(current_app, "login_manager", None)
    if manager is None:
        abort(403)
    if not current_user.is_authenticated:
        return manager.unauthorized()
    if not is_facilitator(current_user, cohort_id):
        abort(403)
    return None
