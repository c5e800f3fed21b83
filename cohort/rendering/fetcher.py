"""The only way a report PDF may load anything: the app's own static files and data: URIs.

A report holds text that participants and evaluators wrote. Escaping keeps it from becoming
markup, and this fetcher is the second wall: whatever ends up in the HTML, WeasyPrint cannot
make a request to another server (http, https, ftp) or read a local file outside
`cohort/static` (file:///etc/passwd, or ../ out of the folder, or a symlink leading out).
Refused URLs raise, which WeasyPrint logs and skips; they are also kept in `refused`.
"""

from __future__ import annotations

import logging
import mimetypes
from pathlib import Path
from urllib.parse import unquote, urlsplit
from urllib.request import url2pathname

from weasyprint.urls import URLFetcher, URLFetcherResponse

STATIC_ROOT = Path(__file__).resolve().parent.parent / "static"
LOGGER = logging.getLogger(__name__)


class RefusedURL(ValueError):
    """A URL a report is not allowed to load."""


class StaticOnlyFetcher(URLFetcher):
    """Serves `data:` URIs and files inside `root`; refuses every other URL."""

    def __init__(self, root: Path = STATIC_ROOT) -> None:
        super().__init__(timeout=1, allowed_protocols=("data",), allow_redirects=False)
        self.root = root.resolve()
        self.refused: list[str] = []

    def fetch(self, url: str, headers=None) -> URLFetcherResponse:
        scheme = url.split(":", 1)[0].strip().lower()
        if scheme == "data":
            return super().fetch(url, headers)  # allowed_protocols admits nothing else
        path = self.static_path(url) if scheme == "file" else None
        if path is None:
            self.refused.append(url)
            LOGGER.warning("report refused to load %s", url[:200])
            raise RefusedURL(f"a report may only load the app's static files, not {url[:200]}")
        content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return URLFetcherResponse(path.as_uri(), path.read_bytes(),
                                  headers={"Content-Type": content_type})

    def static_path(self, url: str) -> Path | None:
        """The file a file: URL names, if it is a regular file inside the static folder."""
        parts = urlsplit(url)
        if parts.netloc not in ("", "localhost"):
            return None
        path = Path(url2pathname(unquote(parts.path))).resolve()
        if not path.is_relative_to(self.root) or not path.is_file():
            return None
        return path


def static_url(name: str) -> str:
    """The file: URL of a static file, for the PDF's HTML."""
    return (STATIC_ROOT / name).as_uri()
