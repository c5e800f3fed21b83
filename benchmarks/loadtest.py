"""Serving the app with gunicorn and driving it with wrk: the part the page benchmarks
(pages.py, progress_grid.py, regional.py) share.

Each benchmark starts gunicorn (2 workers, `benchmarks.bench_wsgi:app`, whose bare route
`/bench/bare` is the baseline) on a free port, warms both workers, runs wrk (2 threads, 16
connections) per URL and waits for the queue wrk leaves behind to drain before the next URL,
so each URL's figures are its own. wrk's text output is read into requests/s, p50, p99 (ms),
the number of requests, non-2xx/3xx answers and timeouts, with the 1-minute load average
beside it (the machine is shared).
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SECRET = "benchmark-secret"
BARE_PATH = "/bench/bare"
BARE = f"baseline bare route {BARE_PATH}"  # the name of the baseline's figures
STATEMENTS_PATH = "/bench/statements"  # the bare route after two one-row reads


@dataclass(frozen=True)
class Server:
    base: str  # http://127.0.0.1:PORT
    process: subprocess.Popen


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def gunicorn(database_url: str, folder: str) -> Iterator[Server]:
    """gunicorn with 2 workers on `database_url` (instance folder `folder`), answering its
    bare route, stopped at the end of the block."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("COHORT_")}
    env.update(COHORT_DATABASE_URL=database_url, COHORT_SECRET_KEY=SECRET,
               COHORT_INSTANCE_PATH=folder)
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), "--workers", "2", "--bind",
         f"127.0.0.1:{port}", "--log-level", "warning", "benchmarks.bench_wsgi:app"],
        cwd=REPO, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_for(base)
        yield Server(base, process)
    finally:
        process.terminate()
        process.wait(30)


def _wait_for(base: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(base + BARE_PATH, timeout=1)
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("gunicorn did not start")


def warm(base: str, path: str, cookie: str, timeout: float, times: int = 4) -> None:
    """GET `path` a few times, so both workers have served it once before wrk starts."""
    for _ in range(times):
        request = urllib.request.Request(base + path, headers={"Cookie": cookie})
        assert urllib.request.urlopen(request, timeout=timeout).status == 200, path


def wrk(url: str, seconds: int, *, cookie: str | None = None,
        script: Path | None = None) -> dict:
    """wrk, 2 threads and 16 connections for `seconds`, on `url` (with `cookie`) or on the
    requests a Lua `script` makes; its figures as `parse_wrk` reads them."""
    command = ["wrk", "-t2", "-c16", f"-d{seconds}s", "--timeout", "10s", "--latency"]
    if cookie:
        command += ["-H", f"Cookie: {cookie}"]
    if script is not None:
        command += ["-s", str(script)]
    out = subprocess.run([*command, url], capture_output=True, text=True,
                         check=True).stdout
    return {**parse_wrk(out), "load": os.getloadavg()[0]}


def parse_wrk(out: str) -> dict:
    """Requests/s, p50 and p99 in ms, the requests done, non-2xx/3xx answers and timeouts from
    wrk's output (`--latency`)."""
    done = re.search(r"(\d+) requests in", out)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    timeouts = re.search(r"timeout (\d+)", out)
    return {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
            "p50": _latency(out, "50%"), "p99": _latency(out, "99%"),
            "requests": int(done.group(1)) if done else 0,
            "errors": int(errors.group(1)) if errors else 0,
            "timeouts": int(timeouts.group(1)) if timeouts else 0}


def _latency(out: str, percentile: str) -> float:
    value, unit = re.search(rf"{percentile}\s+([\d.]+)(us|ms|s)", out).groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def settle(base: str, timeout: float = 120) -> None:
    """Wait until the workers have answered the requests wrk left queued, so the next URL's
    figures are its own."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        start = time.perf_counter()
        urllib.request.urlopen(base + BARE_PATH, timeout=timeout)
        if time.perf_counter() - start < 0.05:
            return
        time.sleep(0.2)


def each_url(database_url: str, folder: str, seconds: int,
             urls: Mapping[str, tuple[str, str]], warm_timeout: float) -> dict:
    """The bare route, then every URL (name -> path and cookie) in turn under wrk, on one
    gunicorn: figures by name, the bare route's first (under BARE)."""
    with gunicorn(database_url, folder) as server:
        for path, cookie in urls.values():
            warm(server.base, path, cookie, warm_timeout)
        figures = {BARE: wrk(server.base + BARE_PATH, seconds)}
        for name, (path, cookie) in urls.items():
            figures[name] = wrk(server.base + path, seconds, cookie=cookie)
            settle(server.base)
    return figures
