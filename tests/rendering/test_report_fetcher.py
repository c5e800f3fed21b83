"""A report never fetches a remote URL or a local file outside the app's static folder.

A real HTTP server on 127.0.0.1 records every request; HTML full of ways to make WeasyPrint
load things is rendered with the report's fetcher (no request, no file content in the PDF)
and, as a control that the test can see a fetch at all, with WeasyPrint's default fetcher.
"""

from __future__ import annotations

import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from weasyprint import HTML

from cohort import db, services
from cohort.app import create_app
from cohort.rendering.fetcher import STATIC_ROOT, RefusedURL, StaticOnlyFetcher
from cohort.rendering.report import html_to_pdf, render_report_pdf
from tests.fixtures.paths import PROGRAMMES
from tests.fixtures.pdf import flat, pages_text
from tests.fixtures.report import PEOPLE, REPORT_NOW

PASSWD = Path("/etc/passwd")
PNG_1PX = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000001e221bc330000000049454e44ae426082")


class RecordingServer:
    """An HTTP server on 127.0.0.1 that answers every GET with a tiny PNG and records it."""

    def __init__(self) -> None:
        requests = self.requests = []

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server's naming)
                requests.append(self.path)
                self.send_response(200)
                self.send_header("Content-Type", "image/png")
                self.end_headers()
                self.wfile.write(PNG_1PX)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def server():
    with RecordingServer() as running:
        yield running


def hostile_html(url: str) -> str:
    """Every way we know to make WeasyPrint load a URL or a file."""
    escape_static = (STATIC_ROOT / ".." / ".." / ".." / ".." / "etc" / "passwd").as_posix()
    return f"""<!doctype html><html><head>
<link rel="stylesheet" href="{url}/style.css">
<link rel="attachment" href="file:///etc/passwd" title="passwd">
<link rel="attachment" href="{url}/attachment.bin">
<style>
  @import url("{url}/import.css");
  @font-face {{ font-family: X; src: url("{url}/font.woff2"); }}
  body {{ background: url("{url}/background.png"); font-family: X, sans-serif; }}
  h1::after {{ content: url("{url}/after.png"); }}
  li {{ list-style-image: url("{url}/bullet.png"); }}
</style></head><body>
<h1>Hostile</h1>
<img src="{url}/img.png"><img src="https://{url[7:]}/secure.png">
<img src="file:///etc/passwd"><img src="file://{escape_static}">
<img src="file://localhost/etc/passwd"><img src="ftp://127.0.0.1/x.png">
<object data="file:///etc/passwd" type="text/plain"></object>
<object data="{url}/object.png" type="image/png"></object>
<embed src="{url}/embed.png"><iframe src="{url}/frame.html"></iframe>
<svg width="10" height="10"><image href="{url}/svg.png" width="10" height="10"/></svg>
<ul><li>bullet</li></ul>
<div style="background-image: url('file:///etc/passwd')">inline style</div>
</body></html>"""


def test_the_report_fetcher_loads_nothing_remote_and_no_file_outside_static(server, tmp_path):
    rendered = html_to_pdf(hostile_html(server.url))
    assert server.requests == []
    refused = " ".join(rendered.refused)
    assert f"{server.url}/img.png" in refused and "file:///etc/passwd" in refused
    assert "/secure.png" in refused and f"{server.url}/attachment.bin" in refused
    pdf = tmp_path / "hostile.pdf"
    pdf.write_bytes(rendered.pdf)
    text = flat("\n".join(pages_text(pdf)))
    assert "Hostile" in text and "root:" not in text
    attachments = subprocess.run(["pdfdetach", "-list", str(pdf)], capture_output=True,
                                 text=True, check=True).stdout
    assert attachments.startswith("0 embedded files")


def test_control_weasyprints_own_fetcher_does_fetch(server, tmp_path):
    """Without the report's fetcher the same HTML makes requests and attaches the file, so
    the test above would see it if the report's fetcher let anything through."""
    pdf = tmp_path / "control.pdf"
    HTML(string=hostile_html(server.url), base_url=str(tmp_path)).write_pdf(pdf)
    assert "/img.png" in server.requests and "/style.css" in server.requests
    attachments = subprocess.run(["pdfdetach", "-list", str(pdf)], capture_output=True,
                                 text=True, check=True).stdout
    assert "passwd" in attachments


def test_a_hostile_quote_in_a_real_report_is_text_not_markup(server, make_cohort, tmp_path):
    app = create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
                      "SECRET_KEY": "test", "PROGRAMMES_DIR": str(PROGRAMMES)})
    engine = app.extensions["cohort.engine"]
    db.create_schema(engine)
    cohort_id = make_cohort(engine, people=PEOPLE, title="Hold 1").id
    payload = (f'<img src="{server.url}/quote.png"><link rel="attachment" '
               f'href="file:///etc/passwd">')
    with db.transaction(engine) as session:
        services.add_quote(session, cohort_id, f"Vi prøvede {payload} i praksis.",
                           organisation="Vejle Kommune", themes=["Tid og ressourcer"])
    with app.app_context():
        rendered = render_report_pdf(engine, cohort_id, now=REPORT_NOW)
    engine.dispose()
    assert server.requests == [] and rendered.refused == ()
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(rendered.pdf)
    text = flat("\n".join(pages_text(pdf)))
    assert f'<img src="{server.url}/quote.png">' in text  # shown as the text it is


def test_static_files_are_served_and_nothing_else(tmp_path):
    fetcher = StaticOnlyFetcher()
    css = fetcher.fetch((STATIC_ROOT / "report.css").as_uri())
    assert b"@page" in css.read() and css.headers.get_content_type() == "text/css"
    assert fetcher.fetch("data:text/plain;base64,aGVq").read() == b"hej"
    for url in ("file:///etc/passwd", (STATIC_ROOT / ".." / "app.py").as_uri(),
                f"file://{STATIC_ROOT}/../app.py", "file://example.org/etc/passwd",
                (STATIC_ROOT / "missing.css").as_uri(), STATIC_ROOT.as_uri(),
                "http://127.0.0.1:9/x.css", "https://example.org/x.css", "ftp://x/y",
                "javascript:alert(1)", "blob:x"):
        with pytest.raises(RefusedURL):
            fetcher.fetch(url)
    assert len(fetcher.refused) == 11


def test_a_symlink_out_of_the_static_folder_is_refused(tmp_path):
    root = tmp_path / "static"
    root.mkdir()
    (root / "ok.css").write_text("p {}")
    secret = tmp_path / "secret.txt"
    secret.write_text("secret")
    (root / "link.txt").symlink_to(secret)
    fetcher = StaticOnlyFetcher(root)
    assert fetcher.fetch((root / "ok.css").as_uri()).read() == b"p {}"
    with pytest.raises(RefusedURL):
        fetcher.fetch((root / "link.txt").as_uri())
