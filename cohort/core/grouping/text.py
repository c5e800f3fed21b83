"""The words of groupings in the cohort's language (da, nb, en): explanations, unmet goals,
violations.

Kept in the core, next to the grouping that produces the facts, because explanations are
stored with the groups and printed by the CLI and emails without a request or a Flask locale.
"""

from __future__ import annotations

from collections.abc import Sequence

PHRASES: dict[str, dict[str, str]] = {
    # explanations of one group
    "different": {"da": "forskellige {label}", "nb": "ulike {label}", "en": "different {label}"},
    "same_org": {"da": "{count} fra {value}", "nb": "{count} fra {value}",
                 "en": "{count} from {value}"},
    "same_value": {"da": "{count} med {label_one} {value}", "nb": "{count} med {label_one} {value}",
                   "en": "{count} with {label_one} {value}"},
    "first_time": {"da": "første gang sammen", "nb": "første gang sammen",
                   "en": "first time together"},
    "met_before": {"da": "{names} har været sammen før", "nb": "{names} har vært sammen før",
                   "en": "{names} have been together before"},
    "has_roles": {"da": "har {roles}", "nb": "har {roles}", "en": "has {roles}"},
    "lacks_roles": {"da": "mangler {roles}", "nb": "mangler {roles}", "en": "lacks {roles}"},
    "uneven": {"da": "skæv fordeling af {label}", "nb": "skjev fordeling av {label}",
               "en": "uneven share of {label}"},
    "kept_together": {"da": "holdt sammen efter ønske", "nb": "holdt sammen etter ønske",
                      "en": "kept together as requested"},
    # soft goals a rotation could not meet
    "unmet_mix": {
        "da": "{count} af {groups} grupper har flere med samme {label_one}",
        "nb": "{count} av {groups} grupper har flere med samme {label_one}",
        "en": "{count} of {groups} groups have several members with the same {label_one}",
    },
    "unavoidable": {
        "da": "uundgåeligt: {value} har {count} af {total} deltagere og der er {groups} grupper",
        "nb": "uunngåelig: {value} har {count} av {total} deltakere og det er {groups} grupper",
        "en": "unavoidable: {value} has {count} of {total} participants and there are "
              "{groups} groups",
    },
    "unmet_fresh": {"da": "{count} par har været sammen før",
                    "nb": "{count} par har vært sammen før",
                    "en": "{count} pairs have been together before"},
    "unmet_role": {
        "da": "{count} af {groups} grupper mangler {role} ({holders} deltagere har rollen)",
        "nb": "{count} av {groups} grupper mangler {role} ({holders} deltakere har rollen)",
        "en": "{count} of {groups} groups lack {role} ({holders} participants have that role)",
    },
    "unmet_balance": {
        "da": "{count} af {groups} grupper har skæv fordeling af {label}",
        "nb": "{count} av {groups} grupper har skjev fordeling av {label}",
        "en": "{count} of {groups} groups have an uneven share of {label}",
    },
    "no_role_match": {
        "da": "{count} deltagere har ingen af rollerne {roles}",
        "nb": "{count} deltakere har ingen av rollene {roles}",
        "en": "{count} participants have none of the roles {roles}",
    },
    # hard rules broken
    "v_size": {"da": "gruppe {number} har {size} medlemmer; tilladt er {low}-{high}",
               "nb": "gruppe {number} har {size} medlemmer; tillatt er {low}-{high}",
               "en": "group {number} has {size} members; allowed is {low}-{high}"},
    "v_count": {"da": "{count} grupper; {total} deltagere skal være i {expected} grupper",
                "nb": "{count} grupper; {total} deltakere skal være i {expected} grupper",
                "en": "{count} groups; {total} participants should be in {expected} groups"},
    "v_apart": {"da": "{names} må ikke være i samme gruppe (gruppe {number})",
                "nb": "{names} skal ikke være i samme gruppe (gruppe {number})",
                "en": "{names} must not be in the same group (group {number})"},
    "v_together": {"da": "{names} skal være i samme gruppe",
                   "nb": "{names} skal være i samme gruppe",
                   "en": "{names} must be in the same group"},
    "v_ungrouped": {"da": "{name} er ikke i nogen gruppe", "nb": "{name} er ikke i noen gruppe",
                    "en": "{name} is in no group"},
    "v_duplicate": {"da": "{name} er i flere grupper", "nb": "{name} er i flere grupper",
                    "en": "{name} is in several groups"},
    "v_unknown": {"da": "{name} er ikke deltager på holdet",
                  "nb": "{name} er ikke deltaker på kullet",
                  "en": "{name} is not a participant of the cohort"},
}

LABELS: dict[str, dict[str, tuple[str, str]]] = {
    # attribute -> language -> (one, many)
    "organisation": {"da": ("organisation", "organisationer"),
                     "nb": ("organisasjon", "organisasjoner"),
                     "en": ("organisation", "organisations")},
    "role": {"da": ("rolle", "roller"), "nb": ("rolle", "roller"), "en": ("role", "roles")},
    "language": {"da": ("sprog", "sprog"), "nb": ("språk", "språk"),
                 "en": ("language", "languages")},
}
AND = {"da": "og", "nb": "og", "en": "and"}


def _lang(language: str) -> str:
    return language if language in AND else "en"


def say(language: str, key: str, **values: object) -> str:
    return PHRASES[key][_lang(language)].format(**values)


def label(language: str, attribute: str, plural: bool = True) -> str:
    words = LABELS.get(attribute, {}).get(_lang(language))
    if words is None:
        return attribute
    return words[1] if plural else words[0]


def join(language: str, items: Sequence[str]) -> str:
    """'a', 'a og b', 'a, b og c' (no Oxford comma in da/nb; en keeps it plain too)."""
    items = list(items)
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} {AND[_lang(language)]} {items[-1]}"
