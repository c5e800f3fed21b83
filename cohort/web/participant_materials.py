"""A meeting's material for the participant: `/me/materials/<id>`.

Only a material of their own cohort, and an "after the meeting" one only once the meeting has
been held (`services.materials.material_for_participant`); anything else is 404. Links in the
meeting's emails reach it through the personal link (`next=/me/materials/<id>`).
"""

from __future__ import annotations

from ..models import Role
from ..services import materials as material_service
from .access import requires
from .common import now, read_session
from .materials import material_response
from .participant import bp, own_participant, private


@bp.get("/me/materials/<int:material_id>")
@requires(Role.PARTICIPANT)
def material(material_id: int):
    with read_session() as db_session:
        participant = own_participant(db_session)
        found = material_service.material_for_participant(db_session, participant, material_id,
                                                          now())
    return private(material_response(found))
