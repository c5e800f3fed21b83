"""The report's charts carry a text alternative: the response-rate, attendance and pre/post
charts stand next to tables of their figures; the likert charts (each statement's answers
from disagree to agree, of which the list states only the agree share) get a table of their
numbers in the web view, folded under the chart."""

from __future__ import annotations

import re

from tests.web.test_reports import _client, evaluated  # noqa: F401 (a fixture)


def test_every_likert_chart_has_a_table_of_its_numbers(web_app, staff, evaluated):  # noqa: F811
    client = _client(web_app, staff.evaluator)
    html = client.get(f"/cohorts/{evaluated}/report?language=en&compare=") \
        .get_data(as_text=True)
    charts = html.count("from strongly disagree (left) to strongly agree (right).\">")
    tables = re.findall(r'<details class="chart-data">(.*?)</details>', html, re.S)
    assert charts > 0 and len(tables) == charts
    for table in tables:
        assert "<caption>" in table and 'scope="row"' in table
        columns = re.findall(r'<th scope="col" class="num">([^<]+)</th>', table)
        assert len(columns) == 5, columns  # the likert scale
        for row in re.findall(r"<tr><th scope=\"row\">\d+</th>(.*?)</tr>", table, re.S):
            cells = re.findall(r'<td class="num">([^<]+)</td>', row)
            assert len(cells) == 5
            assert all(re.fullmatch(r"(\d+\s?%|–) \(\d+\)", c.strip()) for c in cells), cells
            # The shares of one statement add up to about 100 (each rounded).
            total = sum(int(re.match(r"\d+", c).group()) for c in cells if c[0].isdigit())
            assert 97 <= total <= 103, cells
