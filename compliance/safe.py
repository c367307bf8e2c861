"""Escaping for where attacker-controlled text goes: terminals, spreadsheets, trackers and chats.

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


# A reference sigil followed by what would make it a reference: GitHub/GitLab/Discord
# @mentions (@everyone, @here, GitLab @all), issue and merge-request refs (#123, !123),
# GitLab's ~label, %milestone, $snippet and &epic; Discord's <@123> and <@&456>.
# Hashtags (#ad) are left alone: only "#" and a digit is an issue reference.
_REFERENCE = re.compile(r"([@~%])(?=\w)|([#!$&])(?=\d)")
WORD_JOINER = "\u2060"


def defuse_references(text: str) -> str:
    r"""``text`` with a WORD JOINER (U+2060, invisible, no width) after every ``@``, ``~`` and
    ``%`` followed by a letter or digit and every ``#``, ``!``, ``$`` and ``&`` followed by a
    digit, so that pasted into GitHub, GitLab, Jira, Discord or Teams a caption's
    ``@everyone`` pings nobody and its ``#123`` or ``!45`` links no issue or merge request.

    Why a joiner and not backticks: trackers find mentions and references in the text they
    render, after Markdown and HTML entities are decoded, so escaping (``\@``, ``&#64;``)
    does not stop them; a code span would, but changes how every caption looks and needs
    its own escaping of backticks and pipes. The joiner breaks the pattern (a mention needs
    a letter or digit right after ``@``) and reads the same.
    """
    return _REFERENCE.sub(lambda m: m.group() + WORD_JOINER, text)


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
