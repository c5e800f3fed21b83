"""Creating a cohort in the browser, its dashboard and plan, the programme library."""

from __future__ import annotations

import re
import shutil
from functools import partial

from sqlalchemy import select

from cohort import db
from cohort.models import ActivityEntry, Cohort, CohortStaff, Meeting
from tests.fixtures.paths import PROGRAMMES
from tests.fixtures.web import staff_client

_client = partial(staff_client, csrf=False)


def _rows(html: str) -> dict[str, dict[str, str]]:
    """The meeting rows of the preview form: {key: {field: value}}."""
    rows: dict[str, dict[str, str]] = {}
    for index, field, value in re.findall(
            r'name="meetings-(\d+)-(\w+)" type="(?:hidden|date|time|text)" value="([^"]*)"', html):
        rows.setdefault(index, {})[field] = value
    return {row["key"]: {**row, "index": index} for index, row in rows.items()}


def _form(rows, base: dict, changes: dict | None = None) -> dict:
    changes = changes or {}
    data = dict(base)
    for key, row in rows.items():
        for field in ("key", "planned", "overridden", "day", "clock", "location", "online_url"):
            value = changes.get((key, field), row.get(field, ""))
            data[f"meetings-{row['index']}-{field}"] = value
    return data


BASE = {"programme": "digital-lederskab", "title": "Hold forår", "start": "2025-04-08",
        "timezone": "Europe/Copenhagen", "language": "da"}


def test_new_cohort_preview_warnings_override_and_create(web_app, staff):
    client = _client(web_app, staff.other)
    form = client.get("/cohorts/new?programme=digital-lederskab").get_data(as_text=True)
    assert '<option selected value="digital-lederskab">' in form
    preview = client.post("/cohorts/new", data={**BASE, "preview": "1"})
    html = preview.get_data(as_text=True)
    assert preview.status_code == 200 and "Planlagte datoer" in html
    # Workshop 1 falls on Maundy Thursday 2025: a warning in Danish, with the holiday's name.
    assert "er en helligdag: Skærtorsdag" in html
    rows = _rows(html)
    assert rows["workshop-1"]["day"] == "2025-04-17" and rows["workshop-1"]["clock"] == "09:00"
    assert rows["webinar-2"]["day"] == "2025-06-12"
    # Move workshop 1 to the Tuesday after Easter, then change the start date by a week.
    moved = _form(rows, {**BASE, "planned_programme": "digital-lederskab", "preview": "1"},
                  {("workshop-1", "day"): "2025-04-22"})
    html = client.post("/cohorts/new", data=moved).get_data(as_text=True)
    assert "Skærtorsdag" not in html
    rows = _rows(html)
    assert rows["workshop-1"]["overridden"] == "1"
    later = _form(rows, {**BASE, "start": "2025-04-15", "planned_programme": "digital-lederskab",
                         "preview": "1"})
    rows = _rows(client.post("/cohorts/new", data=later).get_data(as_text=True))
    assert rows["workshop-1"]["day"] == "2025-04-22"  # the override stays
    assert rows["webinar-2"]["day"] == "2025-06-19"  # the rest follows the new start
    create = _form(rows, {**BASE, "start": "2025-04-15", "planned_programme": "digital-lederskab",
                          "create": "1"})
    created = client.post("/cohorts/new", data=create)
    assert created.status_code == 302 and created.headers["Location"].endswith("/participants/")
    with db.transaction(web_app.extensions["cohort.engine"]) as session:
        cohort = session.scalars(select(Cohort).where(Cohort.title == "Hold forår")).one()
        meetings = {m.key: m for m in session.scalars(
            select(Meeting).where(Meeting.cohort_id == cohort.id))}
        link = session.scalars(select(CohortStaff).where(
            CohortStaff.cohort_id == cohort.id)).one()
        log = session.scalars(select(ActivityEntry).where(
            ActivityEntry.cohort_id == cohort.id)).one()
    assert cohort.start_date.isoformat() == "2025-04-15"
    assert cohort.state == "draft"  # nothing is sent until it is launched
    assert meetings["workshop-1"].override_starts_at is not None
    assert meetings["workshop-1"].starts_at.isoformat() == "2025-04-22T07:00:00+00:00"
    assert meetings["workshop-1"].sequence == 0
    assert meetings["webinar-2"].override_starts_at is None
    assert (link.user_id, link.role) == (staff.other.id, "owner")
    assert (log.action, log.actor) == ("cohort_created", "other@cohort.example")
    # The creator may now open it.
    assert client.get(f"/cohorts/{cohort.id}").status_code == 200


def test_new_cohort_needs_a_preview_and_valid_input(web_app, staff):
    client = _client(web_app, staff.owner)
    # "Create" without a preview shows the preview first and creates nothing.
    response = client.post("/cohorts/new", data={**BASE, "create": "1"})
    assert response.status_code == 200 and "Planlagte datoer" in response.get_data(as_text=True)
    bad = client.post("/cohorts/new", data={**BASE, "timezone": "Europe/Atlantis",
                                            "start": "", "preview": "1"})
    html = bad.get_data(as_text=True)
    assert bad.status_code == 400
    assert "Europe/Atlantis« er ikke en tidszone" in html and "Feltet skal udfyldes." in html
    with db.transaction(web_app.extensions["cohort.engine"]) as session:
        assert session.scalars(select(Cohort)).all() != []  # only the fixture's cohort
        assert len(session.scalars(select(Cohort)).all()) == 1


def _named(html: str, kind: str) -> list[str]:
    """The items an upcoming email of the overview is about, each as the page lists it."""
    cell = re.search(rf"<td>{kind}(.*?)</td>", html, re.S)
    assert cell, kind
    titles = re.fullmatch(r'\s*<ul class="item-titles muted">(.*)</ul>\s*', cell.group(1), re.S)
    assert titles, cell.group(1)
    return [" ".join(t.split()) for t in re.findall(r"<li>(.*?)</li>", titles.group(1), re.S)]


def test_cohort_dashboard_and_plan(web_app, staff, cohort_id):
    client = _client(web_app, staff.owner)
    html = client.get(f"/cohorts/{cohort_id}", headers={"Accept-Language": "en"}).get_data(
        as_text=True)
    assert "Kick-off-webinar" in html and "next" in html
    # "Now" is 10 March 2025: welcome and invitations wait to go out; the kick-off question
    # (3 April) is more than 14 days ahead.
    assert "Welcome email" in html and "due now" in html
    assert "Reflection question" not in html
    # The emails are named by what they are about, never by raw keys (meeting:kickoff).
    assert _named(html, "Meeting invitation") == [
        "Kick-off-webinar", "Kick-out-webinar", "Webinar 1", "and 4 more"]
    web_app.config["COHORT_NOW"] = web_app.config["COHORT_NOW"].replace(month=3, day=28)
    html = client.get(f"/cohorts/{cohort_id}", headers={"Accept-Language": "en"}).get_data(
        as_text=True)
    assert _named(html, "Reflection question") == ["Kick-off-webinar"]
    # A title with commas in it stays one title: joined with ", " these three read as five.
    assert _named(html, "Task email") == [
        "Vælg din case", "Læs, lyt eller se materialet til næste møde",
        "Saml spørgsmål og refleksioner til næste møde"]
    assert not re.search(r"\b(meeting|task|survey|prompt):[a-z]", html)
    plan = client.get(f"/cohorts/{cohort_id}/plan", headers={"Accept-Language": "en"})
    page = plan.get_data(as_text=True)
    assert 'id="meeting-webinar-2"' in page and "Arbejd med din case i praksis" in page
    assert "Thursday, 12 June 2025" in page


def test_programme_library_shows_previews_and_broken_templates(web_app, staff, tmp_path):
    folder = tmp_path / "programmes"
    shutil.copytree(PROGRAMMES, folder)
    (folder / "broken.yaml").write_text(
        "id: broken\ntitle: B\nlanguage: da\nmeetings:\n"
        "  - {key: a, kind: webinaar, title: A, offset: 0d}\n", encoding="utf-8")
    web_app.config["PROGRAMMES_DIR"] = str(folder)
    client = _client(web_app, staff.owner)
    html = client.get("/programmes/").get_data(as_text=True)
    assert "Kompetencer til Digitalt Lederskab" in html and "Ledelse i Digitalisering" in html
    assert "programmes/broken.yaml:5: meetings[0].kind: &#39;webinaar&#39; is not one of" in html
    preview = client.get("/programmes/digital-lederskab").get_data(as_text=True)
    assert "Dag 0" in preview and "Workshop 1" in preview and "Buddyordning" in preview
    assert "Saml spørgsmål og refleksioner til næste møde" in preview
    assert "Evaluering af mødet" in preview
    assert client.get("/programmes/no-such").status_code == 404


def test_staff_page_adds_and_removes_colleagues_but_keeps_the_owner(web_app, staff, cohort_id):
    owner = _client(web_app, staff.owner)
    owner.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"  # the source strings
    page = f"/cohorts/{cohort_id}/staff"
    # An evaluator's account cannot be a co-facilitator (an unknown email is invited instead:
    # tests/web/test_staff_invitations.py).
    unknown = owner.post(page, data={"email": staff.evaluator.email, "role": "co_facilitator"})
    assert unknown.status_code == 400
    assert "There is no active facilitator account with that email." in unknown.get_data(
        as_text=True)
    added = owner.post(page, data={"email": staff.other.email, "role": "co_facilitator"})
    assert added.status_code == 302
    assert _client(web_app, staff.other).get(f"/cohorts/{cohort_id}").status_code == 200
    # A Remove button for the colleague, none on the owner's own row.
    listing = owner.get(page).get_data(as_text=True)
    assert f'name="user_id" value="{staff.other.id}"' in listing
    assert f'name="user_id" value="{staff.owner.id}"' not in listing
    # The other facilitator works on the cohort now, but only its owner manages the staff.
    assert _client(web_app, staff.other).post(
        f"{page}/remove", data={"user_id": staff.owner.id}).status_code == 403
    kept = owner.post(f"{page}/remove", data={"user_id": staff.owner.id}, follow_redirects=True)
    assert "the last owner cannot be removed" in kept.get_data(as_text=True)
    # Nor can the owner add themselves as a co-facilitator and so leave the cohort ownerless.
    demoted = owner.post(page, data={"email": staff.owner.email, "role": "co_facilitator"},
                         follow_redirects=True)
    assert "the last owner cannot be removed" in demoted.get_data(as_text=True)
    assert owner.post(f"{page}/remove", data={"user_id": staff.admin.id}).status_code == 404
    removed = owner.post(f"{page}/remove", data={"user_id": staff.other.id},
                         follow_redirects=True)
    assert "other@cohort.example was removed from the cohort." in removed.get_data(as_text=True)
    assert _client(web_app, staff.other).get(f"/cohorts/{cohort_id}").status_code == 403
    with db.transaction(web_app.extensions["cohort.engine"]) as session:
        log = [(e.action, e.actor, e.details) for e in session.scalars(
            select(ActivityEntry).where(ActivityEntry.cohort_id == cohort_id)
            .order_by(ActivityEntry.id))]
    assert log == [
        ("staff_added", "owner@cohort.example",
         {"email": "other@cohort.example", "role": "co_facilitator"}),
        ("staff_removed", "owner@cohort.example", {"email": "other@cohort.example"}),
    ]


def test_only_real_time_zones_are_accepted(web_app, staff):
    client = _client(web_app, staff.owner)
    for zone in ("Europe/" + "x" * 300, "localtime", "../../../etc/passwd", "Europe/Oslo\n",
                 "\x00", "posixrules"):
        response = client.post("/cohorts/new", data={**BASE, "timezone": zone, "preview": "1"})
        assert response.status_code == 400, zone
        assert "er ikke en tidszone" in response.get_data(as_text=True)
    response = client.post("/cohorts/new", data={**BASE, "timezone": "America/Nuuk",
                                                 "preview": "1"})
    assert response.status_code == 200


def test_a_title_or_meeting_link_with_a_line_break_is_refused(web_app, staff):
    import html

    client = _client(web_app, staff.owner)
    title = client.post("/cohorts/new", data={**BASE, "title": "Hold 1\r\nBcc: x@evil.example",
                                              "preview": "1"})
    assert title.status_code == 400
    assert "Titel skal være én linje tekst" in html.unescape(title.get_data(as_text=True))
    rows = _rows(client.post("/cohorts/new", data={**BASE, "preview": "1"}).get_data(
        as_text=True))
    for link in ("javascript:alert(1)", "https://meet.example/x\r\ny"):
        bad = _form(rows, {**BASE, "planned_programme": "digital-lederskab", "create": "1"},
                    {("kickoff", "online_url"): link})
        response = client.post("/cohorts/new", data=bad)
        assert response.status_code == 400, link
        with db.transaction(web_app.extensions["cohort.engine"]) as session:
            assert len(session.scalars(select(Cohort)).all()) == 1
