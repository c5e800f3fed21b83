"""The evaluator's workspace in the browser's place (Flask test client, real databases):
response rates, results with the minimum group size, free text, notes, quotes, exports."""

from __future__ import annotations

import csv
import html
import io
import json
import math
import re
from datetime import UTC, datetime
from functools import partial

import pytest
import scipy.stats
from openpyxl import load_workbook
from sqlalchemy import select, update

from cohort import db, services
from cohort.models import (
    AnonymousResponse,
    CohortRole,
    CohortStaff,
    EvaluatorNote,
    Invitation,
    Participant,
    Quote,
    Survey,
)
from tests.fixtures.database_copies import load_demo_copy
from tests.fixtures.web import WEB_NOW, staff_client

FINAL_ANSWERS = {"new-tools": 5, "network": 4, "passed-on": 4, "staff-engagement": 3,
                 "judge-technology": 4, "language": 5, "most-useful": [1, 3],
                 "recommend": 9, "leadership-change": "Jeg inddrager medarbejderne tidligere."}
DURING_FINAL = datetime(2025, 10, 6, 8, 0, tzinfo=UTC)


# Signed-in clients read the pages in English (the source strings).
_client = partial(staff_client, language="en", csrf=False)


def _text(response) -> str:
    """The page's visible text, tags dropped, whitespace collapsed."""
    html = response.get_data(as_text=True)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).replace("&#34;", '"')


@pytest.fixture
def demo_id(engine_of_app, database_copies) -> int:
    """The `make run` demo's finished cohort: 32 people, every survey answered, notes,
    quotes, attendance (ask for it before fixtures that create cohorts)."""
    return load_demo_copy(database_copies, engine_of_app, today=WEB_NOW.date()).finished


@pytest.fixture
def team(demo_id, staff, engine_of_app):
    """The fixture's evaluator and owner, attached to the demo cohort as well."""
    with db.transaction(engine_of_app) as session:
        session.add(CohortStaff(cohort_id=demo_id, user_id=staff.owner.id,
                                role=CohortRole.OWNER))
        session.add(CohortStaff(cohort_id=demo_id, user_id=staff.evaluator.id,
                                role=CohortRole.EVALUATOR))
    return staff


def test_rates_name_non_responders_only_for_identified_surveys(web_app, demo_id, team,
                                                               engine_of_app):
    with db.transaction(engine_of_app) as session:
        rates = {r.survey_key: r for r in services.response_rates(session, demo_id)}
    page = _client(web_app, team.evaluator).get(f"/cohorts/{demo_id}/evaluation")
    text = _text(page)
    assert page.status_code == 200
    pre = rates["self-assessment-pre"]
    assert pre.not_answered and all(name in text for name in pre.not_answered)
    assert f"{pre.answered} / {pre.invited} (91%)" in text
    kickoff = rates["meeting-evaluation@kickoff"]
    assert f"{kickoff.invited - kickoff.answered} (anonymous: no names)" in text
    assert "Evaluering af mødet: every meeting together" in text
    # The evaluator's list of cohorts has this one with its figures.
    index = _text(_client(web_app, team.evaluator).get("/evaluation"))
    assert "Kompetencer til Digitalt Lederskab — demohold" in index


def test_results_show_agree_statements_distributions_and_means(web_app, demo_id, team,
                                                               engine_of_app):
    with db.transaction(engine_of_app) as session:
        final = services.get_survey(session, demo_id, "final")
        summary = services.survey_results(session, final.id)
    statements = summary.agree_statements()
    text = _text(_client(web_app, team.evaluator).get(
        f"/cohorts/{demo_id}/evaluation/surveys/final"))
    assert len(statements) == 6 and all(s in text for s in statements)
    assert statements[0].startswith("28 af 29 (97 %)")
    assert "n = 29 · mean 4.3" in text  # mean rounded half up to one decimal
    # Beside every agree-share its Wilson interval (scipy: 28 of 29 -> 83-99 %).
    ci = scipy.stats.binomtest(28, 29).proportion_ci(0.95, method="wilson")
    low, high = (math.floor(x * 100 + 0.5) for x in (ci.low, ci.high))
    # The first statement: 1 × 2 + 19 × 4 + 9 × 5 over 29 = 4.24 -> 4.2.
    assert f"n = 29 · mean 4.2 · 95% confidence interval: {low}–{high}%" in text
    assert "Delvis enig 19 66%" in text  # a distribution row: label, count, share
    assert "Behaviour" in text and "Learning" in text  # grouped by Kirkpatrick level


def test_small_groups_in_a_breakdown_show_no_figure(web_app, demo_id, team):
    client = _client(web_app, team.evaluator)
    # Eight municipalities of four people each: every group is under five.
    page = client.get(f"/cohorts/{demo_id}/evaluation/surveys/self-assessment-pre"
                      "?by=organisation")
    table = _text(page).split("By organisation", 1)[1]
    assert page.status_code == 200
    assert table.count("number hidden") == 8
    assert "mean" not in table and "n = " not in table and "%" not in table
    # An anonymous survey can only be broken down by the attribute its template keeps.
    assert client.get(f"/cohorts/{demo_id}/evaluation/surveys/final?by=role").status_code == 404


def test_an_identified_survey_is_broken_down_by_one_attribute_only(web_app, demo_id, team):
    """Attack 6: by role minus by organisation isolated one specialist of a municipality.
    Only one attribute is shown per survey (its template's, else organisation)."""
    client = _client(web_app, team.evaluator)
    survey = f"/cohorts/{demo_id}/evaluation/surveys/self-assessment-pre"
    page = _text(client.get(survey))
    assert "Break down by: no breakdown · organisation" in page and "· role" not in page
    assert client.get(survey + "?by=organisation").status_code == 200
    assert client.get(survey + "?by=role").status_code == 404


def _answer_final(engine, cohort_id: int) -> None:
    with db.transaction(engine) as session:
        invitations = session.scalars(
            select(Invitation.id).join(Survey, Survey.id == Invitation.survey_id)
            .where(Survey.cohort_id == cohort_id, Survey.key == "final")).all()
    for invitation in invitations:
        services.submit_response(engine, invitation, FINAL_ANSWERS, now=DURING_FINAL)
    with db.transaction(engine) as session:  # the survey has closed: the answers are stored
        services.move_pooled_answers(session, datetime(2025, 10, 30, tzinfo=UTC))


def test_a_survey_with_too_few_answers_shows_no_figure_and_no_text(web_app, staff, cohort_id,
                                                                   engine_of_app):
    _answer_final(engine_of_app, cohort_id)  # three participants: fewer than five answers
    client = _client(web_app, staff.evaluator)
    text = _text(client.get(f"/cohorts/{cohort_id}/evaluation/surveys/final"))
    assert "Hidden: fewer than 5 answers." in text
    assert "mean" not in text and "n = " not in text and " af 3 " not in text
    texts = _text(client.get(f"/cohorts/{cohort_id}/evaluation/surveys/final/texts"))
    assert "Hidden: fewer than 5 answers." in texts
    assert FINAL_ANSWERS["leadership-change"] not in texts
    # The export leaves the three anonymous rows out and says why.
    workbook = load_workbook(io.BytesIO(client.get(
        f"/cohorts/{cohort_id}/evaluation/responses.xlsx").data))
    assert workbook["Responses"].max_row == 1
    assert "fewer than 5" in workbook["Notes"]["A2"].value


MEETING_HEADER = "relevant,form,ideas,overall,most-valuable\n"


def test_a_lone_answer_at_one_meeting_cannot_be_worked_out_from_all_meetings(
        web_app, staff, cohort_id, engine_of_app):
    """Attack 1: six answer the kick-off's evaluation, one answers workshop 1's. Workshop 1's
    page is hidden; the page for all meetings must not show figures over the seven, or its
    figures minus the kick-off's would be the lone answer."""
    with db.transaction(engine_of_app) as session:
        services.import_responses(session, cohort_id, "meeting-evaluation@kickoff",
                                  MEETING_HEADER + "4,4,4,8,Godt oplæg\n" * 6, now=WEB_NOW)
        services.import_responses(session, cohort_id, "meeting-evaluation@workshop-1",
                                  MEETING_HEADER + "1,1,1,0,Den ensomme stemme\n",
                                  now=WEB_NOW)
    client = _client(web_app, staff.evaluator)
    base = f"/cohorts/{cohort_id}/evaluation"
    assert "Hidden: fewer than 5 answers." in _text(
        client.get(base + "/surveys/meeting-evaluation@workshop-1"))
    kickoff = _text(client.get(base + "/surveys/meeting-evaluation@kickoff"))
    assert "n = 6" in kickoff and "mean 8.0" in kickoff
    every = _text(client.get(base + "/templates/meeting-evaluation"))
    assert "7 answers in all" in every
    assert "n = 7" not in every and "mean" not in every and " af 7 " not in every
    assert "could be worked out by subtracting the ones shown" in every
    texts = _text(client.get(base + "/templates/meeting-evaluation/texts"))
    assert "Den ensomme stemme" not in texts and "Godt oplæg" not in texts
    # Once the hidden meetings hold five answers together, and every meeting's evaluation
    # has closed (before, a later meeting's answers could still join the hidden ones and
    # be the difference between two looks: publication rule 5), the figures over all show.
    with db.transaction(engine_of_app) as session:
        services.import_responses(session, cohort_id, "meeting-evaluation@webinar-1",
                                  MEETING_HEADER + "5,5,5,10,Fint\n" * 4, now=WEB_NOW)
    every = _text(client.get(base + "/templates/meeting-evaluation"))
    assert "n = 11" not in every and "mean 8.0" not in every
    web_app.config["COHORT_NOW"] = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)  # all closed
    every = _text(client.get(base + "/templates/meeting-evaluation"))
    assert "n = 11" in every and "mean 8.0" in every  # (6·8 + 0 + 4·10) / 11


def test_free_text_notes_and_quotes_are_for_evaluators_only(web_app, demo_id, team):
    owner, evaluator = _client(web_app, team.owner), _client(web_app, team.evaluator)
    results = f"/cohorts/{demo_id}/evaluation/surveys/final"
    owner_text = _text(owner.get(results))
    assert "Written answers are shown to the cohort's evaluators only." in owner_text
    assert "/texts" not in owner.get(results).get_data(as_text=True)
    for path in ("/surveys/final/texts", "/notes", "/quotes", "/responses.csv", "/quotes.csv"):
        assert owner.get(f"/cohorts/{demo_id}/evaluation{path}").status_code == 403, path
    assert owner.get(f"/cohorts/{demo_id}/evaluation/response-rates.csv").status_code == 200
    # The evaluator follows the link and reads the written answers.
    assert f"{results}/texts" in evaluator.get(results).get_data(as_text=True)
    texts = _text(evaluator.get(f"{results}/texts"))
    assert "8 written answers" in texts and "Buddyordningen" in texts


def test_an_evaluator_sees_only_the_cohorts_they_evaluate(web_app, demo_id, team, make_user,
                                                          engine_of_app, cohort_id):
    stranger = make_user("stranger@cohort.example", "evaluator", "Stella Stranger")
    with db.transaction(engine_of_app) as session:
        session.add(CohortStaff(cohort_id=cohort_id, user_id=stranger.id,
                                role=CohortRole.EVALUATOR))
    client = _client(web_app, stranger)
    assert client.get(f"/cohorts/{demo_id}/evaluation").status_code == 403
    assert client.get(f"/cohorts/{demo_id}/evaluation/surveys/final").status_code == 403
    index = _text(client.get("/evaluation"))
    assert "Hold 1" in index and "demohold" not in index
    assert client.get(f"/cohorts/{cohort_id}/evaluation/surveys/nope").status_code == 404


def test_notes_follow_the_guide_and_refuse_names(web_app, demo_id, team, engine_of_app):
    client = _client(web_app, team.evaluator)
    form = _text(client.get(f"/cohorts/{demo_id}/evaluation/notes/new/final-interview"))
    assert "Udbytte af forløbet" in form and "Hvordan har dine medarbejdere" in form
    data = {"title": "Interview 1", "held_on": "2025-03-05", "organisation": "Vejle Kommune",
            "group_label": "Buddyordning 2", "meeting_key": "",
            "entry_0": "Bruger teknologiradaren på personalemøder.",
            "entry_2": "Deler i netværket."}
    # A note that names a participant is refused, and nothing is saved.
    with db.transaction(engine_of_app) as session:
        name = services.participants.list_participants(session, demo_id)[0].name
        before = len(services.list_notes(session, demo_id))
    refused = client.post(f"/cohorts/{demo_id}/evaluation/notes/new/final-interview",
                          data={**data, "title": f"Interview med {name}"})
    assert refused.status_code == 400 and "names a participant" in _text(refused)
    # In the page's language, as every refusal (services' Problem codes).
    danish = client.post(f"/cohorts/{demo_id}/evaluation/notes/new/final-interview",
                         data={**data, "title": f"Interview med {name}"},
                         headers={"Accept-Language": "da"})
    assert f"Titlen nævner en deltager ved navn ({name}); citater angives kun med " \
           "organisation og gruppe" in _text(danish)
    saved = client.post(f"/cohorts/{demo_id}/evaluation/notes/new/final-interview", data=data)
    assert saved.status_code == 302
    with db.transaction(engine_of_app) as session:
        notes = services.list_notes(session, demo_id)
        (note,) = [n for n in notes if n.title == "Interview 1"]
        assert len(notes) == before + 1
        assert note.kind == "interview" and note.author == team.evaluator.email
        assert [e["heading"] for e in note.entries] == ["Udbytte af forløbet",
                                                       "Formidling og netværk"]
    # Editing shows what was written and saves changes to the same note.
    edit = f"/cohorts/{demo_id}/evaluation/notes/{note.id}"
    assert "Bruger teknologiradaren" in _text(client.get(edit))
    assert client.post(edit, data={**data, "entry_1": "Medarbejderne var nysgerrige."}
                       ).status_code == 302
    with db.transaction(engine_of_app) as session:
        assert len(session.get(EvaluatorNote, note.id).entries) == 3
    assert client.get(f"/cohorts/{demo_id}/evaluation/notes/new/no-guide").status_code == 404
    assert client.get(f"/cohorts/{demo_id}/evaluation/notes/99999").status_code == 404


def _attribution(organisation: str = "", group: str = "") -> str:
    """The quote form's option value for an attribution."""
    return json.dumps([organisation, group], ensure_ascii=False)


def _fifth_of_kolding(engine) -> None:
    """The demo has 4 participants per organisation, fewer than its minimum group size (5):
    one of Odense's moves to Kolding, which then has 5."""
    with db.transaction(engine) as session:
        moved = session.scalars(select(Participant.id).where(
            Participant.organisation == "Odense Kommune").order_by(Participant.id)).first()
        session.execute(update(Participant).where(Participant.id == moved)
                        .values(organisation="Kolding Kommune"))


def _options(page: str) -> list[str]:
    select_ = re.search(r'<select[^>]*id="quote-attribution".*?</select>', page, re.S)[0]
    return [html.unescape(v) for v in re.findall(r'<option[^>]*value="([^"]*)"', select_)]


def test_quotes_are_added_tagged_and_exported_without_names(web_app, demo_id, team, engine_of_app):
    _fifth_of_kolding(engine_of_app)
    client = _client(web_app, team.evaluator)
    url = f"/cohorts/{demo_id}/evaluation/quotes"
    with db.transaction(engine_of_app) as session:
        name = services.participants.list_participants(session, demo_id)[0].name
    refused = client.post(url, data={"text": f"{name} sagde det bedst.",
                                     "attribution": _attribution()})
    assert refused.status_code == 400 and "names a participant" in _text(refused)
    added = client.post(url, data={"text": "Nu tør vi prøve ting af.",
                                   "attribution": _attribution("Kolding Kommune"),
                                   "themes": ["Tid og ressourcer"],
                                   "new_themes": "Mod; tid og ressourcer"})
    assert added.status_code == 302
    with db.transaction(engine_of_app) as session:
        quote = session.scalars(select(Quote).where(Quote.text == "Nu tør vi prøve ting af."
                                                    )).one()
        assert quote.themes == ["Tid og ressourcer", "Mod"]
        assert quote.attribution == "Kolding Kommune"
    tagged = client.post(f"{url}/{quote.id}/themes",
                         data={f"quote{quote.id}-themes": ["Teknostress"]})
    assert tagged.status_code == 302 and tagged.headers["Location"].endswith(f"#quote-{quote.id}")
    by_theme = _text(client.get(url, query_string={"theme": "Teknostress"}))
    assert "Nu tør vi prøve ting af." in by_theme and "Tiden er det store problem" not in by_theme
    rows = list(csv.reader(io.StringIO(client.get(f"/cohorts/{demo_id}/evaluation/quotes.csv")
                                       .get_data(as_text=True).lstrip("\ufeff")), delimiter=";"))
    assert rows[0][:5] == ["quote", "attribution", "organisation", "group", "themes"]
    assert ["Nu tør vi prøve ting af.", "Kolding Kommune"] in [r[:2] for r in rows]
    assert name not in str(rows)
    # Another cohort's quote cannot be re-tagged through this cohort.
    assert client.post(f"/cohorts/{demo_id}/evaluation/quotes/99999/themes",
                       data={}).status_code == 404


def test_only_attributions_enough_participants_share_are_offered(web_app, demo_id, team,
                                                                 engine_of_app):
    """In the demo every organisation has 4 of the 32 participants and every buddy pair 2,
    fewer than the minimum group size (5): only "a participant" is offered, and the hint says
    why. With a fifth in Kolding, Kolding is offered, not with its buddy pairs."""
    client = _client(web_app, team.evaluator)
    url = f"/cohorts/{demo_id}/evaluation/quotes"
    page = client.get(url).get_data(as_text=True)
    assert _options(page) == [_attribution()]
    assert "A participant (no attribution)" in page
    assert ("Only organisations and groups that at least 5 of the cohort's participants share "
            "are offered") in _text(client.get(url))
    _fifth_of_kolding(engine_of_app)
    assert _options(client.get(url).get_data(as_text=True)) == [
        _attribution(), _attribution("Kolding Kommune")]
    # Anything not offered is refused, nothing saved: a buddy pair of Kolding (names one or
    # two people), an organisation of 4, one the cohort does not have.
    for organisation, group in (("Kolding Kommune", "Buddyordning 3"), ("Vejle Kommune", ""),
                                ("Narnia Kommune", "")):
        refused = client.post(url, data={"text": "Et citat.",
                                         "attribution": _attribution(organisation, group)})
        assert refused.status_code == 400
    with db.transaction(engine_of_app) as session:
        assert not session.scalars(select(Quote).where(Quote.text == "Et citat.")).all()


def test_a_quote_stored_too_narrow_shows_how_it_is_published(web_app, demo_id, team,
                                                             engine_of_app):
    """A quote stored before the rule as "Vejle Kommune, Buddyordning 2" (4 and 2 people):
    the evaluator sees that the report and exports show it as "a participant", and the edit
    form offers that, not the stored one."""
    with db.transaction(engine_of_app) as session:
        old = Quote(cohort_id=demo_id, text="Gemt før reglen.", organisation="Vejle Kommune",
                    group_label="Buddyordning 2")
        session.add(old)
        session.flush()
        old_id = old.id
    client = _client(web_app, team.evaluator)
    base = f"/cohorts/{demo_id}/evaluation"
    listing = _text(client.get(f"{base}/quotes"))
    assert ("Vejle Kommune, Buddyordning 2 · Edit or delete the quote" in listing
            and "Fewer than 5 of the cohort's participants share this attribution now, so the "
                "report and the exports show it as: a participant." in listing)
    edit = client.get(f"{base}/quotes/{old_id}/edit").get_data(as_text=True)
    assert ("This quote is stored as “Vejle Kommune, Buddyordning 2”, which fewer than 5 of "
            "the cohort's participants share now: the report and the exports show it as "
            "“a participant”.") in _text_of(edit)
    assert _options(edit) == [_attribution()]
    assert re.search(r'<option selected value="\[&#34;&#34;, &#34;&#34;\]">', edit)
    # The demo's interview note is attributed to a buddy pair: its quote form starts from
    # what may be published.
    with db.transaction(engine_of_app) as session:
        (note,) = services.list_notes(session, demo_id, "interview")
    assert note.group_label == "Buddyordning 2"
    assert _options(client.get(f"{base}/notes/{note.id}").get_data(as_text=True)) == [
        _attribution()]


def _text_of(page: str) -> str:
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page)))


def test_evaluator_edits_and_deletes_quotes_and_notes_logged(web_app, demo_id, team,
                                                             engine_of_app):
    client = _client(web_app, team.evaluator)
    base = f"/cohorts/{demo_id}/evaluation"
    with db.transaction(engine_of_app) as session:
        quote = services.list_quotes(session, demo_id)[0]
        (note,) = services.list_notes(session, demo_id, "interview")
        note_quotes = [q.id for q in services.list_quotes(session, demo_id)
                       if q.note_id == note.id]
    assert f"{base}/quotes/{quote.id}/edit" in client.get(f"{base}/quotes").get_data(
        as_text=True)
    form = _text(client.get(f"{base}/quotes/{quote.id}/edit"))
    assert quote.text in form
    # Kolding Kommune, Buddyordning 4 would be too narrow.
    _fifth_of_kolding(engine_of_app)
    assert client.post(f"{base}/quotes/{quote.id}/edit", data={
        "text": "Rettet citat.", "attribution": _attribution("Kolding Kommune",
                                                             "Buddyordning 4")}
    ).status_code == 400
    saved = client.post(f"{base}/quotes/{quote.id}/edit", data={
        "text": "Rettet citat.", "attribution": _attribution("Kolding Kommune"),
        "themes": ["Tid og ressourcer"]})
    assert saved.status_code == 302
    with db.transaction(engine_of_app) as session:
        changed = services.get_quote(session, demo_id, quote.id)
        assert (changed.text, changed.attribution, changed.themes) == (
            "Rettet citat.", "Kolding Kommune", ["Tid og ressourcer"])
    # Deleting takes the ticked box.
    assert client.post(f"{base}/quotes/{quote.id}/delete", data={}).status_code == 302
    with db.transaction(engine_of_app) as session:
        assert services.get_quote(session, demo_id, quote.id)
    assert client.post(f"{base}/quotes/{quote.id}/delete",
                       data={"confirm": "y"}).status_code == 302
    assert client.get(f"{base}/quotes/{quote.id}/edit").status_code == 404
    # A note deleted: its quotes stay, no longer tied to it.
    assert client.post(f"{base}/notes/{note.id}/delete", data={"confirm": "y"}).status_code == 302
    assert client.get(f"{base}/notes/{note.id}").status_code == 404
    with db.transaction(engine_of_app) as session:
        kept = [services.get_quote(session, demo_id, q) for q in note_quotes if q != quote.id]
        assert kept and all(q.note_id is None for q in kept)
        log = [(e.action, e.actor, e.details)
               for e in services.activity.cohort_activity(session, demo_id)]
    assert ("quote_edited", team.evaluator.email, {"id": quote.id}) in log
    assert ("quote_deleted", team.evaluator.email, {"id": quote.id}) in log
    assert ("note_deleted", team.evaluator.email, {"id": note.id}) in log
    # The log the facilitator reads says what happened, never the words.
    owner_log = _text(_client(web_app, team.owner).get(f"/cohorts/{demo_id}/activity"))
    assert "deleted a quote" in owner_log and "Rettet citat" not in owner_log
    # Another cohort's quote or note is not found through this cohort.
    assert client.post(f"{base}/quotes/99999/delete", data={"confirm": "y"}).status_code == 404
    assert client.post(f"{base}/notes/99999/delete", data={"confirm": "y"}).status_code == 404


def test_response_exports(web_app, demo_id, team, engine_of_app):
    client = _client(web_app, team.evaluator)
    response = client.get(f"/cohorts/{demo_id}/evaluation/responses.csv")
    assert response.headers["Content-Type"].startswith("text/csv")
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff")),
                               delimiter=";"))
    anonymous = [r for r in rows if r["mode"] == "anonymous"]
    identified = [r for r in rows if r["mode"] == "identified"]
    assert anonymous and identified
    assert all(not r["name"] and not r["email"] for r in anonymous)
    assert all(r["email"].endswith(".example") for r in identified)
    only = client.get(f"/cohorts/{demo_id}/evaluation/responses.csv?survey=final")
    assert {r["survey"] for r in csv.DictReader(io.StringIO(
        only.get_data(as_text=True).lstrip("\ufeff")), delimiter=";")} == {"final"}
    rates = load_workbook(io.BytesIO(client.get(
        f"/cohorts/{demo_id}/evaluation/response-rates.xlsx").data))["Response rates"]
    header = [c.value for c in rates[1]]
    # The header and 10 surveys: 6 meeting evaluations, before, after, final and follow-up.
    assert header[:3] == ["survey", "title", "kind"] and rates.max_row == 11
    assert client.get(f"/cohorts/{demo_id}/evaluation/responses.pdf").status_code == 404


def test_owner_adds_an_evaluator_on_the_staff_page(web_app, staff, cohort_id, make_user):
    newcomer = make_user("new.evaluator@cohort.example", "evaluator", "Nina Newcomer")
    client = _client(web_app, newcomer)
    assert client.get(f"/cohorts/{cohort_id}/evaluation").status_code == 403
    owner = _client(web_app, staff.owner)
    page = _text(owner.get(f"/cohorts/{cohort_id}/staff"))
    assert "Evaluator" in page
    added = owner.post(f"/cohorts/{cohort_id}/staff",
                       data={"email": "new.evaluator@cohort.example", "role": "evaluator"})
    assert added.status_code == 302
    assert client.get(f"/cohorts/{cohort_id}/evaluation").status_code == 200
    assert "Nina Newcomer" in _text(owner.get(f"/cohorts/{cohort_id}/staff"))
    # A facilitator's account cannot be made the cohort's evaluator.
    refused = owner.post(f"/cohorts/{cohort_id}/staff",
                         data={"email": staff.other.email, "role": "evaluator"})
    assert refused.status_code == 400


def test_dashboard_links_and_figures(web_app, demo_id, team):
    client = _client(web_app, team.owner)
    html = client.get(f"/cohorts/{demo_id}").get_data(as_text=True)
    for target in ("/outbox", "/digest", "/calendar.ics", "/evaluation", "/attendance"):
        assert f'href="/cohorts/{demo_id}{target}"' in html, target
    text = _text(client.get(f"/cohorts/{demo_id}"))
    assert "Missed two meetings or more" in text
    # The evaluator's start page opens the cohort's evaluation, not the facilitator's page.
    start = _client(web_app, team.evaluator).get("/dashboard").get_data(as_text=True)
    assert f'href="/cohorts/{demo_id}/evaluation"' in start


def test_danish_labels_read_right(web_app, demo_id, team):
    """The slips of the newcomer's walk: 'Antal' (not a second 'Svar'), 'Svarperiode' (not
    'Åbn'), '1 interviewnotat' (a plural by number) in the report's method chapter."""
    client = _client(web_app, team.evaluator)
    danish = {"Accept-Language": "da"}
    results = client.get(f"/cohorts/{demo_id}/evaluation/surveys/final", headers=danish)
    assert '<th scope="col">Svar</th><th scope="col">Antal</th><th scope="col">Andel</th>' in (
        results.get_data(as_text=True))
    overview = client.get(f"/cohorts/{demo_id}/evaluation", headers=danish)
    assert '<th scope="col">Svarperiode</th>' in overview.get_data(as_text=True)
    report = _text(client.get(f"/cohorts/{demo_id}/report", headers=danish))
    assert "1 observationsnotat og 1 interviewnotat" in report
    assert "1 interviewnotater" not in report


def test_the_english_report_says_no_comparison_in_english(web_app, demo_id, team):
    client = _client(web_app, team.evaluator)
    page = client.get(f"/cohorts/{demo_id}/report", query_string={"language": "en"},
                      headers={"Accept-Language": "da"}).get_data(as_text=True)
    assert '<html lang="en"' in page or "Evaluation report" in page
    assert "No comparison" in page and "Ingen sammenligning" not in page


def test_breakdown_cells_show_the_agree_share_with_its_interval(web_app, make_cohort, staff,
                                                                engine_of_app):
    """A group's agree-share in the breakdown carries its Wilson 95 % interval, formatted by
    the one rounding rule (scipy recomputes it), as the survey's own figures do."""
    from tests.fixtures.report import PEOPLE, REPORT_NOW

    cohort_id = make_cohort(engine_of_app, people=PEOPLE, title="Hold B").id
    # Vejle 12 answers, 10 agree; Kolding 10, 5 agree; Odense 8, all agree (sizes >= k).
    groups = {"Vejle Kommune": (12, 10), "Kolding Kommune": (10, 5), "Odense Kommune": (8, 8)}
    with db.transaction(engine_of_app) as session:
        survey = services.get_survey(session, cohort_id, "final")
        rows = [dict(id=f"{label[:3]}{i}", survey_id=survey.id,
                     submitted_on=survey.opens_at.date(), breakdown_value=label, source="paper",
                     answers={"new-tools": 4 if i < agree else 2})
                for label, (n, agree) in groups.items() for i in range(n)]
        session.execute(AnonymousResponse.__table__.insert(), rows)
    web_app.config["COHORT_NOW"] = REPORT_NOW
    page = _client(web_app, staff.admin).get(
        f"/cohorts/{cohort_id}/evaluation/surveys/final?by=organisation")
    assert page.status_code == 200
    table = _text(page).split("By organisation", 1)[1]
    for label, (n, agree) in groups.items():
        ci = scipy.stats.binomtest(agree, n).proportion_ci(0.95, method="wilson")
        low, high = (math.floor(x * 100 + 0.5) for x in (ci.low, ci.high))
        share = math.floor(agree * 100 / n + 0.5)
        assert f"{share}% agree ({low}–{high}%)" in table, label


def test_a_hidden_change_per_person_says_why_beside_enough_pairs(web_app, demo_id, team,
                                                                 engine_of_app):
    """The demo's 26 people answered before and after and 3 only before: the change per
    person is hidden for those 3 (the publication rule's rule 4), not for 'fewer than 5
    answers', which is all the legend said beside '26 pairs'. The hint names the two surveys
    by their titles, not their keys."""
    with db.transaction(engine_of_app) as session:
        (change,) = services.self_assessment_change(session, demo_id, "self-assessment-post")
    area = change.areas[0]
    assert (area.pre_n, area.post_n, area.paired_n, area.paired_change) == (29, 26, 26, None)
    client = _client(web_app, team.evaluator)
    why = ("Where the change per person is not shown although 5 or more answered both times, "
           "fewer than 5 answers were given only before or only after")
    page = _text(client.get(f"/cohorts/{demo_id}/evaluation/surveys/self-assessment-post"))
    assert why in page
    assert ("Mean rating per area in “Selvvurdering før forløbet” and in “Selvvurdering efter "
            "forløbet”.") in page
    report = _text(client.get(f"/cohorts/{demo_id}/report", query_string={"language": "en"}))
    assert why in report
    danish = _text(client.get(f"/cohorts/{demo_id}/report", query_string={"language": "da"}))
    assert "selv om 5 eller flere svarede begge gange" in danish


def test_the_reports_summary_says_ran_or_runs_by_the_cohorts_last_day(
        web_app, engine_of_app, database_copies, make_user):
    """The summary said 'ran from 20 October 2026 to 15 April 2027' of a cohort still
    running (and 'løber fra', runs, of one that had ended)."""
    demo = load_demo_copy(database_copies, engine_of_app, today=WEB_NOW.date())
    evaluator = make_user("evaluator@cohort.example", "evaluator", "Eva Evaluator")
    with db.transaction(engine_of_app) as session:
        for cohort_id in (demo.finished, demo.running):
            session.add(CohortStaff(cohort_id=cohort_id, user_id=evaluator.id,
                                    role=CohortRole.EVALUATOR))
    client = _client(web_app, evaluator)

    def verb(cohort_id: int, language: str) -> list[str]:
        page = _text(client.get(f"/cohorts/{cohort_id}/report",
                                query_string={"language": language}))
        return re.findall(r"Kompetencer til Digitalt Lederskab (\w+) (?:from|fra) \d", page)

    assert verb(demo.finished, "en") == ["ran"] and verb(demo.running, "en") == ["runs"]
    assert verb(demo.finished, "da") == ["løb"] and verb(demo.running, "da") == ["løber"]
    assert verb(demo.finished, "nb") == ["gikk"] and verb(demo.running, "nb") == ["går"]


def test_the_evaluator_downloads_the_buddy_check_ins_the_report_points_to(web_app, demo_id,
                                                                          team):
    """The report's method chapter says its buddy figures can be recomputed from the buddy
    check-ins export, which only the facilitators could download (403 for the evaluator who
    writes the report). It has no names and no notes; the evaluation overview links it."""
    client = _client(web_app, team.evaluator)
    overview = client.get(f"/cohorts/{demo_id}/evaluation").get_data(as_text=True)
    url = f"/cohorts/{demo_id}/groups/check-ins.csv"
    assert f'href="{url}"' in overview
    export = client.get(url)
    assert export.status_code == 200
    rows = list(csv.reader(io.StringIO(export.get_data(as_text=True).lstrip("\ufeff")),
                           delimiter=";"))
    assert rows[0] == ["round", "meeting", "released", "grouping", "group", "members",
                       "status"]
    assert len(rows) > 1
    report = _text(client.get(f"/cohorts/{demo_id}/report", query_string={"language": "en"}))
    assert "the buddy check-ins export on the evaluation overview" in report


def test_a_running_cohorts_report_says_the_survey_after_has_not_opened(
        web_app, engine_of_app, database_copies, make_user):
    """Before the survey after the programme opens, the report read 'Before: 29 of 32
    invited answered (91%). After:' and nothing more; now it says when it opens."""
    demo = load_demo_copy(database_copies, engine_of_app, today=WEB_NOW.date())
    evaluator = make_user("evaluator@cohort.example", "evaluator", "Eva Evaluator")
    with db.transaction(engine_of_app) as session:
        session.add(CohortStaff(cohort_id=demo.running, user_id=evaluator.id,
                                role=CohortRole.EVALUATOR))
    page = _text(_client(web_app, evaluator).get(f"/cohorts/{demo.running}/report",
                                                 query_string={"language": "en"}))
    assert re.search(r"Before: \d+ of \d+ invited answered \(\d+%\)\. After: opens on "
                     r"\d+ \w+ \d{4}", page)


def test_the_evaluator_downloads_the_attendance_per_meeting_the_report_points_to(
        web_app, demo_id, team, engine_of_app):
    """The report's method chapter pointed the evaluator to the attendance export on the
    attendance page, which is one row per person and the facilitators' only (403 for the
    evaluator writing the report). The evaluators get the figures per meeting instead, as
    counts (no names, no emails), linked from the evaluation overview, and the method chapter
    points there; the per-person export stays the facilitators'."""
    client = _client(web_app, team.evaluator)
    overview = client.get(f"/cohorts/{demo_id}/evaluation").get_data(as_text=True)
    url = f"/cohorts/{demo_id}/attendance-per-meeting.csv"
    assert f'href="{url}"' in overview
    export = client.get(url)
    assert export.status_code == 200
    body = export.get_data(as_text=True)
    rows = list(csv.DictReader(io.StringIO(body.lstrip("\ufeff")), delimiter=";"))
    with db.transaction(engine_of_app) as session:
        people = services.participants.list_participants(session, demo_id)
        report = services.cohort_report(session, demo_id, "en", now=WEB_NOW)
    assert people and not any(p.name in body or p.email in body for p in people)
    assert "@" not in body
    # Row by row the report's attendance table: the same meetings, dates and counts.
    published = report.about.attendance.meetings
    assert [r["meeting"] for r in rows] == [m.key for m in published] and rows
    for row, figure in zip(rows, published, strict=True):
        assert row["date"] == figure.day.isoformat() and row["title"] == figure.title
        assert int(row["recorded"]) == figure.marked
        assert int(row["present"]) == figure.present == figure.share.part
        assert int(row["present"]) + int(row["absent"]) + int(row["excused"]) == figure.marked
    report_page = _text(client.get(f"/cohorts/{demo_id}/report",
                                   query_string={"language": "en"}))
    assert "the attendance per meeting export on the evaluation overview" in report_page
    assert "attendance page" not in report_page
    assert client.get(f"/cohorts/{demo_id}/attendance.csv").status_code == 403
