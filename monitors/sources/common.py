"""Small helpers the platform sources share: timestamps, link text, error bodies.

Kept apart from :mod:`monitors.sources.base` (the interface) so that the interface
stays a contract and this stays a toolbox.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

import httpx

from compliance.timeparse import timestamp_or_none
from monitors.errors import Malformed
from monitors.sources.base import SourceSettings

# ISO 8601 as the platforms write it: 'Z' or an offset with or without a colon
# (Graph API: +0000), and any number of fraction digits (Bluesky's createdAt is
# client-written; Mastodon sends 3, some clients 6 or 9). Python 3.10's
# fromisoformat reads none of the first two and only 3 or 6 fraction digits.


def iso_utc(value: object) -> str | None:
    """``value`` (an ISO 8601 string, or epoch seconds/milliseconds) as ``YYYY-MM-DDTHH:MM:SSZ``
    in UTC, read by the one timestamp parser (:mod:`compliance.timeparse`).

    None when it is missing or unreadable: a post with an odd timestamp is still
    checked, it just has no date (the run then treats it as recent). A time without
    an offset is UTC: the platforms all mean UTC when they omit it.
    """
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        return None
    try:
        moment = timestamp_or_none(value.strip() if isinstance(value, str) else value)
    except (OverflowError, OSError):
        return None
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ") if moment is not None else None


def error_body(response: httpx.Response) -> Any:
    """The parsed JSON of an error response, or None when it is not JSON (an HTML error page).

    Error bodies are read tolerantly: the status decides the failure, the body only
    refines it, so an unreadable one must not hide the status behind a parse error.
    """
    try:
        return response.json()
    except (ValueError, UnicodeDecodeError):
        return None


def require_dict(value: Any, what: str, *, platform: str, target: str | None) -> dict[str, Any]:
    """``value`` when it is a JSON object, else :class:`Malformed` naming ``what``."""
    if not isinstance(value, dict):
        raise Malformed(f"expected an object for {what}", platform=platform, target=target)
    return value


def page_size(settings: SourceSettings, default: int, maximum: int) -> int:
    """Items per request: the configured page size within the platform's limits."""
    size = settings.page_size or default
    return max(1, min(int(size), maximum))


def base_url(url: str | None, default: str) -> str:
    """A configured base URL (or the platform's default) without its trailing slash."""
    return (url or default).rstrip("/")


_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*://", re.IGNORECASE)
_ELLIPSIS = ("…", "...")


def _link_key(text: str) -> str:
    text = _SCHEME.sub("", text.strip()).lower()
    text = text.removeprefix("www.")
    return text.rstrip("/")


def link_text(visible: str, href: str | None) -> str:
    """A link as caption text: what the audience sees, plus the target when that is shortened.

    Platforms show long links shortened ("example.com/very/lo…") or behind other
    words ("my code here"). The audience reads the visible text, so it stays in
    place; the full address follows in parentheses because the engine needs the
    real domain and query (affiliate domains, promo codes in ``?code=``), which the
    shortened text hides. A visible text that already is the address (scheme and
    ``www.`` aside) is left alone, so ordinary links do not double.
    """
    if not href or not _SCHEME.match(href):
        return visible
    shown = visible.strip()
    for mark in _ELLIPSIS:
        if shown.endswith(mark):
            return f"{visible} ({href})"
    if _link_key(shown) == _link_key(href):
        return visible
    return f"{visible} ({href})"


def one_line(value: object, limit: int = 200) -> str:
    """A platform's error text made safe for a one-line message."""
    text = " ".join(str(value).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def header_json(headers: Mapping[str, str], name: str) -> Any:
    """A header holding JSON (Graph API usage headers), or None."""
    value = headers.get(name)
    if not value:
        return None
    try:
        return json.loads(value)
    except ValueError:
        return None
