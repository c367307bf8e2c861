"""The malformed-answer matrix of tests/test_faults.py: every source, every shape of bad answer.

A :class:`Source` is one way a monitor reads a listing (TikTok has two: the Display
API and the web pages; YouTube two: the Data API and RSS) and the endpoint of it
that the shapes break. A :class:`Shape` is one bad answer the platform fakes can
give (tests/fakes/server.py), and the failure kinds (monitors/errors.py) it may
become; ``OK`` means the source must read through it (an unknown extra field).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fakes import bluesky, instagram, mastodon, tiktok, x, youtube
from fakes.server import BOT_WALL, FakeServer, Fault, Loop, Response, Rewrite
from fakes.world import World

from monitors.sources.base import SourceSettings

OK = "ok"
JSON = {"content-type": "application/json; charset=utf-8"}
# A listing this size is read in a few hundred milliseconds on loopback.
HUGE = 20 * 1024 * 1024
# The clients' read timeout in the matrix, and an answer slower than it.
TIMEOUT = 0.25
SLOW = 0.5


@dataclass(frozen=True)
class Source:
    """One way of reading an account's listing, and the endpoint the shapes break."""

    name: str
    platform: str  # the fake server it talks to, and the monitor's platform
    target: str
    path: str  # regex of the listing endpoint
    settings: Callable[[str], SourceSettings]
    json: bool = True  # the endpoint answers JSON (RSS answers XML)


SOURCES = [
    Source(
        "tiktok-web",
        "tiktok",
        "@mara",
        r"/api/post/item_list/",
        lambda url: SourceSettings(api_url=url, web_url=url),
    ),
    Source(
        "tiktok-api",
        "tiktok",
        "@mara",
        r"/v2/video/list/",
        lambda url: SourceSettings(api_url=url, web_url=url, token="act.mara"),
    ),
    Source(
        "instagram",
        "instagram",
        "@mara",
        rf"/v25\.0/{instagram.OUR_ID}$",
        lambda url: SourceSettings(
            api_url=url, token=instagram.GOOD_TOKEN, user_id=instagram.OUR_ID
        ),
    ),
    Source(
        "youtube-api",
        "youtube",
        "@mara",
        r"/youtube/v3/playlistItems",
        lambda url: SourceSettings(api_url=f"{url}/youtube/v3", web_url=url, key=youtube.KEY),
    ),
    Source(
        "youtube-rss",
        "youtube",
        "@mara",
        r"/feeds/videos\.xml",
        lambda url: SourceSettings(api_url=f"{url}/youtube/v3", web_url=url),
        json=False,
    ),
    Source(
        "bluesky",
        "bluesky",
        "mara.bsky.social",
        r"getAuthorFeed",
        lambda url: SourceSettings(api_url=url),
    ),
    Source(
        "mastodon",
        "mastodon",
        "@mara@mastodon.social",
        r"/api/v1/accounts/\d+/statuses",
        lambda url: SourceSettings(instances={"mastodon.social": url}),
    ),
    Source(
        "x",
        "x",
        "@mara",
        r"/2/users/\d+/tweets",
        lambda url: SourceSettings(api_url=url, token=x.GOOD_TOKEN),
    ),
]

INSTALL = {
    "tiktok": tiktok.install,
    "instagram": instagram.install,
    "youtube": youtube.install,
    "bluesky": bluesky.install,
    "mastodon": mastodon.install,
    "x": x.install,
}
HANDLES = {"bluesky": "mara.bsky.social"}


def populate(world: World) -> None:
    """Two posts of the same creator on every platform (one with an undisclosed deal)."""
    for platform in INSTALL:
        handle = HANDLES.get(platform, "mara")
        world.post(platform, handle, "Loving @glowlab serum, code MAYA15", age=3600, title="Serum")
        world.post(platform, handle, "a walk by the sea", age=7200, title="Sea")


# --- rewriting a real answer --------------------------------------------------------


def _walk(data: Any, leaf: Callable[[Any], Any], node: Callable[[dict], dict]) -> Any:
    if isinstance(data, dict):
        return node({k: _walk(v, leaf, node) for k, v in data.items()})
    if isinstance(data, list):
        return [_walk(v, leaf, node) for v in data]
    return leaf(data)


def strings_for_numbers(data: Any) -> Any:
    """Every number a string that is not one ("12 views")."""
    return _walk(
        data,
        lambda v: f"{v} units" if isinstance(v, int | float) and not isinstance(v, bool) else v,
        lambda d: d,
    )


def numbers_for_strings(data: Any) -> Any:
    """Every string a number."""
    return _walk(data, lambda v: 7 if isinstance(v, str) else v, lambda d: d)


def lists_for_objects(data: Any) -> Any:
    """Every object below the top one an empty list."""
    if not isinstance(data, dict):
        return data
    return {k: [] if isinstance(v, dict) else _lists(v) for k, v in data.items()}


def _lists(data: Any) -> Any:
    if isinstance(data, list):
        return [[] if isinstance(v, dict) else _lists(v) for v in data]
    return data


def nulls(data: Any) -> Any:
    """Every value below the top object null."""
    return _walk(data, lambda v: None, lambda d: d)


_REQUIRED = re.compile(
    r"(?i)^(id|uri|cid|.*_id|.*Id|.*time.*|.*Time.*|created.*|published.*|date|text|desc|"
    r"caption|content|title|description)$"
)


def without_required(data: Any) -> Any:
    """Ids, times and texts left out everywhere (a platform trimming its answers)."""
    return _walk(
        data, lambda v: v, lambda d: {k: v for k, v in d.items() if not _REQUIRED.match(k)}
    )


def with_extra(data: Any) -> Any:
    """An unknown field added to every object (a platform adding to its answers)."""
    return _walk(data, lambda v: v, lambda d: {**d, "zz_new_field": {"nested": [1, "two", None]}})


# --- the shapes ---------------------------------------------------------------------


@dataclass(frozen=True)
class Shape:
    """One bad answer: how to script it on a source's fake, and the failure kinds it may
    become (``OK``: read through it)."""

    name: str
    fault: Callable[[Source], Fault]
    expect: frozenset[str]
    json_only: bool = False  # a rewrite of a JSON answer (nothing to rewrite in XML)


def _static(response: Response) -> Callable[[Source], Fault]:
    return lambda source: Fault(source.path, response, times=1000)


def _rewrite(change: Callable[[Any], Any], **headers: str) -> Callable[[Source], Fault]:
    return lambda source: Rewrite(
        source.path, Response(), times=1000, change=change, headers=headers
    )


def _wrong_top_type(source: Source) -> Fault:
    # Mastodon lists statuses as a JSON array; everyone else answers an object.
    body = b"{}" if source.platform == "mastodon" else b"[]"
    return Fault(source.path, Response(200, body, JSON), times=1000)


def _huge(source: Source) -> Fault:
    filler = json.dumps({"note": "x" * 1000})
    body = ("[" + ",".join([filler] * (HUGE // (len(filler) + 1))) + "]").encode()
    return Fault(source.path, Response(200, body, JSON), times=1000)


def _kinds(*kinds: str) -> frozenset[str]:
    return frozenset(kinds)


MALFORMED = _kinds("malformed")
UNAVAILABLE = _kinds("unavailable")
READ = _kinds(OK, "malformed")  # a changed answer: read what can be read, or say it cannot


def _error(status: int, text: str, **headers: str) -> Callable[[Source], Fault]:
    return _static(Response(status, json.dumps({"error": text}).encode(), {**JSON, **headers}))


SHAPES = [
    Shape(
        "truncated-json", _static(Response(200, b'{"data": {"items": [{"id": "7', JSON)), MALFORMED
    ),
    Shape("html-bot-wall", _static(BOT_WALL), _kinds("bot_wall")),
    Shape("captcha-as-json", _static(Response(200, BOT_WALL.body, JSON)), _kinds("bot_wall")),
    # TikTok's web answers unsigned requests with an empty 200: its bot wall.
    Shape("empty-body", _static(Response(200, b"", JSON)), _kinds("malformed", "bot_wall")),
    Shape("null", _static(Response(200, b"null", JSON)), MALFORMED),
    Shape("wrong-top-type", _wrong_top_type, MALFORMED),
    Shape("string-for-object", _static(Response(200, b'"ok"', JSON)), MALFORMED),
    Shape("strings-for-numbers", _rewrite(strings_for_numbers), READ, json_only=True),
    Shape("numbers-for-strings", _rewrite(numbers_for_strings), READ, json_only=True),
    Shape("lists-for-objects", _rewrite(lists_for_objects), READ, json_only=True),
    Shape("nulls", _rewrite(nulls), READ, json_only=True),
    Shape("missing-fields", _rewrite(without_required), READ, json_only=True),
    Shape("extra-fields", _rewrite(with_extra), _kinds(OK), json_only=True),
    Shape("huge-body", _huge, MALFORMED),
    Shape("invalid-utf8", _static(Response(200, b'{"data": "\xff\xfe\xc3("}', JSON)), MALFORMED),
    Shape(
        "wrong-content-type",
        _rewrite(lambda d: d, **{"content-type": "text/plain"}),
        _kinds(OK),
        json_only=True,
    ),
    Shape(
        "200-error-object",
        _static(Response(200, b'{"error": {"code": 500, "message": "Internal error"}}', JSON)),
        _kinds("malformed", "unavailable"),
    ),
    Shape("redirect-loop", lambda source: Loop(source.path, Response(), times=1000), UNAVAILABLE),
    Shape("401", _error(401, "unauthorized"), _kinds("auth", "config", "malformed", "unavailable")),
    Shape(
        "403",
        _error(403, "forbidden"),
        _kinds("auth", "config", "private", "bot_wall", "malformed", "unavailable"),
    ),
    Shape("404", _error(404, "not found"), _kinds("not_found", "malformed", "unavailable")),
    Shape("410", _error(410, "gone"), _kinds("not_found", "private", "malformed", "unavailable")),
    Shape("429", _error(429, "slow down"), _kinds("rate_limited")),
    Shape(
        "429-retry-after",
        _error(429, "slow down", **{"retry-after": "3600"}),
        _kinds("rate_limited"),
    ),
    Shape("500", _static(Response(500, b"Internal Server Error")), UNAVAILABLE),
    Shape(
        "502-html",
        _static(Response(502, b"<html>Bad Gateway</html>", {"content-type": "text/html"})),
        UNAVAILABLE,
    ),
    Shape(
        "503-retry-after", _error(503, "busy", **{"retry-after": "3600"}), _kinds("rate_limited")
    ),
    Shape("slow", _static(Response(200, b"{}", JSON, delay=SLOW)), UNAVAILABLE),
    Shape("connection-reset", _static(Response(reset=True)), UNAVAILABLE),
]

CASES = [
    (source, shape) for source in SOURCES for shape in SHAPES if source.json or not shape.json_only
]


def servers(world: World) -> dict[str, FakeServer]:
    """One started fake per platform over ``world``."""
    out = {}
    for platform, install in INSTALL.items():
        server = FakeServer()
        install(server, world)
        out[platform] = server.start()
    return out
