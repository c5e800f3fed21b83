"""The report pages: the HTML view, the PDF made by a background job, and who may see them."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime
from functools import partial

import pytest

from cohort import db
from cohort.models import CohortRole, CohortStaff
from cohort.rendering import jobs
from tests.fixtures.html_tables import tables
from tests.fixtures.pdf import flat, pages_text
from tests.fixtures.report import LEADERSHIP_TEXTS, QUOTES, REPORT_NOW, STATEMENTS
from tests.fixtures.web import sign_in, staff_client

CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|'
                  r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def evaluated(web_app, known_cohort, staff) -> int:
    """The known cohort (with survey data), its evaluator and owner the web fixtures' staff."""
    web_app.config["COHORT_NOW"] = REPORT_NOW
    with db.transaction(web_app.extensions["cohort.engine"]) as session:
        session.add(CohortStaff(cohort_id=known_cohort, user_id=staff.owner.id,
                                role=CohortRole.OWNER))
        session.add(CohortStaff(cohort_id=known_cohort, user_id=staff.evaluator.id,
                                role=CohortRole.EVALUATOR))
    return known_cohort


# The browser asks for English pages (the report itself is in the language chosen for it:
# the cohort's Danish by default).
_client = partial(staff_client, language="en")


def _csrf(html: str) -> str:
    match = CSRF.search(html)
    return match.group(1) or match.group(2)


def test_the_report_page_shows_the_figures_with_language_and_compare_choices(
        web_app, evaluated, staff, cohort_id):
    client = _client(web_app, staff.evaluator)
    page = client.get(f"/cohorts/{evaluated}/report")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    for statement in STATEMENTS.values():
        assert statement in html
    assert "<header" in html and "Hent PDF" in html
    # The other cohort of the programme is offered only to people who may open it.
    assert f'<option value="{cohort_id}">Hold 1</option>' in html
    other = staff.other  # becomes a co-facilitator of this cohort only
    with db.transaction(web_app.extensions["cohort.engine"]) as session:
        session.add(CohortStaff(cohort_id=evaluated, user_id=other.id,
                                role=CohortRole.CO_FACILITATOR))
    sign_in(client, other)
    assert f'value="{cohort_id}"' not in client.get(
        f"/cohorts/{evaluated}/report").get_data(as_text=True)

    english = client.get(f"/cohorts/{evaluated}/report?language=en&compare=")
    assert english.status_code == 200 and "Download PDF" in english.get_data(as_text=True)
    sign_in(client, staff.evaluator)
    compared = client.get(f"/cohorts/{evaluated}/report?language=da&compare={cohort_id}")
    assert "Sammenligning af to hold" in compared.get_data(as_text=True)


def test_bad_options_are_refused_with_a_message(web_app, evaluated, staff):
    client = _client(web_app, staff.evaluator)
    for query in ("language=sv", "compare=99999", f"compare={evaluated}", "compare=x"):
        page = client.get(f"/cohorts/{evaluated}/report?{query}")
        assert page.status_code == 400, query
        assert "Please correct the marked fields." in page.get_data(as_text=True)


def _wait(client, url: str, seconds: float = 90) -> str:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        page = client.get(url)
        assert page.status_code == 200
        html = page.get_data(as_text=True)
        if 'http-equiv="refresh"' not in html:
            return html
        assert "updates itself" in html
        assert "waiting to be made" in html or re.search(r"step \d of 5", html)
        time.sleep(0.2)
    pytest.fail(f"{url} still refreshing after {seconds} s")


def test_the_pdf_is_made_in_a_job_then_downloaded(web_app, evaluated, staff, cohort_id):
    client = _client(web_app, staff.evaluator)
    page = client.get(f"/cohorts/{evaluated}/report")
    token = _csrf(page.get_data(as_text=True))
    assert client.post(f"/cohorts/{evaluated}/report/pdf",
                       data={"language": "da", "compare": ""}).status_code == 400  # no CSRF
    started = client.post(f"/cohorts/{evaluated}/report/pdf",
                          data={"csrf_token": token, "language": "da", "compare": ""})
    assert started.status_code == 303
    progress_url = started.headers["Location"]
    job_id = progress_url.rsplit("/", 1)[1]
    assert progress_url == f"/cohorts/{evaluated}/report/jobs/{job_id}"
    first = client.get(progress_url).get_data(as_text=True)
    assert 'http-equiv="refresh"' in first or "The PDF is ready" in first
    assert "<script" not in first
    done = _wait(client, progress_url)
    pdf_url = f"/cohorts/{evaluated}/report/jobs/{job_id}.pdf"
    assert f'href="{pdf_url}"' in done

    with client.get(pdf_url) as download:
        assert download.status_code == 200 and download.mimetype == "application/pdf"
        disposition = download.headers["Content-Disposition"]
        saved = web_app.instance_path + "/downloaded.pdf"
        with open(saved, "wb") as file:
            file.write(download.data)
    assert disposition == "attachment; filename=evalueringsrapport-hold-1-da.pdf"
    assert STATEMENTS["new-tools"] in flat("\n".join(pages_text(saved)))

    # The job belongs to its cohort: through another cohort's URL it does not exist.
    sign_in(client, staff.owner)
    assert client.get(f"/cohorts/{cohort_id}/report/jobs/{job_id}").status_code == 404
    assert client.get(f"/cohorts/{cohort_id}/report/jobs/{job_id}.pdf").status_code == 404
    # ... and a facilitator of neither cohort may not fetch it at all.
    sign_in(client, staff.other)
    assert client.get(pdf_url).status_code == 403
    # The evaluator's PDF has the quotes and free text: the cohort's owner, who gets only the
    # figures, is not given it even with the job id.
    assert QUOTES[0][0] in flat("\n".join(pages_text(saved)))
    sign_in(client, staff.owner)
    assert client.get(progress_url).status_code == 404
    assert client.get(pdf_url).status_code == 404


WITHHELD = "Quotes and free-text answers are shown to evaluators only."
WORDS = [QUOTES[0][0], LEADERSHIP_TEXTS[0]]


def test_facilitators_get_the_figures_without_quotes_or_free_text(web_app, evaluated, staff):
    """The attack: quotes and free text are evaluator-only pages, yet the owner read them in
    the report. Now the owner's report has the figures and says the words are withheld."""
    for user, words in ((staff.owner, False), (staff.evaluator, True), (staff.admin, True)):
        client = _client(web_app, user)
        html = client.get(f"/cohorts/{evaluated}/report?language=en&compare=").get_data(
            as_text=True)
        for statement in STATEMENTS.values():
            assert statement in html, user.email
        for text in WORDS:
            assert (text in html) is words, (user.email, text)
        assert (WITHHELD in html) is not words, user.email
    danish = _client(web_app, staff.owner).get(f"/cohorts/{evaluated}/report").get_data(
        as_text=True)
    assert "Citater og fritekstsvar vises kun for evaluatorer." in danish
    norwegian = _client(web_app, staff.owner).get(
        f"/cohorts/{evaluated}/report?language=nb&compare=").get_data(as_text=True)
    assert "Sitater og fritekstsvar vises bare for evaluatorer." in norwegian


def test_a_facilitators_pdf_has_no_quotes_or_free_text(web_app, evaluated, staff):
    client = _client(web_app, staff.owner)
    token = _csrf(client.get(f"/cohorts/{evaluated}/report").get_data(as_text=True))
    started = client.post(f"/cohorts/{evaluated}/report/pdf",
                          data={"csrf_token": token, "language": "en", "compare": ""})
    assert started.status_code == 303
    job_id = started.headers["Location"].rsplit("/", 1)[1]
    assert "The PDF is ready" in _wait(client, started.headers["Location"])
    saved = web_app.instance_path + "/facilitator.pdf"
    with client.get(f"/cohorts/{evaluated}/report/jobs/{job_id}.pdf") as download:
        assert download.status_code == 200
        with open(saved, "wb") as file:
            file.write(download.data)
    text = flat("\n".join(pages_text(saved)))
    assert STATEMENTS["new-tools"] in text and flat(WITHHELD) in text
    for words in WORDS:
        assert flat(words) not in text
    # The evaluator may open the owner's job too: it has less than they may see.
    evaluator = _client(web_app, staff.evaluator)
    with evaluator.get(f"/cohorts/{evaluated}/report/jobs/{job_id}.pdf") as download:
        assert download.status_code == 200


def test_a_failing_job_shows_its_error(web_app, evaluated, staff):
    """A comparison whose other cohort vanished after the job started: the page says why."""
    job = jobs.start_report_job(web_app, evaluated, "da", compare=99999, words=False)
    client = _client(web_app, staff.owner)
    html = _wait(client, f"/cohorts/{evaluated}/report/jobs/{job.id}")
    assert "The PDF could not be made: no cohort 99999" in html
    assert client.get(f"/cohorts/{evaluated}/report/jobs/{job.id}.pdf").status_code == 404


def test_too_many_jobs_at_once_is_said_plainly(web_app, evaluated, staff, monkeypatch):
    monkeypatch.setattr(jobs, "MAX_RUNNING", 0)  # every slot taken (cannot run 3 renders here)
    web_app.config["WTF_CSRF_ENABLED"] = False
    client = _client(web_app, staff.evaluator)
    response = client.post(f"/cohorts/{evaluated}/report/pdf",
                           data={"language": "nb", "compare": ""})
    assert response.status_code == 429 and response.headers["Retry-After"] == "30"
    assert "Please try again in a minute." in response.get_data(as_text=True)


def test_one_running_pdf_per_person_and_others_still_get_theirs(web_app, evaluated, staff):
    """The evaluator's report is still being made: their next one gets 429 in their language;
    the owner's starts (and finishes) all the same."""
    web_app.config["WTF_CSRF_ENABLED"] = False
    stamp = datetime.now(UTC).isoformat()
    folder = jobs.jobs_root(web_app.instance_path) / ("e" * 32)
    folder.mkdir(parents=True)
    jobs.write_job(folder, jobs.ReportJob("e" * 32, evaluated, "da", None, "running",
                                          created_at=stamp, updated_at=stamp,
                                          requested_by=staff.evaluator.id))
    evaluator = _client(web_app, staff.evaluator)
    evaluator.environ_base["HTTP_ACCEPT_LANGUAGE"] = "nb"
    refused = evaluator.post(f"/cohorts/{evaluated}/report/pdf",
                             data={"language": "da", "compare": ""})
    assert refused.status_code == 429
    assert "Du har allerede en PDF under arbeid." in refused.get_data(as_text=True)
    owner = _client(web_app, staff.owner)
    started = owner.post(f"/cohorts/{evaluated}/report/pdf",
                         data={"language": "da", "compare": ""})
    assert started.status_code == 303
    html = _wait(owner, started.headers["Location"])
    assert "Download" in html


def test_the_report_page_shows_the_same_intervals_as_the_pdf(web_app, evaluated, staff):
    html = _client(web_app, staff.evaluator).get(
        f"/cohorts/{evaluated}/report").get_data(as_text=True)
    assert "95 %-konfidensinterval: 47\u201376 %" in html  # beside the headline statement
    assert "25 af 40 (63 %; 47\u201376 %) anvendte nye" in html  # in the chapter
    assert 'id="method-uncertainty"' in html


def test_every_report_table_has_its_caption_first(web_app, evaluated, staff):
    """HTML allows a table's caption only as its first child (the print style still shows it
    below the table)."""
    client = _client(web_app, staff.evaluator)
    html = client.get(f"/cohorts/{evaluated}/report").get_data(as_text=True)
    captioned = [t for t in tables(html) if t.caption]
    assert {"matrix", "pre-post", "compact"} <= {
        t.css_class for t in captioned}  # the report's kinds of table are all here
    assert [t for t in captioned if t.first != "caption"] == []
