"""How long the `cohort` command takes to start, next to Python's and Flask's from the same run.

Every `cohort ...` a facilitator or a cron job runs pays for starting Python, importing the
command line (`cohort.cli`: services, models, core) and, for the console script, making the
app (`create_app`, which registers the web blueprints too). Each line is the median wall time
and the median CPU time (user + system) of `--runs` fresh processes; on a shared machine the
CPU time swings less than the wall time. Baselines: `python -c pass` (the interpreter alone)
and `import flask` (the framework every command needs).

Bytecode: an installed Cohort has its .pyc files, but a checkout run with
PYTHONDONTWRITEBYTECODE=1 (as some shells and containers set it) compiles the whole package
from source on every start. So each command is measured both ways: with a bytecode cache (a
temporary PYTHONPYCACHEPREFIX, warmed by one run first) and without (compiled every time).
The last lines name the heavy libraries `import cohort.cli` and `cohort --help` still load.

    .venv/bin/python -m benchmarks.cli_startup [--runs 9]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .outbox_throughput import load_average

PYTHON = sys.executable
COHORT = str(Path(PYTHON).with_name("cohort"))
COMMANDS = {
    "python -c pass (floor)": [PYTHON, "-c", "pass"],
    "import flask (baseline)": [PYTHON, "-c", "import flask"],
    "import cohort.cli": [PYTHON, "-c", "import cohort.cli"],
    "cohort --help": [COHORT, "--help"],
}
# Libraries that only a few commands or pages need (PDF, spreadsheets, migrations, calendar
# files, charts, the scheduler); whichever of them a start loads is listed at the end.
HEAVY = ["weasyprint", "fontTools", "pygal", "openpyxl", "numpy", "alembic", "mako",
         "icalendar", "apscheduler", "holidays", "yaml"]


def _env(folder: str, cached: bool) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items()
           if key not in ("PYTHONDONTWRITEBYTECODE", "PYTHONPYCACHEPREFIX")}
    # An instance folder of its own: `cohort --help` makes the app (and its secret key file).
    # The processes run in it too, so `python -c` imports the installed cohort, not the one in
    # whatever directory the benchmark was started from.
    env["COHORT_INSTANCE_PATH"] = folder
    env["COHORT_DATABASE_URL"] = f"sqlite:///{Path(folder) / 'bench.sqlite3'}"
    if cached:
        env["PYTHONPYCACHEPREFIX"] = str(Path(folder) / "pycache")
    else:
        env["PYTHONDONTWRITEBYTECODE"] = "1"  # the libraries keep their installed .pyc
    return env


def _run_once(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall and CPU (user + system) seconds of one process."""
    started = time.perf_counter()
    process = subprocess.Popen(command, env=env, cwd=env["COHORT_INSTANCE_PATH"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _pid, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode:
        raise SystemExit(f"{' '.join(command)} failed: {process.stderr.read().decode()}")
    process.stderr.close()
    return wall, usage.ru_utime + usage.ru_stime


def measure(command: list[str], env: dict[str, str], runs: int) -> tuple[float, float]:
    """Median wall and CPU milliseconds of `runs` processes, interleaving nothing else."""
    _run_once(command, env)  # warm the bytecode cache and the file system's
    samples = [_run_once(command, env) for _ in range(runs)]
    return (statistics.median(s[0] for s in samples) * 1000,
            statistics.median(s[1] for s in samples) * 1000)


def heavy_loaded(code: str, env: dict[str, str]) -> list[str]:
    probe = (f"import sys\n{code}\n"
             f"print(' '.join(m for m in {HEAVY!r} if m in sys.modules))")
    out = subprocess.run([PYTHON, "-c", probe], env=env, cwd=env["COHORT_INSTANCE_PATH"],
                         check=True, capture_output=True, text=True)
    return out.stdout.split()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args()
    load_before = load_average()
    with tempfile.TemporaryDirectory() as folder:
        figures = {name: (measure(command, _env(folder, cached=True), args.runs),
                          measure(command, _env(folder, cached=False), args.runs))
                   for name, command in COMMANDS.items()}
        cached = _env(folder, cached=True)
        loaded = {
            "import cohort.cli": heavy_loaded("import cohort.cli", cached),
            "cohort --help": heavy_loaded(
                "from cohort.app import create_app\ncreate_app()", cached),
        }
    print(f"CLI startup (medians of {args.runs} processes; load {load_before} before, "
          f"{load_average()} after)")
    print(f"  {'':26} {'bytecode cached':>24} {'compiled every run':>24}")
    print(f"  {'':26} {'wall':>11} {'cpu':>11} {'wall':>11} {'cpu':>11}")
    for name, ((wall, cpu), (wall_src, cpu_src)) in figures.items():
        print(f"  {name:26} {wall:8.0f} ms {cpu:8.0f} ms {wall_src:8.0f} ms {cpu_src:8.0f} ms")
    flask_cpu = figures["import flask (baseline)"][0][1]
    for name in ("import cohort.cli", "cohort --help"):
        print(f"  {name}: {figures[name][0][1] / flask_cpu:.1f}x the CPU of import flask; "
              f"loads {', '.join(loaded[name]) or 'none'} of {', '.join(HEAVY)}")


if __name__ == "__main__":
    main()
