"""The pair rules of a cohort's groupings: two participants always together or never
together, in one grouping or in all. Setting or removing a rule stores nothing else: the
groups are judged again against it and shown (a broken rule is shown as broken until the
facilitator repairs the groups, services/group_changes.py asks before that changes anyone's
partners)."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlmodel import Session

from ..models import GroupingRule, Participant
from ._lookup import get_cohort
from .grouping import (
    GroupingProblem,
    GroupsView,
    grouping_template,
    groupings,
    list_groups,
    participant_by_email,
)


def lock_pair(session: Session, cohort_id: int, email_a: str, email_b: str,
              grouping_key: str = "") -> list[GroupsView]:
    """Two participants must be in the same group (of one grouping, or all when empty)."""
    return _set_rule(session, cohort_id, "together", email_a, email_b, grouping_key)


def forbid_pair(session: Session, cohort_id: int, email_a: str, email_b: str,
                grouping_key: str = "") -> list[GroupsView]:
    """Two participants must never be in the same group (of one grouping, or all)."""
    return _set_rule(session, cohort_id, "apart", email_a, email_b, grouping_key)


def remove_rule(session: Session, cohort_id: int, email_a: str, email_b: str,
                grouping_key: str = "") -> list[GroupsView]:
    first, second = _pair_ids(session, cohort_id, email_a, email_b)
    session.execute(delete(GroupingRule).where(
        GroupingRule.cohort_id == cohort_id, GroupingRule.grouping_key == grouping_key,
        GroupingRule.first_id == first, GroupingRule.second_id == second))
    return _views_for(session, cohort_id, grouping_key)


def list_rules(session: Session, cohort_id: int) -> list[dict]:
    get_cohort(session, cohort_id)
    emails = dict(session.execute(select(Participant.id, Participant.email)
                                  .where(Participant.cohort_id == cohort_id)).all())
    rules = session.scalars(select(GroupingRule).where(GroupingRule.cohort_id == cohort_id)
                            .order_by(GroupingRule.id)).all()
    return [dict(kind=r.kind, grouping=r.grouping_key or None,
                 members=sorted([emails[r.first_id], emails[r.second_id]])) for r in rules]


def _set_rule(session: Session, cohort_id: int, kind: str, email_a: str, email_b: str,
              grouping_key: str) -> list[GroupsView]:
    """Store the rule (replacing the opposite rule for the same pair), then re-check."""
    cohort = get_cohort(session, cohort_id)
    if grouping_key:
        grouping_template(cohort, grouping_key)
    first, second = _pair_ids(session, cohort_id, email_a, email_b)
    session.execute(delete(GroupingRule).where(
        GroupingRule.cohort_id == cohort_id, GroupingRule.grouping_key == grouping_key,
        GroupingRule.first_id == first, GroupingRule.second_id == second))
    session.add(GroupingRule(cohort_id=cohort_id, grouping_key=grouping_key, kind=kind,
                             first_id=first, second_id=second))
    session.flush()
    return _views_for(session, cohort_id, grouping_key)


def _views_for(session: Session, cohort_id: int, grouping_key: str) -> list[GroupsView]:
    keys = [grouping_key] if grouping_key else [t.key for t in groupings(session, cohort_id)]
    return [list_groups(session, cohort_id, key) for key in keys]


def _pair_ids(session: Session, cohort_id: int, email_a: str, email_b: str) -> tuple[int, int]:
    a = participant_by_email(session, cohort_id, email_a).id
    b = participant_by_email(session, cohort_id, email_b).id
    if a == b:
        raise GroupingProblem("a rule needs two different participants")
    return (a, b) if a < b else (b, a)
