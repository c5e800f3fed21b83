"""Every setting of the application, read from COHORT_* environment variables in one place.

`settings_from_env` returns the Flask config keys with their defaults; `create_app` merges
them (a test's config overrides them). Deployment docs list the variables (README,
deploy/cohort.env.example); nothing else in the package reads the environment for settings.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
LANGUAGES = ("da", "nb", "en")
# When the project last checked the pages against WCAG 2.1 AA (docs/accessibility.md).
ACCESSIBILITY_REVIEWED = "2026-12-06"


# Secrets that appear in the project's examples (deploy/cohort.env.example): an installation
# that copied one signs its sessions, personal links and calendar feeds with a key anyone
# can read. `create_app` refuses them outside debug and testing.
EXAMPLE_SECRET_KEYS = frozenset({"CHANGE-ME-to-64-random-characters"})
_TRUE, _FALSE = ("1", "true", "yes", "on"), ("", "0", "false", "no", "off")


class SettingError(ValueError):
    """A setting the application must not start with; the message says which and why."""


def is_example_secret(key: object) -> bool:
    text = str(key or "")
    return text in EXAMPLE_SECRET_KEYS or "change-me" in text.casefold()


def _flag(env: Mapping[str, str], name: str) -> bool:
    """An on/off setting: 1, true, yes, on -- or 0, false, no, off, empty, unset. Anything
    else stops start-up rather than being silently read as off."""
    value = (env.get(name) or "").strip().casefold()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise SettingError(f"{name}={env.get(name)!r}: use 1 (on) or 0 (off)")


def instance_path_from_env(env: Mapping[str, str] = os.environ) -> str:
    """Where the installation keeps its SQLite file, secret key, emails and report jobs."""
    return env.get("COHORT_INSTANCE_PATH") or str(PROJECT_ROOT / "instance")


def settings_from_env(instance_path: str | Path,
                      env: Mapping[str, str] = os.environ) -> dict:
    """The application's settings: from the environment where set, else the defaults."""
    instance = Path(instance_path)
    get = env.get
    interval = float(get("COHORT_SCHEDULER_INTERVAL_SECONDS") or 60)
    return dict(
        # --- storage and content
        DATABASE_URL=get("COHORT_DATABASE_URL") or f"sqlite:///{instance / 'cohort.sqlite3'}",
        PROGRAMMES_DIR=get("COHORT_PROGRAMMES_DIR") or str(PROJECT_ROOT / "programmes"),
        SECRET_KEY=get("COHORT_SECRET_KEY"),  # else a per-installation key in instance/
        # Uploaded meeting materials (slides, handouts), each under a random name.
        MATERIALS_DIR=get("COHORT_MATERIALS_DIR") or str(instance / "materials"),
        # The largest material a facilitator may upload, in megabytes.
        MATERIAL_MAX_BYTES=int(float(get("COHORT_MATERIAL_MAX_MB") or 20) * 1024 * 1024),
        # Days after a cohort ends before its participants' personal data is erased (the
        # scheduler applies it daily; unset: only `cohort purge --older-than` does).
        RETENTION_DAYS=int(get("COHORT_RETENTION_DAYS")) if get("COHORT_RETENTION_DAYS")
        else None,
        # --- web
        BABEL_DEFAULT_LOCALE="da",
        BABEL_DEFAULT_TIMEZONE="Europe/Copenhagen",
        LANGUAGES=LANGUAGES,
        # Off (the default): the session cookie is Secure on HTTPS requests only
        # (web/security.py); on: always, even on a request that reached us over plain HTTP.
        SESSION_COOKIE_SECURE=_flag(env, "COHORT_HTTPS_ONLY"),
        TRUST_PROXY=_flag(env, "COHORT_TRUST_PROXY"),
        MAX_CONTENT_LENGTH=5 * 1024 * 1024,  # participant CSV uploads
        # Rendered parts of cohort pages a worker keeps, per cohort revision (web/page_cache.py;
        # about 20 KB each); 0 renders every view.
        PAGE_CACHE_ENTRIES=int(get("COHORT_PAGE_CACHE_ENTRIES") or 500),
        # --- mail and the outbox
        MAIL_URL=get("COHORT_MAIL_URL") or f"file://{instance / 'mail'}",
        MAIL_FROM=get("COHORT_MAIL_FROM") or "Cohort <cohort@localhost>",
        BASE_URL=get("COHORT_BASE_URL") or "http://127.0.0.1:5000",
        OUTBOX_MAX_ATTEMPTS=int(get("COHORT_OUTBOX_MAX_ATTEMPTS") or 8),
        OUTBOX_RETRY_BASE_SECONDS=float(get("COHORT_OUTBOX_RETRY_BASE_SECONDS") or 60),
        OUTBOX_RETRY_CAP_SECONDS=float(get("COHORT_OUTBOX_RETRY_CAP_SECONDS") or 7200),
        OUTBOX_OVERDUE_LIMIT_HOURS=float(get("COHORT_OUTBOX_OVERDUE_LIMIT_HOURS") or 72),
        OUTBOX_STALE_AFTER_SECONDS=float(get("COHORT_OUTBOX_STALE_AFTER_SECONDS") or 900),
        OUTBOX_DATABASE_RETRY_SECONDS=float(get("COHORT_OUTBOX_DATABASE_RETRY_SECONDS") or 120),
        OUTBOX_SMTP_TIMEOUT_SECONDS=float(get("COHORT_SMTP_TIMEOUT_SECONDS") or 30),
        SCHEDULER_INTERVAL_SECONDS=interval,
        # /healthz: unhealthy when the scheduler has not ticked for this long (default: three
        # missed ticks, at least three minutes).
        HEALTH_MAX_HEARTBEAT_AGE_SECONDS=float(
            get("COHORT_HEALTH_MAX_HEARTBEAT_AGE_SECONDS") or max(180.0, 3 * interval)),
        PARTICIPANT_LINK_GRACE_DAYS=float(get("COHORT_PARTICIPANT_LINK_GRACE_DAYS") or 30),
        # Days after the cohort's last date that its personal calendar feeds still answer.
        CALENDAR_FEED_GRACE_DAYS=float(get("COHORT_CALENDAR_FEED_GRACE_DAYS") or 30),
        # --- the accessibility statement (/accessibility; docs/accessibility.md)
        # Where people report accessibility problems (unset: the address of MAIL_FROM).
        ACCESSIBILITY_CONTACT=get("COHORT_ACCESSIBILITY_CONTACT"),
        # The date (YYYY-MM-DD) the installation last reviewed its statement.
        ACCESSIBILITY_REVIEWED=get("COHORT_ACCESSIBILITY_REVIEWED") or ACCESSIBILITY_REVIEWED,
        # Message-ID domain: the domain of MAIL_FROM unless set.
        MAIL_MESSAGE_ID_DOMAIN=get("COHORT_MAIL_MESSAGE_ID_DOMAIN"),
        # --- throttling (counted in the database, shared by every worker)
        LOGIN_FAILURES_PER_MINUTE=int(get("COHORT_LOGIN_FAILURES_PER_MINUTE") or 5),
        CHECK_IN_WRONG_CODES_PER_MINUTE=int(get("COHORT_CHECK_IN_WRONG_CODES_PER_MINUTE") or 5),
        # --- staff invite staff: days an activation link works
        STAFF_ACTIVATION_DAYS=float(get("COHORT_STAFF_ACTIVATION_DAYS") or 7),
    )
