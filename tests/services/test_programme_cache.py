"""The parsed-programme cache: keyed by the snapshot's text, bounded, and nothing kept per parse.

A region runs a hundred cohorts of a handful of programme texts; the cache used to be keyed
per cohort (64 entries), so past 64 cohorts every page parsed YAML again, and each parse leaked
the nodes a shared YAML constructor kept (issue #24). No database is needed: a snapshot is the
text stored on the cohort row.
"""

from __future__ import annotations

import gc
import tracemalloc
from pathlib import Path

import pytest

from cohort.models import Cohort
from cohort.services._lookup import _parse_snapshot, cohort_programme
from tests.fixtures.statements import recorded_statements

PROGRAMMES = Path(__file__).resolve().parents[2] / "programmes"
TITLE = "title: Kompetencer til Digitalt Lederskab"


def _cohort(source: str) -> Cohort:
    return Cohort(title="Hold", programme={"source": source})


def test_cohorts_of_one_programme_share_one_parse():
    source = (PROGRAMMES / "digital-lederskab.yaml").read_text()
    _parse_snapshot.cache_clear()
    programmes = [cohort_programme(_cohort(source)) for _ in range(100)]
    assert all(p is programmes[0] for p in programmes)
    assert _parse_snapshot.cache_info().misses == 1


def test_500_programmes_leave_memory_flat():
    """500 different programme texts (each a cache miss and a full parse): memory after the
    last 400 is what it was once the cache had filled, because the cache is bounded and a
    parse keeps nothing. A per-parse leak of the old size (about 25 KiB) would add ~10 MiB."""
    source = (PROGRAMMES / "digital-lederskab.yaml").read_text()
    assert TITLE in source
    texts = [source.replace(TITLE, f"{TITLE} {number}", 1) for number in range(500)]
    _parse_snapshot.cache_clear()
    gc.collect()
    tracemalloc.start()  # before the cache fills, so the entries it drops are traced too
    for text in texts[:100]:  # the cache (64 entries) is full after these
        cohort_programme(_cohort(text))
    gc.collect()
    before = tracemalloc.take_snapshot()
    for number, text in enumerate(texts[100:], start=100):
        assert cohort_programme(_cohort(text)).title.endswith(f" {number}")
    gc.collect()
    after = tracemalloc.take_snapshot()
    tracemalloc.stop()
    _parse_snapshot.cache_clear()
    grown = sum(stat.size_diff for stat in after.compare_to(before, "filename"))
    assert grown < 512 * 1024, f"{grown / 1024:.0f} KiB kept over 400 parses"


def test_a_programme_by_its_digest_reads_the_text_once(engine, make_cohort):
    """Pages that read a cohort's programme on every request (the answer POST) or many
    cohorts' (the dashboard) select the SHA-256 of the snapshot's text, computed by the
    database (64 characters, not tens of kilobytes); the text itself is read once per text
    and process, and checked against the digest."""
    from sqlalchemy import select

    from cohort import db
    from cohort.services import NotFound, _lookup

    cohort_id = make_cohort(engine).id
    with db.read_session(engine) as session:
        source, digest = session.execute(select(_lookup.SNAPSHOT_SOURCE, _lookup.SNAPSHOT_DIGEST)
                                         .where(Cohort.id == cohort_id)).one()
    assert digest == db.sha256_hex(source) and len(digest) == 64
    _lookup._BY_DIGEST.clear()
    with recorded_statements(engine) as seen, db.read_session(engine) as session:
        first = _lookup.programme_of_digest(session, cohort_id, digest)
        assert len(seen) == 1  # the text
        assert _lookup.programme_of_digest(session, cohort_id, digest) is first
        assert len(seen) == 1
        assert first is _parse_snapshot(source)
        with pytest.raises(NotFound):  # a digest of another text
            _lookup.programme_of_digest(session, cohort_id, "0" * 64)
