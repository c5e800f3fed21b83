"""One version of the time-zone rules everywhere: the locked tzdata package."""

from __future__ import annotations

import zoneinfo
from datetime import datetime

import pytz
import tzdata

import cohort  # noqa: F401  (sets where zoneinfo looks)


def test_zoneinfo_reads_only_the_locked_tzdata_package():
    assert zoneinfo.TZPATH == ()


def test_the_reader_in_the_tests_has_the_same_rules_as_the_app():
    """vobject, one of the two readers the calendar tests use, looks zones up in pytz; the app
    uses tzdata. `make lock` must take both at the same IANA release."""
    assert pytz.OLSON_VERSION == tzdata.IANA_VERSION


def test_a_rule_of_the_locked_release_applies():
    # 2026f: Morocco stays at +00 after Ramadan 2026 (older releases: back to +01).
    winter = datetime(2031, 2, 1, tzinfo=zoneinfo.ZoneInfo("Africa/Casablanca"))
    assert winter.utcoffset().total_seconds() == 0
