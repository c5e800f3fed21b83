"""The overview pages over real HTTP (Flask's test client)."""

from __future__ import annotations


def test_overview_lists_cohorts_and_meetings(client, runner):
    runner.invoke(args=["cohort", "demo"])
    page = client.get("/", headers={"Accept-Language": "da"})
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert '<html lang="da">' in html
    assert "Kompetencer til Digitalt Lederskab" in html and "Workshop 1" in html
    detail = client.get("/cohorts/1")
    assert detail.status_code == 200 and "Kick-out" in detail.get_data(as_text=True)


def test_unknown_cohort_is_404(client):
    assert client.get("/cohorts/999").status_code == 404
