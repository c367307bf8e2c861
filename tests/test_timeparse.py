"""The one timestamp parser and the one excerpt function."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from compliance.durations import parse_since
from compliance.excerpt import excerpt
from compliance.store.observed import parse_posted_at
from compliance.timeparse import iso_or_none, parse_timestamp, timestamp_or_none

UTC = timezone.utc
T = datetime(2021, 8, 17, 19, 0, 42, tzinfo=UTC)


@pytest.mark.parametrize(
    "value",
    [
        "2021-08-17T19:00:42Z",
        "2021-08-17T19:00:42z",
        "2021-08-17T19:00:42+0000",
        "2021-08-17T19:00:42+00:00",
        "2021-08-17T21:00:42+0200",
        "2021-08-17T14:00:42-05:00",
        "2021-08-17 19:00:42",
        "2021-08-17T19:00:42",
        1629226842,
        1629226842000,
        1629226842.0,
    ],
)
def test_every_shape_is_the_same_aware_utc_instant(value):
    parsed = parse_timestamp(value)
    assert parsed == T and parsed.tzinfo is UTC


def test_fractional_seconds_of_any_length():
    assert parse_timestamp("2021-08-17T19:00:42.5Z").microsecond == 500000
    assert parse_timestamp("2021-08-17T19:00:42.123456789+0000").microsecond == 123456


@pytest.mark.parametrize("bad", ["yesterday", "", "2021-13-01T00:00:00Z", True])
def test_bad_values(bad):
    with pytest.raises(ValueError):
        parse_timestamp(bad)
    assert timestamp_or_none(bad) is None


def test_iso_or_none_keeps_the_offset_as_written():
    assert iso_or_none("2021-08-17T21:00:42+0200") == "2021-08-17T21:00:42+02:00"
    assert iso_or_none("2021-08-17T19:00:42") == "2021-08-17T19:00:42"
    assert iso_or_none("nope") is None


def test_store_and_durations_use_it():
    assert parse_posted_at("2021-08-17T19:00:42+0000") == T
    assert parse_since("2021-08-17T19:00:42+0000", T) == T


def test_excerpt_whole_text_and_one_line():
    text = "first line\n" + "x" * 50 + "#sp" + "y" * 50 + "\nlast"
    start = text.index("#sp")
    whole = excerpt(text, (start, start + 3), 5)
    assert (whole.before, whole.marked, whole.after) == ("…xxxxx", "#sp", "yyyyy…")
    line = excerpt(text, (start, start + 3), 100, one_line=True)
    assert line.before == "x" * 50 and line.after == "y" * 50  # cut at the line, no "…"
    assert excerpt("ab\ncd", (1, 1), 3, one_line=True).marked == "b"  # at least one character
    assert excerpt("short", None, 40).before == "short"
    assert excerpt("z" * 100, None, 10).before == "z" * 20 + "…"
