"""The one timestamp parser: what platforms, files and the command line write, to aware UTC.

Accepted: ISO-8601 date-times with ``Z``, ``+00:00`` or ``+0000`` (Instagram's
Graph API writes ``2021-08-17T19:00:42+0000``), fractional seconds of any
length, a space instead of ``T``; a date-time without an offset is UTC; epoch
seconds or milliseconds as numbers (instaloader, TikTok, X). Python 3.10's
``datetime.fromisoformat`` reads none of ``Z``, ``+0000`` or 2-digit fractions,
so they are rewritten first. Nothing here reads the clock.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from functools import lru_cache

# "+0000" / "-0530" at the end, not preceded by another digit run of a time.
_COMPACT_OFFSET = re.compile(r"([+-])(\d{2})(\d{2})$")
_FRACTION = re.compile(r"\.(\d+)")
# Epoch values above this are milliseconds: 1e11 seconds is the year 5138.
_MILLIS_FROM = 100_000_000_000


# A monitor run parses each post's time three times (the high-water mark, the campaign
# window, the record); datetimes are immutable, so the answers can be shared.
@lru_cache(maxsize=4096)
def _fromiso(text: str) -> datetime | None:
    """``datetime.fromisoformat`` after rewriting what it does not read on every Python."""
    value = text.strip()
    if not value:
        return None
    if value[-1:] in ("Z", "z"):
        value = value[:-1] + "+00:00"
    elif "T" in value or " " in value:
        value = _COMPACT_OFFSET.sub(r"\1\2:\3", value)
    # Pad or cut the fraction to microseconds (3.10 takes only 3 or 6 digits).
    value = _FRACTION.sub(lambda m: "." + (m.group(1) + "000000")[:6], value, count=1)
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def iso_or_none(text: str) -> str | None:
    """``text`` re-written by :meth:`datetime.isoformat` (its offset kept as written, a naive
    time left naive), or None if it is not ISO-8601. Used where a post's time is shown
    back as given (input records)."""
    parsed = _fromiso(text)
    return None if parsed is None else parsed.isoformat()


def parse_timestamp(value: str | int | float) -> datetime:
    """An aware UTC datetime from an ISO-8601 string or epoch seconds/milliseconds.

    A time without an offset is taken as UTC. Raises ValueError naming the value.
    """
    if isinstance(value, bool):
        raise ValueError(f"not a timestamp: {value!r}")
    if isinstance(value, (int, float)):
        seconds = value / 1000 if abs(value) >= _MILLIS_FROM else value
        try:
            return datetime.fromtimestamp(seconds, tz=timezone.utc)
        except (OverflowError, OSError, ValueError):
            raise ValueError(f"not a timestamp: {value!r} (out of range)") from None
    parsed = _fromiso(value) if isinstance(value, str) else None
    if parsed is None:
        raise ValueError(
            f"not an ISO-8601 date-time: {value!r} (e.g. 2026-11-02T18:04:00Z or +0000)"
        )
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=timezone.utc)
    return parsed.astimezone(timezone.utc)


def timestamp_or_none(value: str | int | float | None) -> datetime | None:
    """:func:`parse_timestamp`, or None for a missing or unreadable value."""
    if value is None or value == "":
        return None
    try:
        return parse_timestamp(value)
    except ValueError:
        return None
