"""Errors the services raise and the edges translate (CLI: a clear message; web: 404)."""


class NotFound(LookupError):
    """A cohort, meeting or participant that does not exist (the web turns this into 404)."""
