"""`cohort report`: the evaluation report of a cohort as a PDF, with progress on stderr."""

from __future__ import annotations

import os
import time
from pathlib import Path

import click

from .. import services
from ..core.reporting import NotComparable
from ..services.reporting import LANGUAGES
from .base import cohort, fail
from .base import engine as _engine


@cohort.command("report")
@click.argument("cohort_id", type=int)
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False),
              help="FILE.pdf, or FILE.html for the HTML the PDF is made from")
@click.option("--lang", type=click.Choice(LANGUAGES), default=None,
              help="language of headings and figures (default: the cohort's language)")
@click.option("--compare", "other_id", type=int, default=None, metavar="OTHER",
              help="another cohort of the same programme, set side by side")
def report(cohort_id: int, output: str, lang: str | None, other_id: int | None) -> None:
    """Write the evaluation report of COHORT_ID: summary, reaction, learning, behaviour,
    results and voices, and method, with no figure for fewer answers than the minimum group
    size."""
    from ..rendering.report import STEPS, load_report, render_report_pdf, report_html

    path = Path(output)
    if path.suffix.lower() not in (".pdf", ".html"):
        fail(f"{output}: the report is written as .pdf (or .html)")
    if not path.parent.is_dir():
        fail(f"{path.parent} is not a folder")
    started = time.perf_counter()
    labels = dict(STEPS)

    def progress(step: int, total: int, key: str) -> None:
        click.echo(f"[{step}/{total}] {labels[key]} ({time.perf_counter() - started:.1f} s)",
                   err=True)

    try:
        if path.suffix.lower() == ".html":
            data = report_html(load_report(_engine(), cohort_id, lang, other_id)).encode()
            summary = "HTML"
        else:
            rendered = render_report_pdf(_engine(), cohort_id, lang, other_id,
                                         progress=progress)
            data = rendered.pdf
            summary = f"{rendered.pages} pages"
    except (services.NotFound, NotComparable) as exc:
        fail(str(exc))
    _write_atomically(path, data)
    click.echo(f"Wrote {path} ({summary}, {time.perf_counter() - started:.1f} s).")


def _write_atomically(path: Path, data: bytes) -> None:
    """A failed or interrupted write never leaves half a report under the final name."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.part")
    try:
        temporary.write_bytes(data)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
