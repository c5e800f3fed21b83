"""Browser tests: Debian's chromium driven by Playwright, the app served on 127.0.0.1."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask
from werkzeug.serving import make_server

from cohort import db
from cohort.app import create_app

REPO = Path(__file__).resolve().parent.parent
ARTIFACTS = REPO / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """`playwright install` cannot download here: use the chromium Debian package."""
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@dataclass
class LiveServer:
    url: str
    app: Flask

    @property
    def engine(self):
        return self.app.extensions["cohort.engine"]


@pytest.fixture
def live_server(tmp_path, monkeypatch) -> Iterator[LiveServer]:
    """The real app on an SQLite file, served by werkzeug in a thread on 127.0.0.1."""
    monkeypatch.setenv("COHORT_INSTANCE_PATH", str(tmp_path / "instance"))
    app = create_app({
        "DATABASE_URL": f"sqlite:///{tmp_path / 'browser.sqlite3'}",
        "SECRET_KEY": "browser-tests",
        "PROGRAMMES_DIR": str(REPO / "programmes"),
    })
    db.create_schema(app.extensions["cohort.engine"])
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield LiveServer(f"http://127.0.0.1:{server.server_port}", app)
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        app.extensions["cohort.engine"].dispose()


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    """Screenshots of key pages, kept after the run (test-artifacts/ is git-ignored)."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
