"""Escaping for where attacker-controlled text goes: terminals and spreadsheets.

Captions, handles and brand names come from creators and scrapers; every output
passes them through the function for its medium. Shared by the report writers,
the CLI and the store's exports, so it depends on nothing.
"""

from __future__ import annotations

import re

# C0/C1 controls (except tab and newline, handled separately), DEL, and the
# bidirectional overrides that can make a terminal line read differently from
# its bytes ("Trojan Source").
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def terminal_safe(text: str) -> str:
    """Text that cannot move the cursor, recolour or reorder a terminal line."""
    return _UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def csv_safe(value: object) -> object:
    """A cell that a spreadsheet will not run as a formula (OWASP CSV injection)."""
    if isinstance(value, str) and value and value[0] in "=+-@\t\r|%":
        return "'" + value
    return value
