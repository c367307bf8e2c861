"""Times given on the command line: ``--since 7d``, ``--since 2026-11-01``, ``--until 2026-12-31``.

Durations are strings (house convention): a whole number and a unit, ``s``
seconds, ``m`` minutes, ``h`` hours, ``d`` days, ``w`` weeks (``90m``, ``6h``,
``7d``, ``2w``). Dates are ISO-8601 and taken in UTC; a date-time without an
offset is UTC too. The clock is passed in; nothing here reads it.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta, timezone

from compliance.timeparse import timestamp_or_none

_DURATION = re.compile(r"\s*(\d+)\s*([smhdw])\s*", re.IGNORECASE)
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}

EXAMPLES = "e.g. 7d, 12h, 2w, 2026-11-01 or 2026-11-01T09:00:00Z"


def parse_duration(text: str) -> timedelta:
    """``"7d"`` → 7 days. Raises ValueError for anything else."""
    match = _DURATION.fullmatch(text)
    if not match:
        raise ValueError(f"not a duration: {text!r} (a number and s, m, h, d or w, e.g. 7d)")
    return timedelta(**{_UNITS[match.group(2).lower()]: int(match.group(1))})


def _parse_instant(text: str) -> datetime | date | None:
    """A date (``2026-11-01``) or an aware UTC date-time, or None when it is neither."""
    value = text.strip()
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            return None
    return timestamp_or_none(value)


def parse_since(text: str, now: datetime) -> datetime:
    """The start of a period: ``7d`` ago from ``now``, or a date's midnight (UTC), or a date-time."""
    try:
        return now - parse_duration(text)
    except ValueError:
        pass
    instant = _parse_instant(text)
    if isinstance(instant, datetime):
        return instant
    if isinstance(instant, date):
        return datetime.combine(instant, time(), tzinfo=timezone.utc)
    raise ValueError(f"not a time or duration: {text!r} ({EXAMPLES})")


def parse_until(text: str, now: datetime) -> datetime:
    """The end of a period, exclusive: ``30d`` from ``now``, the midnight *after* a date
    (``2026-12-31`` lasts through that day, UTC), or a date-time."""
    try:
        return now + parse_duration(text)
    except ValueError:
        pass
    instant = _parse_instant(text)
    if isinstance(instant, datetime):
        return instant
    if isinstance(instant, date):
        return datetime.combine(instant + timedelta(days=1), time(), tzinfo=timezone.utc)
    raise ValueError(f"not a time or duration: {text!r} ({EXAMPLES})")
