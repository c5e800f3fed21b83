"""Commands for buddy pairs and project teams.

    cohort groups COHORT [--grouping KEY] [--rotation N] [--json]   list (same as `show`)
    cohort groups plan COHORT [--grouping KEY] [--seed S] [--yes] [--json]
    cohort groups repair COHORT [--grouping KEY] [--seed S] [--yes] [--json]
    cohort groups move COHORT EMAIL --to N|new [--rotation N] [--grouping KEY]
    cohort groups lock|forbid|drop-rule COHORT EMAIL EMAIL [--grouping KEY]
    cohort groups rules COHORT

`--json` prints the contract: {"grouping": KEY, "rotations": [{"rotation": 1, "groups":
[{"members": [email, ...], "explanation": "..."}]}], "score": 0-100 (null before any groups),
"violations": [{"rotation", "kind", "members", "message"}], "unmet": ["..."]}.
Without --grouping, commands use the programme's first grouping.

`plan` and `repair` first print who would get a new partner when some of them were already
told their groups (the welcome or a buddy email went out), and ask; `--yes` confirms without
asking. Those people (only they) then get a short email about their new partner. With
`--json` the list of the people emailed is added as "notified" (when there are any).
"""

from __future__ import annotations

import json
from contextlib import contextmanager

import click
from flask.cli import AppGroup

from .. import db, services
from .base import cohort, engine, fail


class _GroupsCommands(AppGroup):
    """`cohort groups COHORT` lists; `cohort groups plan|repair|... COHORT` act.

    click cannot give one group both a positional argument and subcommands, so a first
    argument that names no subcommand is read as `show COHORT ...`.
    """

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ctx.help_option_names:
            args = ["show", *args]
        return super().parse_args(ctx, args)


@cohort.group("groups", cls=_GroupsCommands)
def groups() -> None:
    """Buddy pairs and project teams: `cohort groups COHORT` lists them."""


@contextmanager
def _use_case():
    """One transaction; known problems become a clear error and exit 1."""
    try:
        with db.transaction(engine()) as session:
            yield session
    except (services.NotFound, services.GroupingProblem) as exc:
        fail(str(exc))


def _grouping_option(command):
    return click.option("--grouping", "grouping_key",
                        help="grouping key (default: the programme's first)")(command)


def _json_option(command):
    return click.option("--json", "as_json", is_flag=True, help="print JSON")(command)


@groups.command("show")
@click.argument("cohort_id", type=int)
@_grouping_option
@click.option("--rotation", type=int, help="only this rotation (1, 2, ...)")
@_json_option
def show(cohort_id: int, grouping_key: str | None, rotation: int | None, as_json: bool) -> None:
    """The groups of a cohort with explanations, score, unmet goals and violations."""
    with _use_case() as session:
        view = services.list_groups(session, cohort_id, grouping_key, rotation)
        names = services.participant_names(session, cohort_id)
        others = [g.key for g in services.groupings(session, cohort_id)
                  if g.key != view.grouping_key]
    if as_json:
        _print_json(view.as_dict())
        return
    _print_view(view, names)
    if others:
        click.echo(f"Other groupings: {', '.join(others)} (use --grouping)")


@groups.command("plan")
@click.argument("cohort_id", type=int)
@_grouping_option
@click.option("--seed", type=int, default=0, show_default=True,
              help="the same seed gives the same groups")
@click.option("--yes", is_flag=True, help="change groups people were told about without asking")
@_json_option
def plan(cohort_id: int, grouping_key: str | None, seed: int, yes: bool, as_json: bool) -> None:
    """Form the groups of every rotation afresh (replaces the stored ones)."""
    _change(cohort_id, services.group_changes.PLAN, grouping_key, seed, yes, as_json)


@groups.command("repair")
@click.argument("cohort_id", type=int)
@_grouping_option
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--yes", is_flag=True, help="change groups people were told about without asking")
@_json_option
def repair(cohort_id: int, grouping_key: str | None, seed: int, yes: bool,
           as_json: bool) -> None:
    """Fit the groups to who is in the cohort now, changing as few groups as possible."""
    _change(cohort_id, services.group_changes.REPAIR, grouping_key, seed, yes, as_json)


def _change(cohort_id: int, action: str, grouping_key: str | None, seed: int, yes: bool,
            as_json: bool, move=None) -> None:
    """Plan again, repair or move; when people told their groups would get a new partner,
    print who and ask (unless --yes), then email them."""
    group_changes = services.group_changes
    with _use_case() as session:
        preview = group_changes.preview(session, cohort_id, action, grouping_key, seed,
                                        move=move)
    confirmed = None
    if preview.needs_confirmation:
        _print_changes(preview, err=as_json)
        if not yes and not click.confirm(
                f"Change the groups and email {len(preview.to_notify)} participant(s)?",
                default=False, err=as_json):
            fail("nothing was changed")
        confirmed = preview.fingerprint
    try:
        with _use_case() as session:
            result = group_changes.apply(session, cohort_id, action, preview.grouping_key,
                                         seed, move=move, confirmed=confirmed)
            names = services.participant_names(session, cohort_id)
    except group_changes.ConfirmationNeeded:
        fail("the groups or the participants changed meanwhile; nothing was changed, "
             "run the command again")
    found = result.preview
    if as_json:
        data = result.view.as_dict()
        if action == group_changes.REPAIR:
            data.update(changed_groups=found.changed_groups,
                        new_partner=list(found.new_partner))
        if result.notified:
            data["notified"] = list(result.notified)
        _print_json(data)
        return
    _print_view(result.view, names)
    if action == group_changes.REPAIR:
        people = ", ".join(names.get(e, e) for e in found.new_partner) or "nobody"
        click.echo(f"Repaired: {found.changed_groups} group(s) changed; "
                   f"{len(found.new_partner)} people get a new partner: {people}")
    if result.notified:
        click.echo(f"Emailed about their new partner: {len(result.notified)} "
                   f"({', '.join(names.get(e, e) for e in result.notified)})")


def _print_changes(preview, err: bool = False) -> None:
    """Who was told their groups and would get a new partner: person, before -> after."""
    def named(emails) -> str:
        return ", ".join(preview.names.get(e, e) for e in emails) or "(none)"

    click.echo(f"{len(preview.to_notify)} participant(s) were already told their groups in "
               f"'{preview.grouping_key}' and would get a new partner:", err=err)
    for change in preview.changes:
        mark = "email" if change.person in preview.told else "     "
        click.echo(f"  {mark}  {named([change.person])} <{change.person}> "
                   f"(rotation {change.rotation}): {named(change.before)} -> "
                   f"{named(change.after)}", err=err)


@groups.command("move")
@click.argument("cohort_id", type=int)
@click.argument("email")
@click.option("--to", "to_group", required=True, help="group number, or 'new'")
@click.option("--rotation", type=int, default=1, show_default=True)
@_grouping_option
@click.option("--yes", is_flag=True, help="email those told their groups without asking")
def move(cohort_id: int, email: str, to_group: str, rotation: int,
         grouping_key: str | None, yes: bool) -> None:
    """Move a participant to another group; when people told their groups get a new partner,
    print who and ask (unless --yes), then email them. Prints what the move breaks."""
    if to_group != "new" and not to_group.isdigit():
        fail(f"--to takes a group number or 'new', not '{to_group}'")
    target = None if to_group == "new" else int(to_group)
    _change(cohort_id, services.group_changes.MOVE, grouping_key, 0, yes, False,
            services.group_changes.Move(email, target, rotation))


@groups.command("lock")
@click.argument("cohort_id", type=int)
@click.argument("first")
@click.argument("second")
@_grouping_option
def lock(cohort_id: int, first: str, second: str, grouping_key: str | None) -> None:
    """Two participants must always be in the same group."""
    with _use_case() as session:
        views = services.lock_pair(session, cohort_id, first, second, grouping_key or "")
    _print_violations(views)


@groups.command("forbid")
@click.argument("cohort_id", type=int)
@click.argument("first")
@click.argument("second")
@_grouping_option
def forbid(cohort_id: int, first: str, second: str, grouping_key: str | None) -> None:
    """Two participants must never be in the same group."""
    with _use_case() as session:
        views = services.forbid_pair(session, cohort_id, first, second, grouping_key or "")
    _print_violations(views)


@groups.command("drop-rule")
@click.argument("cohort_id", type=int)
@click.argument("first")
@click.argument("second")
@_grouping_option
def drop_rule(cohort_id: int, first: str, second: str, grouping_key: str | None) -> None:
    """Remove the lock or ban on two participants."""
    with _use_case() as session:
        views = services.remove_rule(session, cohort_id, first, second, grouping_key or "")
    _print_violations(views)


@groups.command("rules")
@click.argument("cohort_id", type=int)
@_json_option
def rules(cohort_id: int, as_json: bool) -> None:
    """The locked and forbidden pairs of a cohort."""
    with _use_case() as session:
        found = services.list_rules(session, cohort_id)
    if as_json:
        _print_json(found)
        return
    for rule in found:
        scope = rule["grouping"] or "all groupings"
        click.echo(f"{rule['kind']:<9} {' + '.join(rule['members'])} ({scope})")


def _print_json(data) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2))


def _print_view(view: services.GroupsView, names: dict[str, str]) -> None:
    result = view.result
    if not view.planned:
        click.echo(f"{view.title} ({view.grouping_key}): no groups yet; run "
                   f"'cohort groups plan {view.cohort_id}'")
        return
    click.echo(f"{view.title} ({view.grouping_key}): score {result.score:.1f} of 100")
    for rotation, numbers in zip(result.rotations, view.numbers, strict=True):
        click.echo(f"Rotation {rotation.rotation}")
        for number, group in zip(numbers, rotation.groups, strict=True):
            people = ", ".join(f"{names.get(m, m)} <{m}>" for m in group.members)
            click.echo(f"  {number:>3}. {people}\n       {group.explanation}")
    for goal in result.unmet:
        click.echo(f"Not met: {goal}")
    _print_violations([view])


def _print_violations(views) -> None:
    for view in views:
        for violation in view.result.violations:
            click.echo(f"Violation ({view.grouping_key}, rotation {violation.rotation}): "
                       f"{violation.message}", err=True)
    if not any(view.result.violations for view in views):
        click.echo("No rule is broken.")
