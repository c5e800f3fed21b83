"""Emails per participant over the reference programme, before and after the mail policy.

    .venv/bin/python -m benchmarks.mail_policy [--people 32] [--launches 50]

"Before" is every planned item as its own email at its planned time (the outbox before issue
#20, reachable as `plan_deliveries(..., policy=None)`); "after" is the programme's mail policy
(core/mailpolicy.py) with bundles counted once, as the dispatcher sends them. The launch moment
varies over every hour of several weeks before the start, so the maximum is over launches too.
Also printed: emails on a weekend or public holiday, outside 08:00-17:00, and days with more
than one non-meeting email (all must be 0 after).
"""

from __future__ import annotations

import argparse
import statistics
from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import holidays

from cohort.core.deliveries import bundle_key, emails_per_recipient, plan_deliveries
from cohort.core.planning import plan_cohort
from cohort.core.programme import load_programme_file

REFERENCE = Path(__file__).resolve().parents[1] / "programmes" / "digital-lederskab.yaml"
ZONE = ZoneInfo("Europe/Copenhagen")


def violations(planned, country: str) -> tuple[int, int, int]:
    """(on a day off, outside working hours, extra non-meeting emails on one day) of one
    participant."""
    days_off = holidays.country_holidays(country, years=range(2024, 2032))
    emails = {}
    for n, d in enumerate(planned):
        if not d.skip:
            emails.setdefault(bundle_key(0, d.kind, d.recipient, d.send_at) or n, d)
    off = sum(1 for d in emails.values() if d.send_at.astimezone(ZONE).weekday() >= 5
              or d.send_at.astimezone(ZONE).date() in days_off)
    hours = sum(1 for d in emails.values()
                if not time(8) <= d.send_at.astimezone(ZONE).time() < time(17))
    per_day = Counter(d.send_at.astimezone(ZONE).date() for key, d in emails.items()
                      if not isinstance(key, int))
    return off, hours, sum(n - 1 for n in per_day.values() if n > 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=32)
    parser.add_argument("--launches", type=int, default=50, help="launch moments to try")
    parser.add_argument("--start", type=date.fromisoformat, default=date(2025, 4, 8))
    args = parser.parse_args()
    programme = load_programme_file(REFERENCE)
    plan = plan_cohort(programme, args.start)
    people = [f"leader{n}@kommune.example" for n in range(args.people)]
    first = datetime.combine(args.start - timedelta(days=40), time(0), tzinfo=ZONE)
    launches = [(first + timedelta(hours=n * 13)).astimezone(UTC)
                for n in range(args.launches)]
    rows = []
    for label, policy in (("before (no policy)", None), ("after (mail policy)", True)):
        counts: list[int] = []
        worst = [0, 0, 0]
        for launch in launches:
            planned = plan_deliveries(plan, people, launch, policy)
            counts += emails_per_recipient(planned, bundled=policy is not None).values()
            one = [d for d in planned if d.recipient == people[0]]
            worst = [max(a, b) for a, b in zip(worst, violations(one, "DK"), strict=True)]
        rows.append((label, max(counts), statistics.median(counts), *worst))
    print(f"{programme.id}, start {args.start}, {args.people} participants, "
          f"{len(launches)} launch moments")
    print(f"{'':22}{'max':>5}{'median':>8}{'day off':>9}{'hours':>7}{'2+/day':>8}")
    for label, most, median, off, hours, extra in rows:
        print(f"{label:22}{most:>5}{median:>8g}{off:>9}{hours:>7}{extra:>8}")


if __name__ == "__main__":
    main()
