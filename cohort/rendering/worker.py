"""The background report worker: `python -m cohort.rendering.worker JOB_FOLDER`.

Started by `jobs.start_report_job` with the app's configuration in its environment. It renders
the job's report with progress written to job.json after every step, then writes report.pdf
and marks the job done, or marks it failed with a message a person can act on.
"""

from __future__ import annotations

import sys
import traceback
from pathlib import Path


def run(folder: Path) -> int:
    from ..app import create_app
    from ..core.reporting import NotComparable
    from ..services._lookup import NotFound
    from .jobs import read_job, update_job
    from .report import render_report_pdf

    job = read_job(folder)
    update_job(folder, state="running")

    def progress(step: int, total: int, key: str) -> None:
        update_job(folder, step=step, steps=total, step_key=key)

    try:
        app = create_app()
        with app.app_context():
            rendered = render_report_pdf(app.extensions["cohort.engine"], job.cohort_id,
                                         job.language, job.compare, progress=progress,
                                         words=job.words)
        temporary = folder / ".report.pdf.part"
        temporary.write_bytes(rendered.pdf)
        temporary.replace(folder / "report.pdf")
    except (NotFound, NotComparable, ValueError) as exc:
        update_job(folder, state="failed", error=str(exc))
        return 1
    except Exception:
        traceback.print_exc()
        update_job(folder, state="failed", error="the report could not be made (see worker.log)")
        return 1
    update_job(folder, state="done", pages=rendered.pages)
    return 0


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1 or not (Path(args[0]) / "job.json").is_file():
        print("usage: python -m cohort.rendering.worker JOB_FOLDER", file=sys.stderr)
        return 2
    return run(Path(args[0]))


if __name__ == "__main__":
    sys.exit(main())
