"""English is the source language: its catalog says each message as written (msgstr = msgid).

Run by `make translations` after `pybabel update`, so new English strings never count as
untranslated; Danish and Norwegian entries must be translated by hand.
"""

from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po


def fill(path: Path) -> int:
    with path.open("rb") as handle:
        catalog = read_po(handle)
    filled = 0
    for message in catalog:
        if not message.id:
            continue
        # The source text itself; this also replaces fuzzy guesses made by `pybabel update`.
        if message.string != message.id or message.fuzzy:
            message.string = message.id
            message.flags.discard("fuzzy")
            filled += 1
    with path.open("wb") as handle:
        write_po(handle, catalog, sort_output=True, width=100)
    return filled


if __name__ == "__main__":
    target = Path(sys.argv[1] if len(sys.argv) > 1
                  else "cohort/translations/en/LC_MESSAGES/messages.po")
    print(f"{target}: {fill(target)} message(s) filled from their English source")
