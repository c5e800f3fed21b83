"""Buddy check-ins: did the pairs of the buddy scheme meet, round by round?

After each buddy exchange task (one *round*: `buddy-exchange@workshop-1`, ...) every
participant may answer "did you meet your buddy?" with met, not yet or we could not. A pair
(or group of three) is counted once per round, from what its members answered:

- **met** when at least one member says they met (a meeting takes two; one "yes" is enough,
  and a member who forgot to answer does not undo it);
- else **could_not** when at least one says they could not;
- else **not_yet** when at least one says not yet;
- else **no_answer**.

The report's figure per round is "pairs who met of the pairs with an answer", a share of a
sample (its Wilson interval) with n = the pairs with an answer; pairs without any answer are
not counted as not met, because silence says nothing about whether they met. The facilitator
sees the pairs whose status is not met, to follow up or repair them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

MET, NOT_YET, COULD_NOT, NO_ANSWER = "met", "not_yet", "could_not", "no_answer"
ANSWERS = (MET, NOT_YET, COULD_NOT)


def pair_status(answers: Iterable[str]) -> str:
    """One pair's status in one round from its members' answers (see the module)."""
    given = set(answers)
    for status in (MET, COULD_NOT, NOT_YET):
        if status in given:
            return status
    return NO_ANSWER


@dataclass(frozen=True)
class RoundCount:
    """One round's pairs: how many there are, how many answered, how many met."""

    key: str
    pairs: int
    answered: int  # pairs with at least one answer
    met: int
    could_not: int
    not_yet: int


def count_round(key: str, pairs: Sequence[Sequence[int]],
                answers: Mapping[int, str]) -> RoundCount:
    """Count one round: `pairs` lists each pair's member ids, `answers` maps a participant id
    to their answer in this round. Groups of one (nobody to meet) are not pairs."""
    statuses = [pair_status(answers[p] for p in members if p in answers)
                for members in pairs if len(members) >= 2]
    return RoundCount(key, len(statuses), sum(s != NO_ANSWER for s in statuses),
                      statuses.count(MET), statuses.count(COULD_NOT), statuses.count(NOT_YET))
