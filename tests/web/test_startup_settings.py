"""Start-up refuses unsafe settings: the documentation's example secret key (outside debug and
testing), and on/off settings it cannot read. COHORT_HTTPS_ONLY does what the README says."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from cohort.app import create_app
from cohort.config import SettingError
from tests.fixtures.paths import REPO

EXAMPLE = next(line.split("=", 1)[1] for line in
               (REPO / "deploy" / "cohort.env.example").read_text().splitlines()
               if line.startswith("COHORT_SECRET_KEY="))


@pytest.fixture
def settings(tmp_path, monkeypatch):
    monkeypatch.setenv("COHORT_INSTANCE_PATH", str(tmp_path / "instance"))
    monkeypatch.delenv("FLASK_DEBUG", raising=False)
    return {"DATABASE_URL": f"sqlite:///{tmp_path / 'cohort.sqlite3'}"}


def test_the_example_secret_key_is_refused_outside_debug(settings, monkeypatch):
    monkeypatch.setenv("COHORT_SECRET_KEY", EXAMPLE)
    with pytest.raises(SettingError, match="COHORT_SECRET_KEY is the example value"):
        create_app(settings)
    with pytest.raises(SettingError):
        create_app({**settings, "SECRET_KEY": "change-me-please"})
    # Debug and the test suite may use it; a real key starts.
    assert create_app({**settings, "DEBUG": True}).config["SECRET_KEY"] == EXAMPLE
    assert create_app({**settings, "TESTING": True}).config["SECRET_KEY"] == EXAMPLE
    monkeypatch.setenv("COHORT_SECRET_KEY", "k" * 64)
    create_app(settings)


def test_the_console_script_says_why_it_does_not_start(tmp_path):
    env = {**os.environ, "COHORT_SECRET_KEY": EXAMPLE, "PYTHONPATH": str(REPO),
           "COHORT_INSTANCE_PATH": str(tmp_path),
           "COHORT_DATABASE_URL": f"sqlite:///{tmp_path / 'cohort.sqlite3'}"}
    env.pop("FLASK_DEBUG", None)
    result = subprocess.run([sys.executable, "-c", "from cohort.app import main; main()",
                             "list"], env=env, capture_output=True, text=True, cwd=REPO)
    assert result.returncode == 1
    assert "Error: COHORT_SECRET_KEY is the example value" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(("value", "secure_on_http"), [
    (None, False), ("", False), ("0", False), ("false", False), ("1", True), ("true", True),
    ("yes", True)])
def test_https_only_as_documented(settings, monkeypatch, value, secure_on_http):
    """README: unset (or off) -> the cookie is Secure on HTTPS requests; on -> always."""
    if value is None:
        monkeypatch.delenv("COHORT_HTTPS_ONLY", raising=False)
    else:
        monkeypatch.setenv("COHORT_HTTPS_ONLY", value)
    app = create_app({**settings, "TESTING": True, "SECRET_KEY": "test"})

    app.config["WTF_CSRF_ENABLED"] = False

    def cookie(base_url: str) -> str:  # an anonymous language choice sets the session cookie
        response = app.test_client().post("/language", data={"language": "nb"},
                                          base_url=base_url)
        return response.headers["Set-Cookie"]

    assert ("Secure" in cookie("http://cohort.example")) is secure_on_http
    assert "Secure" in cookie("https://cohort.example")


def test_an_unreadable_flag_stops_start_up(settings, monkeypatch):
    monkeypatch.setenv("COHORT_HTTPS_ONLY", "always")
    with pytest.raises(SettingError, match="COHORT_HTTPS_ONLY='always'"):
        create_app({**settings, "TESTING": True})
