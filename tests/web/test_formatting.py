"""One 24-hour clock and one date style per language, en-GB for English: pages, digest and
outbox all format through web/formatting.py (no seconds, no zone names, no AM/PM)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from flask_babel import force_locale

from cohort.web.formatting import localdate, localtime

AFTERNOON = datetime(2025, 4, 8, 11, 0, tzinfo=UTC)  # 13:00 in Copenhagen (summer time)


@pytest.fixture
def database_url(sqlite_only_url):
    return sqlite_only_url


@pytest.mark.parametrize("language, day, full", [
    ("da", "tirs. 8. apr. 2025 13:00", "tirsdag den 8. april 2025 13:00"),
    ("nb", "tir. 8. apr. 2025 13:00", "tirsdag 8. april 2025 13:00"),
    ("en", "Tue, 8 Apr 2025 13:00", "Tuesday, 8 April 2025 13:00"),
])
def test_one_clock_and_date_style_per_language(app, language, day, full):
    with app.test_request_context(), force_locale(language):
        assert localtime(AFTERNOON, "Europe/Copenhagen", "time") == "13:00"
        assert localtime(AFTERNOON, "Europe/Copenhagen", "day") == day
        assert localtime(AFTERNOON, "Europe/Copenhagen", "full") == full
        medium = localtime(AFTERNOON, "Europe/Copenhagen")
        assert medium.endswith(" 13:00") and "13:00:00" not in medium
        for fmt in ("time", "day", "full", "medium"):
            text = localtime(AFTERNOON, "Europe/Oslo", fmt)
            assert not any(word in text for word in ("PM", "AM", "normaltid", "tid", ":00:00"))
    with app.test_request_context(), force_locale("en"):
        assert localdate(date(2025, 4, 8)) == "8 April 2025"  # British, not "April 8, 2025"


def test_kept_dates_are_kept_per_language_zone_and_format(app):
    """The formatted texts are kept (formatting._formatted): the same moment asked for in
    another language, zone or format is formatted anew, never served another's text; the
    same moment written in another zone is the same text; the kept texts are bounded."""
    from zoneinfo import ZoneInfo

    from cohort.web import formatting

    texts = {}
    for _round in range(2):  # the second round is served from what the first kept
        for language in ("da", "nb", "en"):
            with app.test_request_context(), force_locale(language):
                for zone in ("Europe/Copenhagen", "Europe/London"):
                    for fmt in ("time", "full"):
                        text = localtime(AFTERNOON, zone, fmt)
                        assert texts.setdefault((language, zone, fmt), text) == text
    assert texts[("da", "Europe/Copenhagen", "full")] == "tirsdag den 8. april 2025 13:00"
    assert texts[("en", "Europe/Copenhagen", "full")] == "Tuesday, 8 April 2025 13:00"
    assert texts[("en", "Europe/London", "time")] == "12:00"
    assert texts[("nb", "Europe/Copenhagen", "full")] == "tirsdag 8. april 2025 13:00"
    assert len(set(texts.values())) == 8  # the clocks alike in every language, not the days
    with app.test_request_context(), force_locale("da"):
        same = AFTERNOON.astimezone(ZoneInfo("Asia/Tokyo"))
        assert localtime(same, "Europe/Copenhagen", "time") == "13:00"
    assert formatting._formatted.cache_info().maxsize == formatting.FORMATTED_DATES


def test_kept_translations_follow_the_language_and_the_variables(app):
    """The templates' `_` keeps the text of a string without variables per language
    (formatting._install_gettext): switching languages back and forth gives each its own
    words, a string with variables is formatted with the call's own (escaped), and `{% trans
    %}` and `gettext` give the same as `_`."""
    page = app.jinja_env.from_string(
        '{{ _("Save note") }}|{{ gettext("Save note") }}|{% trans %}Save note{% endtrans %}|'
        '{{ _("Open until %(when)s", when=when) }}|{{ _("100%% sure") }}')
    expected = {"da": "Gem noten", "nb": "Lagre notatet", "en": "Save note"}
    for language in ("da", "en", "nb", "da", "en"):
        with app.test_request_context(), force_locale(language):
            for when in ("<b>1</b>", "2"):
                words, again, block, until, percent = page.render(when=when).split("|")
                assert words == again == block == expected[language]
                assert until.endswith(" 2" if when == "2" else " &lt;b&gt;1&lt;/b&gt;")
                assert until != "Open until 2" or language == "en"
                assert percent == "100% sure"  # a format string even without variables


def test_the_pdf_is_named_in_the_reports_language(app):
    from cohort.web.reports import pdf_filename

    with app.test_request_context(), force_locale("en"):  # the page's language does not count
        assert pdf_filename("Hold 1 — Ærø", "da", None) == "evalueringsrapport-hold-1-aero-da.pdf"
        assert pdf_filename("Kull 2", "nb", 7) == "sammenligning-kull-2-nb.pdf"
        assert pdf_filename("Hold 1", "en", None) == "evaluation-report-hold-1-en.pdf"
