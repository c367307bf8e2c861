"""The helpers the platform sources share: timestamps and link text."""

from __future__ import annotations

import pytest

from monitors.sources.base import SourceSettings
from monitors.sources.common import iso_utc, link_text, page_size


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2021-08-17T19:00:42+0000", "2021-08-17T19:00:42Z"),  # Graph API: no colon
        ("2026-11-12T17:10:44.123Z", "2026-11-12T17:10:44Z"),  # Bluesky / Mastodon
        ("2026-11-12T17:10:44.1234567Z", "2026-11-12T17:10:44Z"),  # 7 fraction digits
        ("2026-11-12T15:00:06+00:00", "2026-11-12T15:00:06Z"),
        ("2026-11-12T20:30:00+05:30", "2026-11-12T15:00:00Z"),
        ("2026-11-12T01:00:00-03:00", "2026-11-12T04:00:00Z"),
        ("2026-11-12T17:10:44", "2026-11-12T17:10:44Z"),  # no offset: UTC
        ("2026-11-12 17:10", "2026-11-12T17:10:00Z"),
        (1794503049, "2026-11-12T17:04:09Z"),  # epoch seconds
        ("2026-02-30T00:00:00Z", None),
        ("yesterday", None),
        ("", None),
        (None, None),
        (True, None),
    ],
)
def test_iso_utc(value: object, expected: str | None) -> None:
    assert iso_utc(value) == expected


@pytest.mark.parametrize(
    ("visible", "href", "expected"),
    [
        ("youtu.be/dSX7Rr4KjwM", "https://youtu.be/dSX7Rr4KjwM", "youtu.be/dSX7Rr4KjwM"),
        ("https://www.glowlab.com/", "https://glowlab.com", "https://www.glowlab.com/"),
        (
            "glowlab.com/serum…",
            "https://glowlab.com/serum?code=MAYA15",
            "glowlab.com/serum… (https://glowlab.com/serum?code=MAYA15)",
        ),
        ("my shop", "https://glowlab.com/?ref=mara", "my shop (https://glowlab.com/?ref=mara)"),
        ("javascript", "javascript:alert(1)", "javascript"),  # not a web address
        ("no link", None, "no link"),
        ("relative", "/tags/ad", "relative"),
    ],
)
def test_link_text(visible: str, href: str | None, expected: str) -> None:
    assert link_text(visible, href) == expected


def test_page_size_stays_within_the_platform_limits() -> None:
    assert page_size(SourceSettings(), 25, 100) == 25
    assert page_size(SourceSettings(page_size=500), 25, 100) == 100
    assert page_size(SourceSettings(page_size=0), 25, 100) == 25
    assert page_size(SourceSettings(page_size=-3), 25, 100) == 1
