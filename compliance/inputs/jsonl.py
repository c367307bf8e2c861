"""JSON Lines: one post record per line, read and validated one line at a time."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping

from compliance.inputs.instagram import INSTAGRAM_MARKERS, instagram_items
from compliance.inputs.records import InputError, InputFormatError, post_from_record
from compliance.model import Post


def _json_line_error(line: str, err: ValueError) -> str:
    """The message for a JSON Lines line that does not decode (comments get their own)."""
    stripped = line.lstrip()
    if stripped.startswith(("//", "#")):
        return "comment lines are not allowed in JSON Lines (put notes in a 'notes' field)"
    if isinstance(err, json.JSONDecodeError):
        # json's own message for some errors already ends in "at" ("Invalid control
        # character at"): don't say it twice.
        return f"invalid JSON: {err.msg.removesuffix(' at')} at column {err.colno}"
    return f"invalid JSON: {err}"


def read_jsonl(
    lines: Iterable[str],
    bad_lines: Mapping[int, str],
    name: str,
    platform: str | None,
    jurisdiction: str | None,
    close: Callable[[], None] | None = None,
) -> Iterator[Post | InputError]:
    """Posts from JSON Lines, one line at a time; ``bad_lines`` are lines that were not UTF-8."""
    decode = json.JSONDecoder().decode  # skips json.loads' per-call argument checks
    try:
        for number, line in enumerate(lines, 1):
            if not line or line.isspace():
                continue
            where = f"{name}:{number}"
            if bad_lines and number in bad_lines:
                yield InputError(where, bad_lines[number])
                continue
            try:
                record = decode(line)
            except ValueError as err:
                yield InputError(where, _json_line_error(line, err))
                continue
            except RecursionError:
                yield InputError(where, "invalid JSON: nested too deeply")
                continue
            try:
                yield post_from_record(
                    record,
                    where=where,
                    default_platform=platform,
                    default_jurisdiction=jurisdiction,
                )
            except InputFormatError as err:
                # A line holding an Instagram object (a scraper's dump) is read as one.
                if isinstance(record, dict) and not INSTAGRAM_MARKERS.isdisjoint(record):
                    yield from instagram_items(record, where, jurisdiction)
                else:
                    yield InputError(err.where, err.message)
    finally:
        if close is not None:
            close()
