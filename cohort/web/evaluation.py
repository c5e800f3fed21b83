"""The evaluator's workspace: response rates, results, pre/post change, notes, quotes, exports.

Who reads what (declared on each view, checked by the access layer):
- *Figures* (response rates, results per survey or template with the minimum group size,
  breakdowns, pre/post change, the response-rate export): the cohort's evaluators, its
  facilitators (owner and co-facilitators) and admins. Facilitators run the course and chase
  answers, and aggregate figures that hide small groups say nothing about one person.
- *Words and raw rows* (free-text answers, observation and interview notes, coded quotes,
  the responses and quotes exports): the cohort's evaluators and admins only. Facilitators
  know every participant and the make-up of every group, so a free-text answer or a quote
  attributed "Lier, group 3" can point at one person for them; the evaluator is the third
  party the participants were promised.

Thin: parse input, call services (`services.surveys`, `evaluation_notes`, `survey_exports`),
render. Figures are never computed here: suppressed results arrive without figures.
"""

from __future__ import annotations

from datetime import datetime

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    get_template_attribute,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup

from .. import services
from ..core.spreadsheets import Table, to_csv, to_xlsx
from ..core.text import single_line_problem, whole_number
from ..models import Role
from ..services import accounts, cohort_list
from ..services import dashboard as dashboard_service
from . import MAX_ID
from .access import requires
from .common import actor, now, plain_query, read_session, transaction
from .evaluation_forms import (
    DeleteForm,
    EditQuoteForm,
    QuoteForm,
    ThemesForm,
    attribution_options,
    meeting_choices,
    note_form_for,
    problem_text,
    quote_attribution_options,
    themes_prefix,
)
from .forms import options
from .page_cache import cohort_parts

bp = Blueprint("evaluation", __name__)
COHORT = "/cohorts/<int:cohort_id>/evaluation"
FORMATS = "<any(csv, xlsx):fmt>"
LEVELS = {"reaction": _l("Reaction"), "learning": _l("Learning"),
          "behaviour": _l("Behaviour"), "results": _l("Results"), None: _l("Other questions")}
DIMENSIONS = {"organisation": _l("organisation"), "role": _l("role")}
NOTE_KINDS = {"observation": _l("Observations"), "interview": _l("Interviews")}

# Figures: evaluators, facilitators and admins; words and raw rows: evaluators and admins.
figures_rule = requires(Role.EVALUATOR, Role.FACILITATOR, cohort_access=True)
words_rule = requires(Role.EVALUATOR, cohort_access=True)


def _meeting_titles(session, cohort) -> dict[str, str]:
    return {m.key: m.title for m in services.current_plan(session, cohort).meetings}


# --- the evaluator's cohorts ----------------------------------------------------------------

@bp.get("/evaluation")
@requires(Role.EVALUATOR)
def index():
    """The cohorts this evaluator works on (admins: every cohort), with response figures: one
    screen at a time, in the dashboard's order and filters; only the page's are counted."""
    moment = now()
    with read_session() as session:
        listing = cohort_list.cohort_page(
            session, accounts.visible_cohort_ids(current_user), moment,
            cohort_list.parse_filters(request.args), cohort_list.parse_page(request.args))
        by_id = {c.id: c for c in listing.cohorts}

        def make(missing: list[int]) -> dict[int, tuple[Markup, datetime | None]]:
            card = get_template_attribute("cohorts/_card.html", "evaluation_card")
            figures = dashboard_service.response_totals(session, missing, moment)
            return {cohort_id: (Markup(card(by_id[cohort_id], figures[cohort_id])),
                                figures[cohort_id].changes_at)
                    for cohort_id in missing}

        # Each card kept per cohort revision (web/page_cache.py), as on /dashboard.
        cards = cohort_parts("evaluation card", listing.revisions, moment, None, make,
                             list(by_id))
    return render_template("evaluation/index.html", listing=listing, cards=cards,
                           sections=cohort_list.by_phase(listing.cohorts,
                                                         lambda c: listing.phases[c.id]))


# --- response rates -------------------------------------------------------------------------

@bp.get(COHORT)
@figures_rule
def overview(cohort_id: int):
    """Response rates per survey (so per meeting for meeting evaluations) and who is missing."""
    moment = now()
    with read_session() as session:
        cohort = services.get_cohort(session, cohort_id)
        rates = services.response_rates(session, cohort_id)
        titles = _meeting_titles(session, cohort)
        k = services.min_group_size_of(session, cohort_id)
        attendance = services.attendance_summary(session, cohort_id, min_group=k)
        buddy_rounds = bool(services.buddy_rounds(session, cohort_id, moment))
    copies: dict[str, list] = {}
    for rate in rates:
        copies.setdefault(rate.template_key, []).append(rate)
    repeated = [(key, found[0].title) for key, found in copies.items() if len(found) > 1]
    states = {r.survey_id: services.survey_state(r, moment) for r in rates}
    return render_template("evaluation/overview.html", cohort=cohort, rates=rates,
                           states=states, titles=titles, repeated=repeated, k=k,
                           attendance=attendance, buddy_rounds=buddy_rounds)


# --- results --------------------------------------------------------------------------------

@bp.get(COHORT + "/surveys/<survey_key>")
@figures_rule
def survey(cohort_id: int, survey_key: str):
    """One survey's figures, optionally broken down by organisation or role."""
    moment = now()
    with read_session() as session:
        cohort = services.get_cohort(session, cohort_id)
        found = services.get_survey(session, cohort_id, survey_key)
        summary = services.survey_results(session, found.id, now=moment)
        dimensions = _dimensions(summary.spec)
        by = request.args.get("by", "")
        if by and by not in dimensions:
            abort(404)
        breakdown = (services.survey_breakdown(session, found.id, by, now=moment) if by
                     else None)
        changes = (services.self_assessment_change(session, cohort_id, found.template_key,
                                                  now=moment)
                   if summary.spec.compare_with else [])
        rate = next(r for r in services.response_rates(session, cohort_id)
                    if r.survey_id == found.id)
        titles = _meeting_titles(session, cohort)
        # The before/after hint names the two surveys as their participants saw them.
        survey_titles = {s.template_key: s.title
                         for s in services.list_surveys(session, cohort_id)}
    return render_template("evaluation/results.html", cohort=cohort, summary=summary,
                           survey=found, state=services.survey_state(found, moment),
                           rate=rate, dimensions=dimensions, by=by,
                           breakdown=breakdown, changes=changes, titles=titles,
                           survey_titles=survey_titles, levels=LEVELS,
                           dimension_names=DIMENSIONS)


def _dimensions(spec) -> tuple[str, ...]:
    """What a survey can be broken down by: one attribute at most (the publication rule)."""
    return services.survey_figures.breakdown_dimensions(spec)


@bp.get(COHORT + "/templates/<template_key>")
@figures_rule
def template(cohort_id: int, template_key: str):
    """Figures over every copy of a survey template (all meeting evaluations together)."""
    with read_session() as session:
        cohort = services.get_cohort(session, cohort_id)
        moment = now()
        summary = services.template_results(session, cohort_id, template_key, now=moment)
        surveys = [s for s in services.list_surveys(session, cohort_id)
                   if s.template_key == template_key]
        titles = _meeting_titles(session, cohort)
    return render_template("evaluation/results.html", cohort=cohort, summary=summary,
                           survey=None, surveys=surveys, template_key=template_key,
                           settled=services.survey_figures.settled(surveys, moment),
                           still_open=bool(services.survey_figures.open_copies(surveys,
                                                                               moment)),
                           titles=titles, levels=LEVELS, dimensions=(), by="",
                           breakdown=None, changes=[], rate=None, dimension_names=DIMENSIONS)


@bp.get(COHORT + "/surveys/<survey_key>/texts")
@words_rule
def survey_texts(cohort_id: int, survey_key: str):
    """Free-text answers of one survey: only from the minimum group size on, shuffled."""
    with read_session() as session:
        cohort = services.get_cohort(session, cohort_id)
        found = services.get_survey(session, cohort_id, survey_key)
        summary = services.survey_results(session, found.id, now=now())
    return render_template("evaluation/texts.html", cohort=cohort, summary=summary,
                           survey=found, back=url_for("evaluation.survey", cohort_id=cohort_id,
                                                      survey_key=survey_key))


@bp.get(COHORT + "/templates/<template_key>/texts")
@words_rule
def template_texts(cohort_id: int, template_key: str):
    with read_session() as session:
        cohort = services.get_cohort(session, cohort_id)
        summary = services.template_results(session, cohort_id, template_key, now=now())
    return render_template("evaluation/texts.html", cohort=cohort, summary=summary,
                           survey=None, back=url_for("evaluation.template", cohort_id=cohort_id,
                                                     template_key=template_key))


# --- notes ----------------------------------------------------------------------------------

@bp.get(COHORT + "/notes")
@words_rule
def notes(cohort_id: int):
    with read_session() as session:
        cohort = services.get_cohort(session, cohort_id)
        guides = services.cohort_guides(session, cohort_id)
        written = services.list_notes(session, cohort_id)
        titles = _meeting_titles(session, cohort)
    by_kind: dict[str, list] = {}
    for note in written:
        by_kind.setdefault(note.kind, []).append(note)
    return render_template("evaluation/notes.html", cohort=cohort, guides=guides,
                           by_kind=by_kind, titles=titles, kinds=NOTE_KINDS)


@bp.route(COHORT + "/notes/new/<guide_key>", methods=["GET", "POST"])
@words_rule
def new_note(cohort_id: int, guide_key: str):
    """A note following one of the programme's observation or interview guides."""
    return _note_page(cohort_id, guide_key, None)


@bp.route(COHORT + "/notes/<int:note_id>", methods=["GET", "POST"])
@words_rule
def edit_note(cohort_id: int, note_id: int):
    with read_session() as session:
        note = next((n for n in services.list_notes(session, cohort_id) if n.id == note_id),
                    None)
    if note is None:
        abort(404)
    return _note_page(cohort_id, note.guide_key, note)


def _note_page(cohort_id: int, guide_key: str, note):
    with read_session() as session:
        cohort = services.get_cohort(session, cohort_id)
        guide = next((g for g in services.cohort_guides(session, cohort_id)
                      if g.key == guide_key), None)
        if guide is None:
            abort(404)
        meetings = services.current_plan(session, cohort).meetings
        themes = services.cohort_themes(session, cohort_id)
        quotes = [q for q in services.list_quotes(session, cohort_id)
                  if note is not None and q.note_id == note.id]
        organisations, groups = services.attribution_choices(session, cohort_id)
        rule = services.quote_attributions(session, cohort_id)
    form = note_form_for(guide)(obj=note if request.method == "GET" else None)
    form.meeting_key.choices = meeting_choices(meetings)
    attribution_options(form, organisations, groups,
                        (note.organisation, note.group_label) if note is not None else ("", ""))
    if request.method == "GET" and note is not None:
        texts = {entry["heading"]: entry["text"] for entry in note.entries}
        for section, field in form.entry_fields():
            field.data = texts.get(section.heading, "")
    problems: list[str] = []
    if request.method == "POST" and form.validate():
        try:
            with transaction() as session:
                saved = services.save_note(
                    session, cohort_id, guide.key, form.entries(),
                    meeting_key=form.meeting_key.data or None, title=form.title.data or "",
                    held_on=form.held_on.data, organisation=form.organisation.data or "",
                    group_label=form.group_label.data or "", author=current_user.email,
                    note_id=note.id if note is not None else None, now=now(), actor=actor())
                saved_id = saved.id
        except services.NoteInvalid as exc:
            problems = [problem_text(p) for p in exc.problems]
        else:
            flash(_("The note was saved."), "success")
            return redirect(url_for("evaluation.edit_note", cohort_id=cohort_id,
                                    note_id=saved_id))
    quote_form = QuoteForm(formdata=None, note_id=note.id if note else "")
    quote_form.themes.choices = options((t, t) for t in themes)
    quote_attribution_options(quote_form, rule.choices, rule.publishable(
        note.organisation, note.group_label) if note else ("", ""))
    status = 400 if request.method == "POST" else 200
    return render_template("evaluation/note.html", cohort=cohort, guide=guide, note=note,
                           form=form, problems=problems, quotes=quotes,
                           quote_form=quote_form, k=rule.k,
                           delete_form=DeleteForm(formdata=None)), status


@bp.post(COHORT + "/notes/<int:note_id>/delete")
@words_rule
def delete_note(cohort_id: int, note_id: int):
    """Delete a note (its quotes stay); the box must be ticked."""
    with read_session() as session:
        services.get_note(session, cohort_id, note_id)  # 404 before anything else
    if not DeleteForm().validate():
        flash(_("Tick the box to delete the note."), "error")
        return redirect(url_for("evaluation.edit_note", cohort_id=cohort_id, note_id=note_id))
    with transaction() as session:
        services.delete_note(session, cohort_id, note_id, actor(), now())
    flash(_("The note was deleted. Its quotes are kept."), "success")
    return redirect(url_for("evaluation.notes", cohort_id=cohort_id))


# --- quotes ---------------------------------------------------------------------------------

@bp.route(COHORT + "/quotes", methods=["GET", "POST"])
@words_rule
@plain_query  # ?theme= goes on into the tag forms' redirects
def quotes(cohort_id: int):
    """Coded quotes by theme; POST adds one (attributed by organisation and group only)."""
    with read_session() as session:
        themes = services.cohort_themes(session, cohort_id)
        rule = services.quote_attributions(session, cohort_id)
    form = QuoteForm() if request.method == "POST" else QuoteForm(formdata=None)
    form.themes.choices = options((t, t) for t in themes)
    quote_attribution_options(form, rule.choices)
    problems: list[str] = []
    if request.method == "POST" and form.validate():
        note_id = whole_number(form.note_id.data)
        if note_id is not None and note_id > MAX_ID:
            abort(404)  # no such note: an id the database cannot even hold
        try:
            with transaction() as session:
                organisation, group = form.chosen_attribution()
                services.add_quote(session, cohort_id, form.text.data,
                                   organisation=organisation, group_label=group,
                                   themes=form.chosen_themes(), note_id=note_id, now=now())
        except services.NoteInvalid as exc:
            problems = [problem_text(p) for p in exc.problems]
        else:
            flash(_("The quote was added."), "success")
            if note_id is not None:
                return redirect(url_for("evaluation.edit_note", cohort_id=cohort_id,
                                        note_id=note_id))
            return redirect(url_for("evaluation.quotes", cohort_id=cohort_id))
    status = 400 if request.method == "POST" else 200
    return _quotes_page(cohort_id, form, problems, themes, rule), status


def _quotes_page(cohort_id: int, form: QuoteForm, problems: list[str], themes: list[str],
                 rule: services.evaluation_notes.QuoteAttributions):
    theme = request.args.get("theme") or None
    with read_session() as session:
        cohort = services.get_cohort(session, cohort_id)
        grouped = services.quotes_by_theme(session, cohort_id)
        shown = services.list_quotes(session, cohort_id, theme)
    tag_forms = {}
    for quote in shown:
        tag_form = ThemesForm(formdata=None, prefix=themes_prefix(quote.id),
                              themes=list(quote.themes))
        tag_form.themes.choices = options((t, t) for t in themes)
        tag_forms[quote.id] = tag_form
    return render_template("evaluation/quotes.html", cohort=cohort, grouped=grouped,
                           themes=themes, theme=theme, shown=shown, form=form,
                           problems=problems, tag_forms=tag_forms, k=rule.k,
                           published={q.id: rule.publishable(q.organisation, q.group_label)
                                      for q in shown})


@bp.post(COHORT + "/quotes/<int:quote_id>/themes")
@words_rule
@plain_query  # ?theme= goes into the redirect's Location
def tag_quote(cohort_id: int, quote_id: int):
    form = ThemesForm(prefix=themes_prefix(quote_id))
    if not form.validate():
        flash(_("The themes were not changed: %(problem)s",
                problem=" ".join(str(e) for errors in form.errors.values() for e in errors)),
              "error")
    else:
        with transaction() as session:
            services.tag_quote(session, cohort_id, quote_id, form.chosen_themes())
        flash(_("The themes were saved."), "success")
    return redirect(url_for("evaluation.quotes", cohort_id=cohort_id,
                            theme=request.args.get("theme") or None) + f"#quote-{quote_id}")


@bp.route(COHORT + "/quotes/<int:quote_id>/edit", methods=["GET", "POST"])
@words_rule
def edit_quote(cohort_id: int, quote_id: int):
    """Correct a quote's words, attribution or themes; or delete it."""
    with read_session() as session:
        quote = services.get_quote(session, cohort_id, quote_id)
        cohort = services.get_cohort(session, cohort_id)
        themes = services.cohort_themes(session, cohort_id)
        rule = services.quote_attributions(session, cohort_id)
    form = EditQuoteForm() if request.method == "POST" else EditQuoteForm(
        formdata=None, text=quote.text, themes=list(quote.themes), note_id=quote.note_id or "")
    form.themes.choices = options((t, t) for t in themes)
    published = rule.publishable(quote.organisation, quote.group_label)
    quote_attribution_options(form, rule.choices, published)
    problems: list[str] = []
    if request.method == "POST" and form.validate():
        try:
            with transaction() as session:
                organisation, group = form.chosen_attribution()
                services.update_quote(session, cohort_id, quote_id, form.text.data,
                                      organisation=organisation, group_label=group,
                                      themes=form.chosen_themes(), actor=actor(), now=now())
        except services.NoteInvalid as exc:
            problems = [problem_text(p) for p in exc.problems]
        else:
            flash(_("The quote was saved."), "success")
            return redirect(url_for("evaluation.quotes", cohort_id=cohort_id)
                            + f"#quote-{quote_id}")
    status = 400 if request.method == "POST" else 200
    return render_template("evaluation/quote_edit.html", cohort=cohort, quote=quote, form=form,
                           problems=problems, delete_form=DeleteForm(formdata=None), k=rule.k,
                           published=published), status


@bp.post(COHORT + "/quotes/<int:quote_id>/delete")
@words_rule
def delete_quote(cohort_id: int, quote_id: int):
    with read_session() as session:
        services.get_quote(session, cohort_id, quote_id)  # 404 before anything else
    if not DeleteForm().validate():
        flash(_("Tick the box to delete the quote."), "error")
        return redirect(url_for("evaluation.edit_quote", cohort_id=cohort_id,
                                quote_id=quote_id))
    with transaction() as session:
        services.delete_quote(session, cohort_id, quote_id, actor(), now())
    flash(_("The quote was deleted."), "success")
    return redirect(url_for("evaluation.quotes", cohort_id=cohort_id))


# --- exports --------------------------------------------------------------------------------

def _download(tables: list[Table], fmt: str, name: str) -> Response:
    if fmt == "csv":
        body, mimetype = to_csv(tables[0]), "text/csv; charset=utf-8"
    else:
        body = to_xlsx(tables)
        mimetype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    response = Response(body, mimetype=mimetype)
    response.headers.set("Content-Disposition", "attachment", filename=f"{name}.{fmt}")
    response.cache_control.no_store = True
    return response


@bp.get(COHORT + f"/responses.{FORMATS}")
@words_rule
@plain_query  # ?survey= chooses what goes into the spreadsheet
def export_responses(cohort_id: int, fmt: str):
    """Every response (or `?survey=KEY`); anonymous rows carry no identifier, and anonymous
    surveys with fewer answers than the minimum group size are left out (listed in the
    workbook's Notes sheet)."""
    survey_key = request.args.get("survey") or None
    if survey_key is not None and single_line_problem(survey_key) is not None:
        abort(404)  # no survey has such a key (a control character is refused before)
    with read_session() as session:
        table, warnings = services.responses_table(session, cohort_id, survey_key, now=now())
    tables = [table]
    if warnings:
        tables.append(Table("Notes", ["note"], [[w] for w in warnings]))
    return _download(tables, fmt, f"cohort-{cohort_id}-responses")


@bp.get(COHORT + f"/response-rates.{FORMATS}")
@figures_rule
def export_rates(cohort_id: int, fmt: str):
    with read_session() as session:
        table = services.response_rates_table(session, cohort_id)
    return _download([table], fmt, f"cohort-{cohort_id}-response-rates")


@bp.get(COHORT + f"/quotes.{FORMATS}")
@words_rule
def export_quotes(cohort_id: int, fmt: str):
    with read_session() as session:
        table = services.quotes_table(session, cohort_id)
    return _download([table], fmt, f"cohort-{cohort_id}-quotes")
