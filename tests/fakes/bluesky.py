"""A fake Bluesky AppView: the World rendered in the XRPC shapes of ``bluesky_*.json``.

Routes: ``app.bsky.feed.getAuthorFeed`` (opaque cursor = the last item's
indexedAt, absent on the last page), ``app.bsky.feed.searchPosts`` (``tag=``;
refused without a login when ``search_requires_auth``, and never paged without
one, as the production AppView does), ``app.bsky.feed.getPostThread`` (a deleted
post answers 400 ``NotFound``). A private world account answers ``BlockedByActor``
and a suspended one ``AccountTakedown``. The fixture account
(``glowwithmara.bsky.social``) is served from the fixture files byte for byte.
"""

from __future__ import annotations

import copy
import re
from datetime import datetime, timezone
from typing import Any

from fakes.server import FakeServer, Request, Response, fixture, fixture_json, json_response
from fakes.world import FakeAccount, FakePost, World

GOOD_TOKEN = "bsky-access-token-good"
FIXTURE_ACTORS = ("glowwithmara.bsky.social", "did:plc:gqvw6gj5c5bjrjtwqp3davqq")
FIXTURE_CURSOR = "2026-11-07T09:00:00.557Z"
_TEMPLATE = fixture_json("bluesky_author_feed.json")["feed"][1]["post"]
_TAG = re.compile(r"(?<![\w#])#([^\s#.,!?;:]+)")
_AT = re.compile(r"^at://([^/]+)/app\.bsky\.feed\.post/([^/]+)$")


def did_of(account: FakeAccount) -> str:
    """The account's did (derived from its world id)."""
    return f"did:plc:fake{account.user_id}"


def _iso(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _facets(text: str) -> list[dict[str, Any]]:
    """Tag facets with UTF-8 byte offsets, as the official clients write them."""
    facets = []
    for match in _TAG.finditer(text):
        start = len(text[: match.start()].encode())
        end = start + len(match.group(0).encode())
        facets.append(
            {
                "features": [{"$type": "app.bsky.richtext.facet#tag", "tag": match.group(1)}],
                "index": {"byteEnd": end, "byteStart": start},
            }
        )
    return facets


def post_view(post: FakePost, account: FakeAccount) -> dict[str, Any]:
    """A postView for ``post``, built on the fixture's item."""
    view = copy.deepcopy(_TEMPLATE)
    did = did_of(account)
    view["uri"] = f"at://{did}/app.bsky.feed.post/{post.id}"
    view["cid"] = f"bafyreifake{post.id}"
    view["author"].update(did=did, handle=account.handle, displayName=account.display_name)
    view["author"].pop("avatar", None)
    record: dict[str, Any] = {
        "$type": "app.bsky.feed.post",
        "createdAt": _iso(post.created),
        "langs": ["en"],
        "text": post.caption,
    }
    facets = _facets(post.caption)
    if facets:
        record["facets"] = facets
    if post.tags:
        record["tags"] = list(post.tags)
    view["record"] = record
    view["indexedAt"] = _iso(post.created)
    return view


def _xrpc_error(name: str, message: str, status: int = 400) -> Response:
    return json_response({"error": name, "message": message}, status)


def _account_error(account: FakeAccount | None) -> Response | None:
    if account is None:
        return fixture("bluesky_error_profile_not_found.json")
    if account.suspended:
        return _xrpc_error("AccountTakedown", "Account has been suspended")
    if account.private:
        return _xrpc_error("BlockedByActor", "Requester is blocked by actor")
    return None


def _page(
    posts: list[FakePost], cursor: str | None, limit: int
) -> tuple[list[FakePost], str | None]:
    """The posts after ``cursor`` (an indexedAt), and the next cursor (None on the last page)."""
    if cursor:
        posts = [p for p in posts if _iso(p.created) < cursor]
    page = posts[:limit]
    more = len(posts) > limit
    return page, (_iso(page[-1].created) if more and page else None)


def _lookup(world: World, actor: str) -> FakeAccount | None:
    if actor.startswith("did:plc:fake"):
        return world.get_account("bluesky", actor.removeprefix("did:plc:fake"))
    return world.get_account("bluesky", actor)


def install(server: FakeServer, world: World, *, search_requires_auth: bool = False) -> None:
    """Register the AppView routes on ``server``, rendering ``world``."""

    @server.route("GET", r"/xrpc/app\.bsky\.feed\.getAuthorFeed")
    def author_feed(request: Request, match: re.Match[str]) -> Response:
        actor = request.arg("actor") or ""
        limit = int(request.arg("limit") or 50)
        if not 1 <= limit <= 100:
            return _xrpc_error("InvalidRequest", "limit must be between 1 and 100")
        if actor in FIXTURE_ACTORS and _lookup(world, actor) is None:
            if request.arg("cursor") == FIXTURE_CURSOR:
                return fixture("bluesky_author_feed_last_page.json")
            return fixture("bluesky_author_feed.json")
        account = _lookup(world, actor)
        error = _account_error(account)
        if error is not None or account is None:
            return error or _xrpc_error("InvalidRequest", "Profile not found")
        page, cursor = _page(account.visible(), request.arg("cursor"), limit)
        body: dict[str, Any] = {"feed": [{"post": post_view(p, account)} for p in page]}
        if cursor:
            body["cursor"] = cursor
        return json_response(body)

    @server.route("GET", r"/xrpc/app\.bsky\.feed\.searchPosts")
    def search_posts(request: Request, match: re.Match[str]) -> Response:
        auth = request.headers.get("authorization")
        if auth and auth != f"Bearer {GOOD_TOKEN}":
            return _xrpc_error("ExpiredToken", "Token has expired", 400)
        if search_requires_auth and not auth:
            return Response(
                403, b"<html><body>403 Forbidden</body></html>", {"content-type": "text/html"}
            )
        tags = request.query.get("tag") or []
        if not request.arg("q"):
            return _xrpc_error("InvalidRequest", 'Error: Params must have the property "q"')
        limit = int(request.arg("limit") or 25)
        cursor = request.arg("cursor")
        if cursor and not auth:
            return Response(
                403, b"<html><body>403 Forbidden</body></html>", {"content-type": "text/html"}
            )
        found = world.tagged("bluesky", tags[0]) if tags else []
        page, next_cursor = _page(found, cursor, limit)
        body: dict[str, Any] = {
            "posts": [post_view(p, world.get_account("bluesky", p.handle)) for p in page]  # type: ignore[arg-type]
        }
        if next_cursor:
            body["cursor"] = next_cursor
        return json_response(body)

    @server.route("GET", r"/xrpc/app\.bsky\.feed\.getPostThread")
    def post_thread(request: Request, match: re.Match[str]) -> Response:
        uri = request.arg("uri") or ""
        parts = _AT.match(uri)
        if parts is None:
            return _xrpc_error("InvalidRequest", "Error: uri must be a valid at-uri")
        account = _lookup(world, parts.group(1))
        post = world.find("bluesky", parts.group(2))
        if account is None or post is None or post.deleted or post.handle != account.handle:
            return _xrpc_error("NotFound", f"Post not found: {uri}")
        error = _account_error(account)
        if error is not None:
            return error
        view = post_view(post, account)
        view["$type"] = "app.bsky.feed.defs#postView"
        return json_response(
            {"thread": {"$type": "app.bsky.feed.defs#threadViewPost", "post": view, "replies": []}}
        )
