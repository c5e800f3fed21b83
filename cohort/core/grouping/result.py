"""What a grouping comes out as: groups per rotation with explanations, score, unmet goals and
broken hard rules; and, for a repair, how much changed.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Violation:
    rotation: int
    kind: str  # size, count, apart, together, ungrouped, duplicate, unknown
    members: tuple[str, ...]
    message: str

    def as_dict(self) -> dict:
        return {"rotation": self.rotation, "kind": self.kind, "members": list(self.members),
                "message": self.message}


@dataclass(frozen=True)
class Group:
    members: tuple[str, ...]
    explanation: str
    penalty: int = 0


@dataclass(frozen=True)
class Rotation:
    rotation: int
    groups: tuple[Group, ...]
    score: float
    penalty: int
    possible: int  # the sum of the weights of all checks
    unmet: tuple[str, ...]
    violations: tuple[Violation, ...]


@dataclass(frozen=True)
class Grouping:
    rotations: tuple[Rotation, ...]

    @property
    def penalty(self) -> int:
        return sum(r.penalty for r in self.rotations)

    @property
    def score(self) -> float:
        return score_of(self.penalty, sum(r.possible for r in self.rotations))

    @property
    def violations(self) -> tuple[Violation, ...]:
        return tuple(v for r in self.rotations for v in r.violations)

    @property
    def unmet(self) -> tuple[str, ...]:
        return tuple(u for r in self.rotations for u in r.unmet)

    def members(self) -> list[list[list[str]]]:
        return [[list(g.members) for g in r.groups] for r in self.rotations]

    def as_dict(self) -> dict:
        """The CLI's JSON contract (plus `unmet`)."""
        return {
            "rotations": [{"rotation": r.rotation,
                           "groups": [{"members": list(g.members), "explanation": g.explanation}
                                      for g in r.groups]}
                          for r in self.rotations],
            "score": self.score,
            "violations": [v.as_dict() for v in self.violations],
            "unmet": list(self.unmet),
        }


@dataclass(frozen=True)
class RotationRepair:
    rotation: int
    changed_groups: int  # groups whose present members are not exactly as before
    new_partner: tuple[str, ...]  # people with at least one partner they did not have before


@dataclass(frozen=True)
class Repair:
    grouping: Grouping
    rotations: tuple[RotationRepair, ...]

    @property
    def changed_groups(self) -> int:
        return sum(r.changed_groups for r in self.rotations)

    @property
    def new_partner(self) -> tuple[str, ...]:
        return tuple(sorted({p for r in self.rotations for p in r.new_partner}))


def score_of(penalty: int, possible: int) -> float:
    return round(100.0 * (1 - penalty / possible), 2) if possible else 100.0
