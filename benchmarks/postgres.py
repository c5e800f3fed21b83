"""A throwaway PostgreSQL server for benchmarks (the recipe tests/conftest.py uses).

    with throwaway_postgres() as url: ...

initdb and pg_ctl refuse to run as root, so as root they run as the `postgres` user. The
server is tuned for throwaway data (no fsync), like the test suite's.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .loadtest import free_port

PG_BIN = Path(os.environ.get("COHORT_PG_BIN", "/usr/lib/postgresql/15/bin"))


@contextmanager
def throwaway_postgres() -> Iterator[str]:
    """Start a fresh cluster in a temporary folder; yield its URL; stop and remove it."""
    if not (PG_BIN / "initdb").exists():
        raise SystemExit(f"PostgreSQL binaries not found in {PG_BIN} (set COHORT_PG_BIN)")
    folder = Path(tempfile.mkdtemp(prefix="cohort-bench-pg-"))
    as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    if as_user:
        shutil.chown(folder, "postgres")
    port = free_port()

    def run(*args, check: bool = True) -> None:
        subprocess.run([*as_user, *map(str, args)], check=check, capture_output=True,
                       timeout=60)

    try:
        run(PG_BIN / "initdb", "-D", folder / "data", "-U", "postgres", "-A", "trust",
            "-E", "UTF8", "--locale=C.UTF-8", "--no-sync")
        options = (f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off "
                   "-c synchronous_commit=off -c full_page_writes=off")
        run(PG_BIN / "pg_ctl", "-D", folder / "data", "-l", folder / "log", "-w", "-t", "30",
            "start", "-o", options)
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
    finally:
        run(PG_BIN / "pg_ctl", "-D", folder / "data", "-m", "immediate", "-w", "stop",
            check=False)
        shutil.rmtree(folder, ignore_errors=True)
