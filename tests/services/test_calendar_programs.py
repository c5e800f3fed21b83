"""Real calendar programs import what we write: khal (vdir, updates by UID) and calcurse.

Both are Debian packages (`make system-test-deps` installs them). khal is the closer model of
Outlook/Google: it keys events by UID, so an updated invitation must replace the event, not
add a second one, and a CANCEL must mark it cancelled. calcurse, written in C, checks the
TZID times independently of every Python iCalendar library.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from cohort import db, services
from cohort.core.calendars import Person
from cohort.core.participants import ParticipantRow
from cohort.models import Meeting

pytestmark = pytest.mark.slow  # a real browser or calendar program per test

NOW = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
ZONE = ZoneInfo("Europe/Copenhagen")
ANNE = ParticipantRow("Anne Ærø", "anne@vejle.example", "Vejle Kommune", "leder", "da")
FACILITATOR = Person("facilitator@cohort.example", "Fie Facilitator")
KHAL_CONFIG = """\
[calendars]
[[cohort]]
path = {vdir}
type = calendar

[locale]
timeformat = %H:%M
dateformat = %Y-%m-%d
longdateformat = %Y-%m-%d
datetimeformat = %Y-%m-%d %H:%M
longdatetimeformat = %Y-%m-%d %H:%M
local_timezone = Europe/Copenhagen
default_timezone = Europe/Copenhagen

[default]
default_calendar = cohort
"""


def program(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} is not installed: run `make system-test-deps`")
    return path


@pytest.fixture
def engine(tmp_path):
    """One SQLite file is enough here: the files under test come from the same core."""
    engine = db.make_engine(f"sqlite:///{tmp_path / 'cohort.sqlite3'}")
    db.create_schema(engine)
    yield engine
    engine.dispose()


class Khal:
    def __init__(self, root: Path):
        self.root = root
        (root / "vdir").mkdir(parents=True)
        self.config = root / "config"
        self.config.write_text(KHAL_CONFIG.format(vdir=root / "vdir"))

    def run(self, *args: str) -> str:
        env = {**os.environ, "XDG_DATA_HOME": str(self.root / "data"),
               "XDG_CONFIG_HOME": str(self.root), "TZ": "Europe/Copenhagen"}
        result = subprocess.run([program("khal"), "-c", str(self.config), *args], env=env,
                                capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stderr
        return result.stdout

    def import_(self, ics: bytes, name: str) -> None:
        path = self.root / name
        path.write_bytes(ics)
        self.run("import", "--batch", str(path))

    def events(self, title: str) -> list[str]:
        listing = self.run("list", "--format", "{start} {end} {status}|{title}",
                           "--day-format", "", "2025-01-01", "730d")
        return [line.split("|")[0].strip() for line in listing.splitlines()
                if line.endswith(title)]


def test_khal_imports_feed_and_invitations_and_applies_updates(engine, make_cohort, tmp_path):
    # meetings on both sides of 26 Oct
    cohort_id = make_cohort(engine, people=[ANNE], start=date(2025, 9, 1), title="Hold 1",
                            now=NOW).id
    khal = Khal(tmp_path / "khal")
    with db.transaction(engine) as session:
        feed = services.participant_calendar(session, cohort_id, ANNE.email)
        request = services.meeting_invitation(session, cohort_id, "webinar-1", ANNE.email,
                                              FACILITATOR, now=NOW)
    khal.import_(feed.ics, "feed.ics")
    assert khal.events("Kick-off-webinar") == ["2025-09-01 13:00 2025-09-01 15:00 CONFIRMED"]
    assert khal.events("Webinar 2") == ["2025-11-05 13:00 2025-11-05 15:00 CONFIRMED"]
    assert khal.events("Deadline 12:00: Vælg din case") == ["2025-09-09 2025-09-09"]
    khal.import_(request.ics, "request.ics")
    assert khal.events("Webinar 1") == ["2025-10-08 13:00 2025-10-08 15:00 CONFIRMED"]

    with db.transaction(engine) as session:
        services.meetings.reschedule(session, cohort_id, "webinar-1",
                                     datetime(2025, 10, 30, 9, 30, tzinfo=ZONE), None)
        update = services.meeting_invitation(session, cohort_id, "webinar-1", ANNE.email,
                                             FACILITATOR)
        meeting = session.scalars(select(Meeting).where(Meeting.cohort_id == cohort_id,
                                                        Meeting.key == "webinar-2")).one()
        meeting.status = "cancelled"
        meeting.revise(datetime.now(UTC))
        cancel = services.meeting_invitation(session, cohort_id, "webinar-2", ANNE.email,
                                             FACILITATOR)
    khal.import_(update.ics, "update.ics")
    assert khal.events("Webinar 1") == ["2025-10-30 09:30 2025-10-30 11:30 CONFIRMED"]
    khal.import_(cancel.ics, "cancel.ics")
    assert khal.events("Webinar 2") == ["2025-11-05 13:00 2025-11-05 15:00 CANCELLED"]


def test_calcurse_reads_the_same_instants(engine, make_cohort, tmp_path):
    cohort_id = make_cohort(engine, people=[ANNE], start=date(2025, 9, 1), title="Hold 1",
                            now=NOW).id
    with db.transaction(engine) as session:
        feed = services.cohort_calendar(session, cohort_id)
    path = tmp_path / "feed.ics"
    path.write_bytes(feed.ics)
    data, config = tmp_path / "calcurse-data", tmp_path / "calcurse-config"
    data.mkdir()
    config.mkdir()
    base = [program("calcurse"), "-D", str(data), "-C", str(config)]
    env = {**os.environ, "TZ": "UTC"}  # so calcurse shows instants, not local times
    imported = subprocess.run([*base, "-i", str(path)], env=env, capture_output=True,
                              text=True, timeout=60)
    assert "7 apps / 0 events / 0 todos / 0 skipped" in imported.stdout, imported.stdout
    listing = subprocess.run([*base, "-Q", "--filter-type", "cal", "--from", "09/01/2025",
                              "--to", "03/01/2026"], env=env, capture_output=True, text=True,
                             timeout=60).stdout
    # 13:00 in Copenhagen is 11:00 UTC in summer time and 12:00 UTC after 26 October.
    assert "09/01/25:\n - 11:00 -> 13:00\n\tKompetencer til Digitalt Lederskab: Kick-off" \
        in listing
    assert "11/05/25:\n - 12:00 -> 14:00\n\tKompetencer til Digitalt Lederskab: Webinar 2" \
        in listing
