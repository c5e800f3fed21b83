"""Buddy pairs and project teams: constraint-aware, over several rotations, repairable.

Input: participants (`Person`), the programme's grouping (`GroupingSpec`), the pairs that have
been together before (`history`, as past groups) and the facilitator's hard rules (`Rules`).
Output: a `Grouping` per rotation with a per-group explanation in the cohort's language, a
score, the soft goals that could not be met and any hard rule that could not be kept.

Hard constraints (never traded for soft goals):
- sizes: the participants are split into as-even-as-possible groups. Buddies: as many groups
  of the smallest size as possible, so pairs become one trio when the count is odd. Teams: the
  number of groups nearest to n / middle size, sizes within the range.
- locked pairs are in the same group; forbidden pairs are never in the same group.

Soft goals and the score. Every grouping is judged by checks, each met or not, weighted by
`Weights`:
- mix: for every two members of a group and every `mix` attribute, different values (an
  unknown value never counts as the same);
- fresh: for every two members of a group, not together before (only when there is history;
  pairs locked together are exempt);
- roles: for every group and every required role, some member has it;
- balance: for every group, `balance` attribute and value, the group's count of that value is
  within floor/ceil of its fair share (its count in the cohort x group size / n).
penalty = sum of weights of failed checks; score = 100 x (1 - penalty / sum of all weights).
100 means every soft goal is met. The checks depend only on the group sizes, which are fixed
by n, so a higher score is exactly a lower penalty.

Roles: a programme role such as `leder` is matched case-insensitively anywhere in the
participant's role text ('Afdelingsleder, akutteam' has `leder`); an entry may list
alternatives as `ledelseskraft|leder|chef` (the first word is the role's name). A participant
may have several roles or none; people with none count for no role.

Method: deal people round-robin in an order that spreads rare roles and organisations, then
local search (swap two people between groups, move a person between groups of neighbouring
sizes) scored incrementally, with iterated random kicks on small cohorts. Repeats across
rotations are avoided by planning rotations in order, each seeing the earlier ones as history.
Everything random comes from one `random.Random(seed)`: same input and seed, same groups.

Modules: `spec` (what is asked, sizes, roles), `result` (what comes out), `context` (people as
the search's ints), `forming` (`plan`), `judging` (`evaluate`, and the judge every grouping
goes through), `repairing` (`repair`), `changes` (`partner_changes`: who gets a new
partner); the search itself is `costs` and `search`, the wording `text`.
"""

from .changes import PartnerChange, changed_people, partner_changes
from .context import Pair
from .forming import PATIENCE, plan, search_effort
from .judging import evaluate
from .repairing import repair
from .result import Group, Grouping, Repair, Rotation, RotationRepair, Violation
from .spec import (
    KINDS,
    GroupingError,
    GroupingSpec,
    Person,
    Rules,
    Weights,
    allowed_counts,
    attribute_value,
    can_group,
    group_sizes,
    person_roles,
    size_bounds,
)

__all__ = [
    "Grouping", "GroupingError", "GroupingSpec", "Group", "Person", "Repair", "Rotation",
    "RotationRepair", "Rules", "Violation", "Weights", "allowed_counts", "can_group",
    "PartnerChange", "changed_people", "partner_changes",
    "evaluate", "group_sizes", "person_roles", "plan", "repair", "size_bounds",
    # also importable from here, as before the split:
    "KINDS", "PATIENCE", "Pair", "attribute_value", "search_effort",
]
