"""The self-assessment (nine areas on one scale) as one accessible grid: a table with the areas
as row headers and the scale as column headers, every radio named by its area and scale point,
and an area left out pointed out at that area's radios after a wrong submit."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from tests.fixtures.web import participant_client
from tests.web.test_participant_surveys import (
    AFTER_THE_LAST_MEETING,
    csrf,
    survey_id,
)

AREAS = ("judge-technology", "strategy", "change", "staff-competences", "citizen",
         "implementation", "ethics", "collaboration", "awareness")


@pytest.fixture
def database_url(sqlite_only_url):
    """Page structure, not storage."""
    return sqlite_only_url


@pytest.fixture
def client(web_app, cohort_id, first_participant):
    web_app.config["COHORT_NOW"] = AFTER_THE_LAST_MEETING
    return participant_client(web_app, first_participant, language="en")


class Grid(HTMLParser):
    """The matrix table's header cells and each radio with the text of its <label>."""

    def __init__(self) -> None:
        super().__init__()
        self.in_matrix = False
        self.cell: tuple[str, str] | None = None  # (scope, text so far)
        self.headers: list[tuple[str, str]] = []
        self.label: list[str] | None = None
        self.radios: list[dict] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "table" and "matrix" in (attributes.get("class") or ""):
            self.in_matrix = True
        if not self.in_matrix:
            return
        if tag == "th":
            self.cell = (attributes.get("scope") or "", "")
        elif tag == "label":
            self.label = []
        elif tag == "input" and attributes.get("type") == "radio":
            self.radios.append(attributes)

    def handle_endtag(self, tag):
        if tag == "table":
            self.in_matrix = False
        if tag == "th" and self.cell:
            self.headers.append((self.cell[0], self.cell[1].strip()))
            self.cell = None
        if tag == "label" and self.label is not None:
            self.radios[-1]["label"] = " ".join("".join(self.label).split())
            self.label = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell = (self.cell[0], self.cell[1] + data)
        if self.label is not None:
            self.label.append(data)


def grid(html: str) -> Grid:
    parser = Grid()
    parser.feed(html)
    return parser


def test_the_self_assessment_is_one_table_with_row_and_column_headers(web_app, cohort_id,
                                                                      client):
    url = f"/me/surveys/{survey_id(web_app, cohort_id, 'self-assessment-post')}"
    html = client.get(url).get_data(as_text=True)
    assert html.count('<table class="matrix">') == 1
    parsed = grid(html)
    columns = [text for scope, text in parsed.headers if scope == "col"]
    rows = [text for scope, text in parsed.headers if scope == "row"]
    assert len(rows) == len(AREAS) and len(columns) >= 2
    assert len(parsed.radios) == len(AREAS) * len(columns)
    # Each radio: in its area's group, named "<area>: <scale point>" by its own label.
    for index, radio in enumerate(parsed.radios):
        area, point = divmod(index, len(columns))
        assert radio["name"] == f"q-competences.{AREAS[area]}"
        assert radio["label"].startswith(rows[area].split("  ")[0][:20])
        assert radio["label"].endswith(f": {columns[point]}")
    # The anonymity (here: identified) text once, before the grid.
    assert html.count("Your answers are not anonymous") == 1
    assert html.index("Your answers are not anonymous") < html.index('<table class="matrix">')


def test_a_missing_area_is_pointed_out_at_its_radios(web_app, cohort_id, client):
    url = f"/me/surveys/{survey_id(web_app, cohort_id, 'self-assessment-post')}"
    data = {f"q-competences.{area}": "3" for area in AREAS if area != "ethics"}
    response = client.post(url, data={"csrf_token": csrf(client, url), **data})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    row = html.split('id="q-competences.ethics-group"')[1].split("</tr>")[0]
    assert 'id="q-competences.ethics-errors"' in row and "Please answer this question." in row
    radios = re.findall(r"<input[^>]+>", row)
    assert radios and all('aria-describedby="q-competences.ethics-errors"' in r
                          and 'aria-invalid="true"' in r for r in radios)
    # The answered areas keep their answer and are not marked.
    change = html.split('id="q-competences.change-group"')[1].split("</tr>")[0]
    assert "aria-invalid" not in change
    assert re.search(r'<input checked[^>]+value="3"', change)
    assert "1 area needs an answer or a look" in html
