"""Pages about the service itself: the accessibility statement (public, linked from every
page's footer). docs/accessibility.md says how an installation renews it."""

from __future__ import annotations

from datetime import date
from email.utils import parseaddr

from flask import Blueprint, current_app, render_template

from .access import public

bp = Blueprint("about", __name__)


def accessibility_contact() -> str:
    """The address for feedback on accessibility: COHORT_ACCESSIBILITY_CONTACT, else the
    address part of COHORT_MAIL_FROM."""
    configured = current_app.config.get("ACCESSIBILITY_CONTACT")
    return configured or parseaddr(current_app.config["MAIL_FROM"])[1]


@bp.get("/accessibility")
@public
def accessibility():
    reviewed = date.fromisoformat(current_app.config["ACCESSIBILITY_REVIEWED"])
    return render_template("about/accessibility.html", contact=accessibility_contact(),
                           reviewed=reviewed)
