"""Public holidays by country, the one place the `holidays` package is asked.

Planning warns when a meeting or a deadline falls on a public holiday, and the web names the
holiday in the reader's language; both come here. The package is imported on first use, so
loading the core does not pay for its (large) country tables.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from functools import lru_cache

_COUNTRY_BY_ZONE = {"Europe/Copenhagen": "DK", "Europe/Oslo": "NO"}
_COUNTRY_BY_LANGUAGE = {"da": "DK", "nb": "NO"}

# The languages the holidays package names Danish and Norwegian holidays in.
HOLIDAY_LANGUAGES = {"da": "da", "nb": "no", "en": "en_US"}


def holiday_country(timezone: str, language: str) -> str | None:
    """Whose public holidays matter: the cohort's zone decides, else its language."""
    return _COUNTRY_BY_ZONE.get(timezone) or _COUNTRY_BY_LANGUAGE.get(language)


def public_holidays(country: str, years: Iterable[int],
                    language: str = "en_US") -> dict[date, str]:
    """Date -> holiday name for `country` ("DK", "NO", ...) in `years`; empty for a country
    the package does not know. `language` is the package's code ("da", "no", "en_US"); a
    language it lacks for that country falls back to the country's default names."""
    found: dict[date, str] = {}
    for year in sorted(set(years)):
        found.update(_year(country, year, language))
    return found


@lru_cache(maxsize=128)
def _year(country: str, year: int, language: str) -> dict[date, str]:
    import holidays  # lazily: see the module docstring

    try:
        table = holidays.country_holidays(country, years=year, language=language)
    except NotImplementedError:  # unknown country
        return {}
    return dict(table.items())


def days_off(country: str, years: Iterable[int]) -> dict[date, str]:
    """`public_holidays` plus the days most workplaces close anyway where the package knows
    them (its "optional" category; Denmark: Christmas Eve, New Year's Eve, Constitution Day,
    1 May): dates a generated plan (the demo) keeps meetings off."""
    found: dict[date, str] = {}
    for year in sorted(set(years)):
        found.update(_year_with_days_off(country, year))
    return found


@lru_cache(maxsize=128)
def _year_with_days_off(country: str, year: int) -> dict[date, str]:
    import holidays  # lazily: see the module docstring

    try:
        supported = holidays.country_holidays(country).supported_categories
    except NotImplementedError:  # unknown country
        return {}
    categories = tuple(c for c in ("public", "optional") if c in supported)
    return dict(holidays.country_holidays(country, years=year, language="en_US",
                                          categories=categories).items())
