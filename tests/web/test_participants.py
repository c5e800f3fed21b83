"""Participants in the browser: CSV upload (all or nothing), add, edit, remove."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime, time, timedelta
from functools import partial

from sqlalchemy import func, select

from cohort import db
from cohort.core.deliveries import first_email_of
from cohort.models import Delivery, Group, GroupMember, Participant
from tests.fixtures.web import COHORT_START, staff_client
from tests.fixtures.workbooks import workbook

BAD_CSV = ("navn;e-mail;organisation;rolle;sprog\n"
           "Dorte Lund;dorte@svendborg.example;Svendborg Kommune;Leder;da\n"
           "Erik Skov;erik-at-haderslev.example;Haderslev Kommune;Leder;da\n"
           "Frida Bach;frida@aabenraa.example;Aabenraa Kommune;Leder;sv\n")
GOOD_CSV = BAD_CSV.replace("erik-at-haderslev", "erik@haderslev").replace(";sv\n", ";da\n")


_client = partial(staff_client, csrf=False)


def _count(web_app, cohort_id) -> int:
    with db.transaction(web_app.extensions["cohort.engine"]) as session:
        return session.scalar(select(func.count()).select_from(Participant).where(
            Participant.cohort_id == cohort_id))


def _upload(client, cohort_id, text, name="people.csv", confirm=True, **kwargs):
    """Upload a file; `confirm` ticks the box a launched cohort asks for (its new people are
    emailed at once), as the fixture's cohort is launched."""
    data = {"file": (io.BytesIO(("\ufeff" + text).encode()), name)}
    if confirm:
        data["confirm_emails"] = "y"
    return client.post(f"/cohorts/{cohort_id}/participants/upload", data=data,
                       content_type="multipart/form-data", **kwargs)


def _deliveries(web_app, cohort_id) -> int:
    with db.transaction(web_app.extensions["cohort.engine"]) as session:
        return session.scalar(select(func.count()).select_from(Delivery).where(
            Delivery.cohort_id == cohort_id))


def test_an_upload_to_a_launched_cohort_asks_before_it_emails_the_file(web_app, staff,
                                                                        cohort_id, make_cohort):
    """A launched cohort's new people get their welcome and invitations at once: the upload
    says so and imports (and queues) nothing until the facilitator ticks the box. A draft
    sends nothing, so it asks nothing."""
    client = _client(web_app, staff.owner)
    page = client.get(f"/cohorts/{cohort_id}/participants/").get_data(as_text=True)
    assert "Holdet er sat i gang: alle, du tilføjer, får velkomstmailen" in page
    assert 'name="confirm_emails"' in page
    before = _deliveries(web_app, cohort_id)
    refused = _upload(client, cohort_id, GOOD_CSV, confirm=False)
    assert refused.status_code == 400
    assert ("Holdet er sat i gang: sæt flueben for at bekræfte, at alle i filen får mails."
            in refused.get_data(as_text=True))
    assert _count(web_app, cohort_id) == 3 and _deliveries(web_app, cohort_id) == before
    norwegian = _upload(client, cohort_id, GOOD_CSV, confirm=False,
                        headers={"Accept-Language": "nb"})
    assert "kryss av for å bekrefte at alle i filen får e-post" in norwegian.get_data(
        as_text=True)
    assert _upload(client, cohort_id, GOOD_CSV).status_code == 302
    assert _count(web_app, cohort_id) == 6 and _deliveries(web_app, cohort_id) > before
    draft = make_cohort(web_app.extensions["cohort.engine"], launched=False,
                        created_by=staff.owner).id
    page = client.get(f"/cohorts/{draft}/participants/").get_data(as_text=True)
    assert 'name="confirm_emails"' not in page and "Holdet er sat i gang" not in page
    assert _upload(client, draft, GOOD_CSV, confirm=False).status_code == 302
    assert _count(web_app, draft) == 3


def test_an_excel_workbook_is_uploaded_as_it_is(web_app, staff, cohort_id):
    """Facilitators keep the list in Excel: the workbook itself is read, its problems
    located by the sheet's rows, and nothing of a bad one is imported."""
    client = _client(web_app, staff.owner)

    def upload(data: bytes):
        return client.post(f"/cohorts/{cohort_id}/participants/upload", data={
            "file": (io.BytesIO(data), "deltagere.xlsx"), "confirm_emails": "y"},
            content_type="multipart/form-data")

    header = ["Navn", "E-mail", "Kommune", "Stilling"]
    bad = upload(workbook([header, ["Erik Skov", "erik-at-haderslev.example", "Haderslev"]]))
    assert bad.status_code == 400
    assert ("Række 2, kolonne e-mail: »erik-at-haderslev.example« er ikke en gyldig "
            "mailadresse") in bad.get_data(as_text=True)
    old = upload(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(200))
    assert old.status_code == 400
    assert "filen er i det gamle Excel-format (.xls)" in old.get_data(as_text=True)
    assert _count(web_app, cohort_id) == 3
    done = upload(workbook([header, ["Erik Skov", "erik@haderslev.example", "Haderslev",
                                     "Leder"]]))
    assert done.status_code == 302
    assert "Erik Skov" in client.get(done.headers["Location"]).get_data(as_text=True)
    assert _count(web_app, cohort_id) == 4


def test_bad_csv_lists_every_problem_and_imports_nothing(web_app, staff, cohort_id):
    client = _client(web_app, staff.owner)
    response = _upload(client, cohort_id, BAD_CSV)
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Filen people.csv har 2 fejl; intet blev importeret." in html
    assert ("Række 3, kolonne e-mail: »erik-at-haderslev.example« er ikke en gyldig "
            "mailadresse") in html
    assert "Række 4, kolonne sprog: »sv« er ikke et sprog, vi kender" in html
    assert _count(web_app, cohort_id) == 3
    english = _upload(client, cohort_id, BAD_CSV, headers={"Accept-Language": "en"})
    assert "Row 3, column email: &#39;erik-at-haderslev.example&#39; is not a valid email " \
           "address" in english.get_data(as_text=True)
    fixed = _upload(client, cohort_id, GOOD_CSV)
    assert fixed.status_code == 302
    page = client.get(fixed.headers["Location"]).get_data(as_text=True)
    assert "3 deltagere blev tilføjet." in page and "Erik Skov" in page
    # The language by its name, as everywhere else, not its code.
    assert re.search(r"<td>erik@haderslev.example</td><td>Haderslev Kommune</td><td>Leder</td>"
                     r"<td>Dansk</td>", page)
    assert _count(web_app, cohort_id) == 6
    again = _upload(client, cohort_id, GOOD_CSV)  # the same people twice: refused
    assert again.status_code == 400 and "allerede på holdet" in again.get_data(as_text=True)
    assert _count(web_app, cohort_id) == 6
    assert _upload(client, cohort_id, "").status_code == 400


def test_add_edit_remove_one_participant(web_app, staff, cohort_id):
    client = _client(web_app, staff.owner)
    person = {"name": "Gitte Kjær", "email": "gitte@fredericia.example",
              "organisation": "Fredericia Kommune", "role": "Leder", "language": "da"}
    added = client.post(f"/cohorts/{cohort_id}/participants/add", data=person)
    assert added.status_code == 302
    duplicate = client.post(f"/cohorts/{cohort_id}/participants/add", data=person)
    assert duplicate.status_code == 400
    assert "En anden på holdet har allerede den mailadresse." in duplicate.get_data(as_text=True)
    engine = web_app.extensions["cohort.engine"]
    with db.transaction(engine) as session:
        gitte = session.scalars(select(Participant).where(
            Participant.email == "gitte@fredericia.example")).one()
        pending = session.scalar(select(func.count()).select_from(Delivery).where(
            Delivery.participant_id == gitte.id, Delivery.state == "pending"))
    assert pending > 50
    edit_url = f"/cohorts/{cohort_id}/participants/{gitte.id}/edit"
    assert 'value="gitte@fredericia.example"' in client.get(edit_url).get_data(as_text=True)
    edited = client.post(edit_url, data={**person, "email": "gitte.kjaer@fredericia.example"})
    assert edited.status_code == 302
    with db.transaction(engine) as session:
        recipients = set(session.scalars(select(Delivery.recipient).where(
            Delivery.participant_id == gitte.id)))
        assert recipients == {"gitte.kjaer@fredericia.example"}
        # Put her in a buddy pair, so removing her leaves a group too small.
        group = Group(cohort_id=cohort_id, grouping_key="buddies", number=1)
        session.add(group)
        session.flush()
        other = session.scalars(select(Participant).where(
            Participant.cohort_id == cohort_id, Participant.id != gitte.id)).first()
        session.add_all([GroupMember(group_id=group.id, participant_id=gitte.id),
                         GroupMember(group_id=group.id, participant_id=other.id)])
    remove_url = f"/cohorts/{cohort_id}/participants/{gitte.id}/remove"
    confirm_page = client.get(remove_url).get_data(as_text=True)
    assert f"{pending} mails, der ikke er sendt endnu, bliver annulleret." in confirm_page
    assert "gruppen skal rettes til" in confirm_page
    assert client.post(remove_url, data={}).status_code == 400  # not confirmed: nothing happens
    removed = client.post(remove_url, data={"confirm": "y"})
    assert removed.status_code == 302
    page = client.get(removed.headers["Location"]).get_data(as_text=True)
    assert "Gruppe 1 (Buddyordning) er nu for lille og skal rettes til." in page
    with db.transaction(engine) as session:
        states = set(session.scalars(select(Delivery.state).where(
            Delivery.recipient == "gitte.kjaer@fredericia.example")))
        assert states == {"cancelled"}
        assert session.get(Participant, gitte.id) is None
    activity = client.get(f"/cohorts/{cohort_id}/activity").get_data(as_text=True)
    assert re.search(r"owner@cohort.example</td><td>fjernede Gitte Kjær", activity)
    assert client.get(remove_url).status_code == 404


def test_a_name_on_several_lines_is_refused_with_the_field_named(web_app, staff, cohort_id,
                                                                 first_participant):
    import html

    client = _client(web_app, staff.owner)
    person = {"name": "Eve\r\nBcc: x@evil.example", "email": "eve@x.example",
              "organisation": "Vejle", "role": "", "language": "da"}
    added = client.post(f"/cohorts/{cohort_id}/participants/add", data=person)
    assert added.status_code == 400
    assert "Navn skal være én linje tekst uden linjeskift eller andre kontroltegn." in \
        html.unescape(added.get_data(as_text=True))
    edited = client.post(f"/cohorts/{cohort_id}/participants/{first_participant.id}/edit",
                         data={**person, "name": "Anne", "organisation": "Vejle\x00",
                               "role": "r" * 201})
    text = html.unescape(edited.get_data(as_text=True))
    assert edited.status_code == 400
    assert "Organisation skal være én linje tekst" in text and "højst være 200 tegn" in text
    upload = _upload(client, cohort_id, 'navn;e-mail\n"Eve\nBcc: x@evil.example";eve@x.example\n')
    assert upload.status_code == 400
    assert ("Række 3, kolonne navn: indeholder et linjeskift eller et andet kontroltegn; skriv "
            "det på én linje") in html.unescape(upload.get_data(as_text=True))
    assert _count(web_app, cohort_id) == 3


def test_an_upload_over_the_row_limit_says_the_limit_and_imports_nothing(web_app, staff,
                                                                         cohort_id):
    client = _client(web_app, staff.owner)
    people = "navn;e-mail\n" + "".join(f"P {i};p{i}@x.example\n" for i in range(2001))
    response = _upload(client, cohort_id, people)
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert ("Række 2002, kolonne -: filen har mere end 2000 rækker; del den op i filer med "
            "højst 2000 rækker") in html
    english = _upload(client, cohort_id, people, headers={"Accept-Language": "en"})
    assert ("Row 2002, column -: the file has more than 2000 rows; split it into files of at "
            "most 2000 rows") in english.get_data(as_text=True)
    assert _count(web_app, cohort_id) == 3


def test_a_bad_file_is_located_in_the_readers_language(web_app, staff, cohort_id):
    client = _client(web_app, staff.owner)
    response = _upload(client, cohort_id, "navn;e-mail\rAnne\x00;anne@x.example\r"
                                          f"{'B' * 200_000};b@x.example\r")
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Række 2, kolonne navn: indeholder en NUL-byte" in html
    assert "Række 3, kolonne navn: cellen er længere end 10000 tegn" in html
    norwegian = _upload(client, cohort_id, "navn;e-mail\nAnne;anne@x.example\n",
                        headers={"Accept-Language": "nb"})
    assert norwegian.status_code == 302


def test_removing_someone_who_answered_says_their_answers_stay(web_app, staff, cohort_id,
                                                              first_participant):
    from cohort.models import Invitation

    engine = web_app.extensions["cohort.engine"]
    with db.transaction(engine) as session:  # they answered a survey
        invitation = session.scalars(select(Invitation).where(
            Invitation.participant_id == first_participant.id)).first()
        invitation.completed = True
    client = _client(web_app, staff.owner)
    remove_url = f"/cohorts/{cohort_id}/participants/{first_participant.id}/remove"
    confirm_page = client.get(remove_url).get_data(as_text=True)
    assert f"{first_participant.name} har besvaret 1 spørgeskema." in confirm_page
    removed = client.post(remove_url, data={"confirm": "y"})
    page = client.get(removed.headers["Location"]).get_data(as_text=True)
    assert "Deres svar på spørgeskemaer bliver i tallene, uden deres navn." in page
    assert first_participant.email not in page
    with db.transaction(engine) as session:
        assert session.get(Participant, first_participant.id).erased_at is not None


def test_people_joining_weeks_in_have_no_reminder_of_what_they_were_never_sent(
        web_app, staff, cohort_id):
    """Added one by one or by file a month into the course, their emails of items already
    past are skipped by the join itself, as the outbox's next pass would skip them, and so
    are the reminders of those first emails: the outbox shows none of them as pending."""
    web_app.config["COHORT_NOW"] = datetime.combine(COHORT_START + timedelta(days=30),
                                                    time(9), UTC)
    client = _client(web_app, staff.owner)
    assert client.post(f"/cohorts/{cohort_id}/participants/add", data={
        "name": "Gitte Kjær", "email": "gitte@fredericia.example", "organisation": "Fredericia",
        "role": "Leder", "language": "da"}).status_code == 302
    assert _upload(client, cohort_id, GOOD_CSV).status_code == 302
    for email in ("gitte@fredericia.example", "dorte@svendborg.example"):
        with db.transaction(web_app.extensions["cohort.engine"]) as session:
            rows = {(r.kind, r.anchor): r for r in session.scalars(select(Delivery).where(
                Delivery.recipient == email))}
        at_join = [r for r in rows.values() if (r.last_error or "").endswith("when they joined")]
        assert any(r.kind == "task_released" for r in at_join), email
        for (kind, anchor), row in rows.items():
            if row.state == "pending" and first_email_of(kind, anchor):
                assert rows[first_email_of(kind, anchor)].state == "pending", row
        preview = client.get(f"/cohorts/{cohort_id}/outbox/{at_join[0].id}")
        assert "Sprunget over: allerede forbi, da vedkommende kom med" in \
            preview.get_data(as_text=True)
