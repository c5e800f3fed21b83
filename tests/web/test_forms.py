"""The forms' own messages (WTForms') come from our catalogs, formatted, in every language."""

from __future__ import annotations

import html

import pytest
from wtforms import StringField
from wtforms.validators import Length

from cohort.web.forms import CohortForm


@pytest.fixture
def database_url(sqlite_only_url):
    return sqlite_only_url


@pytest.fixture
def client(web_app):
    web_app.config["WTF_CSRF_ENABLED"] = False
    return web_app.test_client()


@pytest.mark.parametrize(("language", "message"), [
    ("da", "Feltet må højst være 254 tegn."),
    ("nb", "Feltet kan ikke være lengre enn 254 tegn."),
    ("en", "Field cannot be longer than 254 characters."),
])
def test_an_over_long_email_at_login_is_a_clear_error_not_a_500(client, language, message):
    response = client.post("/login", data={"email": "a" * 250 + "@x.example", "password": "x"},
                           headers={"Accept-Language": language})
    assert response.status_code == 400
    assert message in html.unescape(response.get_data(as_text=True))


class _Lengths(CohortForm):
    at_most = StringField("At most", validators=[Length(max=1)])
    at_least = StringField("At least", validators=[Length(min=2)])
    between = StringField("Between", validators=[Length(min=2, max=3)])


@pytest.mark.parametrize(("language", "expected"), [
    ("da", ["Feltet må højst være 1 tegn.", "Feltet skal være mindst 2 tegn.",
            "Feltet skal være mellem 2 og 3 tegn."]),
    ("nb", ["Feltet kan ikke være lengre enn 1 tegn.", "Feltet må være minst 2 tegn.",
            "Feltet må være mellom 2 og 3 tegn."]),
    ("en", ["Field cannot be longer than 1 character.",
            "Field must be at least 2 characters long.",
            "Field must be between 2 and 3 characters long."]),
])
def test_every_length_message_is_formatted(web_app, language, expected):
    from flask_babel import force_locale
    from werkzeug.datastructures import MultiDict

    with web_app.test_request_context(method="POST"), force_locale(language):
        web_app.config["WTF_CSRF_ENABLED"] = False
        form = _Lengths(formdata=MultiDict({"at_most": "xx", "at_least": "x", "between": "x"}))
        assert not form.validate()
        assert [form.errors[name][0] for name in ("at_most", "at_least", "between")] == expected
