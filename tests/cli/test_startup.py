"""Starting the command line loads none of the libraries only a few commands or pages need.

Every `cohort ...` (and every cron job) imports `cohort.cli` and makes the app; WeasyPrint,
openpyxl, Alembic, pygal, icalendar and holidays took most of its 2-4 s start while only the
report, exports, migrations and calendars use them, which import them when they run
(benchmarks/cli_startup.py measures the time). Checked in a fresh interpreter, since this test
process has imported them all.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

ON_DEMAND = ("weasyprint", "openpyxl", "alembic", "pygal", "icalendar", "holidays")


def loaded_on_demand(code: str, env: dict[str, str]) -> list[str]:
    probe = f"import sys\n{code}\nprint(' '.join(m for m in {ON_DEMAND!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", probe], env=env, check=True,
                         capture_output=True, text=True)
    return out.stdout.split()


@pytest.mark.slow
def test_the_command_line_starts_without_the_libraries_of_a_few_commands(tmp_path):
    env = {**os.environ, "COHORT_INSTANCE_PATH": str(tmp_path),
           "COHORT_DATABASE_URL": f"sqlite:///{tmp_path / 'start.sqlite3'}"}
    assert loaded_on_demand("import cohort.cli", env) == []
    # What the console script does before it runs a command: make the app (web included).
    assert loaded_on_demand("from cohort.app import create_app\ncreate_app()", env) == []
    # The probe sees a library once something imports it (else the test could not fail).
    assert loaded_on_demand("from cohort.core.spreadsheets import Table, to_xlsx\n"
                            "to_xlsx([Table('t', ['a'])])", env) == ["openpyxl"]
