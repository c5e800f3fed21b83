"""Meeting materials in the browser's requests: the facilitators' page, the downloads and who
gets them, the participant page and the size limit."""

from __future__ import annotations

import io
from datetime import timedelta
from functools import partial

import pytest
from sqlalchemy import select

from cohort import db
from cohort.models import Meeting, MeetingMaterial
from tests.fixtures import materials as files
from tests.fixtures.web import PEOPLE, participant_client, staff_client

OFFICE = {"docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
          "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation"}


@pytest.fixture(autouse=True)
def no_csrf(web_app):
    web_app.config["WTF_CSRF_ENABLED"] = False


_staff_client = partial(staff_client, language="en")


def _fetch(client, url):
    """GET a download, read whole and closed (send_file streams from the open file)."""
    with client.get(url) as response:
        response.get_data()
    return response


def _upload(client, cohort_id, name, data, meeting="kickoff", after=False, title=""):
    form = {"meeting": meeting, "title": title,
            "file": (io.BytesIO(data), name)}
    if after:
        form["after_meeting"] = "y"
    return client.post(f"/cohorts/{cohort_id}/materials", data=form,
                       content_type="multipart/form-data")


def _materials(web_app) -> list[MeetingMaterial]:
    with db.transaction(web_app.extensions["cohort.engine"]) as session:
        return list(session.scalars(select(MeetingMaterial).order_by(MeetingMaterial.id)))


def _meeting(web_app, cohort_id, key="kickoff") -> Meeting:
    with db.transaction(web_app.extensions["cohort.engine"]) as session:
        return session.scalars(select(Meeting).where(Meeting.cohort_id == cohort_id,
                                                     Meeting.key == key)).one()


def test_a_facilitator_adds_files_and_links_and_everyone_on_the_cohort_gets_them(
        web_app, staff, cohort_id, first_participant):
    owner = _staff_client(web_app, staff.owner)
    assert owner.get(f"/cohorts/{cohort_id}/materials").status_code == 200
    assert _upload(owner, cohort_id, "Æblegrød.pdf", files.PDF).status_code == 302
    assert _upload(owner, cohort_id, "Plan.docx", files.DOCX, title="The plan").status_code \
        == 302
    link = owner.post(f"/cohorts/{cohort_id}/materials", data={
        "meeting": "kickoff", "title": "Video", "url": "https://video.example/intro"})
    assert link.status_code == 302
    pdf, docx, video = _materials(web_app)
    page = owner.get(f"/cohorts/{cohort_id}/materials").get_data(as_text=True)
    assert "Æblegrød.pdf" in page and "The plan" in page and "Video" in page

    # Staff downloads: the allow-listed type, nosniff, inline PDF, attachment DOCX.
    response = _fetch(owner, f"/cohorts/{cohort_id}/materials/{pdf.id}")
    assert response.status_code == 200 and response.data == files.PDF
    assert response.headers["Content-Type"] == "application/pdf"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Disposition"] == (
        "inline; filename=\"AEblegrod.pdf\"; filename*=UTF-8''%C3%86blegr%C3%B8d.pdf")
    evaluator = _staff_client(web_app, staff.evaluator)
    response = _fetch(evaluator, f"/cohorts/{cohort_id}/materials/{docx.id}")
    assert response.data == files.DOCX and response.mimetype == OFFICE["docx"]
    assert response.headers["Content-Disposition"] == 'attachment; filename="Plan.docx"'
    assert _fetch(evaluator, f"/cohorts/{cohort_id}/materials/{video.id}").headers["Location"] \
        == "https://video.example/intro"

    # The participant: on their page under the meeting, and the download.
    participant = participant_client(web_app, first_participant)
    me = participant.get("/me").get_data(as_text=True)
    for material in (pdf, docx, video):
        assert f'href="/me/materials/{material.id}"' in me
    response = _fetch(participant, f"/me/materials/{docx.id}")
    assert response.status_code == 200 and response.data == files.DOCX
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "no-store"

    # Nobody else: another facilitator, a participant of another cohort.
    other = _staff_client(web_app, staff.other)
    assert _fetch(other, f"/cohorts/{cohort_id}/materials/{pdf.id}").status_code == 403


def test_wrong_or_foreign_ids_are_404(web_app, staff, cohort_id, first_participant,
                                      make_cohort):
    owner = _staff_client(web_app, staff.owner)
    _upload(owner, cohort_id, "s.pdf", files.PDF)
    (mine,) = _materials(web_app)
    engine = web_app.extensions["cohort.engine"]
    other_cohort = make_cohort(engine, people=PEOPLE[:1]).id
    admin = _staff_client(web_app, staff.admin)
    assert _upload(admin, other_cohort, "t.pdf", files.PDF).status_code == 302
    theirs = _materials(web_app)[-1]
    assert _fetch(owner, f"/cohorts/{cohort_id}/materials/{theirs.id}").status_code == 404
    assert _fetch(owner, f"/cohorts/{cohort_id}/materials/999999").status_code == 404
    assert owner.post(f"/cohorts/{cohort_id}/materials/{theirs.id}/remove",
                      data={"material": str(theirs.id)}).status_code == 404
    assert _upload(owner, cohort_id, "s.pdf", files.PDF, meeting="nope").status_code == 400
    participant = participant_client(web_app, first_participant)
    assert _fetch(participant, f"/me/materials/{theirs.id}").status_code == 404
    assert _fetch(participant, "/me/materials/999999").status_code == 404
    assert _fetch(participant, f"/me/materials/{mine.id}").status_code == 200
    # A file gone from the folder is a 404, not a 500.
    from cohort.services.materials import MaterialStore
    MaterialStore(web_app.config["MATERIALS_DIR"]).path(mine.stored_name).unlink()
    assert _fetch(participant, f"/me/materials/{mine.id}").status_code == 404


@pytest.mark.parametrize("name, data, message", [
    ("setup.pdf", files.EXE, "The file&#39;s content is not what its name says (a PDF file)"),
    ("page.png", files.HTML, "The file&#39;s content is not what its name says (a PNG file)"),
    ("setup.exe", files.EXE, "Upload a PDF, PowerPoint (.pptx), Word (.docx), PNG or JPEG"),
    ("empty.pdf", b"", "The file is empty."),
])
def test_refused_uploads_say_why_and_store_nothing(web_app, staff, cohort_id, name, data,
                                                   message):
    owner = _staff_client(web_app, staff.owner)
    response = _upload(owner, cohort_id, name, data)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert _materials(web_app) == []


def test_a_link_or_a_file_but_one_of_the_two(web_app, staff, cohort_id):
    owner = _staff_client(web_app, staff.owner)
    neither = owner.post(f"/cohorts/{cohort_id}/materials", data={"meeting": "kickoff"})
    assert neither.status_code == 400
    assert "Give a link or choose a file" in neither.get_data(as_text=True)
    bad = owner.post(f"/cohorts/{cohort_id}/materials",
                     data={"meeting": "kickoff", "url": "javascript:alert(1)"})
    assert bad.status_code == 400 and _materials(web_app) == []


def test_uploads_over_the_limit_are_refused(web_app, staff, cohort_id):
    web_app.config["MATERIAL_MAX_BYTES"] = 1000
    owner = _staff_client(web_app, staff.owner)
    padded = files.PDF + b"%" * 1000
    response = _upload(owner, cohort_id, "big.pdf", padded)
    assert response.status_code == 400
    assert _materials(web_app) == []
    # Far over it, the request itself is refused before it is read (413).
    huge = _upload(owner, cohort_id, "huge.pdf", files.PDF + b"%" * 200_000)
    assert huge.status_code == 413
    assert "The file is too large" in huge.get_data(as_text=True)


def test_a_material_upload_may_exceed_the_csv_limit(web_app, staff, cohort_id):
    """MAX_CONTENT_LENGTH (5 MB) is for CSV uploads; materials have their own limit."""
    web_app.config["MAX_CONTENT_LENGTH"] = 10_000
    owner = _staff_client(web_app, staff.owner)
    big = files.PDF + b"%" * 50_000
    assert _upload(owner, cohort_id, "big.pdf", big).status_code == 302
    assert _materials(web_app)[0].size == len(big)
    # Anywhere else the app's limit still holds.
    assert owner.post(f"/cohorts/{cohort_id}/participants/upload",
                      data={"file": (io.BytesIO(b"x" * 20_000), "p.csv")},
                      content_type="multipart/form-data").status_code == 413


def test_after_the_meeting_materials_wait_for_the_meeting_to_end(web_app, staff, cohort_id,
                                                                  first_participant):
    owner = _staff_client(web_app, staff.owner)
    _upload(owner, cohort_id, "slides.pptx", files.PPTX, after=True, title="Slides")
    (slides,) = _materials(web_app)
    assert slides.after_meeting
    participant = participant_client(web_app, first_participant)
    assert "Slides" not in participant.get("/me").get_data(as_text=True)
    assert _fetch(participant, f"/me/materials/{slides.id}").status_code == 404
    # Staff have it all along.
    assert _fetch(owner, f"/cohorts/{cohort_id}/materials/{slides.id}").status_code == 200
    web_app.config["COHORT_NOW"] = _meeting(web_app, cohort_id).ends_at + timedelta(minutes=1)
    me = participant.get("/me").get_data(as_text=True)
    assert f'href="/me/materials/{slides.id}"' in me and 'id="earlier-materials"' in me
    response = _fetch(participant, f"/me/materials/{slides.id}")
    assert response.status_code == 200 and response.mimetype == OFFICE["pptx"]


def test_removing_a_material(web_app, staff, cohort_id):
    owner = _staff_client(web_app, staff.owner)
    _upload(owner, cohort_id, "s.pdf", files.PDF)
    (material,) = _materials(web_app)
    # Without naming the material (or naming another), nothing is removed.
    owner.post(f"/cohorts/{cohort_id}/materials/{material.id}/remove", data={})
    assert len(_materials(web_app)) == 1
    done = owner.post(f"/cohorts/{cohort_id}/materials/{material.id}/remove",
                      data={"material": str(material.id)}, follow_redirects=True)
    assert "was removed" in done.get_data(as_text=True)
    assert _materials(web_app) == []
    assert _fetch(owner, f"/cohorts/{cohort_id}/materials/{material.id}").status_code == 404


def test_the_link_in_an_email_continues_through_the_personal_link_to_the_file(
        web_app, staff, cohort_id, first_participant):
    from cohort import services

    owner = _staff_client(web_app, staff.owner)
    _upload(owner, cohort_id, "s.pdf", files.PDF)
    (material,) = _materials(web_app)
    with db.transaction(web_app.extensions["cohort.engine"]) as session:
        token = services.personal_token(session, first_participant.id,
                                        web_app.config["SECRET_KEY"], web_app.config["COHORT_NOW"])
    visitor = web_app.test_client()
    landing = visitor.get(f"/p/{token}?next=/me/materials/{material.id}")
    assert landing.status_code == 200
    html = landing.get_data(as_text=True)
    assert f'value="/me/materials/{material.id}"' in html
    done = visitor.post(f"/p/{token}", data={"next": f"/me/materials/{material.id}"})
    assert done.status_code == 302 and done.headers["Location"] == f"/me/materials/{material.id}"
    assert _fetch(visitor, f"/me/materials/{material.id}").data == files.PDF


def test_a_stored_link_that_is_not_a_web_link_is_never_followed(web_app, staff, cohort_id,
                                                                first_participant):
    """Rows written around the checks (an old import, a hand edit) read back as no link."""
    from sqlalchemy import update

    owner = _staff_client(web_app, staff.owner)
    owner.post(f"/cohorts/{cohort_id}/materials", data={
        "meeting": "kickoff", "title": "Video", "url": "https://video.example/intro"})
    (material,) = _materials(web_app)
    with db.transaction(web_app.extensions["cohort.engine"]) as session:
        session.execute(update(MeetingMaterial).where(MeetingMaterial.id == material.id)
                        .values(url="javascript:alert(document.cookie)"))
    participant = participant_client(web_app, first_participant)
    assert _fetch(participant, f"/me/materials/{material.id}").status_code == 404
    assert _fetch(owner, f"/cohorts/{cohort_id}/materials/{material.id}").status_code == 404
    assert "javascript:" not in participant.get("/me").get_data(as_text=True)
