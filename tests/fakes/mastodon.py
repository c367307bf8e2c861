"""A fake Mastodon instance: the World rendered in the REST shapes of ``mastodon_*.json``.

Routes: ``accounts/lookup``, ``accounts/:id/statuses`` (``limit``, ``max_id``,
``since_id``/``min_id``, a ``Link`` header with ``rel="next"``/``"prev"`` built on
this server's URL), ``timelines/tag/:tag`` and ``statuses/:id``. Bodies are compact
JSON with ``<``, ``>`` and ``&`` escaped as Rails does. A suspended world account
answers its lookup with Mastodon's ``suspended`` stub; a private one is a locked
account whose followers-only posts a visitor cannot see. ``require_auth`` turns the
instance into a whitelist-mode one (401 without a token); a token other than
:data:`GOOD_TOKEN` is refused. The fixture account ``harborline`` is served from
the fixture files.
"""

from __future__ import annotations

import copy
import html
import json
import re
from datetime import datetime, timezone
from typing import Any

from fakes.server import FakeServer, Request, Response, fixture, fixture_json
from fakes.world import FakeAccount, FakePost, World

GOOD_TOKEN = "mastodon-token-good"
FIXTURE_ACCOUNT_ID = "109291084230996121"
FIXTURE_LAST_MAX_ID = "117535667355463643"
_ACCOUNT = fixture_json("mastodon_account_lookup.json")
_STATUS = fixture_json("mastodon_statuses.json")[0]
_WORD = re.compile(r"(\s+)")


def rails_json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """Compact JSON with <, > and & escaped as \\u003c, \\u003e and \\u0026 (Rails)."""
    text = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return Response(
        status,
        text.encode(),
        {"content-type": "application/json; charset=utf-8", **(headers or {})},
    )


def _iso(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def content_html(caption: str, base: str) -> str:
    """A caption as Mastodon renders it: paragraphs, <br>, hashtag, mention and link anchors."""
    paragraphs = []
    for paragraph in caption.split("\n\n"):
        lines = []
        for line in paragraph.split("\n"):
            words = []
            for word in _WORD.split(line):
                if word.startswith("#") and len(word) > 1:
                    tag = html.escape(word[1:])
                    words.append(
                        f'<a href="{base}/tags/{tag.lower()}" class="mention hashtag" rel="tag">#<span>{tag}</span></a>'
                    )
                elif word.startswith("@") and len(word) > 1:
                    user = html.escape(word[1:])
                    words.append(
                        f'<span class="h-card" translate="no"><a href="{base}/@{user}" class="u-url mention">@<span>{user}</span></a></span>'
                    )
                elif word.startswith(("https://", "http://")):
                    scheme, rest = word.split("://", 1)
                    shown, tail = rest[:30], rest[30:]
                    words.append(
                        f'<a href="{html.escape(word)}" target="_blank" rel="nofollow noopener" translate="no">'
                        f'<span class="invisible">{scheme}://</span>'
                        f'<span class="{"ellipsis" if tail else ""}">{html.escape(shown)}</span>'
                        f'<span class="invisible">{html.escape(tail)}</span></a>'
                    )
                else:
                    words.append(html.escape(word, quote=False))
            lines.append("".join(words))
        paragraphs.append("<p>" + "<br />".join(lines) + "</p>")
    return "".join(paragraphs)


def account_json(account: FakeAccount, base: str) -> dict[str, Any]:
    """An Account entity for ``account``, built on the fixture's."""
    data = copy.deepcopy(_ACCOUNT)
    data.update(
        id=account.user_id,
        username=account.handle,
        acct=account.handle,
        display_name=account.display_name,
        url=f"{base}/@{account.handle}",
        uri=f"{base}/users/{account.handle}",
        locked=account.private,
        statuses_count=len(account.visible()),
    )
    if account.suspended:
        data["suspended"] = True
    return data


def status_json(post: FakePost, account: FakeAccount, base: str) -> dict[str, Any]:
    """A Status entity for ``post``, built on the fixture's first status."""
    data = copy.deepcopy(_STATUS)
    data.update(
        id=post.id,
        created_at=_iso(post.created),
        uri=f"{base}/users/{account.handle}/statuses/{post.id}",
        url=f"{base}/@{account.handle}/{post.id}",
        content=content_html(post.caption, base),
        account=account_json(account, base),
        tags=[
            {"name": w[1:].lower(), "url": f"{base}/tags/{w[1:].lower()}"}
            for w in post.caption.split()
            if w.startswith("#") and len(w) > 1
        ],
    )
    return data


def _page(posts: list[FakePost], request: Request) -> tuple[list[FakePost], bool]:
    """Newest-first page after ``max_id`` and newer than ``since_id``/``min_id``."""
    limit = min(int(request.arg("limit") or 20), 40)
    max_id, since_id = request.arg("max_id"), request.arg("since_id") or request.arg("min_id")
    if max_id:
        posts = [p for p in posts if int(p.id) < int(max_id)]
    if since_id:
        posts = [p for p in posts if int(p.id) > int(since_id)]
    return posts[:limit], len(posts) > limit


def _links(
    base: str, path: str, request: Request, page: list[FakePost], more: bool
) -> dict[str, str]:
    if not page:
        return {}
    keep = "&".join(
        f"{k}={v[0]}" for k, v in request.query.items() if k not in ("max_id", "min_id", "since_id")
    )
    links = [f'<{base}{path}?{keep}&min_id={page[0].id}>; rel="prev"']
    if more:
        links.insert(0, f'<{base}{path}?{keep}&max_id={page[-1].id}>; rel="next"')
    return {"link": ", ".join(links)}


def install(server: FakeServer, world: World, *, require_auth: bool = False) -> None:
    """Register the instance's API routes on ``server``, rendering ``world``."""

    def base() -> str:
        return server.url

    def refused(request: Request) -> Response | None:
        auth = request.headers.get("authorization")
        if auth and auth != f"Bearer {GOOD_TOKEN}":
            return rails_json({"error": "The access token is invalid"}, 401)
        if require_auth and not auth:
            return fixture("mastodon_error_auth_required.json")
        return None

    @server.route("GET", r"/api/v1/accounts/lookup")
    def lookup(request: Request, match: re.Match[str]) -> Response:
        acct = (request.arg("acct") or "").lstrip("@").split("@")[0]
        account = world.get_account("mastodon", acct)
        if account is None and acct == "harborline":
            return fixture("mastodon_account_lookup.json")
        return refused(request) or (
            rails_json(account_json(account, base()))
            if account is not None
            else fixture("mastodon_error_not_found.json")
        )

    @server.route("GET", r"/api/v1/accounts/(\d+)/statuses")
    def statuses(request: Request, match: re.Match[str]) -> Response:
        denied = refused(request)
        if denied:
            return denied
        if match.group(1) == FIXTURE_ACCOUNT_ID:
            if request.arg("max_id") == FIXTURE_LAST_MAX_ID:
                return fixture("mastodon_statuses_empty.json")
            return fixture("mastodon_statuses.json")
        account = world.get_account("mastodon", match.group(1))
        if account is None:
            return fixture("mastodon_error_not_found.json")
        if account.suspended:
            return rails_json({"error": "Record not found"}, 410)
        posts = [] if account.private else account.visible()
        page, more = _page(posts, request)
        return rails_json(
            [status_json(p, account, base()) for p in page],
            headers=_links(base(), request.path, request, page, more),
        )

    @server.route("GET", r"/api/v1/timelines/tag/([^/]+)")
    def tag_timeline(request: Request, match: re.Match[str]) -> Response:
        denied = refused(request)
        if denied:
            return denied
        page, more = _page(world.tagged("mastodon", match.group(1)), request)
        return rails_json(
            [
                status_json(p, world.get_account("mastodon", p.handle), base())  # type: ignore[arg-type]
                for p in page
            ],
            headers=_links(base(), request.path, request, page, more),
        )

    @server.route("GET", r"/api/v1/statuses/(\d+)")
    def one_status(request: Request, match: re.Match[str]) -> Response:
        denied = refused(request)
        if denied:
            return denied
        post = world.find("mastodon", match.group(1))
        account = world.get_account("mastodon", post.handle) if post else None
        if post is None or post.deleted or account is None or account.private:
            return fixture("mastodon_error_not_found.json")
        return rails_json(status_json(post, account, base()))
