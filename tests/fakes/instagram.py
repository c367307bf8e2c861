"""A fake Graph API: the World rendered in the shapes of ``instagram_*.json``.

Routes: Business Discovery on :data:`OUR_ID` (field expansion
``media.limit(N)`` / ``media.after(CURSOR).limit(N)``; ``paging.cursors.after``
only, absent on the last page), ``ig_hashtag_search`` and
``/{hashtag-id}/recent_media`` (``after`` cursor, no owner fields). Bodies are
compact JSON with non-ASCII as ``\\uXXXX`` and ``/`` as ``\\/``, as Meta writes
them. A token other than :data:`GOOD_TOKEN` gets the expired-token fixture; a
missing or private (personal) account gets the code-110 fixture, as Meta answers
both. The fixture account ``sunnysideup.sofia`` is served from the fixture files.
"""

from __future__ import annotations

import copy
import json
import re
import zlib
from datetime import datetime, timezone
from typing import Any

from fakes.server import FakeServer, Request, Response, fixture, fixture_json
from fakes.world import FakeAccount, FakePost, World

GOOD_TOKEN = "EAAB-good-graph-token"
OUR_ID = "17841405309211844"
FIXTURE_USER = "sunnysideup.sofia"
FIXTURE_AFTER = fixture_json("instagram_business_discovery.json")["business_discovery"]["media"][
    "paging"
]["cursors"]["after"]
_MEDIA = fixture_json("instagram_business_discovery.json")["business_discovery"]["media"]["data"][0]
_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
_DISCOVERY = re.compile(
    r"^business_discovery\.username\(([^)]*)\)\{(?:[a-z_,]*,)?media(?:\.after\(([^)]*)\))?\.limit\((\d+)\)\{[a-z_,]+\}\}$"
)


def graph_json(data: Any, status: int = 200) -> Response:
    """Compact JSON as the Graph API writes it (ASCII escapes, escaped slashes)."""
    text = json.dumps(data, separators=(",", ":"), ensure_ascii=True).replace("/", "\\/")
    return Response(status, text.encode(), {"content-type": "application/json; charset=UTF-8"})


def shortcode(post: FakePost) -> str:
    """The post's shortcode: its media id in Instagram's base64 alphabet."""
    number, out = int(post.id), ""
    while number:
        number, digit = divmod(number, 64)
        out = _ALPHABET[digit] + out
    return out


def media_json(post: FakePost, *, with_owner: bool = True) -> dict[str, Any]:
    """An IG Media object for ``post``, built on the fixture's first item."""
    data = copy.deepcopy(_MEDIA)
    data.update(
        id=post.id,
        caption=post.caption,
        permalink=f"https://www.instagram.com/p/{shortcode(post)}/",
        timestamp=datetime.fromtimestamp(post.created, tz=timezone.utc).strftime(
            "%Y-%m-%dT%H:%M:%S+0000"
        ),
        username=post.handle,
    )
    if not with_owner:
        data.pop("username")
    return data


def _page(
    posts: list[FakePost], after: str | None, limit: int
) -> tuple[list[FakePost], str | None]:
    start = int(after.removeprefix("QVFI")) if after and after.startswith("QVFI") else 0
    page = posts[start : start + limit]
    more = start + limit < len(posts)
    return page, (f"QVFI{start + limit}" if more else None)


def hashtag_id(tag: str) -> str:
    """The id the fake gives ``tag`` (stable, numeric like Meta's)."""
    return str(17843000000000000 + zlib.crc32(tag.lower().encode()))


def install(server: FakeServer, world: World) -> None:
    """Register the Graph API routes on ``server`` (version v25.0), rendering ``world``."""

    def refused(request: Request) -> Response | None:
        if request.arg("access_token") != GOOD_TOKEN:
            return fixture("instagram_error_token_expired.json")
        return None

    def account_of(handle: str) -> FakeAccount | None:
        account = world.get_account("instagram", handle)
        return None if account is None or account.private else account

    @server.route("GET", r"/v25\.0/(\d+)")
    def discovery(request: Request, match: re.Match[str]) -> Response:
        denied = refused(request)
        if denied:
            return denied
        if match.group(1) != OUR_ID:
            return graph_json(
                {
                    "error": {
                        "message": "Unsupported get request.",
                        "type": "GraphMethodException",
                        "code": 100,
                        "error_subcode": 33,
                    }
                },
                400,
            )
        fields = _DISCOVERY.match(request.arg("fields") or "")
        if fields is None:
            return graph_json(
                {
                    "error": {
                        "message": "(#100) Invalid fields",
                        "type": "OAuthException",
                        "code": 100,
                    }
                },
                400,
            )
        handle, after, limit = fields.group(1), fields.group(2), int(fields.group(3))
        if handle == FIXTURE_USER and world.get_account("instagram", handle) is None:
            if after == FIXTURE_AFTER:
                return fixture("instagram_business_discovery_last_page.json")
            return fixture("instagram_business_discovery.json")
        account = account_of(handle)
        if account is None:
            return fixture("instagram_error_not_found.json")
        page, next_after = _page(account.visible(), after, limit)
        media: dict[str, Any] = {"data": [media_json(p) for p in page]}
        if next_after:
            media["paging"] = {"cursors": {"after": next_after}}
        body: dict[str, Any] = {"media": media, "id": account.user_id}
        if after is None:
            body.update(username=account.handle, media_count=len(account.visible()))
        return graph_json({"business_discovery": body, "id": OUR_ID})

    @server.route("GET", r"/v25\.0/ig_hashtag_search")
    def hashtag_search(request: Request, match: re.Match[str]) -> Response:
        denied = refused(request)
        if denied:
            return denied
        tag = (request.arg("q") or "").lower()
        found = [{"id": hashtag_id(tag)}] if world.tagged("instagram", tag) else []
        return graph_json({"data": found})

    @server.route("GET", r"/v25\.0/(\d+)/recent_media")
    def recent_media(request: Request, match: re.Match[str]) -> Response:
        denied = refused(request)
        if denied:
            return denied
        tags = {
            hashtag_id(p_tag): p_tag
            for account in list(world.accounts.values())
            if account.platform == "instagram"
            for post in account.posts
            for p_tag in (w[1:].lower() for w in post.caption.split() if w.startswith("#"))
        }
        tag = tags.get(match.group(1))
        posts = world.tagged("instagram", tag) if tag else []
        page, next_after = _page(posts, request.arg("after"), int(request.arg("limit") or 25))
        body: dict[str, Any] = {"data": [media_json(p, with_owner=False) for p in page]}
        if next_after:
            body["paging"] = {
                "cursors": {"after": next_after},
                "next": f"{server.url}/v25.0/{match.group(1)}/recent_media?after={next_after}",
            }
        return graph_json(body)
