"""A cohort's buddy pairs and project teams for its facilitators: look, plan, repair, edit.

Every action goes through `services.grouping`, which judges the groups again in full before
storing them; the page always shows the stored groups judged now (explanations, score, unmet
soft goals, broken hard rules), so an edit that breaks a rule is kept but shown plainly.
Known problems (too few people, an unknown person or group) become a message on the page
(400) and change nothing.

"Plan again", "Repair" and moving a person go through `services.group_changes`: when
participants were already told their groups (the welcome or a buddy email went out) and some
of them would get a new partner, the page first shows who (partners before and after) and
asks; confirming stores the groups and queues a short email to exactly those people. A draft
cohort is never asked.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, Response, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from wtforms import HiddenField, IntegerField, SelectField, StringField
from wtforms.validators import DataRequired, InputRequired, NumberRange

from .. import services
from ..core.spreadsheets import to_csv
from ..models import Role
from ..services import GroupingProblem, NotFound, group_changes
from .access import requires
from .common import actor, now, read_session, transaction
from .forms import CohortForm, SingleLine, options

bp = Blueprint("groups", __name__, url_prefix="/cohorts/<int:cohort_id>/groups")
NEW_GROUP = "new"
MAX_SEED = 2**31 - 1


class PlanForm(CohortForm):
    grouping = HiddenField(validators=[DataRequired(), SingleLine(100)])
    seed = IntegerField(_l("Seed"), default=0,
                        validators=[InputRequired(), NumberRange(0, MAX_SEED)])
    # The fingerprint of the change the facilitator confirmed (group_changes.apply).
    confirmed = HiddenField(validators=[SingleLine(64)])


class RepairForm(CohortForm):
    grouping = HiddenField(validators=[DataRequired(), SingleLine(100)])
    confirmed = HiddenField(validators=[SingleLine(64)])


class MoveForm(CohortForm):
    grouping = HiddenField(validators=[DataRequired(), SingleLine(100)])
    rotation = IntegerField(validators=[InputRequired(), NumberRange(1, 100)])
    person = StringField(_l("Person"), validators=[DataRequired(), SingleLine(254)])
    to_group = StringField(_l("To group"), validators=[DataRequired(), SingleLine(20)])
    confirmed = HiddenField(validators=[SingleLine(64)])

    def target(self) -> int | None:
        """The group number, or None for a new group."""
        if self.to_group.data == NEW_GROUP:
            return None
        try:
            return int(self.to_group.data)
        except ValueError:
            raise GroupingProblem(_("Choose a group or a new group.")) from None


class PairRuleForm(CohortForm):
    kind = SelectField(_l("Rule"), choices=options([("together", _l("always together")),
                                                     ("apart", _l("never together"))]))
    first = StringField(_l("First person"), validators=[DataRequired(), SingleLine(254)])
    second = StringField(_l("Second person"), validators=[DataRequired(), SingleLine(254)])
    # a grouping key, or empty for every grouping
    scope = StringField(_l("Applies to"), validators=[SingleLine(100)])


class DropRuleForm(CohortForm):
    first = StringField(validators=[DataRequired(), SingleLine(254)])
    second = StringField(validators=[DataRequired(), SingleLine(254)])
    scope = StringField(validators=[SingleLine(100)])


def _page(cohort_id: int, status: int = 200, problem: str | None = None):
    with read_session() as session:
        cohort = services.get_cohort(session, cohort_id)
        views = [services.list_groups(session, cohort_id, template.key)
                 for template in services.groupings(session, cohort_id)]
        names = services.participant_names(session, cohort_id)
        rules = services.list_rules(session, cohort_id)
        buddy_rounds = services.buddy_rounds(session, cohort_id, now())
    titles = {view.grouping_key: view.title for view in views}
    # The group rows on the page: an old round's pair links to its group only while that
    # group is still there (planning again may have dissolved it).
    shown = {(view.grouping_key, rotation.rotation, number) for view in views
             for rotation, numbers in zip(view.result.rotations, view.numbers, strict=True)
             for number in numbers}
    return render_template("groups/index.html", cohort=cohort, views=views, names=names,
                           shown_groups=shown,
                           people=sorted(names.items(), key=lambda item: (item[1], item[0])),
                           rules=rules, titles=titles, problem=problem,
                           buddy_rounds=buddy_rounds,
                           new_group=NEW_GROUP), status


def _act(cohort_id: int, form: CohortForm, action: Callable) -> object:
    """Run one edit in a transaction: flash what happened and show the page again (PRG),
    or show the page with the problem (400) and nothing changed."""
    if not form.validate():
        return _page(cohort_id, 400, _("The request was incomplete: %(fields)s",
                                       fields=", ".join(sorted(form.errors))))
    try:
        with transaction() as session:
            message = action(session)
    except (GroupingProblem, NotFound) as exc:
        return _page(cohort_id, 400, str(exc))
    flash(message, "success")
    return redirect(url_for(".index", cohort_id=cohort_id), code=303)


def _checked(views) -> str:
    """'Saved.' plus how many hard rules the groups now break (every edit re-checks)."""
    broken = sum(len(view.result.violations) for view in views)
    if not broken:
        return _("Saved. No hard rule is broken.")
    return ngettext("Saved, but %(num)d hard rule is broken: see below.",
                    "Saved, but %(num)d hard rules are broken: see below.", broken)


@bp.get("")
@requires(Role.FACILITATOR, cohort_access=True)
def index(cohort_id: int):
    """Per grouping and rotation: the groups, explanations, score, unmet goals, violations."""
    return _page(cohort_id)


@bp.get("/check-ins.csv")
@requires(Role.FACILITATOR, Role.EVALUATOR, cohort_access=True)
def export_check_ins(cohort_id: int):
    """The buddy check-ins per pair and round (no names, no notes): the export behind the
    report's "did the buddies meet?" figures, so the evaluators who write the report get it
    too (from the evaluation overview; the groups page itself is the facilitators')."""
    with read_session() as session:
        body = to_csv(services.buddy_rounds_table(session, cohort_id, now()))
    response = Response(body, mimetype="text/csv; charset=utf-8")
    response.headers.set("Content-Disposition", "attachment",
                         filename=f"cohort-{cohort_id}-buddy-check-ins.csv")
    response.cache_control.no_store = True
    return response


@bp.post("/plan")
@requires(Role.FACILITATOR, cohort_access=True)
def plan(cohort_id: int):
    """Plan a grouping afresh with a seed (replaces its groups); asks first when people who
    were told their groups would get a new partner."""
    form = PlanForm()
    return _change(cohort_id, form, group_changes.PLAN, form.seed.data or 0)


@bp.post("/repair")
@requires(Role.FACILITATOR, cohort_access=True)
def repair(cohort_id: int):
    """Bring the groups in line with the participants and rules, changing as few as possible;
    asks first, like planning again."""
    return _change(cohort_id, RepairForm(), group_changes.REPAIR, 0)


def _change(cohort_id: int, form: CohortForm, action: str, seed: int,
            move: Callable[[], group_changes.Move] | None = None):
    """Plan again, repair or move: done at once, or the confirmation page (nothing changed
    yet) when it would change the partners of people already told them."""
    if not form.validate():
        return _page(cohort_id, 400, _("The request was incomplete: %(fields)s",
                                       fields=", ".join(sorted(form.errors))))
    try:
        with transaction() as session:
            result = group_changes.apply(
                session, cohort_id, action, form.grouping.data, seed,
                move=move() if move is not None else None,
                confirmed=form.confirmed.data or None, actor=actor(), now=now())
    except (GroupingProblem, NotFound) as exc:
        return _page(cohort_id, 400, str(exc))
    except group_changes.ConfirmationNeeded as needed:
        return _confirm_page(cohort_id, needed.preview, stale=bool(form.confirmed.data))
    flash(_changed_message(result), "success")
    return redirect(url_for(".index", cohort_id=cohort_id), code=303)


def _changed_message(result: group_changes.GroupChangeResult) -> str:
    found = result.preview
    parts = []
    if found.action == group_changes.REPAIR:
        parts.append(ngettext("%(num)d group changed", "%(num)d groups changed",
                              found.changed_groups))
    parts.append(ngettext("%(num)d person has a new partner",
                          "%(num)d people have a new partner", len(found.changed_people)))
    if result.notified:
        parts.append(ngettext("%(num)d of them gets an email about it",
                              "%(num)d of them get an email about it", len(result.notified)))
    return f"{'; '.join(parts)}. {_checked([result.view])}"


def _confirm_page(cohort_id: int, preview: group_changes.GroupChangePreview, stale: bool):
    """Who gets a new partner, who of them is emailed, and the button that confirms it."""
    with read_session() as session:
        cohort = services.get_cohort(session, cohort_id)
    endpoint = {group_changes.PLAN: ".plan", group_changes.REPAIR: ".repair",
                group_changes.MOVE: ".move"}[preview.action]
    return render_template("groups/confirm.html", cohort=cohort, preview=preview,
                           stale=stale,
                           action=url_for(endpoint, cohort_id=cohort_id)), 200


@bp.post("/move")
@requires(Role.FACILITATOR, cohort_access=True)
def move(cohort_id: int):
    """Move a person to another group of a rotation, or to a new group of their own; asks
    first, like planning again, when people told their groups would get a new partner."""
    form = MoveForm()
    return _change(cohort_id, form, group_changes.MOVE, 0, lambda: group_changes.Move(
        form.person.data, form.target(), form.rotation.data))


@bp.post("/rules")
@requires(Role.FACILITATOR, cohort_access=True)
def add_rule(cohort_id: int):
    """Lock a pair together or forbid it, for one grouping or all."""
    form = PairRuleForm()
    set_rule = services.lock_pair if form.kind.data == "together" else services.forbid_pair
    return _act(cohort_id, form, lambda session: _checked(set_rule(
        session, cohort_id, form.first.data, form.second.data, form.scope.data or "")))


@bp.post("/rules/drop")
@requires(Role.FACILITATOR, cohort_access=True)
def drop_rule(cohort_id: int):
    """Drop a lock or a ban; the groups are checked again without it."""
    form = DropRuleForm()
    return _act(cohort_id, form, lambda session: _checked(services.remove_rule(
        session, cohort_id, form.first.data, form.second.data, form.scope.data or "")))
