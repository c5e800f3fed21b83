"""`GET /healthz`: for load balancers and monitors; 200 when healthy, 503 otherwise, JSON.

Public and cheap (three small queries). Healthy means: the database answers, its schema is at
the newest revision, and the scheduler process ticked recently (see services/health.py).
"""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify

from ..models import utcnow
from ..services.health import check_health
from .access import public

bp = Blueprint("health", __name__)


@bp.get("/healthz")
@public
def healthz():
    # The wall clock, never the pinned test clock: heartbeats are about real processes.
    health = check_health(current_app.extensions["cohort.engine"], utcnow(),
                          current_app.config["HEALTH_MAX_HEARTBEAT_AGE_SECONDS"])
    response = jsonify(health.as_dict())
    response.status_code = 200 if health.healthy else 503
    response.headers["Cache-Control"] = "no-store"
    return response
