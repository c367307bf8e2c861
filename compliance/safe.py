"""Escaping for where attacker-controlled text goes: terminals and spreadsheets.

Captions, handles and brand names come from creators and scrapers; every output
passes them through the function for its medium. Shared by the report writers,
the CLI and the store's exports, so it depends on nothing.
"""

from __future__ import annotations

import re

# C0/C1 controls (except tab and newline, handled separately), DEL, the
# bidirectional overrides that can make a terminal line read differently from
# its bytes ("Trojan Source"), and lone surrogates (a caption given as bytes that
# are not UTF-8, or a library caller's JSON "\\ud800"), which no UTF-8 stream can
# carry: writing one raised in the middle of a report.
_UNSAFE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff]"
)


def terminal_safe(text: str) -> str:
    """Text that cannot move the cursor, recolour or reorder a terminal line."""
    return _UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


# What a CSV cell keeps as it is: tab, newline and carriage return are part of
# multi-line captions; every other control would reach a terminal that `cat`s the file.
_CSV_UNSAFE = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]"
)


def document_safe(text: str) -> str:
    """Text for a file people open in an editor, a browser or a terminal (CSV cells, the
    HTML report): controls, bidi overrides and lone surrogates as visible escapes; tab,
    newline and carriage return kept."""
    return _CSV_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def csv_safe(value: object) -> object:
    """A cell that a spreadsheet will not run as a formula (OWASP CSV injection) and that
    cannot move the cursor or recolour a terminal that shows the file."""
    if not isinstance(value, str) or not value:
        return value
    value = document_safe(value)
    if value[0] in "=+-@\t\r|%":
        return "'" + value
    return value


_SURROGATE = re.compile("[\ud800-\udfff]")


def lone_surrogate(text: str) -> int | None:
    """The index of the first lone surrogate in ``text`` (not valid Unicode: it cannot be
    stored or hashed as UTF-8; JSON exports carry them as "\\ud800"), else None."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        return exc.start
    return None


def json_safe(document: str) -> str:
    """A JSON document (as ``json.dumps(..., ensure_ascii=False)`` writes it) that a UTF-8
    stream can carry: each lone surrogate written as its escape ("\\udcff"), which JSON
    allows and every parser reads back as the same string."""
    if lone_surrogate(document) is None:
        return document
    return _SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", document)


def scrub_surrogates(text: str) -> str:
    """``text`` with each lone surrogate replaced by U+FFFD (for text a platform sent us)."""
    return text if lone_surrogate(text) is None else _SURROGATE.sub("\ufffd", text)
