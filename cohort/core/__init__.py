"""Pure core: plain functions on plain data. No Flask, no database session.

One piece of wiring lives here because it must be in place before any template is read.
`programme` (the template schema, its checks, loading) is the layer `planning` builds on, so
it may not import `planning`; yet one template check needs a trial plan: no task may fall due
before it is released. `planning` provides that check and it is handed to the programme
checks here, which Python runs before any `cohort.core.*` module is used.
"""

from .planning import check_due_after_release
from .programme.checks import add_plan_check

add_plan_check(check_due_after_release)
