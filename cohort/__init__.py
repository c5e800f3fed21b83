"""Cohort: runs blended leadership programmes end to end.

Time zones come from the `tzdata` package in the lock, never from the machine's
/usr/share/zoneinfo: meeting times, email times and the VTIMEZONE in every calendar file must
follow one version of the time-zone rules, the one CI tested (the machine's copy can be years
older or newer; Morocco's and western Canada's rules changed in 2026). `make lock` brings newer
rules.
"""

import zoneinfo

zoneinfo.reset_tzpath(to=[])
