"""Commands for evaluation data: paper answers in, responses, response rates and quotes out."""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

import click

from .. import db, services
from ..core.response_import import ResponseImportError
from ..core.spreadsheets import Table, to_csv, to_xlsx
from ..core.survey_results import format_decimal, format_percent
from ..core.surveys import answer_columns
from ..models import utcnow
from .base import cohort, fail
from .base import engine as _engine

FORMATS = (".csv", ".xlsx")


@cohort.group("responses")
def responses() -> None:
    """Survey responses of a cohort."""


@responses.command("store-pooled")
def responses_store_pooled() -> None:
    """Store the anonymous answers waiting in the pool of every survey that has closed or has
    at least k waiting (the scheduler does this every tick; run it before downgrading the
    database below revision 0006)."""
    with db.transaction(_engine()) as session:
        moved = services.move_pooled_answers(session, utcnow())
    click.echo(f"Stored {moved} pooled anonymous answer(s).")


@responses.command("import")
@click.argument("cohort_id", type=int)
@click.argument("survey_key")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
def responses_import(cohort_id: int, survey_key: str, file: str) -> None:
    """Add answers collected on paper: one CSV row per response, columns named by question id
    (SURVEY_KEY as in `cohort show`, e.g. final or meeting-evaluation@workshop-1)."""
    try:
        with db.transaction(_engine()) as session:
            count = services.import_responses(session, cohort_id, survey_key,
                                              Path(file).read_bytes())
    except ResponseImportError as exc:
        for error in exc.errors:
            click.echo(f"{file}: {error}", err=True)
        fail(f"{len(exc.errors)} problem(s) in {file}; nothing was imported")
    except services.NotFound as exc:
        fail(str(exc))
    click.echo(f"Imported {count} response(s) into survey '{survey_key}' of cohort "
               f"{cohort_id}.")


@responses.command("template")
@click.argument("cohort_id", type=int)
@click.argument("survey_key")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False),
              help="FILE.csv or FILE.xlsx")
def responses_template(cohort_id: int, survey_key: str, output: str) -> None:
    """An empty sheet with the columns `responses import` expects, for typing in paper
    answers (identified surveys start with an email column)."""
    path = _output_path(output)
    try:
        with db.transaction(_engine()) as session:
            survey = services.get_survey(session, cohort_id, survey_key)
            spec = services.survey_spec_of(session, survey)
    except services.NotFound as exc:
        fail(str(exc))
    columns = ([] if spec.anonymous else ["email"]) + ["submitted_on"] + [
        c.name for c in answer_columns(spec)]
    _write(path, [Table(survey.key, columns)])
    click.echo(f"Wrote the columns of survey '{survey_key}' to {path}.")


@responses.command("export")
@click.argument("cohort_id", type=int)
@click.argument("survey_key", required=False)
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False),
              help="FILE.csv (responses) or FILE.xlsx (responses, response rates, quotes)")
def responses_export(cohort_id: int, survey_key: str | None, output: str) -> None:
    """Export responses (all surveys, or SURVEY_KEY); anonymous ones without identifiers."""
    path = _output_path(output)
    try:
        with db.transaction(_engine()) as session:
            table, warnings = services.responses_table(session, cohort_id, survey_key)
            extra = [] if path.suffix == ".csv" else [
                services.response_rates_table(session, cohort_id),
                services.quotes_table(session, cohort_id)]
    except services.NotFound as exc:
        fail(str(exc))
    for warning in warnings:
        click.echo(f"Warning: {warning}", err=True)
    _write(path, [table, *extra])
    click.echo(f"Wrote {len(table.rows)} response(s) to {path}.")


@responses.command("rates")
@click.argument("cohort_id", type=int)
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="FILE.csv or FILE.xlsx")
def responses_rates(cohort_id: int, output: str | None) -> None:
    """Response rate of every survey; who has not answered (identified surveys only)."""
    try:
        with db.transaction(_engine()) as session:
            rates = services.response_rates(session, cohort_id)
            table = services.response_rates_table(session, cohort_id)
    except services.NotFound as exc:
        fail(str(exc))
    if output:
        _write(_output_path(output), [table])
        click.echo(f"Wrote {len(table.rows)} survey(s) to {output}.")
        return
    for rate in rates:
        share = format_percent(rate.answered, rate.invited, "en") if rate.invited else "-"
        line = f"{rate.survey_key}\t{rate.answered}/{rate.invited}\t{share}"
        if rate.not_answered:
            line += f"\tnot answered: {', '.join(rate.not_answered)}"
        click.echo(line)


@responses.command("summary")
@click.argument("cohort_id", type=int)
@click.argument("survey_key")
def responses_summary(cohort_id: int, survey_key: str) -> None:
    """Figures per question (n, mean, agree-share); nothing for groups under the minimum."""
    try:
        with db.transaction(_engine()) as session:
            survey = services.get_survey(session, cohort_id, survey_key)
            summary = services.survey_results(session, survey.id)
            zone = ZoneInfo(services.get_cohort(session, cohort_id).timezone)
    except services.NotFound as exc:
        fail(str(exc))
    language = summary.spec.language
    click.echo(f"{survey.title} ({survey.key}): {summary.responses} response(s), "
               f"minimum group size {summary.min_group_size}")
    if summary.withheld:  # open survey (publication rule 5): not a too-small group per question
        closes = survey.closes_at.astimezone(zone)
        click.echo(f"  The figures are shown when the survey closes "
                   f"({closes:%a %d %b %Y %H:%M}, {zone.key}).")
        return
    for result in summary.questions:
        if result.suppressed and not result.areas:
            click.echo(f"  {result.id}: fewer than {summary.min_group_size} answers")
            continue
        if result.agree:
            click.echo(f"  {result.id}: {result.agree.statement}")
        elif result.mean is not None:
            click.echo(f"  {result.id}: n={result.n}, mean {format_decimal(result.mean, language)}")
        elif result.areas:
            for area in result.areas:
                figure = (f"mean {format_decimal(area.mean, language)}" if area.mean is not None
                          else f"fewer than {summary.min_group_size} answers")
                click.echo(f"  {result.id}.{area.area_id}: n={area.n}, {figure}")
        elif result.distribution:
            counts = ", ".join(f"{c.label} {c.count}" for c in result.distribution)
            click.echo(f"  {result.id}: n={result.n}: {counts}")
        else:
            click.echo(f"  {result.id}: {len(result.texts)} text answer(s)")


@cohort.group("quotes")
def quotes() -> None:
    """Coded quotes from observations and interviews."""


@quotes.command("export")
@click.argument("cohort_id", type=int)
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False))
def quotes_export(cohort_id: int, output: str) -> None:
    """Export quotes with their attribution (organisation, group) and themes."""
    try:
        with db.transaction(_engine()) as session:
            services.get_cohort(session, cohort_id)
            table = services.quotes_table(session, cohort_id)
    except services.NotFound as exc:
        fail(str(exc))
    _write(_output_path(output), [table])
    click.echo(f"Wrote {len(table.rows)} quote(s) to {output}.")


def _output_path(output: str) -> Path:
    path = Path(output)
    if path.suffix.lower() not in FORMATS:
        fail(f"'{output}': the file name must end in .csv or .xlsx")
    if not path.parent.exists():
        fail(f"'{path.parent}' does not exist")
    return path


def _write(path: Path, tables: list[Table]) -> None:
    data = to_csv(tables[0]) if path.suffix.lower() == ".csv" else to_xlsx(tables)
    path.write_bytes(data)
