"""Hypothesis for the property tests: the same examples on every CI run, a wider hunt on demand.

Profiles (chosen by HYPOTHESIS_PROFILE, else `ci` when CI=true, else `dev`):
- `ci`: derandomized (each test draws the same examples on every run) and no example database,
  so a commit is green or red for good; `make test` uses it too.
- `dev`: random examples, remembered failures (Hypothesis's local database) — plain `pytest`.
- `fuzz`: random examples, many more of them (`make fuzz`). A failure found while hunting is
  written back into the test as an explicit `@example`, so every run checks it from then on.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
settings.register_profile("dev", print_blob=True)
settings.register_profile("fuzz", print_blob=True)

# How many times more examples each property test draws; `make fuzz` raises it.
FUZZ_FACTOR = max(1, int(os.environ.get("COHORT_FUZZ_FACTOR", "1")))


def load_profile() -> str:
    ci = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
    name = os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if ci else "dev")
    settings.load_profile(name)
    return name


def property_settings(max_examples: int, **extra) -> settings:
    """Settings for one property test: its usual number of examples, scaled when hunting."""
    return settings(max_examples=max_examples * FUZZ_FACTOR, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow], **extra)
