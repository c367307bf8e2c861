"""--since / --until parsing: durations, dates (UTC) and date-times."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from compliance.durations import parse_duration, parse_since, parse_until

NOW = datetime(2026, 11, 5, 14, 30, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("text", "delta"),
    [
        ("7d", timedelta(days=7)),
        ("12h", timedelta(hours=12)),
        ("90m", timedelta(minutes=90)),
        ("2w", timedelta(weeks=2)),
        ("30s", timedelta(seconds=30)),
        (" 7D ", timedelta(days=7)),
    ],
)
def test_durations(text, delta):
    assert parse_duration(text) == delta
    assert parse_since(text, NOW) == NOW - delta
    assert parse_until(text, NOW) == NOW + delta


def test_dates_are_utc_midnights_and_until_a_date_lasts_through_it():
    assert parse_since("2026-11-01", NOW) == datetime(2026, 11, 1, tzinfo=timezone.utc)
    assert parse_until("2026-12-31", NOW) == datetime(2027, 1, 1, tzinfo=timezone.utc)


def test_date_times_keep_their_offset_and_naive_ones_are_utc():
    assert parse_since("2026-11-01T09:00:00+02:00", NOW) == datetime(
        2026, 11, 1, 7, tzinfo=timezone.utc
    )
    assert parse_since("2026-11-01T09:00:00Z", NOW) == datetime(2026, 11, 1, 9, tzinfo=timezone.utc)
    assert parse_until("2026-11-01T09:00", NOW) == datetime(2026, 11, 1, 9, tzinfo=timezone.utc)


@pytest.mark.parametrize("bad", ["7", "d", "7 days", "-7d", "1.5h", "2026-13-01", "yesterday", ""])
def test_bad_values_are_refused(bad):
    with pytest.raises(ValueError, match="7d"):
        parse_since(bad, NOW)
    with pytest.raises(ValueError):
        parse_duration(bad)
