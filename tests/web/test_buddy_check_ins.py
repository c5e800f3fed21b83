"""Buddy check-ins end to end on the web: the participant's one tap on /me and from the
email's link (a GET that changes nothing, then a POST with CSRF), the facilitator's view of
the pairs that have not met, and the answers in the participants' three languages."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import func, select

from cohort import db, services
from cohort.core.participants import ParticipantRow
from cohort.mail.compose import MailContext, message_data
from cohort.models import BuddyCheckIn, Delivery, Group, GroupMember, Participant, Task
from tests.fixtures.web import (
    WEB_NOW,
    participant_client,
    sign_in_participant,
    staff_client,
)

PEOPLE = [
    ParticipantRow("Anne Jensen", "anne@vejle.example", "Vejle Kommune", "Leder", "da"),
    ParticipantRow("Bo Holm", "bo@kolding.example", "Kolding Kommune", "Leder", "da"),
    ParticipantRow("Kari Nordmann", "kari@bergen.example", "Bergen kommune", "Leder", "nb"),
    ParticipantRow("Emma Smith", "emma@odense.example", "Odense Kommune", "Leader", "en"),
]
CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|'
                  r'type="hidden" name="csrf_token" value="([^"]+)"')
CONTEXT = MailContext("https://cohort.example", "kurs@cohort.example", "secret", "cohort.example")


@pytest.fixture
def database_url(sqlite_only_url):
    """Page behaviour, not storage (the migration test covers the table on PostgreSQL)."""
    return sqlite_only_url


@pytest.fixture
def cohort(web_app, engine_of_app, make_cohort):
    """Four participants in two fixed pairs (Anne+Bo, Kari+Emma); the clock one hour after
    the first buddy exchange task was released."""
    cohort = make_cohort(engine_of_app, people=PEOPLE, now=WEB_NOW)
    with db.transaction(engine_of_app) as session:
        people = {p.email: p for p in session.scalars(select(Participant))}
        for group in session.scalars(select(Group).where(Group.cohort_id == cohort.id)):
            session.delete(group)
        session.flush()
        for number, pair in enumerate((("anne", "bo"), ("kari", "emma")), start=1):
            group = Group(cohort_id=cohort.id, grouping_key="buddies", number=number)
            session.add(group)
            session.flush()
            session.add_all(GroupMember(group_id=group.id, participant_id=people[
                next(e for e in people if e.startswith(name))].id) for name in pair)
        first = session.scalars(select(Task).where(
            Task.cohort_id == cohort.id, Task.kind == "buddy_exchange")
            .order_by(Task.release_at)).first()
        web_app.config["COHORT_NOW"] = first.release_at + timedelta(hours=1)
        other = session.scalars(select(Task).where(
            Task.cohort_id == cohort.id, Task.kind != "buddy_exchange",
            Task.release_at <= first.release_at)).first()
    return cohort, people, first.id, other.id


def _csrf(html: str) -> str:
    match = CSRF.search(html)
    return match.group(1) or match.group(2)


def _stored(engine) -> list[tuple[int, str, str, bool]]:
    with db.transaction(engine) as session:
        return [(r.participant_id, r.answer, r.note, r.shared)
                for r in session.scalars(select(BuddyCheckIn).order_by(BuddyCheckIn.id))]


def test_one_tap_on_the_personal_page(web_app, engine_of_app, cohort):
    _cohort, people, task_id, _other = cohort
    client = participant_client(web_app, people["anne@vejle.example"])
    html = client.get("/me").get_data(as_text=True)
    section = html.split('id="buddy-check-ins"')[1].split("</section>")[0]
    assert "Bo Holm" in section and f'action="/me/buddy/{task_id}/answer"' in section
    for value in ("met", "not_yet", "could_not"):
        assert f'name="answer" value="{value}"' in section
    # Without CSRF nothing is stored; with it one tap is enough (no note needed).
    assert client.post(f"/me/buddy/{task_id}/answer", data={"answer": "met"}).status_code == 400
    assert client.post(f"/me/buddy/{task_id}/answer", data={"answer": "maybe",
                                                     "csrf_token": _csrf(html)}).status_code == 400
    assert _stored(engine_of_app) == []
    response = client.post(f"/me/buddy/{task_id}/answer", data={"answer": "not_yet",
                                                         "csrf_token": _csrf(html)})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/me#buddy-{task_id}")
    anne = people["anne@vejle.example"].id
    assert _stored(engine_of_app) == [(anne, "not_yet", "", False)]
    # Changing one's mind replaces the answer; a line only shared when ticked.
    client.post(f"/me/buddy/{task_id}/answer", data={
        "answer": "met", "note": "  Vi talte om   vagtplanen ", "shared": "y",
        "csrf_token": _csrf(html)})
    assert _stored(engine_of_app) == [(anne, "met", "Vi talte om vagtplanen", True)]
    page = client.get("/me").get_data(as_text=True)
    assert "Dit svar indtil nu: I mødtes. Du kan ændre det." in page


def test_wrong_ids_are_404_and_a_line_break_is_refused(web_app, engine_of_app, cohort):
    _cohort, people, task_id, other = cohort
    client = participant_client(web_app, people["anne@vejle.example"])
    token = _csrf(client.get("/me").get_data(as_text=True))
    for wrong in (other, task_id + 10_000):  # not a buddy task; no such task
        assert client.get(f"/me/buddy/{wrong}").status_code == 404
        assert client.post(f"/me/buddy/{wrong}/answer", data={
            "answer": "met", "csrf_token": token}).status_code == 404
    assert client.post(f"/me/buddy/{task_id}/answer", data={
        "answer": "met", "note": "two\nlines", "csrf_token": token}).status_code == 400
    assert _stored(engine_of_app) == []


def test_the_email_links_to_a_page_whose_get_changes_nothing(web_app, engine_of_app, cohort):
    cohort_row, people, task_id, _other = cohort
    with db.transaction(engine_of_app) as session:
        task = session.get(Task, task_id)
        delivery = session.scalars(select(Delivery).where(
            Delivery.kind == "task_reminder", Delivery.anchor == f"task:{task.key}",
            Delivery.participant_id == people["kari@bergen.example"].id)).one()
        data = message_data(session, delivery, CONTEXT, delivery.send_at)
    url = urlsplit(data.task.check_in_url)
    assert url.path.startswith("/p/") and parse_qs(url.query) == {"next": [f"/me/buddy/{task_id}"]}
    client = web_app.test_client()
    # The personal link's GET and HEAD log nobody in and store nothing (scanners prefetch).
    link = client.get(f"{url.path}?{url.query}")
    assert link.status_code == 200 and client.head(f"{url.path}?{url.query}").status_code == 200
    # (The link's token was made for CONTEXT's secret; sign in as Kari the usual way.)
    sign_in_participant(client, people["kari@bergen.example"])
    page = client.get(f"/me/buddy/{task_id}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and '<html lang="nb">' in html
    assert "Møtte du buddyen din?" in html and "Ja, vi har møttes" in html
    assert "Emma Smith" in html and _stored(engine_of_app) == []
    client.post(f"/me/buddy/{task_id}/answer",
                data={"answer": "could_not", "csrf_token": _csrf(html)})
    assert [a for _p, a, _n, _s in _stored(engine_of_app)] == ["could_not"]
    # A task without a buddy (a plain task) has no check-in link.
    with db.transaction(engine_of_app) as session:
        plain = session.scalars(select(Delivery).where(
            Delivery.kind == "task_released", Delivery.cohort_id == cohort_row.id,
            ~Delivery.anchor.contains("buddy"))).first()
        assert message_data(session, plain, CONTEXT, plain.send_at).task.check_in_url is None


HEADING = re.compile(r"<h([1-6])[^>]*>(.*?)</h\1>", re.S)


@pytest.mark.parametrize("email", ["anne@vejle.example", "kari@bergen.example",
                                   "emma@odense.example"])  # da, nb, en
def test_the_email_links_page_has_one_heading_outline(web_app, cohort, email):
    """The page the email's link opens asks its question once: one h1, no heading repeating
    another (in Danish and Norwegian "Buddy check-in" is translated as the question itself),
    and no level skipped below it (WCAG 2.1 1.3.1, 2.4.6)."""
    _cohort, people, task_id, _other = cohort
    client = participant_client(web_app, people[email])
    html = client.get(f"/me/buddy/{task_id}").get_data(as_text=True)
    main = html.split("<main")[1].split("</main>")[0]
    headings = [(int(level), re.sub(r"<[^>]+>", "", text).strip())
                for level, text in HEADING.findall(main)]
    assert [level for level, _text in headings].count(1) == 1 and headings[0][0] == 1, headings
    texts = [text for _level, text in headings]
    assert len(set(texts)) == len(texts), headings
    levels = [level for level, _text in headings]
    assert all(b <= a + 1 for a, b in zip(levels, levels[1:], strict=False)), headings
    # On the personal page (h1: the participant's name) the section keeps its h2, rounds h3.
    section = client.get("/me").get_data(as_text=True).split('id="buddy-check-ins"')[1]
    assert [level for level, _text in HEADING.findall(section.split("</section>")[0])] == \
        ["2", "3"]


def test_the_facilitator_sees_the_pairs_that_have_not_met(web_app, engine_of_app, cohort,
                                                          make_user):
    _cohort, people, task_id, _other = cohort
    moment = web_app.config["COHORT_NOW"]
    with db.transaction(engine_of_app) as session:
        services.record_check_in(session, people["anne@vejle.example"], task_id, "met",
                                 moment, note="Vagtplanen", shared=False)
        services.record_check_in(session, people["bo@kolding.example"], task_id, "not_yet",
                                 moment, note="Vi mødes i næste uge", shared=True)
        services.record_check_in(session, people["emma@odense.example"], task_id, "not_yet",
                                 moment)
        assert session.scalar(select(func.count()).select_from(BuddyCheckIn)) == 3
    client = staff_client(web_app, make_user("admin@cohort.example", "admin", "Ada Admin"))
    html = client.get(f"/cohorts/{_cohort.id}/groups").get_data(as_text=True)
    section = html.split('id="buddy-check-ins"')[1].split('id="rules"')[0]
    # Anne says they met: the pair met although Bo says not yet. Kari and Emma have not.
    assert "1 af 2 par mødtes; 2 par svarede." in section
    not_met = section.split("<tbody>")[1].split("</tbody>")[0]
    assert "Kari Nordmann, Emma Smith" in not_met and "Anne Jensen" not in not_met
    assert 'href="#group-buddies-1-2"' in not_met
    # Notes: counted; only Bo's shared line is shown, with his name.
    assert "2 deltagere skrev en linje" in section
    assert "Vi mødes i næste uge" in section and "Vagtplanen" not in section


def test_erasing_a_participant_keeps_their_answer_and_the_round(web_app, engine_of_app, cohort,
                                                                make_user):
    _cohort, people, task_id, _other = cohort
    moment = web_app.config["COHORT_NOW"]
    admin = make_user("admin@cohort.example", "admin", "Ada Admin")
    with db.transaction(engine_of_app) as session:
        services.record_check_in(session, people["bo@kolding.example"], task_id, "met",
                                 moment, note="Vi talte om Ærø", shared=True)
        services.privacy.erase_participant(session, people["bo@kolding.example"], admin,
                                           now=moment)
    # The answer stays (an identified answer, kept like attendance), the words go; the pair
    # Anne+Bo still met in this round, Bo named by the erased placeholder.
    assert _stored(engine_of_app) == [(people["bo@kolding.example"].id, "met", "", False)]
    client = staff_client(web_app, make_user("ada@cohort.example", "admin", "Ada"))
    html = client.get(f"/cohorts/{_cohort.id}/groups").get_data(as_text=True)
    section = html.split('id="buddy-check-ins"')[1].split('id="rules"')[0]
    assert "1 af 2 par mødtes; 1 par svarede." in section
    assert "Vi talte om Ærø" not in html


def test_after_a_regrouping_an_old_round_names_its_own_pair(web_app, engine_of_app, cohort,
                                                            make_user):
    """The round is frozen by the first answer; then everyone is put in one group of four
    (group 2 is gone). The round still shows its pairs: Anne's page names Bo, the buddy she
    had then, and the facilitator's pair 2 is no longer a link to a group that is gone."""
    _cohort, people, task_id, _other = cohort
    moment = web_app.config["COHORT_NOW"]
    with db.transaction(engine_of_app) as session:
        services.record_check_in(session, people["kari@bergen.example"], task_id, "not_yet",
                                 moment)
        groups = list(session.scalars(select(Group).where(Group.cohort_id == _cohort.id)))
        for group in groups:
            session.delete(group)
        session.flush()
        everyone = Group(cohort_id=_cohort.id, grouping_key="buddies", number=1)
        session.add(everyone)
        session.flush()
        session.add_all(GroupMember(group_id=everyone.id, participant_id=p.id)
                        for p in people.values())
    anne = participant_client(web_app, people["anne@vejle.example"])
    page = anne.get("/me").get_data(as_text=True)
    this_round = page.split(f'id="buddy-{task_id}"')[1].split("</article>")[0]
    assert "Bo Holm" in this_round
    assert "Kari Nordmann" not in this_round and "Emma Smith" not in this_round

    client = staff_client(web_app, make_user("admin@cohort.example", "admin", "Ada Admin"))
    html = client.get(f"/cohorts/{_cohort.id}/groups").get_data(as_text=True)
    not_met = html.split('id="buddy-check-ins"')[1].split("<tbody>")[1].split("</tbody>")[0]
    assert "Kari Nordmann, Emma Smith" in not_met
    assert 'href="#group-buddies-1-2"' not in not_met and '<th scope="row">2</th>' in not_met
    targets = set(re.findall(r'href="#([^"]+)"', html))
    assert targets and targets <= set(re.findall(r' id="([^"]+)"', html))

    # The round's reminder names the same buddy as the page its check-in link opens.
    with db.transaction(engine_of_app) as session:
        task = session.get(Task, task_id)
        for person, buddy in (("anne@vejle.example", "Bo Holm"),
                              ("kari@bergen.example", "Emma Smith")):
            delivery = session.scalars(select(Delivery).where(
                Delivery.kind == "task_reminder", Delivery.anchor == f"task:{task.key}",
                Delivery.participant_id == people[person].id)).one()
            data = message_data(session, delivery, CONTEXT, delivery.send_at)
            assert [[name for name, _email in g.partners] for g in data.groups] == [[buddy]]
            assert data.task.check_in_url is not None
        # Someone who joins now was in none of the round's pairs: their reminder names no
        # buddy and has no check-in link (their page does not ask about the round).
        newcomer = services.participants.add_participant(session, _cohort.id, ParticipantRow(
            "Nora Ny", "nora@vejle.example", "Vejle Kommune", "Leder", "da"), None, moment)
        session.add(GroupMember(group_id=everyone.id, participant_id=newcomer.id))
        session.flush()
        delivery = session.scalars(select(Delivery).where(
            Delivery.kind == "task_reminder", Delivery.anchor == f"task:{task.key}",
            Delivery.participant_id == newcomer.id)).one()
        data = message_data(session, delivery, CONTEXT, delivery.send_at)
        assert data.groups == () and data.task.check_in_url is None
        assert services.participant_check_ins(session, newcomer, moment) == []


def test_each_round_says_when_it_is_due(web_app, engine_of_app, cohort):
    """The rounds share their title ("Buddy exchange" after each meeting): on /me and on a
    round's own page each says its deadline, so the participant knows which one they
    answer."""
    cohort_row, people, _first, _other = cohort
    with db.transaction(engine_of_app) as session:
        rounds = session.scalars(select(Task).where(
            Task.cohort_id == cohort_row.id, Task.kind == "buddy_exchange")
            .order_by(Task.release_at)).all()[:2]
    web_app.config["COHORT_NOW"] = rounds[1].release_at + timedelta(hours=1)
    assert rounds[0].title == rounds[1].title and rounds[0].due_at != rounds[1].due_at
    client = participant_client(web_app, people["emma@odense.example"])
    html = client.get("/me").get_data(as_text=True)
    dues = {}
    for task in rounds:
        article = html.split(f'id="buddy-{task.id}"')[1].split("</article>")[0]
        dues[task.id] = re.search(r'<p class="due">Due: ([^<]+)</p>', article).group(1)
        page = client.get(f"/me/buddy/{task.id}").get_data(as_text=True)
        assert page.count("Due: ") == 1 and f"Due: {dues[task.id]}" in page
    assert len(set(dues.values())) == 2


def test_saved_is_said_by_the_round(web_app, engine_of_app, cohort):
    """The answer returns to its round further down /me: "saved" is said there (an earlier
    round's folded list opens), not at the top out of sight."""
    cohort_row, people, first, _other = cohort
    with db.transaction(engine_of_app) as session:
        second = session.scalars(select(Task).where(
            Task.cohort_id == cohort_row.id, Task.kind == "buddy_exchange")
            .order_by(Task.release_at)).all()[1]
    web_app.config["COHORT_NOW"] = second.release_at + timedelta(hours=1)
    client = participant_client(web_app, people["emma@odense.example"])
    html = client.get("/me").get_data(as_text=True)
    saved = ('<p class="ok-text saved" role="status">'
             "Thank you, your answer about your buddy is saved.</p>")
    for round_id in (second.id, first):
        client.post(f"/me/buddy/{round_id}/answer",
                    data={"answer": "met", "csrf_token": _csrf(html)})
        page = client.get("/me").get_data(as_text=True)
        assert saved in page.split(f'id="buddy-{round_id}"')[1].split("</article>")[0]
        assert page.count(saved) == 1 and 'class="flashes"' not in page
    assert '<details class="earlier" open>' in page.split('id="buddy-check-ins"')[1]
