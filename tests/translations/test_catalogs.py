"""The da, nb and en catalogs: complete, not fuzzy, compiled, and in step with the sources."""

from __future__ import annotations

import io
from gettext import GNUTranslations

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from tests.fixtures.paths import REPO

TRANSLATIONS = REPO / "cohort" / "translations"
LOCALES = ("da", "nb", "en")
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "lazy_gettext": None,
            "lazy_ngettext": (1, 2)}


# Emails are rendered outside requests, in the recipient's language, from their own domain.
DOMAINS = {
    "messages": [("cohort/mail/render.py", "ignore"), ("templates/emails/**", "ignore"),
                 ("cohort/**.py", "python"), ("templates/**.html", "jinja2")],
    "emails": [("cohort/mail/render.py", "python"), ("templates/emails/**", "jinja2")],
}
JINJA_OPTIONS = {"templates/emails/**": {"trim_blocks": "true", "lstrip_blocks": "true"}}


def _catalog(locale: str, domain: str = "messages"):
    with (TRANSLATIONS / locale / "LC_MESSAGES" / f"{domain}.po").open("rb") as handle:
        return read_po(handle, locale=locale)


def _source_messages(domain: str = "messages") -> set:
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
            REPO, method_map=DOMAINS[domain], options_map=JINJA_OPTIONS, keywords=KEYWORDS):
        found.add(message if isinstance(message, str) else tuple(message))
    return found


@pytest.mark.parametrize("locale, domain", [(locale, "messages") for locale in LOCALES]
                         + [("da", "emails"), ("nb", "emails")])
def test_catalog_is_complete_and_not_fuzzy(locale, domain):
    catalog = _catalog(locale, domain)
    assert not catalog.fuzzy, f"{locale}: the catalog header is marked fuzzy"
    problems = []
    for message in catalog:
        if not message.id:
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if not all(strings):
            problems.append(f"untranslated: {message.id!r}")
        if message.fuzzy:
            problems.append(f"fuzzy: {message.id!r}")
        if locale == "en" and message.string != message.id:
            problems.append(f"English is the source language: {message.id!r} became "
                            f"{message.string!r}")
    for message, errors in catalog.check():  # placeholders must match the source
        problems.extend(f"{message.id!r}: {error}" for error in errors)
    assert problems == [], f"{locale}: run `make translations` and translate"


def _compiled_messages(handle) -> dict:
    """The translations a .mo file holds, without its header entry.

    The header (the empty msgid) carries `Generated-By: Babel x.y`, which says which Babel
    version compiled the file, not what the product shows; comparing it would make the test
    fail on every Babel release. Everything a user can see is in the other entries.
    """
    catalog = dict(GNUTranslations(handle)._catalog)
    catalog.pop("", None)
    return catalog


@pytest.mark.parametrize("locale", LOCALES)
def test_compiled_catalog_matches_the_po_file(locale):
    """The committed .mo is what `make translations` compiles from the .po (fresh clone: da)."""
    buffer = io.BytesIO()
    write_mo(buffer, _catalog(locale))
    buffer.seek(0)
    expected = _compiled_messages(buffer)
    with (TRANSLATIONS / locale / "LC_MESSAGES" / "messages.mo").open("rb") as handle:
        committed = _compiled_messages(handle)
    assert committed == expected, f"{locale}: messages.mo is stale; run `make translations`"


@pytest.mark.parametrize("domain, locales", [("messages", LOCALES), ("emails", ("da", "nb"))])
def test_catalogs_hold_exactly_the_strings_in_the_sources(domain, locales):
    in_sources = _source_messages(domain)
    for locale in locales:
        in_catalog = {m.id for m in _catalog(locale, domain) if m.id}
        assert sorted(map(str, in_sources - in_catalog)) == [], f"{locale}: new strings missing"
        assert sorted(map(str, in_catalog - in_sources)) == [], f"{locale}: strings no longer used"
